//! Configuration errors: every problem in one pass, with `file:line:col`, a caret, the
//! config path and a hint; exit code 78.

use crate::harness::{hbmon, snapshots};

/// Eight different mistakes: syntax-level (unknown keys, wrong types, out of range,
/// bad format), references (unknown host), duplicates, semantics (timeout longer than
/// interval, no probe, invalid URL) and interpolation (unset variable).
const BROKEN: &str = r#"version: 1
defaults:
  intervl: 30s
hosts:
  web1: { address: 10.0.0.5 }
monitors:
  - name: api
    interval: 10s
    timeout: 1m
    http:
      url: "not a url"
  - name: api
    host: web2
    tcp: { port: 5432 }
  - name: db
    tcp: { host: db.internal, port: "5432" }
    failure_threshold: 0
  - name: backup
    file: { path: /var/backups/db.gz, max_age: 25x }
  - name: idle
    tags: [misc]
  - name: token
    http: { url: "https://example.com/?key=${HBMON_TEST_UNSET_KEY}", mehtod: GET }
"#;

#[test]
fn broken_config_reports_every_problem_at_once() {
    let out = hbmon().config(BROKEN).args(["validate"]).run();
    assert_eq!(out.code, 78, "{out:?}");
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("error: 11 problems in"),
        "{}",
        out.stderr
    );
    snapshots().bind(|| insta::assert_snapshot!("broken_config", out.stderr));
}

#[test]
fn check_refuses_a_broken_config_before_probing() {
    let out = hbmon().config(BROKEN).args(["check"]).run();
    assert_eq!(out.code, 78);
    assert!(
        out.stdout.is_empty(),
        "no report for a broken config: {}",
        out.stdout
    );
}

