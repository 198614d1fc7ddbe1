//! ntfy: the text as the body, title, priority and tags as headers.

use reqwest::header::HeaderName;

use crate::config::raw::Secret;
use crate::template::Message;

pub(super) fn request(
    client: &reqwest::Client,
    (url, token, headers, priority): (&Secret, Option<&Secret>, &[(HeaderName, Secret)], &str),
    msg: &Message,
) -> reqwest::RequestBuilder {
    let (prio, tags) = match msg.event.as_str() {
        "down" | "reminder" => (priority, "rotating_light"),
        "up" => ("default", "white_check_mark"),
        "test" => ("low", "test_tube"),
        _ => ("default", "warning"),
    };
    let mut r = client
        .post(url.expose())
        .header("Title", msg.title.as_str())
        .header("Priority", prio)
        .header("Tags", tags)
        // ntfy takes 4,096 bytes of message (more becomes an attachment, or is refused).
        .body(super::cut_bytes(&msg.text, 4_096));
    if let Some(t) = token {
        r = r.bearer_auth(t.expose());
    }
    for (k, v) in headers {
        r = r.header(k, v.expose());
    }
    r
}
