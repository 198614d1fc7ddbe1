//! systemd timers from their unit files: the enabled ones (linked from a `*.wants/` or
//! `*.requires/` directory), with a heartbeat period and grace derived from `[Timer]`.
//! Unit files are read rather than asking `systemctl`, so that it works where systemd
//! does not run (a container, a build machine) and is testable with a directory.
//!
//! The period is an upper bound on the time between two runs (a heartbeat that expects
//! pings too often alerts for nothing): `OnCalendar=daily` is `1d`, `*-*-* 6,18:00` is
//! `12h`, `OnUnitActiveSec=1d` is `1d`. The grace adds the randomized delay and accuracy.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Timer;

const MINUTE: u64 = 60;
const HOUR: u64 = 3_600;
const DAY: u64 = 86_400;
/// The longest period written: the config's limit is ten years.
const MAX_PERIOD: u64 = 366 * DAY;

/// The enabled timers under `dirs` (earlier directories override later ones, as
/// `/etc/systemd/system` does `/usr/lib/systemd/system`), and notes on the ones left out.
pub(crate) fn find(dirs: &[PathBuf]) -> (Vec<Timer>, Vec<String>) {
    let mut notes = Vec::new();
    let mut enabled = BTreeSet::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let wants = entry.file_name().to_string_lossy().into_owned();
            let ext = Path::new(&wants).extension().and_then(|e| e.to_str());
            if !matches!(ext, Some("wants" | "requires")) {
                continue;
            }
            for unit in std::fs::read_dir(entry.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let unit = unit.file_name().to_string_lossy().into_owned();
                if let Some(name) = unit.strip_suffix(".timer") {
                    enabled.insert(name.to_owned());
                }
            }
        }
    }
    let mut timers = Vec::new();
    for name in enabled {
        let Some(text) = unit_text(dirs, &format!("{name}.timer")) else {
            notes.push(format!(
                "timer {name}.timer is enabled but its unit file was not found"
            ));
            continue;
        };
        let timer = parse_timer(&name, &text);
        let Some(mut timer) = timer else {
            notes.push(format!(
                "timer {name}.timer runs once (no OnCalendar= or OnUnitActiveSec=): no heartbeat"
            ));
            continue;
        };
        if let Some(service) = unit_text(dirs, &timer.service) {
            timer.exec_start = section(&service, "Service")
                .get("ExecStart")
                .cloned()
                .unwrap_or_default();
        }
        timers.push(timer);
    }
    (timers, notes)
}

/// A unit file's text from the first directory that has it; an instance
/// (`backup@home.timer`) falls back to its template (`backup@.timer`).
fn unit_text(dirs: &[PathBuf], unit: &str) -> Option<String> {
    let template = unit.split_once('@').and_then(|(prefix, rest)| {
        let suffix = rest.rsplit_once('.')?.1;
        Some(format!("{prefix}@.{suffix}"))
    });
    let instance = unit
        .split_once('@')
        .and_then(|(_, rest)| rest.rsplit_once('.'))
        .map(|(i, _)| i.to_owned());
    for candidate in std::iter::once(unit.to_owned()).chain(template) {
        for dir in dirs {
            if let Ok(text) = std::fs::read_to_string(Path::new(dir).join(&candidate)) {
                return Some(match &instance {
                    Some(i) if candidate != unit => text.replace("%i", i).replace("%I", i),
                    _ => text,
                });
            }
        }
    }
    None
}

/// The assignments of one `[Section]`, each key's values in order; an empty assignment
/// clears the earlier ones, as systemd does.
pub(crate) fn section(text: &str, name: &str) -> BTreeMap<String, Vec<String>> {
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut inside = false;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let mut line = line.trim().to_owned();
        // A backslash at the end continues the line.
        while line.ends_with('\\') {
            line.pop();
            match lines.next() {
                Some(next) => {
                    line.push(' ');
                    line.push_str(next.trim());
                }
                None => break,
            }
        }
        if line.starts_with('[') {
            inside = line == format!("[{name}]");
            continue;
        }
        if !inside || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let (key, value) = (key.trim(), value.trim());
            let list = values.entry(key.to_owned()).or_default();
            if value.is_empty() {
                list.clear();
            } else {
                list.push(value.to_owned());
            }
        }
    }
    values
}

