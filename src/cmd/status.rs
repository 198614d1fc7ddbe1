//! `hbmon status` and `hbmon history <monitor>`: read the store, while `watch` writes it
//! (WAL lets readers and the writer work at the same time), and print what
//! `report::status` makes of it.

use std::io::Write;
use std::time::SystemTime;

use crate::cli::db_path;
use crate::cli::{GlobalArgs, HistoryArgs, ReadFormat, StatusArgs};
use crate::error::Error;
use crate::model::Plan;
use crate::plan;
use crate::report::status::{History, View, history_human, history_json};
use crate::store::Store;

/// The config if there is one; without one, `--db` alone is enough.
fn open(global: &GlobalArgs) -> Result<(Option<Plan>, Store), Error> {
    let plan = match plan::load_without_notifiers(&global.config) {
        Ok(p) => Some(p),
        Err(Error::ConfigRead { .. }) if global.db.is_some() => None,
        Err(e) => return Err(e),
    };
    let db = db_path(global.db.as_deref(), plan.as_ref().map(|p| &p.store));
    Ok((plan, Store::open_read(&db)?))
}

pub fn status(global: &GlobalArgs, args: &StatusArgs) -> Result<u8, Error> {
    let (plan, store) = open(global)?;
    let monitors = plan.as_ref().map(|p| {
        p.monitors
            .iter()
            .map(|m| (m.name.clone(), m.paused))
            .collect()
    });
    let silent_after = plan
        .as_ref()
        .map_or(crate::model::DEFAULT_SILENT_AFTER, |p| {
            p.regions.silent_after
        });
    let heartbeats: Vec<&str> = plan.as_ref().map_or_else(Vec::new, |p| {
        p.monitors
            .iter()
            .filter(|m| matches!(m.probe, crate::model::Probe::Heartbeat(_)))
            .map(|m| m.name.as_str())
            .collect()
    });
    let view = View::read(monitors, &store, SystemTime::now(), silent_after)?
        .mark_unpinged(&heartbeats, &store)?;
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        ReadFormat::Json => serde_json::to_writer_pretty(&mut out, &view.json())
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        ReadFormat::Human => view.human(&mut out),
    };
    // A reader that stops early (`| head -1`) is not an error: the code still says the worst.
    written
        .or_else(crate::error::unless_broken_pipe)
        .map_err(|e| Error::io("cannot write the status", e))?;
    // Like `check`: the worst confirmed status, so scripts can branch on it.
    Ok(view.worst().exit_code())
}

pub fn history(global: &GlobalArgs, args: &HistoryArgs) -> Result<u8, Error> {
    let (plan, store) = open(global)?;
    let known_in_config = plan
        .as_ref()
        .is_some_and(|p| p.monitors.iter().any(|m| m.name == args.monitor));
    let states = store.states()?;
    if !known_in_config && !states.iter().any(|s| s.monitor == args.monitor) {
        let mut names: Vec<String> = states.into_iter().map(|s| s.monitor).collect();
        if let Some(p) = &plan {
            names.extend(p.monitors.iter().map(|m| m.name.clone()));
        }
        names.sort();
        names.dedup();
        return Err(Error::Usage(format!(
            "no monitor named `{}` in the config or the store (monitors: {})",
            args.monitor,
            names.join(", ")
        )));
    }
    let incidents = store.incidents(Some(&args.monitor), false, 50)?;
    let observations = store.observations(&args.monitor, args.limit)?;
    let pings = store.pings(&args.monitor, args.limit)?;
    let alerts: Vec<_> = store
        .outbox()?
        .into_iter()
        .filter(|o| o.monitor == args.monitor)
        .rev()
        .take(args.limit)
        .collect();
    let history = History {
        monitor: &args.monitor,
        incidents: &incidents,
        observations: &observations,
        pings: &pings,
        alerts: &alerts,
    };
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        ReadFormat::Json => serde_json::to_writer_pretty(&mut out, &history_json(&history))
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        ReadFormat::Human => history_human(&mut out, &history, SystemTime::now()),
    };
    written.map_err(|e| Error::io("cannot write the history", e))?;
    Ok(crate::exit::OK)
}
