//! Alert templates (minijinja). Every template is checked when the config loads: every
//! name it looks up must exist wherever it appears (`check.rs` walks its syntax tree),
//! except as the operand of `is defined`, and it must render against a sample of each
//! event it serves for each kind of monitor that uses it, with undefined values as
//! errors; so a misspelt name is a configuration error at its position, not a failed
//! alert at 3 a.m.
//!
//! Templates see `event` (`down`, `up`, ...), `monitor` (`name`, `description`, `tags`,
//! `kind`; a heartbeat's also `heartbeat`: `heartbeat_json`), `host` (`name`, `address`,
//! `labels`; empty strings without a host), `result` (`status`, `reason`, `latency_ms`,
//! `at`), `incident` (`id`, `opened_at`, `started_at`, `resolved_at`, `downtime_s`,
//! `cause`, `parent`, `reminder`), `children` (the `depends_on` children failing with it,
//! for a parent's alert), `flapping` (`changes`, `window_s`), `ack` (`by`, `note`, `at`,
//! `until`; acknowledged alerts), `escalation` (`step`, `after_s`; escalated alerts),
//! `diagnosis` (`output`, `exit_code` (none when killed), `duration_s`, `timed_out`,
//! `problem`; diagnosis alerts, the follow-up of a `down` alert),
//! `notifier` and `now`; a webhook body also `title` and `message`. Filters: `datetime`
//! (an RFC 3339 time in the config's `timezone`, optional strftime format), `duration`
//! (seconds as `3h 2m`), `markdown_escape` (Telegram MarkdownV2), and minijinja's
//! builtins (`tojson`, `upper`, ...).

use std::time::SystemTime;

use minijinja::{Environment, UndefinedBehavior, Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

mod check;
mod context;

pub use context::{context, kind_of, sample_context, sample_json};

use crate::config::raw::{EventKind, Templates};
use crate::model::Monitor;
use crate::model::{EVENTS, Notifier, Target, event_name, pick};

/// The built-in message text per event.
#[must_use]
pub fn default_text(event: EventKind) -> &'static str {
    match event {
        EventKind::Down => {
            "{{ monitor.name }} is DOWN: {{ result.reason }}{% if incident.parent %} (it went down while {{ incident.parent }} was down){% endif %}{% if children %}; also affected: {{ children | join(', ') }}{% endif %}"
        }
        EventKind::Up => {
            "{{ monitor.name }} is UP again after {{ incident.downtime_s | duration }} (down from {{ incident.started_at | datetime }} to {{ incident.resolved_at | datetime }}; it was: {{ incident.cause }}): {{ result.reason }}{% if monitor.kind != 'heartbeat' %} in {{ result.latency_ms | round | int }} ms{% endif %}"
        }
        EventKind::Degraded => "{{ monitor.name }} is DEGRADED: {{ result.reason }}",
        EventKind::Late => "{{ monitor.name }} is LATE: {{ result.reason }}",
        EventKind::Flapping => {
            "{{ monitor.name }} is FLAPPING: {{ flapping.changes }} changes within {{ flapping.window_s | duration }}; alerts are held until it settles"
        }
        EventKind::Reminder => {
            "{{ monitor.name }} is still DOWN since {{ incident.opened_at | datetime }} ({{ incident.downtime_s | duration }}): {{ result.reason }}"
        }
        EventKind::Acknowledged => {
            "{{ monitor.name }}'s outage was acknowledged by {{ ack.by }}{% if ack.note %}: {{ ack.note }}{% endif %}{% if ack.until %} (until {{ ack.until | datetime }}){% endif %}"
        }
        EventKind::Escalated => {
            "{{ monitor.name }} is still DOWN and nobody has acknowledged it after {{ escalation.after_s | duration }} (escalation step {{ escalation.step }}): {{ result.reason }}"
        }
        EventKind::Diagnosis => {
            "Diagnosis of {{ monitor.name }} (DOWN since {{ incident.opened_at | datetime }}: {{ incident.cause }}){% if diagnosis.timed_out %}, stopped after {{ diagnosis.duration_s | duration }}{% elif diagnosis.exit_code is not none %}, exit code {{ diagnosis.exit_code }}{% endif %}{% if diagnosis.problem %} ({{ diagnosis.problem }}){% endif %}{% if diagnosis.output %}:\n{{ diagnosis.output }}{% elif not diagnosis.problem %}, no output{% endif %}"
        }
        EventKind::Test => {
            "Test alert from hbmon through {{ notifier }}: if you can read this, {{ notifier }} works."
        }
    }
}

