//! Downloads that never lose work: a URL fetched into the repository's `downloads/` folder, hashed
//! as it arrives, retried with back-off and resumed with `Range` + `If-Range`, and kept across a
//! killed process so the next import of the same URL goes on from where it stopped.
//!
//! Each URL has a folder `downloads/<first 32 hex of SHA-256(url)>/` holding `state.json` (the URL,
//! the validator — ETag, else Last-Modified — and the size the server announced) and `data.part`.
//! One pass of [`pipeline::copy_and_hash`] reads the bytes already in `data.part` and then the
//! network, so every digest covers the whole file while only new bytes are written. A cut
//! connection is resumed inside the same pass; a server that answers a resume with the whole file
//! (the file changed: `If-Range` failed) restarts the pass from byte 0. The finished file is renamed
//! to its name from the URL (detection looks at names) and handed to the import, which moves it into
//! the store or, when its digests are wrong, removes it: nothing unverified stays.
//!
//! A compressed file (an IMGAPI image's `compression`) is decompressed in the same pass: a tap of
//! the pass reads the served bytes from byte 0 (those resumed from `data.part` first) through the
//! decoder into the image beside it, hashing what comes out, so the served and the decompressed
//! digests are both known when the last byte arrives.
//!
//! The body is read with reqwest's async client on a one-thread runtime owned by the download
//! ([`crate::http`]): the pipeline's reader thread runs the connection itself, so each chunk goes
//! from the socket into the pipeline's buffer on one thread, as curl does.

use crate::cancel::CancelToken;
use crate::error::{code, Error, Result};
use crate::http::{client_error, one_thread_runtime, CONNECT_TIMEOUT, USER_AGENT};
use crate::logging::SendLoggedAsync;
use crate::model::Algo;
use crate::pipeline::{self, io_stop, Digests, Sink};
use bytes::{Buf, Bytes};
use reqwest::header::{self, HeaderMap};
use reqwest::{Response, StatusCode};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a server may send nothing before the download fails (a stalled server).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Tries after a dropped connection or a server error before the download fails.
const RETRIES: u32 = 5;
/// Restarts from byte 0 (the file changed on the server while it was fetched) before giving up.
const RESTARTS: u32 = 2;
/// Redirects followed, as curl's default limit of 50 is far more than any mirror needs.
const REDIRECTS: usize = 10;

/// Whether an import argument is a URL rather than a file.
pub fn is_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Split URLs into checksum files and their detached signatures (by name: SHA256SUMS,
/// x.iso.sha256, SHA256SUMS.gpg — they cannot be read before they are fetched) and files to
/// import. Fetch the first with [`crate::Engine::fetch_checksum_urls`].
pub fn split_checksum_urls(urls: Vec<String>) -> (Vec<String>, Vec<String>) {
    use crate::checksum::{name_suggests_checksum_file, name_suggests_checksum_signature};
    urls.into_iter().partition(|u| {
        let name = url_file_name(u);
        name_suggests_checksum_file(&name) || name_suggests_checksum_signature(&name)
    })
}

/// The file name a URL names: its last path segment, percent-decoded ("file" for `…/file`).
pub fn url_file_name(url: &str) -> String {
    let parsed = reqwest::Url::parse(url).ok();
    let last = parsed
        .as_ref()
        .and_then(|u| u.path_segments())
        .and_then(|mut s| s.next_back().map(str::to_string))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| parsed.as_ref().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_else(|| "download".into()));
    let decoded = percent_decode(&last);
    let safe: String = decoded.chars().map(|c| if c == '/' || c == '\\' || c.is_control() { '_' } else { c }).collect();
    match safe.as_str() {
        "." | ".." => "download".into(),
        _ => safe,
    }
}

