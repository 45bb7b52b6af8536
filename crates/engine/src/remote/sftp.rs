//! SFTP through libssh2 (`ssh2`): host keys checked against ~/.ssh/known_hosts and the fingerprint
//! the user confirmed, key or password login, and the file operations of [`Remote`].

use super::{
    auth_failed, connection_failed, connection_failed_to, host_key_mismatch, host_key_unknown, key_path, path_missing, remote_failed,
    Facts, HostKeyProbe, KnownHost, Link, Remote, RemotePath, Target, CONNECT_TIMEOUT, IO_TIMEOUT,
};
use crate::error::{code, Error, Result};
use crate::logging::log_remote_step;
use crate::secrets::Secret;
use base64::Engine as _;
use ssh2::{CheckResult, ErrorCode, HashType, HostKeyType, KnownHostFileKind, MethodType, Session, Sftp};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;

/// SFTP status code for a file that does not exist (LIBSSH2_FX_NO_SUCH_FILE).
const FX_NO_SUCH_FILE: i32 = 2;

/// Host key algorithms in OpenSSH's order, so the key checked is the one `ssh` would check.
const HOST_KEY_PREFERENCE: &str =
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256,ssh-rsa";

/// `SHA256:` and the unpadded base64 of the digest, exactly as `ssh-keygen -l` prints it.
pub(crate) fn fingerprint(sha256: &[u8]) -> String {
    format!("SHA256:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(sha256))
}

fn key_type_name(t: HostKeyType) -> &'static str {
    match t {
        HostKeyType::Ed25519 => "ssh-ed25519",
        HostKeyType::Ecdsa256 => "ecdsa-sha2-nistp256",
        HostKeyType::Ecdsa384 => "ecdsa-sha2-nistp384",
        HostKeyType::Ecdsa521 => "ecdsa-sha2-nistp521",
        HostKeyType::Rsa => "ssh-rsa",
        HostKeyType::Dss => "ssh-dss",
        HostKeyType::Unknown => "unknown",
    }
}

/// TCP connect and SSH handshake; returns the session and what is known about its host key.
fn handshake(host: &str, port: u16, what: &str) -> Result<(Session, HostKeyProbe)> {
    let addrs: Vec<_> = (host, port).to_socket_addrs().map_err(|e| connection_failed_to(what, e))?.collect();
    let mut last = None;
    let tcp = addrs.iter().find_map(|a| TcpStream::connect_timeout(a, CONNECT_TIMEOUT).map_err(|e| last = Some(e)).ok());
    let tcp =
        tcp.ok_or_else(|| connection_failed_to(what, last.map(|e| e.to_string()).unwrap_or_else(|| "the name has no address".into())))?;
    let mut sess = Session::new().map_err(|e| connection_failed_to(what, e))?;
    sess.set_timeout(IO_TIMEOUT.as_millis() as u32);
    let _ = sess.method_pref(MethodType::HostKey, HOST_KEY_PREFERENCE);
    sess.set_tcp_stream(tcp);
    sess.handshake().map_err(|e| connection_failed_to(what, format!("the SSH handshake failed ({})", e.message())))?;
    let (key, kind) = sess.host_key().ok_or_else(|| connection_failed_to(what, "the server sent no host key"))?;
    let hash = sess.host_key_hash(HashType::Sha256).ok_or_else(|| connection_failed_to(what, "the host key could not be hashed"))?;
    let fp = fingerprint(hash);
    let known = known_hosts_check(&sess, host, port, key);
    let probe = HostKeyProbe { fingerprint: fp, key_type: key_type_name(kind).to_string(), known_hosts: known };
    Ok((sess, probe))
}

