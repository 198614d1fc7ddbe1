//! Committed generated files (schema, completions, man pages) match what the binary prints, the
//! README's exit-code table matches `exit::TABLE`, and every example is valid.
//! Run with `UPDATE_GENERATED=1` to rewrite the generated files after a change.

use std::path::Path;

use crate::harness::hbmon;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn check_file(rel: &str, args: &[&str]) {
    let out = hbmon().args(args.iter().copied()).run();
    assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
    check_text(rel, &out.stdout);
}

fn check_text(rel: &str, generated: &str) {
    let path = root().join(rel);
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{rel} is out of date: run `UPDATE_GENERATED=1 cargo test --test cli generated` and commit it"
    );
}

#[test]
fn schema_file_matches_the_binary() {
    check_file("schemas/hbmon.schema.json", &["schema"]);
}

/// `hbmon.yaml(5)` and `docs/config.md`: the configuration reference made from the schema.
#[test]
fn configuration_reference_matches_the_schema() {
    check_file("docs/config.md", &["schema", "--format", "markdown"]);
    check_file("man/hbmon.yaml.5", &["schema", "--format", "man"]);
}

/// Every key of the schema, at every depth, is in the reference.
#[test]
fn configuration_reference_names_every_key() {
    let schema: serde_json::Value =
        serde_json::from_str(&hbmon().args(["schema"]).run().stdout).unwrap();
    let reference = hbmon()
        .args(["schema", "--format", "markdown"])
        .run()
        .stdout;
    let mut keys = 0;
    let mut objects = vec![&schema];
    objects.extend(schema["$defs"].as_object().unwrap().values());
    for object in objects {
        for key in object["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            assert!(
                reference.contains(&format!("| `{key}` |")),
                "`{key}` is not in the reference"
            );
            keys += 1;
        }
    }
    assert!(keys > 200, "{keys} keys");
}

/// The config the .deb installs as `/etc/hbmon/hbmon.yaml` (and the image carries) is
/// valid as it stands, listens where `HBMON_LISTEN` says, and `check` passes on it.
#[test]
fn the_packaged_starter_config_validates() {
    let path = root().join("dist/hbmon.yaml");
    let path = path.to_str().unwrap();
    let out = hbmon().args(["validate", "--config", path]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = hbmon()
        .args(["check", "--config", path, "--format", "json"])
        .run();
    up_unless_this_machine_is_full(&out);
}

/// A starter config checks this machine: all up (exit 0), unless its disk or memory
/// really is past a warning level, which `df` and `/proc/meminfo` are asked about here.
/// A nearly full CI machine then reads DEGRADED, rightly, and is not a failure.
fn up_unless_this_machine_is_full(out: &crate::harness::Output) {
    if out.code == 0 {
        return;
    }
    let df = std::process::Command::new("df")
        .args(["--output=pcent", "/"])
        .output()
        .unwrap();
    let disk: f64 = String::from_utf8_lossy(&df.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().trim_end_matches('%').parse().ok())
        .unwrap_or(0.0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kb = |key: &str| -> f64 {
        let line = meminfo.lines().find(|l| l.starts_with(key)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let memory = (kb("MemTotal:") - kb("MemAvailable:")) * 100.0 / kb("MemTotal:");
    let report = out.json();
    for m in report["monitors"].as_array().unwrap() {
        if m["status"] == "up" {
            continue;
        }
        let reason = m["reason"].as_str().unwrap_or_default();
        let full = (reason.starts_with("disk ") && disk >= 89.0)
            || (reason.starts_with("memory ") && memory >= 94.0);
        assert!(
            full,
            "not up, and this machine is not full (disk {disk}%, memory {memory:.0}%): {m}"
        );
    }
}

#[test]
fn completion_files_match_the_binary() {
    for (shell, file) in [
        ("bash", "completions/hbmon.bash"),
        ("zsh", "completions/_hbmon"),
        ("fish", "completions/hbmon.fish"),
        ("elvish", "completions/hbmon.elv"),
        ("powershell", "completions/_hbmon.ps1"),
    ] {
        check_file(file, &["completions", shell]);
    }
}

/// `hbmon(1)` and a page per subcommand (`hbmon-check(1)`, ...), which `hbmon(1)` names.
#[test]
fn man_pages_match_the_cli() {
    use clap::CommandFactory;
    let dir = tempfile::tempdir().unwrap();
    // The bare version, as `-V` prints it: `--version`'s commit would make every commit
    // change every page.
    let cli = hbmon::cli::Cli::command().long_version(None::<&str>);
    clap_mangen::generate_to(cli, dir.path()).unwrap();
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    assert!(pages.len() > 10, "{pages:?}");
    for page in &pages {
        let mut text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        if page == "hbmon.1" {
            text.push_str(hbmon::cli::MAN_APPENDIX);
        }
        check_text(&format!("man/{page}"), &text);
    }
    // No page is left behind by a subcommand that is gone.
    let mut committed: Vec<String> = std::fs::read_dir(root().join("man"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".1"))
        .collect();
    committed.sort();
    assert_eq!(
        committed, pages,
        "man/ differs from the subcommands: run `UPDATE_GENERATED=1 cargo test --test cli generated`"
    );
}

#[test]
fn every_example_is_valid() {
    let mut seen = 0;
    for entry in std::fs::read_dir(root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schemas/hbmon.schema.json\n"),
            "{} must start with the schema line",
            path.display()
        );
        let out = hbmon()
            .args(["validate", "--config", path.to_str().unwrap()])
            .run();
        assert_eq!(out.code, 0, "{}: {}", path.display(), out.stderr);
        seen += 1;
    }
    assert!(
        seen >= 2,
        "examples/ should hold quickstart.yaml and monitors.yaml"
    );
}

#[test]
fn quickstart_runs_offline_and_is_up() {
    let path = root().join("examples/quickstart.yaml");
    let out = hbmon()
        .args([
            "check",
            "--config",
            path.to_str().unwrap(),
            "--format",
            "json",
        ])
        .run();
    up_unless_this_machine_is_full(&out);
}

#[test]
fn readme_exit_code_table_matches_the_code() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for (code, name, _) in hbmon::exit::TABLE {
        let row = format!("| {code} | {name} |");
        assert!(
            readme.contains(&row),
            "README.md lacks the exit-code row `{row}`"
        );
    }
}
