//! WebDAV over HTTP or HTTPS through reqwest's blocking client (rustls; system roots and
//! SSL_CERT_FILE): MKCOL for missing folders, streaming PUT, HEAD for sizes, GET to read back,
//! MOVE to rename, DELETE. Basic authentication.

use super::{
    auth_failed, connection_failed, path_missing, remote_failed, tls_failed, Facts, Link, Protocol, Remote, RemotePath, Target,
    CONNECT_TIMEOUT, IO_TIMEOUT,
};
use crate::error::{Error, Result};
use crate::logging::SendLogged;
use crate::secrets::Secret;
use reqwest::blocking::{Body, Client, RequestBuilder, Response};
use reqwest::{Method, StatusCode};
use std::io::{Read, Write};

struct DavRemote {
    target: Target,
    client: Client,
    password: Secret,
    origin: String,
}

/// Percent-encode one path segment (RFC 3986 pchar stays as is).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether a TLS problem (rather than the network) made a request fail.
fn is_tls(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(inner) = err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            if is_tls(inner) {
                return true;
            }
        }
        cur = err.source();
    }
    let text = format!("{e:?}");
    text.contains("InvalidCertificate") || text.contains("UnknownIssuer") || text.contains("certificate")
}

/// The innermost cause, which says what really happened ("Connection refused", "UnknownIssuer").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

fn send_failed(t: &Target, doing: &str, e: reqwest::Error) -> Error {
    if is_tls(&e) {
        tls_failed(t, root_cause(&e))
    } else if e.is_connect() {
        connection_failed(t, root_cause(&e))
    } else {
        remote_failed(t, doing, root_cause(&e))
    }
}

pub(super) fn connect(t: &Target, password: &Secret) -> Result<Link> {
    let s = &t.server;
    let client = Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        // Uploads and read-backs of large archives take as long as they take; a dead server
        // shows up as a reset or refused connection.
        .timeout(None)
        .user_agent(format!("Imagesmith/{}", crate::VERSION))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| connection_failed(t, root_cause(&e)))?;
    let scheme = if s.protocol == Protocol::Webdavs { "https" } else { "http" };
    let host = if s.host.contains(':') { format!("[{}]", s.host) } else { s.host.clone() };
    let dav = DavRemote { target: t.clone(), client, password: password.clone(), origin: format!("{scheme}://{host}:{}", s.port) };
    // Log in: PROPFIND on the server's root proves the address, the certificate and the password.
    let resp = dav
        .request(Method::from_bytes(b"PROPFIND").expect("method"), &RemotePath { absolute: true, parts: vec![] }, true)
        .header("Depth", "0")
        .timeout(IO_TIMEOUT)
        .send_logged("webdav")
        .map_err(|e| send_failed(t, "logging in", e))?;
    let banner = resp.headers().get(reqwest::header::SERVER).and_then(|v| v.to_str().ok()).map(str::to_string);
    match resp.status() {
        StatusCode::UNAUTHORIZED => return Err(auth_failed(t, "that password")),
        st if st.is_success() || st == StatusCode::MULTI_STATUS => {}
        st => return Err(remote_failed(t, "logging in", format!("HTTP {st}"))),
    }
    let tls = (s.protocol == Protocol::Webdavs).then(|| "HTTPS, certificate verified".to_string());
    Ok(Link { remote: Box::new(dav), facts: Facts { host_key_fingerprint: None, banner, tls } })
}

impl DavRemote {
    fn url(&self, path: &RemotePath, collection: bool) -> String {
        let mut u = self.origin.clone();
        for p in &path.parts {
            u.push('/');
            u.push_str(&encode_segment(p));
        }
        if collection || path.parts.is_empty() {
            u.push('/');
        }
        u
    }

    fn request(&self, method: Method, path: &RemotePath, collection: bool) -> RequestBuilder {
        self.client.request(method, self.url(path, collection)).basic_auth(&self.target.server.user, Some(self.password.expose()))
    }

    fn failed(&self, doing: &str, path: &RemotePath, detail: impl std::fmt::Display) -> Error {
        remote_failed(&self.target, &format!("{doing} {}", path.display()), detail)
    }

