//! Remote file servers (SFTP, FTP, FTPS, WebDAV over HTTP or HTTPS): saved servers, checked paths,
//! one small trait the protocols implement, connection tests and host-key trust.
//!
//! Secrets never reach SQLite: a server row only says whether its password or key passphrase is
//! in the OS keyring (`secrets.rs`). Every remote path component is validated here, before any
//! protocol sees it. Uploads themselves (temp name, verify, rename, leftovers) are in `upload.rs`.

mod ftp;
mod sftp;
mod upload;
mod webdav;

pub use upload::ServerExportRequest;

use crate::db::{params, Connection, OptionalExtension};
use crate::error::{code, Error, Result};
use crate::secrets::{Owner, Secret};
use crate::{catalog, clock, Engine};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// How long connecting (TCP, then the SSH/TLS handshake) may take before `connection_failed`.
pub(crate) use crate::http::CONNECT_TIMEOUT;
/// How long one request or reply may stay silent before the server is taken as gone.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// The protocols a file server can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Protocol {
    Sftp,
    Ftp,
    /// FTP with explicit TLS (AUTH TLS) on the control and data connections.
    Ftps,
    Webdav,
    /// WebDAV over HTTPS.
    Webdavs,
}

impl Protocol {
    pub const ALL: [Protocol; 5] = [Protocol::Sftp, Protocol::Ftp, Protocol::Ftps, Protocol::Webdav, Protocol::Webdavs];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Sftp => "sftp",
            Protocol::Ftp => "ftp",
            Protocol::Ftps => "ftps",
            Protocol::Webdav => "webdav",
            Protocol::Webdavs => "webdavs",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Protocol::Sftp => 22,
            Protocol::Ftp | Protocol::Ftps => 21,
            Protocol::Webdav => 80,
            Protocol::Webdavs => 443,
        }
    }

    /// The URL scheme files on such a server are shown with.
    fn scheme(self) -> &'static str {
        match self {
            Protocol::Sftp => "sftp",
            Protocol::Ftp => "ftp",
            Protocol::Ftps => "ftps",
            Protocol::Webdav => "http",
            Protocol::Webdavs => "https",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Protocol::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            Error::invalid_argument(format!("\"{s}\" is not a file server protocol."), "Use one of sftp, ftp, ftps, webdav, webdavs.")
        })
    }
}

/// A saved file server, as the app and `server list` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Server {
    pub id: i64,
    pub name: String,
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    /// Folder exports go to: relative to the login folder, or absolute when it starts with `/`
    /// (WebDAV: always from the server's root). Empty: the login folder.
    pub path: String,
    pub user: String,
    /// SFTP private key file; SFTP without one uses password authentication.
    pub key_file: Option<String>,
    /// SFTP host key the user confirmed (`SHA256:…`, as OpenSSH prints it), when it is not in
    /// ~/.ssh/known_hosts.
    pub host_key_fingerprint: Option<String>,
    /// Whether the password (or key passphrase) is kept in the OS keyring; otherwise it is asked
    /// for each time it is needed (`secret_required`).
    pub secret_in_keyring: bool,
    /// Where exports go, as a URL (`sftp://user@host:22/path`).
    pub url: String,
    pub created_at: String,
    pub updated_at: String,
    /// Who saved it, as `user@host` (none for servers saved before this was recorded).
    pub created_by: Option<String>,
}

/// What a new server is made of (`add_server`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ServerSpec {
    pub name: String,
    pub protocol: Protocol,
    pub host: String,
    /// None: the protocol's default port.
    pub port: Option<u16>,
    #[serde(default)]
    pub path: String,
    pub user: String,
    /// SFTP only: authenticate with this private key (its passphrase, if any, is the secret).
    pub key_file: Option<PathBuf>,
    /// SFTP only: the host key fingerprint the user confirmed (from `probe_host_key`).
    pub host_key_fingerprint: Option<String>,
}

