//! The command line, as clap derive types. Every environment variable hbmon reads
//! (`HBMON_*`, plus `NO_COLOR`) is declared here and nowhere else.
//!
//! These are the *raw* arguments; `cmd/` turns them into checked settings before any
//! probe runs (an `--only` pattern that is not a valid glob is a usage error, say).

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCandidates;

/// Declarative uptime and heartbeat monitor: one binary, one YAML file.
#[derive(Debug, Parser)]
#[command(name = "hbmon", version, long_version = env!("HBMON_LONG_VERSION"), about, propagate_version = true)]
#[command(after_help = crate::exit::help())]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Path of the configuration file (default: `hbmon.yaml` in the working directory, else
    /// `/etc/hbmon/hbmon.yaml`).
    #[arg(
        short,
        long,
        global = true,
        env = "HBMON_CONFIG",
        hide_env_values = true,
        default_value = "hbmon.yaml",
        value_name = "FILE"
    )]
    pub config: PathBuf,
    /// Never colour the output (colour is only used on a terminal anyway). `NO_COLOR`
    /// set to anything but empty, `0`, `false`, `no` or `off` means the same.
    #[arg(long, global = true, env = "NO_COLOR", hide_env_values = true, value_parser = clap::builder::FalseyValueParser::new())]
    pub no_color: bool,
    /// Print only problems: failing monitors and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Docker API for docker probes without their own `socket` (a unix socket:
    /// `unix:///var/run/docker.sock`).
    #[arg(
        long,
        global = true,
        env = "DOCKER_HOST",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub docker_host: Option<String>,
    /// Log more about what hbmon does (repeat for more detail), on stderr.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log lines for people (`human`), one JSON object per line (`json`), or human on a
    /// terminal and JSON otherwise (`auto`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto, env = "HBMON_LOG_FORMAT", hide_env_values = true)]
    pub log_format: LogFormat,
    /// The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a
    /// `postgres://` URL (overrides `store.path` and `store.url`; default
    /// `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`).
    #[arg(
        long,
        global = true,
        env = "HBMON_DB",
        hide_env_values = true,
        value_name = "FILE|URL"
    )]
    pub db: Option<PathBuf>,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Auto,
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every selected monitor once, print a report, exit with the worst status.
    Check(CheckArgs),
    /// Run forever: probe on schedule, debounce, keep state in the store (a systemd unit).
    Watch(WatchArgs),
    /// Show every monitor's state from the store: since when, last reason, uptime, open
    /// incidents.
    Status(StatusArgs),
    /// Show one monitor's incidents and recent observations from the store.
    History(HistoryArgs),
    /// Acknowledge a monitor's open incident: reminders and escalation stop, and its
    /// notifiers hear who took it on. Applied by the running `watch` (through the store).
    Ack(AckArgs),
    /// Feed made-up observations through the real scheduler and state machine with a
    /// virtual clock, and print which alerts would fire when.
    Simulate(SimulateArgs),
    /// Send a test alert through a notifier, or show what an alert would say.
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// Run a command as a heartbeat job: ping start, run it, ping its exit code with the
    /// tail of its output; exit with its code (a cron wrapper).
    Run(RunArgs),
    /// Load and check the configuration without probing; report every problem at once.
    Validate,
    /// Write a starter configuration for this machine from what runs on it: disks,
    /// listening TCP services, running containers, systemd timers (as heartbeats).
    Init(InitArgs),
    /// Ask a running `watch` whether it is healthy (its listener's `/healthz`): exit 0
    /// when it answers 200, 1 when not. A container HEALTHCHECK that needs no shell.
    Healthcheck(HealthcheckArgs),
    /// Print the JSON schema of the configuration file, or the configuration reference
    /// made from it (`--format markdown` or `man`, as in `hbmon.yaml(5)`).
    Schema(SchemaArgs),
    /// Print shell completions.
    Completions {
        /// The shell to print completions for.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Run only these monitors: names or glob patterns (`api-*`), comma-separated or repeated.
    #[arg(long, value_delimiter = ',', value_name = "NAME|GLOB", add = ArgValueCandidates::new(names::monitors))]
    pub only: Vec<String>,
    /// Run only monitors carrying one of these tags (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "TAG", add = ArgValueCandidates::new(names::tags))]
    pub tag: Vec<String>,
    /// Leave out these monitors: names or glob patterns, comma-separated or repeated (a
    /// shared config in CI without the monitors of another environment).
    #[arg(long, value_delimiter = ',', value_name = "NAME|GLOB", add = ArgValueCandidates::new(names::monitors))]
    pub exclude: Vec<String>,
    /// Leave out monitors carrying any of these tags (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "TAG", add = ArgValueCandidates::new(names::tags))]
    pub skip_tag: Vec<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to this file (atomically: a reader never sees half a report)
    /// instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// How many probes may run at the same time.
    #[arg(long, default_value = "64", value_name = "N")]
    pub concurrency: NonZeroUsize,
    /// How many probes may run at the same time against one host.
    #[arg(long, default_value = "16", value_name = "N")]
    pub per_host: NonZeroUsize,
    /// Override every monitor's timeout (`5s`, `500ms`).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<std::time::Duration>,
    /// Probe a failing monitor up to N more times, with backoff, before reporting it.
    #[arg(long, default_value = "0", value_name = "N")]
    pub retries: u32,
    /// Keep re-probing failing monitors, with backoff, until all pass or this long has
    /// passed (a deploy gate: "wait until the new version answers").
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub wait: Option<std::time::Duration>,
    /// Stop the whole run after this long; monitors not finished by then are unknown.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub deadline: Option<std::time::Duration>,
    /// Which status counts as failing for `--retries`, `--wait` and the JUnit and TAP
    /// reports; the exit code always follows the exit-code table.
    #[arg(long, value_enum, default_value_t = FailOn::Critical)]
    pub fail_on: FailOn,
    /// Behave as in CI: never show a progress indicator (set by most CI systems).
    #[arg(long, env = "CI", value_parser = clap::builder::FalseyValueParser::new(), hide_env_values = true)]
    pub ci: bool,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// How many probes may run at the same time.
    #[arg(long, default_value = "64", value_name = "N")]
    pub concurrency: NonZeroUsize,
    /// How many probes may run at the same time against one host.
    #[arg(long, default_value = "16", value_name = "N")]
    pub per_host: NonZeroUsize,
    /// On SIGTERM or SIGINT, wait this long for running probes before exiting.
    #[arg(long, value_parser = parse_duration, default_value = "10s", value_name = "DURATION")]
    pub drain_timeout: std::time::Duration,
    /// How often observations are written to the store, in one transaction.
    #[arg(long, value_parser = parse_duration, default_value = "1s", value_name = "DURATION")]
    pub flush_interval: std::time::Duration,
    /// Where this instance probes from, when several share a PostgreSQL store: its
    /// observations are tagged with it, and the leader alerts on a quorum of regions.
    #[arg(
        long,
        env = "HBMON_REGION",
        hide_env_values = true,
        default_value = "default",
        value_name = "NAME"
    )]
    pub region: String,
    /// Listen here, whatever the config's `listen.address` says, and even when the config
    /// has no `listen:` and no heartbeat (a container publishes `0.0.0.0:8471`).
    #[arg(
        long,
        env = "HBMON_LISTEN",
        hide_env_values = true,
        value_name = "ADDRESS:PORT"
    )]
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The heartbeat monitor to report as.
    #[arg(add = ArgValueCandidates::new(names::heartbeats))]
    pub heartbeat: String,
    /// The hbmon listener to ping (default: the config's `listen` address).
    #[arg(long, env = "HBMON_URL", hide_env_values = true, value_name = "URL")]
    pub url: Option<String>,
    /// The ping token (default: the heartbeat's or the listener's from the config).
    #[arg(
        long,
        env = "HBMON_PING_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// How long to keep trying to deliver the finishing ping when the listener is down
    /// or busy (a `systemctl restart hbmon` during the job), with backoff from 250 ms.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", default_value = "2m")]
    pub timeout: std::time::Duration,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Print the configuration on standard output and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Replace the file named by `--config` if it exists.
    #[arg(long)]
    pub force: bool,
    /// Also try HTTP on these ports (comma-separated or repeated), besides the usual ones
    /// (80, 443, 3000, 5000, 8000, 8008, 8080, 8081, 8443, 8888, 9090, 9100).
    #[arg(long, value_delimiter = ',', value_name = "PORT")]
    pub http_port: Vec<u16>,
    /// For tests: read systemd timer units from these directories (colon-separated)
    /// instead of /etc/systemd/system, /usr/lib/systemd/system and /lib/systemd/system.
    #[arg(
        long,
        hide = true,
        env = "HBMON_INIT_UNIT_DIRS",
        hide_env_values = true,
        value_delimiter = ':',
        value_name = "DIR"
    )]
    pub unit_dirs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// What to print: the JSON schema, or the reference as Markdown or a man page.
    #[arg(long, value_enum, default_value_t = SchemaFormat::Json)]
    pub format: SchemaFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    Json,
    Markdown,
    Man,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The listener to ask (`http://127.0.0.1:8471`; default: `--listen`, else the
    /// config's `listen` address, on loopback when it listens on every address).
    #[arg(long, env = "HBMON_URL", hide_env_values = true, value_name = "URL")]
    pub url: Option<String>,
    /// The address `watch` was told to listen on with `--listen` (`HBMON_LISTEN`).
    #[arg(
        long,
        env = "HBMON_LISTEN",
        hide_env_values = true,
        value_name = "ADDRESS:PORT"
    )]
    pub listen: Option<std::net::SocketAddr>,
    /// How long to wait for the answer.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", default_value = "5s")]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Render a test alert and send it through one notifier now (not through the outbox);
    /// print the receiver's answer. Exit 0 when delivered, 74 when not.
    Test {
        /// The notifier, as named under `notifiers`.
        #[arg(add = ArgValueCandidates::new(names::notifiers))]
        notifier: String,
    },
    /// Render the alert a monitor's notifiers would send for an event, without sending.
    Preview {
        /// The monitor.
        #[arg(add = ArgValueCandidates::new(names::monitors))]
        monitor: String,
        /// down, up, degraded, late, flapping, reminder, acknowledged, escalated, diagnosis or test.
        #[arg(value_parser = ["down", "up", "degraded", "late", "flapping", "reminder", "acknowledged", "escalated", "diagnosis", "test"])]
        event: String,
    },
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReadFormat::Human)]
    pub format: ReadFormat,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The monitor.
    #[arg(add = ArgValueCandidates::new(names::monitors))]
    pub monitor: String,
    /// How many recent observations to show.
    #[arg(long, default_value = "20", value_name = "N")]
    pub limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReadFormat::Human)]
    pub format: ReadFormat,
}