/// A timer from its unit file, or `None` when it does not repeat.
pub(crate) fn parse_timer(name: &str, text: &str) -> Option<Timer> {
    let t = section(text, "Timer");
    let get = |key: &str| t.get(key).map(Vec::as_slice).unwrap_or_default();
    let mut schedule = Vec::new();
    let mut period: Option<u64> = None;
    let mut understood = true;
    let mut shorter = |p: u64| period = Some(period.map_or(p, |q| q.min(p)));
    for expr in get("OnCalendar") {
        schedule.push(format!("OnCalendar={expr}"));
        if let Some(p) = calendar_period(expr) {
            shorter(p);
        } else {
            understood = false;
            shorter(DAY);
        }
    }
    for key in ["OnUnitActiveSec", "OnUnitInactiveSec"] {
        for value in get(key) {
            schedule.push(format!("{key}={value}"));
            match span(value) {
                Some(p) if p > 0 => shorter(p),
                _ => {
                    understood = false;
                    shorter(DAY);
                }
            }
        }
    }
    let period = period?.clamp(MINUTE, MAX_PERIOD);
    let delay = get("RandomizedDelaySec")
        .last()
        .and_then(|v| span(v))
        .unwrap_or(0);
    let accuracy = get("AccuracySec")
        .last()
        .and_then(|v| span(v))
        .unwrap_or(MINUTE);
    // The job's own run time, and some slack: a tenth of the period, at least 5 minutes.
    let slack = (period / 10).max(5 * MINUTE);
    let grace = (delay + accuracy + slack).div_ceil(MINUTE) * MINUTE;
    let service = get("Unit")
        .last()
        .cloned()
        .unwrap_or_else(|| format!("{name}.service"));
    Some(Timer {
        name: name.to_owned(),
        service,
        schedule,
        period: Duration::from_secs(period),
        grace: Duration::from_secs(grace.min(MAX_PERIOD)),
        understood,
        exec_start: Vec::new(),
    })
}

/// A systemd time span in seconds: `15min`, `1h 30min`, `1d`, `6000` (seconds).
pub(crate) fn span(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(secs);
    }
    if text == "infinity" {
        return None;
    }
    humantime::parse_duration(text).ok().map(|d| d.as_secs())
}

/// The longest time between two firings of an `OnCalendar=` expression, for the forms
/// timers use: the shorthands, a weekday list, a date with `*` or fixed fields, and a
/// time with hour lists, ranges and steps. `None` when it is not understood.
pub(crate) fn calendar_period(expr: &str) -> Option<u64> {
    let expr = expr.trim();
    let shorthand = match expr {
        "minutely" => Some(MINUTE),
        "hourly" => Some(HOUR),
        "daily" => Some(DAY),
        "weekly" => Some(7 * DAY),
        "monthly" => Some(31 * DAY),
        "quarterly" => Some(92 * DAY),
        "semiannually" => Some(184 * DAY),
        "yearly" | "annually" => Some(366 * DAY),
        _ => None,
    };
    if shorthand.is_some() {
        return shorthand;
    }
    let mut parts: Vec<&str> = expr.split_whitespace().collect();
    // A trailing time zone (`UTC`, `Europe/Berlin`) does not change the spacing.
    if parts
        .last()
        .is_some_and(|p| p.chars().next().is_some_and(char::is_alphabetic) && parts.len() > 1)
    {
        parts.pop();
        if let [alone] = parts.as_slice()
            && !alone.contains([':', '-'])
        {
            // `daily UTC`
            return calendar_period(alone);
        }
    }
    let mut weekdays = false;
    if parts
        .first()
        .is_some_and(|p| p.chars().next().is_some_and(char::is_alphabetic))
    {
        weekdays = true;
        parts.remove(0);
    }
    let (date, time) = match parts.as_slice() {
        [d, t] if d.contains('-') && t.contains(':') => (*d, *t),
        [t] if t.contains(':') => ("*-*-*", *t),
        [d] if d.contains('-') => (*d, "00:00:00"),
        _ => return None,
    };
    let date_fields: Vec<&str> = date.split('-').collect();
    let day_span = match date_fields.as_slice() {
        [_, "*", "*"] | ["*", "*"] => DAY,
        [_, "*", _] | ["*", _] => 31 * DAY,
        [_, _, _] | [_, _] => 366 * DAY,
        _ => return None,
    };
    if weekdays || day_span > DAY {
        // Once a week at most, or on certain days of the month or year.
        return Some(day_span.max(7 * DAY));
    }
    let fields: Vec<&str> = time.split(':').collect();
    let (hours, minutes) = match fields.as_slice() {
        [h, m] | [h, m, _] => (*h, *m),
        _ => return None,
    };
    let minute_gap = gap(minutes, 60)?;
    if hours == "*" {
        return Some(minute_gap.min(60) * MINUTE);
    }
    let hour_gap = gap(hours, 24)?;
    Some(hour_gap * HOUR)
}

