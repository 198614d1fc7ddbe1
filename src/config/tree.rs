//! YAML straight into JSON values, one event at a time.
//!
//! The serde YAML parser reads a whole document's events into memory before it builds
//! anything, so a file of 100,000 monitors needs its events and its tree at once (about
//! 1 KB and 0.9 KB per monitor). This builds the same `serde_json::Value` from saphyr's
//! event stream as the events arrive. It resolves plain scalars as the serde parser does
//! (YAML 1.2: `null`, `true`, integers in decimal, hex, octal and binary, floats, else a
//! string) and leaves every document it does not handle the same way to that parser:
//! tags, anchors and aliases, several documents, keys that are not strings, deep nesting,
//! and anything saphyr cannot parse (whose error the serde parser then reports).

use serde_json::{Map, Value};

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Deeper than this is left to the serde parser (which refuses past its own limit).
const MAX_DEPTH: usize = 100;

enum Frame {
    Seq(Vec<Value>),
    /// The entries so far (made into a `Map` of the right size at its end: a map grown
    /// entry by entry holds twice the room it needs) and the key waiting for its value.
    Map(Vec<(String, Value)>, Option<String>),
}

/// The document as JSON values, or `None` when the serde parser must read it.
#[must_use]
pub fn from_yaml(src: &str) -> Option<Value> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut root = None;
    let mut documents = 0;
    for item in Parser::new_from_str(src) {
        let (event, _) = item.ok()?;
        match event {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return None;
                }
            }
            Event::Alias(_) => return None,
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                let value = if style == ScalarStyle::Plain {
                    plain(&text)?
                } else {
                    Value::String(text.into_owned())
                };
                if let Some(Frame::Map(_, key @ None)) = stack.last_mut() {
                    let Value::String(k) = value else {
                        return None;
                    };
                    *key = Some(k);
                } else {
                    add(&mut stack, &mut root, value)?;
                }
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                if anchor != 0 || tag.is_some() || stack.len() >= MAX_DEPTH {
                    return None;
                }
                // A collection as a mapping key.
                if let Some(Frame::Map(_, None)) = stack.last() {
                    return None;
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq(Vec::new())
                } else {
                    Frame::Map(Vec::new(), None)
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let value = match stack.pop()? {
                    Frame::Seq(mut items) => {
                        items.shrink_to_fit();
                        Value::Array(items)
                    }
                    Frame::Map(entries, None) => {
                        let n = entries.len();
                        let mut map = Map::with_capacity(n);
                        map.extend(entries);
                        // A key written twice is left to the serde parser.
                        if map.len() != n {
                            return None;
                        }
                        Value::Object(map)
                    }
                    Frame::Map(_, Some(_)) => return None,
                };
                add(&mut stack, &mut root, value)?;
            }
        }
    }
    if !stack.is_empty() {
        return None;
    }
    root
}

/// Put a finished value where it belongs: the open sequence, the open mapping's pending
/// key, or the document's root.
fn add(stack: &mut [Frame], root: &mut Option<Value>, value: Value) -> Option<()> {
    match stack.last_mut() {
        None if root.is_none() => *root = Some(value),
        None => return None,
        Some(Frame::Seq(items)) => items.push(value),
        Some(Frame::Map(entries, key)) => entries.push((key.take()?, value)),
    }
    Some(())
}

/// A plain scalar as the serde parser reads it, or `None` for the numbers it turns into
/// what a JSON value cannot hold the same way (beyond 64 bits, infinities, NaN).
fn plain(v: &str) -> Option<Value> {
    if matches!(v, "" | "~" | "null" | "Null" | "NULL") {
        return Some(Value::Null);
    }
    match v {
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    if let Some(n) = unsigned(v, u64::from_str_radix) {
        return Some(Value::from(n));
    }
    if let Some(n) = negative(v, i64::from_str_radix) {
        return Some(Value::from(n));
    }
    if unsigned(v, u128::from_str_radix).is_some() || negative(v, i128::from_str_radix).is_some() {
        return None;
    }
    if !digits_but_not_number(v)
        && let Some(f) = float(v)
    {
        // An infinity or NaN is `null` to the serde parser: left to it.
        return serde_json::Number::from_f64(f).map(Value::Number);
    }
    Some(Value::String(v.to_owned()))
}

fn unsigned<T>(v: &str, radix: fn(&str, u32) -> Result<T, std::num::ParseIntError>) -> Option<T> {
    let unpositive = v.strip_prefix('+').unwrap_or(v);
    for (prefix, base) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = unpositive.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return None;
            }
            if let Ok(n) = radix(rest, base) {
                return Some(n);
            }
        }
    }
    if unpositive.starts_with(['+', '-']) || digits_but_not_number(v) {
        return None;
    }
    radix(unpositive, 10).ok()
}

