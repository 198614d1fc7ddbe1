//! `hbmon simulate`: made-up observations through the real scheduler and state machine
//! (`Engine`, the same one `watch` runs) with a virtual clock; prints which alerts would
//! fire and when, and to whom. Monitors come from the config (their thresholds, grace,
//! windows, dependencies, notifiers); a name the config lacks is a usage error unless
//! `--ad-hoc` asks for a monitor made of the config's `defaults:` (or the built-in ones
//! without a config). What it prints is decided by `Engine::evaluate_routed`, the very
//! code `watch` alerts through.
//!
//! A timeline is `name: word word ... [@ interval]`; words are `ok`/`up`, `warn`,
//! `fail`/`down`, `unknown`, or `-` for a run without an observation (a probe that never
//! answered before the next run). A word may repeat: `fail*5`. `ack` (or `ack/2h`, an
//! acknowledgment that lapses after 2 h) acknowledges the open incident just before the
//! next probe, as `hbmon ack` would.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::cli::{GlobalArgs, ReadFormat, SimulateArgs};
use crate::config::load;
use crate::engine::{Engine, status_word};
use crate::error::Error;
use crate::humanize;
use crate::observation::ObservationRow;
use crate::plan;
use crate::schedule::Schedule;
use crate::state::{Announced, Event, MonitorState};
use crate::status::Status;

/// One parsed timeline.
#[derive(Debug, PartialEq)]
pub struct Timeline {
    monitor: String,
    steps: Vec<Step>,
    every: Option<Duration>,
}

/// One word of a timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// A run: its observation (`None` is `-`).
    Probe(Option<Status>),
    /// Acknowledge before the next run, for this long (`None`: until it resolves).
    Ack(Option<Duration>),
}

/// The most steps a timeline has, repeats included: `fail*100000` written 400 times
/// would otherwise take a gigabyte before the first run is simulated.
pub const MAX_STEPS: usize = 100_000;

/// Parse `api: ok fail*3 ack/2h ok @ 30s` (public for the fuzz target).
pub fn parse_timeline(text: &str) -> Result<Timeline, String> {
    let (name, rest) = text
        .split_once(':')
        .ok_or("a timeline starts with a monitor name and a colon: `api: ok fail fail`")?;
    let (words, every) = match rest.split_once('@') {
        Some((w, e)) => {
            let every = crate::units::parse_duration(e)
                .ok()
                .ok_or_else(|| format!("`@{e}`: not a duration (write `@ 10s`)"))?;
            (w, Some(every))
        }
        None => (rest, None),
    };
    let mut steps = Vec::new();
    for word in words.split_whitespace() {
        let (word, times) = match word.split_once('*') {
            Some((w, n)) => (
                w,
                n.parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_STEPS).contains(n))
                    .ok_or_else(|| format!("`{word}`: repeat with a count, like `fail*3`"))?,
            ),
            None => (word, 1),
        };
        let step = if word == "-" {
            Step::Probe(None)
        } else if word == "ack" {
            Step::Ack(None)
        } else if let Some(d) = word.strip_prefix("ack/") {
            Step::Ack(Some(crate::units::parse_duration(d).ok().ok_or_else(
                || format!("`{word}`: write `ack/2h` for a 2-hour ack"),
            )?))
        } else {
            Step::Probe(Some(status_word(word).ok_or_else(|| {
                format!("`{word}` is not a status (use ok, warn, fail, unknown, - or ack)")
            })?))
        };
        if steps.len() + times > MAX_STEPS {
            return Err(format!(
                "a timeline has at most {MAX_STEPS} steps, repeats included"
            ));
        }
        steps.extend(std::iter::repeat_n(step, times));
    }
    let monitor = name.trim().to_owned();
    if monitor.is_empty() || !steps.iter().any(|s| matches!(s, Step::Probe(_))) {
        return Err("a timeline needs a monitor name and at least one status".into());
    }
    Ok(Timeline {
        monitor,
        steps,
        every,
    })
}

/// An event as printed.
struct Fired {
    at: SystemTime,
    monitor: String,
    event: Event,
    /// The notifiers that would send it.
    to: Vec<String>,
    /// `watch` would run the monitor's diagnosis (simulate never runs it).
    diagnose: bool,
}

/// 9000-01-01 in Unix seconds: simulated time stays before it.
const SIMULATION_HORIZON_SECS: u64 = 221_845_392_000;

