//! `hbmon completions <shell>`: print shell completions (committed under `completions/`).

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Error;
use crate::exit;

pub fn run(shell: clap_complete::Shell) -> Result<u8, Error> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "hbmon", &mut out);
    std::io::Write::write_all(&mut std::io::stdout(), &out)
        .map_err(|e| Error::io("cannot write completions", e))?;
    Ok(exit::OK)
}