#[derive(Debug, Args)]
pub struct AckArgs {
    /// The monitor whose open incident to acknowledge.
    #[arg(add = ArgValueCandidates::new(names::monitors))]
    pub monitor: String,
    /// A note for the people alerted ("restarting the database").
    #[arg(long, default_value = "", value_name = "TEXT")]
    pub note: String,
    /// The acknowledgment lapses after this long and reminders resume (default: when
    /// the incident resolves).
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub for_: Option<std::time::Duration>,
    /// Who acknowledges (default: `$SUDO_USER`, else `$USER`, with the host name).
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// How long to wait for the running `watch` to apply it.
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_duration)]
    pub wait: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Timelines: `api: ok ok fail fail fail ok @ 10s` (statuses ok, warn, fail, unknown,
    /// or `-` for no probe; `@` sets the probe interval, default the monitor's).
    #[arg(value_name = "TIMELINE")]
    pub timelines: Vec<String>,
    /// Read timelines from this file, one per line (`#` starts a comment).
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The virtual clock's start (RFC 3339), for schedules and windows.
    #[arg(long, value_name = "TIME", default_value = "2026-01-05T00:00:00Z")]
    pub start: String,
    /// Start as after a fresh install (the state found first is recorded, not alerted)
    /// instead of from a monitor known to be up.
    #[arg(long)]
    pub fresh: bool,
    /// Allow timelines for names the config lacks: each becomes a monitor made of the
    /// config's `defaults:` (the built-in defaults without a config), to try a policy.
    #[arg(long)]
    pub ad_hoc: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReadFormat::Human)]
    pub format: ReadFormat,
}

