//! The published schema is as strict as `hbmon validate`, checked with an independent
//! validator (check-jsonschema, from the Python package index; `.ci/run` installs it): every example passes
//! both, every config in `tests/schema/broken/` is refused by both, and those in
//! `tests/schema/validate-only/` are refused by `validate` and accepted by the schema (what
//! a schema cannot see: references between names, cron text, comparisons), so that list
//! stays honest.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::hbmon;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The YAML files of `tests/schema/<dir>`, sorted.
fn corpus(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/schema").join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// The examples, the packaged config, and `tests/schema/valid/` (`${VAR}` where numbers,
/// booleans and words go): valid for both.
fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.push(root().join("dist/hbmon.yaml"));
    files.extend(corpus("valid"));
    files.sort();
    files
}

fn validate(path: &Path) -> crate::harness::Output {
    hbmon()
        .args(["validate", "--config", path.to_str().unwrap()])
        .run()
}

/// Every broken config says what is wrong with it, and `validate` refuses it (78).
#[test]
fn validate_refuses_every_broken_config() {
    let broken = corpus("broken");
    assert!(broken.len() >= 40, "only {} broken configs", broken.len());
    let only = corpus("validate-only");
    for path in broken.iter().chain(&only) {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.starts_with("# Wrong: "),
            "{}: the first line says what is wrong",
            path.display()
        );
        let out = validate(path);
        assert_eq!(out.code, 78, "{}: {}", path.display(), out.all());
    }
}

/// `check-jsonschema`, or `None` to skip outside CI (CI must have it).
fn check_jsonschema() -> Option<&'static str> {
    if Command::new("check-jsonschema")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some("check-jsonschema");
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must have check-jsonschema: .ci/run installs it with pip"
    );
    eprintln!("skipped: `python3 -m pip install check-jsonschema` to run it");
    None
}

/// The files check-jsonschema refuses, by path, from its JSON report.
fn refused_by_schema(tool: &str, schema: &Path, files: &[PathBuf]) -> Vec<PathBuf> {
    let out = Command::new(tool)
        .arg("--schemafile")
        .arg(schema)
        .args(["--output-format", "json"])
        .args(files)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check-jsonschema printed no JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        report["parse_errors"].as_array().map_or(0, Vec::len),
        0,
        "{report}"
    );
    let mut refused: Vec<PathBuf> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| PathBuf::from(e["filename"].as_str().unwrap()))
        .collect();
    refused.sort();
    refused.dedup();
    refused
}

/// The schema `hbmon schema` prints, in a file for check-jsonschema.
fn published_schema(dir: &Path) -> PathBuf {
    let out = hbmon().args(["schema"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let path = dir.join("hbmon.schema.json");
    std::fs::write(&path, out.stdout).unwrap();
    path
}

#[test]
fn check_jsonschema_refuses_every_broken_config() {
    let Some(tool) = check_jsonschema() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = published_schema(dir.path());
    let broken = corpus("broken");
    let refused = refused_by_schema(tool, &schema, &broken);
    let accepted: Vec<String> = broken
        .iter()
        .filter(|p| !refused.contains(p))
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        accepted.is_empty(),
        "the schema accepts broken configs: {accepted:?}"
    );
}

/// The examples are valid for both; what only `validate` sees is valid for the schema (a
/// file that the schema starts to refuse belongs in `broken/`).
#[test]
fn check_jsonschema_accepts_the_examples_and_the_validate_only_list() {
    let Some(tool) = check_jsonschema() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = published_schema(dir.path());
    let examples = examples();
    for path in &examples {
        let out = validate(path);
        assert_eq!(out.code, 0, "{}: {}", path.display(), out.all());
    }
    let mut files = examples;
    files.extend(corpus("validate-only"));
    let refused = refused_by_schema(tool, &schema, &files);
    assert!(refused.is_empty(), "the schema refuses {refused:?}");
}

/// The committed schema is the one checked here (the drift test compares it with the
/// binary's), and it is stricter than the loader's in the ways the issue asked for.
#[test]
fn the_published_schema_encodes_the_rules() {
    let schema: serde_json::Value =
        serde_json::from_str(&hbmon().args(["schema"]).run().stdout).unwrap();
    let monitor = &schema["$defs"]["monitor"];
    let rules = monitor["allOf"].to_string();
    assert!(rules.contains(r#""oneOf""#), "{rules}");
    let notifier_rules = schema["$defs"]["notifier"]["allOf"].as_array().unwrap();
    assert!(notifier_rules.len() >= 14);
    assert_eq!(
        schema["$defs"]["defaults"]["properties"]["interval"]["default"],
        "30s"
    );
    let text = schema.to_string();
    for rust in ["uint32", "NotifierDef", "HttpProbe", "Option<"] {
        assert!(!text.contains(rust), "a Rust name in the schema: {rust}");
    }
}
