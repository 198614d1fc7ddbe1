//! `webhook`: the rendered body, the configured method, content type and headers.

use reqwest::header::HeaderName;

use crate::config::raw::Secret;
use crate::template::Message;

pub(super) fn request(
    client: &reqwest::Client,
    (url, method, headers, content_type): (
        &Secret,
        &reqwest::Method,
        &[(HeaderName, Secret)],
        &str,
    ),
    msg: &Message,
) -> reqwest::RequestBuilder {
    let mut r = client
        .request(method.clone(), url.expose())
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(msg.body.clone().unwrap_or_default());
    for (k, v) in headers {
        r = r.header(k, v.expose());
    }
    r
}
