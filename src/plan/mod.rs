//! The checked configuration. `build` turns a loaded file into a `Plan` or into a report
//! of every problem: durations and sizes parsed, references resolved, secrets read from
//! their files, defaults applied. This is the last place a configuration error can arise;
//! nothing downstream re-validates, because a `Plan` cannot hold an invalid config.

use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use crate::config::diag::{At, Diagnostic, Report};
use crate::config::load::{self, Loaded};
use crate::config::raw;
use crate::error::Error;
use crate::state::Flapping;

pub use crate::model::*;

mod monitors;
mod notify;
mod probes;
mod regions;
mod settings;
mod targets;
mod values;
mod windows;

const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_FAILURE_THRESHOLD: u32 = 3;
const DEFAULT_SUCCESS_THRESHOLD: u32 = 1;
const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 86_400);
const DEFAULT_CERT_EXPIRY_WARNING: Duration = Duration::from_secs(14 * 86_400);

/// Load `path` and build its plan, all of it: the entry point of commands that notify.
pub fn load(path: &Path) -> Result<Plan, Error> {
    let loaded = load::load(path, &crate::cli::env_var, load::Needs::All)?;
    build(loaded)
}

/// Load `path` for a command that never notifies: the notifiers' settings and the
/// upstream's URL are not read (see [`load::Needs::NoNotifiers`]), so the plan has no
/// notifiers to send with, and its upstream URL is a stand-in.
pub fn load_without_notifiers(path: &Path) -> Result<Plan, Error> {
    let loaded = load::load(path, &crate::cli::env_var, load::Needs::NoNotifiers)?;
    build(loaded)
}

/// Check a loaded file and build its plan, or report every problem found.
pub fn build(mut loaded: Loaded) -> Result<Plan, Error> {
    let mut b = Builder {
        base_dir: &loaded.base_dir,
        diags: Vec::new(),
        reported: loaded
            .diagnostics
            .iter()
            .filter_map(|d| d.pointer().map(str::to_owned))
            .collect(),
        host_refs: std::collections::HashMap::new(),
    };
    let notifications = b.notifications(&loaded.doc);
    let schedules = b.schedules(&loaded.doc);
    // What reads the raw monitors as a whole runs before `monitors` frees them.
    b.dependencies(&loaded.doc);
    let regions = b.regions(&loaded.doc);
    let mut monitors = b.monitors(&mut loaded.doc, &schedules);
    b.region_monitors(&loaded.doc, &regions, &mut monitors);
    let store = b.store(&loaded.doc);
    let listen = b.listen(&loaded.doc, &monitors);
    let upstream = b.upstream(&loaded.doc, loaded.needs == load::Needs::All);
    let connectivity = loaded.doc.connectivity.as_ref().map(|c| {
        for (i, t) in c.targets.iter().enumerate() {
            if t.rsplit_once(':')
                .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
            {
                b.error(
                    At::value(format!("/connectivity/targets/{i}")),
                    "not a `host:port`",
                )
                .hint = Some("for example `1.1.1.1:53` or `dns.google:443`".into());
            }
        }
        let every = b
            .duration("/connectivity/every", c.every.as_ref())
            .unwrap_or(Duration::from_secs(10));
        (c.targets.clone(), every)
    });
    b.own_monitors(
        &loaded.doc,
        &mut monitors,
        connectivity.as_ref(),
        upstream.as_ref().map(|u| u.every),
    );
    let mut diagnostics = loaded.diagnostics;
    // A value the loader already reported (a duration the schema rejected, say) is not
    // reported a second time by the checks here.
    let reported: Vec<String> = diagnostics
        .iter()
        .filter_map(|d| d.pointer().map(str::to_owned))
        .collect();
    b.diags
        .retain(|d| !d.pointer().is_some_and(|p| reported.iter().any(|r| r == p)));
    diagnostics.append(&mut b.diags);
    if diagnostics.is_empty() {
        return Ok(Plan {
            path: loaded.path,
            monitors,
            store,
            notifications,
            listen,
            upstream,
            regions,
        });
    }
    let mut report = Report {
        path: loaded.path,
        // Positions are only needed to show problems, so they are found only then.
        spans: crate::config::spans::SpanMap::build(&loaded.source),
        source: loaded.source,
        diagnostics,
        includes: loaded
            .includes
            .into_iter()
            .map(|f| {
                let spans = crate::config::spans::SpanMap::build(&f.source);
                (f, spans)
            })
            .collect(),
    };
    report.sort();
    Err(Error::Config(Box::new(report)))
}

