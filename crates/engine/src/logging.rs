//! Logs for support: structured events (every job's start and end, every request to a remote server
//! or cloud) as JSON lines in a size-capped, rotated file under the XDG state directory.
//!
//! One [`init`] serves the app and the CLI; each program writes its own file (`imagesmith.log`,
//! `imagesmith-cli.log`) so both can run at once. What goes in is chosen here, field by field: job
//! ids, kinds, states and error codes; a request's method, host, port, path and status. Never a
//! password, a token, a header, a body, a URL's user info or query, or an error's text (which can
//! quote what the user typed). The `log` crate is not bridged in, so libraries that print protocol
//! lines (suppaftp logs `PASS …` at trace level) cannot reach the file whatever `RUST_LOG` says.

use crate::error::{code, Error, Result};
use crate::jobs::JobState;
use file_rotate::compression::Compression;
use file_rotate::suffix::AppendCount;
use file_rotate::{ContentLimit, FileRotate};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tracing_subscriber::filter::{Directive, EnvFilter};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// Environment variable that puts the log files in another folder (tests, locked-down machines).
pub const LOG_DIR_ENV: &str = "IMAGESMITH_LOG_DIR";
/// A log file is rotated once it passes this size…
pub const FILE_BYTES: usize = 10 * 1024 * 1024;
/// …and this many files are kept: the current one and the older ones (`.1` newest).
pub const FILES: usize = 5;

/// Targets of Imagesmith's own crates (`imagesmith_engine`, `imagesmith_cli`, `imagesmith_app`):
/// EnvFilter matches targets by prefix.
const OURS: &str = "imagesmith";
/// Libraries that log through `tracing` and could print request details at debug or trace level:
/// held at info whatever `RUST_LOG` asks.
const CAPPED: &[&str] = &["h2", "hyper", "hyper_util", "reqwest", "rustls", "tower"];

/// How a program wants its logs.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// The file is `<program>.log` in [`log_dir`].
    pub program: String,
    /// 0: info for Imagesmith (or what `RUST_LOG` says), 1: debug, 2 and more: trace.
    pub verbosity: u8,
    /// Also write the events, as readable lines, to stderr.
    pub stderr: bool,
    /// The folder; `None` is [`log_dir`].
    pub dir: Option<PathBuf>,
    /// Rotate after this many bytes.
    pub file_bytes: usize,
    /// Keep this many files (at least 1: the current one).
    pub files: usize,
}

impl LogOptions {
    /// The desktop app: `imagesmith.log`, nothing on stderr.
    pub fn app() -> LogOptions {
        LogOptions { program: "imagesmith".into(), verbosity: 0, stderr: false, dir: None, file_bytes: FILE_BYTES, files: FILES }
    }

    /// The CLI: `imagesmith-cli.log`; `-v` (1) or `-vv` (2) raise the level and mirror to stderr.
    pub fn cli(verbosity: u8) -> LogOptions {
        LogOptions { program: "imagesmith-cli".into(), verbosity, stderr: verbosity > 0, ..LogOptions::app() }
    }
}

/// Where the log files go: `IMAGESMITH_LOG_DIR`, else `$XDG_STATE_HOME/imagesmith/logs` (by default
/// `~/.local/state/imagesmith/logs`).
pub fn log_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(LOG_DIR_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::state_dir().or_else(dirs::data_local_dir).map(|d| d.join("imagesmith").join("logs")).ok_or_else(|| {
        Error::new(
            code::WRITE_FAILED,
            "Could not find your user state directory for the log files.",
            "Neither XDG_STATE_HOME nor HOME is set, so there is no per-user place for logs.",
            format!("Set {LOG_DIR_ENV} to the folder the log files should go to."),
        )
    })
}

/// Create the log folder (readable by its owner only: logs name files and servers).
pub fn ensure_log_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| unwritable(dir, &e))
}

fn unwritable(path: &Path, e: &std::io::Error) -> Error {
    Error::new(
        code::WRITE_FAILED,
        format!("Could not write the log file {}: {e}.", path.display()),
        "The folder, or one above it, may be read-only, a file, or owned by another user.",
        format!("Set {LOG_DIR_ENV} to a folder you can write to, or fix the permissions of this one."),
    )
}

