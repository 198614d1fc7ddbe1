//! The exit-code table, in one place.
//!
//! Codes 0-3 follow the Nagios plugin convention so that `hbmon check --format nagios`
//! works unchanged under Nagios, Icinga, Sensu and Zabbix agents. The others follow
//! BSD `sysexits.h`, so that a usage error (64) can never be read as CRITICAL (2), which
//! is what clap's own default exit code would mean here. The README repeats this table;
//! a test keeps the two in step.

/// Every selected monitor is up (or the command succeeded).
pub const OK: u8 = 0;
/// Nothing is down, but something is degraded (slow, near a threshold).
pub const WARNING: u8 = 1;
/// At least one monitor is down.
pub const CRITICAL: u8 = 2;
/// A monitor could not be evaluated (no permission, missing tool, ...).
pub const UNKNOWN: u8 = 3;
/// Bad command-line flags or arguments; `hbmon init` over an existing file without `--force`.
pub const USAGE: u8 = 64;
/// Nothing to act on: `hbmon ack` of a monitor without an open incident.
pub const UNAVAILABLE: u8 = 69;
/// An internal error: a bug in hbmon.
pub const SOFTWARE: u8 = 70;
/// An I/O error outside the configuration: writing output, reading the store.
pub const IO: u8 = 74;
/// Accepted but not done yet: `hbmon ack` queued while no `watch` runs.
pub const TEMPFAIL: u8 = 75;
/// The configuration is unreadable or invalid (YAML, schema or semantic error).
pub const CONFIG: u8 = 78;

/// `(code, name, meaning)` for every code, in the order the README lists them.
pub const TABLE: &[(u8, &str, &str)] = &[
    (OK, "OK", "every selected monitor is up"),
    (
        WARNING,
        "WARNING",
        "nothing down, but something degraded (`healthcheck`: `watch` is not healthy)",
    ),
    (CRITICAL, "CRITICAL", "at least one monitor is down"),
    (UNKNOWN, "UNKNOWN", "a monitor could not be evaluated"),
    (
        USAGE,
        "USAGE",
        "bad flags or arguments (`init`: the file exists, no `--force`)",
    ),
    (
        UNAVAILABLE,
        "UNAVAILABLE",
        "nothing to act on (`ack`: no open incident)",
    ),
    (SOFTWARE, "SOFTWARE", "internal error"),
    (
        IO,
        "IO",
        "I/O error (writing output, store unreadable, disk full)",
    ),
    (
        TEMPFAIL,
        "TEMPFAIL",
        "queued, not applied yet (`ack` while no `watch` runs)",
    ),
    (CONFIG, "CONFIG", "configuration unreadable or invalid"),
];

/// The exit-code list of `--help`, from [`TABLE`].
#[must_use]
pub fn help() -> String {
    let codes: Vec<String> = TABLE
        .iter()
        .map(|(code, _, meaning)| format!("{code} {meaning}"))
        .collect();
    format!("Exit codes: {}.", codes.join("; "))
}
