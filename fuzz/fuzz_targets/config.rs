//! Configuration text -> `load_str` -> `plan::build`, and the error report rendered
//! (spans, carets, hints): nothing on the way may panic, for any UTF-8 text.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// A fixed base directory for relative paths (`file.path`, `*_file`), with one real file
/// in it so that `*_file` settings that name it are read.
fn base_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("hbmon-fuzz-config")
            .tempdir()
            .expect("temp dir")
            .keep();
        std::fs::write(dir.join("token"), "s3cret\n").expect("token file");
        std::fs::write(dir.join("ca.pem"), "not a certificate\n").expect("ca file");
        dir
    })
}

/// Some `${VAR}` names are set (one empty, one with YAML-significant text), others not.
fn env(name: &str) -> Option<String> {
    match name {
        "PORT" => Some("5432".into()),
        "HOST" => Some("db.example.com".into()),
        "TOKEN" => Some("s3cret".into()),
        "EMPTY" => Some(String::new()),
        "YAML" => Some("{ a: [1, 2], b: \"x\" }\n- y: ${PORT}".into()),
        "UNICODE" => Some("é\u{0}\u{202e}🦀".into()),
        "INTERVAL" => Some("10s".into()),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dir = base_dir();
    let loaded = hbmon::config::load::load_str(
        dir.join("hbmon.yaml"),
        dir.clone(),
        text.to_owned(),
        &env,
    );
    match hbmon::plan::build(loaded) {
        Ok(plan) => {
            let _ = format!("{plan:?}");
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = format!("{e:?}");
            if let hbmon::error::Error::Config(report) = &e {
                let _ = format!("{report}");
            }
        }
    }
});