/// The level filter: `RUST_LOG` when set (else info for Imagesmith, warn for the rest), raised for
/// Imagesmith by `verbosity`, with the [`CAPPED`] libraries held at info.
fn filter(verbosity: u8) -> EnvFilter {
    filter_from(std::env::var("RUST_LOG").ok(), verbosity)
}

fn filter_from(rust_log: Option<String>, verbosity: u8) -> EnvFilter {
    let spec = rust_log.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| format!("warn,{OURS}=info"));
    let mut filter = EnvFilter::builder().parse_lossy(spec);
    let ours = match verbosity {
        0 => None,
        1 => Some("debug"),
        _ => Some("trace"),
    };
    let directives = ours.map(|level| format!("{OURS}={level}")).into_iter().chain(CAPPED.iter().map(|lib| format!("{lib}=info")));
    for d in directives {
        if let Ok(d) = d.parse::<Directive>() {
            filter = filter.add_directive(d);
        }
    }
    filter
}

/// The size-capped file, shared by every thread that logs.
struct RotatingFile(Mutex<FileRotate<AppendCount>>);

/// One event's write: holds the file while the formatted line is written in one piece.
struct RotatingFileGuard<'a>(MutexGuard<'a, FileRotate<AppendCount>>);

impl<'a> MakeWriter<'a> for RotatingFile {
    type Writer = RotatingFileGuard<'a>;
    fn make_writer(&'a self) -> Self::Writer {
        RotatingFileGuard(self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Write for RotatingFileGuard<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Open `<dir>/<program>.log` for appending, rotated after `file_bytes` (a line is never cut), with
/// `files - 1` older files kept.
fn rotating_file(dir: &Path, options: &LogOptions) -> Result<(RotatingFile, PathBuf)> {
    ensure_log_dir(dir)?;
    let path = dir.join(format!("{}.log", options.program));
    let mut open = std::fs::OpenOptions::new();
    open.read(true).create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    // file-rotate panics on a folder it cannot write; find that out here, as an error.
    open.open(&path).map_err(|e| unwritable(&path, &e))?;
    let file = FileRotate::new(
        &path,
        AppendCount::new(options.files.max(1) - 1),
        ContentLimit::BytesSurpassed(options.file_bytes.max(1)),
        Compression::None,
        Some(open),
    );
    Ok((RotatingFile(Mutex::new(file)), path))
}

/// The subscriber `init` installs: the filter, the JSON-lines file, and readable lines on stderr
/// when asked. Also returns the file's path.
fn subscriber(options: &LogOptions) -> Result<(impl tracing::Subscriber + Send + Sync, PathBuf)> {
    let dir = match &options.dir {
        Some(d) => d.clone(),
        None => log_dir()?,
    };
    let (file, path) = rotating_file(&dir, options)?;
    let file_layer =
        tracing_subscriber::fmt::layer().json().flatten_event(true).with_current_span(false).with_span_list(false).with_writer(file);
    let stderr_layer = options.stderr.then(|| tracing_subscriber::fmt::layer().with_ansi(false).with_writer(std::io::stderr));
    let subscriber = tracing_subscriber::registry().with(filter(options.verbosity)).with(file_layer).with(stderr_layer);
    Ok((subscriber, path))
}

/// Start logging for this process; returns the log file. Call once, first thing in `main`. When the
/// file cannot be opened the error says why, and stderr (if asked for) still gets the events. A
/// panic is logged (where it happened) before the usual panic message.
pub fn init(options: &LogOptions) -> Result<PathBuf> {
    let (subscriber, path) = match subscriber(options) {
        Ok(made) => made,
        Err(e) => {
            if options.stderr {
                let stderr_only = tracing_subscriber::registry()
                    .with(filter(options.verbosity))
                    .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(std::io::stderr));
                let _ = tracing::subscriber::set_global_default(stderr_only);
            }
            return Err(e);
        }
    };
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        // Set up already by an earlier call in this process; that one stays.
        return Ok(path);
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        // Only a literal message: a formatted one (`expect` on an error) can quote what the user typed.
        let message = info.payload().downcast_ref::<&str>().copied().unwrap_or("");
        tracing::error!(target: "imagesmith_engine::panic", location, message, "panic");
        previous(info);
    }));
    tracing::info!(target: "imagesmith_engine::logging", program = %options.program, version = crate::VERSION, pid = std::process::id(), "logging started");
    Ok(path)
}

// ---- jobs ----

