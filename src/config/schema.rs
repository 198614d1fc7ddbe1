//! The JSON schema, generated from the raw types. `hbmon schema` prints it, the loader
//! validates every document against it, and `schemas/hbmon.schema.json` is a committed
//! copy that a test keeps identical.

use serde_json::Value;

use super::raw;

/// The schema as a JSON value (draft 2020-12).
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

/// The schema as the committed file holds it: pretty-printed, with a final newline.
#[must_use]
pub fn to_pretty_string() -> String {
    let mut s = serde_json::to_string_pretty(&generate())
        // A `Value` always serializes.
        .expect("schema serializes");
    s.push('\n');
    s
}