#[test]
fn yaml_syntax_error_points_at_the_line() {
    let out = hbmon()
        .config("version: 1\nmonitors:\n  - name: a\n    tcp: { port: 1\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78);
    assert!(out.stderr.contains("invalid YAML"), "{}", out.stderr);
    assert!(out.stderr.contains("hbmon.yaml:"), "{}", out.stderr);
}

#[test]
fn empty_file_and_wrong_top_level_type() {
    let out = hbmon().config("# nothing here\n").args(["validate"]).run();
    assert_eq!(out.code, 78);
    assert!(
        out.stderr.contains("the configuration file is empty"),
        "{}",
        out.stderr
    );
    let out = hbmon()
        .config("- just\n- a list\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78);
    assert!(
        out.stderr.contains("expected a mapping, found a list"),
        "{}",
        out.stderr
    );
}

#[test]
fn interpolation_fills_values_and_types() {
    let yaml = r#"version: 1
monitors:
  - name: "${NAME}"
    timeout: ${TIMEOUT:-2s}
    tcp: { host: "${HOST:-127.0.0.1}", port: "${PORT}" }
  - name: block-style
    tcp:
      host: localhost
      port: ${PORT}
"#;
    let out = hbmon()
        .config(yaml)
        .env("NAME", "from-env")
        .env("PORT", "6543")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    let out = hbmon()
        .config("version: 1\nmonitors:\n  - name: x\n    tcp: { host: h, port: \"${PORT:?set PORT to the database port}\" }\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78);
    assert!(
        out.stderr
            .contains("environment variable `PORT` is required: set PORT to the database port"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("monitors[0].tcp.port"),
        "{}",
        out.stderr
    );
}

#[test]
fn secret_file_problems_are_config_errors() {
    let out = hbmon()
        .config("version: 1\nmonitors:\n  - name: x\n    http: { url: \"http://127.0.0.1/\", bearer_token_file: missing-token }\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78);
    assert!(
        out.stderr.contains("cannot read `[dir]/missing-token`"),
        "{}",
        out.stderr
    );
}

#[test]
fn status_codes_classes_and_ranges_are_checked() {
    let out = hbmon()
        .config(
            "version: 1\nmonitors:\n  - name: x\n    http: { url: \"http://127.0.0.1/\", expect: { status: [700, \"2xy\", \"299-200\", \"2xx\"], body_regex: \"(\" } }\n",
        )
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78);
    for expected in [
        "must be at most 599",
        "invalid status code",
        "invalid status range",
        "invalid regular expression",
        "error: 4 problems",
    ] {
        assert!(out.stderr.contains(expected), "{expected}: {}", out.stderr);
    }
}

#[test]
fn http_needs_a_url_or_a_host_and_not_both_forms() {
    let out = hbmon()
        .config("version: 1\nmonitors:\n  - name: a\n    http: { path: /health }\n  - name: b\n    http: { url: \"http://x/\", path: /health }\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78);
    assert!(
        out.stderr
            .contains("http probe needs a `url`, or a monitor `host` to build one from"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("`path` is for host-relative probes"),
        "{}",
        out.stderr
    );
}

#[test]
fn anchors_under_x_keys_merge_into_monitors() {
    let yaml = "version: 1\nx-fast: &fast { timeout: 2s, interval: 10s }\nmonitors:\n  - name: a\n    <<: *fast\n    tcp: { host: h, port: 1 }\n  - name: b\n    <<: *fast\n    timeout: 20s\n    tcp: { host: h, port: 1 }\n";
    let out = hbmon().config(yaml).args(["validate"]).run();
    assert_eq!(out.code, 78, "{out:?}");
    // The merged interval applies, and the error points at b's own timeout.
    assert!(
        out.stderr
            .contains("timeout (20s) is longer than the interval (10s)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hbmon.yaml:9:14"), "{}", out.stderr);
    assert!(out.stderr.contains("error: 1 problem"), "{}", out.stderr);
}

/// Mistakes in the `watch` settings: schedules, windows, references and dependencies.
const BROKEN_WATCH: &str = r#"version: 1
defaults:
  flapping: { changes: 1, window: 10m }
schedules:
  business-hours:
    timezone: Europe/Berlinn
    windows:
      - { days: mon-fry, from: "08:00", to: "18:00" }
  nightly:
    windows:
      - { cron: "0 2 * * sun" }
      - { from: "25:00", to: "03:00" }
store:
  retention: forever
monitors:
  - name: api
    tcp: { host: 127.0.0.1, port: 1 }
    active: busines-hours
    maintenance: weekly
    depends_on: [db, api]
  - name: db
    tcp: { host: 127.0.0.1, port: 1 }
    cron: "0 61 * * *"
    interval: 10s
    depends_on: [cache]
  - name: cache
    tcp: { host: 127.0.0.1, port: 1 }
    depends_on: [db]
    timezone: UTC
"#;

#[test]
fn watch_settings_are_checked_too() {
    let out = hbmon().config(BROKEN_WATCH).args(["validate"]).run();
    assert_eq!(out.code, 78, "{out:?}");
    for want in [
        "unknown time zone",
        "unknown day name",
        "a `cron` window needs a `duration`",
        "invalid time of day",
        "invalid duration",
        "unknown schedule `busines-hours`",
        "did you mean `business-hours`?",
        "unknown schedule `weekly`",
        "a monitor cannot depend on itself",
        "invalid cron expression",
        "`interval` and `cron` exclude each other",
        "dependency cycle",
        "`timezone` applies to `cron` only",
    ] {
        assert!(
            out.stderr.contains(want),
            "missing {want:?} in\n{}",
            out.stderr
        );
    }
    snapshots().bind(|| insta::assert_snapshot!("broken_watch_config", out.stderr));
}

const BROKEN_ONCALL: &str = r##"version: 1
notifiers:
  chat: { type: slack, webhook_url: "https://hooks.example.com/x" }
  quiet: { type: slack, webhook_url: "https://hooks.example.com/y", events: [down, up] }
  pd: { type: pagerduty, routing_key: abc, events: [down, degraded] }
  og: { type: opsgenie, token: k, priority: P9 }
  two: { type: sms, account_sid: AC0123456789abcdef0123456789abcdef, token: t, from: "+15551234567", to: ["+15557654321", "+15550000000"] }
  bad: { type: sms, account_sid: SID, token: t, from: "5551234", to: ["0800"], max_length: 5000 }
  mx: { type: matrix, url: "https://matrix.example.org", room_id: "#ops:example.org", token: t, chat_id: "1" }
monitors:
  - name: api
    tcp: { host: 127.0.0.1, port: 1 }
    notify: [chat, { after: 30m, notify: [pd] }, { after: 15m, notify: [chat] }, { after: 1h, notify: [quiet, nobody] }]
"##;

#[test]
fn oncall_settings_are_checked_too() {
    let out = hbmon().config(BROKEN_ONCALL).args(["validate"]).run();
    assert_eq!(out.code, 78, "{out:?}");
    for want in [
        "`pagerduty` notifier follows incidents and cannot send `degraded`",
        "unknown priority",
        "an `sms` notifier texts one number",
        "not a Twilio account SID",
        "not a phone number or Messaging Service SID",
        "not a phone number",
        "must be between 20 and 1600",
        "not a Matrix room id",
        "`chat_id` does not apply to a `matrix` notifier",
        "escalation steps must come in increasing order of `after`",
        "`quiet` is an escalation step but does not send `escalated` alerts",
        "unknown notifier `nobody`",
    ] {
        assert!(
            out.stderr.contains(want),
            "missing {want:?} in\n{}",
            out.stderr
        );
    }
    assert!(out.stderr.contains("13 problems"), "{}", out.stderr);
}

#[test]
fn store_settings_are_checked_without_quoting_the_url() {
    let yaml = "version: 1\nstore: { path: a.db, url: \"mysql://root:s3cret@db/hbmon\", ca_file: missing.pem }\nmonitors:\n  - { name: a, tcp: { host: 127.0.0.1, port: 1 } }\n";
    let out = hbmon().config(yaml).args(["validate"]).run();
    assert_eq!(out.code, 78, "{out:?}");
    for want in [
        "`path` and `url` exclude each other",
        "not a PostgreSQL URL",
        "cannot read it",
    ] {
        assert!(
            out.stderr.contains(want),
            "missing {want:?} in\n{}",
            out.stderr
        );
    }
    let yaml = "version: 1\nstore: { ca_file: ca.pem }\nmonitors:\n  - { name: a, tcp: { host: 127.0.0.1, port: 1 } }\n";
    let out = hbmon().config(yaml).args(["validate"]).run();
    assert!(
        out.stderr
            .contains("`ca_file` applies to a PostgreSQL `url` only"),
        "{}",
        out.stderr
    );
}

#[test]
fn region_settings_are_checked_too() {
    let yaml = r#"version: 1
regions: { expected: [a, "b c", a], quorum: 4, notify: [pager] }
monitors:
  - { name: x, regions: [a, z], quorum: 3, tcp: { host: 127.0.0.1, port: 1 } }
  - { name: y, regions: [], tcp: { host: 127.0.0.1, port: 1 } }
"#;
    let out = hbmon().config(yaml).args(["validate"]).run();
    assert_eq!(out.code, 78, "{out:?}");
    for want in [
        "not a region name",
        "region `a` is listed twice",
        "quorum 4 is more than the 1 expected regions",
        "unknown notifier `pager`",
        "unknown region `z`",
        "quorum 3 is more than its 2 regions",
        "an empty `regions` list: no instance would probe it",
    ] {
        assert!(
            out.stderr.contains(want),
            "missing {want:?} in\n{}",
            out.stderr
        );
    }
    // `--region` must be one of them.
    let yaml = "version: 1\nregions: { expected: [a, b] }\nmonitors:\n  - { name: x, tcp: { host: 127.0.0.1, port: 1 } }\n";
    let out = hbmon()
        .config(yaml)
        .args(["watch", "--region", "c", "--db", "w.db"])
        .run();
    assert_eq!(out.code, 64, "{out:?}");
    assert!(
        out.stderr
            .contains("--region `c` is not one of regions.expected (a, b)"),
        "{}",
        out.stderr
    );
    let out = hbmon()
        .config(yaml)
        .args(["watch", "--region", "a b", "--db", "w.db"])
        .run();
    assert_eq!(out.code, 64, "{out:?}");
    // `check` leaves the region monitors to `watch`.
    let out = hbmon()
        .config(yaml)
        .args(["check", "--format", "json"])
        .run();
    assert!(!out.stdout.contains("region:"), "{}", out.stdout);
}

/// Values `validate` once accepted and then panicked on (issue 18, finding 1): a
/// duration past what a clock can add, strftime formats chrono cannot follow, numbers
/// no duration holds. Each is a config error at its place, or renders; none panics.
#[test]
fn hostile_values_are_config_errors_not_panics() {
    let monitor = "version: 1\nmonitors:\n  - name: x\n    tcp: { host: 127.0.0.1, port: 1 }\n";
    for (extra, message, at) in [
        (
            "    interval: 18446744073709551615s\n",
            "duration longer than the maximum of 10 years",
            "a.yaml:5:15",
        ),
        (
            "    interval: 99999999999999999999999999s\n",
            "duration longer than the maximum of 10 years",
            "a.yaml:5:15",
        ),
        (
            "templates: { down: \"{{ now | datetime(\\\"%Q\\\") }}\" }\n",
            "datetime: `%Q` is not a strftime format",
            "a.yaml:5:20",
        ),
        (
            "templates: { down: \"{{ now | datetime(\\\"%\\\") }}\" }\n",
            "datetime: `%` is not a strftime format",
            "a.yaml:5:20",
        ),
    ] {
        for cmd in ["validate", "check"] {
            let out = hbmon()
                .file("a.yaml", &format!("{monitor}{extra}"))
                .args([cmd, "-c", "a.yaml"])
                .run();
            assert_eq!(out.code, 78, "{cmd} {extra}: {out:?}");
            assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
            assert!(out.stderr.contains(message), "{extra}: {}", out.stderr);
            assert!(
                out.stderr.contains(&format!("--> {at}")),
                "{extra}: {}",
                out.stderr
            );
        }
    }
    let out = hbmon()
        .file(
            "a.yaml",
            &format!("{monitor}templates: {{ down: \"{{{{ 1e308 | duration }}}}\" }}\n"),
        )
        .args(["validate", "-c", "a.yaml"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
}

/// A YAML alias bomb (a kilobyte that expands to a billion values) and a 100 MB config are
/// refused at once with a clear error and exit 78, without eating memory.
#[test]
fn alias_bombs_and_huge_configs_are_refused_quickly() {
    use std::fmt::Write as _;
    let mut bomb = String::from(
        "version: 1\nx0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(",");
        let _ = writeln!(bomb, "x{i}: &a{i} [{refs}]");
    }
    bomb.push_str("monitors:\n  - name: x\n    tcp: { host: 127.0.0.1, port: 1 }\n    tags: *a9\n");
    let out = hbmon()
        .file("bomb.yaml", &bomb)
        .args(["validate", "-c", "bomb.yaml"])
        .run();
    assert_eq!(out.code, 78, "{out:?}");
    assert!(out.stderr.contains("alias bomb"), "{}", out.stderr);

    let line = "  - { name: m, tcp: { host: 127.0.0.1, port: 1 } }\n";
    let big = format!(
        "version: 1\nmonitors:\n{}",
        line.repeat(100_000_000 / line.len())
    );
    for cmd in ["validate", "check", "watch"] {
        let out = hbmon()
            .file("big.yaml", &big)
            .args([cmd, "-c", "big.yaml"])
            .run();
        assert_eq!(out.code, 78, "{cmd}: {out:?}");
        assert!(
            out.stderr
                .contains("the file is 95.4 MiB; configurations of at most 32.0 MiB are read"),
            "{cmd}: {}",
            out.stderr
        );
    }
}

/// An interval of a nanosecond made `watch` probe in a tight loop (half a core for one
/// monitor): intervals are at least 10ms.
#[test]
fn intervals_under_ten_milliseconds_are_refused() {
    for (yaml, at) in [
        (
            "version: 1\nmonitors:\n  - name: x\n    interval: 1ns\n    timeout: 1ns\n    tcp: { host: 127.0.0.1, port: 1 }\n",
            "a.yaml:4:15",
        ),
        (
            "version: 1\ndefaults: { interval: 9ms, timeout: 1ms }\nmonitors:\n  - name: x\n    tcp: { host: 127.0.0.1, port: 1 }\n",
            "a.yaml:2:23",
        ),
    ] {
        let out = hbmon()
            .file("a.yaml", yaml)
            .args(["validate", "-c", "a.yaml"])
            .run();
        assert_eq!(out.code, 78, "{out:?}");
        assert!(
            out.stderr.contains("interval shorter than 10ms"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains(&format!("--> {at}")), "{}", out.stderr);
    }
}

/// A key written twice in one mapping: YAML keeps the last without a word, so a second
/// `monitors:` silently dropped every monitor of the first and `validate` said ok.
#[test]
fn keys_written_twice_are_config_errors() {
    let yaml = "version: 1\ndefaults: { interval: 30s, timeout: 500ms, interval: 1s }\nmonitors:\n  - { name: a, tcp: { host: 127.0.0.1, port: 1 } }\nmonitors:\n  - name: b\n    tcp: { host: 127.0.0.1, port: 1 }\n    tcp: { host: 127.0.0.1, port: 2 }\n";
    for cmd in ["validate", "check"] {
        let out = hbmon()
            .file("a.yaml", yaml)
            .args([cmd, "-c", "a.yaml"])
            .run();
        assert_eq!(out.code, 78, "{out:?}");
        for (what, at) in [
            ("`defaults.interval` is written twice", "a.yaml:2:44"),
            ("`monitors` is written twice", "a.yaml:5:1"),
            ("`monitors[0].tcp` is written twice", "a.yaml:8:5"),
        ] {
            assert!(out.stderr.contains(what), "{what}: {}", out.stderr);
            assert!(
                out.stderr.contains(&format!("--> {at}")),
                "{at}: {}",
                out.stderr
            );
        }
    }
}

/// `10y`, the documented maximum, is a duration in the config as in flags (the schema
/// knew no `y`, and said "invalid duration" while the limit message named `10y`).
#[test]
fn years_and_months_are_durations_up_to_ten_years() {
    let monitor = "version: 1\nmonitors:\n  - name: x\n    tcp: { host: 127.0.0.1, port: 1 }\n";
    for (interval, code) in [("10y", 0), ("1y 2M", 0), ("3652d", 0), ("11y", 78)] {
        let out = hbmon()
            .file("a.yaml", &format!("{monitor}    interval: {interval}\n"))
            .args(["validate", "-c", "a.yaml"])
            .run();
        assert_eq!(out.code, code, "{interval}: {out:?}");
    }
}

/// Sizes past what 64 bits hold were read as 16 EiB without a word.
#[test]
fn sizes_too_large_are_refused() {
    for size in ["20000000000000000000B", "99999999999999999999TB"] {
        let out = hbmon()
            .file(
                "a.yaml",
                &format!("version: 1\nmonitors:\n  - name: x\n    file: {{ path: a.yaml, min_size: \"{size}\" }}\n"),
            )
            .args(["validate", "-c", "a.yaml"])
            .run();
        assert_eq!(out.code, 78, "{size}: {out:?}");
        assert!(
            out.stderr.contains("size too large") || out.stderr.contains("invalid size"),
            "{}",
            out.stderr
        );
    }
}

/// `localhost:PORT` is the loopback listener operators write; other names are refused.
#[test]
fn localhost_is_a_listen_address() {
    for (address, code) in [("localhost:18473", 0), ("example.org:80", 78)] {
        let out = hbmon()
            .file(
                "a.yaml",
                &format!("version: 1\nlisten: {{ address: \"{address}\" }}\nmonitors:\n  - name: x\n    heartbeat: {{ period: 1h }}\n"),
            )
            .args(["validate", "-c", "a.yaml"])
            .run();
        assert_eq!(out.code, code, "{address}: {out:?}");
    }
}

/// `jitter: 0s` is the natural way to say "no jitter", in `defaults` and per monitor;
/// other durations stay positive.
#[test]
fn zero_jitter_means_none() {
    let out = hbmon()
        .config("version: 1\ndefaults: { jitter: 0s }\nmonitors:\n  - { name: a, jitter: 0s, system: { memory: { critical: 100 } } }\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    let out = hbmon()
        .config("version: 1\nmonitors:\n  - { name: a, interval: 0s, system: { memory: { critical: 100 } } }\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78, "{out:?}");
    assert!(out.stderr.contains("longer than zero"), "{out:?}");
}

/// A misspelt probe is one mistake, reported once: the unknown key with its suggestion,
/// not also "has no probe".
#[test]
fn a_misspelt_probe_is_reported_once() {
    let out = hbmon()
        .config(
            "version: 1\nmonitors:\n  - name: web\n    htpp: { url: \"http://127.0.0.1:1/\" }\n",
        )
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78, "{out:?}");
    assert!(out.stderr.contains("unknown key `htpp`"), "{out:?}");
    assert!(out.stderr.contains("did you mean `http`?"), "{out:?}");
    assert!(!out.stderr.contains("has no probe"), "{out:?}");
}

/// A quote never closed is shown where it opens, not at the end of the file where the
/// YAML parser noticed.
#[test]
fn an_unclosed_quote_is_shown_where_it_opens() {
    let out = hbmon()
        .config("version: 1\nmonitors:\n  - name: \"web\n    tcp: { host: 127.0.0.1, port: 1 }\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78, "{out:?}");
    assert!(
        out.stderr.contains("this quoted string is never closed"),
        "{out:?}"
    );
    assert!(out.stderr.contains("hbmon.yaml:3:11"), "{out:?}");
}

/// Sizes and durations as people write them: a bare integer is bytes, a duration may have
/// decimals; a duration without a unit says which to add.
#[test]
fn sizes_and_durations_as_people_write_them() {
    let out = hbmon()
        .config("version: 1\nlisten: { address: \"127.0.0.1:8471\", max_body: 512 }\nmonitors:\n  - name: a\n    timeout: 1.5s\n    file: { path: /etc/hosts, min_size: 10 }\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    let out = hbmon()
        .config("version: 1\nmonitors:\n  - name: a\n    interval: 10\n    file: { path: /etc/hosts }\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78, "{out:?}");
    assert!(out.stderr.contains("a duration needs a unit"), "{out:?}");
    assert!(out.stderr.contains("write `10s` for seconds"), "{out:?}");
}

/// Did-you-mean for values too: a notifier type, a time zone; and a bad cron names its
/// field and why.
#[test]
fn misspelt_values_get_a_suggestion() {
    let out = hbmon()
        .config("version: 1\ntimezone: Europe/Berln\nnotifiers:\n  ops: { type: slak, webhook_url: \"https://hooks.example.com/x\" }\nmonitors:\n  - name: a\n    cron: \"61 * * * *\"\n    file: { path: /etc/hosts }\n  - name: b\n    cron: \"0 3 * * *\"\n    timezone: America/New_Yrok\n    file: { path: /etc/hosts }\n  - name: c\n    cron: \"* * * * mon-fry\"\n    file: { path: /etc/hosts }\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78, "{out:?}");
    for want in [
        "did you mean `slack`?",
        "did you mean `Europe/Berlin`?",
        "did you mean `America/New_York`?",
        "the minute field `61` is out of range (it takes 0-59)",
        "the day-of-week field `mon-fry` has a name or character it cannot take",
    ] {
        assert!(out.stderr.contains(want), "{want}: {}", out.stderr);
    }
    assert!(!out.stderr.contains("Component error"), "{}", out.stderr);
}

/// Words documented one by one (`ip_version`, an event) are a choice like any other: the
/// words and the closest one, never "invalid value (oneOf)".
#[test]
fn words_documented_one_by_one_get_a_suggestion() {
    let out = hbmon()
        .config("version: 1\nnotifiers:\n  ops: { type: exec, run: [notify], events: [down, lat] }\nmonitors:\n  - name: ping\n    icmp: { host: 127.0.0.1, ip_version: \"v4\" }\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78, "{out:?}");
    snapshots().bind(|| insta::assert_snapshot!("words_one_by_one", out.stderr));
    assert!(!out.stderr.contains("oneOf"), "{}", out.stderr);
}
