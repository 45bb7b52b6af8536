//! OpenStack over HTTP: a Keystone v3 token and the image endpoint from its service catalog, then
//! the Glance image API v2 calls a publish needs. Tokens and secrets are never logged or printed.

use super::http_errors::{status_error, transport_error};
use super::{AuthMethod, Target, TargetCheck};
use crate::error::{code, Error, Result};
use crate::http::{client_error, one_thread_runtime, CONNECT_TIMEOUT, USER_AGENT};
use crate::logging::{SendLogged, SendLoggedAsync};
use crate::secrets::Secret;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Time for one small request (token, image record, status); uploads have none, they end on cancel.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// A token this close to expiry is renewed before the next image.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);

/// An image as Glance describes it (the fields a publish looks at).
#[derive(Debug, Clone, Deserialize)]
pub struct RemoteImage {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub status: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub checksum: Option<String>,
    #[serde(default)]
    pub os_hash_algo: Option<String>,
    #[serde(default)]
    pub os_hash_value: Option<String>,
    #[serde(default)]
    pub protected: bool,
}

/// Formats this Glance accepts (from its image schema).
#[derive(Debug, Clone, Default)]
pub struct Formats {
    pub disk: Vec<String>,
    pub container: Vec<String>,
}

/// A signed-in connection to one target's Glance.
pub struct Session {
    http: Client,
    target: Target,
    secret: Option<Secret>,
    token: Option<Secret>,
    renew_at: Option<Instant>,
    /// Glance's base URL, without the API version (`http://host:9292`).
    pub image_url: String,
    pub check: TargetCheck,
}

fn client(timeout: Option<Duration>) -> Result<Client> {
    Client::builder().connect_timeout(CONNECT_TIMEOUT).timeout(timeout).user_agent(USER_AGENT).build().map_err(client_error)
}

fn trim_url(url: &str) -> String {
    url.trim().trim_end_matches('/').to_string()
}

/// Glance's base URL from an endpoint that may name the API version (`…/v2`, `…/v2.0`).
fn glance_base(url: &str) -> String {
    let url = trim_url(url);
    match url.rsplit_once('/') {
        Some((base, last))
            if last.starts_with('v') && last[1..].chars().all(|c| c.is_ascii_digit() || c == '.') && !last[1..].is_empty() =>
        {
            base.to_string()
        }
        _ => url,
    }
}

/// Keystone's v3 root from what the user typed (`http://host:5000`, `…/v3`, `…/v3/`).
fn keystone_v3(url: &str) -> String {
    let url = trim_url(url);
    if url.ends_with("/v3") {
        url
    } else {
        format!("{url}/v3")
    }
}

impl Session {
    /// Sign in (Keystone targets) and find the image endpoint; no-auth targets use their URL as is.
    pub fn connect(target: &Target, secret: Option<Secret>) -> Result<Session> {
        let mut s = Session {
            http: client(Some(REQUEST_TIMEOUT))?,
            target: target.clone(),
            secret,
            token: None,
            renew_at: None,
            image_url: target.image_url.as_deref().map(glance_base).unwrap_or_default(),
            check: TargetCheck {
                target: target.name.clone(),
                auth: target.auth,
                user: None,
                user_id: None,
                project: None,
                project_id: None,
                roles: Vec::new(),
                image_endpoint: String::new(),
                glance_version: None,
                token_expires_at: None,
            },
        };
        if target.auth != AuthMethod::None {
            s.authenticate()?;
        }
        if s.image_url.is_empty() {
            return Err(Error::invalid_argument(
                format!("Target \"{}\" has no image URL.", target.name),
                "Add the target again with --image-url (no-auth Glance) or --auth-url (Keystone).",
            ));
        }
        s.check.image_endpoint = s.image_url.clone();
        Ok(s)
    }

    fn name(&self) -> &str {
        &self.target.name
    }

