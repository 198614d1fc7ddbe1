//! Build facts for `hbmon --version`: the git commit when built from a checkout.
//! A tarball or a vendored build has no `.git` and gets the version alone; a packager may
//! set `HBMON_COMMIT` to name the commit without git.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo::rerun-if-env-changed=HBMON_COMMIT");
    let commit = std::env::var("HBMON_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            // Only this crate's own checkout counts, not a repository it happens to sit in
            // (a crate unpacked under someone's home directory under git).
            let manifest = std::env::var("CARGO_MANIFEST_DIR").ok()?;
            let top = git(&["-C", &manifest, "rev-parse", "--show-toplevel"])?;
            if Path::new(&top) != Path::new(&manifest) {
                return None;
            }
            // A new commit or a checkout changes HEAD or the branch it points at.
            for name in ["HEAD", "packed-refs"] {
                if let Some(p) = git(&["-C", &manifest, "rev-parse", "--git-path", name]) {
                    println!(
                        "cargo::rerun-if-changed={}",
                        Path::new(&manifest).join(p).display()
                    );
                }
            }
            if let Some(branch) = git(&["-C", &manifest, "symbolic-ref", "-q", "HEAD"])
                && let Some(p) = git(&["-C", &manifest, "rev-parse", "--git-path", &branch])
            {
                println!(
                    "cargo::rerun-if-changed={}",
                    Path::new(&manifest).join(p).display()
                );
            }
            git(&["-C", &manifest, "rev-parse", "--short=12", "HEAD"])
        });
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let long = match &commit {
        Some(commit) => format!("{version} (commit {commit})"),
        None => version,
    };
    println!("cargo::rustc-env=HBMON_LONG_VERSION={long}");
}
