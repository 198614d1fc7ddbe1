//! Checked values shared by several kinds: levels, latencies, durations, sizes, TLS
//! settings, HTTP checks, secrets.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use reqwest::header::HeaderName;

use crate::config::diag::At;
use crate::config::raw::{self, DurationStr, Secret, SizeStr};

use super::{Builder, DEFAULT_CERT_EXPIRY_WARNING, read_secret_file};
use crate::model::{
    CertExpiry, ClientIdentity, HeaderCheck, JsonCheck, JsonWant, Latency, Levels, MIN_INTERVAL,
    StatusRange, TlsCheck,
};

impl Builder<'_> {
    pub(super) fn levels(
        &mut self,
        ptr: &str,
        warning: Option<f64>,
        critical: Option<f64>,
    ) -> Levels {
        match (warning, critical) {
            (None, None) => {
                self.error(At::key(ptr), "no `warning` or `critical` level is set");
            }
            (Some(w), Some(c)) if w > c => {
                self.error(
                    At::value(format!("{ptr}/warning")),
                    "warning level is above the critical level",
                );
            }
            _ => {}
        }
        Levels { warning, critical }
    }

    pub(super) fn latency(
        &mut self,
        ptr: &str,
        w: Option<&DurationStr>,
        c: Option<&DurationStr>,
    ) -> Latency {
        self.latency_levels(ptr, ["latency_warning", "latency_critical"], [w, c])
    }

    /// Warning and critical durations under the keys `names`; warning < critical.
    pub(super) fn latency_levels(
        &mut self,
        ptr: &str,
        names: [&str; 2],
        [w, c]: [Option<&DurationStr>; 2],
    ) -> Latency {
        let [wn, cn] = names;
        let warning = self.duration(&format!("{ptr}/{wn}"), w);
        let critical = self.duration(&format!("{ptr}/{cn}"), c);
        if let (Some(w), Some(c)) = (warning, critical)
            && w >= c
        {
            self.error(
                At::value(format!("{ptr}/{wn}")),
                format!("{wn} must be shorter than {cn}"),
            );
        }
        Latency { warning, critical }
    }

    /// A probe interval: a duration of at least [`MIN_INTERVAL`].
    pub(super) fn interval(&mut self, ptr: &str, d: Option<&DurationStr>) -> Option<Duration> {
        let v = self.duration(ptr, d)?;
        if v < MIN_INTERVAL {
            self.error(
                At::value(ptr),
                "interval shorter than 10ms: a monitor is probed at most 100 times a second",
            );
            return None;
        }
        Some(v)
    }

    pub(super) fn duration(&mut self, ptr: &str, d: Option<&DurationStr>) -> Option<Duration> {
        let d = d?;
        match crate::units::parse_duration(&d.0) {
            Ok(v) => Some(v),
            Err(e @ crate::units::DurationError::Invalid) => {
                // The text is not quoted back: it may come from a secret.
                self.error(At::value(ptr), e.to_string()).hint =
                    Some("for example `30s`, `5m` or `1h30m`".into());
                None
            }
            Err(e) => {
                self.error(At::value(ptr), e.to_string());
                None
            }
        }
    }

    /// A duration where zero means "none" (`jitter: 0s`).
    pub(super) fn duration_or_zero(
        &mut self,
        ptr: &str,
        d: Option<&DurationStr>,
    ) -> Option<Duration> {
        match crate::units::parse_duration(&d?.0) {
            Err(crate::units::DurationError::Zero) => Some(Duration::ZERO),
            _ => self.duration(ptr, d),
        }
    }

    pub(super) fn size(&mut self, ptr: &str, s: &SizeStr) -> Option<u64> {
        if let Ok(v) = s.0.trim().parse::<bytesize::ByteSize>() {
            // bytesize saturates: `20000000000000000000B` would read as 16 EiB.
            if v.as_u64() == u64::MAX {
                self.error(At::value(ptr), "size too large");
                return None;
            }
            Some(v.as_u64())
        } else {
            self.error(At::value(ptr), "invalid size").hint =
                Some("for example `512`, `10KiB` or `1.5GB`".into());
            None
        }
    }

    /// `verify_tls`, `ca_file` and the expiry thresholds `[warning, critical]`.
    pub(super) fn tls_check(
        &mut self,
        ptr: &str,
        verify: Option<bool>,
        ca_file: Option<&str>,
        [warning, critical]: [Option<&DurationStr>; 2],
    ) -> TlsCheck {
        let ca_certs = ca_file.and_then(|f| self.ca_file(&format!("{ptr}/ca_file"), f));
        let warning = self.duration(&format!("{ptr}/cert_expiry_warning"), warning);
        let critical = self.duration(&format!("{ptr}/cert_expiry_critical"), critical);
        if let (Some(w), Some(c)) = (warning, critical)
            && w < c
        {
            self.error(
                At::value(format!("{ptr}/cert_expiry_warning")),
                "cert_expiry_warning must be at least cert_expiry_critical",
            );
        }
        TlsCheck {
            verify: verify.unwrap_or(true),
            ca_certs,
            client_identity: None,
            expiry: CertExpiry {
                warning: warning
                    .unwrap_or(DEFAULT_CERT_EXPIRY_WARNING)
                    .max(critical.unwrap_or_default()),
                critical,
            },
        }
    }

    pub(super) fn header_checks(
        &mut self,
        ptr: &str,
        e: &raw::HttpExpect,
    ) -> Vec<(HeaderName, HeaderCheck)> {
        let mut out = Vec::new();
        let all = e
            .headers
            .iter()
            .map(|(n, v)| ("headers", n, v))
            .chain(e.header_regex.iter().map(|(n, v)| ("header_regex", n, v)));
        for (key, name, value) in all {
            let p = format!("{ptr}/{key}/{}", crate::config::spans::escape(name));
            let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
                self.error(
                    At::key(&p),
                    format!("`{name}` is not a valid HTTP header name"),
                );
                continue;
            };
            let check = if key == "headers" {
                HeaderCheck::Equals(value.clone())
            } else {
                match regex::Regex::new(value) {
                    Ok(re) => HeaderCheck::Matches(re),
                    Err(e) => {
                        self.error(At::value(&p), format!("invalid regular expression: {e}"));
                        continue;
                    }
                }
            };
            out.push((header, check));
        }
        out
    }

    pub(super) fn json_checks(
        &mut self,
        ptr: &str,
        checks: &[raw::JsonAssertion],
    ) -> Vec<JsonCheck> {
        let mut out = Vec::new();
        for (i, c) in checks.iter().enumerate() {
            let path = match serde_json_path::JsonPath::parse(&c.path) {
                Ok(p) => p,
                Err(e) => {
                    self.error(
                        At::value(format!("{ptr}/{i}/path")),
                        format!("invalid JSONPath: {e}"),
                    )
                    .hint = Some("for example `$.status` or `$.checks[0].ok`".into());
                    continue;
                }
            };
            let want = match (&c.equals, c.exists) {
                (Some(_), Some(false)) => {
                    self.error(
                        At::key(format!("{ptr}/{i}/exists")),
                        "`equals` with `exists: false` can never hold",
                    );
                    continue;
                }
                (Some(v), _) => JsonWant::Equals(v.clone()),
                (None, exists) => JsonWant::Exists(exists.unwrap_or(true)),
            };
            out.push(JsonCheck {
                path,
                text: c.path.clone(),
                want,
            });
        }
        out
    }

    pub(super) fn status(&mut self, ptr: &str, s: &raw::StatusCode) -> Option<StatusRange> {
        let (codes, label) = match s {
            raw::StatusCode::Code(c) => (*c..=*c, c.to_string()),
            raw::StatusCode::Pattern(p) => {
                let codes = if let Some(class) = p.strip_suffix("xx") {
                    class.parse::<u16>().ok().map(|c| c * 100..=c * 100 + 99)
                } else {
                    p.split_once('-')
                        .and_then(|(a, b)| Some(a.parse::<u16>().ok()?..=b.parse::<u16>().ok()?))
                };
                match codes {
                    Some(r) if !r.is_empty() => (r, p.clone()),
                    _ => {
                        self.error(At::value(ptr), "invalid status range").hint = Some(
                            "write a code (`200`), a class (`\"2xx\"`) or a range (`\"200-299\"`)"
                                .into(),
                        );
                        return None;
                    }
                }
            }
        };
        Some(StatusRange { codes, label })
    }

    /// A proxy URL; messages never quote it (it may hold credentials).
    pub(super) fn proxy(&mut self, ptr: &str, proxy: Option<&Secret>) -> Option<Secret> {
        let proxy = proxy?;
        match url::Url::parse(proxy.expose()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Some(proxy.clone()),
            Ok(_) => {
                self.error(At::value(ptr), "proxy URL must be http:// or https://");
                None
            }
            Err(e) => {
                self.error(At::value(ptr), format!("invalid proxy URL: {e}"));
                None
            }
        }
    }

    /// `client_cert_file` and `client_key_file`, both or neither.
    pub(super) fn client_identity(
        &mut self,
        ptr: &str,
        cert: Option<&str>,
        key: Option<&str>,
    ) -> Option<Arc<ClientIdentity>> {
        use rustls::pki_types::PrivateKeyDer;
        let (cert, key) = match (cert, key) {
            (None, None) => return None,
            (Some(c), Some(k)) => (c, k),
            (Some(_), None) | (None, Some(_)) => {
                self.error(
                    At::key(ptr),
                    "`client_cert_file` and `client_key_file` go together",
                );
                return None;
            }
        };
        let chain = self.ca_file(&format!("{ptr}/client_cert_file"), cert)?;
        let key_path = self.base_dir.join(key);
        match PrivateKeyDer::from_pem_file(&key_path) {
            Ok(key) => Some(Arc::new(ClientIdentity {
                chain: chain.as_ref().clone(),
                key,
            })),
            Err(e) => {
                self.error(
                    At::value(format!("{ptr}/client_key_file")),
                    format!(
                        "cannot read a private key from `{}`: {e}",
                        key_path.display()
                    ),
                );
                None
            }
        }
    }

    /// CA certificates from a PEM file; unreadable or certificate-free files are errors.
    pub(super) fn ca_file(
        &mut self,
        ptr: &str,
        file: &str,
    ) -> Option<Arc<Vec<CertificateDer<'static>>>> {
        let path = self.base_dir.join(file);
        let certs: Result<Vec<_>, _> = match CertificateDer::pem_file_iter(&path) {
            Ok(iter) => iter.collect(),
            Err(e) => Err(e),
        };
        match certs {
            Ok(certs) if !certs.is_empty() => Some(Arc::new(certs)),
            Ok(_) => {
                self.error(
                    At::value(ptr),
                    format!("`{}` holds no PEM certificate", path.display()),
                );
                None
            }
            Err(e) => {
                self.error(
                    At::value(ptr),
                    format!("cannot read CA certificates from `{}`: {e}", path.display()),
                );
                None
            }
        }
    }

    /// A secret given inline or as `<key>_file`; reading the file happens here, so an
    /// unreadable secret is a configuration error, not a failure at 3 a.m.
    pub(super) fn secret(
        &mut self,
        ptr: &str,
        key: &str,
        inline: Option<&Secret>,
        file: Option<&str>,
    ) -> Option<Secret> {
        match (inline, file) {
            (Some(_), Some(_)) => {
                self.error(
                    At::key(format!("{ptr}/{key}_file")),
                    format!("both `{key}` and `{key}_file` are set"),
                );
                None
            }
            (Some(s), None) => Some(s.clone()),
            (None, Some(f)) => {
                let path = self.base_dir.join(f);
                match read_secret_file(&path) {
                    Ok(text) => {
                        let value = text.trim_end_matches(['\n', '\r']);
                        if value.contains(['\n', '\r', '\0']) {
                            self.error(
                                At::value(format!("{ptr}/{key}_file")),
                                format!(
                                    "`{}` holds more than one line (or a NUL byte): a secret file holds one value",
                                    path.display()
                                ),
                            );
                            None
                        } else if value.is_empty() {
                            self.error(
                                At::value(format!("{ptr}/{key}_file")),
                                format!("`{}` is empty", path.display()),
                            );
                            None
                        } else {
                            Some(Secret::new(value.to_owned()))
                        }
                    }
                    Err(e) => {
                        self.error(
                            At::value(format!("{ptr}/{key}_file")),
                            format!("cannot read `{}`: {e}", path.display()),
                        );
                        None
                    }
                }
            }
            (None, None) => None,
        }
    }
}

/// The hint for an unknown time zone: the closest IANA name, or how one looks.
pub(super) fn time_zone_hint(given: &str) -> String {
    let best = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| (strsim::jaro_winkler(given, tz.name()), tz.name()))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, name)) => format!("did you mean `{name}`?"),
        None => "use an IANA name such as `Europe/Berlin` or `UTC`".into(),
    }
}
