//! Reading a configuration file: YAML parse, `${VAR}` interpolation, validation against
//! the generated JSON schema, and a lenient decomposition into raw types, so that the
//! semantic checks in `plan` can run even where the schema found problems. Every problem
//! becomes a `Diagnostic`; nothing here stops at the first one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::describe::describe;
use super::diag::{At, Diagnostic};
use super::interpolate;
use super::raw;
use super::schema;
use super::spans::escape;
use crate::error::Error;

/// A configuration file after loading: its source, positions, the parts that could be
/// decoded, and every problem found so far.
#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    /// Relative paths in the file (`file.path`, `*_file`) are relative to this.
    pub base_dir: PathBuf,
    pub source: String,
    pub doc: Document,
    pub diagnostics: Vec<Diagnostic>,
    /// What was read of the file.
    pub needs: Needs,
    /// The files `include:` named, in the order their monitors follow the main file's.
    pub includes: Vec<super::include::IncludedFile>,
}

/// What a command needs of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Everything is read and checked (`watch`, `validate`, `notify`, `simulate`).
    All,
    /// For commands that never notify (`check`, `status`, `history`, `ack`, `run`,
    /// `healthcheck`): the notifiers' settings and the upstream's URL are left unread, so
    /// their `${SECRET}`s and `*_file`s need not be there for whoever runs the command.
    /// The notifiers' names are kept, and references to them still checked.
    NoNotifiers,
}

/// The parts of a configuration that decoded, each on its own.
#[derive(Debug, Default)]
pub struct Document {
    pub defaults: raw::Defaults,
    /// Every host name; `None` where the entry itself is invalid (already reported),
    /// so that monitors naming it are not reported a second time.
    pub hosts: BTreeMap<String, Option<raw::Host>>,
    /// Every schedule name; `None` where the entry is invalid (already reported).
    pub schedules: BTreeMap<String, Option<raw::ScheduleDef>>,
    pub store: raw::Store,
    /// Every notifier name; `None` where the entry is invalid (already reported).
    pub notifiers: BTreeMap<String, Option<raw::NotifierDef>>,
    pub templates: raw::Templates,
    pub routes: Vec<raw::Route>,
    pub timezone: Option<String>,
    pub listen: Option<raw::ListenDef>,
    pub status_page: Option<raw::StatusPageDef>,
    pub upstream: Option<raw::UpstreamDef>,
    pub connectivity: Option<raw::ConnectivityDef>,
    pub regions: Option<raw::RegionsDef>,
    pub monitors: Vec<MonitorEntry>,
    /// `include:`, as (pointer, place) pairs.
    pub include: Vec<(String, String)>,
}

/// One element of `monitors`.
#[derive(Debug)]
pub struct MonitorEntry {
    pub index: usize,
    /// The name, when it is a string (even if the rest of the entry is invalid).
    pub name: Option<String>,
    /// The decoded monitor; `None` when its problems are already reported.
    /// Boxed: the plan frees each one as it converts it (100,000 monitors would
    /// otherwise keep every raw one alive beside the checked ones).
    pub monitor: Option<Box<raw::Monitor>>,
    /// For a monitor of an included file: that file, and the monitor's index in it.
    pub origin: Option<(PathBuf, usize)>,
}

/// Read and check `path`. Only an unreadable file is an `Err`; every other problem is
/// a diagnostic in the result.
pub fn load(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    needs: Needs,
) -> Result<Loaded, Error> {
    let (source, base_dir) = read_main(path)?;
    Ok(load_str_for(path.to_owned(), base_dir, source, env, needs))
}

/// The main file's text, and the directory its relative paths are relative to.
fn read_main(path: &Path) -> Result<(String, PathBuf), Error> {
    let source = read_bounded(path).map_err(|source| Error::ConfigRead {
        path: path.to_owned(),
        source,
    })?;
    let base_dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    Ok((source, base_dir))
}

/// The largest configuration file read: about 400,000 monitors of one line each. A
/// larger file is refused before it is read (a log or a disk image given by mistake).
pub const MAX_CONFIG_BYTES: u64 = 32 * 1024 * 1024;

