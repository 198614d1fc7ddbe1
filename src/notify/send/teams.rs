//! Microsoft Teams: a workflow webhook with an Adaptive Card.

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
            "type": "message",
            "attachments": [ {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        { "type": "TextBlock", "text": msg.title, "weight": "Bolder", "size": "Medium",
                          "color": match msg.status.as_str() { "up" => "Good", "degraded" => "Warning", _ => "Attention" } },
                        { "type": "TextBlock", "text": msg.text, "wrap": true },
                        { "type": "TextBlock", "text": format!("hbmon · {} · {}", msg.event, msg.when_for_people()), "isSubtle": true, "size": "Small" },
                    ],
                },
            } ],
        }),
    )
}
