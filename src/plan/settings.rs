//! The top-level settings blocks: `listen`, a monitor's heartbeat, `store`.

use std::time::Duration;

use crate::config::diag::At;
use crate::config::load;
use crate::config::raw;

use super::{Builder, DEFAULT_RETENTION};
use crate::model::{Listen, Monitor, Probe, StoreSettings, Upstream};

impl Builder<'_> {
    /// The `upstream` block; its URL is read only when `read_url` (a command that never
    /// notifies has a stand-in, as nothing it does sends to it).
    pub(super) fn upstream(&mut self, doc: &load::Document, read_url: bool) -> Option<Upstream> {
        let u = doc.upstream.as_ref()?;
        let every = self
            .duration("/upstream/every", u.every.as_ref())
            .unwrap_or(Duration::from_secs(60));
        let method = super::http_method(u.method.unwrap_or(raw::HttpMethod::POST));
        let content_type = u
            .content_type
            .clone()
            .unwrap_or_else(|| "application/json".into());
        if let Some(body) = &u.body {
            if method == reqwest::Method::GET || method == reqwest::Method::HEAD {
                self.error(
                    At::key("/upstream/body"),
                    format!("a {method} request has no body"),
                )
                .hint = Some("use `method: POST`, or leave `body` out".into());
            } else if let Err(e) = upstream_body(body, content_type.contains("json")) {
                self.error(At::value("/upstream/body"), e).hint = Some(
                    "it sees `services` (each with `status`), `status`, `ok` and `hbmon`".into(),
                );
            }
        }
        let only_when_online = u.only_when_online.unwrap_or(false);
        if only_when_online && doc.connectivity.is_none() {
            self.error(
                At::key("/upstream/only_when_online"),
                "`only_when_online` needs `connectivity` to know when hbmon is online",
            )
            .hint = Some("add `connectivity: { targets: [\"1.1.1.1:53\"] }`".into());
        }
        let headers = self.headers("/upstream", &u.headers);
        let url = if read_url {
            let url = self.secret("/upstream", "url", u.url.as_ref(), u.url_file.as_deref());
            match url {
                Some(url)
                    if url::Url::parse(url.expose())
                        .is_ok_and(|x| x.scheme().starts_with("http")) =>
                {
                    url
                }
                Some(_) => {
                    self.error(At::value("/upstream/url"), "not an http(s) URL");
                    return None;
                }
                None => {
                    self.error(
                        At::key("/upstream"),
                        "`upstream` needs `url` (or `url_file`)",
                    );
                    return None;
                }
            }
        } else {
            // Left unread; nothing this plan is for sends to it.
            raw::Secret::new("https://upstream.invalid/".to_owned())
        };
        Some(Upstream {
            url,
            every,
            method,
            headers,
            content_type,
            body: u.body.clone(),
            only_when_online,
        })
    }

    pub(super) fn listen(
        &mut self,
        doc: &load::Document,
        monitors: &[std::sync::Arc<Monitor>],
    ) -> Option<Listen> {
        let any_heartbeat = monitors
            .iter()
            .any(|m| matches!(m.probe, Probe::Heartbeat(_)));
        let Some(l) = &doc.listen else {
            return any_heartbeat.then(|| Listen {
                page: page(doc.status_page.as_ref()),
                ..Listen::at(Listen::DEFAULT_ADDRESS)
            });
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
        let api = self.api(doc, l, token.as_ref());
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
        let ping_aliases = self.aliases(
            "ping_aliases",
            l.ping_aliases.as_deref(),
            &Listen::DEFAULT_PING_ALIASES,
        );
        let health_aliases = self.aliases(
            "health_aliases",
            l.health_aliases.as_deref(),
            &Listen::DEFAULT_HEALTH_ALIASES,
        );
        for (i, h) in health_aliases.iter().enumerate() {
            if let Some(p) = ping_aliases.iter().find(|p| crate::listen::overlap(p, h)) {
                self.error(
                    At::value(format!("/listen/health_aliases/{i}")),
                    format!("`{h}` clashes with the ping alias `{p}`"),
                );
            }
        }
        Some(Listen {
            address,
            token,
            api,
            max_body,
            page_auth,
            max_pings_per_second: l
                .max_pings_per_second
                .unwrap_or(Listen::DEFAULT_MAX_PINGS_PER_SECOND)
                .max(1),
            page: page(doc.status_page.as_ref()),
            ping_aliases,
            health_aliases,
        })
    }

    /// The monitors API: `listen.api_token`, another one than `token`, and the first
    /// directory `include:` names, which it writes into.
    fn api(
        &mut self,
        doc: &load::Document,
        l: &crate::config::raw::ListenDef,
        token: Option<&crate::config::raw::Secret>,
    ) -> Option<(crate::config::raw::Secret, std::path::PathBuf)> {
        let api_token = self.secret(
            "/listen",
            "api_token",
            l.api_token.as_ref(),
            l.api_token_file.as_deref(),
        );
        if let (Some(api), Some(token)) = (&api_token, token)
            && api.expose() == token.expose()
        {
            self.error(
                At::key("/listen/api_token"),
                "`api_token` must differ from `token`: whoever may ping must not change the configuration",
            );
        }
        api_token.and_then(|t| {
            let dir = doc
                .include
                .iter()
                .find_map(|(_, place)| crate::config::include::directory(self.base_dir, place));
            if dir.is_none() {
                let key = if l.api_token.is_some() {
                    "api_token"
                } else {
                    "api_token_file"
                };
                self.error(
                    At::key(format!("/listen/{key}")),
                    "the monitors API needs a directory to write monitors into",
                )
                .hint = Some(
                    "add `include: monitors.d` (an existing directory) to the main file".into(),
                );
            }
            Some((t, dir?))
        })
    }

    /// `listen.<key>`: paths that start with `/`, of plain URL characters, that clash
    /// with no built-in route nor with each other.
    fn aliases(&mut self, key: &str, given: Option<&[String]>, default: &[&str]) -> Vec<String> {
        let Some(given) = given else {
            return default.iter().map(|&a| a.to_owned()).collect();
        };
        let mut seen = std::collections::HashSet::new();
        for (i, a) in given.iter().enumerate() {
            let at = At::value(format!("/listen/{key}/{i}"));
            let plain = a
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/-._~".contains(&b));
            if !a.starts_with('/') || a.len() < 2 || a.ends_with('/') || a.contains("//") || !plain
            {
                self.error(at, "not a path like `/heartbeat`").hint = Some(
                    "a path starts with `/`, does not end with one, and has letters, digits, `-`, `.`, `_` or `~` between".into(),
                );
            } else if let Some(r) = crate::listen::clashes(a) {
                self.error(at, format!("`{a}` clashes with the route `{r}`"));
            } else if !seen.insert(a.as_str()) {
                self.error(at, format!("`{a}` is given twice"));
            }
        }
        given.to_vec()
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

/// Render an upstream body against a sample; with `json`, it must be JSON.
fn upstream_body(body: &str, json: bool) -> Result<(), String> {
    let sample = serde_json::json!({
        "services": { "web": { "status": "up" }, "db": { "status": "down" } },
        "status": "down",
        "ok": false,
        "hbmon": { "version": env!("CARGO_PKG_VERSION"), "offline": false },
    });
    let text = crate::template::Renderer::new(None)
        .render(
            body,
            &minijinja::Value::from(minijinja::value::Serde(&sample)),
        )
        .map_err(|e| format!("invalid body template: {e}"))?;
    if json && let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
        return Err(format!("the body does not render to JSON ({e})"));
    }
    Ok(())
}

/// The checked `status_page` block (the schema bounds `history`).
fn page(def: Option<&raw::StatusPageDef>) -> crate::model::StatusPage {
    let mut page = crate::model::StatusPage::default();
    let Some(def) = def else {
        return page;
    };
    if let Some(title) = &def.title {
        page.title.clone_from(title);
    }
    page.description.clone_from(&def.description);
    page.footer.clone_from(&def.footer);
    page.public = def.public.unwrap_or(false);
    if let Some(n) = def.history {
        page.history = usize::try_from(n.clamp(1, 200)).unwrap_or(page.history);
    }
    page.group_by = def.group_by.unwrap_or_default();
    page
}
