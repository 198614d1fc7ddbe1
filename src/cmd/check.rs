//! `hbmon check`: run every selected monitor once, concurrently, print a report and
//! return the worst status as the exit code. With `--retries` and `--wait` failing
//! monitors are probed again with backoff; `--deadline` bounds the whole run.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::cli::{CheckArgs, FailOn, Format, GlobalArgs};
use crate::error::Error;
use crate::model::Monitor;
use crate::plan;
use crate::probe::{self};
use crate::report::{self, Run};
use crate::status::Status;

pub fn run(global: &GlobalArgs, args: &CheckArgs) -> Result<u8, Error> {
    let selection = Selection::new(args)?;
    let plan = plan::load_without_notifiers(&global.config)?;
    let store = plan.store.clone();
    // Regions report to `watch` only, and hbmon's own network and upstream are watch's
    // monitors: a one-off check has nothing to say about them.
    let (monitors, paused) = selection.apply(
        plan.monitors
            .into_iter()
            .filter(|m| {
                !matches!(
                    m.probe,
                    crate::model::Probe::Region(_)
                        | crate::model::Probe::Network(_)
                        | crate::model::Probe::Upstream
                )
            })
            .collect(),
    )?;
    let concurrency = crate::probe::limits::fd_budget(args.concurrency.get());
    let runtime = crate::runtime::build(crate::runtime::Threads::All)?;
    let ctx = probe::Context::new(global.docker_host.clone()).map_err(Error::Internal)?;
    let show_progress = args.format == Format::Human
        && !global.quiet
        && !args.ci
        && args.output.is_none()
        && std::io::stderr().is_terminal();
    let settings = crate::probe::once::Settings {
        concurrency,
        per_host: args.per_host.get(),
        timeout: args.timeout,
        retries: args.retries,
        wait: args.wait,
        deadline: args.deadline.map(|d| Instant::now() + d),
        fail_from: match args.fail_on {
            FailOn::Warning => Status::Degraded,
            FailOn::Critical => Status::Unknown,
        },
    };
    let fail_from = settings.fail_from;
    let mut run = runtime.block_on(async {
        let bar = progress_bar(monitors.len(), show_progress);
        let first_result = || {
            if let Some(bar) = &bar {
                bar.inc(1);
            }
        };
        let (results, elapsed) =
            crate::probe::once::run_all(monitors, &settings, ctx, &first_result).await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        Run {
            results,
            elapsed,
            fail_from,
            skipped: Vec::new(),
        }
    });
    heartbeats_from_store(&mut run, global, &store)?;
    // Paused monitors are said to be left out, so none seems to vanish from the report.
    run.skipped.extend(
        paused
            .into_iter()
            .map(|m| (m, "paused (name it in --only to check it)".to_owned())),
    );
    write_report(&run, args, global.quiet)?;
    // Everything selected skipped reads UNKNOWN (`Run::status`): exit 3.
    Ok(run.status().exit_code())
}

/// Heartbeats cannot be probed: their status comes from the pings `watch` stored (the
/// store of `--db` or the config), evaluated now. Without a store they are skipped (a
/// shared config checked in CI), not unknown.
fn heartbeats_from_store(
    run: &mut Run,
    global: &GlobalArgs,
    settings: &crate::model::StoreSettings,
) -> Result<(), Error> {
    if !run
        .results
        .iter()
        .any(|(m, _)| matches!(m.probe, crate::model::Probe::Heartbeat(_)))
    {
        return Ok(());
    }
    let path = crate::cli::db_path(global.db.as_deref(), Some(settings));
    if !path.exists() {
        let why = format!(
            "a heartbeat: no store at {} to read its pings from (use --db)",
            path.display()
        );
        let (skipped, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut run.results)
            .into_iter()
            .partition(|(m, _)| matches!(m.probe, crate::model::Probe::Heartbeat(_)));
        run.results = kept;
        run.skipped = skipped.into_iter().map(|(m, _)| (m, why.clone())).collect();
        return Ok(());
    }
    let store = Some(crate::store::Store::open_read(&path)?);
    let pings = match &store {
        Some(s) => s.heartbeats()?,
        None => HashMap::new(),
    };
    let first_seen: HashMap<String, SystemTime> = match &store {
        Some(s) => s
            .states()?
            .into_iter()
            .map(|r| (r.monitor, r.first_seen))
            .collect(),
        None => HashMap::new(),
    };
    let now = SystemTime::now();
    for (m, obs) in &mut run.results {
        let crate::model::Probe::Heartbeat(hb) = &m.probe else {
            continue;
        };
        let (status, reason) = match (store.as_ref(), first_seen.get(&m.name)) {
            (None, _) => (
                Status::Unknown,
                format!(
                    "no store at {} to read pings from (use --db)",
                    path.display()
                ),
            ),
            (Some(_), None) => (
                Status::Unknown,
                "heartbeat never seen by `hbmon watch`".to_owned(),
            ),
            (Some(_), Some(since)) => crate::heartbeat::evaluate(
                hb,
                pings
                    .get(&m.name)
                    .unwrap_or(&crate::heartbeat::Pings::default()),
                *since,
                now,
            ),
        };
        obs.status = status;
        obs.reason = reason;
    }
    Ok(())
}