struct Builder<'a> {
    base_dir: &'a Path,
    diags: Vec<Diagnostic>,
    /// Where loading already found a problem (an unknown key, a wrong type): the checks
    /// here do not report the same mistake again in other words.
    reported: Vec<String>,
    /// Each `hosts:` entry's reference, made once and shared by its monitors.
    host_refs: std::collections::HashMap<String, std::sync::Arc<crate::model::HostRef>>,
}

impl Builder<'_> {
    fn error(&mut self, at: At, message: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::new(at, message));
        // Just pushed.
        self.diags.last_mut().expect("a diagnostic was pushed")
    }
}

/// The largest secret file read: a token, a password or a URL is far smaller.
const MAX_SECRET_FILE: u64 = 64 * 1024;

/// A secret file's text. Only a regular file is opened (a FIFO would block, `/dev/zero`
/// never ends) and only its first [`MAX_SECRET_FILE`] bytes are read.
fn read_secret_file(path: &Path) -> Result<String, String> {
    use std::io::Read as _;
    let meta = std::fs::metadata(path).map_err(|e| crate::net::io_reason(&e))?;
    if !meta.is_file() {
        return Err("not a regular file (a directory, device or pipe)".into());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SECRET_FILE + 1).read_to_end(&mut bytes))
        .map_err(|e| crate::net::io_reason(&e))?;
    if bytes.len() as u64 > MAX_SECRET_FILE {
        return Err("larger than 64 KiB: a secret file holds one value".into());
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".into())
}

struct Inherited {
    interval: Duration,
    timeout: Duration,
    failure_threshold: u32,
    success_threshold: u32,
    grace: Option<Duration>,
    jitter: Option<Duration>,
    align: bool,
    repeat_every: Option<Duration>,
    max_reminders: Option<u32>,
    flapping: Option<Flapping>,
    notify: notify::NotifyPlan,
}

/// The request method of a configured `method`.
fn http_method(m: raw::HttpMethod) -> reqwest::Method {
    match m {
        raw::HttpMethod::GET => reqwest::Method::GET,
        raw::HttpMethod::HEAD => reqwest::Method::HEAD,
        raw::HttpMethod::POST => reqwest::Method::POST,
        raw::HttpMethod::PUT => reqwest::Method::PUT,
        raw::HttpMethod::PATCH => reqwest::Method::PATCH,
        raw::HttpMethod::DELETE => reqwest::Method::DELETE,
        raw::HttpMethod::OPTIONS => reqwest::Method::OPTIONS,
    }
}

/// A hint for an unknown name: the closest known one, or what exists.
pub(crate) fn suggest(name: &str, names: &[&str], block: &str) -> String {
    match names.iter().find(|n| strsim::jaro_winkler(name, n) >= 0.8) {
        Some(n) => format!("did you mean `{n}`?"),
        None if names.is_empty() => format!("there is no `{block}` block; declare it there"),
        None => format!("{block} defined: {}", names.join(", ")),
    }
}

/// `10.0.0.2`, `10.0.0.2:5353`, `::1` or `[::1]:53` (port 53 when none is given).
fn parse_server(text: &str) -> Result<std::net::SocketAddr, ()> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<std::net::SocketAddr>() {
        return Ok(addr);
    }
    text.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .map(|ip| std::net::SocketAddr::new(ip, 53))
        .map_err(|_| ())
}