/// The default webhook body: everything, as JSON.
pub const DEFAULT_WEBHOOK_BODY: &str = r#"{"event": {{ event | tojson }}, "title": {{ title | tojson }}, "message": {{ message | tojson }}, "monitor": {{ monitor | tojson }}, "host": {{ host | tojson }}, "result": {{ result | tojson }}, "incident": {{ incident | tojson }}{% if event == 'diagnosis' %}, "diagnosis": {{ diagnosis | tojson }}{% endif %}, "sent_at": {{ now | tojson }}}"#;

/// A rendered alert: what the outbox stores and the sender turns into a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub event: String,
    pub monitor: String,
    /// `api is DOWN`: a subject line.
    pub title: String,
    /// The rendered template.
    pub text: String,
    /// The webhook body, rendered (webhooks only).
    pub body: Option<String>,
    /// The result's status, for colours and priorities.
    pub status: String,
    /// When, as RFC 3339 in UTC (for machines: Discord's timestamp, webhooks).
    pub at: String,
    /// When, for people: in the config's `timezone` with its abbreviation
    /// (`2026-01-05 09:15:00 CET`). Empty in rows stored before it existed: `at` then.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub when: String,
    /// The incident's id (`api-1767600600000`): PagerDuty's `dedup_key`, Opsgenie's
    /// `alias`. Empty outside an incident.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub incident: String,
    /// Who acknowledged (acknowledged alerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_by: Option<String>,
    /// The monitor's severity (`info`, `warning`, `critical`); empty in rows stored before
    /// it existed, which count as critical.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub severity: String,
}

/// The environment with every filter; templates are rendered from strings.
#[derive(Debug)]
pub struct Renderer {
    /// For alert templates and webhook bodies: with fuel.
    env: Environment<'static>,
    /// For the status page, whose work grows with the number of monitors: no fuel.
    page: Environment<'static>,
    /// The config's `timezone` (UTC without one): times for people are shown in it.
    tz: chrono_tz::Tz,
}

/// What a template renders and for whom, for [`Renderer::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// The event it renders; every event when `None` (webhook bodies).
    pub event: Option<EventKind>,
    /// A webhook body: it sees `title` and `message` too.
    pub body: bool,
    /// It must render to valid JSON.
    pub json: bool,
    /// Heartbeats' alerts use it: they have `monitor.heartbeat`.
    pub heartbeats: bool,
    /// Other monitors' alerts use it: they have no `monitor.heartbeat`.
    pub others: bool,
}

impl Usage {
    /// A message template for `event` (every event: `None`), for any monitor.
    #[must_use]
    pub fn text(event: Option<EventKind>) -> Usage {
        Usage {
            event,
            body: false,
            json: false,
            heartbeats: true,
            others: true,
        }
    }

    /// A webhook body, for any monitor; `json`: it must render to JSON.
    #[must_use]
    pub fn body(json: bool) -> Usage {
        Usage {
            event: None,
            body: true,
            json,
            heartbeats: true,
            others: true,
        }
    }

    /// Used for heartbeats' alerts, other monitors' alerts, or both (neither: others').
    #[must_use]
    pub fn for_monitors(self, heartbeats: bool, others: bool) -> Usage {
        Usage {
            heartbeats,
            others: others || !heartbeats,
            ..self
        }
    }
}

/// What is wrong with a template, and where in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    /// The template's text at fault and which of its occurrences in the template it is
    /// (from 0), for a diagnostic to point at it; `None`: the whole template.
    pub at: Option<(String, usize)>,
}

impl Problem {
    fn whole(message: String) -> Problem {
        Problem { message, at: None }
    }

