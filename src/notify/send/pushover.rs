//! Pushover: the Messages API, a form.

use super::cut;
use crate::config::raw::Secret;
use crate::template::Message;

pub(super) fn request(
    client: &reqwest::Client,
    (api_url, token, user): (&str, &Secret, &Secret),
    msg: &Message,
) -> reqwest::RequestBuilder {
    let priority = match msg.event.as_str() {
        "down" | "reminder" => "1",
        "test" => "-1",
        _ => "0",
    };
    // Pushover's limits: title 250, message 1024 characters.
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token.expose())
        .append_pair("user", user.expose())
        .append_pair("title", &cut(&msg.title, 250))
        .append_pair("message", &cut(&msg.text, 1024))
        .append_pair("priority", priority)
        .finish();
    client
        .post(format!("{}/1/messages.json", api_url.trim_end_matches('/')))
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(form)
}
