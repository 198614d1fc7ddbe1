//! Telegram: the Bot API's `sendMessage`, in MarkdownV2.

use serde_json::json;

use super::json_body;
use crate::config::raw::Secret;
use crate::template::{Message, markdown_escape};

pub(super) fn request(
    client: &reqwest::Client,
    (api_url, bot_token, chat_id): (&str, &Secret, &str),
    msg: &Message,
) -> reqwest::RequestBuilder {
    let url = format!(
        "{}/bot{}/sendMessage",
        api_url.trim_end_matches('/'),
        bot_token.expose()
    );
    json_body(
        client.post(url),
        &json!({
            "chat_id": chat_id,
            "text": format!("*{}*\n{}", markdown_escape(&msg.title), markdown_escape(&msg.text)),
            "parse_mode": "MarkdownV2",
        }),
    )
}
