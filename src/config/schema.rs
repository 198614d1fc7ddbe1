//! The JSON schema, generated from the raw types, in two strengths. The loader validates
//! every document against the lenient one (`generate`: types, ranges, patterns, unknown
//! keys), turns its errors into messages and leaves the rest to `plan`. The published one
//! (`published`: the lenient one with `strict`'s rules) is what `hbmon schema` prints and
//! `schemas/hbmon.schema.json` holds, for editors and other validators; the configuration
//! reference is made from `documented`, the same without the `${VAR}` alternatives.

use serde_json::Value;

use super::raw;

mod strict;

pub use strict::{DEFAULTS, DefaultValue, ENV_VAR_PATTERN};

/// The schema the loader validates against (draft 2020-12).
#[must_use]
pub fn generate() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let mut schema = generator.into_root_schema_for::<raw::Config>().to_value();
    forbid_null(&mut schema);
    schema
}

/// `Option<T>` in the raw types means "may be left out", not "may be null": an empty
/// `http:` is an error, not a missing probe. schemars makes options nullable, so the
/// `null` alternatives are taken out again here.
fn forbid_null(node: &mut Value) {
    match node {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            let any_of = map.get("anyOf").and_then(Value::as_array).map(|alts| {
                alts.iter()
                    .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
                    .cloned()
                    .collect::<Vec<_>>()
            });
            if let Some(mut alts) = any_of {
                map.remove("anyOf");
                if alts.len() == 1 {
                    if let Value::Object(inner) = alts.remove(0) {
                        for (k, v) in inner {
                            map.entry(k).or_insert(v);
                        }
                    }
                } else {
                    map.insert("anyOf".into(), Value::Array(alts));
                }
            }
            map.values_mut().for_each(forbid_null);
        }
        Value::Array(items) => items.iter_mut().for_each(forbid_null),
        _ => {}
    }
}

/// The strict schema with the defaults hbmon applies, as the configuration reference
/// describes it.
#[must_use]
pub fn documented() -> Value {
    strict::documented(generate())
}

/// The schema `hbmon schema` prints: as strict as `hbmon validate` where a schema can
/// be, and accepting `${VAR}` wherever hbmon does.
#[must_use]
pub fn published() -> Value {
    let mut schema = documented();
    strict::accept_env_vars(&mut schema);
    schema
}

/// The published schema as the committed file holds it: pretty-printed, with a final
/// newline.
#[must_use]
pub fn to_pretty_string() -> String {
    let mut s = serde_json::to_string_pretty(&published())
        // A `Value` always serializes.
        .expect("schema serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use serde_json::Value;

    fn yaml_files(dir: &str) -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        files
    }

    /// A file as editors see it: YAML with merge keys applied, nothing interpolated.
    fn document(path: &Path) -> Value {
        let mut yaml: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        yaml.apply_merge().unwrap();
        serde_json::to_value(yaml).unwrap()
    }

    /// The published schema compiles, and the `jsonschema` crate agrees with
    /// check-jsonschema (`tests/cli/schema_corpus.rs`) on the corpus, so the corpus is
    /// checked even where Python is not installed.
    #[test]
    fn the_published_schema_judges_the_corpus() {
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&super::published())
            .unwrap();
        let mut valid = yaml_files("examples");
        valid.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/hbmon.yaml"));
        valid.extend(yaml_files("tests/schema/valid"));
        valid.extend(yaml_files("tests/schema/validate-only"));
        for path in &valid {
            let errors: Vec<String> = validator
                .iter_errors(&document(path))
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        }
        let broken = yaml_files("tests/schema/broken");
        assert!(broken.len() >= 40);
        for path in &broken {
            assert!(
                !validator.is_valid(&document(path)),
                "{} is accepted",
                path.display()
            );
        }
    }

    /// The loader (its lenient schema, after `${VAR}`) accepts every example the
    /// published schema accepts: the strict rules only add to it.
    #[test]
    fn the_loader_accepts_every_example() {
        let mut files = yaml_files("examples");
        files.extend(yaml_files("tests/schema/valid"));
        for path in files {
            let loaded =
                crate::config::load::load(&path, &|_| None, crate::config::load::Needs::All)
                    .unwrap();
            assert!(
                loaded.diagnostics.is_empty(),
                "{}: {:?}",
                path.display(),
                loaded.diagnostics
            );
        }
    }
}
