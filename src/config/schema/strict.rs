//! The published schema: the loader's schema made as strict as `hbmon validate`, for
//! editors and other validators. The loader keeps the lenient one, whose problems it turns
//! into its own messages and whose remaining checks `plan` makes with a position and a
//! hint; these rules say the same in JSON schema: exactly one probe, each notifier type's
//! keys, the pairs that exclude each other, URL schemes, the defaults hbmon applies, and
//! `${VAR}` wherever a number, boolean or pattern goes (the loader interpolates before it
//! validates; an editor sees the text as written).

use serde_json::{Map, Value, json};

use crate::config::raw::NotifierKind;

/// A value that is exactly one `${VAR}` expression: hbmon converts what it holds to the
/// number or boolean the key wants.
pub const ENV_VAR_PATTERN: &str = r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}$";

/// The probes of a monitor; exactly one is set.
const PROBES: [&str; 9] = [
    "http",
    "tcp",
    "icmp",
    "dns",
    "docker",
    "command",
    "file",
    "system",
    "heartbeat",
];

/// Keys every notifier takes, whatever its `type`.
const NOTIFIER_COMMON: [&str; 5] = ["type", "events", "templates", "timeout", "retry"];

const HTTP_URL: &str = r"^https?://[^/?#\s]";
const PHONE: &str = r"^\+[1-9][0-9]{1,14}$";

/// The defaults `plan` and `model` apply, by object and key (`""` is the top level);
/// `plan`'s tests compare those it has constants for.
pub const DEFAULTS: &[(&str, &str, DefaultValue)] = &[
    ("", "timezone", DefaultValue::Text("UTC")),
    ("Defaults", "interval", DefaultValue::Text("30s")),
    ("Defaults", "timeout", DefaultValue::Text("10s")),
    ("Defaults", "failure_threshold", DefaultValue::Int(3)),
    ("Defaults", "success_threshold", DefaultValue::Int(1)),
    ("Defaults", "align", DefaultValue::Bool(false)),
    ("Monitor", "timezone", DefaultValue::Text("UTC")),
    ("Monitor", "paused", DefaultValue::Bool(false)),
    ("Monitor", "severity", DefaultValue::Text("critical")),
    ("Defaults", "severity", DefaultValue::Text("critical")),
    ("HttpProbe", "scheme", DefaultValue::Text("http")),
    ("HttpProbe", "path", DefaultValue::Text("/")),
    ("HttpProbe", "method", DefaultValue::Text("GET")),
    ("HttpProbe", "follow_redirects", DefaultValue::Bool(true)),
    ("HttpProbe", "max_redirects", DefaultValue::Int(10)),
    ("HttpProbe", "verify_tls", DefaultValue::Bool(true)),
    ("HttpProbe", "ip_version", DefaultValue::Text("any")),
    (
        "HttpProbe",
        "cert_expiry_warning",
        DefaultValue::Text("14d"),
    ),
    ("JsonAssertion", "exists", DefaultValue::Bool(true)),
    ("TcpProbe", "tls", DefaultValue::Bool(false)),
    ("TcpProbe", "verify_tls", DefaultValue::Bool(true)),
    ("TcpProbe", "cert_expiry_warning", DefaultValue::Text("14d")),
    ("IcmpProbe", "count", DefaultValue::Int(3)),
    ("IcmpProbe", "interval", DefaultValue::Text("200ms")),
    ("IcmpProbe", "packet_timeout", DefaultValue::Text("1s")),
    ("IcmpProbe", "loss_critical", DefaultValue::Int(100)),
    ("IcmpProbe", "ip_version", DefaultValue::Text("any")),
    ("DnsProbe", "record_type", DefaultValue::Text("A")),
    ("DnsProbe", "transport", DefaultValue::Text("udp")),
    ("DiskCheck", "path", DefaultValue::Text("/")),
    ("LoadCheck", "per_cpu", DefaultValue::Bool(false)),
    ("HeartbeatDef", "grace", DefaultValue::Text("5m")),
    ("HeartbeatDef", "timezone", DefaultValue::Text("UTC")),
    ("NotifierDef", "method", DefaultValue::Text("POST")),
    (
        "NotifierDef",
        "content_type",
        DefaultValue::Text("application/json"),
    ),
    ("NotifierDef", "max_length", DefaultValue::Int(160)),
    ("NotifierDef", "timeout", DefaultValue::Text("10s")),
    ("RetryDef", "max_attempts", DefaultValue::Int(20)),
    ("RetryDef", "initial", DefaultValue::Text("5s")),
    ("RetryDef", "max", DefaultValue::Text("10m")),
    ("UpstreamDef", "every", DefaultValue::Text("1m")),
    ("UpstreamDef", "method", DefaultValue::Text("POST")),
    (
        "UpstreamDef",
        "content_type",
        DefaultValue::Text("application/json"),
    ),
    ("UpstreamDef", "only_when_online", DefaultValue::Bool(false)),
    ("ConnectivityDef", "every", DefaultValue::Text("10s")),
    ("RegionsDef", "silent_after", DefaultValue::Text("1m")),
    ("ListenDef", "address", DefaultValue::Text("127.0.0.1:8471")),
    ("ListenDef", "max_body", DefaultValue::Text("10KiB")),
    ("ListenDef", "max_pings_per_second", DefaultValue::Int(50)),
    ("StatusPageDef", "title", DefaultValue::Text("hbmon status")),
    ("StatusPageDef", "public", DefaultValue::Bool(false)),
    ("StatusPageDef", "history", DefaultValue::Int(50)),
    ("StatusPageDef", "group_by", DefaultValue::Text("group")),
    ("Store", "lease", DefaultValue::Text("10s")),
    ("Store", "retention", DefaultValue::Text("30d")),
    ("ScheduleDef", "timezone", DefaultValue::Text("UTC")),
    ("WindowDef", "days", DefaultValue::Text("daily")),
];

