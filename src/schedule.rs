//! When a monitor runs next, and whether a named window (`schedules:`) is open: pure
//! functions of the schedule and a given time, no clock reads, so they are tested with
//! made-up times, across DST changes too.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

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

/// A named set of windows in a time zone (`schedules.<name>`): business hours, a weekly
/// maintenance slot.
#[derive(Debug, Clone)]
pub struct Windows {
    pub tz: chrono_tz::Tz,
    pub windows: Vec<Window>,
}

/// One window.
#[derive(Debug, Clone)]
pub enum Window {
    /// On the given weekdays (Monday first) from `from` to `to`, local time; a `to` at or
    /// before `from` ends on the next day (`from == to` is a whole day).
    Days {
        days: [bool; 7],
        from: NaiveTime,
        to: NaiveTime,
    },
    /// From each time of a cron expression, for `duration`.
    Cron {
        cron: Box<croner::Cron>,
        duration: Duration,
    },
}

impl Windows {
    /// If `t` is inside a window, when that window opened (the earliest start among the
    /// windows that contain `t`, so overlapping windows read as one).
    #[must_use]
    pub fn open_since(&self, t: SystemTime) -> Option<SystemTime> {
        self.windows
            .iter()
            .filter_map(|w| self.window_open_since(w, t))
            .min()
    }

    /// The next time strictly after `t` that a window opens.
    #[must_use]
    pub fn next_open(&self, t: SystemTime) -> Option<SystemTime> {
        let utc: DateTime<Utc> = t.into();
        let local = self.tz.from_utc_datetime(&utc.naive_utc());
        self.windows
            .iter()
            .filter_map(|w| match w {
                Window::Days { days, from, .. } => (0..=7).find_map(|d| {
                    let date = local.date_naive().checked_add_days(chrono::Days::new(d))?;
                    days[date.weekday().num_days_from_monday() as usize]
                        .then(|| self.local(date, *from))
                        .filter(|s| *s > t)
                }),
                Window::Cron { cron, .. } => cron
                    .find_next_occurrence(&local, false)
                    .ok()
                    .map(|n| n.with_timezone(&Utc).into()),
            })
            .min()
    }

    fn window_open_since(&self, w: &Window, t: SystemTime) -> Option<SystemTime> {
        let utc: DateTime<Utc> = t.into();
        let local = self.tz.from_utc_datetime(&utc.naive_utc());
        match w {
            Window::Days { days, from, to } => {
                // A window containing `t` opened today or (crossing midnight) yesterday.
                [1, 0].into_iter().find_map(|back| {
                    let date = local
                        .date_naive()
                        .checked_sub_days(chrono::Days::new(back))?;
                    if !days[date.weekday().num_days_from_monday() as usize] {
                        return None;
                    }
                    let start = self.local(date, *from);
                    let end_date = if to > from { date } else { date.succ_opt()? };
                    let end = self.local(end_date, *to);
                    (start <= t && t < end).then_some(start)
                })
            }
            Window::Cron { cron, duration } => {
                let start: SystemTime = cron
                    .find_previous_occurrence(&local, true)
                    .ok()?
                    .with_timezone(&Utc)
                    .into();
                (t < start + *duration).then_some(start)
            }
        }
    }

    /// A local date and time as an instant; a time skipped by a DST change is read as the
    /// first instant after the gap, a repeated one as its first occurrence.
    fn local(&self, date: NaiveDate, time: NaiveTime) -> SystemTime {
        let naive = NaiveDateTime::new(date, time);
        let mut probe = naive;
        for _ in 0..4 {
            if let Some(t) = self.tz.from_local_datetime(&probe).earliest() {
                return t.with_timezone(&Utc).into();
            }
            probe += chrono::Duration::minutes(30);
        }
        // No zone has a gap longer than two hours; fall back to reading it as UTC.
        Utc.from_utc_datetime(&naive).into()
    }
}

/// Weekdays from `mon-fri`, `sat,sun`, `fri-mon` (wrapping), `daily`: Monday first.
pub fn parse_days(text: &str) -> Result<[bool; 7], String> {
    const FULL: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let day = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        FULL.iter()
            .position(|f| s == *f || (s.len() == 3 && f.starts_with(&s)))
            .ok_or_else(|| "unknown day name (use mon, tue, wed, thu, fri, sat, sun)".to_owned())
    };
    let mut days = [false; 7];
    if matches!(text.trim(), "daily" | "*" | "all") {
        return Ok([true; 7]);
    }
    for part in text.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                let mut d = a;
                loop {
                    days[d] = true;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days[day(part)?] = true,
        }
    }
    Ok(days)
}