/// Look the key up in the user's ~/.ssh/known_hosts (a missing file knows nothing).
fn known_hosts_check(sess: &Session, host: &str, port: u16, key: &[u8]) -> KnownHost {
    let Some(file) = dirs::home_dir().map(|h| h.join(".ssh").join("known_hosts")).filter(|f| f.is_file()) else {
        return KnownHost::Unknown;
    };
    let Ok(mut kh) = sess.known_hosts() else { return KnownHost::Unknown };
    if kh.read_file(&file, KnownHostFileKind::OpenSSH).is_err() {
        return KnownHost::Unknown;
    }
    match kh.check_port(host, port, key) {
        CheckResult::Match => KnownHost::Match,
        CheckResult::Mismatch => KnownHost::Mismatch,
        CheckResult::NotFound | CheckResult::Failure => KnownHost::Unknown,
    }
}

pub(super) fn probe(host: &str, port: u16) -> Result<HostKeyProbe> {
    let (sess, probe) =
        log_remote_step("sftp", "connect", host, port, None, || handshake(host, port, &format!("SSH server {host}:{port}")))?;
    let _ = sess.disconnect(None, "host key read", None);
    Ok(probe)
}

pub(super) fn connect(t: &Target, secret: Option<&Secret>) -> Result<Link> {
    let s = &t.server;
    let (sess, probe) = log_remote_step("sftp", "connect", &s.host, s.port, None, || handshake(&s.host, s.port, &t.label()))?;
    match (probe.known_hosts, s.host_key_fingerprint.as_deref()) {
        (KnownHost::Match, _) => {}
        (KnownHost::Mismatch, _) => {
            return Err(host_key_mismatch(&s.host, s.port, &probe.fingerprint, "the key listed in ~/.ssh/known_hosts"))
        }
        (KnownHost::Unknown, Some(trusted)) if trusted == probe.fingerprint => {}
        (KnownHost::Unknown, Some(trusted)) => {
            return Err(host_key_mismatch(&s.host, s.port, &probe.fingerprint, &format!("{trusted} (confirmed earlier)")))
        }
        (KnownHost::Unknown, None) => return Err(host_key_unknown(&s.host, s.port, &probe.fingerprint)),
    }
    log_remote_step("sftp", "login", &s.host, s.port, None, || login(t, &sess, secret))?;
    let sftp = sess.sftp().map_err(|e| connection_failed(t, format!("the SFTP subsystem did not start ({})", e.message())))?;
    let facts = Facts { host_key_fingerprint: Some(probe.fingerprint), banner: sess.banner().map(str::to_string), tls: None };
    Ok(Link { remote: Box::new(SftpRemote { target: t.clone(), _sess: sess, sftp }), facts })
}

/// Key login (with the passphrase when one was given or kept), else password login.
fn login(t: &Target, sess: &Session, secret: Option<&Secret>) -> Result<()> {
    let s = &t.server;
    if let Some(key) = key_path(s) {
        if let Err(e) = sess.userauth_pubkey_file(&s.user, None, key, secret.map(Secret::expose)) {
            if secret.is_none() && key_is_encrypted(key) {
                return Err(Error::new(
                    code::SECRET_REQUIRED,
                    format!("The key file {} is protected by a passphrase, which is needed for server \"{}\".", key.display(), s.name),
                    "The passphrase is not in the OS keyring (none is available, or it was not saved there).",
                    "Enter it when asked; in the CLI set IMAGESMITH_PASSWORD or pipe it to --password-stdin.",
                ));
            }
            let _ = e;
            return Err(auth_failed(t, &format!("the key {}", key.display())));
        }
    } else {
        let pw = secret.expect("a password was resolved for password login");
        if sess.userauth_password(&s.user, pw.expose()).is_err() {
            return Err(auth_failed(t, "that password"));
        }
    }
    if !sess.authenticated() {
        return Err(auth_failed(t, "the credentials given"));
    }
    Ok(())
}

/// Whether a private key file needs a passphrase (PEM "ENCRYPTED", or an OpenSSH key whose cipher
/// is not "none").
fn key_is_encrypted(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else { return false };
    if text.contains("ENCRYPTED") {
        return true;
    }
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(body.trim()) else { return false };
    let Some(rest) = bytes.strip_prefix(b"openssh-key-v1\0") else { return false };
    let Some(len) = rest.get(..4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize) else { return false };
    rest.get(4..4 + len).is_some_and(|cipher| cipher != b"none")
}

