//! Each probe kind's settings, checked.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};

use crate::config::diag::At;
use crate::config::raw::{self, Secret};

use super::{Builder, http_method, parse_server};
use crate::model::{
    Auth, CommandProbe, DnsProbe, DockerProbe, DockerTarget, Expect, FileProbe, HostRef, HttpProbe,
    IcmpProbe, Levels, SystemProbe, TcpProbe,
};

impl Builder<'_> {
    pub(super) fn http(
        &mut self,
        ptr: &str,
        h: &raw::HttpProbe,
        host: Option<&HostRef>,
    ) -> Option<HttpProbe> {
        let url = self.http_target(ptr, h, host);
        let headers = self.headers(ptr, &h.headers);
        let auth = self.http_auth(ptr, h);
        let latency = self.latency(ptr, h.latency_warning.as_ref(), h.latency_critical.as_ref());
        let resolve = h.resolve.as_deref().and_then(|ip| {
            let parsed = ip.trim().parse().ok();
            if parsed.is_none() {
                self.error(
                    At::value(format!("{ptr}/resolve")),
                    "`resolve` must be an IP address",
                )
                .hint = Some("for example `10.0.0.5` or `::1`; the URL keeps the host name".into());
            }
            parsed
        });
        let mut tls = self.tls_check(
            ptr,
            h.verify_tls,
            h.ca_file.as_deref(),
            [
                h.cert_expiry_warning.as_ref(),
                h.cert_expiry_critical.as_ref(),
            ],
        );
        tls.client_identity = self.client_identity(
            ptr,
            h.client_cert_file.as_deref(),
            h.client_key_file.as_deref(),
        );
        let proxy = self.proxy(&format!("{ptr}/proxy"), h.proxy.as_ref());
        let method = http_method(h.method.unwrap_or(raw::HttpMethod::GET));
        Some(HttpProbe {
            url: url?,
            method,
            headers,
            body: h.body.clone(),
            auth,
            max_redirects: if h.follow_redirects.unwrap_or(true) {
                h.max_redirects.unwrap_or(10) as usize
            } else {
                if h.max_redirects.is_some() {
                    self.error(
                        At::key(format!("{ptr}/max_redirects")),
                        "`max_redirects` with `follow_redirects: false`",
                    );
                }
                0
            },
            tls,
            resolve,
            proxy,
            expect_status: h
                .expect
                .status
                .iter()
                .enumerate()
                .filter_map(|(i, s)| self.status(&format!("{ptr}/expect/status/{i}"), s))
                .collect(),
            header_checks: self.header_checks(&format!("{ptr}/expect"), &h.expect),
            json: self.json_checks(&format!("{ptr}/expect/json"), &h.expect.json),
            local_address: h.ip_version.and_then(|v| match v {
                raw::IpVersion::V4 => Some(std::net::Ipv4Addr::UNSPECIFIED.into()),
                raw::IpVersion::V6 => Some(std::net::Ipv6Addr::UNSPECIFIED.into()),
                raw::IpVersion::Any => None,
            }),
            body_regex: h.expect.body_regex.as_deref().and_then(|re| {
                regex::Regex::new(re)
                    .map_err(|e| {
                        self.error(
                            At::value(format!("{ptr}/expect/body_regex")),
                            format!("invalid regular expression: {e}"),
                        );
                    })
                    .ok()
            }),
            body_contains: h.expect.body_contains.clone(),
            max_body_size: h
                .expect
                .max_body_size
                .as_ref()
                .and_then(|s| self.size(&format!("{ptr}/expect/max_body_size"), s)),
            latency,
        })
    }

    /// `bearer_token(_file)` or `basic_auth`, secrets read; both set is an error.
    pub(super) fn http_auth(&mut self, ptr: &str, h: &raw::HttpProbe) -> Option<Auth> {
        let bearer = self.secret(
            ptr,
            "bearer_token",
            h.bearer_token.as_ref(),
            h.bearer_token_file.as_deref(),
        );
        if let Some(token) = &bearer
            && HeaderValue::from_str(&format!("Bearer {}", token.expose())).is_err()
        {
            let key = if h.bearer_token.is_some() {
                "bearer_token"
            } else {
                "bearer_token_file"
            };
            self.error(
                At::value(format!("{ptr}/{key}")),
                "the token contains characters HTTP does not allow in a header (a line break?)",
            );
        }
        match (&bearer, &h.basic_auth) {
            (Some(_), Some(_)) => {
                self.error(
                    At::key(format!("{ptr}/basic_auth")),
                    "both `bearer_token` and `basic_auth` are set",
                )
                .hint = Some("a request carries one Authorization header; keep one of them".into());
                None
            }
            (Some(token), None) => Some(Auth::Bearer(token.clone())),
            (None, Some(b)) => {
                let password = self.secret(
                    &format!("{ptr}/basic_auth"),
                    "password",
                    b.password.as_ref(),
                    b.password_file.as_deref(),
                );
                Some(Auth::Basic {
                    username: b.username.clone(),
                    password,
                })
            }
            (None, None) => None,
        }
    }

    /// The URL: as written, or built from the monitor's host with scheme, port and path.
    pub(super) fn http_target(
        &mut self,
        ptr: &str,
        h: &raw::HttpProbe,
        host: Option<&HostRef>,
    ) -> Option<url::Url> {
        match (&h.url, host) {
            (Some(url), _) => {
                for key in ["scheme", "port", "path"] {
                    let set = match key {
                        "scheme" => h.scheme.is_some(),
                        "port" => h.port.is_some(),
                        _ => h.path.is_some(),
                    };
                    if set {
                        self.error(
                            At::key(format!("{ptr}/{key}")),
                            format!("`{key}` is for host-relative probes; `url` already says it"),
                        );
                    }
                }
                self.http_url(&format!("{ptr}/url"), url)
            }
            (None, Some(host)) => {
                let scheme = match h.scheme {
                    Some(raw::HttpScheme::Https) => "https",
                    _ => "http",
                };
                // An IPv6 address needs brackets in a URL.
                let address = if host.address.contains(':') && !host.address.starts_with('[') {
                    format!("[{}]", host.address)
                } else {
                    host.address.clone()
                };
                let port = h.port.map_or_else(String::new, |p| format!(":{p}"));
                let path = h.path.as_deref().unwrap_or("/");
                let slash = if path.starts_with('/') { "" } else { "/" };
                self.http_url(
                    &format!("{ptr}/path"),
                    &format!("{scheme}://{address}{port}{slash}{path}"),
                )
            }
            (None, None) => {
                self.error(At::key(ptr), "http probe needs a `url`, or a monitor `host` to build one from")
                    .hint = Some("for example `url: https://example.com/health`, or `host: web1` with `path: /health`".into());
                None
            }
        }
    }

    pub(super) fn http_url(&mut self, ptr: &str, text: &str) -> Option<url::Url> {
        match url::Url::parse(text) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Some(u),
            Ok(u) if !matches!(u.scheme(), "http" | "https") => {
                self.error(
                    At::value(ptr),
                    format!("unsupported URL scheme `{}`", u.scheme()),
                )
                .hint =
                    Some("use http:// or https:// (a `tcp` probe checks other services)".into());
                None
            }
            Ok(_) => {
                self.error(At::value(ptr), "URL has no host");
                None
            }
            Err(e) => {
                self.error(At::value(ptr), format!("invalid URL: {e}")).hint =
                    Some("write a full URL such as `https://example.com/health`".into());
                None
            }
        }
    }

    pub(super) fn headers(
        &mut self,
        ptr: &str,
        raw: &BTreeMap<String, Secret>,
    ) -> Vec<(HeaderName, Secret)> {
        let mut headers = Vec::new();
        for (name, value) in raw {
            let p = format!("{ptr}/headers/{}", crate::config::spans::escape(name));
            match HeaderName::from_bytes(name.as_bytes()) {
                Ok(n) => {
                    if HeaderValue::from_str(value.expose()).is_err() {
                        self.error(
                            At::value(&p),
                            "header value contains characters HTTP does not allow",
                        );
                    }
                    headers.push((n, value.clone()));
                }
                Err(_) => {
                    self.error(
                        At::key(&p),
                        format!("`{name}` is not a valid HTTP header name"),
                    );
                }
            }
        }
        headers
    }

    pub(super) fn tcp(
        &mut self,
        ptr: &str,
        t: &raw::TcpProbe,
        host: Option<&HostRef>,
    ) -> Option<TcpProbe> {
        let latency = self.latency(ptr, t.latency_warning.as_ref(), t.latency_critical.as_ref());
        let Some(address) = t.host.clone().or_else(|| host.map(|h| h.address.clone())) else {
            self.error(At::key(ptr), "tcp probe has no host to connect to")
                .hint =
                Some("set `tcp.host`, or the monitor's `host` to an entry of `hosts`".into());
            return None;
        };
        let expect = match (&t.expect, &t.expect_regex) {
            (Some(_), Some(_)) => {
                self.error(
                    At::key(format!("{ptr}/expect_regex")),
                    "both `expect` and `expect_regex` are set",
                );
                None
            }
            (Some(text), None) => Some(Expect::Contains(text.clone())),
            (None, Some(re)) => match regex::Regex::new(re) {
                Ok(re) => Some(Expect::Regex(re)),
                Err(e) => {
                    self.error(
                        At::value(format!("{ptr}/expect_regex")),
                        format!("invalid regular expression: {e}"),
                    );
                    None
                }
            },
            (None, None) => None,
        };
        let uses_tls = t.tls.unwrap_or(false);
        if !uses_tls {
            let tls_only = [
                ("verify_tls", t.verify_tls.is_some()),
                ("ca_file", t.ca_file.is_some()),
                ("cert_expiry_warning", t.cert_expiry_warning.is_some()),
                ("cert_expiry_critical", t.cert_expiry_critical.is_some()),
            ];
            for (key, set) in tls_only {
                if set {
                    self.error(
                        At::key(format!("{ptr}/{key}")),
                        format!("`{key}` needs `tls: true`"),
                    );
                }
            }
        }
        let tls = uses_tls.then(|| {
            self.tls_check(
                ptr,
                t.verify_tls,
                t.ca_file.as_deref(),
                [
                    t.cert_expiry_warning.as_ref(),
                    t.cert_expiry_critical.as_ref(),
                ],
            )
        });
        Some(TcpProbe {
            host: address,
            // The schema bounds the port to 1..=65535.
            port: u16::try_from(t.port).unwrap_or(u16::MAX),
            latency,
            send: t.send.as_ref().map(|s| s.clone().into_bytes()),
            expect,
            tls,
        })
    }

    pub(super) fn icmp(
        &mut self,
        ptr: &str,
        i: &raw::IcmpProbe,
        host: Option<&HostRef>,
    ) -> Option<IcmpProbe> {
        let interval = self.duration(&format!("{ptr}/interval"), i.interval.as_ref());
        let packet_timeout =
            self.duration(&format!("{ptr}/packet_timeout"), i.packet_timeout.as_ref());
        let rtt = self.latency_levels(
            ptr,
            ["rtt_warning", "rtt_critical"],
            [i.rtt_warning.as_ref(), i.rtt_critical.as_ref()],
        );
        let loss = Levels {
            warning: i.loss_warning,
            critical: Some(i.loss_critical.unwrap_or(100.0)),
        };
        if let (Some(w), Some(c)) = (loss.warning, loss.critical)
            && w > c
        {
            self.error(
                At::value(format!("{ptr}/loss_warning")),
                "loss_warning is above loss_critical",
            );
        }
        let Some(address) = i.host.clone().or_else(|| host.map(|h| h.address.clone())) else {
            self.error(At::key(ptr), "icmp probe has no host to ping")
                .hint =
                Some("set `icmp.host`, or the monitor's `host` to an entry of `hosts`".into());
            return None;
        };
        Some(IcmpProbe {
            host: address,
            count: i.count.unwrap_or(3),
            interval: interval.unwrap_or(Duration::from_millis(200)),
            packet_timeout: packet_timeout.unwrap_or(Duration::from_secs(1)),
            loss,
            rtt,
            ip_version: i.ip_version.unwrap_or(raw::IpVersion::Any),
        })
    }

    pub(super) fn dns(
        &mut self,
        ptr: &str,
        d: &raw::DnsProbe,
        host: Option<&HostRef>,
    ) -> Option<DnsProbe> {
        let server_text = d.server.clone().or_else(|| host.map(|h| h.address.clone()));
        let server = match server_text.as_deref().map(parse_server) {
            None => None,
            Some(Ok(addr)) => Some(addr),
            Some(Err(())) => {
                let at = if d.server.is_some() {
                    format!("{ptr}/server")
                } else {
                    ptr.replace("/dns", "/host")
                };
                self.error(
                    At::value(at),
                    "a DNS server must be an IP address, with an optional port",
                )
                .hint = Some("for example `10.0.0.2`, `10.0.0.2:5353` or `[::1]:53`".into());
                return None;
            }
        };
        let record_type = d.record_type.unwrap_or(raw::RecordType::A);
        let norm = |v: &Vec<String>| {
            v.iter()
                .map(|a| crate::probe::dns_normalize(a, record_type))
                .collect::<Vec<_>>()
        };
        let rcode = d.expect.rcode.unwrap_or(raw::Rcode::NOERROR);
        if rcode != raw::Rcode::NOERROR
            && (d.expect.answers.is_some() || !d.expect.contains.is_empty())
        {
            self.error(
                At::key(format!("{ptr}/expect/rcode")),
                "answers are only expected with rcode NOERROR",
            );
        }
        Some(DnsProbe {
            name: d.name.clone(),
            record_type,
            server,
            tcp: matches!(d.transport, Some(raw::DnsTransport::Tcp)),
            answers: d.expect.answers.as_ref().map(norm),
            contains: norm(&d.expect.contains),
            rcode,
        })
    }

    pub(super) fn docker(&mut self, ptr: &str, d: &raw::DockerProbe) -> Option<DockerProbe> {
        let socket = d
            .socket
            .as_ref()
            .map(|s| s.strip_prefix("unix://").unwrap_or(s).to_owned());
        let target = match (&d.container, &d.count) {
            (Some(name), None) => DockerTarget::Container {
                name: name.clone(),
                healthy: d.healthy,
                max_restarts: d.max_restarts,
                min_uptime: self.duration(&format!("{ptr}/min_uptime"), d.min_uptime.as_ref()),
            },
            (None, Some(c)) => {
                for key in ["healthy", "max_restarts", "min_uptime"] {
                    let set = match key {
                        "healthy" => d.healthy.is_some(),
                        "max_restarts" => d.max_restarts.is_some(),
                        _ => d.min_uptime.is_some(),
                    };
                    if set {
                        self.error(
                            At::key(format!("{ptr}/{key}")),
                            format!("`{key}` applies to `container`, not to `count`"),
                        );
                    }
                }
                if c.min.is_none() && c.max.is_none() {
                    self.error(
                        At::key(format!("{ptr}/count")),
                        "`count` needs `min` or `max`",
                    );
                }
                if let (Some(lo), Some(hi)) = (c.min, c.max)
                    && lo > hi
                {
                    self.error(
                        At::value(format!("{ptr}/count/min")),
                        "`min` is above `max`",
                    );
                }
                DockerTarget::Count {
                    name: c.name.clone(),
                    labels: c
                        .labels
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    min: c.min,
                    max: c.max,
                }
            }
            (Some(_), Some(_)) => {
                self.error(
                    At::key(format!("{ptr}/count")),
                    "both `container` and `count` are set",
                )
                .hint = Some(
                    "a docker monitor checks one container or counts containers; split it".into(),
                );
                return None;
            }
            (None, None) => {
                self.error(At::key(ptr), "docker probe needs `container` or `count`");
                return None;
            }
        };
        Some(DockerProbe { socket, target })
    }

    pub(super) fn command(&mut self, ptr: &str, c: &raw::CommandProbe) -> Option<CommandProbe> {
        let (program, args) = match (&c.run, &c.shell) {
            (Some(run), None) => match run.split_first() {
                Some((p, rest)) if !p.is_empty() => (p.clone(), rest.to_vec()),
                _ => {
                    self.error(
                        At::value(format!("{ptr}/run")),
                        "`run` needs a program to run",
                    )
                    .hint = Some("for example `run: [check_disk, -w, \"10%\"]`".into());
                    return None;
                }
            },
            (None, Some(line)) => ("/bin/sh".to_owned(), vec!["-c".to_owned(), line.clone()]),
            (Some(_), Some(_)) => {
                self.error(
                    At::key(format!("{ptr}/shell")),
                    "both `run` and `shell` are set",
                )
                .hint = Some(
                    "`run` runs a program directly; `shell` runs a line with /bin/sh; keep one"
                        .into(),
                );
                return None;
            }
            (None, None) => {
                self.error(At::key(ptr), "command probe needs `run` or `shell`")
                    .hint = Some("for example `run: [/usr/lib/nagios/plugins/check_load]`".into());
                return None;
            }
        };
        let working_dir = c
            .working_dir
            .as_deref()
            .map_or_else(|| self.base_dir.to_path_buf(), |d| self.base_dir.join(d));
        Some(CommandProbe {
            program,
            args,
            env: c.env.clone(),
            working_dir,
        })
    }

    pub(super) fn file(&mut self, ptr: &str, f: &raw::FileProbe) -> FileProbe {
        let max_age = self.duration(&format!("{ptr}/max_age"), f.max_age.as_ref());
        let min_size = f
            .min_size
            .as_ref()
            .and_then(|s| self.size(&format!("{ptr}/min_size"), s));
        FileProbe {
            path: self.base_dir.join(&f.path),
            max_age,
            min_size,
        }
    }

    pub(super) fn system(&mut self, ptr: &str, s: &raw::SystemProbe) -> Option<SystemProbe> {
        if s.disk.is_none() && s.memory.is_none() && s.load.is_none() && s.cpu.is_none() {
            self.error(At::key(ptr), "system probe checks nothing").hint = Some(
                "add `disk`, `memory`, `load` or `cpu` with a `warning` or `critical` level".into(),
            );
            return None;
        }
        let disk = s.disk.as_ref().map(|d| {
            let levels = self.levels(&format!("{ptr}/disk"), d.warning, d.critical);
            (self.base_dir.join(d.path.as_deref().unwrap_or("/")), levels)
        });
        let memory = s
            .memory
            .as_ref()
            .map(|m| self.levels(&format!("{ptr}/memory"), m.warning, m.critical));
        let load = s.load.as_ref().map(|l| {
            (
                self.levels(&format!("{ptr}/load"), l.warning, l.critical),
                l.per_cpu.unwrap_or(false),
            )
        });
        let cpu = s
            .cpu
            .as_ref()
            .map(|c| self.levels(&format!("{ptr}/cpu"), c.warning, c.critical));
        Some(SystemProbe {
            disk,
            memory,
            load,
            cpu,
        })
    }
}
