//! A team repository's bytes in an S3-compatible bucket (Ceph RGW, SeaweedFS, Garage, AWS S3,
//! MinIO), reached through the `object_store` crate: requests SigV4-signed, TLS verified like every
//! other client of the engine (system CAs and SSL_CERT_FILE), plain HTTP only on loopback, and
//! driven from plain threads on a one-thread runtime.

use super::config::TeamRepo;
use super::{catalog::is_loopback, unreachable};
use crate::error::{code, Error, Result};
use crate::secrets::Secret;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{ClientOptions, ObjectStoreExt, PutPayload, RetryConfig};
use std::time::{Duration, Instant};

/// A bucket (and the prefix under which the repository's keys live).
pub struct Bucket {
    store: AmazonS3,
    prefix: String,
    rt: tokio::runtime::Runtime,
    label: String,
}

/// An `s3://BUCKET[/PREFIX]` URL, split.
pub fn parse_objects_url(text: &str) -> Result<(String, String)> {
    let bad = |why: &str| {
        Error::invalid_argument(
            format!("\"{text}\" is not an object store URL: {why}."),
            "Give it as s3://BUCKET or s3://BUCKET/PREFIX, and the server with --endpoint URL.",
        )
    };
    let rest = text.strip_prefix("s3://").ok_or_else(|| bad("it does not start with s3://"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !bucket.starts_with(['-', '.'])
        && !bucket.ends_with(['-', '.']);
    if !valid_bucket {
        return Err(bad("a bucket name is 3 to 63 lowercase letters, digits, dots and hyphens"));
    }
    let prefix = prefix.trim_matches('/');
    if prefix.split('/').any(|p| p == "." || p == "..") || prefix.contains("//") {
        return Err(bad("the prefix may not hold empty, . or .. parts"));
    }
    Ok((bucket.to_string(), prefix.to_string()))
}

/// Check an endpoint URL: http(s), a host, and plain HTTP only to this machine.
pub fn check_endpoint(text: &str) -> Result<String> {
    let url = reqwest::Url::parse(text).map_err(|e| {
        // The text is never repeated back: it may hold a key where one does not belong.
        Error::invalid_argument(format!("The endpoint is not a URL: {e}."), "Give the S3 server as https://HOST[:PORT].")
    })?;
    let host = url.host_str().unwrap_or_default().to_string();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(Error::new(
                code::TLS_FAILED,
                format!("The object store at {host} would be reached without TLS."),
                "Plain HTTP sends every request in the clear; it is allowed only on this machine (127.0.0.1, ::1, localhost).",
                "Use the object store's https:// endpoint.",
            ))
        }
        other => {
            return Err(Error::invalid_argument(format!("The endpoint is {other}://, not http(s)://."), "Give it as https://HOST[:PORT]."))
        }
    }
    if url.query().is_some() || url.username() != "" || url.password().is_some() {
        return Err(Error::invalid_argument(
            format!("The endpoint for {host} holds a query or a user name and password."),
            "Give only https://HOST[:PORT]; the keys are given with --access-key-id and asked for.",
        ));
    }
    // As the URL parser writes it (scheme and host in lower case), without the trailing slash.
    Ok(url.as_str().trim_end_matches('/').to_string())
}

impl Bucket {
    /// A client for the repository's bucket with this secret access key (nothing is sent yet).
    pub fn open(repo: &TeamRepo, secret: &Secret) -> Result<Bucket> {
        let endpoint = check_endpoint(&repo.endpoint)?;
        let options = ClientOptions::new()
            .with_allow_http(endpoint.starts_with("http://"))
            .with_connect_timeout(Duration::from_secs(10))
            .with_timeout(Duration::from_secs(120))
            .with_user_agent(reqwest::header::HeaderValue::from_static(crate::http::USER_AGENT));
        let retry = RetryConfig { max_retries: 3, retry_timeout: Duration::from_secs(30), ..RetryConfig::default() };
        let store = AmazonS3Builder::new()
            .with_endpoint(&endpoint)
            .with_bucket_name(&repo.bucket)
            .with_region(&repo.region)
            .with_access_key_id(&repo.access_key_id)
            .with_secret_access_key(secret.expose())
            .with_virtual_hosted_style_request(false)
            .with_client_options(options)
            .with_retry(retry)
            .build()
            .map_err(|e| {
                Error::invalid_argument(format!("The object store settings do not work: {e}."), "Check the endpoint, bucket and region.")
            })?;
        Ok(Bucket {
            store,
            prefix: repo.prefix.clone(),
            rt: crate::http::one_thread_runtime()?,
            label: format!("team object store {} ({})", repo.objects_url(), endpoint),
        })
    }

    fn key(&self, rel: &str) -> Key {
        if self.prefix.is_empty() {
            Key::from(rel)
        } else {
            Key::from(format!("{}/{rel}", self.prefix))
        }
    }

