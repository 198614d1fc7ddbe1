//! Durations as people write them, bounded: every duration hbmon reads (config, flags,
//! `for` of an ack, `simulate` timelines) goes through [`parse_duration`], so none is so
//! large that adding it to a time overflows.

use std::time::Duration;

/// The longest duration hbmon takes anywhere: 10 years (`10y`, `3652d`). Times are
/// computed with it added without any check overflowing for centuries.
pub const MAX_DURATION: Duration = Duration::from_secs(315_576_000);

/// Why a duration was refused. The text is never quoted back: it may come from a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationError {
    /// Not a duration at all.
    Invalid,
    /// Zero, where a duration must pass.
    Zero,
    /// Longer than [`MAX_DURATION`].
    TooLong,
}

impl std::fmt::Display for DurationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DurationError::Invalid => "invalid duration",
            DurationError::Zero => "duration must be longer than zero",
            DurationError::TooLong => "duration longer than the maximum of 10 years (`10y`)",
        })
    }
}

/// A positive duration of at most [`MAX_DURATION`]: `30s`, `1.5s`, `5m`, `1h30m`, `2d`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    if text.contains('.') {
        return match decimal(text) {
            Some(d) if d.is_zero() => Err(DurationError::Zero),
            Some(d) if d > MAX_DURATION => Err(DurationError::TooLong),
            Some(d) => Ok(d),
            None => Err(DurationError::Invalid),
        };
    }
    match humantime::parse_duration(text.trim()) {
        Ok(d) if d.is_zero() => Err(DurationError::Zero),
        Ok(d) if d > MAX_DURATION => Err(DurationError::TooLong),
        Ok(d) => Ok(d),
        // humantime refuses numbers past u64 as "number is too large".
        Err(humantime::DurationError::NumberOverflow) => Err(DurationError::TooLong),
        Err(_) => Err(DurationError::Invalid),
    }
}

/// Seconds per unit, as humantime counts them (a month is 30.44 days, a year 365.25).
fn unit_seconds(unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" | "nsec" => 1e-9,
        "us" | "usec" => 1e-6,
        "ms" | "msec" => 1e-3,
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "week" | "weeks" => 604_800.0,
        "M" | "month" | "months" => 2_630_016.0,
        "y" | "year" | "years" => 31_557_600.0,
        _ => return None,
    })
}

/// `1.5s`, `0.5h 30m`: numbers with decimals, each with a unit.
fn decimal(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    let mut total = 0.0_f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_end].parse().ok()?;
        rest = rest[number_end..].trim_start();
        let unit_end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        total += number * unit_seconds(&rest[..unit_end])?;
        rest = rest[unit_end..].trim_start();
    }
    // Past the maximum is reported as too long, not as an overflow.
    Duration::try_from_secs_f64(total.min(MAX_DURATION.as_secs_f64() * 2.0)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_may_have_decimals() {
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0.5h 30m"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration(" 2.25m "), Ok(Duration::from_secs(135)));
        assert_eq!(parse_duration("0.0s"), Err(DurationError::Zero));
        assert_eq!(parse_duration("10.5y"), Err(DurationError::TooLong));
        for bad in ["1.5", "1..5s", ".s", "1.5 parsecs", "1.5s 3"] {
            assert_eq!(parse_duration(bad), Err(DurationError::Invalid), "{bad}");
        }
    }

    #[test]
    fn durations_are_positive_and_bounded() {
        assert_eq!(parse_duration(" 1h30m "), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("10y"), Ok(MAX_DURATION));
        assert_eq!(parse_duration("0s"), Err(DurationError::Zero));
        assert_eq!(parse_duration("10y1s"), Err(DurationError::TooLong));
        assert_eq!(
            parse_duration("18446744073709551615s"),
            Err(DurationError::TooLong)
        );
        assert_eq!(
            parse_duration("99999999999999999999999s"),
            Err(DurationError::TooLong)
        );
        assert_eq!(parse_duration("soon"), Err(DurationError::Invalid));
        assert_eq!(parse_duration(""), Err(DurationError::Invalid));
    }

    proptest::proptest! {
        /// Any text: an answer, never a panic, and what is accepted fits.
        #[test]
        fn any_text_is_refused_or_bounded(text in "\\PC{0,24}|[0-9]{1,25}[a-z]{0,3}") {
            if let Ok(d) = parse_duration(&text) {
                proptest::prop_assert!(!d.is_zero() && d <= MAX_DURATION);
                let now = std::time::SystemTime::now();
                proptest::prop_assert!(now.checked_add(d).is_some());
                proptest::prop_assert!(std::time::Instant::now().checked_add(d).is_some());
            }
        }
    }
}
