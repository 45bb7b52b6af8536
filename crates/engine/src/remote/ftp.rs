//! FTP and FTPS (explicit TLS on control and data connections) through `suppaftp`, passive mode,
//! binary transfers. TLS is verified like the WebDAV client's: system roots and SSL_CERT_FILE.

use super::{
    auth_failed, connection_failed, path_missing, remote_failed, tls_failed, Facts, Link, Protocol, Remote, RemotePath, Target,
    CONNECT_TIMEOUT, IO_TIMEOUT,
};
use crate::error::{Error, Result};
use crate::http::tls_config;
use crate::logging::log_remote_step;
use crate::secrets::Secret;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use suppaftp::types::FileType;
use suppaftp::{FtpError, ImplFtpStream, RustlsConnector, RustlsFtpStream, Status, TlsStream};

/// A TCP connection with timeouts, so a server that stops answering is noticed.
fn tcp(addr: &SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(addr, CONNECT_TIMEOUT)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(s)
}

/// Passive data connections get the same timeouts as the control connection.
fn data_stream(addr: SocketAddr) -> suppaftp::FtpResult<TcpStream> {
    tcp(&addr).map_err(FtpError::ConnectionError)
}

pub(super) fn connect(t: &Target, password: &Secret) -> Result<Link> {
    let s = &t.server;
    let protocol = s.protocol.as_str();
    let socket = || -> Result<TcpStream> {
        let addr = (s.host.as_str(), s.port)
            .to_socket_addrs()
            .map_err(|e| connection_failed(t, e))?
            .next()
            .ok_or_else(|| connection_failed(t, "the name has no address"))?;
        tcp(&addr).map_err(|e| connection_failed(t, e))
    };
    let (remote, banner): (Box<dyn Remote>, Option<String>) = if s.protocol == Protocol::Ftps {
        let (ftp, banner) = log_remote_step(protocol, "connect", &s.host, s.port, None, || {
            let ftp = RustlsFtpStream::connect_with_stream(socket()?).map_err(|e| connection_failed(t, e))?;
            let banner = welcome(&ftp);
            let config = tls_config().map_err(|e| tls_failed(t, e))?;
            // Any failure while switching to TLS (handshake, PBSZ/PROT over it) is a TLS failure.
            let ftp = ftp.into_secure(RustlsConnector::from(config), &s.host).map_err(|e| tls_failed(t, tls_detail(&e)))?;
            Ok((ftp, banner))
        })?;
        (Box::new(log_remote_step(protocol, "login", &s.host, s.port, None, || login(t, ftp, password))?), banner)
    } else {
        let (ftp, banner) = log_remote_step(protocol, "connect", &s.host, s.port, None, || {
            let ftp = suppaftp::FtpStream::connect_with_stream(socket()?).map_err(|e| connection_failed(t, e))?;
            let banner = welcome(&ftp);
            Ok((ftp, banner))
        })?;
        (Box::new(log_remote_step(protocol, "login", &s.host, s.port, None, || login(t, ftp, password))?), banner)
    };
    let tls =
        (s.protocol == Protocol::Ftps).then(|| "explicit TLS (AUTH TLS) on control and data connections, certificate verified".to_string());
    Ok(Link { remote, facts: Facts { host_key_fingerprint: None, banner, tls } })
}

/// The server's welcome line without its reply code.
fn welcome<T: TlsStream>(ftp: &ImplFtpStream<T>) -> Option<String> {
    ftp.get_welcome_msg().map(|m| m.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-' || c == ' ').trim().to_string())
}

fn tls_detail(e: &FtpError) -> String {
    match e {
        FtpError::SecureError(m) => m.clone(),
        FtpError::ConnectionError(io) => io.get_ref().map(|inner| inner.to_string()).unwrap_or_else(|| io.to_string()),
        other => other.to_string(),
    }
}

fn login<T: TlsStream + Send + 'static>(t: &Target, ftp: ImplFtpStream<T>, password: &Secret) -> Result<FtpRemote<T>> {
    let mut ftp = ftp.passive_stream_builder(data_stream);
    match ftp.login(t.server.user.as_str(), password.expose()) {
        Ok(()) => {}
        Err(FtpError::UnexpectedResponse(r)) if r.status == Status::NotLoggedIn => return Err(auth_failed(t, "that password")),
        Err(e) => return Err(connection_failed(t, format!("login failed: {e}"))),
    }
    ftp.transfer_type(FileType::Binary).map_err(|e| remote_failed(t, "switching to binary transfers", e))?;
    Ok(FtpRemote { target: t.clone(), ftp })
}

