//! Shared helpers for the CLI integration tests: real fixtures, a fresh repository, running the binary.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The real fixture files (Debian's ipxe.iso, xorriso ISOs, an rpmbuild RPM, …), built once by
/// scripts/fixtures.sh (a no-op when they are current). `make test` passes IMAGESMITH_FIXTURES.
pub fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = std::env::var_os("IMAGESMITH_FIXTURES").map(PathBuf::from).unwrap_or_else(|| root.join("target/fixtures"));
        let status = Command::new(root.join("scripts/fixtures.sh")).arg(&dir).status().expect("run scripts/fixtures.sh");
        assert!(status.success(), "scripts/fixtures.sh failed; run `make fixtures` to see why");
        dir
    })
}

pub fn fixture(name: &str) -> PathBuf {
    let p = fixtures().join(name);
    assert!(p.exists(), "missing fixture {}", p.display());
    p
}

pub struct Repo {
    pub dir: tempfile::TempDir,
    /// IMAGESMITH_LOG_DIR of every command run on this repository (off the user's own logs).
    pub logs: tempfile::TempDir,
    /// IMAGESMITH_CONFIG (repositories.json): a developer's `repo use` never reaches a test.
    pub config: tempfile::TempDir,
}

impl Default for Repo {
    fn default() -> Self {
        Repo::new()
    }
}

impl Repo {
    pub fn new() -> Repo {
        let dir = || tempfile::tempdir().expect("temp dir");
        Repo { dir: dir(), logs: dir(), config: dir() }
    }

    /// Every line the CLI logged (all rotated files, oldest first), each a JSON object.
    pub fn log_lines(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = walk(self.logs.path());
        // imagesmith-cli.log.2, .log.1, then .log: oldest first
        files.sort_by_key(|f| std::cmp::Reverse(f.extension().and_then(|e| e.to_str()).and_then(|e| e.parse::<u32>().ok()).unwrap_or(0)));
        files
            .iter()
            .flat_map(|f| std::fs::read_to_string(f).unwrap_or_default().lines().map(str::to_string).collect::<Vec<_>>())
            .map(|l| serde_json::from_str(&l).unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {l}")))
            .collect()
    }

    /// The log files' bytes as text, for checking that no secret is in them.
    pub fn log_text(&self) -> String {
        walk(self.logs.path())
            .iter()
            .map(|f| String::from_utf8_lossy(&std::fs::read(f).unwrap_or_default()).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_imagesmith-cli"));
        c.env("IMAGESMITH_HOME", self.home())
            .env("IMAGESMITH_LOG_DIR", self.logs.path())
            .env("IMAGESMITH_CONFIG", self.config.path())
            .env_remove("IMAGESMITH_REPO")
            .env_remove("IMAGESMITH_PASSWORD")
            .env_remove("RUST_LOG");
        c
    }

    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd().args(args).output().expect("run imagesmith-cli")
    }

    /// Run with `--json` appended and parse stdout.
    pub fn json<I, S>(&self, args: I) -> (i32, Value)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let out = self.cmd().args(args).arg("--json").output().expect("run imagesmith-cli");
        let code = out.status.code().unwrap_or(-1);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}): {}\nstderr: {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
        });
        (code, v)
    }

    pub fn import(&self, args: &[&str], files: &[PathBuf]) -> (i32, Value) {
        let mut all: Vec<std::ffi::OsString> = vec!["import".into()];
        all.extend(args.iter().map(|a| a.into()));
        all.extend(files.iter().map(|f| f.clone().into_os_string()));
        self.json(all)
    }

    /// Every file under objects/.
    pub fn objects(&self) -> Vec<PathBuf> {
        walk(&self.home().join("objects"))
    }

    /// Files left under staging/ (ignoring lock files of live sessions).
    pub fn staging_files(&self) -> Vec<PathBuf> {
        walk(&self.home().join("staging")).into_iter().filter(|p| p.extension().is_none_or(|e| e != "lock")).collect()
    }
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

pub fn sha256_of(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("sha256sum");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}

pub fn item<'a>(report: &'a Value, file_name: &str) -> &'a Value {
    report["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["path"].as_str().is_some_and(|p| p.ends_with(&format!("/{file_name}"))))
        .unwrap_or_else(|| panic!("no item for {file_name} in {report:#}"))
}

