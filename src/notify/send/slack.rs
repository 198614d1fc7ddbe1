//! Slack: an incoming webhook with Block Kit blocks.

use serde_json::json;

use super::{cut, json_body};
use crate::config::raw::Secret;
use crate::template::Message;

pub(super) fn request(
    client: &reqwest::Client,
    webhook_url: &Secret,
    (channel, username): (&Option<String>, &Option<String>),
    msg: &Message,
) -> reqwest::RequestBuilder {
    // Slack refuses a header over 150 characters and a section over 3,000 (a long
    // message, such as a diagnosis's output, is cut there; `text` keeps up to 40,000).
    let mut body = json!({
        "text": cut(&msg.text, 40_000),
        "blocks": [
            { "type": "header", "text": { "type": "plain_text", "text": cut(&msg.title, 150) } },
            { "type": "section", "text": { "type": "mrkdwn", "text": cut(&msg.text, 3_000) } },
            { "type": "context", "elements": [ { "type": "mrkdwn", "text": format!("hbmon · {} · {}", msg.event, msg.when_for_people()) } ] },
        ],
    });
    if let Some(c) = channel {
        body["channel"] = json!(c);
    }
    if let Some(u) = username {
        body["username"] = json!(u);
    }
    json_body(client.post(webhook_url.expose()), &body)
}
