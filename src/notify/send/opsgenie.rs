//! Opsgenie Alert API.

use serde_json::json;

use super::{cut, incident_key, json_body, segment};
use crate::template::Message;

/// Opsgenie Alert API: create (down, escalated, test), acknowledge and close, the alert
/// found by its `alias`, hbmon's incident id.
pub(super) fn request(
    client: &reqwest::Client,
    (api_url, api_key, priority): (&String, &crate::config::raw::Secret, &Option<String>),
    msg: &Message,
    delivery_id: &str,
) -> reqwest::RequestBuilder {
    let alias = incident_key(msg, delivery_id, 512);
    // The notifier's own priority, else the monitor's severity.
    let priority = match (priority.as_deref(), msg.severity()) {
        (Some(p), _) => p,
        (None, "info") => "P5",
        (None, "warning") => "P3",
        (None, _) => "P1",
    };
    let auth = format!("GenieKey {}", api_key.expose());
    let action = |what: &str, user: &str| {
        json_body(
            client
                .post(format!(
                    "{api_url}/v2/alerts/{}/{what}?identifierType=alias",
                    segment(&alias)
                ))
                .header(reqwest::header::AUTHORIZATION, auth.as_str()),
            &json!({ "user": cut(user, 100), "source": "hbmon", "note": cut(&msg.text, 25_000) }),
        )
    };
    match msg.event.as_str() {
        "acknowledged" => action("acknowledge", msg.ack_by.as_deref().unwrap_or("hbmon")),
        "up" => action("close", "hbmon"),
        _ => json_body(
            client
                .post(format!("{api_url}/v2/alerts"))
                .header(reqwest::header::AUTHORIZATION, auth.as_str()),
            &json!({
                "message": cut(&msg.title, 130),
                "alias": alias,
                "description": cut(&msg.text, 15_000),
                "priority": if msg.event == "test" { "P5" } else { priority },
                "source": "hbmon",
                "entity": cut(&msg.monitor, 512),
                "tags": ["hbmon"],
                "details": { "event": msg.event, "status": msg.status, "severity": msg.severity() },
            }),
        ),
    }
}