/// The file's text, or an error when it is larger than [`MAX_CONFIG_BYTES`] (also for a
/// pipe or `/proc` file whose size is not known beforehand) or not UTF-8.
pub(super) fn read_bounded(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let too_big = |size: &str| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the file is {size}; configurations of at most {} are read",
                crate::humanize::size(MAX_CONFIG_BYTES)
            ),
        )
    };
    let file = std::fs::File::open(path)?;
    if let Ok(meta) = file.metadata()
        && meta.len() > MAX_CONFIG_BYTES
    {
        return Err(too_big(&crate::humanize::size(meta.len())));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_big("larger than that"));
    }
    String::from_utf8(bytes).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        )
    })
}

/// Check configuration text (the file is already read), all of it.
pub fn load_str(
    path: PathBuf,
    base_dir: PathBuf,
    source: String,
    env: &dyn Fn(&str) -> Option<String>,
) -> Loaded {
    load_str_for(path, base_dir, source, env, Needs::All)
}

/// Check configuration text, as much of it as `needs` says.
pub fn load_str_for(
    path: PathBuf,
    base_dir: PathBuf,
    source: String,
    env: &dyn Fn(&str) -> Option<String>,
    needs: Needs,
) -> Loaded {
    let mut loaded = load_part(path, base_dir, source, env, needs, false);
    super::include::read_all(&mut loaded, env, None);
    loaded
}

/// Read and check `path` as it would be with `overlay`'s change to one included file.
pub fn load_with(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overlay: &super::include::Overlay,
) -> Result<Loaded, Error> {
    let (source, base_dir) = read_main(path)?;
    let mut loaded = load_part(path.to_owned(), base_dir, source, env, Needs::All, false);
    super::include::read_all(&mut loaded, env, Some(overlay));
    Ok(loaded)
}

/// Check one file's text; `included`: a file that `include:` named (only `monitors`).
pub(super) fn load_part(
    path: PathBuf,
    base_dir: PathBuf,
    source: String,
    env: &dyn Fn(&str) -> Option<String>,
    needs: Needs,
    included: bool,
) -> Loaded {
    let mut loaded = Loaded {
        path,
        base_dir,
        source,
        doc: Document::default(),
        diagnostics: Vec::new(),
        needs,
        includes: Vec::new(),
    };
    let Some(mut value) = parse_yaml(&loaded.source, &mut loaded.diagnostics) else {
        return loaded;
    };
    // YAML keeps the last of two equal keys without a word: a second `monitors:` would
    // drop every monitor of the first.
    for (pointer, key) in super::spans::duplicate_keys(&loaded.source) {
        loaded.diagnostics.push(
            Diagnostic::new(
                At::Offset(key.start),
                format!(
                    "`{}` is written twice: the second would replace the first",
                    super::spans::display_path(&pointer)
                ),
            )
            .hint("merge the two into one, or remove one of them"),
        );
    }
    if included {
        super::include::shape_part(&mut value, &mut loaded.diagnostics);
    }
    let left_out = match needs {
        Needs::All => Vec::new(),
        Needs::NoNotifiers => leave_out_notifiers(&mut value),
    };
    let mut whole = Vec::new();
    interpolate_tree(
        &mut value,
        &mut String::new(),
        env,
        &mut whole,
        &mut loaded.diagnostics,
    );
    let unknown = validate(&mut value, &whole, &mut loaded.diagnostics);
    for pointer in unknown {
        remove(&mut value, &pointer);
    }
    loaded.doc = decompose(value, &mut loaded.diagnostics);
    for name in left_out {
        // `None`: known, not built (as for an invalid entry, which is reported elsewhere).
        loaded.doc.notifiers.insert(name, None);
    }
    loaded
}

/// Take the notifiers' settings and the upstream's URL out of the tree before anything
/// is interpolated or read; returns the notifiers' names. Anything that is not a mapping
/// is left for the schema to report.
fn leave_out_notifiers(value: &mut Value) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(Value::Object(notifiers)) = value.get_mut("notifiers") {
        names = notifiers.keys().cloned().collect();
        notifiers.clear();
    }
    if let Some(Value::Object(upstream)) = value.get_mut("upstream") {
        upstream.remove("url");
        upstream.remove("url_file");
    }
    names
}