/// The outcome of `add_server`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AddServerReport {
    pub server: Server,
    /// Set when a secret was given but the OS keyring could not keep it (`keyring_unavailable`):
    /// the server is saved, and the secret will be asked for each time.
    pub keyring_error: Option<Error>,
}

/// What `test_server` found: the server answered, accepted the login, and the folder is writable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ServerTestReport {
    pub server: String,
    pub url: String,
    /// The folder did not exist and was created.
    pub path_created: bool,
    /// A small file was written into the folder and removed again.
    pub writable: bool,
    /// SFTP: the host key's fingerprint (`SHA256:…`).
    pub host_key_fingerprint: Option<String>,
    /// How the server introduced itself (SSH version string, FTP welcome, HTTP Server header).
    pub banner: Option<String>,
    /// FTPS and WebDAV over HTTPS: the negotiated TLS version and cipher suite.
    pub tls: Option<String>,
    /// Temp files of earlier failed uploads that were removed from the server on this connection.
    pub leftovers_removed: u32,
}

/// Whether ~/.ssh/known_hosts knows a host key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum KnownHost {
    /// Listed with this very key.
    Match,
    /// Listed with another key: never trust it without checking (`host_key_mismatch`).
    Mismatch,
    /// Not listed: ask the user to confirm the fingerprint (trust on first use).
    Unknown,
}

/// An SFTP server's host key, for the trust-on-first-use confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HostKeyProbe {
    /// `SHA256:` and the unpadded base64 of the key's SHA-256, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    /// The key's algorithm (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …).
    pub key_type: String,
    pub known_hosts: KnownHost,
}

// ---- remote paths ----

/// A checked path on a server: no `..`, no control characters, no backslashes, no empty names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemotePath {
    pub absolute: bool,
    pub parts: Vec<String>,
}

impl RemotePath {
    /// Parse and check a path typed by a user (or stored by us). `.` and empty parts are dropped.
    pub fn parse(path: &str) -> Result<RemotePath> {
        let absolute = path.trim_start().starts_with('/');
        let mut parts = Vec::new();
        for part in path.trim().split('/') {
            if part.is_empty() || part == "." {
                continue;
            }
            check_component(part, path)?;
            parts.push(part.to_string());
        }
        Ok(RemotePath { absolute, parts })
    }

    /// This folder with `name` appended (checked like any component).
    pub fn join(&self, name: &str) -> Result<RemotePath> {
        check_component(name, name)?;
        let mut p = self.clone();
        p.parts.push(name.to_string());
        Ok(p)
    }

    /// `a/b/c`, or `/a/b/c` when absolute; `.` for the login folder itself.
    pub fn display(&self) -> String {
        let joined = self.parts.join("/");
        match (self.absolute, joined.is_empty()) {
            (true, _) => format!("/{joined}"),
            (false, true) => ".".into(),
            (false, false) => joined,
        }
    }

    /// Every folder from the first component down to this one (`a`, `a/b`, `a/b/c`).
    pub fn prefixes(&self) -> Vec<RemotePath> {
        (1..=self.parts.len()).map(|n| RemotePath { absolute: self.absolute, parts: self.parts[..n].to_vec() }).collect()
    }

    pub fn file_name(&self) -> &str {
        self.parts.last().map(String::as_str).unwrap_or("")
    }
}

fn check_component(part: &str, whole: &str) -> Result<()> {
    let bad = part == ".." || part.len() > 255 || part.chars().any(|c| c.is_control() || c == '\\') || part.trim().is_empty();
    if bad {
        return Err(Error::new(
            code::INVALID_ARGUMENT,
            format!("The remote path \"{}\" cannot be used.", whole.escape_default()),
            "Remote folders and file names may not contain `..`, backslashes or control characters, and each name is at most 255 bytes.",
            "Give a plain folder path such as `exports/profiles`.",
        ));
    }
    Ok(())
}

// ---- the protocols behind one trait ----

