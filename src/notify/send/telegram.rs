//! Telegram: the Bot API's `sendMessage`, in MarkdownV2.

use serde_json::json;

use super::{cut, json_body};
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
            // At most 4,096 characters once the markup is parsed: cut before escaping.
            "text": format!("*{}*\n{}", markdown_escape(&cut(&msg.title, 200)), markdown_escape(&cut(&msg.text, 3_800))),
            "parse_mode": "MarkdownV2",
        }),
    )
}