fn parse_yaml(source: &str, diags: &mut Vec<Diagnostic>) -> Option<Value> {
    if source.trim().is_empty()
        || source
            .lines()
            .all(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
    {
        diags.push(
            Diagnostic::new(At::Offset(0), "the configuration file is empty").hint(
                "start with `version: 1` and a `monitors:` list; see examples/quickstart.yaml",
            ),
        );
        return None;
    }
    // Straight into JSON values when there are no merge keys (`<<`) to apply: one tree in
    // memory instead of two, which matters for configs with thousands of monitors.
    if !source.contains("<<") {
        // Built as the events arrive where that reads the same (`tree`): the serde parser
        // holds every event of the document and the tree at once.
        if let Some(v) = super::tree::from_yaml(source) {
            return Some(v);
        }
        return match serde_yaml::from_str::<Value>(source) {
            Ok(v) => Some(v),
            Err(e) => {
                diags.push(syntax_error(&e, source));
                None
            }
        };
    }
    let mut yaml: serde_yaml::Value = match serde_yaml::from_str(source) {
        Ok(v) => v,
        Err(e) => {
            diags.push(syntax_error(&e, source));
            return None;
        }
    };
    if let Err(e) = yaml.apply_merge() {
        diags.push(Diagnostic::new(
            At::Offset(0),
            format!("invalid YAML merge key: {e}"),
        ));
        return None;
    }
    match serde_json::to_value(&yaml) {
        Ok(v) => Some(v),
        Err(e) => {
            diags.push(
                Diagnostic::new(At::Offset(0), format!("unsupported YAML: {e}"))
                    .hint("mapping keys must be strings, and YAML tags (`!tag`) are not used"),
            );
            None
        }
    }
}

fn syntax_error(e: &serde_yaml::Error, source: &str) -> Diagnostic {
    let offset = e.location().map_or(0, |l| l.index());
    // The message names the construct, never the text around it.
    let full = e.to_string();
    // A quote never closed is found at the end of the file; where it opened is what the
    // operator needs ("..., while scanning a quoted scalar at line 3 column 11").
    if let Some(context) = full.split(", while scanning a quoted scalar at ").nth(1)
        && let Some(start) = mark_offset(context, source)
    {
        return Diagnostic::new(
            At::Offset(start),
            "invalid YAML: this quoted string is never closed",
        )
        .hint("end it with the same quote it starts with, on this line or a later one");
    }
    let msg = full.split(" at line ").next().unwrap_or(&full).to_owned();
    if msg.contains("repetition limit exceeded") {
        return Diagnostic::new(
            At::Offset(offset),
            "invalid YAML: aliases expand to too many values (an alias bomb?)",
        )
        .hint("an alias (`*name`) may repeat a block, but not nest into millions of copies");
    }
    Diagnostic::new(At::Offset(offset), format!("invalid YAML: {msg}"))
}

/// The byte offset of a libyaml mark, `line L column C` (both from 1), in `source`.
fn mark_offset(mark: &str, source: &str) -> Option<usize> {
    let rest = mark.strip_prefix("line ")?;
    let (line, rest) = rest.split_once(" column ")?;
    let line: usize = line.parse().ok()?;
    let column: usize = rest
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    let start: usize = source
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let text = source.get(start..)?;
    let within: usize = text
        .chars()
        .take(column.checked_sub(1)?)
        .map(char::len_utf8)
        .sum();
    Some(start + within)
}

/// Interpolate every string; `whole` collects the pointers of values that were exactly
/// one `${VAR}`, which `validate` may convert to the number or boolean the schema expects.
fn interpolate_tree(
    value: &mut Value,
    pointer: &mut String,
    env: &dyn Fn(&str) -> Option<String>,
    whole: &mut Vec<String>,
    diags: &mut Vec<Diagnostic>,
) {
    match value {
        Value::String(s) => match interpolate::expand(s, env) {
            Ok(out) if out.changed => {
                if out.whole {
                    whole.push(pointer.clone());
                }
                *value = Value::String(out.text);
            }
            Ok(_) => {}
            Err(e) => {
                let mut d = Diagnostic::new(At::value(pointer.clone()), e.message());
                d.hint = e.hint();
                diags.push(d);
                // The value keeps its text as written; later checks skip this pointer, and a
                // present value cannot cause derived errors ("missing url") elsewhere.
            }
        },
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                interpolate_tree(item, pointer, env, whole, diags);
                pointer.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape(k));
                interpolate_tree(item, pointer, env, whole, diags);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// The value a `${VAR}`'s text stands for where the schema expects `expected`
/// (`"integer"`, `"number"`, `"boolean"`), if the text is one.
fn coerce(text: &str, expected: &Value) -> Option<Value> {
    let wants = |t: &str| match expected {
        Value::String(s) => s == t,
        Value::Array(a) => a.iter().any(|x| x == t),
        _ => false,
    };
    let text = text.trim();
    if wants("boolean") {
        match text {
            "true" => return Some(Value::Bool(true)),
            "false" => return Some(Value::Bool(false)),
            _ => {}
        }
    }
    if wants("integer") || wants("number") {
        if let Ok(n) = text.parse::<i64>() {
            return Some(Value::from(n));
        }
        if let Ok(n) = text.parse::<u64>() {
            return Some(Value::from(n));
        }
    }
    if wants("number") {
        return text
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number);
    }
    None
}

/// Validate against the schema; returns the pointers of unknown keys so they can be
/// removed before decoding (they are reported, and must not hide the rest). A value that
/// was exactly one `${VAR}` and sits where the schema wants a number or a boolean is
/// converted first (`port: "${PGPORT}"`), since YAML cannot know what the variable holds.
fn validate(value: &mut Value, whole: &[String], diags: &mut Vec<Diagnostic>) -> Vec<String> {
    // Generated and compiled once per process: a reload, `check` and the fuzz target load
    // many times.
    static COMPILED: std::sync::OnceLock<(Value, Result<jsonschema::Validator, String>)> =
        std::sync::OnceLock::new();
    let (schema, validator) = COMPILED.get_or_init(|| {
        let schema = schema::generate();
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&schema)
            .map_err(|e| e.to_string());
        (schema, validator)
    });
    let validator = match validator {
        Ok(v) => v,
        Err(e) => {
            // The schema is generated by hbmon itself; a test compiles it on every run.
            diags.push(Diagnostic::new(
                At::Offset(0),
                format!("internal error: schema does not compile: {e}"),
            ));
            return Vec::new();
        }
    };
    if !whole.is_empty() {
        let conversions: Vec<(String, Value)> = validator
            .iter_errors(value)
            .filter(|e| {
                matches!(
                    e.kind(),
                    jsonschema::error::ValidationErrorKind::Type { .. }
                )
            })
            .filter_map(|e| {
                let pointer = e.instance_path().as_str();
                let expected = schema.pointer(e.schema_path().as_str())?;
                let converted = coerce(e.instance().as_str()?, expected)?;
                whole
                    .iter()
                    .any(|w| w == pointer)
                    .then(|| (pointer.to_owned(), converted))
            })
            .collect();
        for (pointer, converted) in conversions {
            if let Some(slot) = value.pointer_mut(&pointer) {
                *slot = converted;
            }
        }
    }
    let value = &*value;
    // Values whose interpolation failed are reported already.
    let failed: Vec<String> = diags
        .iter()
        .filter_map(|d| d.pointer().map(str::to_owned))
        .collect();
    let mut unknown = Vec::new();
    for err in validator.iter_errors(value) {
        let pointer = err.instance_path().as_str().to_owned();
        if failed
            .iter()
            .any(|f| pointer == *f || pointer.starts_with(&format!("{f}/")))
        {
            continue;
        }
        let schema_path = err.schema_path().as_str();
        let node = schema_path
            .rfind('/')
            .and_then(|i| schema.pointer(&schema_path[..i]))
            .unwrap_or(&Value::Null);
        let is_unknown_key = matches!(
            err.kind(),
            jsonschema::error::ValidationErrorKind::AdditionalProperties { .. }
        );
        for d in describe(&err, &pointer, node, schema) {
            if is_unknown_key && let Some(p) = d.pointer() {
                unknown.push(p.to_owned());
            }
            diags.push(d);
        }
    }
    unknown
}

