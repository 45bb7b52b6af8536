//! Cloud answers as coded errors: HTTP statuses and transport failures of Keystone and Glance
//! become `{code, text, explanation, recovery}` (401, 403, 409, 413, 415, 5xx, dropped connections).

use crate::error::{code, Error};
use reqwest::StatusCode;

/// The short message of an error body: Keystone's JSON `error.message`, Glance's JSON or HTML
/// text with tags and the repeated status line dropped; at most 300 characters.
pub fn body_message(body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        for p in ["/error/message", "/message", "/badRequest/message", "/error"] {
            if let Some(m) = v.pointer(p).and_then(|m| m.as_str()) {
                return clip(m);
            }
        }
    }
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let mut joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // Glance's HTML repeats the status line ("413 Request Entity Too Large") as title and heading.
    if let Some(title) = body.split("<title>").nth(1).and_then(|t| t.split("</title>").next()) {
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        if !title.is_empty() && joined != title {
            joined = joined.replace(&title, " ").split_whitespace().collect::<Vec<_>>().join(" ");
        }
    }
    clip(&joined)
}

fn clip(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(299).collect::<String>())
    } else {
        s.to_string()
    }
}

fn with_message(text: String, message: &str) -> String {
    if message.is_empty() {
        text
    } else {
        format!("{text}: {message}")
    }
}

/// An HTTP status other than success from `service` (Keystone, Glance) while `doing` something
/// for target `target`.
pub fn status_error(service: &str, target: &str, doing: &str, status: StatusCode, body: &str) -> Error {
    let message = body_message(body);
    let n = status.as_u16();
    let head = format!("{service} of target \"{target}\" answered {n} while {doing}");
    match n {
        401 => Error::new(
            code::AUTH_FAILED,
            with_message(format!("{service} of target \"{target}\" refused the credentials while {doing} (HTTP 401)"), &message),
            "The user name, password, domain or project is wrong, the application credential was revoked or expired, or the token ran out.",
            "Check the target's settings and password (`imagesmith-cli target test NAME`); if the password changed, enter the new one.",
        ),
        403 => Error::new(
            code::FORBIDDEN,
            with_message(format!("{service} of target \"{target}\" did not allow {doing} (HTTP 403)"), &message),
            "The cloud's policy does not let this user do this in this project: publishing public or community images often needs an admin role, a protected image cannot be deleted, some property names are reserved.",
            "Publish as private or shared, unprotect the image in the cloud first, or ask the cloud's administrator for the role.",
        ),
        409 => Error::new(
            code::REMOTE_CONFLICT,
            with_message(format!("{head} (conflict)"), &message),
            "The image is not in a state that allows this (already uploaded, being deleted), or a value conflicts with another image.",
            "Refresh the publication's status; publish again to get a new image if this one is stuck.",
        ),
        413 => Error::new(
            code::TOO_LARGE,
            with_message(format!("{service} of target \"{target}\" refused the image as too large while {doing} (HTTP 413)"), &message),
            "The image is larger than the cloud accepts (its image size cap) or the project's image storage quota is used up.",
            "Delete images you no longer need in that project, ask the cloud's administrator for more quota, or publish a smaller image (qcow2 instead of raw).",
        ),
        415 => Error::new(
            code::FORMAT_MISMATCH,
            with_message(format!("{service} of target \"{target}\" refused the data: it does not match the declared disk format (HTTP 415)"), &message),
            "Glance inspects the uploaded bytes and refuses them when they are not in the disk format the image was created with.",
            "Publish with the disk format the image really has (`imagesmith-cli show` lists it), or choose another one with --disk-format to have Imagesmith convert it.",
        ),
        500..=599 => Error::new(
            code::REMOTE_UNAVAILABLE,
            with_message(format!("{head} (server error)"), &message),
            "The cloud's service failed or is overloaded; nothing in your request is known to be wrong.",
            "Try again in a while; if it keeps failing, tell the cloud's operators (the message above helps them).",
        ),
        _ => Error::new(
            code::REMOTE_FAILED,
            with_message(head, &message),
            "The cloud did not accept the request: a value such as a format, a property or min disk/RAM was refused, or the URL does not point at the service.",
            "Check the named value and the target's URLs, then try again.",
        ),
    }
}

fn chain_mentions(e: &dyn std::error::Error, words: &[&str]) -> bool {
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string().to_ascii_lowercase();
        if words.iter().any(|w| s.contains(w)) {
            return true;
        }
        cur = err.source();
    }
    false
}

/// The innermost cause, for the error text (reqwest's top-level message names only the URL).
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// A request that got no HTTP answer: could not connect, TLS refused, timed out, or dropped.
pub fn transport_error(service: &str, target: &str, url: &str, doing: &str, e: &reqwest::Error) -> Error {
    let cause = root_cause(e);
    if chain_mentions(e, &["certificate", "tls", "handshake", "invalid peer"]) {
        return Error::new(
            code::TLS_FAILED,
            format!("The TLS connection to {service} of target \"{target}\" at {url} failed while {doing}: {cause}."),
            "Its certificate is not trusted by this computer (self-signed, private CA, expired) or names another host. Imagesmith always verifies certificates.",
            "Install the cloud's CA certificate in the system trust store (or point SSL_CERT_FILE at it), and use the host name the certificate names.",
        );
    }
    if e.is_connect() {
        return Error::new(
            code::CONNECTION_FAILED,
            format!("Could not connect to {service} of target \"{target}\" at {url} while {doing}: {cause}."),
            "The address or port is wrong, the service is down, or a firewall or proxy is in the way.",
            "Check the target's URL (`imagesmith-cli target list`) and that the cloud is reachable from this computer, then try again.",
        );
    }
    if e.is_timeout() {
        return Error::new(
            code::REMOTE_UNAVAILABLE,
            format!("{service} of target \"{target}\" did not answer in time while {doing}."),
            "The service is overloaded or the network is very slow.",
            "Try again later.",
        );
    }
    Error::new(
        code::REMOTE_UNAVAILABLE,
        format!("The connection to {service} of target \"{target}\" dropped while {doing}: {cause}."),
        "The server closed the connection or the network failed before the answer arrived.",
        "Try again; if it keeps dropping, check the network and tell the cloud's operators.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glance_html_keystone_json_and_plain_bodies_give_their_message() {
        let html = "<html>\n <head>\n  <title>413 Request Entity Too Large</title>\n </head>\n <body>\n  <h1>413 Request Entity Too Large</h1>\n  Image exceeds the storage quota.<br /><br />\n </body>\n</html>";
        assert_eq!(body_message(html), "Image exceeds the storage quota.");
        let ks = r#"{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}"#;
        assert_eq!(body_message(ks), "The request you have made requires authentication.");
        assert_eq!(body_message("  plain\n text "), "plain text");
        assert_eq!(body_message(&"x".repeat(400)).chars().count(), 300);
    }

    #[test]
    fn statuses_map_to_their_codes() {
        let cases = [
            (401, code::AUTH_FAILED),
            (403, code::FORBIDDEN),
            (409, code::REMOTE_CONFLICT),
            (413, code::TOO_LARGE),
            (415, code::FORMAT_MISMATCH),
            (503, code::REMOTE_UNAVAILABLE),
            (400, code::REMOTE_FAILED),
        ];
        for (status, want) in cases {
            let e = status_error("Glance", "lab", "uploading the image", StatusCode::from_u16(status).unwrap(), "");
            assert_eq!(e.code, want, "{status}");
            assert!(!e.explanation.is_empty() && !e.recovery.is_empty());
        }
    }
}
