//! A team repository's bytes in an S3-compatible bucket (Ceph RGW, SeaweedFS, Garage, AWS S3,
//! MinIO), reached through the `object_store` crate: requests SigV4-signed, TLS verified like every
//! other client of the engine (system CAs and SSL_CERT_FILE), plain HTTP only on loopback, and
//! driven from plain threads on a one-thread runtime.

use super::config::TeamRepo;
use super::{catalog::is_loopback, unreachable};
use crate::cancel::CancelToken;
use crate::error::{code, Error, Result};
use crate::secrets::Secret;
use md5::{Digest as _, Md5};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as Key;
use object_store::MultipartId;
use object_store::{ClientOptions, ObjectStoreExt, PutPayload, RetryConfig};
use sha2::Sha256;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// The smallest part S3 takes (every part but the last), and the most parts an upload may have.
const MIN_PART: u64 = 5 << 20;
const MAX_PARTS: u64 = 10_000;
/// Bytes per ranged read when an object is fetched.
const FETCH_BLOCK: u64 = 8 << 20;

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

    /// The key of the object holding the bytes with this SHA-256 (content-addressed, as locally).
    fn object_key(&self, sha256: &str) -> Key {
        self.key(&format!("objects/sha256/{}/{}", &sha256[..2], &sha256[2..]))
    }

    /// The size of the object with these bytes, when the bucket has it.
    pub fn object_size(&self, sha256: &str) -> Result<Option<u64>> {
        let key = self.object_key(sha256);
        self.rt.block_on(async {
            match self.store.head(&key).await {
                Ok(meta) => Ok(Some(meta.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(self.error("looking up a stored object", &e)),
            }
        })
    }

    /// Upload `file` (`size` bytes, SHA-256 `sha256`) as the object for its bytes. Up to one part
    /// it is one PUT; above, a multipart upload, which S3 makes visible only when it is completed,
    /// whole — never half an object. Each part's ETag, when the server gives its MD5 (32 hex
    /// digits), must be the MD5 of what was sent, and the finished object must have the file's size
    /// and, when its ETag has that form, the MD5 of the parts' MD5s. A multipart upload is told to
    /// `log` as it goes (its id, each part sent) and goes on from `resume` — the parts an earlier,
    /// cut upload of the same bytes sent — without sending those again; an upload the server no
    /// longer knows is started over.
    #[allow(clippy::too_many_arguments)]
    pub fn upload(
        &self,
        sha256: &str,
        file: &Path,
        size: u64,
        resume: Option<Resume>,
        log: &mut dyn UploadLog,
        cancel: &CancelToken,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        let key = self.object_key(sha256);
        let mut f = std::fs::File::open(file).map_err(|e| Error::io(file, &e, false))?;
        let started = Instant::now();
        let mut expected_etag: Option<String> = None;
        if size <= part_size(size) {
            let body = read_part(&mut f, file, size)?;
            let md5 = hex::encode(Md5::digest(&body));
            let put = self.rt.block_on(self.store.put(&key, PutPayload::from(body))).map_err(|e| self.error("uploading an object", &e))?;
            self.check_etag(put.e_tag.as_deref(), &md5, sha256)?;
            progress(size);
        } else {
            let mut resume = resume.filter(|r| r.part_size >= MIN_PART && size.div_ceil(r.part_size) <= MAX_PARTS);
            let mut restarted = false;
            loop {
                match self.upload_parts(sha256, &key, &mut f, file, size, resume.take(), log, cancel, progress) {
                    Ok(etag) => {
                        expected_etag = Some(etag);
                        break;
                    }
                    // The server no longer knows the upload (expired, aborted, or completed by
                    // another desktop sending the same bytes): once more from the start.
                    Err(Restart) if !restarted => {
                        log.restart()?;
                        restarted = true;
                    }
                    Err(Restart) => return Err(self.damaged(sha256, "the server lost the upload twice")),
                    Err(Failed(e)) => return Err(e),
                }
            }
        }
        let meta = self.rt.block_on(self.store.head(&key)).map_err(|e| self.error("checking an uploaded object", &e))?;
        if meta.size != size {
            return Err(self.damaged(sha256, &format!("it holds {} bytes where {size} were sent", meta.size)));
        }
        let etag = meta.e_tag.unwrap_or_default().trim_matches('"').to_ascii_lowercase();
        if let Some(want) = expected_etag.filter(|_| etag.len() > 33 && etag.as_bytes()[32] == b'-') {
            if etag != want {
                return Err(self.damaged(sha256, &format!("its ETag is {etag} where the parts sent make {want}")));
            }
        }
        tracing::info!(store = %self.label, bytes = size, ms = started.elapsed().as_millis() as u64, "team object uploaded");
        Ok(())
    }

    /// The parts of one multipart upload (going on from `resume`), completed; the ETag S3 gives such
    /// an object: the MD5 of the parts' MD5s, a dash, the count. Each request runs on the bucket's
    /// runtime by itself, so `log` (the catalog, with a runtime of its own) is told between them.
    #[allow(clippy::too_many_arguments)]
    fn upload_parts(
        &self,
        sha256: &str,
        key: &Key,
        f: &mut std::fs::File,
        file: &Path,
        size: u64,
        resume: Option<Resume>,
        log: &mut dyn UploadLog,
        cancel: &CancelToken,
        progress: &mut dyn FnMut(u64),
    ) -> std::result::Result<String, Cut> {
        let (id, part, sent) = match resume {
            Some(r) => (MultipartId::from(r.upload_id), r.part_size, r.parts),
            None => {
                let part = part_size(size);
                let id = self.rt.block_on(self.store.create_multipart(key)).map_err(|e| Failed(self.error("starting an upload", &e)))?;
                log.started(&id, part).map_err(Failed)?;
                (id, part, Vec::new())
            }
        };
        let mut parts: Vec<PartId> = Vec::new();
        let mut part_md5s: Vec<u8> = Vec::new();
        let mut done = 0u64;
        while done < size {
            if cancel.is_cancelled() {
                return Err(Failed(Error::cancelled()));
            }
            let idx = parts.len();
            let n = part.min(size - done);
            let recorded = sent.iter().find(|p| p.index == idx).and_then(|p| Some((p.etag.clone(), hex::decode(&p.md5).ok()?)));
            if let Some((etag, md5)) = recorded {
                parts.push(PartId { content_id: etag });
                part_md5s.extend_from_slice(&md5);
            } else {
                f.seek(SeekFrom::Start(done)).map_err(|e| Failed(Error::io(file, &e, false)))?;
                let body = read_part(f, file, n).map_err(Failed)?;
                let digest = Md5::digest(&body);
                let md5 = hex::encode(digest);
                let got = self
                    .rt
                    .block_on(self.store.put_part(key, &id, idx, PutPayload::from(body)))
                    .map_err(|e| self.cut("uploading part of an object", &e))?;
                self.check_etag(Some(&got.content_id), &md5, sha256).map_err(Failed)?;
                log.part_sent(idx, &got.content_id, &md5).map_err(Failed)?;
                tracing::info!(store = %self.label, part = idx + 1, bytes = n, "team object part uploaded");
                crate::failpoint::failpoint(&format!("team.upload.after_part.{}", idx + 1));
                parts.push(got);
                part_md5s.extend_from_slice(&digest);
            }
            done += n;
            progress(done);
        }
        let count = parts.len();
        let want = format!("{}-{count}", hex::encode(Md5::digest(&part_md5s)));
        match self.rt.block_on(self.store.complete_multipart(key, &id, parts)) {
            Ok(_) => Ok(want),
            // Completed already by another process sending the same parts: the head check after
            // this holds it to the same size and ETag.
            Err(e) if no_such_upload(&e) => match self.rt.block_on(self.store.head(key)) {
                Ok(meta) if meta.size == size && meta.e_tag.as_deref().is_some_and(|t| t.trim_matches('"').eq_ignore_ascii_case(&want)) => {
                    Ok(want)
                }
                _ => Err(Restart),
            },
            Err(e) => {
                // Nothing of it is visible; the parts the server holds are let go.
                let _ = self.rt.block_on(self.store.abort_multipart(key, &id));
                Err(Failed(self.error("completing an upload", &e)))
            }
        }
    }

    /// A failed part upload: start over when the server no longer knows the upload.
    fn cut(&self, doing: &str, e: &object_store::Error) -> Cut {
        if no_such_upload(e) {
            Restart
        } else {
            Failed(self.error(doing, e))
        }
    }

    /// Delete the bucket's copy of these bytes (collecting a tombstone); one already gone is fine.
    pub fn delete_object(&self, sha256: &str) -> Result<()> {
        let key = self.object_key(sha256);
        self.rt.block_on(async {
            match self.store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(self.error("deleting an object", &e)),
            }
        })
    }

    /// Abort a multipart upload that will not be finished (a stale one); one the server no longer
    /// knows is fine.
    pub fn abort_upload(&self, sha256: &str, upload_id: &str) -> Result<()> {
        let key = self.object_key(sha256);
        self.rt.block_on(async {
            match self.store.abort_multipart(&key, &MultipartId::from(upload_id.to_string())).await {
                Ok(()) => Ok(()),
                Err(e) if no_such_upload(&e) || matches!(e, object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(self.error("aborting an upload", &e)),
            }
        })
    }

    /// Fetch the object with these bytes (`size` of them) into `partial` by ranged reads, resuming
    /// from what `partial` holds already; returns the SHA-256 of the whole file, for the caller to
    /// compare before it trusts a byte of it.
    pub fn fetch(&self, sha256: &str, size: u64, partial: &Path, cancel: &CancelToken, progress: &mut dyn FnMut(u64)) -> Result<String> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(partial)
            .map_err(|e| Error::io(partial, &e, true))?;
        // What an earlier, cut fetch left is hashed again, then the rest is asked for.
        let mut hasher = Sha256::new();
        let mut have = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).map_err(|e| Error::io(partial, &e, true))?;
            if n == 0 || have + n as u64 > size {
                break;
            }
            hasher.update(&buf[..n]);
            have += n as u64;
        }
        f.set_len(have).and_then(|_| f.seek(SeekFrom::Start(have))).map_err(|e| Error::io(partial, &e, true))?;
        let started = Instant::now();
        self.read_ranges(sha256, have, size, cancel, &mut |bytes, upto| {
            hasher.update(bytes);
            f.write_all(bytes).map_err(|e| Error::io(partial, &e, true))?;
            progress(upto);
            Ok(())
        })?;
        f.sync_all().map_err(|e| Error::io(partial, &e, true))?;
        tracing::info!(store = %self.label, bytes = size, ms = started.elapsed().as_millis() as u64, "team object fetched");
        Ok(hex::encode(hasher.finalize()))
    }

    /// The SHA-256 of the object with these bytes as the bucket holds it, read through without
    /// keeping it (verify); `None` when the bucket has no such object.
    pub fn hash(&self, sha256: &str, size: u64, cancel: &CancelToken, progress: &mut dyn FnMut(u64)) -> Result<Option<String>> {
        match self.object_size(sha256)? {
            None => return Ok(None),
            Some(held) if held != size => return Err(self.damaged(sha256, &format!("it holds {held} bytes where the catalog says {size}"))),
            Some(_) => {}
        }
        let mut hasher = Sha256::new();
        self.read_ranges(sha256, 0, size, cancel, &mut |bytes, upto| {
            hasher.update(bytes);
            progress(upto);
            Ok(())
        })?;
        Ok(Some(hex::encode(hasher.finalize())))
    }

    /// Bytes `from..size` of the object, in ranged reads of [`FETCH_BLOCK`], each handed to `each`
    /// with how far it reaches — outside the bucket's runtime, since `each` may write to the
    /// catalog (a job's saved progress), whose synchronous client cannot run inside it.
    fn read_ranges(
        &self,
        sha256: &str,
        mut from: u64,
        size: u64,
        cancel: &CancelToken,
        each: &mut dyn FnMut(&[u8], u64) -> Result<()>,
    ) -> Result<()> {
        let key = self.object_key(sha256);
        while from < size {
            if cancel.is_cancelled() {
                return Err(Error::cancelled());
            }
            let end = (from + FETCH_BLOCK).min(size);
            let bytes = self.rt.block_on(self.store.get_range(&key, from..end)).map_err(|e| match e {
                object_store::Error::NotFound { .. } => self.damaged(sha256, "the bucket has no object for it"),
                e => self.error("reading a stored object", &e),
            })?;
            if bytes.len() as u64 != end - from {
                return Err(self.damaged(sha256, "it is shorter than the catalog says"));
            }
            each(&bytes, end)?;
            from = end;
        }
        Ok(())
    }

    /// A part's (or a single PUT's) ETag against the MD5 of what was sent, when it is one.
    fn check_etag(&self, etag: Option<&str>, md5: &str, sha256: &str) -> Result<()> {
        let etag = etag.unwrap_or_default().trim_matches('"').to_ascii_lowercase();
        if etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit()) && etag != md5 {
            return Err(self.damaged(sha256, &format!("the server took bytes with MD5 {etag} where {md5} were sent")));
        }
        Ok(())
    }

    /// `object_corrupted`: the bucket's copy of these bytes is not what it should be.
    pub(crate) fn damaged(&self, sha256: &str, why: &str) -> Error {
        Error::new(
            code::OBJECT_CORRUPTED,
            format!("The {} does not hold the bytes with SHA-256 {sha256} as it should: {why}.", self.label),
            "The object was changed or cut in the bucket, or damaged on its way.",
            "Import the file again from its source (it is uploaded again), or restore the object in the bucket.",
        )
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

/// Where a cut multipart upload of the same bytes stands: its id, part size and the parts sent.
#[derive(Debug, Clone)]
pub struct Resume {
    pub upload_id: String,
    pub part_size: u64,
    pub parts: Vec<SentPart>,
}

/// A part the server has taken: its index (from 0), the ETag it gave and the MD5 of what was sent.
#[derive(Debug, Clone)]
pub struct SentPart {
    pub index: usize,
    pub etag: String,
    pub md5: String,
}

/// Where a multipart upload is recorded as it goes (the team catalog's `uploads`, `upload_parts`).
pub trait UploadLog {
    /// A new upload with this id and part size (any earlier one's parts are gone).
    fn started(&mut self, upload_id: &str, part_size: u64) -> Result<()>;
    /// Part `index` (from 0) was taken with `etag`; `md5` is the MD5 of what was sent.
    fn part_sent(&mut self, index: usize, etag: &str, md5: &str) -> Result<()>;
    /// The upload recorded is of no use any more; a new one follows.
    fn restart(&mut self) -> Result<()>;
}

/// Why a multipart upload stopped.
enum Cut {
    /// The server does not know the upload any more: start a new one.
    Restart,
    Failed(Error),
}
use Cut::{Failed, Restart};

fn no_such_upload(e: &object_store::Error) -> bool {
    super::catalog::chain(e).contains("NoSuchUpload")
}

/// Exactly `n` bytes of `f`, from where it stands.
fn read_part(f: &mut std::fs::File, file: &Path, n: u64) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n as usize);
    Read::by_ref(f).take(n).read_to_end(&mut buf).map_err(|e| Error::io(file, &e, false))?;
    if buf.len() as u64 != n {
        return Err(Error::new(
            code::OBJECT_CORRUPTED,
            format!("{} became shorter while it was uploaded.", file.display()),
            "Something changed the staged copy of the file during the upload.",
            "Import the file again.",
        ));
    }
    Ok(buf)
}

/// Bytes per part of a multipart upload: 16 MiB (`IMAGESMITH_S3_PART_SIZE` in bytes, at least
/// 5 MiB), more when the file would need more than S3's 10,000 parts.
pub(crate) fn part_size(size: u64) -> u64 {
    let wanted = std::env::var("IMAGESMITH_S3_PART_SIZE").ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(16 << 20).max(MIN_PART);
    wanted.max(size.div_ceil(MAX_PARTS - 1))
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