fn remove(value: &mut Value, pointer: &str) {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return;
    };
    let key = key.replace("~1", "/").replace("~0", "~");
    if let Some(Value::Object(map)) = value.pointer_mut(parent) {
        map.remove(&key);
    }
}

#[allow(clippy::too_many_lines)] // one top-level key after another
fn decompose(value: Value, diags: &mut Vec<Diagnostic>) -> Document {
    let Value::Object(mut top) = value else {
        return Document::default();
    };
    let schema_clean = diags.is_empty();
    let mut decode_failed = |pointer: &str, e: &serde_json::Error| {
        // The schema describes these types exactly, so decoding fails only where the
        // schema already reported a problem. Report it if the schema did not.
        if schema_clean {
            diags.push(Diagnostic::new(
                At::value(pointer),
                format!("invalid value: {e}"),
            ));
        }
    };
    let mut doc = Document::default();
    if let Some(d) = top.remove("defaults") {
        match serde_json::from_value(d) {
            Ok(d) => doc.defaults = d,
            Err(e) => decode_failed("/defaults", &e),
        }
    }
    if let Some(Value::Object(hosts)) = top.remove("hosts") {
        for (name, h) in hosts {
            let host = serde_json::from_value(h)
                .map_err(|e| decode_failed(&format!("/hosts/{}", escape(&name)), &e))
                .ok();
            doc.hosts.insert(name, host);
        }
    }
    if let Some(Value::Object(schedules)) = top.remove("schedules") {
        for (name, sch) in schedules {
            let sch = serde_json::from_value(sch)
                .map_err(|e| decode_failed(&format!("/schedules/{}", escape(&name)), &e))
                .ok();
            doc.schedules.insert(name, sch);
        }
    }
    if let Some(Value::Object(notifiers)) = top.remove("notifiers") {
        for (name, n) in notifiers {
            let n = serde_json::from_value(n)
                .map_err(|e| decode_failed(&format!("/notifiers/{}", escape(&name)), &e))
                .ok();
            doc.notifiers.insert(name, n);
        }
    }
    if let Some(t) = top.remove("templates") {
        match serde_json::from_value(t) {
            Ok(t) => doc.templates = t,
            Err(e) => decode_failed("/templates", &e),
        }
    }
    if let Some(r) = top.remove("routes") {
        match serde_json::from_value(r) {
            Ok(r) => doc.routes = r,
            Err(e) => decode_failed("/routes", &e),
        }
    }
    if let Some(u) = top.remove("upstream") {
        match serde_json::from_value(u) {
            Ok(u) => doc.upstream = Some(u),
            Err(e) => decode_failed("/upstream", &e),
        }
    }
    if let Some(c) = top.remove("connectivity") {
        match serde_json::from_value(c) {
            Ok(c) => doc.connectivity = Some(c),
            Err(e) => decode_failed("/connectivity", &e),
        }
    }
    if let Some(r) = top.remove("regions") {
        match serde_json::from_value(r) {
            Ok(r) => doc.regions = Some(r),
            Err(e) => decode_failed("/regions", &e),
        }
    }
    if let Some(l) = top.remove("listen") {
        match serde_json::from_value(l) {
            Ok(l) => doc.listen = Some(l),
            Err(e) => decode_failed("/listen", &e),
        }
    }
    if let Some(p) = top.remove("status_page") {
        match serde_json::from_value(p) {
            Ok(p) => doc.status_page = Some(p),
            Err(e) => decode_failed("/status_page", &e),
        }
    }
    if let Some(Value::String(tz)) = top.remove("timezone") {
        doc.timezone = Some(tz);
    }
    if let Some(st) = top.remove("store") {
        match serde_json::from_value(st) {
            Ok(st) => doc.store = st,
            Err(e) => decode_failed("/store", &e),
        }
    }
    if let Some(Value::Array(monitors)) = top.remove("monitors") {
        doc.monitors.reserve_exact(monitors.len());
        for (index, m) in monitors.into_iter().enumerate() {
            let name = m.get("name").and_then(Value::as_str).map(str::to_owned);
            let monitor = serde_json::from_value(m)
                .map_err(|e| decode_failed(&format!("/monitors/{index}"), &e))
                .ok()
                .map(Box::new);
            doc.monitors.push(MonitorEntry {
                index,
                name,
                monitor,
                origin: None,
            });
        }
    }
    match top.remove("include") {
        Some(Value::String(one)) => doc.include.push(("/include".into(), one)),
        Some(Value::Array(many)) => {
            for (i, v) in many.into_iter().enumerate() {
                if let Value::String(s) = v {
                    doc.include.push((format!("/include/{i}"), s));
                }
            }
        }
        _ => {}
    }
    doc
}
