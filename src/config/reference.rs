//! The configuration reference, generated from the JSON schema: `hbmon schema --format
//! markdown` (committed as `docs/config.md`) and `--format man` (`man/hbmon.yaml.5`). One
//! walk of the schema gives the sections (one per kind of object: the top level,
//! `monitors[]`, `monitors[].http`, ...) and their keys with type, default, allowed values,
//! examples and description; the two renderers only lay them out.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt::Write as _;

use serde_json::Value;

/// One kind of object in the file.
#[derive(Debug)]
pub struct Section {
    /// Where it appears, e.g. `monitors[].http.expect`.
    pub path: String,
    pub description: String,
    pub keys: Vec<Key>,
    /// Where else the same object appears.
    pub also: Vec<String>,
    /// How it looks in `examples/monitors.yaml`, when it is there.
    pub example: Option<String>,
}

/// One key of a section.
#[derive(Debug)]
pub struct Key {
    pub name: String,
    pub kind: String,
    pub required: bool,
    pub default: Option<String>,
    pub examples: Vec<String>,
    pub description: String,
}

/// A value type described once (durations, sizes, secrets, ...).
#[derive(Debug)]
pub struct ValueType {
    pub name: String,
    pub description: String,
    pub examples: Vec<String>,
}

/// The whole reference.
#[derive(Debug)]
pub struct Reference {
    pub sections: Vec<Section>,
    pub types: Vec<ValueType>,
}

fn def<'a>(schema: &'a Value, reference: &str) -> Option<(&'a str, &'a Value)> {
    let name = reference.strip_prefix("#/$defs/")?;
    let (name, value) = schema["$defs"].as_object()?.get_key_value(name)?;
    Some((name.as_str(), value))
}

fn text(v: &Value) -> String {
    // Schema descriptions are wrapped doc comments: one paragraph per blank line.
    v["description"]
        .as_str()
        .unwrap_or_default()
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct Walk<'a> {
    schema: &'a Value,
    queue: VecDeque<(String, &'a str, &'a Value)>,
    /// Every path where an object `$def` appears, the first being its section's.
    paths: BTreeMap<&'a str, Vec<String>>,
    types: BTreeMap<String, ValueType>,
}

