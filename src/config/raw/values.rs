//! Values kept as text until `plan` parses them (durations, sizes), and secrets.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;

/// A duration as people write it: `30s`, `5m`, `1h30m`, `500ms`.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct DurationStr(pub String);

/// The pattern the schema gives editors; `plan` parses with humantime, which accepts it.
pub const DURATION_PATTERN: &str = r"^\s*([0-9]+(\.[0-9]+)?\s*(ns|us|ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?|w|weeks?|M|months?|y|years?)\s*)+$";

impl JsonSchema for DurationStr {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "title": "duration",
            "description": "A duration: a number and a unit (`ms`, `s`, `m`, `h`, `d`, `w`, `M` for months, `y`), several may follow each other: `30s`, `1.5s`, `5m`, `1h30m`; at most `10y`.",
            "type": "string",
            "pattern": DURATION_PATTERN,
            "examples": ["30s", "1h30m"],
        })
    }
}

/// A size as people write it: `512`, `10KiB`, `1.5 MB`; a bare integer is bytes.
#[derive(Debug, Clone)]
pub struct SizeStr(pub String);

impl<'de> Deserialize<'de> for SizeStr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Text {
            Bytes(u64),
            Text(String),
        }
        Ok(SizeStr(match Text::deserialize(d)? {
            Text::Bytes(n) => n.to_string(),
            Text::Text(t) => t,
        }))
    }
}

/// The pattern the schema gives editors; `plan` parses with bytesize, which accepts it.
pub const SIZE_PATTERN: &str = r"^\s*[0-9]+(\.[0-9]+)?\s*([KkMmGgTtPp]i?[Bb]?|[Bb])?\s*$";

impl JsonSchema for SizeStr {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "title": "size",
            "description": "A size in bytes, with an optional unit: `512`, `10KiB`, `1.5MB`, `2GiB`; a bare number is bytes.",
            "type": ["string", "integer"],
            "minimum": 0,
            "pattern": SIZE_PATTERN,
            "examples": ["10KiB", "1GB", 512],
        })
    }
}

// It deserializes from a plain string but never prints: `Debug` and `Display` show
// `[redacted]`, and there is no `Serialize`. The only way to the value is `expose`, called
// where the secret is sent.
/// A secret (a token, a password, a URL that may carry credentials): hbmon never shows it
/// in logs, reports or error messages. Write `${VAR}` to take it from the environment,
/// or use the key's `_file` twin to read it from a file.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(transparent, title = "secret")]
pub struct Secret(String);

impl Secret {
    #[must_use]
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The secret's value, for the one place that sends it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
