//! Durations and sizes written for people: `812ms`, `1.25s`, `3h 2m`, `1.2 KiB`.

use std::time::Duration;

/// A latency: milliseconds below a second, then seconds with two or one decimals.
#[must_use]
pub fn latency(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{ms:.2}ms")
    } else if ms < 1000.0 {
        format!("{ms:.0}ms")
    } else if ms < 10_000.0 {
        format!("{:.2}s", ms / 1000.0)
    } else {
        format!("{:.1}s", ms / 1000.0)
    }
}

/// A span of time, to its largest unit and the next: `3h 2m`, `5m 3s`, `45s`, `250ms`.
#[must_use]
pub fn span(d: Duration) -> String {
    if d.as_secs() == 0 {
        return format!("{}ms", d.subsec_millis());
    }
    // To the nearest second, as alerts say it (25.6 s is 26s in the log and the alert).
    let secs = d
        .as_secs()
        .saturating_add(u64::from(d.subsec_millis() >= 500));
    let values = [
        (secs / 86_400, "d"),
        (secs % 86_400 / 3_600, "h"),
        (secs % 3_600 / 60, "m"),
        (secs % 60, "s"),
    ];
    // The largest unit and the one after it: "2d 3h", "5m 3s"; never "2d 1s".
    let first = values
        .iter()
        .position(|(v, _)| *v > 0)
        .unwrap_or(values.len() - 1);
    let parts: Vec<String> = values[first..]
        .iter()
        .take(2)
        .filter(|(v, _)| *v > 0)
        .map(|(v, unit)| format!("{v}{unit}"))
        .collect();
    parts.join(" ")
}

/// Text from the network (ping bodies, reasons, ack notes) made safe for a terminal:
/// control characters (escape sequences that set titles, clear the screen or fake output)
/// and bidirectional overrides are shown escaped (`\u{1b}`), never sent raw.
#[must_use]
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\t')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A size in bytes, in binary units.
#[must_use]
pub fn size(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().iec().to_string()
}

/// A duration in milliseconds for machines (JSON, templates, webhook bodies), to the
/// microsecond: `12.345`, never `12.345000000000001`.
#[must_use]
pub fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_carry_no_float_noise() {
        // 0.001007 s times 1000 is 1.0070000000000001 in f64.
        let d = Duration::from_micros(1007);
        assert_eq!(
            serde_json::to_string(&(d.as_secs_f64() * 1000.0)).unwrap(),
            "1.0070000000000001"
        );
        assert_eq!(serde_json::to_string(&millis(d)).unwrap(), "1.007");
        assert_eq!(
            serde_json::to_string(&millis(Duration::from_nanos(1_500_400))).unwrap(),
            "1.5"
        );
    }

    #[test]
    fn latencies() {
        assert_eq!(latency(Duration::from_micros(250)), "0.25ms");
        assert_eq!(latency(Duration::from_millis(812)), "812ms");
        assert_eq!(latency(Duration::from_millis(1250)), "1.25s");
        assert_eq!(latency(Duration::from_secs(12)), "12.0s");
    }

    #[test]
    fn network_text_is_made_safe_for_terminals() {
        assert_eq!(printable("disk full: 97%\tsda1"), "disk full: 97%\tsda1");
        assert_eq!(
            printable("ok\n\u{1b}]0;PWNED\u{7}\u{1b}[2J"),
            "ok\\u{a}\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J"
        );
        assert_eq!(printable("a\u{202e}b\0"), "a\\u{202e}b\\u{0}");
    }

    #[test]
    fn spans() {
        assert_eq!(span(Duration::from_millis(250)), "250ms");
        assert_eq!(span(Duration::from_secs(45)), "45s");
        // Rounded like the `duration` filter of alerts: the log and the alert agree.
        assert_eq!(span(Duration::from_millis(25_600)), "26s");
        assert_eq!(span(Duration::from_millis(25_400)), "25s");
        assert_eq!(span(Duration::from_millis(59_500)), "1m");
        assert_eq!(span(Duration::from_secs(3600)), "1h");
        assert_eq!(span(Duration::from_secs(3 * 3600 + 120 + 5)), "3h 2m");
        assert_eq!(span(Duration::from_secs(86_400 + 5)), "1d");
        assert_eq!(
            span(Duration::from_secs(2 * 86_400 + 3 * 3600 + 7)),
            "2d 3h"
        );
    }
}