/// A default as the schema writes it.
#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    Text(&'static str),
    Int(u64),
    Bool(bool),
}

impl DefaultValue {
    fn to_json(self) -> Value {
        match self {
            DefaultValue::Text(t) => Value::from(t),
            DefaultValue::Int(n) => Value::from(n),
            DefaultValue::Bool(b) => Value::from(b),
        }
    }
}

/// The strict rules and defaults added to the loader's schema; the configuration reference
/// is made from this.
pub fn documented(mut schema: Value) -> Value {
    strip_formats(&mut schema);
    for (object, key, value) in DEFAULTS {
        property(&mut schema, object, key).insert("default".into(), value.to_json());
    }
    monitors(&mut schema);
    probes(&mut schema);
    notifiers(&mut schema);
    settings(&mut schema);
    file_twins(&mut schema);
    rename_definitions(&mut schema);
    schema
}

/// The definitions are named after Rust types (`NotifierDef`); editors and validators show
/// these names, so they become the words of the file (`notifier`).
fn rename_definitions(schema: &mut Value) {
    fn word(rust: &str) -> String {
        let rust = rust.strip_suffix("Def").unwrap_or(rust);
        let mut out = String::new();
        for (i, c) in rust.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }
    fn refs(node: &mut Value) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get_mut("$ref")
                    && let Some(name) = r.strip_prefix("#/$defs/")
                {
                    *r = format!("#/$defs/{}", word(name));
                }
                map.values_mut().for_each(refs);
            }
            Value::Array(items) => items.iter_mut().for_each(refs),
            _ => {}
        }
    }
    if let Some(Value::Object(defs)) = schema.get_mut("$defs") {
        let renamed: Map<String, Value> = std::mem::take(defs)
            .into_iter()
            .map(|(name, def)| (word(&name), def))
            .collect();
        *defs = renamed;
    }
    refs(schema);
}

/// `${VAR}` accepted wherever the file may hold one that the schema would otherwise
/// refuse: exactly one `${VAR}` where a number or boolean goes, and any string holding one
/// where a pattern or a fixed set of words applies.
pub fn accept_env_vars(node: &mut Value) {
    match node {
        Value::Object(map) if is_words(map) => {
            // Words documented one by one (`ip_version`, `events`): one `${VAR}` test
            // around all of them.
            for key in ["oneOf", "anyOf"] {
                if let Some(alternatives) = map.remove(key) {
                    map.insert("if".into(), json!({"type": "string", "pattern": r"\$\{"}));
                    map.insert("else".into(), json!({ key: alternatives }));
                }
            }
        }
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                // Conditions look at values, they do not restrict them.
                if key != "if" && key != "properties" && key != "$defs" {
                    accept_env_vars(child);
                }
            }
            for key in ["properties", "$defs"] {
                if let Some(Value::Object(children)) = map.get_mut(key) {
                    children.values_mut().for_each(accept_env_vars);
                }
            }
            relax(map);
        }
        Value::Array(items) => items.iter_mut().for_each(accept_env_vars),
        _ => {}
    }
}

