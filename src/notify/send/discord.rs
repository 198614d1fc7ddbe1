//! Discord: a webhook with one embed in the status colour, its facts as fields.

use serde_json::json;

use super::{colour, cut, json_body};
use crate::config::raw::Secret;
use crate::template::Message;

pub(super) fn request(
    client: &reqwest::Client,
    webhook_url: &Secret,
    username: Option<&str>,
    msg: &Message,
) -> reqwest::RequestBuilder {
    // Discord refuses a field whose value is empty.
    let field = |name: &str, value: &str, inline: bool| json!({ "name": name, "value": if value.is_empty() { "-" } else { value }, "inline": inline });
    // Discord's limits: a title of 256 characters, a description of 4,096.
    let mut body = json!({
        "embeds": [ {
            "title": cut(&msg.title, 256),
            "description": cut(&msg.text, 4_096),
            "color": colour(&msg.status),
            "fields": [
                field("Monitor", &msg.monitor, true),
                field("Status", &msg.status, true),
                field("Severity", msg.severity(), true),
                field("When", msg.when_for_people(), false),
            ],
            "timestamp": msg.at,
            "footer": { "text": format!("hbmon · {}", msg.event) },
        } ],
    });
    if let Some(u) = username {
        body["username"] = json!(u);
    }
    json_body(client.post(webhook_url.expose()), &body)
}