    /// Write a small key, read a range of it back and delete it: the bucket exists, the keys may
    /// write, read and delete there, and ranges work. Returns how long the round trip took.
    pub fn probe(&self, session: &str) -> Result<Duration> {
        let started = Instant::now();
        let key = self.key(&format!("probe/{session}"));
        let body = format!("imagesmith probe {session}");
        self.rt.block_on(async {
            self.store.put(&key, PutPayload::from(body.clone().into_bytes())).await.map_err(|e| self.error("writing a probe key", &e))?;
            let got = self.store.get_range(&key, 2..10).await.map_err(|e| self.error("reading a probe key back", &e));
            let deleted = self.store.delete(&key).await.map_err(|e| self.error("deleting a probe key", &e));
            let got = got?;
            deleted?;
            if got.as_ref() != &body.as_bytes()[2..10] {
                return Err(Error::new(
                    code::REMOTE_FAILED,
                    format!("The {} gave back other bytes than were written to it.", self.label),
                    "The server (or a proxy in front of it) does not honour range requests or changes what it stores.",
                    "Check the endpoint; Imagesmith needs an S3-compatible server with range requests.",
                ));
            }
            Ok(())
        })?;
        tracing::info!(store = %self.label, ms = started.elapsed().as_millis() as u64, "team object store probed");
        Ok(started.elapsed())
    }

    /// An object-store error, told by what the admin can do about it.
    fn error(&self, doing: &str, e: &object_store::Error) -> Error {
        use object_store::Error as E;
        let detail = super::catalog::chain(e);
        match e {
            E::Unauthenticated { .. } | E::PermissionDenied { .. } if detail.contains("NoSuchBucket") => self.no_bucket(),
            _ if detail.contains("RequestTimeTooSkewed") => Error::new(
                code::REMOTE_FAILED,
                format!("The {} refused {doing}: this computer's clock is too far from the server's.", self.label),
                "Signed S3 requests carry the time; servers refuse them when the clocks differ by more than about 15 minutes.",
                "Set this computer's clock (or turn on network time), then try again.",
            ),
            E::Unauthenticated { .. } | E::PermissionDenied { .. } => Error::new(
                code::AUTH_FAILED,
                format!("The {} refused {doing}: {}.", self.label, short(&detail)),
                "The access key id or secret key is wrong, or the key may not read, write and delete in this bucket.",
                "Check the keys (in the CLI: --access-key-id, and the secret on the second line of --password-stdin or in \
                 AWS_SECRET_ACCESS_KEY) and the bucket's policy, then connect again.",
            ),
            _ if detail.contains("NoSuchBucket") => self.no_bucket(),
            _ if super::catalog::tls_cause(e).is_some() || detail.contains("invalid peer certificate") => {
                crate::remote::tls_failed_to(&self.label, short(&super::catalog::tls_cause(e).unwrap_or(detail)))
            }
            // It answered, with an error of its own (object_store's retry error is private: its text tells).
            _ if detail.contains("Server returned") => Error::new(
                code::REMOTE_FAILED,
                format!("The {} failed while {doing}: {}.", self.label, short(&detail)),
                "The object store answered with an error of its own (overloaded, misconfigured, or out of space).",
                "Try again in a while; if it keeps failing, tell the object store's admin (the message above helps them).",
            ),
            _ => unreachable(&self.label, &format!("{doing}: {}", short(&detail))),
        }
    }

    fn no_bucket(&self) -> Error {
        Error::new(
            code::NOT_FOUND,
            format!("The bucket of the {} does not exist.", self.label),
            "Imagesmith stores into an existing bucket; it does not create buckets.",
            "Create the bucket (or ask the object store's admin to), or give the right one in s3://BUCKET.",
        )
    }
}

/// The first 300 characters of an error text (S3 error bodies can be long XML).
fn short(s: &str) -> String {
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_urls_and_endpoints_are_checked() {
        assert_eq!(parse_objects_url("s3://images").unwrap(), ("images".into(), "".into()));
        assert_eq!(parse_objects_url("s3://team-images/site/a/").unwrap(), ("team-images".into(), "site/a".into()));
        for bad in ["images", "s3://Images", "s3://ab", "s3://x-/p", "s3://images/a/../b"] {
            assert_eq!(parse_objects_url(bad).unwrap_err().code, code::INVALID_ARGUMENT, "{bad}");
        }
        assert_eq!(check_endpoint("https://s3.example.net/").unwrap(), "https://s3.example.net");
        assert_eq!(check_endpoint("http://127.0.0.1:18333").unwrap(), "http://127.0.0.1:18333");
        assert_eq!(check_endpoint("http://s3.example.net").unwrap_err().code, code::TLS_FAILED);
        assert_eq!(check_endpoint("ftp://s3.example.net").unwrap_err().code, code::INVALID_ARGUMENT);
        assert_eq!(check_endpoint("https://key:secret@s3.example.net").unwrap_err().code, code::INVALID_ARGUMENT);
    }
}
