//! The small parsers: durations, cron expressions (and their next/previous runs from
//! fixed times, around DST changes too), weekday lists, times of day, and windows built
//! from them. Sizes and HTTP status ranges have no public parser: the `config` target
//! reaches them.
//!
//! The first byte picks the time zone and the instant; the rest is split on `\n` into
//! up to four fields that every parser sees.
#![no_main]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hbmon::schedule::{Schedule, Window, Windows, parse_days, parse_time};
use libfuzzer_sys::fuzz_target;

const ZONES: [&str; 8] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe", // a 30-minute DST shift
    "Pacific/Chatham",     // +12:45 / +13:45
    "America/Santiago",    // DST change at midnight
    "Asia/Kathmandu",
    "No/Such_Zone",
];

/// Fixed instants: 2026-01-05, the nights the clocks change in Europe and the US in
/// 2026, a leap day, the epoch, and far in the future.
const INSTANTS: [u64; 8] = [
    1_767_600_600,
    1_774_746_000,   // 2026-03-29 01:00 UTC (Europe springs forward)
    1_792_890_000,   // 2026-10-25 01:00 UTC (Europe falls back)
    1_772_953_200,   // 2026-03-08 07:00 UTC (US springs forward)
    1_709_164_800,   // 2024-02-29
    0,
    4_102_444_800,   // 2100-01-01
    253_402_300_000, // year 9999
];

fn runs(s: &Schedule, from: SystemTime) {
    let _ = s.first_run(from);
    let mut t = from;
    for _ in 0..5 {
        match s.next_run(t) {
            Some(n) => {
                assert!(n > t, "next_run({t:?}) = {n:?} is not later");
                t = n;
            }
            None => break,
        }
    }
    if let Some(p) = s.previous_run(from) {
        assert!(p <= from, "previous_run({from:?}) = {p:?} is later");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let zone = ZONES[usize::from(head & 7)];
    let from = UNIX_EPOCH + Duration::from_secs(INSTANTS[usize::from((head >> 3) & 7)]);
    let mut fields = text.splitn(4, '\n');
    let a = fields.next().unwrap_or_default();
    let b = fields.next().unwrap_or_default();
    let c = fields.next().unwrap_or_default();
    let d = fields.next().unwrap_or_default();

    // Durations, and what is computed from them.
    let interval = hbmon::units::parse_duration(a).ok();
    let offset = hbmon::units::parse_duration(b).ok();
    if let Some(i) = interval {
        let _ = hbmon::humanize::span(i);
        let _ = hbmon::humanize::latency(i);
        let off = hbmon::schedule::jitter_offset(b, i);
        assert!(off < i);
        for align in [false, true] {
            let every = Schedule::Every {
                interval: i,
                align,
                offset: offset.unwrap_or(off),
            };
            runs(&every, from);
        }
    }

    // Cron, in the chosen zone and in a zone read from the input.
    for (expr, tz) in [(a, zone), (text, zone), (a, b)] {
        if let Ok(s) = Schedule::cron(expr, tz) {
            runs(&s, from);
            if let Some(dur) = interval {
                let windows = Windows {
                    tz: zone.parse().unwrap_or(chrono_tz::UTC),
                    windows: vec![Window::Cron {
                        schedule: s,
                        duration: dur,
                    }],
                };
                let _ = windows.open_since(from);
                let _ = windows.next_open(from);
            }
        }
    }

    // Weekdays and times of day, and a window made of them.
    let days = parse_days(a).or_else(|_| parse_days(text));
    let t1 = parse_time(b);
    let t2 = parse_time(c);
    let _ = parse_time(a);
    let _ = parse_days(d);
    if let (Ok(days), Ok(from_t), Ok(to_t)) = (days, t1, t2) {
        let windows = Windows {
            tz: zone.parse().unwrap_or(chrono_tz::UTC),
            windows: vec![Window::Days {
                days,
                from: from_t,
                to: to_t,
            }],
        };
        let _ = windows.open_since(from);
        let _ = windows.next_open(from);
    }
});