/// A job was created: its id, its kind and how many items it has.
pub fn log_job_started(job_id: i64, kind: &str, items: usize) {
    tracing::info!(target: "imagesmith_engine::jobs", job_id, kind, items, "job started");
}

/// A job ended: its id, kind and state, and its error's code when it has one (never its text). A
/// failed or interrupted job is a warning.
pub fn log_job_finished(job_id: i64, kind: &str, state: JobState, error: Option<&Error>) {
    let bad = matches!(state, JobState::Failed | JobState::PartlySucceeded | JobState::Interrupted);
    let state = state.as_str();
    match (bad, error) {
        (true, Some(e)) => tracing::warn!(target: "imagesmith_engine::jobs", job_id, kind, state, error = %e.code, "job finished"),
        (true, None) => tracing::warn!(target: "imagesmith_engine::jobs", job_id, kind, state, "job finished"),
        (false, Some(e)) => tracing::info!(target: "imagesmith_engine::jobs", job_id, kind, state, error = %e.code, "job finished"),
        (false, None) => tracing::info!(target: "imagesmith_engine::jobs", job_id, kind, state, "job finished"),
    }
}

// ---- remote requests ----

/// One HTTP request to a cloud, a file server or a download's server (`service`: keystone, glance,
/// webdav, download): method, host, port, path and status (or how it failed) and the time it took.
/// Never headers, bodies, the URL's user info or query string.
pub(crate) fn log_http(
    service: &str,
    method: &reqwest::Method,
    url: &reqwest::Url,
    answer: std::result::Result<reqwest::StatusCode, &reqwest::Error>,
    took: Duration,
) {
    let host = url.host_str().unwrap_or("");
    let port = url.port_or_known_default().unwrap_or(0);
    let path = url.path();
    let ms = took.as_millis() as u64;
    let method = method.as_str();
    match answer {
        Ok(status) if status.is_client_error() || status.is_server_error() => {
            tracing::warn!(target: "imagesmith_engine::remote", service, method, host, port, path, status = status.as_u16(), ms, "request")
        }
        Ok(status) => {
            tracing::info!(target: "imagesmith_engine::remote", service, method, host, port, path, status = status.as_u16(), ms, "request")
        }
        Err(e) => {
            let failure = transport_failure(e);
            tracing::warn!(target: "imagesmith_engine::remote", service, method, host, port, path, failure, ms, "request failed")
        }
    }
}

/// What went wrong with a request that got no answer, without the URL reqwest's own text carries.
fn transport_failure(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() {
        "body"
    } else if e.is_redirect() {
        "redirect"
    } else {
        "request"
    }
}

/// A request on its way out, for [`log_http`] once it is answered (either client).
struct RequestLog {
    method: reqwest::Method,
    url: reqwest::Url,
    started: Instant,
}

impl RequestLog {
    fn start(method: &reqwest::Method, url: &reqwest::Url) -> Self {
        RequestLog { method: method.clone(), url: url.clone(), started: Instant::now() }
    }

    fn answered(self, service: &str, answer: std::result::Result<reqwest::StatusCode, &reqwest::Error>) {
        log_http(service, &self.method, &self.url, answer, self.started.elapsed());
    }
}

/// Send a blocking request and log it (see [`log_http`]).
pub(crate) trait SendLogged {
    fn send_logged(self, service: &str) -> reqwest::Result<reqwest::blocking::Response>;
}

impl SendLogged for reqwest::blocking::RequestBuilder {
    fn send_logged(self, service: &str) -> reqwest::Result<reqwest::blocking::Response> {
        let (client, request) = self.build_split();
        let request = request?;
        let log = RequestLog::start(request.method(), request.url());
        let result = client.execute(request);
        log.answered(service, result.as_ref().map(|r| r.status()));
        result
    }
}

/// Send an async request and log it (see [`log_http`]): [`SendLogged`] for reqwest's async client.
pub(crate) trait SendLoggedAsync {
    async fn send_logged(self, service: &str) -> reqwest::Result<reqwest::Response>;
}

impl SendLoggedAsync for reqwest::RequestBuilder {
    async fn send_logged(self, service: &str) -> reqwest::Result<reqwest::Response> {
        let (client, request) = self.build_split();
        let request = request?;
        let log = RequestLog::start(request.method(), request.url());
        let result = client.execute(request).await;
        log.answered(service, result.as_ref().map(|r| r.status()));
        result
    }
}