/// Flip one byte of a stored object, as a disk error would (objects are read-only; that does not stop it).
pub fn flip_object_byte(repo: &Repo, sha: &str, offset: usize) {
    let path = repo.home().join("objects/sha256").join(&sha[..2]).join(&sha[2..]);
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    assert!(perms.readonly(), "objects are read-only after commit");
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offset] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
}

/// The checkout this test was built from.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The real test servers' facts (servers.env written by scripts/servers.sh; `make test` starts
/// them through scripts/with-servers.sh and sets IMAGESMITH_SERVERS_ENV).
pub fn servers_env() -> &'static std::collections::HashMap<String, String> {
    static ENV: OnceLock<std::collections::HashMap<String, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let path = std::env::var("IMAGESMITH_SERVERS_ENV")
            .expect("IMAGESMITH_SERVERS_ENV is not set: run `make test`, or scripts/with-servers.sh cargo nextest run …");
        read_servers_env(Path::new(&path))
    })
}

/// A servers.env file's KEY=VALUE lines (scripts/servers.sh writes no quoting).
pub fn read_servers_env(path: &Path) -> std::collections::HashMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// One value of servers.env; panics naming the server to start when it is missing.
pub fn server_fact(key: &str) -> &'static str {
    servers_env().get(key).unwrap_or_else(|| panic!("{key} missing from servers.env: is its server started?"))
}

