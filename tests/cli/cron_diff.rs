//! hbmon's cron against an independent implementation, Python's cronsim (installed by
//! `.ci/run`): hundreds of expressions (steps, ranges, lists, `L`, `LW`, `W`, `#`, `5L`,
//! Feb 29, day-of-month with day-of-week, names, nicknames, `?`, a seconds field) in five
//! zones (`Europe/Berlin`, `America/New_York`, `Australia/Lord_Howe` with its 30-minute
//! shift, `Asia/Kolkata`, UTC), from instants around both DST transitions and ordinary
//! ones. Every fire time must be equal, and `Schedule::previous_run` must find the same
//! times backwards. What hbmon reads beyond cronsim (`W`, `?`, nicknames, `MON-SUN`) is
//! rewritten by `cronsim_diff.py` into what it means.

use std::time::SystemTime;

use hbmon::schedule::Schedule;
use serde_json::{Value, json};

const ZONES: [&str; 5] = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "UTC",
];

/// Start instants per zone: shortly before each DST change of 2026 (Lord Howe moves by
/// 30 minutes), or ordinary days for zones without one.
fn starts(zone: &str) -> [&'static str; 2] {
    match zone {
        "Europe/Berlin" => ["2026-03-28T23:30:00Z", "2026-10-24T23:40:00Z"],
        "America/New_York" => ["2026-03-08T05:50:00Z", "2026-11-01T04:30:00Z"],
        "Australia/Lord_Howe" => ["2026-04-04T13:50:00Z", "2026-10-03T15:10:00Z"],
        _ => ["2026-03-29T00:30:00Z", "2026-10-25T00:30:00Z"],
    }
}

/// Other starts, one per case, picked by the generator: leap years, month ends, a
/// second pass of a repeated hour, fractions of a second.
const OTHER_STARTS: [&str; 9] = [
    "2028-02-27T00:00:00Z",
    "2026-06-15T12:00:00Z",
    "2026-12-31T22:59:59Z",
    "2026-10-25T01:30:00Z",
    "2026-11-01T06:20:00Z",
    "2027-01-31T23:00:00Z",
    "2026-02-28T23:59:00Z",
    "2026-07-04T03:03:03Z",
    "2026-05-31T23:59:59.999Z",
];

/// Hand-picked expressions: the ones DST, `L`, `#` and Feb 29 are about.
const HAND: [&str; 40] = [
    "*/10 * * * *",
    "*/15 * * * *",
    "0 * * * *",
    "30 * * * *",
    "0 */2 * * *",
    "15 3 * * *",
    "30 2 * * *",
    "0 2 * * *",
    "45 1 * * *",
    "0 0 * * *",
    "0 3 * * 0",
    "5 4 * * 1-5",
    "0 0 1 * *",
    "0 0 L * *",
    "0 12 LW * *",
    "0 9 * * 5L",
    "0 9 * * 1#2",
    "0 9 * * 5#5",
    "0 0 29 2 *",
    "0 0 29 2 1",
    "0 0 31 * *",
    "0 0 13 * 5",
    "0 0 */2 * 1",
    "0 0 1-7 * 1",
    "30 1 * * *",
    "0,30 2 * * *",
    "*/5 2 * * *",
    "59 23 * * *",
    "0 2,14 * * *",
    "30 */3 * * *",
    "0 0 * 2 *",
    "15 2 29 2 *",
    "*/20 1-3 * * *",
    "0 0 L 2 *",
    "0 10 * * 0#1",
    "0 10 * * 6L",
    "0 0 1 1 *",
    "* * * * *",
    "2-58/7 * * * *",
    "0 0 15 * 0",
];

/// Syntax hbmon reads that cronsim does not, or reads differently from croner: `?`,
/// nicknames, `W`, names (and `SUN` as 7 at the end of a range), Sunday as 7, a seconds
/// field (never on the wall clock, as in cronsim), `LW` with a day of week (either) and in
/// a list (croner refuses it; hbmon reads it as cronsim does).
const SYNTAX: [&str; 43] = [
    "@hourly",
    "@daily",
    "@midnight",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
    "0 0 ? * 1",
    "0 12 1 * ?",
    "0 12 LW * ?",
    "0 9 15W * *",
    "0 9 1W * *",
    "0 9 31W * *",
    "30 2 1,15W * *",
    "0 9 15W * 1",
    "0 9 */10,15W * *",
    "0 0 * * MON-FRI",
    "0 0 * * mon-sun",
    "0 0 * * SAT,SUN",
    "0 0 * JAN-MAR,oct *",
    "0 0 * * 7",
    "0 0 * * 5-7",
    "0 9 * * fri#2",
    "0 0 lw * *",
    "0 12 LW * 1",
    "0 0 L * 5",
    "0 0 1,L * *",
    "5/15 * * * *",
    "30 */10 * * * *",
    "0 30 2 * * *",
    "15 0 3 * * *",
    "*/20 * 2 * * *",
    "0 0 12 LW * *",
    "0 0 0 29 2 *",
    "0 0 0 * * 5L",
    "59 59 23 L * *",
    "0 0 31 2 1#5",
    "0 0 29 2 1",
    "0 30 1-3 * * 0",
    "10 */15 * * * *",
    "0 0 LW,15 * *",
    "0 8 1,LW * 1",
    "0 0 */7,LW * 5",
];

/// A small deterministic generator (a linear congruential one), so the cases are the
/// same on every run.
struct Lcg(u64);

impl Lcg {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        from[(self.0 >> 33) as usize % from.len()]
    }
}

