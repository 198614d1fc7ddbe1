//! `include:`: monitors from more YAML files. Each included file is read and checked like
//! the main file (its problems point into it, by line and column) and holds `monitors:`
//! only; its monitors follow the main file's, in the order the files are found (sorted by
//! name within a directory), so that every check of the plan sees them all.
//!
//! A monitor of an included file is `/monitors/<first + i>` to the plan; [`IncludedFile`]
//! says which file holds which range, and the report shows each problem in its own file.
//!
//! A directory that does not exist is an error (a typo would silently drop monitors);
//! an empty one is fine. Files whose names start with `.` (editors' and the API's
//! temporary files) and files not ending in `.yaml` or `.yml` are left out.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::diag::{At, Diagnostic};
use super::load::{Loaded, load_part, read_bounded};
use super::spans::escape;

/// A file `include:` named.
#[derive(Debug, Clone)]
pub struct IncludedFile {
    pub path: PathBuf,
    pub source: String,
    /// Its monitors are the main document's `first..first + count`.
    pub first: usize,
    pub count: usize,
}

/// An included file's top level: `monitors` (and `version`, `x-` anchors); anything else
/// is reported and taken out, and what the main file's schema requires is put in.
pub(super) fn shape_part(value: &mut Value, diags: &mut Vec<Diagnostic>) {
    let Value::Object(top) = value else { return };
    let extra: Vec<String> = top
        .keys()
        .filter(|k| !matches!(k.as_str(), "monitors" | "version") && !k.starts_with("x-"))
        .cloned()
        .collect();
    for k in extra {
        diags.push(
            Diagnostic::new(
                At::key(format!("/{}", escape(&k))),
                format!("`{k}` cannot be in an included file"),
            )
            .hint("an included file holds `monitors:` only; the rest belongs in the main file"),
        );
        top.remove(&k);
    }
    top.entry("version").or_insert(json!(1));
    top.entry("monitors").or_insert(json!([]));
}

/// A change to one included file, checked before it is made (the monitors API): the
/// file reads as `source`, or is gone (`None`).
#[derive(Debug, Clone)]
pub struct Overlay {
    pub path: PathBuf,
    pub source: Option<String>,
}

/// The directory an `include:` entry names, when it is one (not a pattern), resolved
/// against `base_dir` as the files are.
#[must_use]
pub fn directory(base_dir: &Path, place: &str) -> Option<PathBuf> {
    if place.contains(['*', '?']) {
        return None;
    }
    let path = Path::new(place);
    let dir = if path.is_absolute() || base_dir == Path::new(".") {
        path.to_path_buf()
    } else {
        base_dir.join(path)
    };
    dir.is_dir().then_some(dir)
}

/// Read every file the main file's `include:` names and add their monitors; `overlay`
/// stands in for one file.
pub(super) fn read_all(
    loaded: &mut Loaded,
    env: &dyn Fn(&str) -> Option<String>,
    overlay: Option<&Overlay>,
) {
    let entries = loaded.doc.include.clone();
    let mut seen = HashSet::new();
    for (pointer, place) in entries {
        let files = files(&loaded.base_dir, &place).map(|mut found| {
            if let Some(o) = overlay {
                found.retain(|f| *f != o.path);
                if o.source.is_some()
                    && o.path.parent() == directory(&loaded.base_dir, &place).as_deref()
                {
                    found.push(o.path.clone());
                    found.sort();
                }
            }
            found
        });
        let files = match files {
            Ok(files) => files,
            Err(message) => {
                loaded.diagnostics.push(
                    Diagnostic::new(At::value(pointer), message)
                        .hint("a relative path is relative to the main configuration file"),
                );
                continue;
            }
        };
        for path in files {
            if !seen.insert(path.clone()) {
                continue;
            }
            let stood_in = overlay
                .filter(|o| o.path == path)
                .and_then(|o| o.source.clone());
            let source = match stood_in.map_or_else(|| read_bounded(&path), Ok) {
                Ok(s) => s,
                Err(e) => {
                    loaded.diagnostics.push(Diagnostic::new(
                        At::value(pointer.clone()),
                        format!("cannot read the included file {}: {e}", path.display()),
                    ));
                    continue;
                }
            };
            add(loaded, path, source, env);
        }
    }
}

