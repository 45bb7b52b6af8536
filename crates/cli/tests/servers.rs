//! Profile export to real file servers (OpenSSH sftp, pyftpdlib FTP and FTPS, wsgidav WebDAV over
//! HTTP and HTTPS) started by scripts/servers.sh, a real Secret Service for saved passwords, and
//! the failures an admin meets: wrong password, no keyring, unknown or changed host keys, a TLS
//! certificate from an unknown CA, a server that dies mid-upload, Ctrl-C mid-upload.

mod common;

use common::*;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The CLI as an admin's session would run it: its own HOME (for ~/.ssh/known_hosts), the test
/// keyring or none, and the test CA trusted through SSL_CERT_FILE (or not).
struct Session {
    repo: Repo,
    home: tempfile::TempDir,
    keyring: bool,
    trust_test_ca: bool,
}

impl Session {
    fn new(keyring: bool) -> Session {
        let s = Session { repo: Repo::new(), home: tempfile::tempdir().unwrap(), keyring, trust_test_ca: true };
        compose(&s.repo);
        s
    }

    /// ~/.ssh/known_hosts listing the test sshd's host keys.
    fn know_test_host_keys(&self) {
        let ssh = self.home.path().join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        std::fs::copy(server_fact("TS_SFTP_KNOWN_HOSTS"), ssh.join("known_hosts")).unwrap();
    }

