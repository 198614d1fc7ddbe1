//! Slack: an incoming webhook with Block Kit blocks.

use serde_json::json;

use super::json_body;
use crate::config::raw::Secret;
use crate::template::Message;

pub(super) fn request(
    client: &reqwest::Client,
    webhook_url: &Secret,
    (channel, username): (&Option<String>, &Option<String>),
    msg: &Message,
) -> reqwest::RequestBuilder {
    let mut body = json!({
        "text": msg.text,
        "blocks": [
            { "type": "header", "text": { "type": "plain_text", "text": msg.title } },
            { "type": "section", "text": { "type": "mrkdwn", "text": msg.text } },
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