fn nonzero(n: u32) -> NonZeroU32 {
    // The schema rejects 0, and a rejected value never reaches here.
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{
        DEFAULT_CERT_EXPIRY_WARNING, DEFAULT_FAILURE_THRESHOLD, DEFAULT_INTERVAL,
        DEFAULT_RETENTION, DEFAULT_SUCCESS_THRESHOLD, DEFAULT_TIMEOUT,
    };
    use crate::config::schema::{DEFAULTS, DefaultValue};
    use crate::model;

    fn announced(object: &str, key: &str) -> DefaultValue {
        DEFAULTS
            .iter()
            .find(|(o, k, _)| *o == object && *k == key)
            .map_or_else(
                || panic!("the schema announces no default for {object}.{key}"),
                |(_, _, v)| *v,
            )
    }

    fn duration(object: &str, key: &str) -> Duration {
        match announced(object, key) {
            DefaultValue::Text(t) => crate::units::parse_duration(t).unwrap(),
            other => panic!("{object}.{key}: {other:?} is not a duration"),
        }
    }

    fn int(object: &str, key: &str) -> u64 {
        match announced(object, key) {
            DefaultValue::Int(n) => n,
            other => panic!("{object}.{key}: {other:?} is not a number"),
        }
    }

    #[test]
    /// A monitor's probe settings are boxed: the loader keeps every monitor of a file at
    /// once, and an inline struct the size of every probe's settings together made a
    /// 10,000-monitor file take 40 MB before its plan was built.
    fn a_monitor_is_small_while_loading() {
        assert!(
            std::mem::size_of::<crate::config::raw::Monitor>() <= 640,
            "{}",
            std::mem::size_of::<crate::config::raw::Monitor>()
        );
        assert!(std::mem::size_of::<crate::model::Monitor>() <= 768);
    }

    /// The defaults the published schema (and so the reference and editors) announce are
    /// the ones `plan` and `model` apply.
    #[test]
    fn the_schema_announces_the_defaults_that_apply() {
        assert_eq!(duration("Defaults", "interval"), DEFAULT_INTERVAL);
        assert_eq!(duration("Defaults", "timeout"), DEFAULT_TIMEOUT);
        assert_eq!(
            int("Defaults", "failure_threshold"),
            u64::from(DEFAULT_FAILURE_THRESHOLD)
        );
        assert_eq!(
            int("Defaults", "success_threshold"),
            u64::from(DEFAULT_SUCCESS_THRESHOLD)
        );
        assert_eq!(duration("Store", "retention"), DEFAULT_RETENTION);
        assert_eq!(duration("Store", "lease"), model::DEFAULT_LEASE);
        assert_eq!(
            duration("RegionsDef", "silent_after"),
            model::DEFAULT_SILENT_AFTER
        );
        for probe in ["HttpProbe", "TcpProbe"] {
            assert_eq!(
                duration(probe, "cert_expiry_warning"),
                DEFAULT_CERT_EXPIRY_WARNING
            );
        }
        let retry = model::Retry::default();
        assert_eq!(
            int("RetryDef", "max_attempts"),
            u64::from(retry.max_attempts)
        );
        assert_eq!(duration("RetryDef", "initial"), retry.initial);
        assert_eq!(duration("RetryDef", "max"), retry.max);
        assert_eq!(
            int("ListenDef", "max_pings_per_second"),
            u64::from(model::Listen::DEFAULT_MAX_PINGS_PER_SECOND)
        );
        assert!(matches!(
            announced("ListenDef", "address"),
            DefaultValue::Text(a) if a == model::Listen::DEFAULT_ADDRESS.to_string()
        ));
        assert!(matches!(
            announced("ListenDef", "max_body"),
            DefaultValue::Text("10KiB")
        ));
        assert_eq!(model::Listen::DEFAULT_MAX_BODY, 10 * 1024);
        for object in ["Monitor", "Defaults"] {
            assert!(matches!(
                announced(object, "severity"),
                DefaultValue::Text(s) if s == crate::config::raw::Severity::default().name()
            ));
        }
        let page = model::StatusPage::default();
        assert!(matches!(
            announced("StatusPageDef", "title"),
            DefaultValue::Text(t) if t == page.title
        ));
        assert_eq!(int("StatusPageDef", "history"), page.history as u64);
        assert!(matches!(
            announced("StatusPageDef", "public"),
            DefaultValue::Bool(false)
        ));
        assert!(!page.public);
        assert!(matches!(
            announced("StatusPageDef", "group_by"),
            DefaultValue::Text("group")
        ));
        assert_eq!(page.group_by, crate::config::raw::GroupBy::Group);
    }
}
