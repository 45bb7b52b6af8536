//! Shared helpers for the team repository tests: a desktop (its own config, cache, repository and
//! keyring access), `repo connect` calls, and a database of its own on the test PostgreSQL.
#![allow(dead_code)]

use crate::common::{server_fact, Repo};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

/// A desktop: its own config folder, logs, local repository and (through the test keyring) secrets.
pub struct Desk {
    pub repo: Repo,
    /// Its part of team repositories (IMAGESMITH_CACHE).
    pub cache: tempfile::TempDir,
}

impl Desk {
    pub fn new() -> Desk {
        Desk { repo: Repo::new(), cache: tempfile::tempdir().unwrap() }
    }

    /// The CLI on this desktop with no --home: the repository is the current one (or --repo).
    pub fn cmd(&self) -> Command {
        let mut c = self.repo.cmd();
        c.env_remove("IMAGESMITH_HOME")
            .env("XDG_DATA_HOME", self.repo.home())
            .env("DBUS_SESSION_BUS_ADDRESS", server_fact("TS_KEYRING_DBUS_ADDRESS"))
            .env("SSL_CERT_FILE", server_fact("TS_CA_CERT"))
            .env("IMAGESMITH_CACHE", self.cache.path())
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    pub fn json(&self, args: &[&str]) -> (i32, Value) {
        json_of(&self.cmd().args(args).arg("--json").output().unwrap())
    }

    /// `--repo team ARGS --json` as OS user `user` (who the team's rows then name); must succeed.
    pub fn as_user(&self, user: &str, args: &[&str]) -> Value {
        let out = self.cmd().env("USER", user).args(["--repo", "team"]).args(args).arg("--json").output().unwrap();
        let (code, v) = json_of(&out);
        assert_eq!(code, 0, "{args:?}: {v:#}");
        v
    }

    /// `repo connect NAME` to this test's database and prefix, both secrets on stdin (and `extra` arguments).
    pub fn connect(&self, name: &str, db: &Db, catalog_pw: &str, extra: &[&str]) -> (i32, Value) {
        Conn { name: name.into(), input: secrets_input(catalog_pw), extra: extra.iter().map(|e| e.to_string()).collect(), ..Conn::to(db) }
            .run(self)
    }
}

/// One `repo connect` call, `--password-stdin --json` with `input` on stdin; [`Conn::to`] fills
/// in the test servers and a test's database, [`Conn::nowhere`] places that are never reached.
pub struct Conn {
    pub name: String,
    pub catalog: String,
    pub objects: String,
    pub endpoint: String,
    pub key_id: String,
    pub input: String,
    /// SSL_CERT_FILE for this call (the test CA otherwise).
    pub cert: Option<String>,
    pub extra: Vec<String>,
}

impl Conn {
    pub fn to(db: &Db) -> Conn {
        Conn {
            name: "t".into(),
            catalog: db.url(true),
            objects: db.objects(),
            endpoint: server_fact("TS_S3_ENDPOINT").into(),
            key_id: server_fact("TS_S3_ACCESS_KEY_ID").into(),
            input: secrets_input(pg_password()),
            cert: None,
            extra: Vec::new(),
        }
    }

    pub fn nowhere(catalog: &str, endpoint: &str) -> Conn {
        Conn {
            name: "t".into(),
            catalog: catalog.into(),
            objects: "s3://abc".into(),
            endpoint: endpoint.into(),
            key_id: "k".into(),
            input: "a\nb\n".into(),
            cert: None,
            extra: Vec::new(),
        }
    }