fn write_report(run: &Run, args: &CheckArgs, quiet: bool) -> Result<(), Error> {
    let render = |out: &mut dyn Write| -> std::io::Result<()> {
        match args.format {
            Format::Human => report::human(run, out, quiet),
            Format::Json => report::json(run, out),
            Format::Junit => report::junit(run, out),
            Format::Tap => report::tap(run, out),
            Format::Nagios => report::nagios(run, out),
            Format::Prometheus => report::prometheus(run, out),
        }?;
        out.flush()
    };
    if let Some(path) = &args.output {
        return write_atomically(path, &render);
    }
    // Buffered: a JSON or JUnit report of 10,000 monitors is 100,000 lines, and the
    // terminal's line buffering would make each one a write of its own.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, anstream::stdout().lock());
    render(&mut out)
        .or_else(|e| {
            // A reader that stops early (`| head`) is not an error of the run.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(|e| Error::io("cannot write the report", e))
}

/// Write to a temporary file beside `path`, then rename it over `path`: a reader (the
/// node_exporter textfile collector, a CI artifact upload) never sees half a report.
/// A symlink is followed (the link stays, its target gets the report); the file keeps
/// its mode, and a new one gets the umask's (node_exporter runs as another user); a path
/// that is not a regular file (a pipe, `/dev/stdout`) is written in place.
fn write_atomically(
    path: &Path,
    render: &dyn Fn(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt as _;
    let context = || format!("cannot write the report to `{}`", path.display());
    let existing = std::fs::metadata(path).ok();
    if existing.as_ref().is_some_and(|m| !m.is_file()) {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::io(context(), e))?;
        let mut out = std::io::BufWriter::new(file);
        return render(&mut out)
            .and_then(|()| out.flush())
            .map_err(|e| Error::io(context(), e));
    }
    let target = if existing.is_some() {
        std::fs::canonicalize(path).map_err(|e| Error::io(context(), e))?
    } else {
        path.to_owned()
    };
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mode = existing.map_or_else(|| 0o666 & !umask(), |m| m.permissions().mode() & 0o7777);
    let mut file = tempfile::Builder::new()
        .prefix(".hbmon-report")
        .tempfile_in(dir)
        .map_err(|e| Error::io(context(), e))?;
    {
        let mut out = std::io::BufWriter::new(file.as_file_mut());
        render(&mut out)
            .and_then(|()| out.flush())
            .map_err(|e| Error::io(context(), e))?;
    }
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| Error::io(context(), e))?;
    file.persist(&target)
        .map_err(|e| Error::io(context(), e.error))?;
    Ok(())
}

/// The process's umask, read without changing it (`umask(2)` sets it, and other threads
/// create files meanwhile); 022 where `/proc` does not say.
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// A progress bar on stderr that appears only if the run takes longer than a second.
fn progress_bar(total: usize, enabled: bool) -> Option<indicatif::ProgressBar> {
    if !enabled {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total as u64),
        indicatif::ProgressDrawTarget::hidden(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {pos}/{len} monitors probed {wide_bar} {elapsed}",
    ) {
        bar.set_style(style);
    }
    let shown = bar.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if !shown.is_finished() {
            shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            shown.enable_steady_tick(Duration::from_millis(120));
        }
    });
    Some(bar)
}

