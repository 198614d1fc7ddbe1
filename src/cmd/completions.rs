//! Shell completion. `hbmon completions <shell>` prints the script a shell sources (the
//! committed files under `completions/`); the script asks `hbmon` itself what to offer
//! (`COMPLETE=<shell> hbmon -- <the line>`), so subcommands, flags and the names in the
//! configuration (monitors, heartbeats, notifiers, tags: `cli::names`) are always those of
//! the installed binary and the config at hand.

use std::ffi::OsString;

use clap::CommandFactory;
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};

use crate::cli::Cli;
use crate::error::Error;
use crate::exit;

/// The variable the scripts set to ask for completions.
const VAR: &str = "COMPLETE";

/// Answer a completion request (or print a registration script) when `COMPLETE` is set;
/// `Ok(false)` when it is not, and hbmon runs as usual.
pub fn if_asked(args: &[OsString]) -> Result<bool, clap::Error> {
    let cwd = std::env::current_dir().ok();
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(VAR)
        .bin("hbmon")
        .try_complete(args.iter().cloned(), cwd.as_deref())
}

pub fn run(shell: clap_complete::Shell) -> Result<u8, Error> {
    let completer: &dyn EnvCompleter = match shell {
        clap_complete::Shell::Bash => &Bash,
        clap_complete::Shell::Zsh => &Zsh,
        clap_complete::Shell::Fish => &Fish,
        clap_complete::Shell::Elvish => &Elvish,
        clap_complete::Shell::PowerShell => &Powershell,
        _ => return Err(Error::Usage(format!("no completion script for {shell}"))),
    };
    let mut out = Vec::new();
    // `hbmon` as found on PATH, as installed.
    completer
        .write_registration(VAR, "hbmon", "hbmon", "hbmon", &mut out)
        .map_err(|e| Error::io("cannot write completions", e))?;
    std::io::Write::write_all(&mut std::io::stdout(), &out)
        .map_err(|e| Error::io("cannot write completions", e))?;
    Ok(exit::OK)
}