    fn authenticate(&mut self) -> Result<()> {
        let t = &self.target;
        // The engine resolves the secret (given, keyring, or `secret_required`) before connecting.
        let secret = self
            .secret
            .as_ref()
            .ok_or_else(|| Error::invalid_argument(format!("No secret was given for target \"{}\".", t.name), "Enter the password."))?;
        let missing = |what: &str| {
            Error::invalid_argument(
                format!("Target \"{}\" has no {what}.", t.name),
                "Remove the target and add it again with every Keystone setting.",
            )
        };
        let auth_url = keystone_v3(t.auth_url.as_deref().ok_or_else(|| missing("auth URL"))?);
        let identity = match t.auth {
            AuthMethod::ApplicationCredential => json!({
                "methods": ["application_credential"],
                "application_credential": {"id": t.application_credential_id.as_deref().ok_or_else(|| missing("application credential id"))?, "secret": secret.expose()}
            }),
            _ => json!({
                "methods": ["password"],
                "password": {"user": {
                    "name": t.username.as_deref().ok_or_else(|| missing("user"))?,
                    "domain": {"name": t.user_domain.as_deref().unwrap_or("Default")},
                    "password": secret.expose()
                }}
            }),
        };
        let mut auth = json!({"identity": identity});
        if t.auth == AuthMethod::Password {
            auth["scope"] = json!({"project": {
                "name": t.project.as_deref().ok_or_else(|| missing("project"))?,
                "domain": {"name": t.project_domain.as_deref().unwrap_or("Default")}
            }});
        }
        let url = format!("{auth_url}/auth/tokens");
        let doing = "signing in";
        let started = Instant::now();
        let resp = self
            .http
            .post(&url)
            .json(&json!({"auth": auth}))
            .send_logged("keystone")
            .map_err(|e| transport_error("Keystone", &t.name, &auth_url, doing, &e))?;
        let resp = ok_or_status("Keystone", &t.name, doing, resp)?;
        let token =
            resp.headers().get("x-subject-token").and_then(|v| v.to_str().ok()).map(|v| Secret::new(v.to_string())).ok_or_else(|| {
                Error::new(
                    code::REMOTE_FAILED,
                    format!("Keystone of target \"{}\" answered without a token.", t.name),
                    "The auth URL may point at something that is not Keystone v3.",
                    "Check the target's auth URL (it ends in /v3).",
                )
            })?;
        let body: Value = resp.json().map_err(|e| transport_error("Keystone", &t.name, &auth_url, doing, &e))?;
        let tok = &body["token"];
        let s = |p: &str| tok.pointer(p).and_then(Value::as_str).map(str::to_string);
        self.check.user = s("/user/name");
        self.check.user_id = s("/user/id");
        self.check.project = s("/project/name");
        self.check.project_id = s("/project/id");
        self.check.roles =
            tok["roles"].as_array().map(|r| r.iter().filter_map(|x| x["name"].as_str().map(str::to_string)).collect()).unwrap_or_default();
        self.check.token_expires_at = s("/expires_at");
        self.renew_at =
            s("/expires_at").and_then(|e| time::OffsetDateTime::parse(&e, &time::format_description::well_known::Rfc3339).ok()).map(|e| {
                let left = (e - time::OffsetDateTime::now_utc()).try_into().unwrap_or(Duration::ZERO);
                started + left.saturating_sub(TOKEN_MARGIN)
            });
        if t.image_url.is_none() {
            self.image_url = glance_base(&find_image_endpoint(tok, t)?);
        }
        self.token = Some(token);
        Ok(())
    }

    /// Renew the token when it is about to expire (between images of a long job).
    pub fn ensure_fresh(&mut self) -> Result<()> {
        if self.token.is_some() && self.renew_at.is_some_and(|at| Instant::now() >= at) {
            self.authenticate()?;
        }
        Ok(())
    }

    fn with_token(&self, rb: RequestBuilder) -> RequestBuilder {
        match &self.token {
            Some(t) => rb.header("X-Auth-Token", t.expose()),
            None => rb,
        }
    }

    fn send(&self, rb: RequestBuilder, doing: &str) -> Result<Response> {
        let resp =
            self.with_token(rb).send_logged("glance").map_err(|e| transport_error("Glance", self.name(), &self.image_url, doing, &e))?;
        ok_or_status("Glance", self.name(), doing, resp)
    }