    fn cmd(&self) -> Command {
        let mut c = self.repo.cmd();
        c.env("HOME", self.home.path());
        let bus = if self.keyring {
            server_fact("TS_KEYRING_DBUS_ADDRESS").to_string()
        } else {
            "unix:path=/nonexistent/imagesmith-test-bus".to_string()
        };
        c.env("DBUS_SESSION_BUS_ADDRESS", bus);
        if self.trust_test_ca {
            c.env("SSL_CERT_FILE", server_fact("TS_CA_CERT"));
        } else {
            c.env_remove("SSL_CERT_FILE");
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    fn run_with_password(&self, args: &[&str], password: &str) -> Output {
        self.cmd().args(args).env("IMAGESMITH_PASSWORD", password).output().unwrap()
    }

    fn run_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self.cmd().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    /// `server add` of a password server on 127.0.0.1, the password piped to --password-stdin.
    fn add_with_password(&self, name: &str, protocol: &str, port: &str, path: &str, user: &str, password: &str) -> Output {
        self.run_stdin(
            &[
                "server",
                "add",
                name,
                "--protocol",
                protocol,
                "--host",
                "127.0.0.1",
                "--port",
                port,
                "--path",
                path,
                "--user",
                user,
                "--password-stdin",
            ],
            password,
        )
    }

    fn export(&self, server: &str, extra: &[&str], password: Option<&str>) -> (i32, Value) {
        let mut c = self.cmd();
        c.args(["profile", "export", "rhel9-web", "--server", server, "--json"]).args(extra);
        if let Some(pw) = password {
            c.env("IMAGESMITH_PASSWORD", pw);
        }
        let out = c.output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("not JSON ({e}): {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
        });
        (out.status.code().unwrap_or(-1), v)
    }

    fn servers(&self) -> Value {
        let out = self.run(&["server", "list", "--json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// A deployment profile of real fixtures (a RHEL-like ISO as its base, a DUD, a kickstart, a script).
fn compose(repo: &Repo) {
    let (code, r) = repo
        .import(&[], &[fixture("rhel-9.6-x86_64-dvd.iso"), fixture("dud-kmod-example.iso"), fixture("ks.cfg"), fixture("post-install.sh")]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(repo.json(["profile", "create", "rhel9-web", "--os-image", "rhel-9.6-x86_64-dvd.iso"]).0, 0);
    assert_eq!(repo.json(["profile", "add", "rhel9-web", "dud-kmod-example.iso", "ks.cfg", "post-install.sh"]).0, 0);
    assert_eq!(repo.json(["profile", "set", "rhel9-web", "hostname=web01"]).0, 0);
}

/// Add 128 MiB of incompressible data to the profile, so that an upload lasts long enough to be
/// interrupted.
fn make_big(repo: &Repo) {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big-tools.tar.gz");
    let script = "head -c 134217728 /dev/urandom > payload.bin && tar -cf - payload.bin | gzip -1 > big-tools.tar.gz && rm payload.bin";
    assert!(Command::new("sh").args(["-c", script]).current_dir(dir.path()).status().unwrap().success());
    let (code, r) = repo.import(&["--kind", "software", "--os", "linux"], &[big]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(repo.json(["profile", "add", "rhel9-web", "big-tools.tar.gz"]).0, 0);
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_ok(out: &Output) {
    assert!(out.status.success(), "exit {:?}\nstdout: {}\nstderr: {}", out.status.code(), stdout(out), stderr(out));
}

/// A failed command with `error [code]` on stderr; returns stderr.
fn assert_error(out: &Output, code: &str) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "stdout: {}\nstderr: {err}", stdout(out));
    assert!(err.contains(&format!("error [{code}]")), "expected {code}: {err}");
    assert!(err.contains("what to do:"), "{err}");
    err
}

/// Names of the files in a folder on a server (its root on disk).
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).map(|d| d.map(|e| e.unwrap().file_name().into_string().unwrap()).collect()).unwrap_or_default();
    v.sort();
    v
}

/// The export on the server equals a local export byte for byte, its sidecar passes
/// `sha256sum -c` there, and nothing else (no temp file) is in the folder.
fn assert_exported(s: &Session, report: &Value, root: &str, folder: &str) {
    assert_eq!(report["job"]["state"], "succeeded", "{report:#}");
    assert_eq!(report["job"]["kind"], "server_export");
    let remote_dir = Path::new(root).join(folder);
    assert_eq!(names(&remote_dir), ["rhel9-web.tar.gz", "rhel9-web.tar.gz.sha256"], "in {}", remote_dir.display());
    let local = tempfile::tempdir().unwrap();
    let (code, l) = s.repo.json(["profile".as_ref(), "export".as_ref(), "rhel9-web".as_ref(), "--to".as_ref(), local.path().as_os_str()]);
    assert_eq!(code, 0, "{l:#}");
    let remote_bytes = std::fs::read(remote_dir.join("rhel9-web.tar.gz")).unwrap();
    assert!(
        remote_bytes == std::fs::read(local.path().join("rhel9-web.tar.gz")).unwrap(),
        "the remote archive differs from a local export"
    );
    assert_eq!(report["sha256"], l["sha256"]);
    assert_eq!(report["sha256"].as_str().unwrap(), sha256_of(&remote_dir.join("rhel9-web.tar.gz")));
    let check = Command::new("sha256sum").args(["-c", "rhel9-web.tar.gz.sha256"]).current_dir(&remote_dir).output().unwrap();
    assert!(check.status.success(), "sha256sum -c on the server: {}", stdout(&check));
    assert!(report["file"].as_str().unwrap().ends_with(&format!("/{folder}/rhel9-web.tar.gz")), "{report:#}");
}

#[test]
fn sftp_with_a_key_exports_into_a_folder_it_creates() {
    let s = Session::new(false);
    s.know_test_host_keys();
    let (port, user) = (server_fact("TS_SFTP_PORT"), server_fact("TS_SFTP_USER"));
    let out = s.run(&[
        "server",
        "add",
        "lab-sftp",
        "--protocol",
        "sftp",
        "--host",
        "127.0.0.1",
        "--port",
        port,
        "--path",
        "t-sftp-key/profiles",
        "--user",
        user,
        "--key",
        server_fact("TS_SFTP_KEY"),
    ]);
    assert_ok(&out);
    let list = s.servers();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["protocol"], "sftp");
    assert_eq!(list[0]["secret_in_keyring"], false);
    assert_eq!(list[0]["host_key_fingerprint"], Value::Null, "known_hosts vouches for the key; nothing extra trusted");
    assert_eq!(list[0]["url"], format!("sftp://{user}@127.0.0.1:{port}/~/t-sftp-key/profiles"));

    let out = s.run(&["server", "test", "lab-sftp"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(text.contains("folder created"), "{text}");
    assert!(text.contains(server_fact("TS_SFTP_HOST_KEY_FINGERPRINT")), "the ed25519 key OpenSSH would check: {text}");
    assert!(text.contains("OpenSSH"), "the server's banner: {text}");
    assert!(names(&Path::new(server_fact("TS_SFTP_ROOT")).join("t-sftp-key/profiles")).is_empty(), "the write test cleaned up");

    let (code, r) = s.export("lab-sftp", &[], None);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["file"], format!("sftp://{user}@127.0.0.1:{port}/~/t-sftp-key/profiles/rhel9-web.tar.gz"));
    assert_exported(&s, &r, server_fact("TS_SFTP_ROOT"), "t-sftp-key/profiles");
    // --path: a folder below the server's, created too.
    let (code, r) = s.export("lab-sftp", &["--path", "rhel/9"], None);
    assert_eq!(code, 0, "{r:#}");
    assert_exported(&s, &r, server_fact("TS_SFTP_ROOT"), "t-sftp-key/profiles/rhel/9");
    let (code, err) = s.export("lab-sftp", &["--path", "../escape"], None);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "invalid_argument", "{err:#}");

    assert_ok(&s.run(&["server", "remove", "lab-sftp"]));
    assert_eq!(s.servers(), serde_json::json!([]));
    assert_error(&s.run(&["server", "test", "lab-sftp"]), "not_found");
}

#[test]
fn sftp_host_keys_unknown_are_confirmed_and_changed_ones_refused() {
    let s = Session::new(false);
    let port = server_fact("TS_SFTP_PORT");
    let fp = server_fact("TS_SFTP_HOST_KEY_FINGERPRINT");
    let add = [
        "server",
        "add",
        "new-sftp",
        "--protocol",
        "sftp",
        "--host",
        "127.0.0.1",
        "--port",
        port,
        "--path",
        "t-sftp-tofu",
        "--user",
        server_fact("TS_SFTP_USER"),
        "--key",
        server_fact("TS_SFTP_KEY"),
    ];
    let err = assert_error(&s.run(&add), "host_key_unknown");
    assert!(err.contains(fp), "the text shows the fingerprint to compare: {err}");
    assert!(err.contains("--trust-host-key"), "{err}");
    assert_eq!(s.servers(), serde_json::json!([]), "nothing saved");

    let mut trusted = add.to_vec();
    trusted.push("--trust-host-key");
    let out = s.run(&trusted);
    assert_ok(&out);
    assert!(stderr(&out).contains(fp));
    assert_eq!(s.servers()[0]["host_key_fingerprint"], fp);
    assert_ok(&s.run(&["server", "test", "new-sftp"]));

    // known_hosts now lists another key for that host: refused, and never trusted by itself.
    let keys = tempfile::tempdir().unwrap();
    let other = keys.path().join("other");
    assert!(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(&other).status().unwrap().success());
    let pubkey = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let ssh = s.home.path().join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    let key: Vec<&str> = pubkey.split_whitespace().take(2).collect();
    std::fs::write(ssh.join("known_hosts"), format!("[127.0.0.1]:{port} {} {}\n", key[0], key[1])).unwrap();
    let err = assert_error(&s.run(&["server", "test", "new-sftp"]), "host_key_mismatch");
    assert!(err.contains(fp), "{err}");
    let mut again = trusted.clone();
    again[2] = "other-sftp";
    assert_error(&s.run(&again), "host_key_mismatch");
    assert_eq!(s.servers().as_array().unwrap().len(), 1);
}

#[test]
fn sftp_password_kept_in_the_keyring_is_used_and_forgotten_on_remove() {
    let user = server_fact("TS_SFTP_PASSWORD_USER");
    assert!(!user.is_empty(), "the sftp password user needs the servers started as root");
    let s = Session::new(true);
    s.know_test_host_keys();
    let add = [
        "server",
        "add",
        "pw-sftp",
        "--protocol",
        "sftp",
        "--host",
        "127.0.0.1",
        "--port",
        server_fact("TS_SFTP_PORT"),
        "--path",
        "t-sftp-pw",
        "--user",
        user,
        "--password-stdin",
    ];
    let out = s.run_stdin(&add, &format!("{}\n", server_fact("TS_SFTP_PASSWORD")));
    assert_ok(&out);
    assert!(stdout(&out).contains("kept in the OS keyring"), "{}", stdout(&out));
    assert_eq!(s.servers()[0]["secret_in_keyring"], true);
    assert!(
        !std::fs::read(s.repo.home().join("catalog.db"))
            .unwrap()
            .windows(server_fact("TS_SFTP_PASSWORD").len())
            .any(|w| w == server_fact("TS_SFTP_PASSWORD").as_bytes()),
        "no password in SQLite"
    );

    let (code, r) = s.export("pw-sftp", &[], None);
    assert_eq!(code, 0, "the keyring's password, no IMAGESMITH_PASSWORD: {r:#}");
    assert_exported(&s, &r, server_fact("TS_SFTP_PASSWORD_ROOT"), "t-sftp-pw");
    let err = assert_error(&s.run_with_password(&["server", "test", "pw-sftp"], "not-the-password"), "auth_failed");
    assert!(!err.contains("not-the-password"), "the secret is never printed: {err}");

    assert_ok(&s.run(&["server", "remove", "pw-sftp"]));
    // Saved again without a password: the old keyring entry is gone, so it must be asked for.
    let out = s.run_stdin(&add[..add.len() - 1], "");
    assert_ok(&out);
    assert_error(&s.run(&["server", "test", "pw-sftp"]), "secret_required");
}

#[test]
fn ftp_without_a_keyring_asks_for_the_password_each_time() {
    let s = Session::new(false);
    let pw = server_fact("TS_FTP_PASSWORD");
    let out = s.add_with_password("lab-ftp", "ftp", server_fact("TS_FTP_PORT"), "t-ftp/drop", server_fact("TS_FTP_USER"), pw);
    assert_ok(&out);
    assert!(stderr(&out).contains("warning [keyring_unavailable]"), "{}", stderr(&out));
    assert_eq!(s.servers()[0]["secret_in_keyring"], false);

    assert_error(&s.run(&["server", "test", "lab-ftp"]), "secret_required");
    let (code, err) = s.export("lab-ftp", &[], None);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "secret_required");
    let (_, jobs) = s.repo.json(["jobs"]);
    assert!(jobs.as_array().unwrap().iter().all(|j| j["kind"] != "export"), "asked before any job starts: {jobs:#}");

    let out = s.run_with_password(&["server", "test", "lab-ftp"], pw);
    assert_ok(&out);
    assert!(stdout(&out).contains("(imagesmith test server ready)"), "the FTP welcome: {}", stdout(&out));
    let (code, r) = s.export("lab-ftp", &[], Some(pw));
    assert_eq!(code, 0, "{r:#}");
    assert_exported(&s, &r, server_fact("TS_FTP_ROOT"), "t-ftp/drop");
    assert_error(&s.run_with_password(&["server", "test", "lab-ftp"], "wrong"), "auth_failed");
}

/// Export to a TLS server with the test CA trusted, then refuse it without the CA (`tls_failed`,
/// for `server test` and before an export starts alike).
fn tls_server_verified_then_refused_without_the_ca(protocol: &str, port: &str, user: &str, password: &str, root: &str) {
    let mut s = Session::new(true);
    let folder = format!("t-{protocol}");
    assert_ok(&s.add_with_password("lab-tls", protocol, port, &folder, user, password));
    let (code, r) = s.export("lab-tls", &[], None);
    assert_eq!(code, 0, "{r:#}");
    assert_exported(&s, &r, root, &folder);
    let out = s.run(&["server", "test", "lab-tls"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("certificate verified"), "{}", stdout(&out));

    s.trust_test_ca = false;
    let err = assert_error(&s.run(&["server", "test", "lab-tls"]), "tls_failed");
    assert!(err.contains("UnknownIssuer") || err.contains("certificate"), "{err}");
    let (code, err) = s.export("lab-tls", &[], None);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "tls_failed");
}

#[test]
fn ftps_is_verified_against_the_trusted_ca_and_refused_without_it() {
    let f = server_fact;
    tls_server_verified_then_refused_without_the_ca("ftps", f("TS_FTPS_PORT"), f("TS_FTP_USER"), f("TS_FTP_PASSWORD"), f("TS_FTPS_ROOT"));
}

#[test]
fn webdavs_is_verified_against_the_trusted_ca_and_refused_without_it() {
    let f = server_fact;
    tls_server_verified_then_refused_without_the_ca(
        "webdavs",
        f("TS_WEBDAVS_PORT"),
        f("TS_WEBDAV_USER"),
        f("TS_WEBDAV_PASSWORD"),
        f("TS_WEBDAVS_ROOT"),
    );
}

#[test]
fn webdav_exports_creating_collections() {
    let s = Session::new(true);
    let (user, port) = (server_fact("TS_WEBDAV_USER"), server_fact("TS_WEBDAV_PORT"));
    assert_ok(&s.add_with_password("lab-dav", "webdav", port, "/t-dav/deep/er", user, server_fact("TS_WEBDAV_PASSWORD")));
    let (code, r) = s.export("lab-dav", &[], None);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["file"], format!("http://{user}@127.0.0.1:{port}/t-dav/deep/er/rhel9-web.tar.gz"));
    assert_exported(&s, &r, server_fact("TS_WEBDAV_ROOT"), "t-dav/deep/er");
    assert_error(&s.run_with_password(&["server", "test", "lab-dav"], "wrong"), "auth_failed");
}

#[test]
fn a_damaged_object_is_refused_before_anything_reaches_the_server() {
    let s = Session::new(true);
    let (_, dud) = s.repo.json(["show", "dud-kmod-example.iso"]);
    flip_object_byte(&s.repo, dud["sha256"].as_str().unwrap(), 40_000);
    let (user, port) = (server_fact("TS_WEBDAV_USER"), server_fact("TS_WEBDAV_PORT"));
    assert_ok(&s.add_with_password("lab-dav", "webdav", port, "/t-dav-damaged", user, server_fact("TS_WEBDAV_PASSWORD")));
    let (code, err) = s.export("lab-dav", &[], None);
    assert_eq!(code, 1, "{err:#}");
    assert_eq!(err["error"]["code"], "object_damaged", "{err:#}");
    assert!(err["error"]["text"].as_str().unwrap().contains("dud-kmod-example.iso"), "{err:#}");
    assert!(
        names(&Path::new(server_fact("TS_WEBDAV_ROOT")).join("t-dav-damaged")).is_empty(),
        "no archive, sidecar or temp file on the server"
    );
    let (_, jobs) = s.repo.json(["jobs"]);
    assert_eq!(jobs[0]["kind"], "server_export");
    assert_eq!(jobs[0]["state"], "failed");
    assert!(s.repo.staging_files().is_empty(), "the half-built archive is gone from staging");
}

/// Wait until the export's hidden temp file on the server holds some data.
fn wait_for_upload(dir: &Path, child: &mut Child) -> PathBuf {
    let start = Instant::now();
    loop {
        let part = std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with(".rhel9-web.tar.gz.") && name.ends_with(".part") && std::fs::metadata(p).is_ok_and(|m| m.len() > 1 << 20)
        });
        if let Some(p) = part {
            return p;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the export ended ({status}) before the upload could be interrupted");
        }
        assert!(start.elapsed() < Duration::from_secs(90), "the upload never started");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn ctrl_c_mid_upload_cancels_the_job_and_leaves_nothing_on_the_server() {
    let s = Session::new(false);
    s.know_test_host_keys();
    make_big(&s.repo);
    let out = s.run(&[
        "server",
        "add",
        "lab-sftp",
        "--protocol",
        "sftp",
        "--host",
        "127.0.0.1",
        "--port",
        server_fact("TS_SFTP_PORT"),
        "--path",
        "t-sftp-cancel",
        "--user",
        server_fact("TS_SFTP_USER"),
        "--key",
        server_fact("TS_SFTP_KEY"),
    ]);
    assert_ok(&out);
    let mut child = s
        .cmd()
        .args(["profile", "export", "rhel9-web", "--server", "lab-sftp", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let remote_dir = Path::new(server_fact("TS_SFTP_ROOT")).join("t-sftp-cancel");
    wait_for_upload(&remote_dir, &mut child);
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "cancelled", "{v:#}");
    assert!(names(&remote_dir).is_empty(), "no partial or final file on the server: {:?}", names(&remote_dir));
    assert!(s.repo.staging_files().is_empty(), "staging cleaned");
    let (_, jobs) = s.repo.json(["jobs"]);
    assert_eq!(jobs[0]["kind"], "server_export");
    assert_eq!(jobs[0]["state"], "cancelled", "{jobs:#}");
}

/// A WebDAV server of this test's own (own state dir and port), so it can be killed.
struct OwnServer {
    state: tempfile::TempDir,
    env: std::collections::HashMap<String, String>,
    restarted: Option<Child>,
}

impl OwnServer {
    fn start(port: u16) -> OwnServer {
        let state = tempfile::Builder::new().prefix("dying-webdav").tempdir().unwrap();
        let out = Command::new(root().join("scripts/servers.sh"))
            .args(["start"])
            .arg(state.path())
            .arg("webdav")
            .env("TS_WEBDAV_PORT", port.to_string())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let env = std::fs::read_to_string(state.path().join("servers.env"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        OwnServer { state, env, restarted: None }
    }

    fn kill(&self) {
        let pid = std::fs::read_to_string(self.state.path().join("pids/webdav.pid")).unwrap();
        assert!(Command::new("kill").args(["-KILL", pid.trim()]).status().unwrap().success());
    }

    /// Start wsgidav again on the same folder (servers.sh start would wipe it).
    fn restart(&mut self) {
        let venv = std::env::var("TS_VENV").map(PathBuf::from).unwrap_or_else(|_| root().join("target/servers-venv"));
        let child = Command::new(venv.join("bin/wsgidav"))
            .arg("--config")
            .arg(self.state.path().join("webdav/wsgidav.yaml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.restarted = Some(child);
        let port = &self.env["TS_WEBDAV_PORT"];
        let start = Instant::now();
        while std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_err() {
            assert!(start.elapsed() < Duration::from_secs(30), "wsgidav did not come back");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.restarted.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new(root().join("scripts/servers.sh")).arg("stop").arg(self.state.path()).output();
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn a_server_stopped_mid_upload_fails_the_job_and_its_leftover_goes_on_the_next_connection() {
    let mut dav = OwnServer::start(18481);
    let s = Session::new(true);
    make_big(&s.repo);
    let out = s.add_with_password(
        "dying",
        "webdav",
        &dav.env["TS_WEBDAV_PORT"],
        "t-dying",
        &dav.env["TS_WEBDAV_USER"],
        &dav.env["TS_WEBDAV_PASSWORD"],
    );
    assert_ok(&out);
    let remote_dir = Path::new(&dav.env["TS_WEBDAV_ROOT"]).join("t-dying");
    let mut child = s
        .cmd()
        .args(["profile", "export", "rhel9-web", "--server", "dying", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let part = wait_for_upload(&remote_dir, &mut child);
    dav.kill();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let code = v["error"]["code"].as_str().unwrap();
    assert!(code == "connection_failed" || code == "remote_failed", "{v:#}");
    let (_, jobs) = s.repo.json(["jobs"]);
    assert_eq!(jobs[0]["state"], "failed", "{jobs:#}");
    assert!(!remote_dir.join("rhel9-web.tar.gz").exists(), "no final file");
    assert!(part.exists(), "the dead server kept the partial temp file (the case to clean up)");
    assert!(s.repo.staging_files().is_empty(), "staging cleaned");

    dav.restart();
    let out = s.run(&["server", "test", "dying"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("removed 1 temp file"), "{}", stdout(&out));
    assert!(names(&remote_dir).is_empty(), "leftover removed: {:?}", names(&remote_dir));
}

#[test]
fn the_log_names_every_connection_login_and_upload_but_never_a_password() {
    let sftp_user = server_fact("TS_SFTP_PASSWORD_USER");
    assert!(!sftp_user.is_empty(), "the sftp password user needs the servers started as root");
    let f = server_fact;
    let servers = [
        ("sftp", f("TS_SFTP_PORT"), sftp_user, f("TS_SFTP_PASSWORD")),
        ("ftp", f("TS_FTP_PORT"), f("TS_FTP_USER"), f("TS_FTP_PASSWORD")),
        ("ftps", f("TS_FTPS_PORT"), f("TS_FTP_USER"), f("TS_FTP_PASSWORD")),
        ("webdav", f("TS_WEBDAV_PORT"), f("TS_WEBDAV_USER"), f("TS_WEBDAV_PASSWORD")),
        ("webdavs", f("TS_WEBDAVS_PORT"), f("TS_WEBDAV_USER"), f("TS_WEBDAV_PASSWORD")),
    ];
    let s = Session::new(false);
    s.know_test_host_keys();
    let mut stderrs = Vec::new();
    for (protocol, port, user, password) in servers {
        let name = format!("log-{protocol}");
        assert_ok(&s.add_with_password(&name, protocol, port, &format!("t-log-{protocol}"), user, password));
        // As much as the log can say: trace for Imagesmith and for every library, mirrored to stderr.
        let traced = |args: &[&str], password: &str| {
            s.cmd().args(args).arg("-vv").env("RUST_LOG", "trace").env("IMAGESMITH_PASSWORD", password).output().unwrap()
        };
        let out = traced(&["profile", "export", "rhel9-web", "--server", &name, "--json"], password);
        assert_ok(&out);
        stderrs.push((password, stderr(&out)));
        let refused = traced(&["server", "test", &name], "not-the-password");
        assert_error(&refused, "auth_failed");
        stderrs.push((password, stderr(&refused)));
    }

    let text = s.repo.log_text();
    assert!(!text.is_empty());
    for (_, _, _, password) in servers {
        assert!(!text.contains(password), "a password reached the log file: {text}");
        assert!(stderrs.iter().all(|(_, err)| !err.contains(password)), "a password reached stderr: {stderrs:#?}");
    }
    assert!(!text.contains("not-the-password") && stderrs.iter().all(|(_, err)| !err.contains("not-the-password")));
    let lower = text.to_ascii_lowercase();
    assert!(!lower.contains("authorization") && !lower.contains("pass "), "{text}");

    let lines = s.repo.log_lines();
    let port_of = |protocol: &str| servers.iter().find(|s| s.0 == protocol).unwrap().1.parse::<u64>().unwrap();
    let step = |protocol: &str, step: &str, message: &str| {
        lines
            .iter()
            .filter(|l| {
                l["protocol"] == protocol
                    && l["step"] == step
                    && l["message"] == message
                    && l["host"] == "127.0.0.1"
                    && l["port"] == port_of(protocol)
            })
            .count()
    };
    for protocol in ["sftp", "ftp", "ftps"] {
        assert!(step(protocol, "connect", "remote") >= 2, "{protocol} connections: {lines:#?}");
        assert!(step(protocol, "login", "remote") >= 1, "{protocol} logins: {lines:#?}");
        assert!(step(protocol, "login", "remote failed") >= 1, "{protocol}'s refused login: {lines:#?}");
        let puts: Vec<&Value> =
            lines.iter().filter(|l| l["protocol"] == protocol && l["step"] == "put" && l["message"] == "remote").collect();
        assert!(
            puts.len() >= 2 && puts.iter().all(|p| p["bytes"].as_u64().is_some_and(|b| b > 0)),
            "{protocol}: the archive and its sidecar: {lines:#?}"
        );
    }
    for protocol in ["webdav", "webdavs"] {
        let requests: Vec<&Value> = lines.iter().filter(|l| l["service"] == "webdav" && l["port"] == port_of(protocol)).collect();
        assert!(
            requests.iter().any(|r| r["method"] == "PUT" && r["status"].as_u64().is_some_and(|s| s == 201 || s == 204)),
            "{protocol} uploads: {requests:#?}"
        );
        assert!(requests.iter().any(|r| r["method"] == "PROPFIND" && r["status"] == 401), "{protocol}'s refused login: {requests:#?}");
        assert!(requests.iter().any(|r| r["method"] == "MOVE"), "{protocol} renames into place: {requests:#?}");
    }
    let exports =
        lines.iter().filter(|l| l["message"] == "job finished" && l["kind"] == "server_export" && l["state"] == "succeeded").count();
    assert_eq!(exports, servers.len(), "{lines:#?}");
}
