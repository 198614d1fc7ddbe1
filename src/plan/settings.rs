//! The top-level settings blocks: `listen`, a monitor's heartbeat, `store`.

use std::time::Duration;

use crate::config::diag::At;
use crate::config::load;
use crate::config::raw;

use super::{Builder, DEFAULT_RETENTION};
use crate::model::{Listen, Monitor, Probe, StoreSettings};

impl Builder<'_> {
    pub(super) fn listen(&mut self, doc: &load::Document, monitors: &[Monitor]) -> Option<Listen> {
        let any_heartbeat = monitors
            .iter()
            .any(|m| matches!(m.probe, Probe::Heartbeat(_)));
        let Some(l) = &doc.listen else {
            return any_heartbeat.then(|| Listen::at(Listen::DEFAULT_ADDRESS));
        };
        let text = l.address.as_deref().unwrap_or("127.0.0.1:8471");
        // `localhost` is loopback (IPv4); no other name is resolved here.
        let text = match text.strip_prefix("localhost:") {
            Some(port) => format!("127.0.0.1:{port}"),
            None => text.to_owned(),
        };
        let Ok(address) = text.parse() else {
            self.error(At::value("/listen/address"), "not an `address:port`")
                .hint = Some("for example `127.0.0.1:8471` or `[::]:8471`".into());
            return None;
        };
        let token = self.secret(
            "/listen",
            "token",
            l.token.as_ref(),
            l.token_file.as_deref(),
        );
        let max_body = l
            .max_body
            .as_ref()
            .and_then(|s| self.size("/listen/max_body", s))
            .map_or(Listen::DEFAULT_MAX_BODY, |v| {
                usize::try_from(v).unwrap_or(usize::MAX)
            });
        let page_auth = l.basic_auth.as_ref().and_then(|a| {
            let p = self.secret(
                "/listen/basic_auth",
                "password",
                a.password.as_ref(),
                a.password_file.as_deref(),
            );
            if p.is_none() {
                self.error(
                    At::key("/listen/basic_auth"),
                    "`basic_auth` needs `password` or `password_file`",
                );
            }
            Some((a.username.clone(), p?))
        });
        Some(Listen {
            address,
            token,
            max_body,
            page_auth,
            max_pings_per_second: l
                .max_pings_per_second
                .unwrap_or(Listen::DEFAULT_MAX_PINGS_PER_SECOND)
                .max(1),
        })
    }

    pub(super) fn heartbeat(
        &mut self,
        ptr: &str,
        h: &raw::HeartbeatDef,
    ) -> Option<crate::heartbeat::Heartbeat> {
        use crate::heartbeat::{Expect, Heartbeat};
        let expect = match (&h.period, &h.cron) {
            (Some(p), None) => {
                if h.timezone.is_some() {
                    self.error(
                        At::key(format!("{ptr}/timezone")),
                        "`timezone` applies to `cron` only",
                    );
                }
                Expect::Every(self.duration(&format!("{ptr}/period"), Some(p))?)
            }
            (None, Some(c)) => Expect::Cron(self.cron(ptr, c, h.timezone.as_deref())?),
            _ => {
                self.error(At::key(ptr), "a heartbeat needs either `period` or `cron`")
                    .hint = Some(
                    "`period: 1h` for a job every hour, `cron: \"0 3 * * *\"` for a nightly one"
                        .into(),
                );
                return None;
            }
        };
        let grace = match &h.grace {
            Some(g) => self.duration(&format!("{ptr}/grace"), Some(g))?,
            None => Duration::from_secs(300),
        };
        Some(Heartbeat {
            expect,
            grace,
            max_runtime: self.duration(&format!("{ptr}/max_runtime"), h.max_runtime.as_ref()),
            min_runtime: self.duration(&format!("{ptr}/min_runtime"), h.min_runtime.as_ref()),
            token: self.secret(ptr, "token", h.token.as_ref(), h.token_file.as_deref()),
        })
    }

    pub(super) fn store(&mut self, doc: &load::Document) -> StoreSettings {
        let d = &doc.store;
        let url = self.secret("/store", "url", d.url.as_ref(), d.url_file.as_deref());
        let postgres = if let Some(url) = url {
            if d.path.is_some() {
                self.error(
                    At::key("/store/path"),
                    "`path` and `url` exclude each other",
                )
                .hint = Some("`path` is a SQLite file, `url` a PostgreSQL database".into());
            }
            if !(url.expose().starts_with("postgres://")
                || url.expose().starts_with("postgresql://"))
            {
                // It may hold a password: never quoted.
                self.error(At::value("/store/url"), "not a PostgreSQL URL")
                    .hint = Some("postgres://user:password@host:5432/database".into());
            }
            let ca_pem = d.ca_file.as_ref().and_then(|f| {
                std::fs::read(self.base_dir.join(f))
                    .map_err(|e| {
                        self.error(At::value("/store/ca_file"), format!("cannot read it: {e}"));
                    })
                    .ok()
            });
            let lease = self
                .duration("/store/lease", d.lease.as_ref())
                .unwrap_or(crate::model::DEFAULT_LEASE);
            if lease < Duration::from_millis(500) {
                self.error(
                    At::value("/store/lease"),
                    "a lease shorter than 500ms cannot be renewed in time",
                );
            }
            Some(crate::model::Location::Postgres { url, ca_pem, lease })
        } else {
            if d.ca_file.is_some() {
                self.error(
                    At::key("/store/ca_file"),
                    "`ca_file` applies to a PostgreSQL `url` only",
                );
            }
            None
        };
        StoreSettings {
            path: doc.store.path.as_ref().map(|p| self.base_dir.join(p)),
            postgres,
            retention: self
                .duration("/store/retention", doc.store.retention.as_ref())
                .unwrap_or(DEFAULT_RETENTION),
        }
    }
}
