//! hbmon: a declarative uptime and heartbeat monitor.
//!
//! `main_with_args` parses the command line, dispatches to `cmd/`, and maps the outcome
//! to an exit code from `exit`. See ARCHITECTURE.md for the map of the layers.

pub mod cli;
pub mod cmd;
pub mod config;
pub mod engine;
pub mod error;
pub mod exit;
pub mod humanize;
pub mod plan;
pub mod probe;
pub mod report;
pub mod schedule;
pub mod state;
pub mod status;
pub mod store;

use std::ffi::OsString;
use std::io::IsTerminal;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::Error;

/// Run hbmon with these arguments (the first is the program name) and return the exit code.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
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
    init_logging(&cli.global);
    match run(&cli) {
        Ok(code) => code,
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
        Command::Validate => cmd::validate::run(&cli.global),
        Command::Schema => cmd::schema::run(),
        Command::Completions { shell } => cmd::completions::run(*shell),
    }
}

fn init_logging(global: &cli::GlobalArgs) {
    use tracing_subscriber::filter::LevelFilter;
    let level = match (global.quiet, global.verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::INFO,
        (false, 2) => LevelFilter::DEBUG,
        (false, _) => LevelFilter::TRACE,
    };
    let ansi = !global.no_color && std::io::stderr().is_terminal();
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .try_init();
}
