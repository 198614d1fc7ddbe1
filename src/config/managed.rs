//! Monitors managed over HTTP (`/api/monitors/<name>`): one file per monitor,
//! `<name>.yaml`, in the first directory `include:` names, marked as the API's by its
//! first line ([`MARK`]). The YAML stays the source of truth: such a file is an included
//! file like any other (a git-managed directory keeps working, `validate` reads it), the
//! API only ever writes or removes files that carry the mark, and a monitor defined
//! anywhere else (the main file, a hand-written included file) is not the API's to change.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The first line of a file the API wrote.
pub const MARK: &str = "# Managed by hbmon's monitors API";

/// Why a request is refused: an HTTP status and a message (never a value from the
/// configuration), with the configuration's problems when it would not be valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub message: String,
    pub problems: Vec<crate::error::Problem>,
}

impl Refused {
    #[must_use]
    pub fn new(status: u16, message: impl Into<String>) -> Refused {
        Refused {
            status,
            message: message.into(),
            problems: Vec::new(),
        }
    }
}

/// The file the API keeps monitor `name` in: `<dir>/<name>.yaml`. A name that is not a
/// monitor name (letters, digits, `.`, `_` and `-`, starting with a letter or a digit, at
/// most 128 characters: what `monitors[].name` accepts) is refused with 400 before its
/// body is read; such a name is a plain file name, never a path.
pub fn file_for(dir: &Path, name: &str) -> Result<PathBuf, Refused> {
    let valid = name.len() <= 128
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_".contains(&b));
    if !valid {
        return Err(Refused::new(
            400,
            "not a monitor name: letters, digits, `.`, `_` and `-`, starting with a letter or a digit, at most 128 characters",
        ));
    }
    Ok(dir.join(format!("{name}.yaml")))
}

/// Whether the file at `path` is the API's (its first line is [`MARK`]); `false` when
/// it does not exist.
pub fn is_managed(path: &Path) -> std::io::Result<bool> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let mut first = String::new();
    std::io::BufReader::new(std::io::Read::take(file, 4096)).read_line(&mut first)?;
    Ok(first.trim_end() == MARK)
}

/// The text of the file that defines monitor `name` as `body` (one monitor, YAML or
/// JSON; its `name`, if given, must be `name`).
pub fn definition(name: &str, body: &str) -> Result<String, Refused> {
    let parsed: Value = serde_yaml::from_str(body).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
            .unwrap_or_default();
        Refused::new(
            400,
            format!("the body must be one monitor in YAML or JSON: it does not parse{at}"),
        )
    })?;
    // `${VAR}` would be expanded from hbmon's environment: a client could read its
    // secrets back through a reason, an alert or a probe's URL.
    if contains_interpolation(&parsed) {
        return Err(Refused::new(
            400,
            "`${...}` is not accepted over the API: it would read hbmon's environment; write the value, or put the monitor in a file by hand",
        ));
    }
    let Value::Object(fields) = parsed else {
        return Err(Refused::new(
            400,
            "the body must be one monitor: a mapping such as {\"http\": {\"url\": \"https://example.com/health\"}}",
        ));
    };
    // A command probe or a diagnosis runs programs as hbmon's user: the API token must
    // not amount to shell access.
    if let Some(key) = ["command", "diagnose"]
        .into_iter()
        .find(|k| fields.contains_key(*k))
    {
        return Err(Refused::new(
            400,
            format!(
                "`{key}` is not accepted over the API: it runs programs as hbmon's user; put this monitor in a file by hand"
            ),
        ));
    }
    match fields.get("name") {
        None => {}
        Some(Value::String(n)) if n == name => {}
        Some(_) => {
            return Err(Refused::new(
                400,
                "the body's `name` differs from the name in the URL (leave it out, or make them the same)",
            ));
        }
    }
    let mut monitor = serde_json::Map::with_capacity(fields.len() + 1);
    monitor.insert("name".into(), Value::String(name.to_owned()));
    for (k, v) in fields {
        if k != "name" {
            monitor.insert(k, v);
        }
    }
    let yaml = serde_yaml::to_string(&vec![Value::Object(monitor)])
        .map_err(|e| Refused::new(400, format!("the monitor cannot be written as YAML: {e}")))?;
    let mut text = format!(
        "{MARK}\n# Written by PUT /api/monitors/{name}; replaced by the next PUT, removed by DELETE.\nversion: 1\nmonitors:\n"
    );
    for line in yaml.lines() {
        text.push_str("  ");
        text.push_str(line);
        text.push('\n');
    }
    Ok(text)
}

/// Whether any string in `v` holds a `${` (a variable the loader would expand).
fn contains_interpolation(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("${"),
        Value::Array(a) => a.iter().any(contains_interpolation),
        Value::Object(o) => o
            .iter()
            .any(|(k, v)| k.contains("${") || contains_interpolation(v)),
        _ => false,
    }
}

