//! Badges: `/badge/<monitor>.svg` (its state), `/badge/<monitor>/uptime-24h.svg` (also
//! `-7d`, `-30d`), `/badge/<monitor>/response.svg` (the mean response time of the
//! results the page draws), each also as a shields.io endpoint document (`.json`).
//! Cacheable for a minute; served without basic auth when the page is `public`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::read::{listed, unauthorized};
use super::{Peer, Shared, error};
use crate::report::palette;
use crate::status::Status;

/// What a badge shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    State,
    Uptime(&'static str),
    Response,
}

/// `<monitor>[/<what>].(svg|json)` → (monitor, what, svg?).
fn parse(path: &str) -> Option<(&str, What, bool)> {
    let (rest, svg) = match (path.strip_suffix(".svg"), path.strip_suffix(".json")) {
        (Some(r), _) => (r, true),
        (None, Some(r)) => (r, false),
        (None, None) => return None,
    };
    let (monitor, what) = match rest.split_once('/') {
        None => (rest, What::State),
        Some((m, "status")) => (m, What::State),
        Some((m, "uptime-24h")) => (m, What::Uptime("24h")),
        Some((m, "uptime-7d")) => (m, What::Uptime("7d")),
        Some((m, "uptime-30d")) => (m, What::Uptime("30d")),
        Some((m, "response")) => (m, What::Response),
        Some(_) => return None,
    };
    (!monitor.is_empty()).then_some((monitor, what, svg))
}

/// The badge's label, text and colour name (a palette entry).
fn face(
    monitor: &str,
    what: What,
    doc: &serde_json::Value,
    mean: Option<Duration>,
) -> (String, String, &'static str) {
    let m = doc["monitors"]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["name"] == monitor));
    match what {
        What::State => {
            let state = m.and_then(|m| m["shown"].as_str()).unwrap_or("unknown");
            let colour = palette::STATES
                .into_iter()
                .find(|s| *s == state)
                .unwrap_or("unknown");
            (monitor.to_owned(), state.to_owned(), colour)
        }
        What::Uptime(window) => {
            let label = format!("{monitor} {window}");
            match m.and_then(|m| m["uptime_percent"][window].as_f64()) {
                Some(v) => {
                    let colour = if v >= 99.9 {
                        "up"
                    } else if v >= 99.0 {
                        "degraded"
                    } else {
                        "down"
                    };
                    (label, format!("{v:.2}%"), colour)
                }
                None => (label, "no data".into(), "unknown"),
            }
        }
        What::Response => {
            let label = format!("{monitor} response");
            match mean {
                Some(d) => (label, crate::humanize::latency(d), "link"),
                None => (label, "no data".into(), "unknown"),
            }
        }
    }
}

/// Roughly how wide Verdana 11 px draws `text` (what shields.io's badges use).
fn text_width(text: &str) -> u32 {
    text.chars()
        .map(|c| match c {
            'i' | 'l' | '.' | ',' | ':' | '|' | '!' | '\'' => 4,
            'm' | 'w' | 'M' | 'W' | '%' => 10,
            c if c.is_ascii_uppercase() || c.is_ascii_digit() => 8,
            _ => 7,
        })
        .sum()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A flat badge in the style of shields.io.
fn svg(label: &str, value: &str, colour: &str) -> String {
    let lw = text_width(label) + 10;
    let vw = text_width(value) + 10;
    let w = lw + vw;
    let (label, value) = (escape(label), escape(value));
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{label}: {value}"><title>{label}: {value}</title><clipPath id="r"><rect width="{w}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{vw}" height="20" fill="{colour}"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="{lx}" y="14">{label}</text><text x="{vx}" y="14">{value}</text></g></svg>"##,
        lx = lw / 2,
        vx = lw + vw / 2,
    )
}

pub(super) async fn badge(
    State(shared): State<Arc<Shared>>,
    Peer(peer): Peer,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (monitors, page) = listed(&shared);
    if !page.public
        && let Some(r) = unauthorized(&shared, peer, &headers)
    {
        return r;
    }
    let Some((name, what, as_svg)) = parse(&path) else {
        return error(
            StatusCode::NOT_FOUND,
            "no such badge: /badge/<monitor>.svg, /badge/<monitor>/uptime-24h.svg (7d, 30d), /badge/<monitor>/response.svg, or .json for shields.io",
        );
    };
    let Some(listed) = monitors.into_iter().find(|l| l.name == name) else {
        return error(StatusCode::NOT_FOUND, "no monitor with this name");
    };
    let db = shared.db.clone();
    let silent_after = *shared
        .silent_after
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let history = page.history;
    let public = page.public;
    let read = tokio::task::spawn_blocking(move || {
        let store = crate::store::Store::open_read(&db)?;
        let now = SystemTime::now();
        let doc = crate::report::page::status(
            std::slice::from_ref(&listed),
            public,
            &store,
            now,
            silent_after,
        )?;
        let mean = if what == What::Response && crate::report::page::responds(listed.kind) {
            let answered: Vec<Duration> = store
                .observations(&listed.name, history)?
                .into_iter()
                .filter(|o| matches!(o.status, Status::Up | Status::Degraded))
                .map(|o| o.latency)
                .collect();
            // A heartbeat that never `/start`s has no run time to show.
            let answered = if answered.iter().all(Duration::is_zero) {
                Vec::new()
            } else {
                answered
            };
            u32::try_from(answered.len())
                .ok()
                .filter(|n| *n > 0)
                .map(|n| answered.iter().sum::<Duration>() / n)
        } else {
            None
        };
        Ok::<_, crate::error::Error>((doc, mean))
    })
    .await;
    let (doc, mean) = match read {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        Err(_) => return error(StatusCode::INTERNAL_SERVER_ERROR, "badge failed"),
    };
    let (label, value, colour) = face(name, what, &doc, mean);
    let colour = palette::light(colour);
    let mut response = if as_svg {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
            svg(&label, &value, colour),
        )
            .into_response()
    } else {
        axum::Json(json!({
            "schemaVersion": 1,
            "label": label,
            "message": value,
            "color": colour.trim_start_matches('#'),
            "cacheSeconds": 300,
        }))
        .into_response()
    };
    let cache = if public {
        "public, max-age=60"
    } else {
        "private, max-age=60"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badge_paths_name_a_monitor_and_what_to_show() {
        assert_eq!(parse("api.svg"), Some(("api", What::State, true)));
        assert_eq!(parse("db.main.json"), Some(("db.main", What::State, false)));
        assert_eq!(
            parse("api/uptime-7d.svg"),
            Some(("api", What::Uptime("7d"), true))
        );
        assert_eq!(
            parse("api/response.json"),
            Some(("api", What::Response, false))
        );
        assert_eq!(parse("api/uptime-1y.svg"), None);
        assert_eq!(parse("api.png"), None);
        assert_eq!(parse(".svg"), None);
    }

    #[test]
    fn a_badge_is_well_formed_svg_with_its_text_escaped() {
        let s = svg("a<b", "99.00%", "#1a7f37");
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains("a&lt;b") && !s.contains("a<b"));
        assert!(s.contains(r##"fill="#1a7f37""##));
    }
}
