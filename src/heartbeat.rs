//! Push heartbeats: what the pings received say about a job, at a given time. Pure: the
//! listener records pings, `watch` evaluates `evaluate(hb, pings, since, now)` on schedule
//! and after every ping, and the result goes through the same state machine as a probe.
//!
//! Healthchecks.io semantics: a ping is expected every `period` (or at each `cron` time);
//! after that it is late (DEGRADED) for `grace`, then DOWN. A `/fail` or non-zero exit
//! code is DOWN at once. With `max_runtime`, a `/start` without a finish within it is DOWN;
//! with `min_runtime`, a run that finished faster is DEGRADED ("suspiciously fast"). A
//! heartbeat never pinged counts from when watching began (or its `active` window opened),
//! the window-start rule.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::humanize::span;
use crate::schedule::Schedule;
use crate::status::Status;

/// A checked `heartbeat:` block.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    /// `period` or `cron` (with its time zone).
    pub expect: Expect,
    pub grace: Duration,
    pub max_runtime: Option<Duration>,
    pub min_runtime: Option<Duration>,
    /// This heartbeat's own token, else the listener's.
    pub token: Option<crate::config::raw::Secret>,
}

/// When pings are expected.
#[derive(Debug, Clone)]
pub enum Expect {
    Every(Duration),
    Cron(Schedule),
}

/// What the pings so far say, kept per heartbeat (and restored from the store).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pings {
    /// The last finish (success or failure).
    pub last_finish: Option<SystemTime>,
    /// Its exit code: 0 for success, 1 for `/fail` without a code.
    pub last_code: Option<u8>,
    /// The last finish was `/fail` (the job said it failed, without an exit code).
    #[serde(default)]
    pub last_reported_failure: bool,
    /// The last `/start` not yet matched by a finish.
    pub started: Option<SystemTime>,
    /// How long the last finished run took, when it was started with `/start`.
    pub last_runtime: Option<Duration>,
    /// The start of the body of the last finish (already truncated to the limit).
    pub last_body: String,
}

/// A ping's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Success,
    Start,
    Fail,
    /// `/ping/<id>/<code>`.
    Exit(u8),
    /// `/ping/<id>/log`: recorded, changes nothing.
    Log,
}

impl Kind {
    #[must_use]
    pub fn name(self) -> String {
        match self {
            Kind::Success => "success".into(),
            Kind::Start => "start".into(),
            Kind::Fail => "fail".into(),
            Kind::Exit(c) => format!("exit {c}"),
            Kind::Log => "log".into(),
        }
    }

    /// The kind a stored ping names (`name`'s inverse).
    #[must_use]
    pub fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "success" => Kind::Success,
            "start" => Kind::Start,
            "fail" => Kind::Fail,
            "log" => Kind::Log,
            _ => Kind::Exit(name.strip_prefix("exit ")?.parse().ok()?),
        })
    }
}

impl Pings {
    /// Record a ping at `at` with its body.
    pub fn record(&mut self, kind: Kind, at: SystemTime, body: &str) {
        let finish = |p: &mut Pings, code: u8| {
            p.last_runtime = p.started.take().and_then(|s| at.duration_since(s).ok());
            p.last_finish = Some(at);
            p.last_code = Some(code);
            p.last_reported_failure = kind == Kind::Fail;
            body.clone_into(&mut p.last_body);
        };
        match kind {
            Kind::Success => finish(self, 0),
            Kind::Fail => finish(self, 1),
            Kind::Exit(c) => finish(self, c),
            Kind::Start => self.started = Some(at),
            Kind::Log => {}
        }
    }
}

/// What the pings say at a given time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub status: Status,
    pub reason: String,
    /// Late but inside the grace period: shown, not alerted (the `late` event).
    pub late: bool,
    /// The next instant the assessment changes by itself (without a ping): when the ping
    /// becomes due, when its grace ends, when a started run overruns `max_runtime`. The
    /// scheduler evaluates the heartbeat at that instant, so a missing ping is confirmed
    /// when its grace expires, not at the next regular evaluation.
    pub changes_at: Option<SystemTime>,
}

/// The status of a heartbeat at `now` (see `assess`).
#[must_use]
pub fn evaluate(hb: &Heartbeat, p: &Pings, since: SystemTime, now: SystemTime) -> (Status, String) {
    let a = assess(hb, p, since, None, now);
    (a.status, a.reason)
}

