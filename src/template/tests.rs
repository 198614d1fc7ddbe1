//! The template checks and rendering, on sample contexts.

use super::*;
use crate::state::Event;
use crate::status::Status;

/// The problems, one a line.
fn check(r: &Renderer, source: &str, usage: Usage) -> Result<(), String> {
    r.check(source, usage).map_err(|ps| {
        ps.iter()
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[test]
fn checks_find_unknown_variables_and_bad_syntax() {
    let r = Renderer::new(None);
    assert!(
        check(
            &r,
            "{{ monitor.name }}: {{ result.reason }}",
            Usage::text(None)
        )
        .is_ok()
    );
    let e = check(&r, "{{ monitor.nme }}", Usage::text(None)).unwrap_err();
    assert!(e.contains("no attribute `nme`"), "{e}");
    let e = check(&r, "line one\n{{ monitor.name ", Usage::text(None)).unwrap_err();
    assert!(e.starts_with("template line 2"), "{e}");
    let e = check(&r, "{\"a\": {{ monitor.name }}}", Usage::body(true)).unwrap_err();
    assert!(e.contains("invalid JSON"), "{e}");
    assert!(check(&r, DEFAULT_WEBHOOK_BODY, Usage::body(true)).is_ok());
    for e in EVENTS {
        assert!(
            check(&r, default_text(e), Usage::text(Some(e))).is_ok(),
            "{e:?}"
        );
    }
}

/// Issue 17, defect 12: a misspelt attribute is an error at load wherever it
/// appears, behind a filter, in a test, a condition or a loop, and says what was meant.
#[test]
fn undefined_attributes_are_errors_wherever_they_appear() {
    let r = Renderer::new(None);
    for (source, want) in [
        (
            "{{ monitor.nme | tojson }}",
            "`monitor` has no attribute `nme`; did you mean `name`?",
        ),
        (
            "{{ monitor.period | tojson }}",
            "`monitor` has no attribute `period`; did you mean `monitor.heartbeat.period`?",
        ),
        (
            "{{ monitor.nothing | tojson }}",
            "`monitor` has no attribute `nothing`; it has: ",
        ),
        (
            "{% if monitor.nme %}x{% endif %}",
            "`monitor` has no attribute `nme`",
        ),
        (
            "{% for c in monitor.nme %}{{ c }}{% endfor %}",
            "no attribute `nme`",
        ),
        ("{{ incident.cuase | upper }}", "did you mean `cause`?"),
        (
            "{{ monitr.name }}",
            "unknown variable `monitr`; did you mean `monitor`?",
        ),
        (
            "{% if false %}{{ result.reasn }}{% endif %}",
            "did you mean `reason`?",
        ),
        ("{{ monitor.heartbeat.grase_s }}", "did you mean `grace_s`?"),
        ("{{ monitor['nme'] }}", "no attribute `nme`"),
        ("{{ (monitor.nme or 'x') | upper }}", "no attribute `nme`"),
        ("{{ [monitor.nme] | first }}", "no attribute `nme`"),
        ("{{ children[monitor.nme] }}", "no attribute `nme`"),
        ("{{ dict(a=monitor.nme) }}", "no attribute `nme`"),
        ("{{ monitor.name if monitor.nme }}", "no attribute `nme`"),
        ("{% set x = monitor.nme %}", "no attribute `nme`"),
        (
            "{% macro m(x=monitor.nme) %}{% endmacro %}",
            "no attribute `nme`",
        ),
    ] {
        let e = check(&r, source, Usage::text(None)).unwrap_err();
        assert!(e.contains(want), "{source}: {e}");
    }
    for ok in [
        "{% if monitor.heartbeat is defined %}{{ monitor.heartbeat.grace_s | duration }} {{ monitor.heartbeat.last_ping_at }}{% endif %}",
        "{% if monitor.heartbeat is defined %}{{ monitor.heartbeat.cron }}{% endif %}",
        "{% for k, v in host.labels | items %}{{ k }}={{ v }}{% endfor %}",
        "{% for c in children %}{{ c | upper }}{% endfor %}{{ range(3) | list }}",
        "{% set x = monitor.name %}{{ x }}",
        "{% macro m(x) %}{{ x.name }}{% endmacro %}{{ m(monitor) }}",
        "{% for c in children %}{{ loop.index }}{{ c }}{% endfor %}",
        "{% with m = monitor %}{{ m.name }}{% endwith %}",
        "{% set ns = namespace(n=0) %}{% set ns.n = 1 %}{{ ns.n }}",
        "{{ host.labels.env | default('') }} {{ children[0] | default('') }}",
    ] {
        assert!(
            check(&r, ok, Usage::text(None)).is_ok(),
            "{ok}: {:?}",
            check(&r, ok, Usage::text(None))
        );
    }
}

/// Durations people read are rounded to the second (47.6 s is 48s, not 47s).
#[test]
fn durations_round_to_the_second() {
    let r = Renderer::new(None);
    let ctx = sample_context(EventKind::Down);
    for (secs, want) in [
        (47.6, "48s"),
        (16.9, "17s"),
        (0.25, "250ms"),
        (3599.5, "1h"),
    ] {
        assert_eq!(
            r.render(&format!("{{{{ {secs} | duration }}}}"), &ctx)
                .unwrap(),
            want
        );
    }
}

/// Found by the template fuzz target: nested loops ran for hours and doubled strings
/// took seconds, at load and for every alert. Fuel ends them in an error; hbmon's own
/// templates stay well within it, and the status page (no fuel) is not limited.
#[test]
fn runaway_templates_end_in_an_error() {
    let r = Renderer::new(None);
    let ctx = sample_context(EventKind::Down);
    let nested = "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}";
    let e = r.render(nested, &ctx).unwrap_err();
    assert!(e.contains("fuel"), "{e}");
    assert!(r.check(nested, Usage::text(Some(EventKind::Down))).is_err());
    for event in [
        EventKind::Down,
        EventKind::Up,
        EventKind::Test,
        EventKind::Late,
    ] {
        r.render(default_text(event), &sample_context(event))
            .unwrap();
    }
    let rows = "{% for i in range(20000) %}<tr><td>{{ i }}</td></tr>{% endfor %}";
    let page = r
        .render_html("page.html", rows, &serde_json::json!({}))
        .unwrap();
    assert!(page.contains("<td>19999</td>"));
}

/// Filters take hostile values: a strftime format chrono cannot follow and numbers
/// no duration holds are errors or clamped, never a panic.
#[test]
fn filters_take_hostile_values_without_panicking() {
    let r = Renderer::new(None);
    let ctx = sample_context(EventKind::Down);
    for bad in ["%Q", "%", "%Y-%", "%:", "%.9", "%#z"] {
        let e = r
            .render(&format!("{{{{ now | datetime({bad:?}) }}}}"), &ctx)
            .unwrap_err();
        assert!(e.contains("not a strftime format"), "{bad}: {e}");
    }
    for (value, want) in [
        ("1e308", Some("213503982334601d 7h")),
        ("-1e308", Some("0ms")),
        ("-5", Some("0ms")),
        ("18446744073709551615", Some("213503982334601d 7h")),
        ("(1e308 * 10)", Some("213503982334601d 7h")),
        ("(1e308 * 10 - 1e308 * 10)", None),
    ] {
        let out = r.render(&format!("{{{{ {value} | duration }}}}"), &ctx);
        match want {
            Some(w) => assert_eq!(out.as_deref(), Ok(w), "{value}"),
            None => assert!(out.is_err(), "{value}: {out:?}"),
        }
    }
}

fn monitors(yaml: &str) -> Vec<std::sync::Arc<Monitor>> {
    let loaded =
        crate::config::load::load_str("t.yaml".into(), ".".into(), yaml.to_owned(), &|_| None);
    match crate::plan::build(loaded) {
        Ok(p) => p.monitors,
        Err(e) => panic!("{e}"),
    }
}

/// `is defined` is how a template asks whether something is there: it is allowed for
/// any attribute (the object asked must exist), and false for one that is not there.
#[test]
fn is_defined_may_probe_any_attribute() {
    let r = Renderer::new(None);
    for ok in [
        "{{ monitor.nme is defined }}",
        "{% if monitor.nme is not defined %}x{% endif %}",
        "{{ nme is undefined }}",
        "{% if monitor.heartbeat is defined and monitor.heartbeat.cron %}x{% endif %}",
    ] {
        let got = check(&r, ok, Usage::text(None));
        assert!(got.is_ok(), "{ok}: {got:?}");
    }
    let ctx = sample_context(EventKind::Down);
    assert_eq!(
        r.render("{{ monitor.nme is defined }}", &ctx).unwrap(),
        "False"
    );
    for (bad, want) in [
        ("{{ monitr.nme is defined }}", "unknown variable `monitr`"),
        (
            "{{ monitor.nme is string }}",
            "`monitor` has no attribute `nme`",
        ),
        (
            "{% if monitor.nme is defined %}{{ monitor.nme }}{% endif %}",
            "`monitor` has no attribute `nme`",
        ),
    ] {
        let e = check(&r, bad, Usage::text(None)).unwrap_err();
        assert!(e.contains(want), "{bad}: {e}");
    }
}

/// A heartbeat's alert says what it expects: its period or schedule, its grace and
/// its last ping, as `monitor.heartbeat.period`, `.schedule`, `.grace` and
/// `.last_ping_at`.
#[test]
fn heartbeat_templates_see_period_schedule_grace_and_last_ping() {
    let r = Renderer::new(None);
    let source = "{{ monitor.heartbeat.schedule }}, grace {{ monitor.heartbeat.grace }}, period {{ monitor.heartbeat.period or '-' }} ({{ monitor.heartbeat.period_s }} s), last ping {{ monitor.heartbeat.last_ping_at or 'never' }}";
    let got = check(
        &r,
        source,
        Usage::text(Some(EventKind::Late)).for_monitors(true, false),
    );
    assert!(got.is_ok(), "{got:?}");
    let ms = monitors(
        "version: 1\nmonitors:\n  - { name: backup, heartbeat: { period: 1d, grace: 1h } }\n  - { name: nightly, heartbeat: { cron: \"0 3 * * *\", timezone: Europe/Berlin, grace: 90m } }\n",
    );
    let now = humantime::parse_rfc3339("2026-01-05T08:15:00Z").unwrap();
    let event = Event::Degraded {
        at: now,
        reason: "late: last ping 1d 1h ago".into(),
        late: true,
    };
    let text = |m: &Monitor| {
        let ctx = context(
            m,
            &event,
            (Status::Degraded, "late", std::time::Duration::ZERO, now),
            (None, &[]),
            now,
        );
        r.render(source, &Value::from(minijinja::value::Serde(ctx)))
            .unwrap()
    };
    assert_eq!(
        text(&ms[0]),
        "every 1d, grace 1h, period 1d (86400.0 s), last ping never"
    );
    assert_eq!(
        text(&ms[1]),
        "0 3 * * * (Europe/Berlin), grace 1h 30m, period - (0.0 s), last ping never"
    );
}

/// A heartbeat's `cron` is shown as written (`LW`, names), not as croner rewrote it.
#[test]
fn heartbeat_cron_is_shown_as_written() {
    let ms = monitors(
        "version: 1\nmonitors:\n  - { name: close, heartbeat: { cron: \"0 12 LW * *\", grace: 1h } }\n",
    );
    assert_eq!(monitor_json(&ms[0])["heartbeat"]["cron"], "0 12 LW * *");
}

/// `host.labels` holds whatever labels hosts are given: any name may be asked for.
#[test]
fn host_labels_take_any_label() {
    let r = Renderer::new(None);
    for ok in [
        "{{ host.labels.team | default('') }}",
        "{{ host.labels['rack'] | default('?') }}",
        "{% for k, v in host.labels | items %}{{ k }}{% endfor %}",
    ] {
        let got = check(&r, ok, Usage::text(None));
        assert!(got.is_ok(), "{ok}: {got:?}");
    }
}

/// `title` and `message` are a webhook body's only: a message template naming them
/// would fail at every alert.
#[test]
fn title_and_message_are_for_webhook_bodies_only() {
    let r = Renderer::new(None);
    let e = check(
        &r,
        "{{ title }}: {{ message }}",
        Usage::text(Some(EventKind::Down)),
    );
    assert!(e.is_err_and(|e| e.contains("unknown variable `title`")));
}

#[test]
fn filters() {
    let r = Renderer::new(Some(chrono_tz::Europe::Berlin));
    let ctx = sample_context(EventKind::Down);
    assert_eq!(
        r.render("{{ incident.opened_at | datetime }}", &ctx)
            .unwrap(),
        "2026-01-05 09:10:00 CET"
    );
    assert_eq!(
        r.render("{{ incident.opened_at | datetime('%H:%M') }}", &ctx)
            .unwrap(),
        "09:10"
    );
    assert_eq!(r.render("{{ 3725 | duration }}", &ctx).unwrap(), "1h 2m");
    assert_eq!(
        r.render("{{ 'a.b-c!' | markdown_escape }}", &ctx).unwrap(),
        "a\\.b\\-c\\!"
    );
}

#[test]
fn the_default_diagnosis_text_says_what_ran_without_a_dangling_colon() {
    let r = Renderer::new(Some(chrono_tz::UTC));
    let render = |output: &str, exit_code: Option<i32>, problem: &str| {
        let ctx = json!({
            "monitor": { "name": "web" },
            "incident": { "opened_at": "2026-12-05T01:00:00Z", "cause": "connection refused" },
            "diagnosis": {
                "output": output, "exit_code": exit_code, "duration_s": 0.2,
                "timed_out": false, "problem": problem,
            },
        });
        let v = Value::from(minijinja::value::Serde(&ctx));
        r.render(default_text(EventKind::Diagnosis), &v).unwrap()
    };
    assert_eq!(
        render("", None, "command not found: /usr/local/bin/diag"),
        "Diagnosis of web (DOWN since 2026-12-05 01:00:00 UTC: connection refused) (command not found: /usr/local/bin/diag)"
    );
    assert_eq!(
        render("", Some(0), ""),
        "Diagnosis of web (DOWN since 2026-12-05 01:00:00 UTC: connection refused), exit code 0, no output"
    );
    assert_eq!(
        render("disk full\n", Some(1), ""),
        "Diagnosis of web (DOWN since 2026-12-05 01:00:00 UTC: connection refused), exit code 1:\ndisk full\n"
    );
}