    fn at(message: String, source: &str, span: minijinja::machinery::Span) -> Problem {
        let (start, end) = (span.start_offset as usize, span.end_offset as usize);
        let at = source.get(start..end).map(|text| {
            let nth = source[..start].matches(text).count();
            (text.to_owned(), nth)
        });
        Problem { message, at }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn rfc(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A time in a `strftime` format; a format chrono cannot follow (`%Q`, a lone `%`) is an
/// error naming it, never a panic.
fn strftime(t: &chrono::DateTime<chrono_tz::Tz>, format: &str) -> Result<String, minijinja::Error> {
    use std::fmt::Write as _;
    let bad = || {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("datetime: `{format}` is not a strftime format chrono understands"),
        )
    };
    let items = chrono::format::StrftimeItems::new(format);
    if items
        .clone()
        .any(|i| matches!(i, chrono::format::Item::Error))
    {
        return Err(bad());
    }
    let mut out = String::new();
    write!(out, "{}", t.format_with_items(items)).map_err(|_| bad())?;
    Ok(out)
}

/// What one alert template may spend (minijinja's fuel: about that many instructions).
/// hbmon's own templates use a few hundred; a loop in a loop over `range(99999)` would
/// run for hours at load (every template is rendered when the config loads) or in the
/// watch loop.
const TEMPLATE_FUEL: u64 = 10_000_000;

impl Renderer {
    #[must_use]
    pub fn new(tz: Option<chrono_tz::Tz>) -> Renderer {
        let tz = tz.unwrap_or(chrono_tz::UTC);
        let mut env = environment(tz);
        env.set_fuel(Some(TEMPLATE_FUEL));
        Renderer {
            env,
            page: environment(tz),
            tz,
        }
    }
}

/// An environment with hbmon's filters, times in `tz`.
fn environment(tz: chrono_tz::Tz) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_filter(
        "datetime",
        move |value: String, format: Option<String>| -> Result<String, minijinja::Error> {
            let t = humantime::parse_rfc3339_weak(&value).map_err(|_| {
                minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    "datetime: not an RFC 3339 time",
                )
            })?;
            let utc: chrono::DateTime<chrono::Utc> = t.into();
            strftime(
                &utc.with_timezone(&tz),
                format.as_deref().unwrap_or("%Y-%m-%d %H:%M:%S %Z"),
            )
        },
    );
    // Whole seconds are rounded (47.6 s reads 48s); below a second, milliseconds.
    env.add_filter(
        "duration",
        |secs: f64| -> Result<String, minijinja::Error> {
            if secs.is_nan() {
                return Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    "duration: not a number",
                ));
            }
            let secs = secs.max(0.0);
            let secs = if secs >= 1.0 { secs.round() } else { secs };
            // Past what a `Duration` holds (about 584 billion years) it is shown as the most.
            let d =
                std::time::Duration::try_from_secs_f64(secs).unwrap_or(std::time::Duration::MAX);
            Ok(crate::humanize::span(d))
        },
    );
    env.add_filter("markdown_escape", |text: String| -> String {
        markdown_escape(&text)
    });
    env
}

impl Renderer {
    /// A time for people, in the config's time zone: `2026-01-05 09:15:00 CET`.
    #[must_use]
    pub fn local(&self, t: SystemTime) -> String {
        let utc: chrono::DateTime<chrono::Utc> = t.into();
        utc.with_timezone(&self.tz)
            .format("%Y-%m-%d %H:%M:%S %Z")
            .to_string()
    }

    /// Render one template source against a context.
    pub fn render(&self, source: &str, ctx: &Value) -> Result<String, String> {
        self.env.render_str(source, ctx).map_err(|e| describe(&e))
    }

    /// Render an HTML page (auto-escaped, by its `.html` name) against a JSON context.
    pub fn render_html(
        &self,
        name: &str,
        source: &str,
        ctx: &serde_json::Value,
    ) -> Result<String, String> {
        let template = self
            .page
            .template_from_named_str(name, source)
            .map_err(|e| describe(&e))?;
        template
            .render(Value::from(minijinja::value::Serde(ctx)))
            .map_err(|e| describe(&e))
    }