/// The status of a heartbeat at `now`. `since` is when watching began, the reference for
/// a heartbeat never pinged; `window` is when its `active` window opened, if it has one:
/// pings before the window do not make it due earlier (the window-start rule), so a job
/// that runs every 5 minutes inside a window opening at 01:00 is late at 01:05 and down
/// at 01:05 + grace, whatever it did the night before.
#[must_use]
pub fn assess(
    hb: &Heartbeat,
    p: &Pings,
    since: SystemTime,
    window: Option<SystemTime>,
    now: SystemTime,
) -> Assessment {
    // "1h 5m ago"; under a second, "just now" (not "0ms ago").
    let ago = |t: SystemTime| {
        let d = now.duration_since(t).unwrap_or_default();
        if d < Duration::from_secs(1) {
            "just now".to_owned()
        } else {
            format!("{} ago", span(d))
        }
    };
    let done = |status, reason: String, changes_at| Assessment {
        status,
        reason,
        late: false,
        changes_at,
    };
    let overrun = match (hb.max_runtime, p.started) {
        (Some(max), Some(started)) => Some((started, started + max)),
        _ => None,
    };
    if let Some((started, limit)) = overrun
        && now >= limit
    {
        return done(
            Status::Down,
            format!(
                "started {}, no finish within {}",
                ago(started),
                span(hb.max_runtime.unwrap_or_default())
            ),
            None,
        );
    }
    let overrun_at = overrun.map(|(_, limit)| limit);
    if let Some(code) = p.last_code.filter(|c| *c != 0) {
        let tail = p.last_body.trim().lines().last().unwrap_or("").trim();
        let what = if p.last_reported_failure {
            "reported failure".to_owned()
        } else {
            format!("failed (exit code {code})")
        };
        return done(
            Status::Down,
            if tail.is_empty() {
                format!("{what} {}", ago(p.last_finish.unwrap_or(now)))
            } else {
                format!("{what}: {tail}")
            },
            overrun_at,
        );
    }
    // The time the latest ping was due, and the one before it was due by (for reasons).
    let mut reference = p.last_finish.unwrap_or(since);
    let window = window.filter(|w| *w > reference);
    if let Some(w) = window {
        reference = w;
    }
    let due = match &hb.expect {
        Expect::Every(period) => reference + *period,
        // The first cron time after the last ping (or the start).
        Expect::Cron(schedule) => match schedule.next_run(reference) {
            Some(t) => t,
            None => return done(Status::Up, "no more runs expected".into(), overrun_at),
        },
    };
    let soonest = |t: SystemTime| Some(overrun_at.map_or(t, |o| o.min(t)));
    if now < due {
        let reason = match p.last_finish {
            Some(t) => format!("last ping {}", ago(t)),
            None => "waiting for the first ping".into(),
        };
        if let (Some(min), Some(rt)) = (hb.min_runtime, p.last_runtime)
            && rt < min
        {
            return done(
                Status::Degraded,
                format!("finished in {} (expected at least {})", span(rt), span(min)),
                soonest(due),
            );
        }
        return done(Status::Up, reason, soonest(due));
    }
    let last = match (p.last_finish, window) {
        (_, Some(w)) => format!("no ping since its window opened {}", ago(w)),
        (Some(t), None) => format!("last ping {}", ago(t)),
        (None, None) => format!("no ping since watching began {}", ago(since)),
    };
    if now < due + hb.grace {
        Assessment {
            status: Status::Degraded,
            reason: format!("late: {last}"),
            late: true,
            changes_at: soonest(due + hb.grace),
        }
    } else {
        done(Status::Down, format!("missing: {last}"), overrun_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> SystemTime {
        humantime::parse_rfc3339(s).unwrap()
    }

    fn hourly() -> Heartbeat {
        Heartbeat {
            expect: Expect::Every(Duration::from_secs(3600)),
            grace: Duration::from_secs(300),
            max_runtime: None,
            min_runtime: None,
            token: None,
        }
    }

    fn at(p: &mut Pings, kind: Kind, when: &str) {
        p.record(kind, t(when), "");
    }

    #[test]
    fn on_time_late_and_down() {
        let hb = hourly();
        let start = t("2026-01-01T00:00:00Z");
        let mut p = Pings::default();
        let eval = |p: &Pings, now: &str| evaluate(&hb, p, start, t(now));
        assert_eq!(
            eval(&p, "2026-01-01T00:30:00Z").0,
            Status::Up,
            "waiting for the first"
        );
        assert_eq!(eval(&p, "2026-01-01T01:04:00Z").0, Status::Degraded);
        let (s, why) = eval(&p, "2026-01-01T01:06:00Z");
        assert_eq!(s, Status::Down);
        assert_eq!(why, "missing: no ping since watching began 1h 6m ago");
        at(&mut p, Kind::Success, "2026-01-01T01:10:00Z");
        assert_eq!(
            eval(&p, "2026-01-01T02:09:59Z"),
            (Status::Up, "last ping 59m 59s ago".into())
        );
        assert_eq!(
            eval(&p, "2026-01-01T02:14:59Z"),
            (Status::Degraded, "late: last ping 1h 4m ago".into())
        );
        assert_eq!(eval(&p, "2026-01-01T02:15:01Z").0, Status::Down);
    }

    #[test]
    fn failures_and_exit_codes() {
        let hb = hourly();
        let start = t("2026-01-01T00:00:00Z");
        let mut p = Pings::default();
        p.record(
            Kind::Exit(3),
            t("2026-01-01T00:10:00Z"),
            "dumping\nERROR: disk full\n",
        );
        assert_eq!(
            evaluate(&hb, &p, start, t("2026-01-01T00:11:00Z")),
            (
                Status::Down,
                "failed (exit code 3): ERROR: disk full".into()
            )
        );
        p.record(Kind::Fail, t("2026-01-01T00:20:00Z"), "");
        assert_eq!(
            evaluate(&hb, &p, start, t("2026-01-01T00:21:00Z")),
            (Status::Down, "reported failure 1m ago".into())
        );
        // Issue 17, defect 9: `/fail` is the job's own report, not an exit code.
        p.record(Kind::Fail, t("2026-01-01T00:22:00Z"), "quota exceeded\n");
        assert_eq!(
            evaluate(&hb, &p, start, t("2026-01-01T00:23:00Z")),
            (Status::Down, "reported failure: quota exceeded".into())
        );
        p.record(Kind::Exit(1), t("2026-01-01T00:24:00Z"), "");
        assert_eq!(
            evaluate(&hb, &p, start, t("2026-01-01T00:25:00Z")),
            (Status::Down, "failed (exit code 1) 1m ago".into())
        );
        p.record(Kind::Success, t("2026-01-01T00:30:00Z"), "");
        assert_eq!(
            evaluate(&hb, &p, start, t("2026-01-01T00:31:00Z")).0,
            Status::Up
        );
        p.record(Kind::Log, t("2026-01-01T00:32:00Z"), "progress");
        assert_eq!(p.last_body, "");
    }

    #[test]
    fn start_without_finish_and_too_fast() {
        let hb = Heartbeat {
            max_runtime: Some(Duration::from_secs(1800)),
            min_runtime: Some(Duration::from_secs(60)),
            ..hourly()
        };
        let start = t("2026-01-01T00:00:00Z");
        let mut p = Pings::default();
        at(&mut p, Kind::Start, "2026-01-01T00:10:00Z");
        assert_eq!(
            evaluate(&hb, &p, start, t("2026-01-01T00:39:00Z")).0,
            Status::Up
        );
        assert_eq!(
            evaluate(&hb, &p, start, t("2026-01-01T00:41:00Z")),
            (Status::Down, "started 31m ago, no finish within 30m".into())
        );
        at(&mut p, Kind::Success, "2026-01-01T00:42:00Z");
        assert_eq!(p.last_runtime, Some(Duration::from_secs(32 * 60)));
        assert_eq!(
            evaluate(&hb, &p, start, t("2026-01-01T00:43:00Z")).0,
            Status::Up
        );
        at(&mut p, Kind::Start, "2026-01-01T01:40:00Z");
        at(&mut p, Kind::Success, "2026-01-01T01:40:05Z");
        assert_eq!(
            evaluate(&hb, &p, start, t("2026-01-01T01:41:00Z")),
            (
                Status::Degraded,
                "finished in 5s (expected at least 1m)".into()
            )
        );
    }

    #[test]
    fn cron_expectations_across_dst() {
        // Nightly at 03:00 Berlin; 60 min grace. 2026-03-29 is the spring-forward night
        // (03:00 CEST = 01:00 UTC); the run before is at 02:00 UTC.
        let hb = Heartbeat {
            expect: Expect::Cron(Schedule::cron("0 3 * * *", "Europe/Berlin").unwrap()),
            grace: Duration::from_secs(3600),
            ..hourly()
        };
        let start = t("2026-03-27T12:00:00Z");
        let mut p = Pings::default();
        at(&mut p, Kind::Success, "2026-03-28T02:01:00Z");
        let eval = |p: &Pings, now: &str| evaluate(&hb, p, start, t(now)).0;
        assert_eq!(eval(&p, "2026-03-29T00:59:00Z"), Status::Up);
        assert_eq!(
            eval(&p, "2026-03-29T01:30:00Z"),
            Status::Degraded,
            "due at 01:00 UTC"
        );
        assert_eq!(eval(&p, "2026-03-29T02:01:00Z"), Status::Down);
        at(&mut p, Kind::Success, "2026-03-29T02:05:00Z");
        assert_eq!(eval(&p, "2026-03-30T00:59:00Z"), Status::Up);
        assert_eq!(eval(&p, "2026-03-30T01:30:00Z"), Status::Degraded);
        // Autumn: 03:00 CEST on 2026-10-25 does not repeat (the clock goes back at 03:00),
        // so the run is due at 02:00 UTC.
        let mut p = Pings::default();
        at(&mut p, Kind::Success, "2026-10-24T01:00:00Z");
        assert_eq!(eval(&p, "2026-10-25T01:59:00Z"), Status::Up);
        assert_eq!(eval(&p, "2026-10-25T02:30:00Z"), Status::Degraded);
    }
}
