//! The monitors API's changes, made by the loop one at a time: check the configuration
//! as it would be with the change (every file, the full plan), refuse what is not the
//! API's to change, write the file atomically, and hand the new plan to the loop, which
//! applies it like a SIGHUP reload. Nothing is written unless the result is valid.

use std::path::{Path, PathBuf};

use crate::config::include::Overlay;
use crate::config::managed::{self, Refused};
use crate::listen::MonitorChange;
use crate::model::Plan;

/// A checked change, ready to be written.
pub(super) struct Prepared {
    pub(super) plan: Plan,
    path: PathBuf,
    /// The new text; `None`: the file is removed.
    source: Option<String>,
    /// A new monitor (not a replaced one).
    pub(super) created: bool,
}

/// Check `change` against the configuration at `config`, whose API directory is `dir`.
pub(super) fn prepare(
    config: &Path,
    dir: &Path,
    change: &MonitorChange,
) -> Result<Prepared, Refused> {
    let name = change.name();
    let path = managed::file_for(dir, name)?;
    let cannot_read = |e: std::io::Error| {
        tracing::error!(file = %path.display(), error = %e, "monitors API: cannot read the file");
        Refused::new(500, "the monitor's file cannot be read")
    };
    let exists = path.exists();
    if exists && !managed::is_managed(&path).map_err(cannot_read)? {
        return Err(Refused::new(
            409,
            format!(
                "{} was not written by the API (its first line is not `{}`): edit it by hand",
                path.display(),
                managed::MARK
            ),
        ));
    }
    // A file with the mark that defines another monitor (written or renamed by hand) is
    // not silently replaced.
    if exists
        && let Some(other) = managed::read_definition(&path)
        && other.get("name").and_then(serde_json::Value::as_str) != Some(name)
    {
        return Err(Refused::new(
            409,
            format!(
                "{} defines another monitor: change or remove it by hand",
                path.display()
            ),
        ));
    }
    let source = match change {
        MonitorChange::Put { body, .. } => Some(managed::definition(name, body)?),
        MonitorChange::Delete { .. } => None,
    };
    let overlay = Overlay {
        path: path.clone(),
        source: source.clone(),
    };
    let loaded =
        crate::config::load::load_with(config, &crate::cli::env_var, &overlay).map_err(|e| {
            tracing::error!(error = %e, "monitors API: cannot read the configuration");
            Refused::new(500, "the configuration cannot be read")
        })?;
    // Defined anywhere else, it is not the API's: the main file or a hand-written file.
    let elsewhere = loaded.doc.monitors.iter().find(|m| {
        m.name.as_deref() == Some(name) && m.origin.as_ref().map(|o| &o.0) != Some(&path)
    });
    if let Some(m) = elsewhere {
        let place = m.origin.as_ref().map_or_else(
            || loaded.path.display().to_string(),
            |o| o.0.display().to_string(),
        );
        return Err(Refused::new(
            409,
            format!("`{name}` is defined in {place}, not by the API: change it there"),
        ));
    }
    if source.is_none() && !exists {
        return Err(Refused::new(404, format!("no monitor named `{name}`")));
    }
    let plan = crate::plan::build(loaded).map_err(|e| match e {
        crate::error::Error::Config(report) => Refused {
            status: 422,
            message: if source.is_some() {
                format!(
                    "the configuration would not be valid with this `{name}`; nothing was changed"
                )
            } else {
                format!(
                    "the configuration would not be valid without `{name}`; nothing was changed"
                )
            },
            problems: report.problems(),
        },
        other => {
            tracing::error!(error = %other, "monitors API: the configuration cannot be checked");
            Refused::new(500, "the configuration cannot be checked")
        }
    })?;
    Ok(Prepared {
        plan,
        path,
        source,
        created: !exists,
    })
}

/// Make the change on disk.
pub(super) fn commit(p: &Prepared) -> Result<(), Refused> {
    if let Some(dir) = p.path.parent() {
        managed::sweep(dir);
    }
    let done = match &p.source {
        Some(text) => managed::write_atomically(&p.path, text),
        None => managed::remove(&p.path),
    };
    done.map_err(|e| {
        tracing::error!(file = %p.path.display(), error = %e, "monitors API: cannot write the file");
        Refused::new(500, "the monitor's file cannot be written; nothing was changed")
    })
}
