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
