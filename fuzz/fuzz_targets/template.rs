//! Alert templates: arbitrary template source rendered by `Renderer` (the `datetime`,
//! `duration` and `markdown_escape` filters, minijinja's builtins) against the sample
//! context of each event and against a context of hostile values (NaN, infinities, huge
//! and negative numbers, long strings, odd unicode) chosen by the input; also the
//! load-time `check` and the HTML page renderer. Nothing may panic, hang or run away
//! with memory.
//!
//! Input: `<control byte><template source>\0<value bytes>`.
#![no_main]

use std::collections::BTreeMap;

use hbmon::notify::EVENTS;
use hbmon::template::{Renderer, Usage, sample_context};
use libfuzzer_sys::fuzz_target;
use minijinja::Value;


/// A hostile value, picked by a byte.
fn hostile(b: u8, long: &str) -> Value {
    match b % 24 {
        0 => Value::from(f64::NAN),
        1 => Value::from(f64::INFINITY),
        2 => Value::from(f64::NEG_INFINITY),
        3 => Value::from(f64::MAX),
        4 => Value::from(-f64::MAX),
        5 => Value::from(f64::MIN_POSITIVE),
        6 => Value::from(-0.0_f64),
        7 => Value::from(i64::MIN),
        8 => Value::from(i64::MAX),
        9 => Value::from(u64::MAX),
        10 => Value::from(i128::MIN),
        11 => Value::from(u128::MAX),
        12 => Value::from(-1),
        13 => Value::from(""),
        14 => Value::from(long),
        15 => Value::from("x".repeat(100_000)),
        16 => Value::from("\u{202e}\u{0}é\u{fe0f}🦀\u{10ffff}\r\n\t\\*_[]()~`>#+-=|{}.!"),
        17 => Value::from("9999-12-31T23:59:59Z"),
        18 => Value::from("0000-01-01T00:00:00Z"),
        19 => Value::from("2026-01-05T08:15:00+25:00"),
        20 => Value::from(Vec::<Value>::new()),
        21 => Value::from(vec![Value::from(long), Value::from(f64::NAN), Value::UNDEFINED]),
        22 => Value::from(()),
        _ => Value::from(true),
    }
}

/// The alert context's shape, every leaf a hostile value.
fn hostile_context(bytes: &[u8], long: &str) -> Value {
    let mut it = bytes.iter().copied().cycle();
    let mut next = || hostile(it.next().unwrap_or(0), long);
    let obj = |pairs: Vec<(&str, Value)>| -> Value {
        Value::from(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect::<BTreeMap<String, Value>>(),
        )
    };
    let mut leaves = |names: &[&'static str]| -> Value {
        obj(names.iter().map(|n| (*n, next())).collect())
    };
    let monitor = leaves(&["name", "description", "tags", "kind", "heartbeat"]);
    let host = leaves(&["name", "address", "labels"]);
    let result = leaves(&["status", "reason", "latency_ms", "at"]);
    let incident = leaves(&[
        "id",
        "opened_at",
        "started_at",
        "resolved_at",
        "downtime_s",
        "cause",
        "parent",
        "reminder",
    ]);
    let flapping = leaves(&["changes", "window_s"]);
    let ack = leaves(&["by", "note", "at", "until"]);
    let escalation = leaves(&["step", "after_s"]);
    let rest = leaves(&["event", "children", "notifier", "now", "title", "message"]);
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    map.insert("monitor".into(), monitor);
    map.insert("host".into(), host);
    map.insert("result".into(), result);
    map.insert("incident".into(), incident);
    map.insert("flapping".into(), flapping);
    map.insert("ack".into(), ack);
    map.insert("escalation".into(), escalation);
    if let Some(rest) = rest.as_object() {
        for (k, v) in rest.try_iter_pairs().into_iter().flatten() {
            if let Some(k) = k.as_str() {
                map.insert(k.to_owned(), v);
            }
        }
    }
    Value::from(map)
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let (source, values) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(source) = std::str::from_utf8(source) else {
        return;
    };
    let tz = match control & 3 {
        0 => None,
        1 => Some(chrono_tz::Europe::Berlin),
        2 => Some(chrono_tz::Pacific::Chatham),
        _ => Some(chrono_tz::America::St_Johns),
    };
    let renderer = Renderer::new(tz);
    let event = EVENTS[usize::from(control >> 2) % EVENTS.len()];
    let _ = renderer.render(source, &sample_context(event));
    let long = String::from_utf8_lossy(values);
    let bytes = if values.is_empty() { &[0u8][..] } else { values };
    let _ = renderer.render(source, &hostile_context(bytes, &long));
    if control & 0x80 != 0 {
        let _ = renderer.check(source, Usage::text(Some(event)));
        let json = serde_json::json!({ "monitors": [], "title": long, "now": "2026-01-05T08:15:00Z" });
        let _ = renderer.render_html("page.html", source, &json);
    } else if control & 0x40 != 0 {
        let _ = renderer.check(source, Usage::body(true));
    }
});
