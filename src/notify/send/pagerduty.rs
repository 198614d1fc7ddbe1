//! PagerDuty Events API v2.

use serde_json::json;

use super::{cut, incident_key, json_body};
use crate::template::Message;

/// PagerDuty Events API v2: trigger (down, escalated, test), acknowledge, resolve, all
/// with hbmon's incident id as the `dedup_key`.
pub(super) fn request(
    client: &reqwest::Client,
    api_url: &str,
    routing_key: &crate::config::raw::Secret,
    msg: &Message,
    delivery_id: &str,
) -> reqwest::RequestBuilder {
    let dedup_key = incident_key(msg, delivery_id, 255);
    let body = match msg.event.as_str() {
        "acknowledged" | "up" => json!({
            "routing_key": routing_key.expose(),
            "event_action": if msg.event == "up" { "resolve" } else { "acknowledge" },
            "dedup_key": dedup_key,
        }),
        _ => json!({
            "routing_key": routing_key.expose(),
            "event_action": "trigger",
            "dedup_key": dedup_key,
            "client": "hbmon",
            "payload": {
                "summary": cut(&msg.text, 1024),
                "source": msg.monitor,
                "component": msg.monitor,
                // PagerDuty's levels are critical, error, warning and info.
                "severity": match (msg.event.as_str(), msg.severity()) {
                    ("test", _) | (_, "info") => "info",
                    (_, "warning") => "warning",
                    _ => "critical",
                },
                "timestamp": msg.at,
                "custom_details": { "event": msg.event, "status": msg.status, "title": msg.title },
            },
        }),
    };
    json_body(client.post(format!("{api_url}/v2/enqueue")), &body)
}