    fn json_of<T: for<'de> Deserialize<'de>>(&self, resp: Response, doing: &str) -> Result<T> {
        resp.json().map_err(|e| {
            Error::new(
                code::REMOTE_FAILED,
                format!("Glance of target \"{}\" answered something unexpected while {doing}: {e}.", self.name()),
                "The image URL may point at something that is not the Glance image API v2.",
                "Check the target's image URL or its Keystone catalog entry.",
            )
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.image_url)
    }

    /// The current image API version (`v2.17`).
    pub fn glance_version(&self) -> Result<String> {
        let doing = "reading the API versions";
        let resp = self
            .with_token(self.http.get(self.url("/versions")))
            .send_logged("glance")
            .map_err(|e| transport_error("Glance", self.name(), &self.image_url, doing, &e))?;
        // Version discovery answers 300 Multiple Choices.
        let resp = if resp.status() == StatusCode::MULTIPLE_CHOICES { resp } else { ok_or_status("Glance", self.name(), doing, resp)? };
        let body: Value = self.json_of(resp, doing)?;
        let versions = body["versions"].as_array().cloned().unwrap_or_default();
        let current = versions.iter().find(|v| v["status"] == "CURRENT").or_else(|| versions.first());
        current.and_then(|v| v["id"].as_str()).map(str::to_string).ok_or_else(|| {
            Error::new(
                code::REMOTE_FAILED,
                format!("Glance of target \"{}\" listed no API version.", self.name()),
                "The image URL may not point at Glance.",
                "Check the target's image URL.",
            )
        })
    }

    /// Disk and container formats the image schema allows.
    pub fn formats(&self) -> Result<Formats> {
        let doing = "reading the image schema";
        let body: Value = self.json_of(self.send(self.http.get(self.url("/v2/schemas/image")), doing)?, doing)?;
        let list = |k: &str| -> Vec<String> {
            body.pointer(&format!("/properties/{k}/enum"))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        Ok(Formats { disk: list("disk_format"), container: list("container_format") })
    }

    /// Images named exactly `name` that this user can see.
    pub fn images_named(&self, name: &str) -> Result<Vec<RemoteImage>> {
        let doing = "looking for images of the same name";
        let url = reqwest::Url::parse_with_params(&self.url("/v2/images"), &[("name", name)]).map_err(|e| {
            Error::invalid_argument(format!("The image URL {} is not a valid URL: {e}.", self.image_url), "Check the target's image URL.")
        })?;
        let body: Value = self.json_of(self.send(self.http.get(url), doing)?, doing)?;
        Ok(serde_json::from_value(body["images"].clone()).unwrap_or_default())
    }

    /// Bytes the project may still store, when the cloud enforces a limit it reveals.
    pub fn storage_left(&self) -> Option<u64> {
        let resp = self.with_token(self.http.get(self.url("/v2/info/usage"))).send_logged("glance").ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let body: Value = resp.json().ok()?;
        let total = body.pointer("/usage/image_size_total")?;
        let limit = total["limit"].as_i64().filter(|l| *l >= 0)?;
        let used = total["usage"].as_i64().unwrap_or(0);
        Some((limit - used).max(0) as u64)
    }

    pub fn create_image(&self, record: &Value) -> Result<RemoteImage> {
        let doing = "creating the image record";
        let resp = self.send(self.http.post(self.url("/v2/images")).json(record), doing)?;
        self.json_of(resp, doing)
    }

    /// Stream `body` (`len` bytes) into the image: one PUT, no buffering, no time limit (cancel
    /// ends it through the body). Runs reqwest's async client on a runtime of its own, so an early
    /// refusal (413, 415) arrives as the status it is.
    pub fn upload<B>(&self, id: &str, body: B, len: u64) -> Result<()>
    where
        B: http_body::Body<Data = bytes::Bytes, Error = std::io::Error> + Send + Sync + 'static,
    {
        let doing = "uploading the image";
        let runtime = one_thread_runtime()?;
        let url = self.url(&format!("/v2/images/{id}/file"));
        let token = self.token.as_ref().map(|t| t.expose().to_string());
        let (status, text) = runtime
            .block_on(async {
                let client = reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT).user_agent(USER_AGENT).build()?;
                let mut rb = client
                    .put(&url)
                    .header("Content-Type", "application/octet-stream")
                    .header("Content-Length", len)
                    .body(reqwest::Body::wrap(body));
                if let Some(t) = &token {
                    rb = rb.header("X-Auth-Token", t);
                }
                let resp = rb.send_logged("glance").await?;
                let status = resp.status();
                let text = if status.is_success() { String::new() } else { resp.text().await.unwrap_or_default() };
                Ok::<_, reqwest::Error>((status, text))
            })
            .map_err(|e| transport_error("Glance", self.name(), &self.image_url, doing, &e))?;
        if status.is_success() {
            Ok(())
        } else {
            Err(status_error("Glance", self.name(), doing, status, &text))
        }
    }

    /// The image, or `None` when it no longer exists.
    pub fn image(&self, id: &str) -> Result<Option<RemoteImage>> {
        let doing = "reading the image's status";
        let resp = self
            .with_token(self.http.get(self.url(&format!("/v2/images/{id}"))))
            .send_logged("glance")
            .map_err(|e| transport_error("Glance", self.name(), &self.image_url, doing, &e))?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let resp = ok_or_status("Glance", self.name(), doing, resp)?;
        self.json_of(resp, doing).map(Some)
    }

    /// JSON-patch the image (`[{"op": "replace", "path": "/protected", "value": true}]`).
    pub fn patch_image(&self, id: &str, ops: &Value) -> Result<()> {
        let rb = self
            .http
            .patch(self.url(&format!("/v2/images/{id}")))
            .header("Content-Type", "application/openstack-images-v2.1-json-patch")
            .body(ops.to_string());
        self.send(rb, "updating the image").map(|_| ())
    }

    /// Delete the image; false when it was already gone.
    pub fn delete_image(&self, id: &str) -> Result<bool> {
        let doing = "deleting the image";
        let resp = self
            .with_token(self.http.delete(self.url(&format!("/v2/images/{id}"))))
            .send_logged("glance")
            .map_err(|e| transport_error("Glance", self.name(), &self.image_url, doing, &e))?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        ok_or_status("Glance", self.name(), doing, resp).map(|_| true)
    }
}

fn ok_or_status(service: &str, target: &str, doing: &str, resp: Response) -> Result<Response> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status();
    let body = resp.text().unwrap_or_default();
    Err(status_error(service, target, doing, status, &body))
}

