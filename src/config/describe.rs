//! Schema errors in words: what the `jsonschema` crate reports about a loaded file, as
//! diagnostics with the expected type or values, a did-you-mean, and the key's
//! documentation as a hint.

use serde_json::Value;

use super::diag::{At, Diagnostic};
use super::spans::escape;

/// A number where a duration goes: which unit to add.
fn needs_a_unit(at: At, given: &Value) -> Diagnostic {
    let n = given.to_string();
    Diagnostic::new(at, "a duration needs a unit").hint(format!(
        "write `{n}s` for seconds, or `{n}m`, `{n}ms`, `{n}h`"
    ))
}

/// A value outside an enum: the choices, and the closest one (`type: slak`).
fn not_one_of(at: At, options: &Value, given: &Value) -> Diagnostic {
    let valid: Vec<String> = options
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let list: Vec<String> = valid.iter().map(|v| format!("`{v}`")).collect();
    let d = Diagnostic::new(at, format!("expected one of {}", list.join(", ")));
    let names: Vec<&str> = valid.iter().map(String::as_str).collect();
    match given.as_str().and_then(|g| closest(g, &names)) {
        Some(best) => d.hint(format!("did you mean `{best}`?")),
        None => d,
    }
}

pub(super) fn describe(
    err: &jsonschema::ValidationError<'_>,
    pointer: &str,
    node: &Value,
    root: &Value,
) -> Vec<Diagnostic> {
    use jsonschema::error::ValidationErrorKind as K;
    let at = At::value(pointer);
    let description = node
        .get("description")
        .and_then(Value::as_str)
        .map(first_sentence);
    let one = |message: String| vec![Diagnostic::new(at.clone(), message)];
    match err.kind() {
        K::AdditionalProperties { unexpected } => {
            let valid: Vec<&str> = node
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            unexpected
                .iter()
                .map(|key| {
                    let d = Diagnostic::new(
                        At::key(format!("{pointer}/{}", escape(key))),
                        format!("unknown key `{key}`"),
                    );
                    match closest(key, &valid) {
                        Some(best) => d.hint(format!("did you mean `{best}`?")),
                        None if valid.is_empty() => d,
                        None => d.hint(format!("valid keys here: {}", valid.join(", "))),
                    }
                })
                .collect()
        }
        K::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let prop_doc = node
                .pointer(&format!("/properties/{}", escape(name)))
                .map(|p| resolve(p, root))
                .and_then(|p| p.get("description"))
                .and_then(Value::as_str)
                .map(first_sentence);
            let mut d = Diagnostic::new(At::key(pointer), format!("missing required key `{name}`"));
            if let Some(doc) = prop_doc {
                d = d.hint(format!("`{name}`: {doc}"));
            }
            vec![d]
        }
        // `interval: 10`: seconds, probably, but hbmon does not guess a unit.
        K::Type { .. }
            if node.get("title").and_then(Value::as_str) == Some("duration")
                && err.instance().is_number() =>
        {
            vec![needs_a_unit(at.clone(), err.instance())]
        }
        K::Type { .. } => {
            let expected = node
                .get("type")
                .map_or_else(|| "another type".to_owned(), type_names);
            let mut d = Diagnostic::new(
                at.clone(),
                format!("expected {expected}, found {}", value_kind(err.instance())),
            );
            d.hint = examples(node).or(description);
            vec![d]
        }
        K::Pattern { .. } => {
            let message = match node.get("title").and_then(Value::as_str) {
                Some(title) => format!("invalid {title}"),
                None => "value has the wrong format".to_owned(),
            };
            let mut d = Diagnostic::new(at.clone(), message);
            d.hint = match (description, examples(node)) {
                (Some(desc), _) => Some(desc),
                (None, ex) => ex,
            };
            vec![d]
        }
        K::Enum { options } => vec![not_one_of(at.clone(), options, err.instance())],
        // Words documented one by one (`ip_version: "5"`) are a choice of constants.
        K::OneOfNotValid { .. } | K::AnyOf { .. } if words(node).is_some() => {
            let options = Value::Array(words(node).unwrap_or_default());
            vec![not_one_of(at.clone(), &options, err.instance())]
        }
        K::Constant { expected_value } => one(format!("must be {expected_value}")),
        K::Minimum { limit } => one(format!("must be at least {limit}")),
        K::Maximum { limit } => one(format!("must be at most {limit}")),
        K::ExclusiveMinimum { limit } => one(format!("must be greater than {limit}")),
        K::ExclusiveMaximum { limit } => one(format!("must be less than {limit}")),
        K::MinLength { limit: 1 } => one("must not be empty".to_owned()),
        K::MinLength { limit } => one(format!("must be at least {limit} characters long")),
        K::MaxLength { limit } => one(format!("must be at most {limit} characters long")),
        K::MinItems { limit } => one(format!("must have at least {limit} item(s)")),
        K::MaxItems { limit } => one(format!("must have at most {limit} item(s)")),
        _ => one(format!("invalid value ({})", err.kind().keyword())),
    }
}

/// The words of a `oneOf` or `anyOf` whose alternatives are all constants or sets of them.
fn words(node: &Value) -> Option<Vec<Value>> {
    let alternatives = node
        .get("oneOf")
        .or_else(|| node.get("anyOf"))?
        .as_array()?;
    let mut words = Vec::new();
    for a in alternatives {
        match (a.get("const"), a.get("enum").and_then(Value::as_array)) {
            (Some(c), _) => words.push(c.clone()),
            (None, Some(e)) => words.extend(e.iter().cloned()),
            (None, None) => return None,
        }
    }
    Some(words)
}

/// Follow a `$ref` inside the generated schema (which only refers to its own `$defs`).
fn resolve<'a>(node: &'a Value, root: &'a Value) -> &'a Value {
    node.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| root.pointer(p))
        .unwrap_or(node)
}

/// The first line of a doc comment, as a hint: lower-case start, no final period.
fn first_sentence(text: &str) -> String {
    let line = text.lines().next().unwrap_or(text);
    let line = line.strip_suffix('.').unwrap_or(line);
    let mut chars = line.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
}

fn examples(node: &Value) -> Option<String> {
    let ex: Vec<String> = node
        .get("examples")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .map(|s| format!("`{s}`"))
        .collect();
    (!ex.is_empty()).then(|| format!("for example {}", ex.join(" or ")))
}

fn type_names(ty: &Value) -> String {
    let name = |t: &str| match t {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "a string",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "`true` or `false`",
        "null" => "nothing",
        _ => "another type",
    };
    match ty {
        Value::String(t) => name(t).to_owned(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(name)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "another type".to_owned(),
    }
}

fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (an empty value)",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "a whole number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The valid key most like `key`, if one is close enough to be a typo.
fn closest<'a>(key: &str, valid: &[&'a str]) -> Option<&'a str> {
    valid
        .iter()
        .map(|v| (strsim::jaro_winkler(key, v), *v))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| v)
}