/// Output of the commands that read the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadFormat {
    Human,
    Json,
}

/// Which status fails the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Degraded, unknown and down monitors fail.
    Warning,
    /// Unknown and down monitors fail.
    Critical,
}

/// Report formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people; colour on a terminal.
    Human,
    /// One JSON document with stable field names (see the README).
    Json,
    /// JUnit XML, for GitLab, Jenkins and GitHub test reports.
    Junit,
    /// TAP version 13.
    Tap,
    /// One Nagios plugin status line with performance data.
    Nagios,
    /// Prometheus text format, for node_exporter's textfile collector.
    Prometheus,
}

fn parse_duration(value: &str) -> Result<std::time::Duration, String> {
    crate::units::parse_duration(value).map_err(|e| match e {
        crate::units::DurationError::Invalid => {
            format!("{e} (write it like `5s`, `500ms` or `1m30s`)")
        }
        other => other.to_string(),
    })
}

/// An environment variable, for `${VAR}` in the configuration and the few values clap
/// does not declare (the user an ack is from). hbmon reads its environment here and in
/// the clap declarations above, nowhere else.
#[must_use]
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Where a config is looked for when none is named: `hbmon.yaml` in the working directory,
/// else the one the package installs.
pub const SYSTEM_CONFIG: &str = "/etc/hbmon/hbmon.yaml";