    pub fn run(&self, desk: &Desk) -> (i32, Value) {
        let mut c = desk.cmd();
        if let Some(cert) = &self.cert {
            c.env("SSL_CERT_FILE", cert);
        }
        c.args(["repo", "connect", &self.name, "--catalog", &self.catalog, "--objects", &self.objects, "--endpoint", &self.endpoint])
            .args(["--access-key-id", &self.key_id, "--password-stdin", "--json"])
            .args(&self.extra);
        with_stdin(c, &self.input)
    }
}

/// What `--password-stdin` reads: the catalog's password, then the test S3 server's secret key.
pub fn secrets_input(catalog_pw: &str) -> String {
    format!("{catalog_pw}\n{}\n", server_fact("TS_S3_SECRET_ACCESS_KEY"))
}

pub fn with_stdin(mut c: Command, input: &str) -> (i32, Value) {
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    json_of(&child.wait_with_output().unwrap())
}

pub fn json_of(out: &Output) -> (i32, Value) {
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("stdout is not JSON ({e}): {}\nstderr: {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().unwrap_or(-1), v)
}

/// Where a PostgreSQL listens: the run's shared server, or one of a test's own ([`OwnServers`]).
#[derive(Clone)]
pub struct PgAt {
    pub socket_dir: String,
    pub host: String,
    pub port: String,
}

impl PgAt {
    pub fn shared() -> PgAt {
        PgAt {
            socket_dir: server_fact("TS_PG_SOCKET_DIR").into(),
            host: server_fact("TS_PG_HOST").into(),
            port: server_fact("TS_PG_PORT").into(),
        }
    }
}

/// A database of its own on the test PostgreSQL (or a test's own server), dropped at the end.
pub struct Db {
    pub name: String,
    pub pg: PgAt,
}

pub fn psql(db: &str, sql: &str) -> String {
    psql_at(&PgAt::shared(), db, sql)
}

fn psql_at(pg: &PgAt, db: &str, sql: &str) -> String {
    let out = Command::new(format!("{}/psql", server_fact("TS_PG_BIN")))
        .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", &pg.socket_dir, "-p", &pg.port])
        .args(["-U", "postgres", "-d", db, "-c", sql])
        .output()
        .unwrap();
    assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Db {
    pub fn new() -> Db {
        Db::on(PgAt::shared())
    }

    pub fn on(pg: PgAt) -> Db {
        Db::create(pg, "")
    }

    /// One whose text sorts as most installations' databases do (ICU's en-US: `a` before `B`,
    /// not byte order as the test cluster's C.UTF-8 default).
    pub fn english() -> Db {
        Db::create(PgAt::shared(), " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")
    }

    fn create(pg: PgAt, options: &str) -> Db {
        let name = format!("t_{:016x}", rand_u64());
        psql_at(&pg, "postgres", &format!("CREATE DATABASE {name} OWNER {}{options}", server_fact("TS_PG_USER")));
        Db { name, pg }
    }

    /// The catalog URL: over verified TLS (`tls`), or plain (allowed on loopback only).
    pub fn url(&self, tls: bool) -> String {
        let mode = if tls { "" } else { "?sslmode=disable" };
        format!("postgresql://{}@{}:{}/{}{mode}", server_fact("TS_PG_USER"), self.pg.host, self.pg.port, self.name)
    }

    /// This test's own prefix in the shared bucket.
    pub fn objects(&self) -> String {
        format!("s3://{}/{}", server_fact("TS_S3_BUCKET"), self.name)
    }

    pub fn sql(&self, sql: &str) -> String {
        psql_at(&self.pg, &self.name, sql)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = Command::new(format!("{}/psql", server_fact("TS_PG_BIN")))
            .args(["-X", "-q", "-h", &self.pg.socket_dir, "-p", &self.pg.port, "-U", "postgres", "-d", "postgres"])
            .args(["-c", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)])
            .output();
    }
}

/// Servers of a test's own (scripts/servers.sh in a state dir of its own, on the ports given), so
/// that the test can stop one by its PID and start it again on its data: a real restart. Their
/// certificates come from a CA of their own, which the desktops do not trust: connect to them
/// without TLS (allowed on loopback). Stopped when dropped.
pub struct OwnServers {
    state: tempfile::TempDir,
    facts: std::collections::HashMap<String, String>,
}

impl OwnServers {
    /// `names` (postgres, s3) with `ports` (TS_*_PORT=…) set.
    pub fn start(names: &[&str], ports: &[(&str, u16)]) -> OwnServers {
        let state = tempfile::Builder::new().prefix("own-servers").tempdir().unwrap();
        let mut c = Command::new(crate::common::workspace_root().join("scripts/servers.sh"));
        c.arg("start").arg(state.path()).args(names);
        for (k, v) in ports {
            c.env(k, v.to_string());
        }
        // The same role, password and keys as the shared servers, so one keyring entry serves both.
        for k in ["TS_PG_USER", "TS_PG_PASSWORD", "TS_S3_ACCESS_KEY_ID", "TS_S3_SECRET_ACCESS_KEY", "TS_S3_BUCKET"] {
            c.env(k, server_fact(k));
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "servers.sh start: {}", String::from_utf8_lossy(&out.stderr));
        let facts = crate::common::read_servers_env(&state.path().join("servers.env"));
        OwnServers { state, facts }
    }

    pub fn fact(&self, key: &str) -> &str {
        self.facts.get(key).unwrap_or_else(|| panic!("{key} missing from the own servers' servers.env"))
    }

    pub fn pg(&self) -> PgAt {
        PgAt {
            socket_dir: self.fact("TS_PG_SOCKET_DIR").into(),
            host: self.fact("TS_PG_HOST").into(),
            port: self.fact("TS_PG_PORT").into(),
        }
    }

    fn script(&self, verb: &str, name: &str) {
        let out = Command::new(crate::common::workspace_root().join("scripts/servers.sh"))
            .args([verb])
            .arg(self.state.path())
            .arg(name)
            .output()
            .unwrap();
        assert!(out.status.success(), "servers.sh {verb} {name}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Stop `name` by its PID (PostgreSQL: fast shutdown; SeaweedFS: SIGKILL).
    pub fn stop(&self, name: &str) {
        self.script("stop", name);
    }

    /// Start `name` again on the data it left, and wait until it answers.
    pub fn again(&self, name: &str) {
        self.script("again", name);
    }
}

impl Drop for OwnServers {
    fn drop(&mut self) {
        let _ = Command::new(crate::common::workspace_root().join("scripts/servers.sh")).arg("stop").arg(self.state.path()).output();
    }
}

/// A failpoint that pauses (`IMAGESMITH_FAILPOINT=POINT:pause=FILE`): [`Pause::reached`] waits until
/// the process stands there, [`Pause::release`] lets it go on.
pub struct Pause {
    dir: tempfile::TempDir,
    point: String,
}

impl Pause {
    pub fn at(point: &str) -> Pause {
        Pause { dir: tempfile::tempdir().unwrap(), point: point.into() }
    }

    fn file(&self) -> std::path::PathBuf {
        self.dir.path().join("paused")
    }

    /// The value of IMAGESMITH_FAILPOINT.
    pub fn env(&self) -> String {
        format!("{}:pause={}", self.point, self.file().display())
    }

    /// Until the process stands at the point (it must not exit first).
    pub fn reached(&self, child: &mut std::process::Child) {
        let start = std::time::Instant::now();
        while !self.file().exists() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the process ended ({status}) before it reached {}", self.point);
            }
            assert!(start.elapsed() < std::time::Duration::from_secs(120), "{} not reached in 120 s", self.point);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    pub fn release(&self) {
        std::fs::remove_file(self.file()).unwrap();
    }
}

pub fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    h.write_u32(std::process::id());
    h.finish()
}

pub fn pg_password() -> &'static str {
    server_fact("TS_PG_PASSWORD")
}

/// The URL of `key` in the test bucket.
pub fn bucket_url(key: &str) -> String {
    format!("{}/{}/{key}", server_fact("TS_S3_ENDPOINT"), server_fact("TS_S3_BUCKET"))
}

/// A SigV4-signed curl call to the test S3 server; its body.
pub fn s3(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "-m", "30", "--aws-sigv4", &format!("aws:amz:{}:s3", server_fact("TS_S3_REGION"))])
        .args(["--user", &format!("{}:{}", server_fact("TS_S3_ACCESS_KEY_ID"), server_fact("TS_S3_SECRET_ACCESS_KEY"))])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The keys in the test bucket that start with `prefix` (letters, digits and `_` only: curl's
/// SigV4 signs an encoded `/` in a query differently from how S3 servers check it).
pub fn bucket_keys(prefix: &str) -> Vec<String> {
    assert!(prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{prefix}");
    let listed = s3(&["-G", "--data-urlencode", &format!("prefix={prefix}"), &bucket_url("")]);
    assert!(listed.contains("<ListBucketResult"), "not a listing: {listed}");
    listed.split("<Key>").skip(1).map(|k| k.split("</Key>").next().unwrap().to_string()).collect()
}

/// `n` desktops connected to one new team repository named `team` in `db`.
pub fn desks(db: &Db, n: usize) -> Vec<Desk> {
    (0..n)
        .map(|_| {
            let desk = Desk::new();
            let (code, v) = desk.connect("team", db, pg_password(), &[]);
            assert_eq!(code, 0, "{v:#}");
            desk
        })
        .collect()
}

/// Two of [`desks`].
pub fn two_desks(db: &Db) -> (Desk, Desk) {
    let mut d = desks(db, 2);
    let b = d.pop().unwrap();
    (d.pop().unwrap(), b)
}

#[allow(unused_imports)]
pub use crate::common::sha256_of;

/// The bucket key of the bytes with `sha` under this test's prefix.
pub fn object_key(db: &Db, sha: &str) -> String {
    format!("{}/objects/sha256/{}/{}", db.name, &sha[..2], &sha[2..])
}

/// The HTTP status of a HEAD of the object with these bytes, asked of the S3 server itself.
pub fn head_status(db: &Db, sha: &str) -> String {
    s3(&["-o", "/dev/null", "-w", "%{http_code}", "-I", &bucket_url(&object_key(db, sha))])
}

/// How many `team object uploaded` events a desktop's log holds.
pub fn uploads_logged(desk: &Desk) -> usize {
    desk.repo.log_text().lines().filter(|l| l.contains("team object uploaded")).count()
}

/// Item `i`'s outcome in a job report.
pub fn outcome(report: &Value, i: usize) -> &str {
    report["items"][i]["outcome"].as_str().unwrap_or_else(|| panic!("no outcome for item {i}: {report:#}"))
}

/// A TCP relay between desktops and the test S3 server that goes down in the middle of a transfer,
/// as an S3 server that stops or a network that is cut: after `cut_after` bytes from the desktops
/// it closes every connection and then drops each new one at once, until [`CutProxy::restore`].
/// The S3 server behind it is the real one; requests pass byte for byte (their SigV4 signatures
/// name the relay's address, which the server does not check against its own).
pub struct CutProxy {
    pub url: String,
    state: std::sync::Arc<std::sync::Mutex<Relay>>,
}

#[derive(Default)]
struct Relay {
    /// Bytes the desktops may still send before the cut; None: no cut planned.
    budget: Option<u64>,
    down: bool,
    /// Every connection's two sockets, to close them at the cut.
    open: Vec<std::net::TcpStream>,
}

impl CutProxy {
    pub fn start() -> CutProxy {
        use std::net::{TcpListener, TcpStream};
        let endpoint = server_fact("TS_S3_ENDPOINT");
        let upstream = endpoint.trim_start_matches("http://").trim_end_matches('/').to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = std::sync::Arc::new(std::sync::Mutex::new(Relay::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if shared.lock().unwrap().down {
                    let _ = client.shutdown(std::net::Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else { continue };
                {
                    let mut relay = shared.lock().unwrap();
                    relay.open.push(client.try_clone().unwrap());
                    relay.open.push(server.try_clone().unwrap());
                }
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let up = shared.clone();
                std::thread::spawn(move || pump_up(client, server, &up));
                std::thread::spawn(move || {
                    let (mut from, mut to) = (s2, c2);
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        CutProxy { url, state }
    }

    /// Go down once the desktops have sent `bytes` more bytes.
    pub fn cut_after(&self, bytes: u64) {
        self.state.lock().unwrap().budget = Some(bytes);
    }

    /// Up again, with no cut planned.
    pub fn restore(&self) {
        let mut relay = self.state.lock().unwrap();
        relay.budget = None;
        relay.down = false;
    }
}

/// Desktop to server: forwarded until the budget runs out, then every connection is closed.
fn pump_up(mut from: std::net::TcpStream, mut to: std::net::TcpStream, state: &std::sync::Mutex<Relay>) {
    use std::io::{Read, Write};
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let pass = {
            let mut relay = state.lock().unwrap();
            match relay.budget {
                Some(left) if (n as u64) >= left => {
                    relay.budget = Some(0);
                    relay.down = true;
                    left as usize
                }
                Some(left) => {
                    relay.budget = Some(left - n as u64);
                    n
                }
                None => n,
            }
        };
        if to.write_all(&buf[..pass]).is_err() {
            break;
        }
        if pass < n {
            for s in state.lock().unwrap().open.drain(..) {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
            return;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}