    /// Send a short request (not a transfer): bounded by IO_TIMEOUT.
    fn send(&self, rb: RequestBuilder, doing: &str, path: &RemotePath) -> Result<Response> {
        let resp = rb
            .timeout(IO_TIMEOUT)
            .send_logged("webdav")
            .map_err(|e| send_failed(&self.target, &format!("{doing} {}", path.display()), e))?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            return Err(auth_failed(&self.target, "that password"));
        }
        Ok(resp)
    }

    fn check(&self, resp: Response, doing: &str, path: &RemotePath) -> Result<Response> {
        let st = resp.status();
        if st.is_success() {
            Ok(resp)
        } else {
            Err(self.failed(doing, path, format!("HTTP {st}")))
        }
    }
}

impl Remote for DavRemote {
    fn ensure_dir(&mut self, dir: &RemotePath) -> Result<bool> {
        let mut created = false;
        for p in dir.prefixes() {
            let propfind = self.request(Method::from_bytes(b"PROPFIND").expect("method"), &p, true).header("Depth", "0");
            let resp = self.send(propfind, "looking up", &p)?;
            if resp.status() == StatusCode::MULTI_STATUS {
                let body = resp.text().unwrap_or_default();
                if body.contains("collection") {
                    continue;
                }
                return Err(path_missing(&self.target, &p, "a file of that name is in the way"));
            }
            if resp.status() != StatusCode::NOT_FOUND {
                return Err(self.failed("looking up", &p, format!("HTTP {}", resp.status())));
            }
            let resp = self.send(self.request(Method::from_bytes(b"MKCOL").expect("method"), &p, true), "creating", &p)?;
            match resp.status() {
                StatusCode::CREATED => created = true,
                StatusCode::METHOD_NOT_ALLOWED => {} // exists (made meanwhile)
                st => return Err(path_missing(&self.target, &p, format!("HTTP {st}"))),
            }
        }
        Ok(created)
    }

    fn put(&mut self, path: &RemotePath, src: Box<dyn Read + Send>, len: u64) -> Result<()> {
        let resp = self
            .request(Method::PUT, path, false)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::sized(src, len))
            .send_logged("webdav")
            .map_err(|e| send_failed(&self.target, &format!("uploading {}", path.display()), e))?;
        match resp.status() {
            StatusCode::UNAUTHORIZED => Err(auth_failed(&self.target, "that password")),
            StatusCode::CONFLICT => Err(path_missing(&self.target, path, "HTTP 409 Conflict")),
            _ => self.check(resp, "uploading", path).map(drop),
        }
    }

    fn size(&mut self, path: &RemotePath) -> Result<Option<u64>> {
        let resp = self.send(self.request(Method::HEAD, path, false), "checking the size of", path)?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let resp = self.check(resp, "checking the size of", path)?;
        let len = resp.headers().get(reqwest::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        len.map(Some).ok_or_else(|| self.failed("checking the size of", path, "no Content-Length in the answer"))
    }

    fn get(&mut self, path: &RemotePath, sink: &mut (dyn Write + Send)) -> Result<()> {
        let resp = self
            .request(Method::GET, path, false)
            .send_logged("webdav")
            .map_err(|e| send_failed(&self.target, &format!("reading back {}", path.display()), e))?;
        let mut resp = self.check(resp, "reading back", path)?;
        resp.copy_to(sink).map_err(|e| self.failed("reading back", path, root_cause(&e)))?;
        Ok(())
    }

    fn rename(&mut self, from: &RemotePath, to: &RemotePath) -> Result<()> {
        let rb = self
            .request(Method::from_bytes(b"MOVE").expect("method"), from, false)
            .header("Destination", self.url(to, false))
            .header("Overwrite", "T");
        let doing = format!("renaming {} to", from.display());
        let resp = self.send(rb, &doing, to)?;
        self.check(resp, &doing, to).map(drop)
    }

    fn delete(&mut self, path: &RemotePath) -> Result<bool> {
        let resp = self.send(self.request(Method::DELETE, path, false), "deleting", path)?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        self.check(resp, "deleting", path).map(|_| true)
    }
}