/// `default` (`hbmon.yaml`) when it exists, else [`SYSTEM_CONFIG`] when that does.
#[must_use]
pub fn default_config(default: &std::path::Path) -> PathBuf {
    let system = std::path::Path::new(SYSTEM_CONFIG);
    if !default.exists() && system.exists() {
        system.to_owned()
    } else {
        default.to_owned()
    }
}

/// The store: `--db` (a file or a `postgres://` URL), else `store.url`, else `store.path`,
/// else `$STATE_DIRECTORY/hbmon.db` (set by systemd's `StateDirectory=`), else `hbmon.db`
/// in the working directory.
#[must_use]
pub fn db_path(
    flag: Option<&std::path::Path>,
    store: Option<&crate::model::StoreSettings>,
) -> crate::store::Location {
    if let Some(p) = flag {
        let mut location = crate::store::Location::parse(&p.to_string_lossy());
        // `--db` names the database; how long the lease lasts is still the config's.
        if let (
            crate::store::Location::Postgres { lease, .. },
            Some(crate::store::Location::Postgres { lease: l, .. }),
        ) = (&mut location, store.and_then(|s| s.postgres.as_ref()))
        {
            *lease = *l;
        }
        return location;
    }
    if let Some(l) = store.and_then(|s| s.postgres.clone()) {
        return l;
    }
    crate::store::Location::Sqlite(db_file(store))
}