/// `%XX` escapes decoded (invalid ones kept as they are); what is not UTF-8 becomes U+FFFD.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the caller wants of a download.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Digests to compute beside SHA-256 (those the source declares).
    pub extra: Vec<Algo>,
    pub read_timeout: Duration,
    /// The size the source declares (a manifest), checked against the server's.
    pub expected_size: Option<u64>,
    /// Refuse a file larger than this (a checksum file or a manifest is small).
    pub max_size: Option<u64>,
    /// Decompress the file while it comes, hashing what comes out with SHA-256 plus these.
    pub unpack: Option<(crate::stores::Compression, Vec<Algo>)>,
    /// The caller checks the file against a digest it was given, so a part kept from an earlier
    /// run may be resumed even when the server named no validator (no ETag, no Last-Modified)
    /// that `If-Range` could hold it to; otherwise such a part is fetched again from byte 0.
    pub digest_checked: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            extra: Vec::new(),
            read_timeout: DEFAULT_READ_TIMEOUT,
            expected_size: None,
            max_size: None,
            unpack: None,
            digest_checked: false,
        }
    }
}

/// A finished download: the file (inside `downloads/`, ready to be moved into the store) and what
/// was learnt fetching it.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub path: PathBuf,
    pub digests: Digests,
    /// Bytes that came over the network in this run (a resumed download fetched fewer than its size).
    pub fetched: u64,
    /// Bytes that were already in `data.part` from an earlier, interrupted run.
    pub resumed_from: u64,
    /// Times the file was fetched again from byte 0 because it changed on the server.
    pub restarts: u32,
    /// The decompressed file and its digests, when [`FetchOptions::unpack`] asked for it.
    pub unpacked: Option<(PathBuf, Digests)>,
}

/// What `state.json` records about a partial download.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct State {
    url: String,
    validator: Option<String>,
    total: Option<u64>,
}

/// The folder of one URL's download.
pub fn download_dir(downloads: &Path, url: &str) -> PathBuf {
    use sha2::Digest;
    let key = hex::encode(sha2::Sha256::digest(url.as_bytes()));
    downloads.join(&key[..32])
}

/// Remove what a download left (after its bytes went into the store, or were refused).
pub fn discard(downloads: &Path, url: &str) {
    let _ = fs::remove_dir_all(download_dir(downloads, url));
}

/// The settings every download client has, on either of reqwest's builders (they share no trait).
macro_rules! download_settings {
    ($builder:expr) => {
        $builder.connect_timeout(CONNECT_TIMEOUT).redirect(reqwest::redirect::Policy::limited(REDIRECTS)).user_agent(USER_AGENT)
    };
}

/// A blocking client for small documents (a store's listing, a manifest): the blocking client
/// applies `read_timeout` to the wait for the answer and to each read of the body.
pub(crate) fn client(read_timeout: Duration) -> Result<reqwest::blocking::Client> {
    download_settings!(reqwest::blocking::Client::builder()).timeout(read_timeout).build().map_err(client_error)
}

/// What fetches a file's body: reqwest's async client and the one-thread runtime that drives it
/// from the pipeline's reader thread (see the module's head).
struct Network {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Network {
    fn new(read_timeout: Duration) -> Result<Network> {
        let runtime = one_thread_runtime()?;
        let _in_runtime = runtime.enter();
        // `read_timeout` bounds the wait for the answer and each wait for a chunk of the body
        // (reset by every chunk that comes): a stalled server fails, a slow one does not.
        let client = download_settings!(reqwest::Client::builder()).read_timeout(read_timeout).build().map_err(client_error)?;
        Ok(Network { runtime, client })
    }
}

/// Fetch `url` into `downloads/`, resuming what an earlier run left. `progress(done, total)` gets
/// the bytes of the file so far (those already on disk count) and the size once known.
pub fn fetch(
    downloads: &Path,
    url: &str,
    opts: &FetchOptions,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Fetched> {
    let dir = download_dir(downloads, url);
    fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, &e, true))?;
    let lock = lock(&dir)?;
    let result = fetch_locked(&dir, url, opts, cancel, progress);
    if result.is_err() && fs::metadata(dir.join("data.part")).map(|m| m.len()).unwrap_or(0) == 0 {
        // Nothing came (a 404, a refused certificate): nothing to resume, nothing to keep.
        drop(lock);
        let _ = fs::remove_dir_all(&dir);
    }
    result
}

