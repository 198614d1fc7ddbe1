//! `hbmon ack <monitor>`: acknowledge an open incident. The request goes into the store;
//! the running `watch` finds it within its flush interval, applies it (the state and the
//! acknowledged alert in one transaction) and writes back the outcome, which this command
//! waits for. Without a running `watch` the request stays queued and is applied when it
//! starts (exit 75), if that incident is still open then.

use std::time::SystemTime;

use crate::cli::db_path;
use crate::cli::{AckArgs, GlobalArgs};
use crate::daemon::ack::{open_incident, outcome};
use crate::error::Error;
use crate::exit;
use crate::plan;
use crate::store::Store;

/// `user@host` of whoever runs the command.
fn who() -> String {
    let user = ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|v| crate::cli::env_var(v).filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "someone".into());
    match nix::unistd::gethostname() {
        Ok(h) => format!("{user}@{}", h.to_string_lossy()),
        Err(_) => user,
    }
}

pub fn run(global: &GlobalArgs, args: &AckArgs) -> Result<u8, Error> {
    let plan = plan::load_without_notifiers(&global.config)?;
    if !plan.monitors.iter().any(|m| m.name == args.monitor) {
        let names: Vec<&str> = plan.monitors.iter().map(|m| m.name.as_str()).collect();
        return Err(Error::Usage(format!(
            "no monitor `{}` in {} ({})",
            args.monitor,
            global.config.display(),
            crate::plan::suggest(&args.monitor, &names, "monitors")
        )));
    }
    let db = db_path(global.db.as_deref(), Some(&plan.store));
    let store = Store::open_read(&db)?;
    let now = SystemTime::now();
    let Some(opened_at) = open_incident(&store, &args.monitor)? else {
        eprintln!(
            "hbmon: `{}` has no open incident to acknowledge",
            args.monitor
        );
        return Ok(exit::UNAVAILABLE);
    };
    let who = args.by.clone().unwrap_or_else(who);
    let until = args.for_.map(|d| now + d);
    let id = store.request_ack(&args.monitor, &who, &args.note, until, Some(opened_at))?;
    let mut out = std::io::stdout().lock();
    let print = |out: &mut dyn std::io::Write, text: String| {
        writeln!(out, "{text}").map_err(|e| Error::io("cannot write the answer", e))
    };
    if !Store::writer_running(&db) {
        print(
            &mut out,
            format!(
                "queued: no `hbmon watch` is running on {}; it acknowledges the incident when it starts, if it is still open then",
                db.display()
            ),
        )?;
        return Ok(exit::TEMPFAIL);
    }
    match outcome(&store, id, args.wait)? {
        Some(Ok(())) => {
            let lapse = until.map_or_else(
                || "until it resolves".to_owned(),
                |u| format!("until {}", humantime::format_rfc3339_seconds(u)),
            );
            print(
                &mut out,
                format!(
                    "acknowledged: {} (down since {}) by {who}, {lapse}",
                    args.monitor,
                    humantime::format_rfc3339_seconds(opened_at)
                ),
            )?;
            Ok(exit::OK)
        }
        Some(Err(refused)) => {
            eprintln!("hbmon: {refused}");
            Ok(exit::UNAVAILABLE)
        }
        None => {
            print(
                &mut out,
                format!(
                    "queued: `hbmon watch` has not applied it within {}; it will",
                    crate::humanize::span(args.wait)
                ),
            )?;
            Ok(exit::TEMPFAIL)
        }
    }
}
