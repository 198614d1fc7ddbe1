//! SMS through Twilio's Messages API.

use super::{cut, segment};
use crate::config::raw::Secret;
use crate::template::Message;

/// The `sms` target's settings: API URL, account SID, token, sender, recipient, length.
pub(super) type Settings<'a> = (&'a str, &'a str, &'a Secret, &'a str, &'a str, usize);

pub(super) fn request(
    client: &reqwest::Client,
    (api_url, account_sid, token, from, to, max_length): Settings<'_>,
    msg: &Message,
) -> reqwest::RequestBuilder {
    let sender = if from.starts_with("MG") {
        "MessagingServiceSid"
    } else {
        "From"
    };
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("To", to)
        .append_pair(sender, from)
        .append_pair("Body", &cut(&msg.text, max_length))
        .finish();
    client
        .post(format!(
            "{api_url}/2010-04-01/Accounts/{}/Messages.json",
            segment(account_sid)
        ))
        .basic_auth(account_sid, Some(token.expose()))
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(form)
}
