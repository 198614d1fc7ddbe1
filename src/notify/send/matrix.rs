//! Matrix: an `m.room.message` through the client-server API.

use serde_json::json;

use super::{json_body, segment};
use crate::config::raw::Secret;
use crate::template::Message;

pub(super) fn request(
    client: &reqwest::Client,
    (homeserver, room_id, token): (&Secret, &str, &Secret),
    msg: &Message,
    delivery_id: &str,
) -> reqwest::RequestBuilder {
    let esc = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    // The transaction id is the delivery id: a retried send is the same event to
    // the homeserver, never a second message.
    let url = format!(
        "{}/_matrix/client/v3/rooms/{}/send/m.room.message/{}",
        homeserver.expose().trim_end_matches('/'),
        segment(room_id),
        segment(delivery_id)
    );
    json_body(
        client.put(url).bearer_auth(token.expose()),
        &json!({
            "msgtype": "m.text",
            "body": format!("{}\n{}", msg.title, msg.text),
            "format": "org.matrix.custom.html",
            "formatted_body": format!("<strong>{}</strong><br>{}", esc(&msg.title), esc(&msg.text).replace('\n', "<br>")),
        }),
    )
}