/// A choice among words: alternatives that are each a word (`const`) or a set of them.
fn is_words(map: &Map<String, Value>) -> bool {
    ["oneOf", "anyOf"].iter().any(|key| {
        map.get(*key)
            .and_then(Value::as_array)
            .is_some_and(|alternatives| {
                alternatives.iter().all(|a| {
                    a.get("const").is_some_and(Value::is_string) || a.get("enum").is_some()
                })
            })
    })
}

fn relax(map: &mut Map<String, Value>) {
    if let Some(Value::String(p)) = map.get_mut("pattern") {
        *p = format!(r"(?:{p})|\$\{{");
    }
    // `if`/`else` rather than `anyOf`, so that a typo is still "not one of ...".
    if let Some(options) = map.remove("enum") {
        map.insert("if".into(), json!({"type": "string", "pattern": r"\$\{"}));
        map.insert("else".into(), json!({"enum": options}));
        return;
    }
    let types: Vec<String> = match map.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(Into::into)
            .collect(),
        _ => return,
    };
    let scalar = types
        .iter()
        .any(|t| matches!(t.as_str(), "integer" | "number" | "boolean"));
    // A string is allowed only when it is one `${VAR}`; any other value must have the
    // key's own type, and a wrong one is "not of type 'boolean'", not a pattern mismatch.
    if scalar && !types.iter().any(|t| t == "string") {
        let own: Vec<Value> = types.into_iter().map(Value::from).collect();
        let mut all = own.clone();
        all.push("string".into());
        map.insert("type".into(), Value::Array(all));
        map.insert(
            "if".into(),
            json!({"type": "string", "pattern": ENV_VAR_PATTERN}),
        );
        map.insert("else".into(), json!({"type": own}));
    }
}

/// schemars' integer formats (`uint32`) name Rust types; editors need only the range.
fn strip_formats(node: &mut Value) {
    match node {
        Value::Object(map) => {
            if map.get("format").and_then(Value::as_str).is_some_and(|f| {
                f.starts_with("uint") || f.starts_with("int") || f == "double" || f == "float"
            }) {
                map.remove("format");
            }
            map.values_mut().for_each(strip_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_formats),
        _ => {}
    }
}

/// The object schema `name` (`""`: the top level). The names are the raw types', so a
/// missing one is a mistake in this file, not in a configuration: it panics on every
/// `hbmon schema`, which the drift test runs.
fn object<'a>(schema: &'a mut Value, name: &str) -> &'a mut Map<String, Value> {
    let pointer = if name.is_empty() {
        String::new()
    } else {
        format!("/$defs/{name}")
    };
    schema
        .pointer_mut(&pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("the schema has no object `{name}`"))
}

fn property<'a>(schema: &'a mut Value, name: &str, key: &str) -> &'a mut Map<String, Value> {
    object(schema, name)
        .get_mut("properties")
        .and_then(|p| p.get_mut(key))
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("the schema has no key `{key}` in `{name}`"))
}

/// Add `rule` to the object's `allOf`.
fn rule(schema: &mut Value, name: &str, rule: Value) {
    if let Value::Array(rules) = object(schema, name)
        .entry("allOf")
        .or_insert_with(|| json!([]))
    {
        rules.push(rule);
    }
}

fn exclusive(a: &str, b: &str) -> Value {
    json!({"not": {"required": [a, b]}})
}

fn exactly_one(keys: &[&str]) -> Value {
    let options: Vec<Value> = keys.iter().map(|k| json!({"required": [k]})).collect();
    json!({"oneOf": options})
}

fn at_least_one(keys: &[&str]) -> Value {
    let options: Vec<Value> = keys.iter().map(|k| json!({"required": [k]})).collect();
    json!({"anyOf": options})
}

fn pattern(schema: &mut Value, name: &str, key: &str, re: &str) {
    property(schema, name, key).insert("pattern".into(), re.into());
}

fn monitors(s: &mut Value) {
    rule(s, "Monitor", exactly_one(&PROBES));
    rule(s, "Monitor", exclusive("interval", "cron"));
    rule(s, "Monitor", exclusive("align", "cron"));
    rule(
        s,
        "Monitor",
        json!({"dependentRequired": {"timezone": ["cron"]}}),
    );
}