/// The monitor a file the API wrote defines, as JSON.
#[must_use]
pub fn read_definition(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    let doc: Value = serde_yaml::from_str(&text).ok()?;
    doc.get("monitors")?.get(0).cloned()
}

/// Write `text` to `path` atomically: a temporary file beside it (its name starts with
/// `.`, so a reload meanwhile does not read it), flushed to disk, renamed over `path`,
/// and the directory flushed.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    std::fs::File::open(dir)?.sync_all()
}

/// Remove what a write cut short left in `dir` (hbmon killed between creating its
/// temporary file and renaming it): `.<file>.<pid>.tmp` files of processes that are gone.
/// The others' are theirs; without `/proc` to ask, those older than an hour go.
pub fn sweep(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    let proc = Path::new("/proc/self").exists();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.starts_with('.'))
            .and_then(|n| n.strip_suffix(".tmp"))
            .and_then(|n| n.rsplit_once('.'))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let stale = if proc {
            pid != me && !Path::new("/proc").join(pid.to_string()).exists()
        } else {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(3600))
        };
        if stale {
            let path = entry.path();
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    tracing::info!(file = %path.display(), "monitors API: removed a temporary file a cut-short write left");
                }
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "monitors API: cannot remove a temporary file a cut-short write left");
                }
            }
        }
    }
}

/// Remove `path` and flush its directory.
pub fn remove(path: &Path) -> std::io::Result<()> {
    std::fs::remove_file(path)?;
    std::fs::File::open(path.parent().unwrap_or(Path::new(".")))?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_definition_puts_the_name_first_and_refuses_what_is_not_one_monitor() {
        let text = definition(
            "api",
            "{\"http\": {\"url\": \"https://x/\"}, \"name\": \"api\"}",
        )
        .unwrap();
        assert!(text.starts_with(MARK), "{text}");
        assert!(
            text.contains("monitors:\n  - name: api\n    http:\n"),
            "{text}"
        );
        let from_yaml = definition("api", "http:\n  url: https://x/\ninterval: 30s\n").unwrap();
        assert!(from_yaml.contains("    interval: 30s\n"), "{from_yaml}");
        for (body, status, says) in [
            ("[1, 2]", 400, "one monitor: a mapping"),
            (
                "name: other\nhttp: {url: https://x/}",
                400,
                "differs from the name",
            ),
            ("http: {url: https://x/", 400, "does not parse (line"),
            ("42", 400, "a mapping"),
            (
                "tcp: {host: \"${SECRET}\", port: 1}",
                400,
                "not accepted over the API",
            ),
            (
                "http: {url: \"http://h/?s=${S}\"}",
                400,
                "hbmon's environment",
            ),
            (
                "command: {run: [sh, -c, id]}",
                400,
                "`command` is not accepted",
            ),
            (
                "tcp: {host: h, port: 1}\ndiagnose: {command: [id]}",
                400,
                "`diagnose` is not accepted",
            ),
        ] {
            let e = definition("api", body).unwrap_err();
            assert_eq!(e.status, status, "{body}");
            assert!(e.message.contains(says), "{body}: {}", e.message);
        }
    }

    #[test]
    fn only_monitor_names_are_managed() {
        let dir = Path::new("/etc/hbmon/monitors.d");
        assert_eq!(
            file_for(dir, "web-1.example.com").unwrap(),
            dir.join("web-1.example.com.yaml")
        );
        assert!(file_for(dir, &"x".repeat(128)).is_ok());
        for bad in [
            "",
            "../x",
            "a/b",
            ".hidden",
            "a\nb",
            "a b",
            "Über",
            "-x",
            &"x".repeat(129),
        ] {
            assert_eq!(file_for(dir, bad).unwrap_err().status, 400, "{bad:?}");
        }
    }

    #[test]
    fn a_file_is_the_apis_only_with_the_mark_and_writes_are_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api.yaml");
        assert!(!is_managed(&path).unwrap());
        write_atomically(&path, "monitors: []\n").unwrap();
        assert!(!is_managed(&path).unwrap());
        write_atomically(
            &path,
            &definition("api", "tcp: {host: h, port: 1}").unwrap(),
        )
        .unwrap();
        assert!(is_managed(&path).unwrap());
        assert_eq!(read_definition(&path).unwrap()["tcp"]["port"], 1);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left");
        // One left by a process killed mid-write goes; this process's own, and files
        // that only look alike, stay.
        let gone = u32::try_from(i32::MAX).unwrap();
        let stale = dir.path().join(format!(".api.yaml.{gone}.tmp"));
        let mine = dir
            .path()
            .join(format!(".web.yaml.{}.tmp", std::process::id()));
        let other = dir.path().join(".notes.tmp");
        for f in [&stale, &mine, &other] {
            std::fs::write(f, "x").unwrap();
        }
        sweep(dir.path());
        assert!(!stale.exists());
        assert!(mine.exists() && other.exists());
        remove(&path).unwrap();
        assert!(!path.exists());
    }
}