impl<'a> Walk<'a> {
    /// The type of `v` in words; object types are queued as sections of their own at `path`.
    fn kind(&mut self, v: &'a Value, path: &str) -> String {
        if let Some(r) = v["$ref"].as_str()
            && let Some((name, d)) = def(self.schema, r)
        {
            if d["properties"].is_object() {
                let paths = self.paths.entry(name).or_default();
                paths.push(path.to_owned());
                if paths.len() == 1 {
                    self.queue.push_back((path.to_owned(), name, d));
                    return "object".to_owned();
                }
                return format!("object (as `{}`)", paths[0]);
            }
            if let Some(title) = d["title"].as_str() {
                self.types
                    .entry(title.to_owned())
                    .or_insert_with(|| ValueType {
                        name: title.to_owned(),
                        description: text(d),
                        examples: d["examples"]
                            .as_array()
                            .map(|e| e.iter().map(scalar).collect())
                            .unwrap_or_default(),
                    });
                return title.to_owned();
            }
            return self.kind(d, path);
        }
        if let Some(values) = v["enum"].as_array() {
            let values: Vec<String> = values.iter().map(|x| format!("`{}`", scalar(x))).collect();
            return format!("one of {}", values.join(", "));
        }
        if let Some(c) = v.get("const") {
            return format!("`{}`", scalar(c));
        }
        for combinator in ["anyOf", "oneOf"] {
            if let Some(options) = v[combinator].as_array() {
                let kinds: Vec<String> = options.iter().map(|o| self.kind(o, path)).collect();
                return kinds.join(" or ");
            }
        }
        let types: Vec<&str> = match &v["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let mut words = Vec::new();
        for t in types {
            words.push(match t {
                "array" => {
                    let item = self.kind(&v["items"], &format!("{path}[]"));
                    format!("list of {item}")
                }
                "object" if v["additionalProperties"].is_object() => {
                    let value = self.kind(&v["additionalProperties"], &format!("{path}.NAME"));
                    format!("map of names to {value}")
                }
                "object" => "map".to_owned(),
                "integer" | "number" => {
                    let what = if t == "integer" { "integer" } else { "number" };
                    match (v["minimum"].as_f64(), v["maximum"].as_f64()) {
                        (Some(lo), Some(hi)) if (lo - hi).abs() < f64::EPSILON => format!("`{lo}`"),
                        (Some(lo), Some(hi)) => format!("{what} ({lo} to {hi})"),
                        (Some(lo), None) if lo > 0.0 => format!("{what} (at least {lo})"),
                        _ => what.to_owned(),
                    }
                }
                "null" => continue,
                other => other.to_owned(),
            });
        }
        if words.is_empty() {
            "any".to_owned()
        } else {
            words.join(" or ")
        }
    }

    fn section(&mut self, path: String, v: &'a Value) -> Section {
        let required: HashSet<&str> = v["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut keys = Vec::new();
        for (name, p) in v["properties"].as_object().into_iter().flatten() {
            let child = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            let kind = self.kind(p, &child);
            let target = p["$ref"]
                .as_str()
                .and_then(|r| def(self.schema, r))
                .map(|(_, d)| d);
            let default = p.get("default").filter(|d| !is_empty(d)).map(scalar);
            let examples = p["examples"]
                .as_array()
                .map(|e| e.iter().map(scalar).collect())
                .unwrap_or_default();
            let mut description = text(p);
            if description.is_empty()
                && let Some(d) = target
            {
                description = text(d);
            }
            keys.push(Key {
                name: name.clone(),
                kind,
                required: required.contains(name.as_str()),
                default,
                examples,
                description,
            });
        }
        Section {
            example: example(&path),
            path,
            description: text(v),
            keys,
            also: Vec::new(),
        }
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

impl Reference {
    /// The reference of `schema` (hbmon's, as `config::schema::documented` makes it).
    #[must_use]
    pub fn of(schema: &Value) -> Reference {
        let mut walk = Walk {
            schema,
            queue: VecDeque::new(),
            paths: BTreeMap::new(),
            types: BTreeMap::new(),
        };
        let mut sections = vec![walk.section(String::new(), schema)];
        let mut names = vec![""];
        while let Some((path, name, d)) = walk.queue.pop_front() {
            sections.push(walk.section(path, d));
            names.push(name);
        }
        for (section, name) in sections.iter_mut().zip(names) {
            if let Some(paths) = walk.paths.get(name) {
                section.also = paths.iter().skip(1).cloned().collect();
            }
        }
        Reference {
            sections,
            types: walk.types.into_values().collect(),
        }
    }
}

impl Key {
    /// "type; required; default `x`; e.g. `a`, `b`".
    fn facts(&self) -> String {
        let mut facts = vec![self.kind.clone()];
        if self.required {
            facts.push("required".into());
        }
        if let Some(d) = &self.default {
            facts.push(format!("default `{d}`"));
        }
        if !self.examples.is_empty() {
            let e: Vec<String> = self.examples.iter().map(|x| format!("`{x}`")).collect();
            facts.push(format!("e.g. {}", e.join(", ")));
        }
        facts.join("; ")
    }
}

impl Section {
    fn title(&self) -> String {
        if self.path.is_empty() {
            "The top level".to_owned()
        } else {
            format!("`{}`", self.path)
        }
    }
}

const INTRO: &str = "hbmon reads one YAML file: `--config FILE` or `HBMON_CONFIG`, else \
`hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`. Each section below is one kind of object: where it \
appears, then its keys with their type, default and meaning. Unknown keys are errors, \
except those starting with `x-`, which are left for YAML anchors and other tools. Any \
string may use `${VAR}`, `${VAR:-default}` or `${VAR:?message}` to read the environment; \
`hbmon validate` reports every problem of a file at once, with its line and column.";

/// `docs/config.md`.
#[must_use]
pub fn markdown(r: &Reference) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace("\n\n", "<br><br>");
    let mut out = String::new();
    out.push_str("# hbmon.yaml: the configuration reference\n\n");
    out.push_str(
        "<!-- Generated from the JSON schema by `hbmon schema --format markdown`; do not edit. -->\n\n",
    );
    out.push_str(INTRO);
    out.push_str("\n\n");
    for s in &r.sections {
        let _ = write!(out, "## {}\n\n", s.title());
        if !s.description.is_empty() {
            out.push_str(&s.description);
            out.push_str("\n\n");
        }
        if !s.also.is_empty() {
            let also: Vec<String> = s.also.iter().map(|p| format!("`{p}`")).collect();
            let _ = write!(out, "Also at {}.\n\n", also.join(", "));
        }
        if let Some(e) = &s.example {
            let _ = write!(out, "```yaml\n{e}```\n\n");
        }
        if s.keys.is_empty() {
            continue;
        }
        out.push_str("| Key | Type | Description |\n|---|---|---|\n");
        for k in &s.keys {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                k.name,
                cell(&k.facts()),
                cell(&k.description)
            );
        }
        out.push('\n');
    }
    out.push_str("## Value types\n\n");
    for t in &r.types {
        let _ = write!(out, "### {}\n\n{}\n", t.name, t.description);
        if !t.examples.is_empty() {
            let e: Vec<String> = t.examples.iter().map(|x| format!("`{x}`")).collect();
            let _ = write!(out, "\nExamples: {}.\n", e.join(", "));
        }
        out.push('\n');
    }
    out
}

/// Text for roff: escapes, and `code` in bold.
fn roff(s: &str) -> String {
    let mut out = String::new();
    let mut bold = false;
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            '`' => {
                out.push_str(if bold { "\\fR" } else { "\\fB" });
                bold = !bold;
            }
            _ => out.push(c),
        }
    }
    if bold {
        out.push_str("\\fR");
    }
    // A line may not start with a control character.
    out.lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn roff_paragraphs(s: &str) -> String {
    s.split("\n\n")
        .map(roff)
        .collect::<Vec<_>>()
        .join("\n.sp\n")
}

/// `man/hbmon.yaml.5`.
#[must_use]
pub fn man(r: &Reference, version: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        ".TH HBMON.YAML 5 \"\" \"hbmon {version}\" \"File Formats\""
    );
    out.push_str(".SH NAME\nhbmon.yaml \\- configuration file of hbmon(1)\n");
    out.push_str(".SH SYNOPSIS\n/etc/hbmon/hbmon.yaml, or \\fB\\-\\-config\\fR \\fIFILE\\fR\n");
    out.push_str(".SH DESCRIPTION\n");
    out.push_str(&roff(INTRO));
    out.push('\n');
    for s in &r.sections {
        let _ = writeln!(out, ".SH {}", roff(&s.title()).to_uppercase());
        if !s.description.is_empty() {
            out.push_str(&roff_paragraphs(&s.description));
            out.push('\n');
        }
        if !s.also.is_empty() {
            let also: Vec<String> = s.also.iter().map(|p| format!("`{p}`")).collect();
            let _ = write!(
                out,
                ".PP\n{}\n",
                roff(&format!("Also at {}.", also.join(", ")))
            );
        }
        if let Some(e) = &s.example {
            let lines: Vec<String> = e
                .lines()
                .map(|l| roff(l.replace('`', "'").as_str()))
                .collect();
            let _ = write!(
                out,
                ".PP\nFor example:\n.PP\n.RS 4\n.nf\n{}\n.fi\n.RE\n",
                lines.join("\n")
            );
        }
        for k in &s.keys {
            let _ = write!(
                out,
                ".TP\n\\fB{}\\fR (\\fI{}\\fR)\n{}\n",
                roff(&k.name),
                roff(&k.facts()).replace("\\fB", "").replace("\\fR", ""),
                roff_paragraphs(&k.description)
            );
        }
    }
    out.push_str(".SH VALUE TYPES\n");
    for t in &r.types {
        let _ = write!(
            out,
            ".TP\n\\fB{}\\fR\n{}",
            roff(&t.name),
            roff_paragraphs(&t.description)
        );
        if !t.examples.is_empty() {
            let e: Vec<String> = t.examples.iter().map(|x| format!("`{x}`")).collect();
            let _ = write!(out, " {}", roff(&format!("Examples: {}.", e.join(", "))));
        }
        out.push('\n');
    }
    out.push_str(".SH SEE ALSO\n\\fBhbmon\\fR(1), \\fBhbmon\\-validate\\fR(1), \\fBhbmon\\-schema\\fR(1), \\fBhbmon\\-watch\\fR(1)\n");
    out
}

