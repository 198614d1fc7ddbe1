//! hbmon: a declarative uptime and heartbeat monitor.
//!
//! `main_with_args` parses the command line, dispatches to `cmd/`, and maps the outcome
//! to an exit code from `exit`. See ARCHITECTURE.md for the map of the layers.

pub mod cli;
pub mod cmd;
pub mod config;
pub(crate) mod daemon;
pub(crate) mod engine;
pub mod error;
pub mod exit;
pub(crate) mod heartbeat;
pub mod humanize;
pub(crate) mod init;
pub mod listen;
pub(crate) mod logging;
pub(crate) mod metrics;
pub(crate) mod model;
pub(crate) mod net;
pub mod notify;
pub(crate) mod observation;
pub mod plan;
pub(crate) mod probe;
pub(crate) mod quorum;
pub(crate) mod report;
pub(crate) mod runtime;
pub mod schedule;
pub(crate) mod state;
pub mod status;
pub mod store;
pub mod template;
pub mod units;

use std::ffi::OsString;
use std::io::IsTerminal;

use crate::cli::{Cli, Command};
use crate::error::Error;

/// Run hbmon with these arguments (the first is the program name) and return the exit code.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> u8 {
    use clap::{CommandFactory as _, FromArgMatches as _};
    let args: Vec<OsString> = args.into_iter().collect();
    // `COMPLETE=bash hbmon` (the registration script) and the shell's completion requests
    // it makes (`COMPLETE=bash hbmon -- hbmon ack ''`): answered here, before parsing.
    match cmd::completions::if_asked(&args) {
        Ok(true) => return exit::OK,
        Ok(false) => {}
        Err(e) => {
            eprintln!("error: completion failed: {e}");
            return exit::IO;
        }
    }
    let parsed = Cli::command()
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let cli = match parsed {
        Ok((mut cli, matches)) => {
            // No `--config` nor `HBMON_CONFIG`: `hbmon.yaml` here, else the system's.
            // `init` writes `hbmon.yaml` here, never over the system's.
            if matches.value_source("config") == Some(clap::parser::ValueSource::DefaultValue)
                && !matches!(cli.command, Command::Init(_))
            {
                cli.global.config = cli::default_config(&cli.global.config);
            }
            cli
        }
        Err(e) => {
            let _ = e.print();
            // clap exits 2 on usage errors, which would read as CRITICAL here. Help shown
            // because no subcommand was given is a usage error too.
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit::OK
                }
                _ => exit::USAGE,
            };
        }
    };
    if cli.global.no_color {
        anstream::ColorChoice::Never.write_global();
    }
    init_logging(&cli.global, matches!(cli.command, Command::Watch(_)));
    match run(&cli) {
        Ok(code) => code,
        // A reader that stopped early (`hbmon schema | head`) is not an error.
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            exit::OK
        }
        Err(err) => {
            match &err {
                Error::Config(report) => anstream::eprintln!("{report}"),
                other => anstream::eprintln!("hbmon: error: {other}"),
            }
            err.code()
        }
    }
}

/// Dispatch to the subcommand.
pub fn run(cli: &Cli) -> Result<u8, Error> {
    match &cli.command {
        Command::Check(args) => cmd::check::run(&cli.global, args),
        Command::Watch(args) => daemon::run(&cli.global, args),
        Command::Status(args) => cmd::status::status(&cli.global, args),
        Command::History(args) => cmd::status::history(&cli.global, args),
        Command::Simulate(args) => cmd::simulate::run(&cli.global, args),
        Command::Ack(args) => cmd::ack::run(&cli.global, args),
        Command::Notify(c) => cmd::notify::run(&cli.global, c),
        Command::Run(args) => cmd::run::run(&cli.global, args),
        Command::Validate => cmd::validate::run(&cli.global),
        Command::Init(args) => cmd::init::run(&cli.global, args),
        Command::Healthcheck(args) => cmd::healthcheck::run(&cli.global, args),
        Command::Schema(args) => cmd::schema::run(args.format),
        Command::Completions { shell } => cmd::completions::run(*shell),
    }
}

/// Logs go to stderr: human lines on a terminal, JSON lines otherwise (journald, log
/// shippers), unless `--log-format` says. `watch` logs at info by default (its log is
/// where incidents appear); one-shot commands only warn.
fn init_logging(global: &cli::GlobalArgs, daemon: bool) {
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let base = usize::from(daemon) + usize::from(global.verbose);
    let level = match (global.quiet, base) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::INFO,
        (false, 2) => LevelFilter::DEBUG,
        (false, _) => LevelFilter::TRACE,
    };
    let terminal = std::io::stderr().is_terminal();
    let json = match global.log_format {
        cli::LogFormat::Json => true,
        cli::LogFormat::Human => false,
        // One-shot commands print few lines, for a person; a daemon's go to a journal.
        cli::LogFormat::Auto => daemon && !terminal,
    };
    // Libraries' own warnings (a DNS resolver ignoring a stray answer, a connection
    // pool's retries) say nothing an operator acts on: hbmon reports what matters in its
    // own words. They show from `-vv` on.
    let libraries = if global.verbose >= 2 {
        level
    } else {
        LevelFilter::ERROR.min(level)
    };
    let targets = tracing_subscriber::filter::Targets::new()
        .with_target("hbmon", level)
        .with_default(libraries);
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .finish()
            .with(targets)
            .try_init()
    } else {
        let colours = !global.no_color && terminal;
        builder
            .with_ansi(colours)
            .with_writer(logging::Escaped { colours })
            .finish()
            .with(targets)
            .try_init()
    };
}