/// What one connected, authenticated server can do. Each call works on checked paths; errors
/// carry the codes the UI branches on (`remote_failed`, `remote_path_missing`, …).
pub(crate) trait Remote: Send {
    /// Create the folder and its missing parents. Returns whether anything was created.
    fn ensure_dir(&mut self, dir: &RemotePath) -> Result<bool>;
    /// Write `len` bytes from `src` to `path`, replacing what is there.
    fn put(&mut self, path: &RemotePath, src: Box<dyn Read + Send>, len: u64) -> Result<()>;
    /// The size of a file, `None` when it does not exist.
    fn size(&mut self, path: &RemotePath) -> Result<Option<u64>>;
    /// Read a file back into `sink`.
    fn get(&mut self, path: &RemotePath, sink: &mut (dyn Write + Send)) -> Result<()>;
    /// Rename `from` to `to`, replacing `to`.
    fn rename(&mut self, from: &RemotePath, to: &RemotePath) -> Result<()>;
    /// Delete a file. Returns false when it was not there.
    fn delete(&mut self, path: &RemotePath) -> Result<bool>;
}

/// Facts learnt while connecting, for `test_server`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    pub host_key_fingerprint: Option<String>,
    pub banner: Option<String>,
    pub tls: Option<String>,
}

/// One open connection.
pub(crate) struct Link {
    pub remote: Box<dyn Remote>,
    pub facts: Facts,
}

/// A saved server together with what is needed to reach it.
#[derive(Clone)]
pub(crate) struct Target {
    pub server: Server,
    pub base: RemotePath,
}

impl Target {
    /// `scheme://user@host:port/path` for a path on this server.
    pub fn url(&self, path: &RemotePath) -> String {
        url_for(&self.server, path)
    }

    /// Where an error happened, for texts: `sftp server "backup" (127.0.0.1:2222)`.
    pub fn label(&self) -> String {
        format!("{} server \"{}\" ({}:{})", self.server.protocol, self.server.name, self.server.host, self.server.port)
    }
}

fn url_for(s: &Server, path: &RemotePath) -> String {
    let host = if s.host.contains(':') && !s.host.starts_with('[') { format!("[{}]", s.host) } else { s.host.clone() };
    let shown = match (s.protocol, path.absolute) {
        // curl's convention: sftp://host/~/x is x in the login folder.
        (Protocol::Sftp, false) if !path.parts.is_empty() => format!("/~/{}", path.parts.join("/")),
        _ => format!("/{}", path.parts.join("/")),
    };
    format!("{}://{}@{host}:{}{shown}", s.protocol.scheme(), s.user, s.port)
}

// ---- errors every protocol uses ----

pub(crate) fn connection_failed(t: &Target, detail: impl fmt::Display) -> Error {
    connection_failed_to(&t.label(), detail)
}

/// `connection_failed` for a server that is not saved yet (`what`: e.g. `SSH server 10.0.0.5:22`).
pub(crate) fn connection_failed_to(what: &str, detail: impl fmt::Display) -> Error {
    Error::new(
        code::CONNECTION_FAILED,
        format!("Could not connect to the {what}: {detail}."),
        "The server may be down, the host name or port may be wrong, or a firewall blocks the connection.",
        "Check that the server runs and answers on that host and port, then try again.",
    )
}

pub(crate) fn tls_failed(t: &Target, detail: impl fmt::Display) -> Error {
    tls_failed_to(&t.label(), detail)
}

/// `tls_failed` for anything named `what` (a team repository's catalog or object store too).
pub(crate) fn tls_failed_to(what: &str, detail: impl fmt::Display) -> Error {
    Error::new(
        code::TLS_FAILED,
        format!("The TLS connection to the {what} could not be verified: {detail}."),
        "Imagesmith checks the server's certificate against the system's trusted certificate authorities (and SSL_CERT_FILE when set). \
         A self-signed certificate, one from a private CA, an expired one or one issued for another name is refused.",
        "Install the CA that signed the server's certificate in the system trust store (or point SSL_CERT_FILE at it), \
         or connect by the name the certificate was issued for.",
    )
}

