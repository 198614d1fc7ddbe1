//! When a monitor runs next: pure functions of the schedule and a given time, no clock
//! reads, so they are tested with made-up times, across DST changes too. (Issue 6, first
//! part: intervals with clock alignment and a stable jitter, and cron expressions in a time
//! zone. Active and maintenance windows come next.)

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, TimeZone, Utc};

/// How often a monitor runs.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Every `interval`; with `align`, on multiples of it since the epoch (seed 001's
    /// :00, :10, :20 for `10s`), shifted by the monitor's stable `offset`.
    Every {
        interval: Duration,
        align: bool,
        offset: Duration,
    },
    /// At the times of a cron expression, read in a time zone.
    Cron {
        cron: Box<croner::Cron>,
        tz: chrono_tz::Tz,
    },
}

impl Schedule {
    /// A cron schedule, or why the expression or time zone is not valid.
    pub fn cron(expr: &str, tz: &str) -> Result<Schedule, String> {
        let cron: croner::Cron = expr
            .parse()
            .map_err(|e| format!("invalid cron expression: {e}"))?;
        let tz: chrono_tz::Tz = tz.parse().map_err(|_| {
            format!("unknown time zone `{tz}` (use an IANA name such as Europe/Berlin)")
        })?;
        Ok(Schedule::Cron {
            cron: Box::new(cron),
            tz,
        })
    }

    /// The first run at or after `now`, when a monitor starts being scheduled: aligned
    /// schedules wait for their slot; others start after their offset, so that a thousand
    /// monitors do not all fire in the same instant.
    #[must_use]
    pub fn first_run(&self, now: SystemTime) -> Option<SystemTime> {
        match self {
            Schedule::Every {
                align: false,
                offset,
                ..
            } => Some(now + *offset),
            _ => self.next_run(now - Duration::from_nanos(1)),
        }
    }

    /// The next run strictly after `after` (the time of the previous run). `None` only for
    /// a cron expression that never fires again.
    #[must_use]
    pub fn next_run(&self, after: SystemTime) -> Option<SystemTime> {
        match self {
            Schedule::Every {
                interval,
                align: false,
                ..
            } => Some(after + *interval),
            Schedule::Every {
                interval,
                align: true,
                offset,
            } => {
                let step = interval.as_nanos().max(1);
                let since = after
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos();
                let off = offset.as_nanos() % step;
                // The first slot k * step + off that is strictly later than `after`.
                let k = (since + step - off) / step;
                let next = k * step + off;
                let next = if next <= since { next + step } else { next };
                Some(UNIX_EPOCH + Duration::from_nanos(u64::try_from(next).ok()?))
            }
            Schedule::Cron { cron, tz } => {
                let after: DateTime<Utc> = after.into();
                let local = tz.from_utc_datetime(&after.naive_utc());
                let next = cron.find_next_occurrence(&local, false).ok()?;
                Some(next.with_timezone(&Utc).into())
            }
        }
    }
}

/// A stable offset in `[0, jitter)` for a monitor, derived from its name (FNV-1a): the
/// spread survives restarts and is the same in tests.
#[must_use]
pub fn jitter_offset(name: &str, jitter: Duration) -> Duration {
    if jitter.is_zero() {
        return Duration::ZERO;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let nanos = u64::try_from(jitter.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(hash % nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A UTC time from RFC 3339.
    fn t(s: &str) -> SystemTime {
        humantime::parse_rfc3339(s).unwrap()
    }

    fn show(t: Option<SystemTime>) -> String {
        humantime::format_rfc3339_seconds(t.unwrap()).to_string()
    }

    #[test]
    fn intervals_plain_and_aligned() {
        let every = |secs, align, offset| Schedule::Every {
            interval: Duration::from_secs(secs),
            align,
            offset: Duration::from_secs(offset),
        };
        let plain = every(30, false, 7);
        assert_eq!(
            show(plain.next_run(t("2026-01-01T00:00:03Z"))),
            "2026-01-01T00:00:33Z"
        );
        assert_eq!(
            show(plain.first_run(t("2026-01-01T00:00:03Z"))),
            "2026-01-01T00:00:10Z"
        );
        // Seed 001: every 10 s on :00, :10, :20 ...
        let aligned = every(10, true, 0);
        assert_eq!(
            show(aligned.next_run(t("2026-01-01T00:00:03Z"))),
            "2026-01-01T00:00:10Z"
        );
        assert_eq!(
            show(aligned.next_run(t("2026-01-01T00:00:10Z"))),
            "2026-01-01T00:00:20Z"
        );
        assert_eq!(
            show(aligned.first_run(t("2026-01-01T00:00:10Z"))),
            "2026-01-01T00:00:10Z"
        );
        let shifted = every(60, true, 15);
        assert_eq!(
            show(shifted.next_run(t("2026-01-01T00:00:03Z"))),
            "2026-01-01T00:00:15Z"
        );
        assert_eq!(
            show(shifted.next_run(t("2026-01-01T00:00:15Z"))),
            "2026-01-01T00:01:15Z"
        );
        assert_eq!(
            show(shifted.next_run(t("2026-01-01T00:00:59Z"))),
            "2026-01-01T00:01:15Z"
        );
    }

    #[test]
    fn cron_in_a_time_zone_across_dst() {
        let nightly = Schedule::cron("0 3 * * *", "Europe/Berlin").unwrap();
        // 03:00 in Berlin is 02:00 UTC in winter (CET) and 01:00 UTC in summer (CEST).
        assert_eq!(
            show(nightly.next_run(t("2026-03-28T12:00:00Z"))),
            "2026-03-29T01:00:00Z"
        );
        assert_eq!(
            show(nightly.next_run(t("2026-03-27T12:00:00Z"))),
            "2026-03-28T02:00:00Z"
        );
        assert_eq!(
            show(nightly.next_run(t("2026-10-24T12:00:00Z"))),
            "2026-10-25T02:00:00Z"
        );
        // 02:30 does not exist on the spring-forward day and happens twice in autumn:
        // it fires at most once a day either way.
        let half_past_two = Schedule::cron("30 2 * * *", "Europe/Berlin").unwrap();
        let spring = half_past_two.next_run(t("2026-03-28T12:00:00Z")).unwrap();
        assert!(spring > t("2026-03-29T00:00:00Z"), "{}", show(Some(spring)));
        let first = half_past_two.next_run(t("2026-10-24T12:00:00Z")).unwrap();
        let second = half_past_two.next_run(first).unwrap();
        assert!(
            second.duration_since(first).unwrap() >= Duration::from_secs(22 * 3600),
            "{} then {}",
            show(Some(first)),
            show(Some(second))
        );
    }

    #[test]
    fn bad_cron_and_time_zone_are_errors() {
        assert!(
            Schedule::cron("61 * * * *", "UTC")
                .unwrap_err()
                .starts_with("invalid cron expression")
        );
        assert!(
            Schedule::cron("0 3 * * *", "Mars/Olympus")
                .unwrap_err()
                .contains("unknown time zone")
        );
    }

    #[test]
    fn jitter_is_stable_and_bounded() {
        let j = Duration::from_secs(10);
        assert_eq!(jitter_offset("api", j), jitter_offset("api", j));
        assert_ne!(jitter_offset("api", j), jitter_offset("db", j));
        assert!((0..1000).all(|i| jitter_offset(&format!("m{i}"), j) < j));
        assert_eq!(jitter_offset("api", Duration::ZERO), Duration::ZERO);
    }
}
