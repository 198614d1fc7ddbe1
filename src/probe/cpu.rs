//! CPU use: the busy share of all CPUs between two readings of the `cpu` line of
//! `/proc/stat`, taken `SAMPLE_GAP` apart inside the probe (so `check` measures too).

use std::time::Duration;

/// How far apart the two readings are: long enough for a few scheduler ticks (the
/// counters move in hundredths of a second per CPU), short enough for any timeout.
pub(crate) const SAMPLE_GAP: Duration = Duration::from_millis(200);

/// The all-CPU counters: ticks spent busy, and in total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticks {
    pub(crate) busy: u64,
    pub(crate) total: u64,
}

/// The `cpu` line of `/proc/stat`: user nice system idle iowait irq softirq steal (guest
/// time is already counted in user and nice, so it is left out). Idle and iowait are
/// not busy.
pub(crate) fn parse(stat: &str) -> Option<Ticks> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    if fields.len() < 4 {
        return None;
    }
    let total: u64 = fields.iter().sum();
    let idle = fields[3] + fields.get(4).copied().unwrap_or(0);
    Some(Ticks {
        busy: total - idle,
        total,
    })
}

/// Percent busy between two readings; `None` when no tick passed (or the counters went
/// backwards, which a reset would do).
pub(crate) fn percent(before: Ticks, after: Ticks) -> Option<f64> {
    let total = after.total.checked_sub(before.total)?;
    let busy = after.busy.checked_sub(before.busy)?;
    (total > 0).then(|| busy.min(total) as f64 * 100.0 / total as f64)
}

async fn read() -> Option<Ticks> {
    parse(&tokio::fs::read_to_string("/proc/stat").await.ok()?)
}

/// CPU use over the next `SAMPLE_GAP`; `None` where `/proc/stat` cannot be read.
pub(crate) async fn sample() -> Option<f64> {
    let before = read().await?;
    tokio::time::sleep(SAMPLE_GAP).await;
    percent(before, read().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_line_is_parsed() {
        let stat = "cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 1 2 3 4\nintr 1\n";
        // busy = user nice system irq softirq steal = 100+5+50+3+2+0; idle = 800+40.
        assert_eq!(
            parse(stat),
            Some(Ticks {
                busy: 160,
                total: 1000
            })
        );
        assert_eq!(parse("cpu0 1 2 3 4\n"), None);
        assert_eq!(parse("cpu  x 2 3 4\n"), None);
        let a = Ticks {
            busy: 160,
            total: 1000,
        };
        let b = Ticks {
            busy: 190,
            total: 1100,
        };
        assert_eq!(percent(a, b), Some(30.0));
        assert_eq!(percent(a, a), None);
        assert_eq!(percent(b, a), None);
    }

    proptest::proptest! {
        /// Whatever the counters do between two readings, the share is a percent, and
        /// exactly busy over total ticks.
        #[test]
        fn the_share_is_a_percent(
            busy in 0u64..1 << 40, idle in 0u64..1 << 40,
            more_busy in 0u64..1 << 20, more_idle in 0u64..1 << 20,
        ) {
            let a = Ticks { busy, total: busy + idle };
            let b = Ticks { busy: busy + more_busy, total: busy + idle + more_busy + more_idle };
            match percent(a, b) {
                None => proptest::prop_assert_eq!(more_busy + more_idle, 0),
                Some(p) => {
                    proptest::prop_assert!((0.0..=100.0).contains(&p));
                    let want = more_busy as f64 * 100.0 / (more_busy + more_idle) as f64;
                    proptest::prop_assert!((p - want).abs() < 1e-9);
                }
            }
        }
    }

    /// `(busy, total)` as `vmstat` counts them (us+sy+st over all columns but guest),
    /// parsed here independently of `parse`.
    fn vmstat_like() -> (f64, f64) {
        let stat = std::fs::read_to_string("/proc/stat").unwrap();
        let v: Vec<f64> = stat.lines().next().unwrap()[3..]
            .split(' ')
            .filter(|f| !f.is_empty())
            .map(|f| f.parse().unwrap())
            .collect();
        let total: f64 = v[..8].iter().sum();
        (total - v[3] - v[4], total)
    }

    /// Against the kernel: the probe's share over its sample gap agrees with an
    /// independent reading taken around it (a slightly longer window, so a tolerance).
    #[tokio::test]
    async fn the_real_proc_stat_agrees_with_an_independent_reading() {
        let (b0, t0) = vmstat_like();
        let p = sample().await.expect("/proc/stat readable on Linux");
        let (b1, t1) = vmstat_like();
        let independent = (b1 - b0) * 100.0 / (t1 - t0);
        println!("cpu_percent {p:.1}, independent {independent:.1}");
        assert!((0.0..=100.0).contains(&p), "{p}");
        assert!((p - independent).abs() < 25.0, "{p} vs {independent}");
    }
}