pub(crate) fn auth_failed(t: &Target, how: &str) -> Error {
    Error::new(
        code::AUTH_FAILED,
        format!("The {} refused the login of \"{}\" with {how}.", t.label(), t.server.user),
        "The user name, password, key or passphrase is wrong, or the account may not log in there.",
        "Check the user and the secret (in the CLI: IMAGESMITH_PASSWORD or --password-stdin; the key with --key), then try again.",
    )
}

pub(crate) fn remote_failed(t: &Target, doing: &str, detail: impl fmt::Display) -> Error {
    Error::new(
        code::REMOTE_FAILED,
        format!("The {} failed while {doing}: {detail}.", t.label()),
        "The server refused the operation (permissions, quota, a full disk) or the connection was lost.",
        "Check the folder's permissions and free space on the server and that it is still running, then try again.",
    )
}

pub(crate) fn path_missing(t: &Target, path: &RemotePath, detail: impl fmt::Display) -> Error {
    Error::new(
        code::REMOTE_PATH_MISSING,
        format!("The folder {} is missing on the {} and could not be created: {detail}.", path.display(), t.label()),
        "Imagesmith creates missing folders, but the server refused (no permission, or a file of that name is in the way).",
        "Create the folder on the server or choose another path, then try again.",
    )
}

/// An SFTP host key that neither ~/.ssh/known_hosts nor the user has confirmed.
pub fn host_key_unknown(host: &str, port: u16, fingerprint: &str) -> Error {
    Error::new(
        code::HOST_KEY_UNKNOWN,
        format!("The SSH host key of {host}:{port} is not known yet; its fingerprint is {fingerprint}."),
        "The first connection to an SSH server cannot prove who answers: the key must be confirmed once, by comparing \
         its fingerprint with the one the server's administrator reads on the server (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub).",
        format!("If {fingerprint} is the server's fingerprint, trust it: in the CLI add the server with --trust-host-key; in the app confirm it when asked."),
    )
}

/// An SFTP host key that differs from the one known for that host.
pub fn host_key_mismatch(host: &str, port: u16, fingerprint: &str, expected: &str) -> Error {
    Error::new(
        code::HOST_KEY_MISMATCH,
        format!("The SSH host key of {host}:{port} has changed: it is now {fingerprint}, but {expected} was expected."),
        "The server was reinstalled or its keys were replaced, or someone is intercepting the connection. Imagesmith never \
         trusts a changed key by itself.",
        "Ask the server's administrator whether the key changed. If it did, remove the old entry (ssh-keygen -R HOST in \
         ~/.ssh/known_hosts, or remove and add the server again) and confirm the new fingerprint.",
    )
}

fn server_not_found(name: &str) -> Error {
    Error::new(
        code::NOT_FOUND,
        format!("No file server named \"{name}\" is saved."),
        "Servers are saved with `server add` or in the app's export dialog; the name may be spelled differently.",
        "List the saved servers (`imagesmith-cli server list`) and use one of their names.",
    )
}

fn invalid(text: String, recovery: &str) -> Error {
    Error::invalid_argument(text, recovery)
}

// ---- catalog ----

const COLUMNS: &str =
    "id, name, protocol, host, port, base_path, \"user\", key_file, host_key_fingerprint, secret_in_keyring, created_at, updated_at, created_by";

fn row_to_server(r: &crate::db::Row<'_>) -> crate::db::SqlResult<Server> {
    let mut s = Server {
        id: r.get(0)?,
        name: r.get(1)?,
        protocol: crate::db::word(r, 2)?,
        host: r.get(3)?,
        port: r.get::<_, i64>(4)? as u16,
        path: r.get(5)?,
        user: r.get(6)?,
        key_file: r.get(7)?,
        host_key_fingerprint: r.get(8)?,
        secret_in_keyring: r.get::<_, i64>(9)? != 0,
        url: String::new(),
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        created_by: r.get(12)?,
    };
    s.url = url_for(&s, &RemotePath::parse(&s.path).unwrap_or(RemotePath { absolute: false, parts: vec![] }));
    Ok(s)
}

