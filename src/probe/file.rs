//! The file probe: the file must exist, and optionally be recent and large enough.

use std::time::SystemTime;

use super::Outcome;
use crate::humanize;
use crate::model::FileProbe;
use crate::status::Status;

pub async fn probe(p: &FileProbe) -> Outcome {
    let meta = match tokio::fs::metadata(&p.path).await {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Outcome::new(Status::Down, "file not found");
        }
        Err(e) => {
            return Outcome::new(
                Status::Unknown,
                format!("cannot inspect the file: {}", crate::net::io_reason(&e)),
            );
        }
    };
    let now = SystemTime::now();
    let modified = meta.modified().ok();
    let mut outcome =
        evaluate(p, meta.len(), modified, now).measure("size_bytes", meta.len() as f64);
    if let Some(m) = modified {
        let age = match now.duration_since(m) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => -e.duration().as_secs_f64(),
        };
        outcome = outcome.measure("age_seconds", age);
    }
    outcome
}

/// The pure part: size and modification time against the limits, at `now`.
fn evaluate(p: &FileProbe, size: u64, modified: Option<SystemTime>, now: SystemTime) -> Outcome {
    let age = modified.map(|m| now.duration_since(m).unwrap_or_default());
    if let Some(min) = p.min_size
        && size < min
    {
        return Outcome::new(
            Status::Down,
            format!(
                "size {} is below {}",
                humanize::size(size),
                humanize::size(min)
            ),
        );
    }
    if let Some(max) = p.max_age {
        match age {
            Some(age) if age > max => {
                return Outcome::new(
                    Status::Down,
                    format!(
                        "modified {} ago (max {})",
                        humanize::span(age),
                        humanize::span(max)
                    ),
                );
            }
            Some(_) => {}
            None => {
                return Outcome::new(
                    Status::Unknown,
                    "the file system does not record modification times",
                );
            }
        }
    }
    let age = age.map_or_else(String::new, |a| {
        format!(", modified {} ago", humanize::span(a))
    });
    Outcome::new(Status::Up, format!("{}{age}", humanize::size(size)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn size_and_age_limits() {
        let p = FileProbe {
            path: "/x".into(),
            max_age: Some(Duration::from_secs(3600)),
            min_size: Some(1024),
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let ago = |s| Some(now - Duration::from_secs(s));
        let fresh = evaluate(&p, 2048, ago(300), now);
        assert_eq!(
            (fresh.status, fresh.reason.as_str()),
            (Status::Up, "2.0 KiB, modified 5m ago")
        );
        let old = evaluate(&p, 2048, ago(3 * 3600 + 120), now);
        assert_eq!(
            (old.status, old.reason.as_str()),
            (Status::Down, "modified 3h 2m ago (max 1h)")
        );
        let small = evaluate(&p, 10, ago(1), now);
        assert_eq!(
            (small.status, small.reason.as_str()),
            (Status::Down, "size 10 B is below 1.0 KiB")
        );
        // A clock step backwards must not make a file look old.
        assert_eq!(
            evaluate(&p, 2048, Some(now + Duration::from_secs(60)), now).status,
            Status::Up
        );
    }
}
