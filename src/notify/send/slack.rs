//! Slack: an incoming webhook with Block Kit blocks.

use serde_json::json;

use super::json_body;
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
            "text": msg.text,
            "blocks": [
                { "type": "header", "text": { "type": "plain_text", "text": msg.title } },
                { "type": "section", "text": { "type": "mrkdwn", "text": msg.text } },
                { "type": "context", "elements": [ { "type": "mrkdwn", "text": format!("hbmon · {} · {}", msg.event, msg.when_for_people()) } ] },
            ],
        }),
    )
}