fn negative<T>(v: &str, radix: fn(&str, u32) -> Result<T, std::num::ParseIntError>) -> Option<T> {
    for (prefix, base) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(rest) = v.strip_prefix(prefix)
            && let Ok(n) = radix(&format!("-{rest}"), base)
        {
            return Some(n);
        }
    }
    if digits_but_not_number(v) {
        return None;
    }
    radix(v, 10).ok()
}

fn float(v: &str) -> Option<f64> {
    let unpositive = match v.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => v,
    };
    if matches!(unpositive, ".inf" | ".Inf" | ".INF")
        || matches!(v, "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN")
    {
        return Some(f64::NAN);
    }
    unpositive.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Leading zeros before digits: a string in YAML 1.2 (`0755`).
fn digits_but_not_number(v: &str) -> bool {
    let v = v.strip_prefix(['-', '+']).unwrap_or(v);
    v.len() > 1 && v.starts_with('0') && v[1..].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The serde parser's reading, where it has one.
    fn serde(src: &str) -> Option<Value> {
        serde_yaml::from_str::<Value>(src).ok()
    }

    /// Whenever both parsers read a document, they read the same values. (saphyr reads a
    /// few YAML 1.2 forms libyaml refuses, such as `[a:]`: those are read.)
    fn same(src: &str) -> Option<Value> {
        let fast = from_yaml(src);
        if let (Some(v), Some(s)) = (&fast, serde(src)) {
            assert_eq!(v, &s, "{src}");
        }
        fast
    }

    #[test]
    fn every_bundled_and_test_configuration_reads_the_same() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut read = 0;
        let mut fast = 0;
        for dir in [
            "examples",
            "tests/schema/valid",
            "tests/schema/broken",
            "tests/schema/validate-only",
        ] {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                if !path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    continue;
                }
                let src = std::fs::read_to_string(&path).unwrap();
                read += 1;
                fast += usize::from(same(&src).is_some());
            }
        }
        assert!(read >= 20, "{read} files");
        assert!(fast * 2 >= read, "only {fast} of {read} read by events");
    }

    #[test]
    fn scalars_resolve_as_yaml_1_2_says() {
        let cases = [
            "a: 1\nb: -2\nc: 0x1f\nd: 0o17\ne: 0b101\nf: +3\ng: 0755\nh: 1.5\ni: 1e3\nj: .inf\n",
            "a: ~\nb: null\nc:\nd: True\ne: yes\nf: 'true'\ng: \"1\"\nh: 30s\ni: 10.0.0.7\nj: -c\n",
            "a: 18446744073709551616\nb: -9223372036854775809\nc: .nan\nd: +-1\ne: 0x\nf: -0\n",
            "list:\n  - { name: web, http: { url: \"http://x/\" } }\n  - [1, two, 3.0]\n",
            "text: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
            "a: &x 1\nb: *x\n",
            "? [a, b]\n: c\n",
            "a: 1\na: 2\n",
            "--- 1\n--- 2\n",
            "!!str 5\n",
            "a: !custom x\n",
            "1: one\ntrue: yes\n",
            "a: [\n",
        ];
        for src in cases {
            same(src);
        }
        assert_eq!(
            from_yaml("a: 1\nb: 30s\nc: 0755\nd: 1.5\n"),
            Some(serde_json::json!({"a": 1, "b": "30s", "c": "0755", "d": 1.5}))
        );
        // Left to the serde parser: anchors, duplicates, tags, several documents, syntax.
        for src in [
            "a: &x 1\nb: *x\n",
            "a: 1\na: 2\n",
            "!!str 5\n",
            "--- 1\n--- 2\n",
            "a: [\n",
        ] {
            assert_eq!(from_yaml(src), None, "{src}");
        }
    }

    proptest! {
        #[test]
        fn any_scalar_reads_as_the_serde_parser_reads_it(
            s in "[-+0-9a-fA-FxobeE._~ :infatulsTRUENL]{0,12}",
            quote in 0usize..3,
        ) {
            let src = match quote {
                0 => format!("k: {s}\n"),
                1 => format!("k: '{}'\n", s.replace('\'', "''")),
                _ => format!("k: [{s}]\n"),
            };
            same(&src);
        }
    }
}