    /// Check a template where it is used: every variable and attribute it names must
    /// exist, wherever it appears (behind a filter `| tojson` would print `null`; in a
    /// test, a condition, a loop, a branch no sample takes), except as the operand of `is
    /// defined`; then it must render against a sample of each event it renders, for each
    /// kind of monitor that uses it (`monitor.heartbeat` is a heartbeat's only), and with
    /// `json`, to valid JSON.
    pub fn check(&self, source: &str, usage: Usage) -> Result<(), Vec<Problem>> {
        self.env
            .template_from_str(source)
            .map_err(|e| vec![Problem::whole(describe(&e))])?;
        let lookups = check::lookups(source).map_err(|e| vec![Problem::whole(describe(&e))])?;
        let shape = shape(usage.body);
        let globals: Vec<&str> = self.env.globals().map(|(name, _)| name).collect();
        let mut problems: Vec<Problem> = Vec::new();
        for l in &lookups {
            if globals.contains(&l.path[0].as_str()) {
                continue;
            }
            if let Err(message) = check_path(&shape, &l.path, l.probe)
                && !problems.iter().any(|p| p.message == message)
            {
                problems.push(Problem::at(message, source, l.span));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let events: Vec<EventKind> = usage.event.map_or_else(|| EVENTS.to_vec(), |e| vec![e]);
        for e in events {
            // `late` is a heartbeat's event only.
            let kinds = [
                (usage.others && e != EventKind::Late).then_some(false),
                (usage.heartbeats || e == EventKind::Late).then_some(true),
            ];
            for heartbeat in kinds.into_iter().flatten() {
                let sample = sample_for_check(e, heartbeat, usage.body);
                let out = match self.render(source, &Value::from(minijinja::value::Serde(&sample)))
                {
                    Ok(out) => out,
                    Err(err) => {
                        return Err(vec![self.explain(source, &lookups, e, usage.body, err)]);
                    }
                };
                if usage.json
                    && let Err(err) = serde_json::from_str::<serde_json::Value>(&out)
                {
                    return Err(vec![Problem::whole(format!(
                        "renders to invalid JSON for a `{}` alert ({err})",
                        event_name(e)
                    ))]);
                }
            }
        }
        Ok(())
    }

    /// Why a template failed on a sample: a heartbeat's attribute in a template other
    /// monitors use (it renders for a heartbeat), else minijinja's error.
    fn explain(
        &self,
        source: &str,
        lookups: &[check::Lookup],
        event: EventKind,
        body: bool,
        err: String,
    ) -> Problem {
        let as_heartbeat = sample_for_check(event, true, body);
        // `monitor.heartbeat is defined` is the guard itself.
        let heartbeat_only = lookups.iter().find(|l| {
            l.path.len() >= 2
                && l.path[0] == "monitor"
                && l.path[1] == "heartbeat"
                && !(l.probe && l.path.len() == 2)
        });
        match heartbeat_only {
            Some(l) if self
                .render(source, &Value::from(minijinja::value::Serde(&as_heartbeat)))
                .is_ok() =>
            {
                Problem::at(
                    "`monitor.heartbeat` is there for heartbeats only, and this template serves other monitors as well; guard it with `{% if monitor.heartbeat is defined %}`".to_owned(),
                    source,
                    l.span,
                )
            }
            _ => Problem::whole(err),
        }
    }

    /// Render an alert for one notifier: the message text (monitor's template, else the
    /// notifier's, else the top-level one, else the default) and, for webhooks, the body.
    /// A template that fails at run time falls back to the default, so no alert is lost.
    #[must_use]
    pub fn message(
        &self,
        ctx: &serde_json::Value,
        event: EventKind,
        notifier: &Notifier,
        monitor_templates: Option<&Templates>,
        top: &Templates,
    ) -> Message {
        let mut ctx = ctx.clone();
        ctx["notifier"] = json!(notifier.name);
        let source = monitor_templates
            .and_then(|t| pick(t, event))
            .or_else(|| pick(&notifier.templates, event))
            .or_else(|| pick(top, event))
            .map_or(default_text(event), String::as_str);
        let value = Value::from(minijinja::value::Serde(&ctx));
        let text = self.render(source, &value).unwrap_or_else(|e| {
            tracing::error!(notifier = %notifier.name, "alert template failed ({e}); the default one is used");
            self.render(default_text(event), &value)
                .unwrap_or_else(|_| format!("{} {}", ctx["monitor"]["name"], event_name(event)))
        });
        let monitor = ctx["monitor"]["name"].as_str().unwrap_or("").to_owned();
        let title = title(&monitor, event);
        let body = match &notifier.target {
            Target::Webhook { body, .. } => {
                let mut full = ctx.clone();
                full["title"] = json!(title);
                full["message"] = json!(text);
                let full = Value::from(minijinja::value::Serde(&full));
                let source = body.as_deref().unwrap_or(DEFAULT_WEBHOOK_BODY);
                Some(self.render(source, &full).unwrap_or_else(|e| {
                    tracing::error!(notifier = %notifier.name, "webhook body template failed ({e}); the default one is used");
                    self.render(DEFAULT_WEBHOOK_BODY, &full).unwrap_or_default()
                }))
            }
            _ => None,
        };
        Message {
            event: event_name(event).to_owned(),
            monitor,
            title,
            text,
            body,
            status: ctx["result"]["status"]
                .as_str()
                .unwrap_or("unknown")
                .to_owned(),
            at: ctx["now"].as_str().unwrap_or("").to_owned(),
            when: ctx["now"]
                .as_str()
                .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
                .map(|t| self.local(t))
                .unwrap_or_default(),
            // A test alert is its own incident (the sender keys it by its delivery id).
            incident: if event == EventKind::Test {
                String::new()
            } else {
                ctx["incident"]["id"].as_str().unwrap_or("").to_owned()
            },
            ack_by: (event == EventKind::Acknowledged)
                .then(|| ctx["ack"]["by"].as_str().unwrap_or("").to_owned()),
            severity: ctx["monitor"]["severity"].as_str().unwrap_or("").to_owned(),
        }
    }
}

impl Message {
    /// The monitor's severity; alerts stored before it existed are critical.
    #[must_use]
    pub fn severity(&self) -> &str {
        if self.severity.is_empty() {
            "critical"
        } else {
            &self.severity
        }
    }

    /// When, for people (`when`, else `at` for rows stored before `when` existed).
    #[must_use]
    pub fn when_for_people(&self) -> &str {
        if self.when.is_empty() {
            &self.at
        } else {
            &self.when
        }
    }
}

/// `api is DOWN`, `api is UP`, ...
#[must_use]
pub fn title(monitor: &str, event: EventKind) -> String {
    match event {
        EventKind::Down => format!("{monitor} is DOWN"),
        EventKind::Up => format!("{monitor} is UP"),
        EventKind::Degraded => format!("{monitor} is DEGRADED"),
        EventKind::Late => format!("{monitor} is LATE"),
        EventKind::Flapping => format!("{monitor} is FLAPPING"),
        EventKind::Reminder => format!("{monitor} is still DOWN"),
        EventKind::Acknowledged => format!("{monitor} DOWN: acknowledged"),
        EventKind::Escalated => format!("{monitor} is DOWN, unacknowledged"),
        EventKind::Diagnosis => format!("{monitor} is DOWN: diagnosis"),
        EventKind::Test => "hbmon test alert".to_owned(),
    }
}

/// A minijinja error in one line, with the template line when known.
fn describe(e: &minijinja::Error) -> String {
    let detail = e
        .detail()
        .map_or_else(|| e.kind().to_string(), str::to_owned);
    match e.line() {
        Some(line) => format!("template line {line}: {detail}"),
        None => detail,
    }
}

/// Every variable a template may name, with its attributes: the context of an alert,
/// with what only heartbeats have (`monitor.heartbeat`), and for a webhook body its
/// `title` and `message`.
fn shape(body: bool) -> serde_json::Value {
    sample_for_check(EventKind::Down, true, body)
}

/// The sample a template is rendered against when checked: a heartbeat's or another
/// monitor's alert, with `title` and `message` for a webhook body only.
fn sample_for_check(event: EventKind, heartbeat: bool, body: bool) -> serde_json::Value {
    let mut sample = sample_json(event, "api");
    if heartbeat {
        sample["monitor"]["kind"] = json!("heartbeat");
        sample["monitor"]["heartbeat"] = heartbeat_sample();
    }
    if !body && let Some(m) = sample.as_object_mut() {
        m.remove("title");
        m.remove("message");
    }
    sample
}

/// Mappings whose keys are the user's (a host's labels): any may be asked for.
const OPEN: [&str; 1] = ["host.labels"];

/// `monitor.nme`: "`monitor` has no attribute `nme`; did you mean `name`?". With
/// `probe` (`is defined`), the last attribute may be missing.
fn check_path(shape: &serde_json::Value, path: &[String], probe: bool) -> Result<(), String> {
    let Some((root, attrs)) = path.split_first() else {
        return Ok(());
    };
    let Some(mut here) = shape.get(root) else {
        if probe && attrs.is_empty() {
            return Ok(());
        }
        return Err(format!(
            "unknown variable `{root}`; {}",
            nearest(root, shape)
        ));
    };
    let mut seen = root.clone();
    for (i, part) in attrs.iter().enumerate() {
        if OPEN.contains(&seen.as_str()) {
            return Ok(());
        }
        let serde_json::Value::Object(map) = here else {
            // Attributes of strings, numbers and lists are minijinja's business.
            return Ok(());
        };
        match map.get(part) {
            Some(v) => here = v,
            None if probe && i + 1 == attrs.len() => return Ok(()),
            None => {
                // `monitor.grace`: "did you mean `monitor.heartbeat.grace`?"
                let below = map.iter().find_map(|(k, v)| v.get(part).map(|_| k));
                return Err(match below {
                    Some(k) => format!(
                        "`{seen}` has no attribute `{part}`; did you mean `{seen}.{k}.{part}`?"
                    ),
                    None => format!(
                        "`{seen}` has no attribute `{part}`; {}",
                        nearest(part, here)
                    ),
                });
            }
        }
        seen.push('.');
        seen.push_str(part);
    }
    Ok(())
}

/// The closest key of `map` to `name`, or the keys it has.
fn nearest(name: &str, map: &serde_json::Value) -> String {
    let keys: Vec<&str> = map
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let best = keys
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), *k))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((score, k)) if score >= 0.8 => format!("did you mean `{k}`?"),
        _ => format!("it has: {}", keys.join(", ")),
    }
}