fn find(conn: &Connection, name: &str) -> Result<Server> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM servers WHERE name = ?1 COLLATE NOCASE"), [name.trim()], row_to_server)
        .optional()?
        .ok_or_else(|| server_not_found(name))
}

fn check_host(host: &str) -> Result<String> {
    let h = host.trim();
    let ok =
        !h.is_empty() && h.len() <= 253 && h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'));
    if !ok {
        return Err(invalid(
            format!("\"{}\" is not a host name or address.", host.escape_default()),
            "Give a host name (files.example.com) or an IP address.",
        ));
    }
    Ok(h.trim_start_matches('[').trim_end_matches(']').to_string())
}

fn check_user(user: &str) -> Result<String> {
    let u = user.trim();
    if u.is_empty() || u.len() > 255 || u.chars().any(|c| c.is_control()) {
        return Err(invalid(
            format!("\"{}\" cannot be used as a user name.", user.escape_default()),
            "Give the account name you log in with.",
        ));
    }
    Ok(u.to_string())
}

/// `SHA256:` plus 43 characters of unpadded base64.
fn check_fingerprint(fp: &str) -> Result<String> {
    let fp = fp.trim();
    let ok =
        fp.strip_prefix("SHA256:").is_some_and(|b| b.len() == 43 && b.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/'));
    if !ok {
        return Err(invalid(
            format!("\"{}\" is not an SSH host key fingerprint.", fp.escape_default()),
            "Give it as OpenSSH prints it: SHA256: followed by 43 characters.",
        ));
    }
    Ok(fp.to_string())
}

impl Engine {
    /// Save a file server. A secret given here (password, or SFTP key passphrase) goes to the OS
    /// keyring; when there is none, the server is still saved, `keyring_error` says why, and the
    /// secret is asked for whenever it is needed. SFTP host keys are not checked here: call
    /// `probe_host_key` first and pass the fingerprint the user confirmed.
    pub fn add_server(&self, spec: &ServerSpec, secret: Option<&Secret>) -> Result<AddServerReport> {
        let name = catalog::validate_name(&spec.name)?;
        let host = check_host(&spec.host)?;
        let user = check_user(&spec.user)?;
        let port = spec.port.unwrap_or(spec.protocol.default_port());
        if port == 0 {
            return Err(invalid("Port 0 cannot be used.".into(), "Give the server's port, or leave it out for the protocol's default."));
        }
        let path = RemotePath::parse(&spec.path)?;
        let stored_path = if path.parts.is_empty() && !path.absolute { String::new() } else { path.display() };
        let key_file = match (&spec.key_file, spec.protocol) {
            (None, _) => None,
            (Some(k), Protocol::Sftp) => {
                let abs = std::fs::canonicalize(k).map_err(|e| Error::io(k, &e, false))?;
                if !abs.is_file() {
                    return Err(invalid(
                        format!("The key file {} is not a file.", k.display()),
                        "Give the private key file (for example ~/.ssh/id_ed25519).",
                    ));
                }
                Some(abs.to_string_lossy().into_owned())
            }
            (Some(_), p) => {
                return Err(invalid(
                    format!("A key file only applies to sftp servers, not {p}."),
                    "Leave out the key file; this protocol logs in with a password.",
                ))
            }
        };
        let fingerprint = match (&spec.host_key_fingerprint, spec.protocol) {
            (None, _) => None,
            (Some(fp), Protocol::Sftp) => Some(check_fingerprint(fp)?),
            (Some(_), p) => return Err(invalid(format!("A host key only applies to sftp servers, not {p}."), "Leave out the host key.")),
        };
        let now = clock::now();
        let id = self.write(|tx| {
            if tx.query_row("SELECT 1 FROM servers WHERE name = ?1 COLLATE NOCASE", [&name], |_| Ok(())).optional()?.is_some() {
                return Err(Error::new(
                    code::NAME_TAKEN,
                    format!("A file server named \"{name}\" is already saved."),
                    "Server names are unique (ignoring case) so that exports can name their destination.",
                    "Choose another name, or remove the saved server first.",
                ));
            }
            Ok(tx.query_row(
                "INSERT INTO servers (name, protocol, host, port, base_path, \"user\", key_file, host_key_fingerprint, secret_in_keyring, created_at, updated_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?9, ?10) RETURNING id",
                params![name, spec.protocol.as_str(), host, port, stored_path, user, key_file, fingerprint, now, crate::team::who()],
                |r| r.get::<_, i64>(0),
            )?)
        })?;
        let mut keyring_error = None;
        if let Some(secret) = secret {
            // A stale entry of an earlier server of that name must not be used instead.
            let _ = self.forget_secret(Owner::Server, &name);
            match self.store_secret(Owner::Server, &name, secret) {
                Ok(()) => {
                    self.db().execute("UPDATE servers SET secret_in_keyring = 1 WHERE id = ?1", [id])?;
                }
                Err(e) => keyring_error = Some(e),
            }
        }
        Ok(AddServerReport { server: self.get_server(&name)?, keyring_error })
    }

    pub fn list_servers(&self) -> Result<Vec<Server>> {
        let conn = self.db();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM servers ORDER BY name COLLATE NOCASE"))?;
        let rows = stmt.query_map([], row_to_server)?.collect::<crate::db::SqlResult<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn get_server(&self, name: &str) -> Result<Server> {
        find(&self.db(), name)
    }

    /// Remove a saved server and forget its secret in the keyring.
    pub fn remove_server(&self, name: &str) -> Result<Server> {
        let server = self.get_server(name)?;
        // The row first: a refused write (a read-only repository) must not leave the server without its secret.
        self.write(|tx| {
            tx.execute("DELETE FROM servers WHERE id = ?1", [server.id])?;
            let at = format!("{}://{}@{}:{}{}", server.protocol.as_str(), server.user, server.host, server.port, server.path);
            crate::deletions::record(tx, crate::deletions::DeletedKind::Server, &server.name, Some(&at))
        })?;
        self.forget_secret(Owner::Server, &server.name)?;
        Ok(server)
    }

    /// Trust an SFTP server's host key (after the user compared the fingerprint, e.g. in the
    /// dialog shown for `host_key_unknown`).
    pub fn trust_host_key(&self, name: &str, fingerprint: &str) -> Result<Server> {
        let (server, fp) = self.host_key_to_trust(name, fingerprint)?;
        self.db()
            .execute("UPDATE servers SET host_key_fingerprint = ?1, updated_at = ?2 WHERE id = ?3", params![fp, clock::now(), server.id])?;
        self.get_server(name)
    }

    /// The server and the normalised fingerprint `trust_host_key` would record, checked (an sftp
    /// server, a `SHA256:` fingerprint) without recording it: what the app shows in its confirmation.
    pub fn host_key_to_trust(&self, name: &str, fingerprint: &str) -> Result<(Server, String)> {
        let server = self.get_server(name)?;
        if server.protocol != Protocol::Sftp {
            return Err(invalid(
                format!("\"{}\" is a {} server; only sftp servers have host keys.", server.name, server.protocol),
                "Nothing to trust for this server.",
            ));
        }
        let fp = check_fingerprint(fingerprint)?;
        Ok((server, fp))
    }

    /// Connect to an SSH server and read its host key, without logging in: what the app shows in
    /// its trust-on-first-use confirmation.
    pub fn probe_host_key(&self, host: &str, port: u16) -> Result<HostKeyProbe> {
        sftp::probe(&check_host(host)?, port)
    }

    /// Test a saved server: connect, check the host key or certificate, log in, create the folder
    /// when it is missing, write and remove a small file. Also removes temp files that earlier
    /// failed uploads left there.
    pub fn test_server(&self, name: &str, secret: Option<&Secret>) -> Result<ServerTestReport> {
        let target = self.target(name, None)?;
        let mut conn = self.connect(&target, secret)?;
        let leftovers_removed = self.remove_leftovers(&target, conn.remote.as_mut());
        let path_created = conn.remote.ensure_dir(&target.base)?;
        let probe = target.base.join(&format!(".imagesmith-write-test.{:08x}", rand::random::<u32>()))?;
        let body = b"imagesmith write test\n";
        conn.remote.put(&probe, Box::new(std::io::Cursor::new(body.to_vec())), body.len() as u64)?;
        let size = conn.remote.size(&probe);
        conn.remote.delete(&probe)?;
        if size? != Some(body.len() as u64) {
            return Err(remote_failed(&target, "checking a test file", "the file written has the wrong size"));
        }
        Ok(ServerTestReport {
            server: target.server.name.clone(),
            url: target.url(&target.base),
            path_created,
            writable: true,
            host_key_fingerprint: conn.facts.host_key_fingerprint,
            banner: conn.facts.banner,
            tls: conn.facts.tls,
            leftovers_removed,
        })
    }

    /// A saved server and the folder to use on it (`sub`: a folder below the server's path, or
    /// an absolute path replacing it).
    pub(crate) fn target(&self, name: &str, sub: Option<&str>) -> Result<Target> {
        let server = self.get_server(name)?;
        let mut base = RemotePath::parse(&server.path)?;
        if let Some(sub) = sub {
            let sub = RemotePath::parse(sub)?;
            if sub.absolute {
                base = sub;
            } else {
                base.parts.extend(sub.parts);
            }
        }
        Ok(Target { server, base })
    }

    /// Connect and log in with the secret given for this call or the keyring's.
    pub(crate) fn connect(&self, t: &Target, given: Option<&Secret>) -> Result<Link> {
        let s = &t.server;
        let needs_secret = !(s.protocol == Protocol::Sftp && s.key_file.is_some());
        let secret = if needs_secret {
            Some(self.secret_for(Owner::Server, &s.name, given)?.0)
        } else {
            // A key's passphrase: only when one was given or kept.
            given.cloned().or_else(|| self.stored_secret(Owner::Server, &s.name))
        };
        match s.protocol {
            Protocol::Sftp => sftp::connect(t, secret.as_ref()),
            Protocol::Ftp | Protocol::Ftps => ftp::connect(t, secret.as_ref().expect("password resolved")),
            Protocol::Webdav | Protocol::Webdavs => webdav::connect(t, secret.as_ref().expect("password resolved")),
        }
    }

    /// Delete the temp files failed uploads left on this server (and those of processes that
    /// died mid-upload). Returns how many were removed; failures stay recorded for next time.
    pub(crate) fn remove_leftovers(&self, t: &Target, remote: &mut dyn Remote) -> u32 {
        let live = self.store.live_sessions().unwrap_or_default();
        let rows: Vec<(i64, String, String, String)> = {
            let conn = self.db();
            let stmt = conn.prepare("SELECT id, path, session, state FROM server_uploads WHERE server_id = ?1");
            match stmt.and_then(|mut s| s.query_map([t.server.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect()) {
                Ok(rows) => rows,
                Err(_) => return 0,
            }
        };
        let mut removed = 0;
        for (id, path, session, state) in rows {
            if state == "uploading" && live.contains(&session) {
                continue; // an upload running right now
            }
            let Ok(p) = RemotePath::parse(&path) else { continue };
            if let Ok(existed) = remote.delete(&p) {
                removed += existed as u32;
                let _ = self.db().execute("DELETE FROM server_uploads WHERE id = ?1", [id]);
            }
        }
        removed
    }
}

/// The SSH key file of a server, when it has one.
pub(crate) fn key_path(s: &Server) -> Option<&Path> {
    s.key_file.as_deref().map(Path::new)
}