fn fetch_locked(
    dir: &Path,
    url: &str,
    opts: &FetchOptions,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Fetched> {
    let state_path = dir.join("state.json");
    let part = dir.join("data.part");
    let mut state: State = fs::read(&state_path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    if state.url != url {
        // A new download, or a state file from another URL or version: start clean.
        state = State { url: url.to_string(), ..State::default() };
        let _ = fs::remove_file(&part);
    } else if state.validator.is_none() && !opts.digest_checked && fs::metadata(&part).is_ok_and(|m| m.len() > 0) {
        // Without a validator a changed file cannot be told from the same one, and no digest would
        // catch the splice: start again rather than join two files.
        tracing::info!(url, "the server names no validator and no digest was given; downloading again from the start");
        fs::write(&part, b"").map_err(|e| Error::io(&part, &e, true))?;
    }
    let network = Network::new(opts.read_timeout)?;
    let mut restarts = 0;
    let mut fetched = 0;
    let mut resumed_from = None;
    loop {
        let have = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if have == 0 {
            state.validator = None;
            state.total = None;
        }
        resumed_from.get_or_insert(have);
        let file = OpenOptions::new().create(true).append(true).open(&part).map_err(|e| Error::io(&part, &e, true))?;
        let total = Cell::new(state.total);
        let mut body = Body {
            network: &network,
            url,
            state: state.clone(),
            state_path: &state_path,
            prefix: Some(File::open(&part).map_err(|e| Error::io(&part, &e, false))?.take(have)),
            offset: 0,
            response: None,
            chunk: Bytes::new(),
            total: &total,
            expected_size: opts.expected_size,
            max_size: opts.max_size,
            cancel,
            fetched: 0,
            restart: false,
        };
        let mut sink = SkipWriter { inner: file, skip: have };
        let named = dir.join(url_file_name(url));
        let unpacked_path = unpacked_path(&named);
        let taps: Vec<pipeline::Tap<'_, Result<Digests>>> = match &opts.unpack {
            Some((compression, extra)) => {
                let (compression, out, cancel) = (*compression, unpacked_path.as_path(), cancel);
                vec![Box::new(move |served: &mut pipeline::ChunkReader| unpack(served, compression, out, extra, cancel))]
            }
            None => Vec::new(),
        };
        let result = pipeline::copy_hash_and_tap(
            &mut body,
            Path::new(url),
            Some(Sink { file: &mut sink, path: &part }),
            &opts.extra,
            taps,
            cancel,
            &mut |done| progress(done, total.get()),
        );
        fetched += body.fetched;
        state = body.state.clone();
        let result = result.and_then(|(digests, mut unpacked)| match unpacked.pop() {
            Some(Ok(out)) => Ok((digests, Some((unpacked_path.clone(), out)))),
            Some(Err(e)) => {
                // Bytes that came whole but do not decompress are no use to a resume: the part goes
                // (and `fetch` removes the folder of an empty part).
                let _ = fs::write(&part, b"");
                Err(e)
            }
            None => Ok((digests, None)),
        });
        if result.is_err() {
            let _ = fs::remove_file(&unpacked_path);
        }
        match result {
            Ok((digests, unpacked)) => {
                fs::rename(&part, &named).map_err(|e| Error::io(&named, &e, true))?;
                let _ = fs::remove_file(&state_path);
                let resumed_from = resumed_from.unwrap_or(0);
                return Ok(Fetched { path: named, digests, fetched, resumed_from, restarts, unpacked });
            }
            Err(_) if body.restart && restarts < RESTARTS => {
                restarts += 1;
                tracing::info!(url, restarts, "the file changed on the server; downloading it again from the start");
                fs::write(&part, b"").map_err(|e| Error::io(&part, &e, true))?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Where a compressed download's image goes: beside it, named without the compression's suffix.
fn unpacked_path(served: &Path) -> PathBuf {
    let name = served.file_name().and_then(|n| n.to_str()).unwrap_or("image");
    let stem = [".gz", ".bz2", ".xz"].iter().find_map(|e| name.strip_suffix(e)).unwrap_or(name);
    let stem = if stem == "file" { "image" } else { stem };
    let dest = served.with_file_name(stem);
    if dest == served {
        served.with_file_name(format!("{stem}.out"))
    } else {
        dest
    }
}

/// The tap that decompresses the served bytes (all of them, from byte 0) into `out` as they come,
/// hashing what comes out; the image is written from the start on every pass.
fn unpack(
    served: &mut pipeline::ChunkReader,
    compression: crate::stores::Compression,
    out: &Path,
    extra: &[Algo],
    cancel: &CancelToken,
) -> Result<Digests> {
    use crate::stores::Compression;
    let mut reader: Box<dyn Read + '_> = match compression {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(served)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(served)),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(served)),
        Compression::None => Box::new(served),
    };
    let mut file = File::create(out).map_err(|e| Error::io(out, &e, true))?;
    pipeline::copy_and_hash(&mut reader, out, Some(Sink { file: &mut file, path: out }), extra, cancel, &mut |_| {}).map_err(|e| {
        if e.code == code::READ_FAILED {
            Error::new(
                code::INVALID_CONTENT,
                format!("The download is not valid {} data: {}", compression.as_str(), e.text),
                "The store said the file is compressed, but it does not decompress.",
                "Check the manifest's compression, or ask the store's owner.",
            )
        } else {
            e
        }
    })
}

/// Exclusive use of one URL's folder across processes: a second import of the same URL waits.
fn lock(dir: &Path) -> Result<File> {
    crate::store::lock_exclusive(&dir.join("lock"))
}

/// Writes only what comes after the first `skip` bytes: those are already in the file.
struct SkipWriter {
    inner: File,
    skip: u64,
}

impl Write for SkipWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len() as u64;
        if self.skip >= n {
            self.skip -= n;
            return Ok(buf.len());
        }
        let from = self.skip as usize;
        self.skip = 0;
        self.inner.write_all(&buf[from..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The whole file as one stream: the bytes already on disk, then the network, reconnecting with
/// `Range` after a cut.
struct Body<'a> {
    network: &'a Network,
    url: &'a str,
    state: State,
    state_path: &'a Path,
    prefix: Option<io::Take<File>>,
    /// Bytes of the file handed out so far.
    offset: u64,
    response: Option<Response>,
    /// What is left of the last chunk of the body that came (hyper's read of the socket).
    chunk: Bytes,
    /// The file's size once a server said it (shared with the progress callback).
    total: &'a Cell<Option<u64>>,
    expected_size: Option<u64>,
    max_size: Option<u64>,
    cancel: &'a CancelToken,
    /// Bytes that came over the network.
    fetched: u64,
    /// The server sent the whole file again: the pass must start over from byte 0.
    restart: bool,
}

impl Read for Body<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(prefix) = &mut self.prefix {
            let n = prefix.read(buf)?;
            if n > 0 {
                self.offset += n as u64;
                return Ok(n);
            }
            self.prefix = None;
        }
        let mut tries = 0;
        loop {
            if self.cancel.is_cancelled() {
                return Err(io_stop(Error::cancelled()));
            }
            if self.state.total.is_some_and(|t| self.offset >= t) && self.response.is_none() {
                return Ok(0);
            }
            let err = match self.read_network(buf) {
                Ok(n) => return Ok(n),
                Err(Failure::Fatal(e)) => return Err(io_stop(e)),
                Err(Failure::Retry(e)) => e,
            };
            self.response = None;
            tries += 1;
            if tries > RETRIES {
                return Err(io_stop(err));
            }
            tracing::info!(url = self.url, offset = self.offset, tries, "download interrupted; resuming");
            // Back-off: 0.5 s, 1 s, 2 s, 4 s, 8 s — waking early for a cancel.
            let wait = Duration::from_millis(500 << (tries - 1).min(4));
            let until = std::time::Instant::now() + wait;
            while std::time::Instant::now() < until {
                if self.cancel.is_cancelled() {
                    return Err(io_stop(Error::cancelled()));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

enum Failure {
    Retry(Error),
    Fatal(Error),
}

impl Body<'_> {
    fn read_network(&mut self, buf: &mut [u8]) -> std::result::Result<usize, Failure> {
        if self.response.is_none() {
            self.chunk = Bytes::new();
            self.response = Some(self.request()?);
        }
        if self.chunk.is_empty() {
            let resp = self.response.as_mut().expect("response opened");
            // Runs the connection on this thread until hyper has the next piece of the body.
            match self.network.runtime.block_on(resp.chunk()) {
                Ok(Some(chunk)) => self.chunk = chunk,
                Ok(None) => {
                    return match self.state.total {
                        Some(t) if self.offset < t => Err(Failure::Retry(cut(self.url, self.offset, t))),
                        _ => Ok(0),
                    }
                }
                Err(e) if e.is_timeout() => return Err(Failure::Fatal(stalled(self.url, self.offset))),
                Err(e) => {
                    return Err(Failure::Retry(Error::new(
                        code::DOWNLOAD_FAILED,
                        format!("The download of {} broke off at byte {}: {e}.", self.url, self.offset),
                        "The connection was closed before the whole file came.",
                        "Try again: the download resumes where it stopped.",
                    )))
                }
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        self.offset += n as u64;
        self.fetched += n as u64;
        match self.max_size {
            Some(max) if self.offset > max => Err(Failure::Fatal(too_large(self.url, max))),
            _ => Ok(n),
        }
    }

    /// Open a response that continues at `self.offset`.
    fn request(&mut self) -> std::result::Result<Response, Failure> {
        let mut req = self.network.client.get(self.url).header(header::ACCEPT_ENCODING, "identity");
        let resuming = self.offset > 0;
        crate::failpoint::failpoint("download.request");
        if resuming {
            req = req.header(header::RANGE, format!("bytes={}-", self.offset));
            if let Some(v) = &self.state.validator {
                req = req.header(header::IF_RANGE, v.as_str());
            }
        }
        let resp = self.network.runtime.block_on(req.send_logged("download")).map_err(|e| {
            let err = unreachable(self.url, &e);
            if e.is_timeout() {
                Failure::Fatal(stalled(self.url, self.offset))
            } else if err.code == code::TLS_FAILED {
                // A certificate does not get better by asking again.
                Failure::Fatal(err)
            } else if e.is_connect() || e.is_request() || e.is_body() {
                Failure::Retry(err)
            } else {
                Failure::Fatal(err)
            }
        })?;
        let status = resp.status();
        if resuming && status == StatusCode::RANGE_NOT_SATISFIABLE && self.state.total == Some(self.offset) {
            // Everything was already here.
            return Ok(resp);
        }
        match status {
            StatusCode::PARTIAL_CONTENT if resuming => {
                let start = content_range_start(resp.headers());
                if start != Some(self.offset) {
                    self.restart = true;
                    return Err(Failure::Fatal(changed(self.url)));
                }
                if self.state.total.is_none() {
                    self.state.total = content_range_total(resp.headers());
                    self.total.set(self.state.total);
                }
                Ok(resp)
            }
            StatusCode::OK | StatusCode::RANGE_NOT_SATISFIABLE if resuming => {
                // If-Range failed (the file changed), the server cannot resume, or the part on disk
                // is longer than the file now is: start over.
                self.restart = true;
                Err(Failure::Fatal(changed(self.url)))
            }
            StatusCode::OK => {
                let total = resp.content_length();
                if let (Some(want), Some(got)) = (self.expected_size, total) {
                    if want != got {
                        return Err(Failure::Fatal(Error::new(
                            code::CHECKSUM_MISMATCH,
                            format!("{} is {got} bytes on the server, but its manifest says {want}.", self.url),
                            "The file on the server is not the one the manifest describes.",
                            "Check the manifest and the file URL, or ask the store's owner.",
                        )));
                    }
                }
                self.state.validator = validator(resp.headers());
                self.state.total = total;
                self.total.set(total);
                let _ = fs::write(self.state_path, serde_json::to_vec(&self.state).unwrap_or_default());
                Ok(resp)
            }
            s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS || s == StatusCode::REQUEST_TIMEOUT => {
                Err(Failure::Retry(http_status(self.url, s)))
            }
            s => Err(Failure::Fatal(http_status(self.url, s))),
        }
    }
}

fn validator(h: &HeaderMap) -> Option<String> {
    // A weak ETag cannot be used with If-Range; Last-Modified then serves.
    h.get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .filter(|e| !e.starts_with("W/"))
        .or_else(|| h.get(header::LAST_MODIFIED).and_then(|v| v.to_str().ok()))
        .map(str::to_string)
}

/// The TOTAL of a `Content-Range: bytes START-END/TOTAL`.
fn content_range_total(h: &HeaderMap) -> Option<u64> {
    h.get(header::CONTENT_RANGE)?.to_str().ok()?.rsplit('/').next()?.trim().parse().ok()
}

/// The first byte of a `Content-Range: bytes START-END/TOTAL`.
fn content_range_start(h: &HeaderMap) -> Option<u64> {
    let v = h.get(header::CONTENT_RANGE)?.to_str().ok()?;
    v.strip_prefix("bytes ")?.split('-').next()?.trim().parse().ok()
}

fn stalled(url: &str, offset: u64) -> Error {
    Error::new(
        code::DOWNLOAD_STALLED,
        format!("The server of {url} stopped sending at byte {offset}."),
        "Nothing came for longer than the read timeout; the server or a proxy on the way is stuck.",
        "Try again later (the download resumes where it stopped), or allow a longer wait with --timeout SECONDS.",
    )
}

fn too_large(url: &str, max: u64) -> Error {
    Error::new(
        code::TOO_LARGE,
        format!("{url} is larger than {max} bytes."),
        "A checksum file or manifest is a small text file; this address serves something else.",
        "Check the URL: it should name the checksum file itself.",
    )
}

fn cut(url: &str, offset: u64, total: u64) -> Error {
    Error::new(
        code::DOWNLOAD_FAILED,
        format!("The download of {url} broke off at byte {offset} of {total}."),
        "The connection was closed before the whole file came.",
        "Try again: the download resumes where it stopped.",
    )
}

fn changed(url: &str) -> Error {
    Error::new(
        code::DOWNLOAD_FAILED,
        format!("{url} kept changing while it was downloaded."),
        "The server answered each resume with a different file.",
        "Try again once the file on the server has stopped changing.",
    )
}

pub(crate) fn unreachable(url: &str, e: &reqwest::Error) -> Error {
    if e.is_redirect() {
        return Error::new(
            code::DOWNLOAD_FAILED,
            format!("{url} was not downloaded: it redirects more than {REDIRECTS} times, or in a loop."),
            "Each answer sent the download on to another address, and none of them served the file.",
            "Open the URL in a browser to see where the file really is, and import that address.",
        );
    }
    let mut detail = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        detail = format!("{detail}: {s}");
        src = s.source();
    }
    let tls = detail.contains("certificate") || detail.contains("tls") || detail.contains("TLS");
    Error::new(
        if tls { code::TLS_FAILED } else { code::CONNECTION_FAILED },
        format!("Could not download {url}: {detail}."),
        if tls {
            "The server's certificate could not be verified against the system's trusted authorities."
        } else {
            "The server could not be reached, or closed the connection."
        },
        if tls {
            "Check the URL; a private authority's certificate belongs in the system's store (or SSL_CERT_FILE)."
        } else {
            "Check the URL and the network, then try again: what came so far is kept."
        },
    )
}

pub(crate) fn http_status(url: &str, s: StatusCode) -> Error {
    let (c, why, what) = match s.as_u16() {
        404 | 410 => (code::NOT_FOUND, "The server has no file at this address.", "Check the URL."),
        401 | 403 => (code::FORBIDDEN, "The server refused to hand out the file.", "Check the URL, or download it where you have access."),
        _ if s.is_server_error() => (code::REMOTE_UNAVAILABLE, "The server failed repeatedly.", "Try again later."),
        _ => (code::DOWNLOAD_FAILED, "The server did not send the file.", "Check the URL."),
    };
    Error::new(c, format!("{url} answered {s}."), why, what)
}

impl crate::Engine {
    /// Fetch checksum files named among URLs to import into downloads/ (each keeps its name from
    /// its URL), for an import to read like local ones. They go when the result is dropped; on an
    /// error, those already fetched go at once.
    pub fn fetch_checksum_urls(&self, urls: &[String], read_timeout: Duration) -> Result<FetchedSums> {
        self.check_writable()?;
        let mut sums = FetchedSums { downloads: self.layout().downloads(), urls: Vec::new(), paths: Vec::new() };
        let opts = FetchOptions { read_timeout, max_size: Some(crate::checksum::MAX_CHECKSUM_FILE), ..FetchOptions::default() };
        for url in urls {
            sums.urls.push(url.clone());
            sums.paths.push(fetch(&sums.downloads, url, &opts, &CancelToken::new(), &mut |_, _| {})?.path);
        }
        Ok(sums)
    }

    /// Download `url` as one item of a job: phase "downloading" with its bytes and size, SHA-256
    /// and the digests `expected` names computed on the way. A `remote` file is checked against
    /// the size and digest its manifest or store declared and, when served compressed,
    /// decompressed (the facts returned keep what was served). Digests that refer to the stored
    /// bytes are added to `expected`, so the import records them as evidence.
    pub(crate) fn download(
        &self,
        url: &str,
        remote: Option<&crate::stores::RemoteFile>,
        expected: &mut Vec<crate::checksum::ExpectedDigest>,
        read_timeout: Duration,
        step: &crate::runner::Step<'_>,
    ) -> Result<(Fetched, serde_json::Map<String, serde_json::Value>)> {
        use crate::stores::Compression;
        self.check_writable()?;
        step.phase("downloading");
        let declared = remote.and_then(|r| r.expected(url));
        let compression = remote.and_then(|r| r.compression).unwrap_or(Compression::None);
        let mut extra: Vec<Algo> = expected.iter().map(|e| e.algo).collect();
        extra.extend(declared.as_ref().map(|d| d.algo));
        let unpack = (compression != Compression::None).then(|| (compression, expected.iter().map(|e| e.algo).collect()));
        let digest_checked = !expected.is_empty() || declared.is_some();
        let opts = FetchOptions {
            extra,
            read_timeout,
            expected_size: remote.and_then(|r| r.size),
            unpack,
            digest_checked,
            ..FetchOptions::default()
        };
        let refuse = |e: Error| {
            discard(&self.layout().downloads(), url);
            Err(e)
        };
        let mut sized = None;
        let mut fetched = fetch(&self.layout().downloads(), url, &opts, step.cancel(), &mut |done, total| {
            if total != sized {
                if let Some(t) = total {
                    step.phase_sized("downloading", t);
                }
                sized = total;
            }
            step.progress(done);
        })?;
        tracing::info!(
            url,
            size = fetched.digests.size,
            fetched = fetched.fetched,
            resumed_from = fetched.resumed_from,
            restarts = fetched.restarts,
            "downloaded"
        );
        if let Some(d) = &declared {
            let actual = fetched.digests.get(d.algo).unwrap_or_default();
            if actual != d.hex {
                return refuse(crate::import::checksum_mismatch(&url_file_name(url), d, actual));
            }
            if let Some(size) = remote.and_then(|r| r.size).filter(|s| *s != fetched.digests.size) {
                return refuse(Error::new(
                    code::CHECKSUM_MISMATCH,
                    format!("{url} is {} bytes, but its manifest says {size}.", fetched.digests.size),
                    "The file is not the one the manifest describes.",
                    "Check the manifest and the file URL, or ask the store's owner.",
                ));
            }
        }
        let Some((path, digests)) = fetched.unpacked.take() else {
            if let Some(d) = declared {
                if !expected.iter().any(|e| e.algo == d.algo && e.hex == d.hex) {
                    expected.push(d);
                }
            }
            return Ok((fetched, serde_json::Map::new()));
        };
        // The image came decompressed in the same pass; the served file is no longer needed.
        let _ = fs::remove_file(&fetched.path);
        let facts = crate::stores::download_facts(remote.expect("compression comes with a remote file"), &fetched.digests);
        Ok((Fetched { path, digests, ..fetched }, facts))
    }
}

/// Checksum files fetched from URLs (see [`crate::Engine::fetch_checksum_urls`]); removed from
/// downloads/ when dropped, once the import that reads them is built or done.
pub struct FetchedSums {
    downloads: PathBuf,
    urls: Vec<String>,
    paths: Vec<PathBuf>,
}

impl FetchedSums {
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }
}

impl Drop for FetchedSums {
    fn drop(&mut self) {
        self.urls.iter().for_each(|u| discard(&self.downloads, u));
    }
}