fn add(loaded: &mut Loaded, path: PathBuf, source: String, env: &dyn Fn(&str) -> Option<String>) {
    let file = loaded.includes.len();
    let first = loaded.doc.monitors.len();
    let blank = source
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    let source = if blank {
        source
    } else {
        let base_dir = loaded.base_dir.clone();
        let part = load_part(path.clone(), base_dir, source, env, loaded.needs, true);
        for d in part.diagnostics {
            loaded.diagnostics.push(globalize(d, first, file));
        }
        for mut m in part.doc.monitors {
            let local = m.index;
            m.index = first + local;
            m.origin = Some((path.clone(), local));
            loaded.doc.monitors.push(m);
        }
        part.source
    };
    loaded.includes.push(IncludedFile {
        path,
        source,
        first,
        count: loaded.doc.monitors.len() - first,
    });
}

/// A problem of included file `file`, whose monitors start at `first`: a monitor's
/// pointer becomes the main document's, anything else stays the file's own.
fn globalize(mut d: Diagnostic, first: usize, file: usize) -> Diagnostic {
    let shift = |p: &mut String| {
        let Some(rest) = p.strip_prefix("/monitors/") else {
            return false;
        };
        let (i, tail) = rest.split_once('/').map_or((rest, ""), |(i, t)| (i, t));
        let Ok(i) = i.parse::<usize>() else {
            return false;
        };
        let sep = if tail.is_empty() { "" } else { "/" };
        *p = format!("/monitors/{}{sep}{tail}", first + i);
        true
    };
    let shifted = match &mut d.at {
        At::Node { pointer, .. } | At::Inside { pointer, .. } => shift(pointer),
        At::Offset(_) => false,
    };
    if !shifted {
        d.file = Some(file);
    }
    d
}

/// The files `place` names, sorted by name.
fn files(base_dir: &Path, place: &str) -> Result<Vec<PathBuf>, String> {
    let path = Path::new(place);
    let last = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let (dir, pattern) = match last {
        Some(last) if last.contains(['*', '?']) => {
            (path.parent().unwrap_or(Path::new("")), Some(last))
        }
        _ => (path, None),
    };
    if dir.to_string_lossy().contains(['*', '?']) {
        return Err("a pattern (`*`, `?`) may only be in the last part of the path".into());
    }
    let dir = if dir.is_absolute() || base_dir == Path::new(".") {
        dir.to_path_buf()
    } else {
        base_dir.join(dir)
    };
    let read_dir = if dir.as_os_str().is_empty() {
        std::fs::read_dir(".")
    } else {
        std::fs::read_dir(&dir)
    };
    let entries = match read_dir {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("this directory does not exist".into());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return Err("not a directory".into());
        }
        Err(e) => return Err(format!("cannot read this directory: {e}")),
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            !n.starts_with('.')
                && Path::new(n).extension().is_some_and(|e| {
                    e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml")
                })
                && pattern.as_deref().is_none_or(|p| matches(p, n))
        })
        .map(|n| dir.join(n))
        .collect();
    out.sort();
    Ok(out)
}

/// `name` matches `pattern`, where `*` is any text and `?` any one character.
fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Positions in `p` reachable after each prefix of `n`.
    let mut at = vec![false; p.len() + 1];
    at[0] = true;
    let close = |at: &mut Vec<bool>| {
        for i in 0..p.len() {
            if at[i] && p[i] == '*' {
                at[i + 1] = true;
            }
        }
    };
    close(&mut at);
    for &c in &n {
        let mut next = vec![false; p.len() + 1];
        for i in 0..p.len() {
            if at[i] && (p[i] == '*') {
                next[i] = true;
            }
            if at[i] && (p[i] == '?' || p[i] == c) && p[i] != '*' {
                next[i + 1] = true;
            }
        }
        close(&mut next);
        at = next;
    }
    at[p.len()]
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_match_names() {
        assert!(matches("*.yaml", "a.yaml"));
        assert!(matches("web-*.yaml", "web-1.yaml"));
        assert!(!matches("web-*.yaml", "db-1.yaml"));
        assert!(matches("a?.yml", "ab.yml"));
        assert!(!matches("a?.yml", "a.yml"));
        assert!(matches("*", "x"));
    }
}