/// One step with a file server that is not HTTP (`protocol`: sftp, ftp, ftps; `step`: connect,
/// login, put): host, port, bytes for a put, and the error's code when it failed.
pub(crate) fn log_remote_step<T>(
    protocol: &str,
    step: &str,
    host: &str,
    port: u16,
    bytes: Option<u64>,
    work: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let started = Instant::now();
    let result = work();
    let ms = started.elapsed().as_millis() as u64;
    match (&result, bytes) {
        (Ok(_), Some(bytes)) => tracing::info!(target: "imagesmith_engine::remote", protocol, step, host, port, bytes, ms, "remote"),
        (Ok(_), None) => tracing::info!(target: "imagesmith_engine::remote", protocol, step, host, port, ms, "remote"),
        (Err(e), _) => {
            tracing::warn!(target: "imagesmith_engine::remote", protocol, step, host, port, error = %e.code, ms, "remote failed")
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn options(dir: &Path, file_bytes: usize, files: usize) -> LogOptions {
        LogOptions { program: "test".into(), verbosity: 0, stderr: false, dir: Some(dir.to_path_buf()), file_bytes, files }
    }

    /// Run `f` with the real file subscriber on this thread; the log lines of every file, oldest first.
    fn logged(dir: &Path, file_bytes: usize, files: usize, f: impl FnOnce()) -> Vec<Value> {
        let (subscriber, path) = subscriber(&options(dir, file_bytes, files)).unwrap();
        tracing::subscriber::with_default(subscriber, f);
        read_lines(&path, files)
    }

    fn read_lines(path: &Path, files: usize) -> Vec<Value> {
        let mut lines = Vec::new();
        for n in (0..files).rev() {
            let p = if n == 0 { path.to_path_buf() } else { PathBuf::from(format!("{}.{n}", path.display())) };
            if let Ok(text) = std::fs::read_to_string(&p) {
                lines.extend(text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"))));
            }
        }
        lines
    }

    #[test]
    fn the_file_rotates_at_the_cap_and_keeps_only_so_many_files() {
        let dir = tempfile::tempdir().unwrap();
        let lines = logged(dir.path(), 4096, 3, || {
            for n in 0..400 {
                tracing::info!(target: "imagesmith_engine::test", n, "filler line to fill the log");
            }
        });
        let mut names: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["test.log", "test.log.1", "test.log.2"], "the current file and two older ones, no more");
        for name in &names {
            let len = std::fs::metadata(dir.path().join(name)).unwrap().len();
            assert!(len <= 4096 + 300, "{name} is {len} bytes: rotated once past the cap (by at most one line)");
        }
        // What is left is the newest events, in order, each a whole JSON line.
        let ns: Vec<u64> = lines.iter().map(|l| l["n"].as_u64().unwrap()).collect();
        assert_eq!(*ns.last().unwrap(), 399);
        assert!(ns.windows(2).all(|w| w[1] == w[0] + 1), "no line lost or cut inside the kept files");
        assert!(ns[0] > 0, "the oldest events were dropped with the oldest file");
        assert!(lines.iter().all(|l| l["message"] == "filler line to fill the log" && l["level"] == "INFO" && l["timestamp"].is_string()));
    }

    #[test]
    fn a_job_start_and_end_are_logged_with_id_kind_and_state() {
        let home = tempfile::tempdir().unwrap();
        let logs = tempfile::tempdir().unwrap();
        let lines = logged(logs.path(), FILE_BYTES, FILES, || {
            let conn = crate::db::open(&home.path().join("catalog.db"), true).unwrap();
            let ok =
                crate::jobs::create(&conn, crate::jobs::JobKind::Verify, "s1", &[("/a".into(), Some(1)), ("/b".into(), None)], 1).unwrap();
            let failed = crate::jobs::create(&conn, crate::jobs::JobKind::Export, "s1", &[("/c".into(), Some(1))], 1).unwrap();
            crate::jobs::finish(&conn, ok, JobState::Succeeded, "2 verified", None).unwrap();
            let e = Error::new(code::REMOTE_FAILED, "upload to https://u:hunter2@host/x failed", "why", "what");
            crate::jobs::finish(&conn, failed, JobState::Failed, &e.text, Some(&e)).unwrap();
        });
        let jobs: Vec<&Value> = lines.iter().filter(|l| l["target"] == "imagesmith_engine::jobs").collect();
        assert_eq!(jobs.len(), 4, "{lines:#?}");
        let line = |message: &str, id: i64| {
            jobs.iter().find(|l| l["message"] == message && l["job_id"] == id).unwrap_or_else(|| panic!("no {message} for {id}: {jobs:#?}"))
        };
        assert_eq!((line("job started", 1)["kind"].as_str(), line("job started", 1)["items"].as_u64()), (Some("verify"), Some(2)));
        assert_eq!(
            (line("job finished", 1)["kind"].as_str(), line("job finished", 1)["state"].as_str()),
            (Some("verify"), Some("succeeded"))
        );
        let f = line("job finished", 2);
        assert_eq!(
            (f["kind"].as_str(), f["state"].as_str(), f["error"].as_str(), f["level"].as_str()),
            (Some("export"), Some("failed"), Some("remote_failed"), Some("WARN"))
        );
        let text = lines.iter().map(Value::to_string).collect::<String>();
        assert!(!text.contains("hunter2"), "an error's text (which may quote a URL) stays out of the log");
    }

    #[test]
    fn a_request_logs_method_host_and_status_but_no_user_info_or_query() {
        let dir = tempfile::tempdir().unwrap();
        let lines = logged(dir.path(), FILE_BYTES, FILES, || {
            let url = reqwest::Url::parse("https://admin:s3cr3t-pw@cloud.example:5000/v3/auth/tokens?token=t0k3n").unwrap();
            log_http("keystone", &reqwest::Method::POST, &url, Ok(reqwest::StatusCode::CREATED), Duration::from_millis(12));
            let _ = log_remote_step("ftp", "login", "files.example", 21, None, || {
                Err::<(), _>(Error::new(code::AUTH_FAILED, "PASS hunter2 refused", "", ""))
            });
        });
        let req = lines.iter().find(|l| l["message"] == "request").unwrap();
        assert_eq!(
            (
                req["service"].as_str(),
                req["method"].as_str(),
                req["host"].as_str(),
                req["port"].as_u64(),
                req["path"].as_str(),
                req["status"].as_u64()
            ),
            (Some("keystone"), Some("POST"), Some("cloud.example"), Some(5000), Some("/v3/auth/tokens"), Some(201))
        );
        let step = lines.iter().find(|l| l["message"] == "remote failed").unwrap();
        assert_eq!(
            (step["protocol"].as_str(), step["step"].as_str(), step["error"].as_str()),
            (Some("ftp"), Some("login"), Some("auth_failed"))
        );
        let text = lines.iter().map(Value::to_string).collect::<String>();
        for secret in ["admin", "s3cr3t-pw", "t0k3n", "hunter2"] {
            assert!(!text.contains(secret), "{secret} reached the log: {text}");
        }
    }

    #[test]
    fn verbosity_raises_imagesmith_and_never_the_libraries_that_print_requests() {
        let dir = tempfile::tempdir().unwrap();
        let at = |rust_log: Option<&str>, verbosity: u8| {
            let opts = LogOptions { program: format!("v{verbosity}-{}", rust_log.unwrap_or("")), ..options(dir.path(), FILE_BYTES, FILES) };
            let (file, path) = rotating_file(dir.path(), &opts).unwrap();
            let layer = tracing_subscriber::fmt::layer().json().flatten_event(true).with_writer(file);
            let subscriber = tracing_subscriber::registry().with(filter_from(rust_log.map(str::to_string), verbosity)).with(layer);
            tracing::subscriber::with_default(subscriber, || {
                tracing::info!(target: "imagesmith_app::x", "ours info");
                tracing::debug!(target: "imagesmith_engine::x", "ours debug");
                tracing::trace!(target: "imagesmith_cli", "ours trace");
                tracing::info!(target: "other", "other info");
                tracing::debug!(target: "h2::codec", "library debug");
            });
            read_lines(&path, 1).iter().map(|l| l["message"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        };
        assert_eq!(at(None, 0), ["ours info"]);
        assert_eq!(at(None, 1), ["ours info", "ours debug"]);
        assert_eq!(at(None, 2), ["ours info", "ours debug", "ours trace"]);
        // RUST_LOG decides, -v still raises Imagesmith, and the capped libraries stay at info.
        assert_eq!(at(Some("info"), 0), ["ours info", "other info"]);
        assert_eq!(at(Some("trace"), 1), ["ours info", "ours debug", "other info"]);
    }
}