/// The SQLite file of the store.
fn db_file(store: Option<&crate::model::StoreSettings>) -> PathBuf {
    if let Some(p) = store.and_then(|s| s.path.clone()) {
        return p;
    }
    match std::env::var_os("STATE_DIRECTORY") {
        // systemd may pass several, colon-separated; the first is ours.
        Some(dirs) if !dirs.is_empty() => {
            let first = dirs
                .to_string_lossy()
                .split(':')
                .next()
                .unwrap_or("")
                .to_owned();
            PathBuf::from(first).join("hbmon.db")
        }
        _ => PathBuf::from("hbmon.db"),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}

/// Shell completion of the names in the configuration (`hbmon ack <TAB>`, `--only`,
/// `notify test`, `run`): read from the file named by `-c`/`--config` on the line being
/// completed, else `HBMON_CONFIG`, else the default. Read leniently, as far as it goes
/// (a file with problems still offers the names it has); notifiers' settings and secrets
/// are never read. Nothing is offered when there is no file.
pub mod names {
    use std::ffi::OsString;
    use std::path::PathBuf;

    use clap_complete::engine::CompletionCandidate;

    use crate::config::load::{self, Document, Needs};

    /// The config named on the command line being completed.
    fn named(args: &[OsString]) -> Option<PathBuf> {
        let mut it = args.iter().map(|a| a.to_string_lossy());
        while let Some(arg) = it.next() {
            if arg == "-c" || arg == "--config" {
                return it.next().map(|p| PathBuf::from(p.as_ref()));
            }
            if let Some(p) = arg.strip_prefix("--config=") {
                return Some(p.into());
            }
            if let Some(p) = arg.strip_prefix("-c").filter(|p| !p.is_empty()) {
                return Some(p.into());
            }
        }
        None
    }

    fn document() -> Option<Document> {
        let args: Vec<OsString> = std::env::args_os().collect();
        let path = named(&args)
            .or_else(|| super::env_var("HBMON_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| super::default_config(std::path::Path::new("hbmon.yaml")));
        load::load(&path, &super::env_var, Needs::NoNotifiers)
            .ok()
            .map(|l| l.doc)
    }

    fn monitors_where(
        keep: impl Fn(&crate::config::raw::Monitor) -> bool,
    ) -> Vec<CompletionCandidate> {
        let Some(doc) = document() else {
            return Vec::new();
        };
        doc.monitors
            .into_iter()
            .filter_map(|e| {
                let m = e.monitor.as_ref();
                if m.is_some_and(|m| !keep(m)) {
                    return None;
                }
                let help = m.and_then(|m| m.description.clone());
                Some(CompletionCandidate::new(e.name?).help(help.map(Into::into)))
            })
            .collect()
    }

    /// Every monitor's name.
    #[must_use]
    pub fn monitors() -> Vec<CompletionCandidate> {
        monitors_where(|_| true)
    }

    /// The heartbeats' names (`hbmon run`).
    #[must_use]
    pub fn heartbeats() -> Vec<CompletionCandidate> {
        monitors_where(|m| m.heartbeat.is_some())
    }

    /// The notifiers' names.
    #[must_use]
    pub fn notifiers() -> Vec<CompletionCandidate> {
        document()
            .map(|d| {
                d.notifiers
                    .into_keys()
                    .map(CompletionCandidate::new)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every tag some monitor carries.
    #[must_use]
    pub fn tags() -> Vec<CompletionCandidate> {
        let Some(doc) = document() else {
            return Vec::new();
        };
        let tags: std::collections::BTreeSet<String> = doc
            .monitors
            .into_iter()
            .filter_map(|e| e.monitor)
            .flat_map(|m| m.tags)
            .collect();
        tags.into_iter().map(CompletionCandidate::new).collect()
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn the_config_is_found_on_the_line_being_completed() {
            let named = |line: &[&str]| {
                let args: Vec<std::ffi::OsString> = line.iter().map(Into::into).collect();
                super::named(&args).map(|p| p.display().to_string())
            };
            assert_eq!(
                named(&["hbmon", "--", "hbmon", "ack", "-c", "a.yaml", ""]).as_deref(),
                Some("a.yaml")
            );
            assert_eq!(
                named(&["hbmon", "--", "hbmon", "--config=b.yaml", "run"]).as_deref(),
                Some("b.yaml")
            );
            assert_eq!(
                named(&["hbmon", "--", "hbmon", "-cc.yaml", "run"]).as_deref(),
                Some("c.yaml")
            );
            assert_eq!(named(&["hbmon", "--", "hbmon", "ack", ""]), None);
        }
    }
}

/// The sections `hbmon(1)` ends with, after what `clap_mangen` makes of the CLI (roff).
pub const MAN_APPENDIX: &str = r#".SH ENVIRONMENT
.TP
\fBHBMON_CONFIG\fR
The configuration file, as \fB\-\-config\fR.
.TP
\fBHBMON_DB\fR
The store, as \fB\-\-db\fR: a file or a \fBpostgres://\fR URL.
.TP
\fBSTATE_DIRECTORY\fR
Set by systemd's \fBStateDirectory=\fR; the store is \fB$STATE_DIRECTORY/hbmon.db\fR when neither \fB\-\-db\fR nor the configuration names one.
.TP
\fBHBMON_LISTEN\fR, \fBHBMON_REGION\fR
\fBwatch\fR's \fB\-\-listen\fR and \fB\-\-region\fR.
.TP
\fBHBMON_URL\fR, \fBHBMON_PING_TOKEN\fR
\fBrun\fR's and \fBhealthcheck\fR's listener, and \fBrun\fR's ping token.
.TP
\fBHBMON_LOG_FORMAT\fR, \fBNO_COLOR\fR
How logs are written; never colour.
.TP
\fBDOCKER_HOST\fR
The Docker Engine API of the \fBdocker\fR probe.
.TP
\fBCI\fR
Set by CI services: \fBcheck\fR prints no progress.
.TP
\fBSUDO_USER\fR, \fBUSER\fR
Who an \fBack\fR is from, unless \fB\-\-by\fR says.
.TP
\fBCOMPLETE\fR
Set by the completion scripts to ask what to offer; not for people.
.PP
Any other variable is read only where the configuration names it, as \fB${NAME}\fR.
.SH FILES
.TP
\fIhbmon.yaml\fR in the working directory, else \fI/etc/hbmon/hbmon.yaml\fR
The configuration, when \fB\-\-config\fR does not name one.
.TP
\fI/var/lib/hbmon/hbmon.db\fR
The store under the packaged unit (\fBStateDirectory=hbmon\fR); \fIhbmon.db\fR in the working directory otherwise. SQLite in WAL mode: copy it while \fBwatch\fR runs with \fBsqlite3 hbmon.db ".backup copy.db"\fR, not \fBcp\fR.
.TP
\fI/usr/lib/systemd/system/hbmon.service\fR
The unit that runs \fBhbmon watch\fR.
.SH EXAMPLES
Run every probe once, as in cron or CI; the exit code is the worst status:
.PP
.nf
.RS
hbmon check \-c monitors.yaml
hbmon check \-\-format junit \-\-output report.xml
.RE
.fi
.PP
Check a configuration in a pre\-commit hook:
.PP
.nf
.RS
hbmon validate \-c monitors.yaml
.RE
.fi
.PP
Report a cron job as a heartbeat:
.PP
.nf
.RS
0 3 * * * hbmon run backup \-\- /usr/local/bin/backup.sh
.RE
.fi
.PP
See what is down, and take an incident on:
.PP
.nf
.RS
hbmon status
hbmon ack web \-\-note "restarting the database"
.RE
.fi
.SH SEE ALSO
\fBhbmon.yaml\fR(5), \fBhbmon\-check\fR(1), \fBhbmon\-watch\fR(1), \fBhbmon\-run\fR(1), \fBsystemd.service\fR(5)
"#;
