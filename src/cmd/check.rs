//! `hbmon check`: run every selected monitor once, concurrently, print a report and
//! return the worst status as the exit code.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use crate::cli::{CheckArgs, Format, GlobalArgs};
use crate::error::Error;
use crate::plan::{self, Monitor};
use crate::probe;
use crate::report::{self, Run};

pub fn run(global: &GlobalArgs, args: &CheckArgs) -> Result<u8, Error> {
    let selection = Selection::new(&args.only, &args.tag)?;
    let plan = plan::load(&global.config)?;
    let monitors = selection.apply(plan.monitors)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    let ctx = probe::Context::new(global.docker_host.clone()).map_err(Error::Internal)?;
    let run = runtime.block_on(run_all(monitors, args, ctx));
    let mut out = anstream::stdout().lock();
    match args.format {
        Format::Human => report::human(&run, &mut out, global.quiet),
        Format::Json => report::json(&run, &mut out),
    }
    .and_then(|()| out.flush())
    .or_else(|e| {
        // A reader that stops early (`| head`) is not an error of the run.
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Ok(())
        } else {
            Err(e)
        }
    })
    .map_err(|e| Error::io("cannot write the report", e))?;
    Ok(run.status().exit_code())
}

async fn run_all(monitors: Vec<Arc<Monitor>>, args: &CheckArgs, ctx: probe::Context) -> Run {
    let start = Instant::now();
    let limit = Arc::new(tokio::sync::Semaphore::new(args.concurrency.get()));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, m) in monitors.iter().enumerate() {
        let (m, ctx, limit) = (Arc::clone(m), ctx.clone(), Arc::clone(&limit));
        let timeout = args.timeout.unwrap_or(m.timeout);
        tasks.spawn(async move {
            // The semaphore is never closed, so acquiring only waits.
            let _permit = limit.acquire_owned().await;
            let obs = probe::run(&m, timeout, &ctx).await;
            tracing::debug!(monitor = %m.name, status = obs.status.name(), reason = %obs.reason, "probe finished");
            (i, obs)
        });
    }
    let mut slots: Vec<Option<probe::Observation>> = vec![None; monitors.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, obs)) => slots[i] = Some(obs),
            // A panicking probe is a bug; the monitor is reported as unknown below.
            Err(e) => tracing::error!("a probe task failed: {e}"),
        }
    }
    let results = monitors
        .into_iter()
        .zip(slots)
        .map(|(m, obs)| {
            let obs = obs.unwrap_or_else(|| probe::Observation {
                status: crate::status::Status::Unknown,
                latency: std::time::Duration::ZERO,
                reason: "internal error: the probe did not finish".into(),
                checked_at: std::time::SystemTime::now(),
                cert_not_after: None,
            });
            (m, obs)
        })
        .collect();
    Run {
        results,
        elapsed: start.elapsed(),
    }
}

/// `--only` and `--tag`, checked before the config is even read.
struct Selection {
    only: Vec<(String, glob::Pattern)>,
    tags: Vec<String>,
}

impl Selection {
    fn new(only: &[String], tags: &[String]) -> Result<Self, Error> {
        let only = only
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| {
                glob::Pattern::new(s)
                    .map(|p| (s.clone(), p))
                    .map_err(|e| Error::Usage(format!("invalid --only pattern `{s}`: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Selection {
            only,
            tags: tags.iter().filter(|t| !t.is_empty()).cloned().collect(),
        })
    }

    /// Monitors matching any `--only` pattern (if given) and any `--tag` (if given).
    /// A pattern or tag that selects nothing is a usage error: it is almost always a typo,
    /// and a CI gate that silently checks nothing is worse than one that fails.
    fn apply(&self, monitors: Vec<Monitor>) -> Result<Vec<Arc<Monitor>>, Error> {
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
        Ok(monitors
            .into_iter()
            .filter(|m| self.only.is_empty() || self.only.iter().any(|(_, p)| p.matches(&m.name)))
            .filter(|m| self.tags.is_empty() || self.tags.iter().any(|t| m.tags.contains(t)))
            .map(Arc::new)
            .collect())
    }
}