fn generated(n: usize) -> Vec<String> {
    let minutes = [
        "0", "5", "30", "*/10", "*/15", "0,30", "10-20", "*", "15-45/10", "59", "*/7",
    ];
    let hours = [
        "*", "0", "1", "2", "3", "*/2", "1-3", "2,14", "23", "9-17", "*/6",
    ];
    let month_days = [
        "*", "*", "*", "1", "15", "L", "29", "31", "1-7", "*/2", "LW", "13", "28-31", "15W", "1W",
    ];
    let months = ["*", "*", "*", "2", "3", "10,11", "*/3", "1-6", "11", "3,10"];
    let week_days = [
        "*", "*", "*", "1", "0", "5L", "1#2", "5#5", "1-5", "6,0", "*/2", "0#1",
    ];
    let mut g = Lcg(17);
    let mut out = Vec::new();
    while out.len() < n {
        let e = format!(
            "{} {} {} {} {}",
            g.pick(&minutes),
            g.pick(&hours),
            g.pick(&month_days),
            g.pick(&months),
            g.pick(&week_days)
        );
        if !out.contains(&e) && !HAND.contains(&e.as_str()) && !SYNTAX.contains(&e.as_str()) {
            out.push(e);
        }
    }
    out
}

/// hbmon's first `n` fire times, and how many of the first few `previous_run` finds
/// backwards (at a fire time, and a second before the next one), of how many.
fn hbmon_times(schedule: Option<&Schedule>, start: &str, n: usize) -> (Value, usize, usize) {
    const BACK: usize = 2;
    let Some(s) = schedule else {
        return (json!({ "error": "invalid" }), 0, 0);
    };
    let mut t: SystemTime = humantime::parse_rfc3339(start).unwrap();
    let mut runs = Vec::new();
    for _ in 0..n {
        match s.next_run(t) {
            Some(next) => {
                runs.push(next);
                t = next;
            }
            None => return (json!({ "error": "never" }), 0, 0),
        }
    }
    let mut back = 0;
    for pair in runs.windows(2).take(BACK) {
        let before_next = pair[1] - std::time::Duration::from_secs(1);
        back += usize::from(s.previous_run(pair[0]) == Some(pair[0]));
        back += usize::from(s.previous_run(before_next) == Some(pair[0]));
    }
    let times: Vec<String> = runs
        .iter()
        .map(|r| humantime::format_rfc3339_seconds(*r).to_string())
        .collect();
    (json!({ "times": times }), back, 2 * BACK.min(n - 1))
}

#[test]
fn cron_fire_times_equal_cronsims() {
    const N: usize = 10;
    let mut exprs: Vec<String> = HAND
        .iter()
        .chain(&SYNTAX)
        .map(|e| (*e).to_owned())
        .collect();
    exprs.extend(generated(300));
    let mut g = Lcg(29);
    let mut cases = Vec::new();
    for expr in &exprs {
        for zone in ZONES {
            let [a, b] = starts(zone);
            for start in [a, b, g.pick(&OTHER_STARTS)] {
                cases.push(json!({ "expr": expr, "tz": zone, "start": start, "n": N }));
            }
        }
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli/cronsim_diff.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with cronsim is needed for the cron differential test (`python3 -m pip install cronsim`)");
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        serde_json::to_string(&cases).unwrap().as_bytes(),
    )
    .unwrap();
    // hbmon's side while cronsim's runs: each expression read once per zone.
    let mut schedules = std::collections::HashMap::new();
    let ours: Vec<_> = cases
        .iter()
        .map(|case| {
            let (expr, tz) = (case["expr"].as_str().unwrap(), case["tz"].as_str().unwrap());
            let s = schedules
                .entry((expr, tz))
                .or_insert_with(|| Schedule::cron(expr, tz).ok());
            hbmon_times(s.as_ref(), case["start"].as_str().unwrap(), N)
        })
        .collect();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "cronsim failed (`python3 -m pip install cronsim`; .ci/run installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reference.len(), cases.len());
    let (mut equal, mut total, mut refused) = (0, 0, 0);
    let (mut back_equal, mut back_total) = (0, 0);
    let mut differences = Vec::new();
    for ((case, want), (got, back, back_of)) in cases.iter().zip(&reference).zip(ours) {
        let (expr, tz, start) = (
            case["expr"].as_str().unwrap(),
            case["tz"].as_str().unwrap(),
            case["start"].as_str().unwrap(),
        );
        back_equal += back;
        back_total += back_of;
        if back < back_of {
            differences.push(format!(
                "{expr:?} in {tz} from {start}: previous_run disagrees with next_run"
            ));
        }
        match (want.get("times"), got.get("times")) {
            (Some(w), Some(g)) => {
                let (w, g) = (w.as_array().unwrap(), g.as_array().unwrap());
                total += w.len();
                let same = w.iter().zip(g).take_while(|(a, b)| a == b).count();
                equal += same;
                if same < w.len() {
                    differences.push(format!(
                        "{expr:?} in {tz} from {start}: cronsim {:?}, hbmon {:?}",
                        &w[same..(same + 2).min(w.len())],
                        &g[same..(same + 2).min(g.len())]
                    ));
                }
            }
            // Both refuse (an expression that never fires, say): equal.
            (None, None) => refused += 1,
            _ => differences.push(format!(
                "{expr:?} in {tz} from {start}: cronsim {want}, hbmon {got}"
            )),
        }
    }
    print!("{}", String::from_utf8_lossy(&out.stderr));
    println!(
        "cron differential: {equal}/{total} fire times equal over {} expressions x {} zones ({} cases, {refused} refused by both); previous_run: {back_equal}/{back_total} equal",
        exprs.len(),
        ZONES.len(),
        cases.len()
    );
    assert!(
        differences.is_empty() && equal == total && back_equal == back_total,
        "{} of {} cases differ, e.g.:\n{}",
        differences.len(),
        cases.len(),
        differences[..differences.len().min(25)].join("\n")
    );
}
