//! `hbmon init`: discover what this machine runs, render a starter configuration, check
//! that it validates, and write it (atomically, never over an existing file without
//! `--force`) or print it (`--dry-run`). A summary of what was found goes to stderr.

use std::io::Write as _;
use std::path::Path;

use crate::cli::{GlobalArgs, InitArgs};
use crate::error::Error;
use crate::init::{Discovery, ServiceKind, Sources, discover, render};
use crate::{exit, plan};

pub fn run(global: &GlobalArgs, args: &InitArgs) -> Result<u8, Error> {
    let path = global.config.as_path();
    if !args.dry_run && !args.force && std::fs::symlink_metadata(path).is_ok() {
        return Err(exists(path));
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let sources = Sources {
        docker_host: global.docker_host.clone(),
        unit_dirs: args.unit_dirs.clone(),
        http_ports: args.http_port.clone(),
    };
    let runtime = crate::runtime::build(crate::runtime::Threads::One)?;
    let found = runtime.block_on(discover::run(
        &sources,
        path.display().to_string(),
        absolute.display().to_string(),
    ));
    let text = render::render(&found);
    // What init writes always validates; if it does not, that is a bug to report, not a
    // file to leave behind.
    let loaded = crate::config::load::load_str(
        absolute.clone(),
        absolute.parent().unwrap_or(Path::new(".")).to_owned(),
        text.clone(),
        &|_| None,
    );
    let monitors = plan::build(loaded)
        .map_err(|e| {
            Error::Internal(format!(
                "the configuration init made does not validate:\n{e}"
            ))
        })?
        .monitors
        .len();
    if args.dry_run {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| Error::io("cannot write the configuration", e))?;
    } else {
        write(path, &text, args.force)?;
    }
    if !global.quiet {
        summary(&found, monitors, args.dry_run);
    }
    Ok(exit::OK)
}

fn exists(path: &Path) -> Error {
    Error::Usage(format!(
        "`{}` already exists: pass --force to replace it, --dry-run to see what init would write, or -c to write another file",
        path.display()
    ))
}

/// A temporary file beside `path`, renamed into place: mode 0644 (nothing secret is in
/// it; `watch` may run as another user), and without `--force` never over a file that
/// appeared meanwhile.
fn write(path: &Path, text: &str, force: bool) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt as _;
    let context = || format!("cannot write `{}`", path.display());
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new()
        .prefix(".hbmon-init")
        .tempfile_in(dir)
        .map_err(|e| Error::io(context(), e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| {
            file.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
        })
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| Error::io(context(), e))?;
    if force {
        file.persist(path)
            .map_err(|e| Error::io(context(), e.error))?;
    } else {
        file.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                exists(path)
            } else {
                Error::io(context(), e.error)
            }
        })?;
    }
    Ok(())
}

fn summary(d: &Discovery, monitors: usize, dry_run: bool) {
    let http = d
        .services
        .iter()
        .filter(|s| s.kind != ServiceKind::Tcp)
        .count();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "found {}, {} ({http} answering HTTP), {} and {} (heartbeats, paused until wrapped)",
        plural(d.disks.len(), "disk", "disks"),
        plural(
            d.services.len(),
            "listening TCP service",
            "listening TCP services"
        ),
        plural(
            d.containers.len(),
            "running container",
            "running containers"
        ),
        plural(d.timers.len(), "systemd timer", "systemd timers"),
    );
    for note in &d.notes {
        let _ = writeln!(err, "  note: {note}");
    }
    let config = &d.config_path;
    if dry_run {
        let _ = writeln!(
            err,
            "--dry-run: nothing written ({monitors} monitors); run the same command without --dry-run to write {config}"
        );
    } else {
        let _ = writeln!(
            err,
            "wrote {config} ({monitors} monitors); next: hbmon check -c {config}"
        );
    }
}
