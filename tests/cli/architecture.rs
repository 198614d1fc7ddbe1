//! The architecture's invariants, checked by reading the sources (ARCHITECTURE.md states
//! them in words). Test code (`#[cfg(test)]` modules, `tests.rs`, `properties.rs`,
//! `testpg.rs`) is left out: a test may open a socket or read the clock.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a source file may be, test code aside.
const MAX_LINES: usize = 800;

/// Every source file under `src/`, as (path relative to `src/`, code without its tests).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !matches!(name.as_ref(), "tests.rs" | "properties.rs" | "testpg.rs")
        })
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let code = match text.find("\n#[cfg(test)]") {
                Some(i) => text[..i].to_owned(),
                None => text,
            };
            let rel = p.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
            (rel, code)
        })
        .collect()
}

/// The code lines of `code`: comments and doc comments left out, so a comment may name
/// what the code must not use.
fn code_lines(code: &str) -> impl Iterator<Item = (usize, &str)> {
    code.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
}

/// Where in `files` (paths relative to `src/`) a line uses one of `words`.
fn uses(files: &[(String, String)], allowed: impl Fn(&str) -> bool, words: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, code) in files {
        if allowed(path) {
            continue;
        }
        for (n, line) in code_lines(code) {
            for word in words {
                if line.contains(word) {
                    found.push(format!("src/{path}:{n}: `{word}`: {}", line.trim()));
                }
            }
        }
    }
    found
}

/// The top-level module a file belongs to (`store` for `store/sqlite.rs`).
fn module(path: &str) -> String {
    path.split('/')
        .next()
        .unwrap()
        .trim_end_matches(".rs")
        .to_owned()
}

#[test]
fn no_source_file_is_longer_than_800_lines_of_code() {
    let long: Vec<String> = sources()
        .into_iter()
        .filter(|(_, code)| code.lines().count() > MAX_LINES)
        .map(|(path, code)| format!("src/{path}: {} lines", code.lines().count()))
        .collect();
    assert!(long.is_empty(), "split these files:\n{}", long.join("\n"));
}

#[test]
fn modules_import_each_other_without_cycles() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, code) in sources() {
        let from = module(&path);
        if from == "lib" || from == "main" {
            continue;
        }
        let deps = graph.entry(from.clone()).or_default();
        for (_, line) in code_lines(&code) {
            for part in line.split("crate::").skip(1) {
                let to: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !to.is_empty() && to != from {
                    deps.insert(to);
                }
            }
        }
    }
    // A module is in a cycle when it can reach itself.
    let reach = |start: &str| {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = graph.get(start).into_iter().flatten().cloned().collect();
        while let Some(m) = todo.pop() {
            if seen.insert(m.clone()) {
                todo.extend(graph.get(&m).into_iter().flatten().cloned());
            }
        }
        seen
    };
    let cyclic: Vec<String> = graph
        .keys()
        .filter(|m| reach(m).contains(*m))
        .map(|m| {
            let back: Vec<&String> = graph[m].iter().filter(|d| reach(d).contains(m)).collect();
            format!("{m} -> {back:?} -> ... -> {m}")
        })
        .collect();
    let map: Vec<String> = graph
        .iter()
        .map(|(m, deps)| format!("  {m} -> {deps:?}"))
        .collect();
    assert!(
        cyclic.is_empty(),
        "import cycles:\n{}\n\nthe module graph:\n{}",
        cyclic.join("\n"),
        map.join("\n")
    );
}

#[test]
fn commands_do_not_import_each_other() {
    let found = uses(&sources(), |p| !p.starts_with("cmd/"), &["crate::cmd::"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn sql_lives_in_the_store() {
    let found = uses(
        &sources(),
        |p| p.starts_with("store/"),
        &[
            "rusqlite",
            "postgres::",
            "SELECT ",
            "INSERT INTO",
            "UPDATE ",
            "DELETE FROM",
            "CREATE TABLE",
        ],
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_pure_modules_read_no_clock_and_do_no_io() {
    let pure = [
        "state.rs",
        "schedule.rs",
        "engine.rs",
        "quorum.rs",
        "heartbeat.rs",
        "units.rs",
        "observation.rs",
    ];
    let found = uses(
        &sources(),
        |p| !pure.contains(&p) && !p.starts_with("state/") && !p.starts_with("engine/"),
        &[
            "SystemTime::now",
            "Instant::now",
            "tokio",
            "tracing",
            "std::fs",
            "File::",
            "std::net",
            "std::process",
            "std::env",
        ],
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
    // The daemon's core decides at the `now` it is given.
    let found = uses(
        &sources(),
        |p| p != "daemon/core.rs",
        &[
            "SystemTime::now",
            "Instant::now",
            "elapsed()",
            "std::fs",
            "std::net",
        ],
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn network_io_lives_at_the_edges() {
    let edge = |p: &str| {
        p.starts_with("probe/")
            || p.starts_with("notify/")
            || p.starts_with("store/")
            || p.starts_with("net/")
            || p.starts_with("listen/")
    };
    let found = uses(
        &sources(),
        edge,
        &[
            "reqwest::Client",
            "TcpStream",
            "TcpListener",
            "UdpSocket",
            "axum::",
            "hyper::",
            "SmtpTransport",
            "bollard::Docker",
            "surge_ping::",
            "hickory_resolver",
        ],
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_environment_is_read_only_in_cli() {
    let found = uses(
        &sources(),
        |p| p == "cli.rs",
        &["env::var", "env::vars", "var_os("],
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}
