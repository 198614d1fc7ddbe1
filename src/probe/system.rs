//! The system probe: disk usage, memory use, load average (sysinfo) and CPU use of this
//! machine, each against warning and critical levels; the worst check decides the status.

use std::path::{Path, PathBuf};

use super::Outcome;
use crate::model::{Levels, SystemProbe};
use crate::status::{Status, worst};

pub async fn probe(p: &SystemProbe) -> Outcome {
    let disk = p.disk.clone();
    let (memory, load) = (p.memory, p.load);
    // sysinfo reads /proc and calls statvfs: blocking work.
    let readings = tokio::task::spawn_blocking(move || {
        read(
            disk.as_ref().map(|d| d.0.as_path()),
            memory.is_some(),
            load.is_some(),
        )
    })
    .await
    .unwrap_or_else(|_| Readings::failed());
    let mut parts: Vec<(Status, String)> = Vec::new();
    let mut measured: super::Measurements = Vec::new();
    let cpu = super::cpu::sample().await;
    if let Some(pct) = cpu {
        measured.push(("cpu_percent", pct));
    }
    if let Ok(pct) = &readings.disk {
        measured.push(("disk_percent", *pct));
    }
    if let Some(pct) = readings.memory {
        measured.push(("memory_percent", pct));
    }
    if p.load.is_some() {
        measured.push(("load1", readings.load));
        measured.push(("load_per_cpu", readings.load / readings.cpus.max(1) as f64));
    }
    if let Some((path, levels)) = &p.disk {
        parts.push(match &readings.disk {
            Ok(pct) => judge(
                *pct,
                *levels,
                &format!("disk {} {pct:.1}% used", path.display()),
                "%",
            ),
            Err(e) => (Status::Unknown, e.clone()),
        });
    }
    if let Some(levels) = p.memory {
        parts.push(match readings.memory {
            Some(pct) => judge(pct, levels, &format!("memory {pct:.1}% used"), "%"),
            None => (Status::Unknown, "memory use is not available".into()),
        });
    }
    if let Some((levels, per_cpu)) = p.load {
        let value = if per_cpu {
            readings.load / readings.cpus.max(1) as f64
        } else {
            readings.load
        };
        let what = if per_cpu { "load per CPU" } else { "load" };
        parts.push(judge(value, levels, &format!("{what} {value:.2}"), ""));
    }
    if let Some(levels) = p.cpu {
        parts.push(match cpu {
            Some(pct) => judge(pct, levels, &format!("cpu {pct:.1}% busy"), "%"),
            None => (Status::Unknown, "CPU use is not available".into()),
        });
    }
    let status = worst(parts.iter().map(|(s, _)| *s));
    // The reason leads with the checks that decided the status.
    parts.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    let reason = parts
        .into_iter()
        .map(|(_, r)| r)
        .collect::<Vec<_>>()
        .join("; ");
    Outcome {
        measurements: measured,
        ..Outcome::new(status, reason)
    }
}

fn judge(value: f64, levels: Levels, what: &str, unit: &str) -> (Status, String) {
    match (levels.warning, levels.critical) {
        (_, Some(c)) if value >= c => (Status::Down, format!("{what} (critical at {c}{unit})")),
        (Some(w), _) if value >= w => (Status::Degraded, format!("{what} (warning at {w}{unit})")),
        _ => (Status::Up, what.to_owned()),
    }
}

struct Readings {
    disk: Result<f64, String>,
    memory: Option<f64>,
    load: f64,
    cpus: usize,
}

impl Readings {
    fn failed() -> Self {
        Readings {
            disk: Err("cannot read disk usage".into()),
            memory: None,
            load: 0.0,
            cpus: 1,
        }
    }
}

fn read(disk_path: Option<&Path>, memory: bool, load: bool) -> Readings {
    let disk = disk_path.map_or(Ok(0.0), disk_used_percent);
    let memory = memory.then(|| {
        let mut sys = sysinfo::System::new();
        sys.refresh_memory();
        let total = sys.total_memory();
        (total > 0)
            .then(|| (total.saturating_sub(sys.available_memory())) as f64 * 100.0 / total as f64)
    });
    Readings {
        disk,
        memory: memory.flatten(),
        load: if load {
            sysinfo::System::load_average().one
        } else {
            0.0
        },
        cpus: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
    }
}

/// Percent of the file system holding `path` that is used, as `df` counts it: used
/// blocks over those a user can have (used + available), so that blocks reserved for root
/// count neither as used nor as free.
pub(crate) fn disk_used_percent(path: &Path) -> Result<f64, String> {
    let path: PathBuf = path
        .canonicalize()
        .map_err(|e| format!("disk {}: {}", path.display(), crate::net::io_reason(&e)))?;
    let st = nix::sys::statvfs::statvfs(&path).map_err(|e| {
        format!(
            "disk {}: {}",
            path.display(),
            crate::net::io_reason(&std::io::Error::from(e))
        )
    })?;
    used_percent(st.blocks(), st.blocks_free(), st.blocks_available())
        .ok_or_else(|| format!("file system at {} reports no size", path.display()))
}

/// `df`'s Use%: of `blocks`, `free` are free and `available` of those free to users.
fn used_percent(blocks: u64, free: u64, available: u64) -> Option<f64> {
    let used = blocks.saturating_sub(free);
    let usable = used + available;
    (usable > 0).then(|| used as f64 * 100.0 / usable as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file system with much reserved for root (here 42 of 66 blocks): `df` says 79%.
    #[test]
    fn disk_use_is_counted_as_df_counts_it() {
        let pct = used_percent(66_053_021, 47_315_464, 5_083_915).unwrap();
        assert!((pct - 78.66).abs() < 0.01, "{pct}");
        assert_eq!(used_percent(100, 100, 95), Some(0.0));
        assert_eq!(used_percent(100, 0, 0), Some(100.0));
        assert_eq!(used_percent(0, 0, 0), None);
    }

    #[test]
    fn levels() {
        let l = Levels {
            warning: Some(80.0),
            critical: Some(90.0),
        };
        assert_eq!(judge(50.0, l, "x", "%").0, Status::Up);
        assert_eq!(
            judge(80.0, l, "x", "%"),
            (Status::Degraded, "x (warning at 80%)".into())
        );
        assert_eq!(judge(95.0, l, "x", "%").0, Status::Down);
        let only_critical = Levels {
            warning: None,
            critical: Some(2.0),
        };
        assert_eq!(judge(1.5, only_critical, "x", "").0, Status::Up);
    }
}
