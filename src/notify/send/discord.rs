//! Discord: a webhook with one embed in the status colour.

use serde_json::json;

use super::{colour, json_body};
use crate::config::raw::Secret;
use crate::template::Message;

pub(super) fn request(
    client: &reqwest::Client,
    webhook_url: &Secret,
    msg: &Message,
) -> reqwest::RequestBuilder {
    json_body(
        client.post(webhook_url.expose()),
        &json!({
            "embeds": [ {
                "title": msg.title,
                "description": msg.text,
                "color": colour(&msg.status),
                "timestamp": msg.at,
                "footer": { "text": format!("hbmon · {}", msg.event) },
            } ],
        }),
    )
}
