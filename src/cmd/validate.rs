//! `hbmon validate`: load and check the configuration without probing.

use crate::cli::GlobalArgs;
use crate::error::Error;
use crate::{exit, plan};

pub fn run(global: &GlobalArgs) -> Result<u8, Error> {
    let plan = plan::load(&global.config)?;
    if !global.quiet {
        use std::io::Write as _;
        let n = plan.monitors.len();
        writeln!(
            std::io::stdout(),
            "ok: {n} monitor{} in {}",
            if n == 1 { "" } else { "s" },
            plan.path.display()
        )
        .map_err(|e| Error::io("cannot write", e))?;
    }
    Ok(exit::OK)
}