struct SftpRemote {
    target: Target,
    _sess: Session,
    sftp: Sftp,
}

fn not_found(e: &ssh2::Error) -> bool {
    matches!(e.code(), ErrorCode::SFTP(FX_NO_SUCH_FILE))
}

impl SftpRemote {
    fn failed(&self, doing: &str, path: &RemotePath, e: impl std::fmt::Display) -> Error {
        remote_failed(&self.target, &format!("{doing} {}", path.display()), e)
    }

    fn put_file(&mut self, path: &RemotePath, mut src: Box<dyn Read + Send>) -> Result<()> {
        let p = path.display();
        let file = self.sftp.create(Path::new(&p)).map_err(|e| self.failed("creating", path, e.message()))?;
        // Large writes let libssh2 keep many SFTP write requests in flight.
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        std::io::copy(&mut src, &mut out).map_err(|e| self.failed("uploading", path, e))?;
        let mut file = out.into_inner().map_err(|e| self.failed("uploading", path, e.error()))?;
        let _ = file.fsync(); // fsync@openssh.com where offered; not every server has it
        file.close().map_err(|e| self.failed("closing", path, e.message()))
    }
}

impl Remote for SftpRemote {
    fn ensure_dir(&mut self, dir: &RemotePath) -> Result<bool> {
        let mut created = false;
        for p in dir.prefixes() {
            let path = p.display();
            match self.sftp.stat(Path::new(&path)) {
                Ok(st) if st.is_dir() => continue,
                Ok(_) => return Err(path_missing(&self.target, &p, "a file of that name is in the way")),
                Err(_) => {}
            }
            if let Err(e) = self.sftp.mkdir(Path::new(&path), 0o755) {
                // Created meanwhile by someone else is fine.
                if !self.sftp.stat(Path::new(&path)).is_ok_and(|st| st.is_dir()) {
                    return Err(path_missing(&self.target, &p, e.message()));
                }
            } else {
                created = true;
            }
        }
        Ok(created)
    }

    fn put(&mut self, path: &RemotePath, src: Box<dyn Read + Send>, len: u64) -> Result<()> {
        let (host, port) = (self.target.server.host.clone(), self.target.server.port);
        log_remote_step("sftp", "put", &host, port, Some(len), || self.put_file(path, src))
    }

    fn size(&mut self, path: &RemotePath) -> Result<Option<u64>> {
        match self.sftp.stat(Path::new(&path.display())) {
            Ok(st) => Ok(st.size),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(self.failed("checking the size of", path, e.message())),
        }
    }

    fn get(&mut self, path: &RemotePath, sink: &mut (dyn Write + Send)) -> Result<()> {
        let mut file = self.sftp.open(Path::new(&path.display())).map_err(|e| self.failed("opening", path, e.message()))?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(|e| self.failed("reading back", path, e))?;
            if n == 0 {
                return Ok(());
            }
            sink.write_all(&buf[..n]).map_err(|e| self.failed("reading back", path, e))?;
        }
    }

    fn rename(&mut self, from: &RemotePath, to: &RemotePath) -> Result<()> {
        // SFTP v3 renames refuse an existing target (OpenSSH links, then unlinks): replace it.
        if self.size(to)?.is_some() {
            self.delete(to)?;
        }
        self.sftp
            .rename(Path::new(&from.display()), Path::new(&to.display()), None)
            .map_err(|e| self.failed(&format!("renaming {} to", from.display()), to, e.message()))
    }

    fn delete(&mut self, path: &RemotePath) -> Result<bool> {
        match self.sftp.unlink(Path::new(&path.display())) {
            Ok(()) => Ok(true),
            Err(e) if not_found(&e) => Ok(false),
            Err(e) => Err(self.failed("deleting", path, e.message())),
        }
    }
}