/// The first place `path` (`monitors[].http.expect`) has a value in `examples/monitors.yaml`,
/// as YAML under its own key: each section's example comes from the maintained example
/// file, which `hbmon validate` checks.
fn example(path: &str) -> Option<String> {
    const EXAMPLES: &str = include_str!("../../examples/monitors.yaml");
    fn find<'v>(v: &'v serde_yaml::Value, segments: &[&str]) -> Option<&'v serde_yaml::Value> {
        let Some((first, rest)) = segments.split_first() else {
            return Some(v);
        };
        let (name, list) = match first.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (*first, false),
        };
        let children: Vec<&serde_yaml::Value> = if name == "NAME" {
            v.as_mapping()?.values().collect()
        } else {
            vec![v.get(name)?]
        };
        children.into_iter().find_map(|child| {
            if list {
                child
                    .as_sequence()?
                    .iter()
                    .find_map(|item| find(item, rest))
            } else {
                find(child, rest)
            }
        })
    }
    if path.is_empty() {
        return None;
    }
    let doc: serde_yaml::Value = serde_yaml::from_str(EXAMPLES).ok()?;
    let segments: Vec<&str> = path.split('.').collect();
    let found = find(&doc, &segments)?;
    let last = segments.last()?.trim_end_matches("[]");
    let key = if last == "NAME" { "name" } else { last };
    let wrapped = if path.ends_with("[]") {
        serde_yaml::Value::Sequence(vec![found.clone()])
    } else {
        found.clone()
    };
    let mut top = serde_yaml::Mapping::new();
    top.insert(serde_yaml::Value::String(key.to_owned()), wrapped);
    serde_yaml::to_string(&top).ok()
}