/// `monitor` in the context; a heartbeat's has `heartbeat` too (`heartbeat_json`).
fn monitor_json(monitor: &Monitor) -> serde_json::Value {
    let mut m = json!({
        "name": monitor.name,
        "description": monitor.description.clone().unwrap_or_default(),
        "severity": monitor.severity.name(),
        "tags": monitor.tags,
        "kind": monitor.probe.kind(),
    });
    if let crate::model::Probe::Heartbeat(hb) = &monitor.probe {
        m["heartbeat"] = heartbeat_json(hb, None);
    }
    m
}

/// `monitor.heartbeat`: when pings are expected (`period` and `period_s` for a period,
/// empty and 0 for cron; `cron` and `timezone` for cron, empty for a period; `schedule`
/// either way, for people: `every 1d`, `0 3 * * * (Europe/Berlin)`), `grace` and
/// `grace_s`, and `last_ping_at` (RFC 3339; empty before the first ping; set by `watch`).
#[must_use]
pub fn heartbeat_json(
    hb: &crate::heartbeat::Heartbeat,
    last_ping: Option<SystemTime>,
) -> serde_json::Value {
    use crate::heartbeat::Expect;
    use crate::humanize::span;
    let (period, cron, tz) = match &hb.expect {
        Expect::Every(p) => (Some(*p), String::new(), String::new()),
        Expect::Cron(crate::schedule::Schedule::Cron { expr, tz, .. }) => {
            (None, expr.clone(), tz.name().to_owned())
        }
        Expect::Cron(_) => (None, String::new(), String::new()),
    };
    let schedule = match period {
        Some(p) => format!("every {}", span(p)),
        None => format!("{cron} ({tz})"),
    };
    json!({
        "period": period.map(span).unwrap_or_default(),
        "period_s": period.map_or(0.0, |p| p.as_secs_f64()),
        "cron": cron,
        "timezone": tz,
        "schedule": schedule,
        "grace": span(hb.grace),
        "grace_s": hb.grace.as_secs_f64(),
        "last_ping_at": last_ping.map(rfc).unwrap_or_default(),
    })
}

/// A heartbeat's own part of the context, as templates are checked against it.
fn heartbeat_sample() -> serde_json::Value {
    let hb = crate::heartbeat::Heartbeat {
        expect: crate::heartbeat::Expect::Every(std::time::Duration::from_secs(86_400)),
        grace: std::time::Duration::from_secs(3600),
        max_runtime: None,
        min_runtime: None,
        token: None,
    };
    heartbeat_json(&hb, humantime::parse_rfc3339("2026-01-04T07:10:00Z").ok())
}

/// Escape Telegram MarkdownV2's special characters.
#[must_use]
pub fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "_*[]()~`>#+-=|{}.!\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