fn probes(s: &mut Value) {
    pattern(s, "HttpProbe", "url", HTTP_URL);
    pattern(s, "HttpProbe", "proxy", HTTP_URL);
    for key in ["scheme", "port", "path"] {
        rule(s, "HttpProbe", exclusive("url", key));
    }
    rule(s, "HttpProbe", exclusive("bearer_token", "basic_auth"));
    rule(s, "HttpProbe", exclusive("bearer_token_file", "basic_auth"));
    rule(
        s,
        "HttpProbe",
        json!({
            "if": {"properties": {"follow_redirects": {"const": false}}, "required": ["follow_redirects"]},
            "then": {"not": {"required": ["max_redirects"]}},
        }),
    );
    rule(
        s,
        "HttpProbe",
        json!({"dependentRequired": {
            "client_cert_file": ["client_key_file"],
            "client_key_file": ["client_cert_file"],
        }}),
    );
    rule(s, "TcpProbe", exclusive("expect", "expect_regex"));
    rule(
        s,
        "TcpProbe",
        json!({
            "if": {"anyOf": [
                {"not": {"required": ["tls"]}},
                {"properties": {"tls": {"const": false}}},
            ]},
            "then": {"properties": {
                "verify_tls": false,
                "ca_file": false,
                "cert_expiry_warning": false,
                "cert_expiry_critical": false,
            }},
        }),
    );
    rule(s, "DockerProbe", exactly_one(&["container", "count"]));
    rule(
        s,
        "DockerProbe",
        json!({
            "if": {"required": ["count"]},
            "then": {"properties": {"healthy": false, "max_restarts": false, "min_uptime": false}},
        }),
    );
    rule(s, "DockerCount", at_least_one(&["min", "max"]));
    rule(s, "CommandProbe", exactly_one(&["run", "shell"]));
    let run = property(s, "CommandProbe", "run");
    run.insert("minItems".into(), 1.into());
    run.insert("prefixItems".into(), json!([{"minLength": 1}]));
    rule(
        s,
        "SystemProbe",
        at_least_one(&["disk", "memory", "load", "cpu"]),
    );
    for levels in ["DiskCheck", "Thresholds", "LoadCheck"] {
        rule(s, levels, at_least_one(&["warning", "critical"]));
    }
    rule(
        s,
        "HeartbeatDef",
        json!({"oneOf": [
            {"required": ["period"], "properties": {"cron": false, "timezone": false}},
            {"required": ["cron"], "properties": {"period": false}},
        ]}),
    );
}

/// Each notifier type's keys, and what it needs.
fn notifiers(s: &mut Value) {
    pattern(s, "NotifierDef", "url", HTTP_URL);
    pattern(s, "NotifierDef", "webhook_url", HTTP_URL);
    pattern(s, "NotifierDef", "smtp", r"^smtps?://[^/?#\s]");
    let props: Vec<String> = object(s, "NotifierDef")
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for kind in NotifierKind::ALL {
        let mut allowed = Map::new();
        for key in NOTIFIER_COMMON.iter().chain(kind.keys()) {
            allowed.insert((*key).to_owned(), Value::Bool(true));
            let twin = format!("{key}_file");
            if props.contains(&twin) {
                allowed.insert(twin, Value::Bool(true));
            }
        }
        let mut then = json!({"additionalProperties": false});
        let mut required = Vec::new();
        let mut needs = Vec::new();
        for key in needed(kind) {
            let twin = format!("{key}_file");
            if props.contains(&twin) {
                needs.push(at_least_one(&[key, &twin]));
            } else {
                required.push(*key);
            }
        }
        for (key, constraint) in constraints(kind) {
            allowed.insert(key.to_owned(), constraint);
        }
        then["properties"] = Value::Object(allowed);
        if !required.is_empty() {
            then["required"] = json!(required);
        }
        if kind == NotifierKind::Email {
            needs.push(json!({"dependentSchemas": {
                "username": at_least_one(&["password", "password_file"]),
                "password": {"required": ["username"]},
                "password_file": {"required": ["username"]},
            }}));
        }
        if !needs.is_empty() {
            then["allOf"] = Value::Array(needs);
        }
        rule(
            s,
            "NotifierDef",
            json!({
                "if": {"properties": {"type": {"const": kind.name()}}, "required": ["type"]},
                "then": then,
            }),
        );
    }
}