pub fn run(global: &GlobalArgs, args: &SimulateArgs) -> Result<u8, Error> {
    let timelines = timelines(args)?;
    let start = humantime::parse_rfc3339_weak(&args.start)
        .map_err(|_| Error::Usage(format!("--start `{}`: not an RFC 3339 time", args.start)))?;
    let plan = simulated_plan(global, args, &timelines)?;
    let notifiers = plan.notifications;
    let mut config = plan.monitors;
    let mut monitors = Vec::new();
    for t in &timelines {
        let Some(i) = config.iter().position(|m| m.name == t.monitor) else {
            // The same monitor twice: its first timeline took it.
            return Err(Error::Usage(format!(
                "`{}` has two timelines; give each monitor one",
                t.monitor
            )));
        };
        let mut m = config.swap_remove(i);
        // The plan's monitors are its own until handed on: changed in place.
        if let (Some(every), Some(m)) = (t.every, Arc::get_mut(&mut m)) {
            m.interval = every;
            m.schedule = Schedule::Every {
                interval: every,
                align: false,
                offset: Duration::ZERO,
            };
        }
        // Simulated time must end where times can still be written (RFC 3339 ends with
        // the year 9999): a timeline of 100,000 runs 10 years apart does not.
        let span = m
            .interval
            .checked_mul(u32::try_from(t.steps.len()).unwrap_or(u32::MAX))
            .and_then(|d| d.checked_add(m.timeout));
        let horizon = std::time::UNIX_EPOCH + Duration::from_secs(SIMULATION_HORIZON_SECS);
        if span
            .and_then(|d| start.checked_add(d))
            .is_none_or(|end| end >= horizon)
        {
            return Err(Error::Usage(format!(
                "`{}`: the simulation would run past the year 9000 (start earlier, or use fewer or closer runs)",
                t.monitor
            )));
        }
        // Simulated probes are instant and never run at the same time as the next.
        monitors.push(m);
    }
    let known_up = MonitorState {
        status: Some(Status::Up),
        since: Some(start),
        announced: Some(Announced::Up),
        ..MonitorState::default()
    };
    let stored = if args.fresh {
        HashMap::new()
    } else {
        monitors
            .iter()
            .map(|m| (m.name.clone(), known_up.clone()))
            .collect()
    };
    let engine = Engine::new(monitors, stored, start);
    let fired = play(engine, timelines, &notifiers, start)?;
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        ReadFormat::Human => human(&mut out, &fired, start),
        ReadFormat::Json => json_out(&mut out, &fired, start),
    };
    written.map_err(|e| Error::io("cannot write the simulation", e))?;
    Ok(crate::exit::OK)
}

/// The plan the timelines run against: the config's, where every timeline names one of
/// its monitors; with `--ad-hoc`, names it lacks are added as monitors of its `defaults:`
/// (and without a config, of the built-in defaults).
fn simulated_plan(
    global: &GlobalArgs,
    args: &SimulateArgs,
    timelines: &[Timeline],
) -> Result<crate::model::Plan, Error> {
    let loaded = match load::load(&global.config, &crate::cli::env_var, load::Needs::All) {
        Ok(l) => l,
        Err(Error::ConfigRead { .. }) if args.ad_hoc => load::load_str(
            "simulate".into(),
            ".".into(),
            "version: 1\nmonitors: []\n".into(),
            &|_| None,
        ),
        Err(Error::ConfigRead { .. }) => {
            return Err(Error::Usage(format!(
                "no configuration at `{}` to take the monitors from; pass --config, or --ad-hoc to simulate with the built-in defaults",
                global.config.display()
            )));
        }
        Err(e) => return Err(e),
    };
    let mut loaded = loaded;
    let known: Vec<String> = loaded
        .doc
        .monitors
        .iter()
        .filter_map(|m| m.name.clone())
        .collect();
    let mut added: Vec<&str> = Vec::new();
    for t in timelines {
        if known.contains(&t.monitor) || added.contains(&t.monitor.as_str()) {
            continue;
        }
        if !args.ad_hoc {
            let names: Vec<&str> = known.iter().map(String::as_str).collect();
            return Err(Error::Usage(format!(
                "`{}` is not a monitor in `{}`; {} (or pass --ad-hoc to try a monitor made of the config's `defaults:`)",
                t.monitor,
                global.config.display(),
                plan::suggest(&t.monitor, &names, "monitors")
            )));
        }
        let def = serde_json::json!({ "name": t.monitor, "command": { "run": ["true"] } });
        let monitor = serde_json::from_value(def).map_err(|_| {
            Error::Usage(format!(
                "`{}` is not a monitor name (letters, digits, `.`, `_`, `-`)",
                t.monitor
            ))
        })?;
        loaded.doc.monitors.push(load::MonitorEntry {
            index: loaded.doc.monitors.len(),
            name: Some(t.monitor.clone()),
            monitor: Some(monitor),
            origin: None,
        });
        added.push(&t.monitor);
    }
    plan::build(loaded).map_err(|e| match e {
        Error::Config(_) if !added.is_empty() => Error::Usage(format!(
            "{} cannot be made from the config's defaults: {e}",
            added.join(", ")
        )),
        e => e,
    })
}