/// A local time of day, `HH:MM` or `HH:MM:SS`; `24:00` is the end of the day (midnight).
pub fn parse_time(text: &str) -> Result<NaiveTime, String> {
    let text = text.trim();
    if text == "24:00" {
        return Ok(NaiveTime::MIN);
    }
    NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .map_err(|_| "invalid time of day (use HH:MM, 24-hour clock)".to_owned())
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

    fn berlin(windows: Vec<Window>) -> Windows {
        Windows {
            tz: chrono_tz::Europe::Berlin,
            windows,
        }
    }

    fn days(text: &str, from: &str, to: &str) -> Window {
        Window::Days {
            days: parse_days(text).unwrap(),
            from: parse_time(from).unwrap(),
            to: parse_time(to).unwrap(),
        }
    }

    #[test]
    fn business_hours_in_a_time_zone() {
        // 2026-11-23 is a Monday; Berlin is UTC+1 in November.
        let w = berlin(vec![days("mon-fri", "08:00", "18:00")]);
        assert_eq!(w.open_since(t("2026-11-23T06:59:59Z")), None);
        assert_eq!(
            show(w.open_since(t("2026-11-23T07:00:00Z"))),
            "2026-11-23T07:00:00Z"
        );
        assert_eq!(
            show(w.open_since(t("2026-11-23T16:59:59Z"))),
            "2026-11-23T07:00:00Z"
        );
        assert_eq!(w.open_since(t("2026-11-23T17:00:00Z")), None);
        assert_eq!(w.open_since(t("2026-11-28T10:00:00Z")), None, "Saturday");
        assert_eq!(
            show(w.next_open(t("2026-11-27T12:00:00Z"))),
            "2026-11-30T07:00:00Z",
            "Friday noon: next Monday"
        );
        assert_eq!(
            show(w.next_open(t("2026-11-23T07:00:00Z"))),
            "2026-11-24T07:00:00Z"
        );
        // Summer time: 08:00 CEST is 06:00 UTC.
        assert_eq!(
            show(w.open_since(t("2026-07-01T06:30:00Z"))),
            "2026-07-01T06:00:00Z"
        );
    }

    #[test]
    fn windows_across_midnight_and_dst() {
        let night = berlin(vec![days("fri", "22:00", "06:00")]);
        // Friday 2026-11-27 22:00 CET = 21:00 UTC, until Saturday 06:00 CET = 05:00 UTC.
        assert_eq!(
            show(night.open_since(t("2026-11-28T04:00:00Z"))),
            "2026-11-27T21:00:00Z"
        );
        assert_eq!(night.open_since(t("2026-11-28T05:00:00Z")), None);
        assert_eq!(
            night.open_since(t("2026-11-27T04:00:00Z")),
            None,
            "Thursday night"
        );
        // 02:30 does not exist on 2026-03-29 in Berlin: the window opens at 03:00 CEST.
        let gap = berlin(vec![days("daily", "02:30", "04:00")]);
        assert_eq!(
            show(gap.next_open(t("2026-03-28T12:00:00Z"))),
            "2026-03-29T01:00:00Z"
        );
        // A whole day.
        let all = berlin(vec![days("sun", "00:00", "24:00")]);
        assert_eq!(
            show(all.open_since(t("2026-11-29T22:59:59Z"))),
            "2026-11-28T23:00:00Z"
        );
        assert_eq!(all.open_since(t("2026-11-29T23:00:00Z")), None);
    }

    #[test]
    fn cron_windows_with_a_duration() {
        let Schedule::Cron { cron, .. } = Schedule::cron("0 2 * * sun", "UTC").unwrap() else {
            unreachable!()
        };
        let w = Windows {
            tz: chrono_tz::UTC,
            windows: vec![Window::Cron {
                cron,
                duration: Duration::from_secs(2 * 3600),
            }],
        };
        // Sunday 2026-11-29.
        assert_eq!(w.open_since(t("2026-11-29T01:59:59Z")), None);
        assert_eq!(
            show(w.open_since(t("2026-11-29T02:00:00Z"))),
            "2026-11-29T02:00:00Z"
        );
        assert_eq!(
            show(w.open_since(t("2026-11-29T03:59:59Z"))),
            "2026-11-29T02:00:00Z"
        );
        assert_eq!(w.open_since(t("2026-11-29T04:00:00Z")), None);
        assert_eq!(
            show(w.next_open(t("2026-11-29T02:00:00Z"))),
            "2026-12-06T02:00:00Z"
        );
    }

    #[test]
    fn day_and_time_syntax() {
        let on = |text: &str| {
            parse_days(text)
                .unwrap()
                .iter()
                .map(|d| if *d { 'x' } else { '.' })
                .collect::<String>()
        };
        assert_eq!(on("mon-fri"), "xxxxx..");
        assert_eq!(on("sat,sun"), ".....xx");
        assert_eq!(on("fri-mon"), "x...xxx");
        assert_eq!(on("Monday, wed"), "x.x....");
        assert_eq!(on("daily"), "xxxxxxx");
        assert!(parse_days("mon-fry").is_err());
        assert!(parse_days("").is_err());
        assert_eq!(parse_time("08:30").unwrap().to_string(), "08:30:00");
        assert!(parse_time("8h").is_err());
        assert!(parse_time("25:00").is_err());
    }
}