/// The keys a notifier type cannot do without (or their `_file` twins).
fn needed(kind: NotifierKind) -> &'static [&'static str] {
    match kind {
        NotifierKind::Webhook | NotifierKind::Ntfy => &["url"],
        NotifierKind::Slack | NotifierKind::Discord | NotifierKind::Teams => &["webhook_url"],
        NotifierKind::Telegram => &["bot_token", "chat_id"],
        NotifierKind::Email => &["smtp", "from", "to"],
        NotifierKind::Exec => &["run"],
        NotifierKind::Gotify => &["url", "token"],
        NotifierKind::Pushover => &["token", "user"],
        NotifierKind::Sms => &["account_sid", "token", "from", "to"],
        NotifierKind::Pagerduty => &["routing_key"],
        NotifierKind::Opsgenie => &["token"],
        NotifierKind::Matrix => &["url", "token", "room_id"],
    }
}

/// What a notifier type asks of a key beyond its type.
fn constraints(kind: NotifierKind) -> Vec<(&'static str, Value)> {
    let api = |default: &str| json!({"pattern": HTTP_URL, "default": default});
    match kind {
        NotifierKind::Telegram => vec![("api_url", json!({"default": "https://api.telegram.org"}))],
        NotifierKind::Pushover => vec![("api_url", api("https://api.pushover.net"))],
        NotifierKind::Pagerduty => vec![("api_url", api("https://events.pagerduty.com"))],
        NotifierKind::Opsgenie => vec![
            ("api_url", api("https://api.opsgenie.com")),
            (
                "priority",
                json!({"enum": ["P1", "P2", "P3", "P4", "P5"], "default": "P3"}),
            ),
        ],
        NotifierKind::Ntfy => vec![(
            "priority",
            json!({
                "enum": ["min", "low", "default", "high", "max", "urgent", "1", "2", "3", "4", "5"],
                "default": "high",
            }),
        )],
        NotifierKind::Email => vec![("to", json!({"minItems": 1}))],
        NotifierKind::Exec => vec![(
            "run",
            json!({"minItems": 1, "prefixItems": [{"minLength": 1}]}),
        )],
        NotifierKind::Sms => vec![
            ("api_url", api("https://api.twilio.com")),
            ("account_sid", json!({"pattern": "^AC[A-Za-z0-9]{32}$"})),
            ("from", json!({"pattern": format!("{}|^MG.{{32}}$", PHONE)})),
            (
                "to",
                json!({"minItems": 1, "maxItems": 1, "items": {"pattern": PHONE}}),
            ),
            ("max_length", json!({"minimum": 20, "maximum": 1600})),
        ],
        NotifierKind::Matrix => vec![("room_id", json!({"pattern": "^!.*:"}))],
        _ => Vec::new(),
    }
}

fn settings(s: &mut Value) {
    rule(
        s,
        "WindowDef",
        json!({"oneOf": [
            {"required": ["cron", "duration"], "properties": {"days": false, "from": false, "to": false}},
            {"required": ["from", "to"], "properties": {"cron": false, "duration": false}},
        ]}),
    );
    rule(s, "Store", exclusive("path", "url"));
    rule(s, "Store", exclusive("path", "url_file"));
    pattern(s, "Store", "url", "^postgres(ql)?://");
    rule(
        s,
        "Store",
        json!({"dependentSchemas": {"ca_file": at_least_one(&["url", "url_file"])}}),
    );
    rule(s, "UpstreamDef", at_least_one(&["url", "url_file"]));
    pattern(s, "UpstreamDef", "url", HTTP_URL);
    let auth = property(s, "ListenDef", "basic_auth");
    auth.insert(
        "anyOf".into(),
        at_least_one(&["password", "password_file"])["anyOf"].take(),
    );
}

/// A secret and its `_file` twin exclude each other, everywhere.
fn file_twins(s: &mut Value) {
    let mut names = vec![String::new()];
    if let Some(defs) = s.get("$defs").and_then(Value::as_object) {
        names.extend(defs.keys().cloned());
    }
    for name in names {
        let pairs: Vec<(String, String)> = object(s, &name)
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| {
                p.keys()
                    .filter_map(|k| {
                        let twin = format!("{k}_file");
                        p.contains_key(&twin).then(|| (k.clone(), twin))
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (key, twin) in pairs {
            rule(s, &name, exclusive(&key, &twin));
        }
    }
}