/// The `image` service's endpoint for the target's interface and region from a token's catalog.
fn find_image_endpoint(token: &Value, t: &Target) -> Result<String> {
    let empty = Vec::new();
    let catalog = token["catalog"].as_array().unwrap_or(&empty);
    let mut seen = Vec::new();
    for service in catalog.iter().filter(|s| s["type"] == "image") {
        for ep in service["endpoints"].as_array().unwrap_or(&empty) {
            let region = ep["region_id"].as_str().or_else(|| ep["region"].as_str()).unwrap_or("");
            let interface = ep["interface"].as_str().unwrap_or("");
            seen.push(format!("{interface}/{region}"));
            let region_ok = t.region.as_deref().is_none_or(|r| r.eq_ignore_ascii_case(region));
            if interface == t.interface.as_str() && region_ok {
                if let Some(url) = ep["url"].as_str() {
                    return Ok(url.to_string());
                }
            }
        }
    }
    let wanted = format!("interface {}{}", t.interface.as_str(), t.region.as_deref().map(|r| format!(", region {r}")).unwrap_or_default());
    Err(Error::new(
        code::REMOTE_FAILED,
        format!("The service catalog of target \"{}\" has no image endpoint for {wanted}.", t.name),
        if seen.is_empty() {
            "This cloud's catalog lists no image service (Glance) for this project.".to_string()
        } else {
            format!("Image endpoints found (interface/region): {}.", seen.join(", "))
        },
        "Choose the interface and region the catalog offers (add the target again), or give its image URL.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_lose_their_version_and_keystone_gains_v3() {
        assert_eq!(glance_base("http://g:9292/v2/"), "http://g:9292");
        assert_eq!(glance_base("https://cloud/image/v2.0"), "https://cloud/image");
        assert_eq!(glance_base("https://cloud/image"), "https://cloud/image");
        assert_eq!(glance_base("https://cloud/v"), "https://cloud/v");
        assert_eq!(keystone_v3("http://k:5000"), "http://k:5000/v3");
        assert_eq!(keystone_v3("http://k:5000/v3/"), "http://k:5000/v3");
    }
}
