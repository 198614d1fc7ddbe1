//! The local probes (command, file, system) run for real.

use std::time::{Duration, SystemTime};

use crate::harness::hbmon;

#[test]
fn command_probe_follows_the_nagios_convention() {
    let yaml = r#"version: 1
monitors:
  - name: ok
    command: { run: [sh, -c, 'echo "OK - all good | time=0.1s"'] }
  - name: warn
    command: { shell: 'echo "WARNING - 85% full"; exit 1' }
  - name: crit
    command: { shell: 'echo "CRITICAL - gone" >&2; exit 2' }
  - name: missing
    command: { run: [/nonexistent/check_thing] }
  - name: env-and-dir
    command: { shell: 'test "$GREETING" = hello && test -f marker && echo "OK - env and dir"', env: { GREETING: hello } }
"#;
    let out = hbmon()
        .file("marker", "x")
        .config(yaml)
        .args(["check", "--format", "json"])
        .run();
    let v = out.json();
    let got: Vec<(String, String)> = v["monitors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["status"].as_str().unwrap().into(),
                m["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = [
        ("up", "OK - all good"),
        ("degraded", "WARNING - 85% full"),
        ("down", "CRITICAL - gone"),
        ("unknown", "command not found: /nonexistent/check_thing"),
        ("up", "OK - env and dir"),
    ];
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.0.as_str(), g.1.as_str()), w);
    }
    let codes: Vec<_> = v["monitors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["measurements"]["exit_code"].as_f64())
        .collect();
    // A program that did not start has no exit code.
    assert_eq!(codes, [Some(0.0), Some(1.0), Some(2.0), None, Some(0.0)]);
    assert_eq!(out.code, 2);
}

/// State of a process from /proc: `None` when it is gone.
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim().chars().next()
}

/// Whether SIGKILL (signal 9, bit 8) is pending for a process, from /proc.
fn sigkill_pending(pid: u32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return true; // gone meanwhile
    };
    status
        .lines()
        .filter(|l| l.starts_with("SigPnd:") || l.starts_with("ShdPnd:"))
        .filter_map(|l| u64::from_str_radix(l.split_whitespace().nth(1)?, 16).ok())
        .any(|mask| mask & (1 << 8) != 0)
}

#[test]
fn command_timeout_kills_the_whole_process_group() {
    let yaml = r"version: 1
monitors:
  - name: hangs
    timeout: 300ms
    command: { shell: 'sleep 300 & echo $! > child.pid; wait' }
";
    let run = hbmon().config(yaml).args(["check", "--format", "json"]);
    let out = run.run();
    let dir = run.dir();
    let v = out.json();
    assert_eq!(v["monitors"][0]["status"], "down");
    assert_eq!(v["monitors"][0]["reason"], "timeout after 300ms");
    let pid: u32 = std::fs::read_to_string(dir.join("child.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // hbmon sent SIGKILL to the group before it exited: the grandchild is gone, a zombie,
    // or (on a busy machine, not yet scheduled to die) has SIGKILL pending.
    let state = proc_state(pid);
    assert!(
        matches!(state, None | Some('Z')) || sigkill_pending(pid),
        "grandchild {pid} still running without SIGKILL pending: {state:?}"
    );
}

#[test]
fn file_probe_checks_existence_age_and_size() {
    let yaml = r"version: 1
monitors:
  - name: fresh
    file: { path: fresh.txt, max_age: 1h, min_size: 4B }
  - name: stale
    file: { path: stale.txt, max_age: 1h }
  - name: small
    file: { path: fresh.txt, min_size: 1KiB }
  - name: missing
    file: { path: nope.txt }
";
    let run = hbmon()
        .file("fresh.txt", "hello")
        .file("stale.txt", "old")
        .config(yaml)
        .args(["check", "--format", "json"]);
    let stale = std::fs::File::options()
        .write(true)
        .open(run.dir().join("stale.txt"))
        .unwrap();
    stale
        .set_modified(SystemTime::now() - Duration::from_secs(3 * 3600))
        .unwrap();
    let v = run.run().json();
    let m = &v["monitors"];
    assert_eq!(m[0]["status"], "up", "{m}");
    assert_eq!(m[1]["status"], "down");
    assert!(
        m[1]["reason"].as_str().unwrap().starts_with("modified 3h"),
        "{}",
        m[1]["reason"]
    );
    assert_eq!(m[2]["reason"], "size 5 B is below 1.0 KiB");
    assert_eq!(m[0]["measurements"]["size_bytes"], 5.0);
    let age = m[1]["measurements"]["age_seconds"].as_f64().unwrap();
    assert!((age - 3.0 * 3600.0).abs() < 60.0, "{age}");
    assert_eq!(
        (m[3]["status"].as_str(), m[3]["reason"].as_str()),
        (Some("down"), Some("file not found"))
    );
}

#[test]
fn system_probe_reads_this_machine() {
    let yaml = r"version: 1
monitors:
  - name: roomy
    system: { disk: { path: /, critical: 100 }, memory: { critical: 100 }, load: { critical: 100000 } }
  - name: tight
    system: { disk: { path: /, warning: 0 } }
  - name: busy
    system: { cpu: { critical: 0 } }
";
    let v = hbmon()
        .config(yaml)
        .args(["check", "--format", "json"])
        .run()
        .json();
    let m = &v["monitors"];
    assert_eq!(m[0]["status"], "up", "{m}");
    let reason = m[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("disk / ") && reason.contains("memory ") && reason.contains("load "),
        "{reason}"
    );
    // The figures as numbers: memory against /proc/meminfo read here (what `free`
    // shows as used: total less available), CPU and disk as percents.
    let measured = &m[0]["measurements"];
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kb = |key: &str| -> f64 {
        let line = meminfo.lines().find(|l| l.starts_with(key)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let memory = (kb("MemTotal:") - kb("MemAvailable:")) * 100.0 / kb("MemTotal:");
    let got = measured["memory_percent"].as_f64().unwrap();
    assert!((got - memory).abs() < 5.0, "{got} vs {memory}: {measured}");
    for key in ["cpu_percent", "disk_percent"] {
        let p = measured[key].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&p), "{key}: {measured}");
    }
    assert!(measured["load1"].as_f64().unwrap() >= 0.0, "{measured}");
    assert_eq!(m[1]["status"], "degraded");
    assert!(
        m[1]["reason"]
            .as_str()
            .unwrap()
            .ends_with("(warning at 0%)")
    );
    // CPU against its levels: at or above 0% is always critical.
    assert_eq!(m[2]["status"], "down", "{}", m[2]);
    let busy = m[2]["reason"].as_str().unwrap();
    assert!(
        busy.starts_with("cpu ") && busy.ends_with("% busy (critical at 0%)"),
        "{busy}"
    );
    assert_eq!(v["exit_code"], 2);
}