/// Run the timelines on the virtual clock; the alerts that would fire, in order. A
/// monitor whose timeline is over is no longer scheduled.
fn play(
    mut engine: Engine,
    timelines: Vec<Timeline>,
    notifiers: &crate::notify::Notifications,
    start: SystemTime,
) -> Result<Vec<Fired>, Error> {
    let mut remaining: HashMap<String, std::vec::IntoIter<Step>> = timelines
        .into_iter()
        .map(|t| (t.monitor, t.steps.into_iter()))
        .collect();
    let mut fired = Vec::new();
    while !remaining.is_empty() {
        let Some(now) = engine.next_due() else { break };
        for run in engine.take_due(now) {
            let name = run.monitor.name.clone();
            let mut step = None;
            while let Some(next) = remaining.get_mut(&name).and_then(Iterator::next) {
                match next {
                    Step::Probe(p) => {
                        step = Some(p);
                        break;
                    }
                    Step::Ack(lasts) => {
                        fired.push(acknowledge(
                            &mut engine,
                            notifiers,
                            &name,
                            lasts,
                            now,
                            start,
                        )?);
                    }
                }
            }
            let Some(step) = step else {
                remaining.remove(&name);
                engine.unschedule(&name);
                continue;
            };
            let Some(status) = step else {
                engine.abandon(&name);
                continue;
            };
            let row = ObservationRow {
                monitor: name.clone(),
                at: now,
                scheduled: Some(now),
                status,
                latency: Duration::ZERO,
                reason: format!("simulated {}", status.name()),
                details: None,
                region: String::new(),
            };
            let routed = engine
                .evaluate_routed(&row, now, notifiers)
                .map(|(_, routed)| routed)
                .unwrap_or_default();
            let diagnose = engine.monitor(&name).is_some_and(|m| m.diagnose.is_some());
            for r in routed {
                fired.push(Fired {
                    at: now,
                    monitor: name.clone(),
                    to: r.to,
                    diagnose: diagnose && matches!(r.event, Event::IncidentOpened { .. }),
                    event: r.event,
                });
            }
        }
    }
    Ok(fired)
}

/// A timeline's `ack`: acknowledge now, as `hbmon ack` would.
fn acknowledge(
    engine: &mut Engine,
    notifiers: &crate::notify::Notifications,
    name: &str,
    lasts: Option<Duration>,
    now: SystemTime,
    start: SystemTime,
) -> Result<Fired, Error> {
    let ack = crate::state::Ack {
        at: now,
        by: "simulate".into(),
        note: String::new(),
        until: lasts.map(|d| now + d),
    };
    let (_, r) = engine
        .acknowledge_routed(name, &ack, None, notifiers)
        .map_err(|e| Error::Usage(format!("`{name}`: `ack` at {}: {e}", offset(now, start))))?;
    Ok(Fired {
        at: now,
        monitor: name.to_owned(),
        to: r.to,
        event: r.event,
        diagnose: false,
    })
}

/// The timelines from the arguments and `--file`.
fn timelines(args: &SimulateArgs) -> Result<Vec<Timeline>, Error> {
    let mut texts = args.timelines.clone();
    if let Some(file) = &args.file {
        let body = std::fs::read_to_string(file)
            .map_err(|e| Error::io(format!("cannot read `{}`", file.display()), e))?;
        texts.extend(
            body.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim().to_owned())
                .filter(|l| !l.is_empty()),
        );
    }
    if texts.is_empty() {
        return Err(Error::Usage(
            "no timeline given: `hbmon simulate 'api: ok fail fail fail ok @ 10s'`".into(),
        ));
    }
    texts
        .iter()
        .map(|t| parse_timeline(t).map_err(|e| Error::Usage(format!("timeline `{t}`: {e}"))))
        .collect()
}

fn offset(at: SystemTime, start: SystemTime) -> String {
    format!(
        "+{}",
        humanize::span(at.duration_since(start).unwrap_or_default())
    )
}