/// `--only`, `--tag`, `--exclude` and `--skip-tag`, checked before the config is even
/// read.
struct Selection {
    only: Vec<(String, glob::Pattern)>,
    tags: Vec<String>,
    exclude: Vec<(String, glob::Pattern)>,
    skip_tags: Vec<String>,
}

fn patterns(flag: &str, texts: &[String]) -> Result<Vec<(String, glob::Pattern)>, Error> {
    texts
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            glob::Pattern::new(s)
                .map(|p| (s.clone(), p))
                .map_err(|e| Error::Usage(format!("invalid {flag} pattern `{s}`: {e}")))
        })
        .collect()
}

impl Selection {
    fn new(args: &CheckArgs) -> Result<Self, Error> {
        let non_empty = |v: &[String]| v.iter().filter(|t| !t.is_empty()).cloned().collect();
        Ok(Selection {
            only: patterns("--only", &args.only)?,
            tags: non_empty(&args.tag),
            exclude: patterns("--exclude", &args.exclude)?,
            skip_tags: non_empty(&args.skip_tag),
        })
    }

    /// Monitors matching any `--only` pattern (if given) and any `--tag` (if given).
    /// Paused monitors run only when `--only` names them exactly.
    /// A pattern or tag that selects nothing is a usage error: it is almost always a typo,
    /// and a CI gate that silently checks nothing is worse than one that fails.
    /// The monitors to check, and the paused ones the flags would select otherwise.
    #[allow(clippy::type_complexity)]
    fn apply(
        &self,
        monitors: Vec<Arc<Monitor>>,
    ) -> Result<(Vec<Arc<Monitor>>, Vec<Arc<Monitor>>), Error> {
        for (text, pattern) in &self.only {
            if !monitors.iter().any(|m| pattern.matches(&m.name)) {
                let names: Vec<&str> = monitors.iter().map(|m| m.name.as_str()).collect();
                return Err(Error::Usage(format!(
                    "--only `{text}` matches no monitor (monitors: {})",
                    names.join(", ")
                )));
            }
        }
        for tag in &self.tags {
            if !monitors.iter().any(|m| m.tags.contains(tag)) {
                return Err(Error::Usage(format!("--tag `{tag}` matches no monitor")));
            }
        }
        for (text, pattern) in &self.exclude {
            if !monitors.iter().any(|m| pattern.matches(&m.name)) {
                return Err(Error::Usage(format!(
                    "--exclude `{text}` matches no monitor"
                )));
            }
        }
        for tag in &self.skip_tags {
            if !monitors.iter().any(|m| m.tags.contains(tag)) {
                return Err(Error::Usage(format!(
                    "--skip-tag `{tag}` matches no monitor"
                )));
            }
        }
        let (selected, paused): (Vec<Arc<Monitor>>, Vec<Arc<Monitor>>) = monitors
            .into_iter()
            .filter(|m| self.only.is_empty() || self.only.iter().any(|(_, p)| p.matches(&m.name)))
            .filter(|m| self.tags.is_empty() || self.tags.iter().any(|t| m.tags.contains(t)))
            .filter(|m| !self.exclude.iter().any(|(_, p)| p.matches(&m.name)))
            .filter(|m| !self.skip_tags.iter().any(|t| m.tags.contains(t)))
            .partition(|m| !m.paused || self.only.iter().any(|(text, _)| *text == m.name));
        // Nothing to check (`monitors: []`, or everything left out): a gate that checks
        // nothing must not pass. Only paused ones selected: they are listed as skipped,
        // and the run reads UNKNOWN.
        if selected.is_empty() && paused.is_empty() {
            return Err(Error::Usage(
                "no monitor to check: the config has none, or the flags leave none".into(),
            ));
        }
        Ok((selected, paused))
    }
}
