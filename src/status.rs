//! The status of a monitor and how statuses combine into an exit code.

use serde::{Deserialize, Serialize};

use crate::exit;

/// The status of one observation or monitor, ordered by severity: the worst of several
/// is their maximum. DOWN outranks UNKNOWN (something is known to be broken), and
/// UNKNOWN outranks DEGRADED (something could not be checked at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Up,
    Degraded,
    Unknown,
    Down,
}

impl Status {
    /// The Nagios-convention exit code for this status.
    #[must_use]
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Up => exit::OK,
            Status::Degraded => exit::WARNING,
            Status::Down => exit::CRITICAL,
            Status::Unknown => exit::UNKNOWN,
        }
    }

    /// Upper-case label for reports.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Status::Up => "UP",
            Status::Degraded => "DEGRADED",
            Status::Unknown => "UNKNOWN",
            Status::Down => "DOWN",
        }
    }

    /// The status named by `name()`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Status> {
        [Status::Up, Status::Degraded, Status::Unknown, Status::Down]
            .into_iter()
            .find(|s| s.name() == name)
    }

    /// Lower-case name, as in JSON output.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Status::Up => "up",
            Status::Degraded => "degraded",
            Status::Unknown => "unknown",
            Status::Down => "down",
        }
    }
}

/// The worst status of a set; `Up` for an empty set.
pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Status {
    statuses.into_iter().max().unwrap_or(Status::Up)
}

#[cfg(test)]
mod tests {
    use super::{Status::*, worst};

    #[test]
    fn worst_status_decides_the_exit_code() {
        let cases = [
            (vec![], 0),
            (vec![Up, Up], 0),
            (vec![Up, Degraded], 1),
            (vec![Degraded, Unknown], 3),
            (vec![Unknown, Down, Degraded], 2),
            (vec![Down, Up], 2),
        ];
        for (statuses, code) in cases {
            assert_eq!(worst(statuses.clone()).exit_code(), code, "{statuses:?}");
        }
    }
}