fn describe(e: &Event, start: SystemTime) -> (&'static str, String) {
    match e {
        Event::IncidentOpened {
            opened_at, reason, ..
        } => (
            "DOWN",
            format!("incident opened at {}: {reason}", offset(*opened_at, start)),
        ),
        Event::IncidentResolved {
            downtime,
            recovered_at,
            at,
            ..
        } => (
            "UP",
            if recovered_at < at {
                format!(
                    "recovered at {} after {}",
                    offset(*recovered_at, start),
                    humanize::span(*downtime)
                )
            } else {
                format!("recovered after {}", humanize::span(*downtime))
            },
        ),
        Event::Degraded {
            reason, late: true, ..
        } => ("LATE", reason.clone()),
        Event::Degraded { reason, .. } => ("DEGRADED", reason.clone()),
        Event::Flapping {
            changes, window, ..
        } => (
            "FLAPPING",
            format!(
                "{changes} changes within {}; alerts held until it settles",
                humanize::span(*window)
            ),
        ),
        Event::ReminderDue {
            reminder,
            opened_at,
            ..
        } => (
            "REMINDER",
            format!("#{reminder}, down since {}", offset(*opened_at, start)),
        ),
        Event::Acknowledged { by, note, .. } => (
            "ACKNOWLEDGED",
            if note.is_empty() {
                format!("by {by}")
            } else {
                format!("by {by}: {note}")
            },
        ),
        Event::Escalated { step, after, .. } => (
            "ESCALATED",
            format!(
                "step {step}, unacknowledged {} after the alert",
                humanize::span(*after)
            ),
        ),
        // Simulation runs no commands; listed for completeness.
        Event::Diagnosed { diagnosis, .. } => (
            "DIAGNOSIS",
            format!("in {}", humanize::span(diagnosis.duration)),
        ),
    }
}

fn human(out: &mut dyn Write, fired: &[Fired], start: SystemTime) -> std::io::Result<()> {
    if fired.is_empty() {
        writeln!(out, "no alerts would fire")?;
    }
    for f in fired {
        let (kind, mut text) = describe(&f.event, start);
        if f.diagnose {
            text.push_str(" (its diagnosis would run; simulate does not run it)");
        }
        let to = if f.to.is_empty() {
            String::new()
        } else {
            format!("  -> {}", f.to.join(", "))
        };
        writeln!(
            out,
            "{:>9}  {}  {:10} {:9} {text}{to}",
            offset(f.at, start),
            humantime::format_rfc3339_seconds(f.at),
            f.monitor,
            kind
        )?;
    }
    Ok(())
}

fn json_out(out: &mut dyn Write, fired: &[Fired], start: SystemTime) -> std::io::Result<()> {
    let events: Vec<_> = fired
        .iter()
        .map(|f| {
            let (kind, text) = describe(&f.event, start);
            json!({
                "at": humantime::format_rfc3339_seconds(f.at).to_string(),
                "offset_s": f.at.duration_since(start).unwrap_or_default().as_secs(),
                "monitor": f.monitor,
                "event": f.event.kind(),
                "label": kind,
                "text": text,
                "notify": f.to,
                "diagnosis_would_run": f.diagnose,
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &json!({ "events": events }))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timelines_parse() {
        let t = parse_timeline("api: ok fail*3 - ack warn ack/2h ok @ 10s").unwrap();
        assert_eq!(t.monitor, "api");
        assert_eq!(t.every, Some(Duration::from_secs(10)));
        let p = |s| Step::Probe(Some(s));
        assert_eq!(
            t.steps,
            vec![
                p(Status::Up),
                p(Status::Down),
                p(Status::Down),
                p(Status::Down),
                Step::Probe(None),
                Step::Ack(None),
                p(Status::Degraded),
                Step::Ack(Some(Duration::from_secs(7200))),
                p(Status::Up),
            ]
        );
        assert!(parse_timeline("api: ack").is_err());
        assert!(parse_timeline("api: ok ack/soon").is_err());
        assert!(parse_timeline("api ok").is_err());
        assert!(
            parse_timeline("api: ok maybe")
                .unwrap_err()
                .contains("`maybe`")
        );
        assert!(parse_timeline("api: ok @ soon").is_err());
        assert!(parse_timeline("api:").is_err());
        assert!(parse_timeline("api: fail*0").is_err());
    }

    /// Found by the `timeline` fuzz target: 450 words of `-*100000` (4 KB) took 1 GB.
    #[test]
    fn timelines_are_bounded_in_total_steps() {
        let t = parse_timeline(&format!("a: ok*{MAX_STEPS}")).unwrap();
        assert_eq!(t.steps.len(), MAX_STEPS);
        let t = parse_timeline("a: ok*50000 fail*50000").unwrap();
        assert_eq!(t.steps.len(), MAX_STEPS);
        let huge = format!("a:{}", " -*100000".repeat(450));
        assert!(
            parse_timeline(&huge)
                .unwrap_err()
                .contains("at most 100000 steps")
        );
        assert!(parse_timeline("a: ok*100000 ack").is_err());
    }
}