struct FtpRemote<T: TlsStream> {
    target: Target,
    ftp: ImplFtpStream<T>,
}

fn unavailable(e: &FtpError) -> bool {
    matches!(e, FtpError::UnexpectedResponse(r) if r.status == Status::FileUnavailable)
}

impl<T: TlsStream> FtpRemote<T> {
    fn failed(&self, doing: &str, path: &RemotePath, e: impl std::fmt::Display) -> Error {
        remote_failed(&self.target, &format!("{doing} {}", path.display()), e)
    }

    fn put_file(&mut self, path: &RemotePath, mut src: Box<dyn Read + Send>) -> Result<()> {
        let mut stream = self.ftp.put_with_stream(path.display()).map_err(|e| self.failed("creating", path, e))?;
        let copied = std::io::copy(&mut src, &mut std::io::BufWriter::with_capacity(1 << 20, &mut stream));
        match copied {
            Ok(_) => stream.finish().map_err(|e| self.failed("uploading", path, e)),
            Err(e) => {
                // ABOR keeps the control connection usable, so the temp file can be deleted.
                let _ = self.ftp.abort(stream);
                Err(self.failed("uploading", path, e))
            }
        }
    }

    fn is_dir(&mut self, path: &RemotePath) -> bool {
        // MLST answers with facts such as "type=dir;…"; a missing path is a 550.
        self.ftp
            .mlst(Some(&path.display()))
            .is_ok_and(|facts| facts.to_ascii_lowercase().contains("type=dir") || facts.to_ascii_lowercase().contains("type=cdir"))
    }
}

impl<T: TlsStream + Send + 'static> Remote for FtpRemote<T> {
    fn ensure_dir(&mut self, dir: &RemotePath) -> Result<bool> {
        let mut created = false;
        for p in dir.prefixes() {
            if self.is_dir(&p) {
                continue;
            }
            match self.ftp.mkdir(p.display()) {
                Ok(()) => created = true,
                Err(e) if self.is_dir(&p) => {
                    let _ = e; // made meanwhile by someone else
                }
                Err(e) => return Err(path_missing(&self.target, &p, e)),
            }
        }
        Ok(created)
    }

    fn put(&mut self, path: &RemotePath, src: Box<dyn Read + Send>, len: u64) -> Result<()> {
        let (protocol, host, port) = (self.target.server.protocol.as_str(), self.target.server.host.clone(), self.target.server.port);
        log_remote_step(protocol, "put", &host, port, Some(len), || self.put_file(path, src))
    }

    fn size(&mut self, path: &RemotePath) -> Result<Option<u64>> {
        match self.ftp.size(path.display()) {
            Ok(n) => Ok(Some(n as u64)),
            Err(e) if unavailable(&e) => Ok(None),
            Err(e) => Err(self.failed("checking the size of", path, e)),
        }
    }

    fn get(&mut self, path: &RemotePath, sink: &mut (dyn Write + Send)) -> Result<()> {
        let mut stream = self.ftp.retr_as_stream(path.display()).map_err(|e| self.failed("opening", path, e))?;
        let mut buf = vec![0u8; 1 << 20];
        let copied = (|| loop {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                return Ok::<(), std::io::Error>(());
            }
            sink.write_all(&buf[..n])?;
        })();
        match copied {
            Ok(()) => stream.finish().map_err(|e| self.failed("reading back", path, e)),
            Err(e) => {
                let _ = self.ftp.abort(stream);
                Err(self.failed("reading back", path, e))
            }
        }
    }

    fn rename(&mut self, from: &RemotePath, to: &RemotePath) -> Result<()> {
        match self.ftp.rename(from.display(), to.display()) {
            Ok(()) => Ok(()),
            // Servers on systems whose rename does not replace: remove the old file first.
            Err(_) if self.size(to)?.is_some() => {
                self.delete(to)?;
                self.ftp.rename(from.display(), to.display()).map_err(|e| self.failed(&format!("renaming {} to", from.display()), to, e))
            }
            Err(e) => Err(self.failed(&format!("renaming {} to", from.display()), to, e)),
        }
    }

    fn delete(&mut self, path: &RemotePath) -> Result<bool> {
        match self.ftp.rm(path.display()) {
            Ok(()) => Ok(true),
            Err(e) if unavailable(&e) => Ok(false),
            Err(e) => Err(self.failed("deleting", path, e)),
        }
    }
}