/// The longest gap (in units, wrapping at `modulo`) between the values of a calendar field:
/// `*` (1), `6,18` (12), `0/4` (4), `8..20` (12: from 20 to 8 the next day).
fn gap(field: &str, modulo: u64) -> Option<u64> {
    if field == "*" {
        return Some(1);
    }
    let mut values = BTreeSet::new();
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, s.parse::<u64>().ok().filter(|s| *s > 0)?),
            None => (item, 1),
        };
        let (start, end) = match range.split_once("..") {
            Some((a, b)) => (a.parse::<u64>().ok()?, b.parse::<u64>().ok()?),
            None if range == "*" => (0, modulo - 1),
            None if item.contains('/') => (range.parse::<u64>().ok()?, modulo - 1),
            None => {
                let v = range.parse::<u64>().ok()?;
                (v, v)
            }
        };
        if start > end || end >= modulo {
            return None;
        }
        values.extend((start..=end).step_by(usize::try_from(step).ok()?));
    }
    let values: Vec<u64> = values.into_iter().collect();
    let first = *values.first()?;
    let last = *values.last()?;
    let wrap = first + modulo - last;
    Some(
        values
            .windows(2)
            .map(|w| w[1] - w[0])
            .chain(std::iter::once(wrap))
            .max()
            .unwrap_or(modulo),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_periods() {
        for (expr, want) in [
            ("daily", Some(DAY)),
            ("weekly", Some(7 * DAY)),
            ("*-*-* 6,18:00", Some(12 * HOUR)),
            ("*-*-* 00:00:00", Some(DAY)),
            ("*-*-* *:00/15", Some(15 * MINUTE)),
            ("*-*-* *:00", Some(HOUR)),
            ("Mon *-*-* 00:00:00", Some(7 * DAY)),
            ("Mon..Fri 09:00", Some(7 * DAY)),
            ("*-*-01 03:00", Some(31 * DAY)),
            ("*-01-01 00:00", Some(366 * DAY)),
            ("*-*-* 0/4:00", Some(4 * HOUR)),
            ("*-*-* 8..20:00", Some(12 * HOUR)),
            ("03:30", Some(DAY)),
            ("*-*-* 02:00 Europe/Berlin", Some(DAY)),
            ("weekly Europe/Berlin", Some(7 * DAY)),
            ("nonsense", None),
            ("*-*-* 25:00", None),
        ] {
            assert_eq!(calendar_period(expr), want, "{expr}");
        }
    }

    #[test]
    fn spans() {
        assert_eq!(span("15min"), Some(15 * MINUTE));
        assert_eq!(span("1h 30min"), Some(90 * MINUTE));
        assert_eq!(span("6000"), Some(6000));
        assert_eq!(span("1d"), Some(DAY));
        assert_eq!(span("12h"), Some(12 * HOUR));
    }

    #[test]
    fn a_timer_with_a_randomized_delay_gets_it_as_grace() {
        let t = parse_timer(
            "apt-daily",
            "[Unit]\nDescription=x\n\n[Timer]\nOnCalendar=*-*-* 6,18:00\nRandomizedDelaySec=12h\nPersistent=true\n",
        )
        .unwrap();
        assert_eq!(t.period, Duration::from_secs(12 * HOUR));
        // 12h delay + 1m accuracy + 72m (a tenth of the period).
        assert_eq!(t.grace, Duration::from_secs(12 * HOUR + 73 * MINUTE));
        assert_eq!(t.service, "apt-daily.service");
        assert!(t.understood);
    }

    #[test]
    fn boot_only_timers_are_not_heartbeats_and_active_sec_repeats() {
        assert!(parse_timer("once", "[Timer]\nOnBootSec=15min\n").is_none());
        let t = parse_timer(
            "tmpfiles",
            "[Timer]\nOnBootSec=15min\nOnUnitActiveSec=1d\nUnit=other.service\n",
        )
        .unwrap();
        assert_eq!(t.period, Duration::from_secs(DAY));
        assert_eq!(t.service, "other.service");
        assert_eq!(t.schedule, ["OnUnitActiveSec=1d"]);
    }

    #[test]
    fn an_empty_assignment_clears_and_unknown_calendars_are_flagged() {
        let t = parse_timer(
            "x",
            "[Timer]\nOnCalendar=hourly\nOnCalendar=\nOnCalendar=Mon,Wed/2 *~05\n",
        )
        .unwrap();
        assert!(!t.understood);
        assert_eq!(t.period, Duration::from_secs(DAY));
        let s = section("[Service]\nExecStart=/bin/a \\\n  --flag\n", "Service");
        assert_eq!(s["ExecStart"], ["/bin/a  --flag"]);
    }
}
