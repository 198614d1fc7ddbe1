//! `hbmon healthcheck`: ask a running `watch` whether its scheduler runs, through the
//! listener's `/healthz`. A container's HEALTHCHECK needs no shell or curl this way.
//! Exit 0 when healthy, 1 when not (Docker's HEALTHCHECK convention; 2 is reserved there).

use crate::cli::{GlobalArgs, HealthcheckArgs};
use crate::error::Error;
use crate::exit;

pub fn run(global: &GlobalArgs, args: &HealthcheckArgs) -> Result<u8, Error> {
    let base = if let Some(u) = &args.url {
        // `--url http://host:8471/healthz` means the same as without the path.
        u.trim_end_matches('/')
            .trim_end_matches("/healthz")
            .to_owned()
    } else {
        let address = if let Some(a) = args.listen {
            a
        } else {
            let plan = crate::plan::load_without_notifiers(&global.config)?;
            let Some(listen) = plan.listen.as_ref() else {
                return Err(Error::Usage(format!(
                    "{} has no listener (`listen:` or a heartbeat): give --url or --listen",
                    plan.path.display()
                )));
            };
            listen.address
        };
        // A listener on every address (0.0.0.0, [::]) is asked on loopback.
        let mut address = address;
        if address.ip().is_unspecified() {
            address.set_ip(if address.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        format!("http://{address}")
    };
    let runtime = crate::runtime::build(crate::runtime::Threads::One)?;
    match runtime.block_on(crate::net::ping::healthz(&base, args.timeout)) {
        Ok(()) => {
            if !global.quiet {
                use std::io::Write as _;
                writeln!(std::io::stdout(), "healthy: {base}/healthz answered 200")
                    .or_else(crate::error::unless_broken_pipe)
                    .map_err(|e| Error::io("cannot write", e))?;
            }
            Ok(exit::OK)
        }
        Err(why) => {
            eprintln!("hbmon: not healthy: {base}/healthz: {why}");
            Ok(exit::WARNING)
        }
    }
}