/// Run the CLI with `IMAGESMITH_FAILPOINT=point` and check it was killed there (SIGKILL, as a
/// power cut or `kill -9` would stop it).
pub fn killed_at(repo: &Repo, point: &str, args: &[&std::ffi::OsStr]) {
    use std::os::unix::process::ExitStatusExt;
    let out = repo.cmd().env("IMAGESMITH_FAILPOINT", point).args(args).output().unwrap();
    assert_eq!(out.status.signal(), Some(9), "not killed at {point}: {:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
}

/// A throwaway GnuPG home that makes keys and signs with them.
pub struct Gpg {
    pub home: tempfile::TempDir,
}

impl Default for Gpg {
    fn default() -> Self {
        Gpg::new()
    }
}

impl Gpg {
    pub fn new() -> Gpg {
        let home = tempfile::tempdir().unwrap();
        std::fs::set_permissions(home.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        Gpg { home }
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new("gpg");
        c.env("GNUPGHOME", self.home.path()).args(["--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]);
        c
    }

    /// A new signing key for `uid`, valid for `expiry` (gpg's words: 1y, 1d); with `years_ago`,
    /// made that many years in the past (faketime), so a 1y key has expired.
    pub fn generate(&self, uid: &str, expiry: &str, years_ago: Option<u32>) {
        let mut c = self.at(years_ago);
        let ok = c.args(["--quick-gen-key", uid, "ed25519", "sign", expiry]).status().unwrap();
        assert!(ok.success(), "gpg could not make a key for {uid}");
    }

    pub fn export(&self, uid: &str, armor: bool, to: &Path) {
        let mut c = self.cmd();
        if armor {
            c.arg("--armor");
        }
        let out = c.args(["--export", uid]).output().unwrap();
        assert!(out.status.success() && !out.stdout.is_empty());
        std::fs::write(to, out.stdout).unwrap();
    }

    /// gpg, made to believe it is `years_ago` years in the past (faketime) when given.
    fn at(&self, years_ago: Option<u32>) -> Command {
        match years_ago {
            Some(y) => {
                let mut f = Command::new("faketime");
                f.arg("-f").arg(format!("-{}d", y * 365)).arg("gpg").env("GNUPGHOME", self.home.path());
                f.args(["--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]);
                f
            }
            None => self.cmd(),
        }
    }

    /// Sign `file` as `signer` into `to`: clear-signed (`--clearsign`), or a detached signature,
    /// armored or binary. With `years_ago`, signed back then (for a key that has expired since).
    pub fn sign(&self, signer: &str, how: Signing, file: &Path, to: &Path, years_ago: Option<u32>) {
        let mut c = self.at(years_ago);
        c.args(["--yes", "--local-user", signer, "--output"]).arg(to);
        match how {
            Signing::Clear => c.arg("--clearsign"),
            Signing::Detached { armor: true } => c.args(["--armor", "--detach-sign"]),
            Signing::Detached { armor: false } => c.arg("--detach-sign"),
        };
        let ok = c.arg(file).status().unwrap();
        assert!(ok.success(), "gpg could not sign {}", file.display());
    }
}

/// How [`Gpg::sign`] signs.
#[derive(Clone, Copy)]
pub enum Signing {
    Clear,
    Detached { armor: bool },
}

// --- Image stores on the test nginx (stores.rs, and the team repository's store import) ----------

/// A folder of this test run's own on the web server: (its path on disk, its URL).
pub fn site(test: &str) -> (PathBuf, String) {
    let rel = format!("{test}-{}", std::process::id());
    let dir = Path::new(server_fact("TS_HTTP_ROOT")).join(&rel);
    std::fs::create_dir_all(&dir).unwrap();
    (dir, format!("{}/{rel}", server_fact("TS_HTTP_URL")))
}

pub fn sha1_of(path: &Path) -> String {
    let out = Command::new("sha1sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}

/// Compress `src` with the real tool (gzip, bzip2, xz) into `dest`.
pub fn compress(tool: &str, src: &Path, dest: &Path) {
    let out = Command::new(tool).args(["-c", "-9"]).arg(src).output().unwrap();
    assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(dest, out.stdout).unwrap();
}

/// Publish an image in an IMGAPI tree: images/UUID/file and its manifest; returns the manifest.
pub fn imgapi_image(root: &Path, uuid: &str, name: &str, version: &str, file: &Path, compression: &str) -> Value {
    let dir = root.join("images").join(uuid);
    std::fs::create_dir_all(&dir).unwrap();
    let served = dir.join("file");
    match compression {
        "none" => {
            std::fs::copy(file, &served).unwrap();
        }
        "gzip" => compress("gzip", file, &served),
        "bzip2" => compress("bzip2", file, &served),
        "xz" => compress("xz", file, &served),
        other => panic!("{other}"),
    }
    let m = serde_json::json!({
        "v": 2, "uuid": uuid, "owner": "930896af-bf8c-48d4-885c-6573a94b1853", "name": name, "version": version,
        "state": "active", "disabled": false, "public": true, "published_at": format!("2026-11-{:02}T10:00:00Z", version.len() + 10),
        "type": "zvol", "os": "linux", "description": format!("{name} {version} for KVM"),
        "tags": {"role": "os", "kvm": true},
        "requirements": {"arch": "x86_64"},
        "files": [{"sha1": sha1_of(&served), "size": std::fs::metadata(&served).unwrap().len(), "compression": compression}]
    });
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    m
}

pub fn write_index(root: &Path, manifests: &[Value]) {
    std::fs::write(root.join("images/index.json"), serde_json::to_vec(manifests).unwrap()).unwrap();
}

/// Arm a fault of the proxy of scripts/servers/faultproxy.py for one path (see its header).
pub fn fault(path: &str, spec: Value) {
    let mut body = spec;
    body["path"] = serde_json::json!(path);
    let out = Command::new("curl")
        .args(["-sf", "-X", "POST", "-H", "Content-Type: application/json", "--data-binary"])
        .arg(body.to_string())
        .arg(format!("{}/_fault", server_fact("TS_FAULT_URL")))
        .output()
        .unwrap();
    assert!(out.status.success(), "fault proxy: {}", String::from_utf8_lossy(&out.stderr));
}

/// Every response the fault proxy gave for `path`: status, Range and If-Range asked, bytes sent.
pub fn proxy_log(path: &str) -> Vec<Value> {
    let out = Command::new("curl").args(["-sf"]).arg(format!("{}/_log?path={path}", server_fact("TS_FAULT_URL"))).output().unwrap();
    serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().clone()
}

/// A file `name` in `dir` of [`noise_bytes`].
pub fn noise(dir: &Path, name: &str, len: usize, seed: u64) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, noise_bytes(len, seed)).unwrap();
    path
}

/// `len` bytes no compressor shrinks, different for each `seed`.
pub fn noise_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}
