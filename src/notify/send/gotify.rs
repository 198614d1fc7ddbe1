//! Gotify: `POST /message` with the application token.

use serde_json::json;

use super::json_body;
use crate::config::raw::Secret;
use crate::template::Message;

pub(super) fn request(
    client: &reqwest::Client,
    url: &Secret,
    token: &Secret,
    msg: &Message,
) -> reqwest::RequestBuilder {
    json_body(
        client
            .post(format!("{}/message", url.expose().trim_end_matches('/')))
            .header("X-Gotify-Key", token.expose()),
        &json!({
            "title": msg.title,
            "message": msg.text,
            "priority": match msg.event.as_str() { "down" | "reminder" => 8, "test" => 2, _ => 5 },
        }),
    )
}
