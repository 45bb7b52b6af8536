//! Publishing to a real Glance 33 (no auth, and behind a real Keystone 30) started by
//! scripts/servers.sh: verified digests, mapped cloud errors, cancel, conversion, the keyring.

mod common;

use common::*;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn qemu_img(args: &[&str]) {
    run_ok(Command::new("qemu-img").args(args));
}

/// A raw disk with `mib` MiB of pseudo-random data (so digests and conversions mean something).
fn raw_disk(dir: &Path, name: &str, mib: usize, seed: u8) -> PathBuf {
    let p = dir.join(name);
    let mut f = std::fs::File::create(&p).unwrap();
    let mut x: u32 = 0x9e37_79b9 ^ seed as u32;
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        f.write_all(&buf).unwrap();
    }
    p
}

fn convert_to(src: &Path, format: &str, dst: &Path) -> PathBuf {
    qemu_img(&["convert", "-q", "-f", "raw", "-O", format, src.to_str().unwrap(), dst.to_str().unwrap()]);
    dst.to_path_buf()
}

fn digest(tool: &str, path: &Path) -> String {
    run_ok(Command::new(tool).arg(path)).split_whitespace().next().unwrap().to_string()
}

/// GET on a Glance without auth; the parsed JSON.
fn glance_get(base: &str, path: &str) -> Value {
    let body = run_ok(Command::new("curl").args(["-s", "-m", "20", &format!("{base}{path}")]));
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

fn images_named(base: &str, name: &str) -> Vec<Value> {
    glance_get(base, &format!("/v2/images?name={name}"))["images"].as_array().unwrap().clone()
}

/// An image name no other test (or earlier run against the same Glance) uses.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// A repository whose CLI runs never reach a keyring unless a test sets one.
fn repo() -> Repo {
    Repo::new()
}

fn cli(repo: &Repo) -> Command {
    let mut c = repo.cmd();
    c.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/imagesmith-no-keyring");
    c
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("stdout is not JSON ({e}): {}\nstderr: {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

fn cli_json(repo: &Repo, args: &[&str], password: Option<&str>) -> (i32, Value) {
    let mut c = cli(repo);
    c.args(args).arg("--json");
    if let Some(pw) = password {
        c.env("IMAGESMITH_PASSWORD", pw);
    }
    let out = c.output().unwrap();
    (out.status.code().unwrap_or(-1), json_of(&out))
}

fn add_noauth_target(repo: &Repo, name: &str, url: &str) {
    let (code, v) = cli_json(repo, &["target", "add", name, "--image-url", url, "--no-auth"], None);
    assert_eq!(code, 0, "{v:#}");
}

fn add_keystone_target(repo: &Repo, name: &str, extra: &[&str]) -> Command {
    let mut c = cli(repo);
    c.args(["target", "add", name, "--auth-url", server_fact("TS_OS_AUTH_URL"), "--user", server_fact("TS_OS_USERNAME")])
        .args(["--project", server_fact("TS_OS_PROJECT_NAME"), "--user-domain", server_fact("TS_OS_USER_DOMAIN_NAME")])
        .args(["--project-domain", server_fact("TS_OS_PROJECT_DOMAIN_NAME"), "--region", server_fact("TS_OS_REGION_NAME")])
        .args(extra);
    c
}

fn import_disk(repo: &Repo, path: &Path, raw: bool) -> Value {
    let args: &[&str] = if raw { &["--kind", "disk_image"] } else { &[] };
    let (code, v) = repo.import(args, &[path.to_path_buf()]);
    assert_eq!(code, 0, "{v:#}");
    v["items"][0]["artifact"].clone()
}

/// The file Glance's filesystem store holds for an image.
fn stored_file(images_dir: &str, id: &str) -> PathBuf {
    Path::new(images_dir).join(id)
}

#[test]
fn publish_to_glance_without_auth_verifies_md5_and_sha512_then_unpublish() {
    let glance = server_fact("TS_GLANCE_URL");
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_disk(dir.path(), "seed.raw", 3, 1);
    let qcow2 = convert_to(&raw, "qcow2", &dir.path().join("web.qcow2"));
    let repo = repo();
    add_noauth_target(&repo, "lab", glance);
    let (code, list) = cli_json(&repo, &["target", "list"], None);
    assert_eq!((code, list[0]["name"].as_str(), list[0]["auth"].as_str()), (0, Some("lab"), Some("none")));
    let (code, check) = cli_json(&repo, &["target", "test", "lab"], None);
    assert_eq!(code, 0, "{check:#}");
    assert!(check["glance_version"].as_str().unwrap().starts_with("v2."), "{check:#}");
    assert_eq!(check["image_endpoint"], glance);

    import_disk(&repo, &qcow2, false);
    let name = unique("web");
    let (code, report) = cli_json(
        &repo,
        &["publish", "web.qcow2", "--target", "lab", "--name", &name, "--property", "os_distro=debian", "--tag", "imagesmith-test"],
        None,
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["job"]["state"], "succeeded");
    let p = &report["publications"][0];
    assert_eq!((p["status"].as_str(), p["verified"].as_bool(), p["target"].as_str()), (Some("active"), Some(true), Some("lab")), "{p:#}");
    assert!(p["error"].is_null());
    let id = p["remote_id"].as_str().unwrap();

    let image = glance_get(glance, &format!("/v2/images/{id}"));
    assert_eq!(image["status"], "active");
    assert_eq!(image["name"], name.as_str());
    assert_eq!(image["disk_format"], "qcow2");
    assert_eq!(image["os_distro"], "debian");
    let md5 = digest("md5sum", &qcow2);
    let sha512 = digest("sha512sum", &qcow2);
    assert_eq!(image["checksum"], md5.as_str());
    assert_eq!(image["os_hash_value"], sha512.as_str());
    let file = stored_file(server_fact("TS_GLANCE_IMAGES_DIR"), id);
    assert_eq!(digest("md5sum", &file), md5);
    assert_eq!(digest("sha512sum", &file), sha512);
    assert_eq!(p["md5"], md5.as_str());

    // The dry run now warns that the name is taken, and refuses a format Glance does not know.
    let (code, plan) = cli_json(&repo, &["publish", "web.qcow2", "--target", "lab", "--name", &name, "--dry-run"], None);
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(plan["items"][0]["warnings"][0]["code"], "name_taken", "{plan:#}");
    let (code, plan) =
        cli_json(&repo, &["publish", "web.qcow2", "--target", "lab", "--disk-format", "ploop2", "--no-convert", "--dry-run"], None);
    assert_eq!(code, 1);
    assert_eq!(plan["items"][0]["problems"][0]["code"], "format_unsupported", "{plan:#}");

    let (_, pubs) = cli_json(&repo, &["publications"], None);
    let pub_id = pubs[0]["id"].as_i64().unwrap();
    assert_eq!(pubs[0]["remote_id"], id);
    let (code, gone) = cli_json(&repo, &["unpublish", &pub_id.to_string()], None);
    assert_eq!(code, 0, "{gone:#}");
    assert_eq!(gone["status"], "deleted");
    assert!(images_named(glance, &name).is_empty());
    let (_, pubs) = cli_json(&repo, &["publications"], None);
    assert_eq!(pubs[0]["status"], "deleted", "the publication is kept as history");
}

#[test]
fn an_image_marked_deleted_is_refused_by_publish_and_nothing_reaches_glance() {
    let glance = server_fact("TS_GLANCE_URL");
    let dir = tempfile::tempdir().unwrap();
    let qcow2 = convert_to(&raw_disk(dir.path(), "seed.raw", 1, 7), "qcow2", &dir.path().join("retired.qcow2"));
    let repo = repo();
    add_noauth_target(&repo, "lab", glance);
    import_disk(&repo, &qcow2, false);
    let (code, a) = cli_json(&repo, &["update", "retired.qcow2", "--access", "deleted"], None);
    assert_eq!((code, a["access"].as_str()), (0, Some("deleted")), "{a:#}");

    let name = unique("retired");
    for dry in [true, false] {
        let mut args = vec!["publish", "retired.qcow2", "--target", "lab", "--name", &name];
        if dry {
            args.push("--dry-run");
        }
        let (code, err) = cli_json(&repo, &args, None);
        assert_eq!((code, err["error"]["code"].as_str()), (1, Some("image_deleted")), "dry run {dry}: {err:#}");
        assert!(err["error"]["recovery"].as_str().unwrap().contains("--access private"), "{err:#}");
    }
    assert!(images_named(glance, &name).is_empty(), "no image was made on Glance");
    let (_, pubs) = cli_json(&repo, &["publications"], None);
    assert_eq!(pubs.as_array().unwrap().len(), 0, "no publication recorded: {pubs:#}");
    let (_, jobs) = cli_json(&repo, &["jobs"], None);
    assert!(jobs.as_array().unwrap().iter().all(|j| j["kind"] != "publish"), "no publish job: {jobs:#}");

    // Given back (private), it publishes again.
    let (code, _) = cli_json(&repo, &["update", "retired.qcow2", "--access", "private"], None);
    assert_eq!(code, 0);
    let (code, plan) = cli_json(&repo, &["publish", "retired.qcow2", "--target", "lab", "--name", &name, "--dry-run"], None);
    assert_eq!(code, 0, "{plan:#}");
}

#[test]
fn publish_to_glance_behind_keystone_and_a_wrong_password_is_auth_failed() {
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_disk(dir.path(), "app.img", 2, 2);
    let repo = repo();
    let out = add_keystone_target(&repo, "cloud", &["--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let password = server_fact("TS_OS_PASSWORD");

    // No password given and no keyring: the CLI says what to do.
    let (code, err) = cli_json(&repo, &["target", "test", "cloud"], None);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("secret_required")), "{err:#}");
    let (code, err) = cli_json(&repo, &["target", "test", "cloud"], Some("not-the-password"));
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("auth_failed")), "{err:#}");
    assert!(err["error"]["text"].as_str().unwrap().contains("401"), "{err:#}");

    let (code, check) = cli_json(&repo, &["target", "test", "cloud"], Some(password));
    assert_eq!(code, 0, "{check:#}");
    assert_eq!(check["user"], "demo");
    assert_eq!(check["project"], server_fact("TS_OS_PROJECT_NAME"));
    assert_eq!(check["project_id"], server_fact("TS_OS_PROJECT_ID"));
    assert_eq!(check["image_endpoint"], server_fact("TS_GLANCE_KS_URL"));

    import_disk(&repo, &raw, true);
    let (code, err) = cli_json(&repo, &["publish", "app.img", "--target", "cloud"], Some("not-the-password"));
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("auth_failed")), "{err:#}");
    let (code, report) = cli_json(&repo, &["publish", "app.img", "--target", "cloud", "--name", &unique("app")], Some(password));
    assert_eq!(code, 0, "{report:#}");
    let p = &report["publications"][0];
    assert_eq!(p["verified"], true, "{p:#}");
    let file = stored_file(server_fact("TS_GLANCE_KS_IMAGES_DIR"), p["remote_id"].as_str().unwrap());
    assert_eq!(digest("md5sum", &file), digest("md5sum", &raw));
    assert_eq!(digest("sha512sum", &file), digest("sha512sum", &raw));
    let (code, gone) = cli_json(&repo, &["unpublish", &p["id"].to_string()], Some(password));
    assert_eq!((code, gone["status"].as_str()), (0, Some("deleted")), "{gone:#}");
    assert!(!file.exists());
}

#[test]
fn raw_bytes_declared_qcow2_are_refused_as_format_mismatch_and_no_image_is_left() {
    let glance = server_fact("TS_GLANCE_URL");
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_disk(dir.path(), "plain.img", 2, 3);
    let repo = repo();
    add_noauth_target(&repo, "lab", glance);
    import_disk(&repo, &raw, true);
    let name = unique("mismatch");
    let (code, report) =
        cli_json(&repo, &["publish", "plain.img", "--target", "lab", "--name", &name, "--disk-format", "qcow2", "--no-convert"], None);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["job"]["state"], "failed");
    let p = &report["publications"][0];
    assert_eq!((p["status"].as_str(), p["verified"].as_bool()), (Some("failed"), Some(false)));
    assert_eq!(p["error"]["code"], "format_mismatch", "{p:#}");
    assert!(p["error"]["text"].as_str().unwrap().contains("415"), "{p:#}");
    assert!(images_named(glance, &name).is_empty(), "the queued image was deleted");
}

#[test]
fn a_damaged_object_is_not_published_as_it_is_nor_converted() {
    let glance = server_fact("TS_GLANCE_URL");
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_disk(dir.path(), "rotten.img", 3, 7);
    let vmdk = convert_to(&raw_disk(dir.path(), "seed.raw", 2, 8), "vmdk", &dir.path().join("rotten.vmdk"));
    let repo = repo();
    add_noauth_target(&repo, "lab", glance);
    for (artifact, extra) in [
        (import_disk(&repo, &raw, true), &["--disk-format", "raw"][..]),
        (import_disk(&repo, &vmdk, false), &["--disk-format", "qcow2"][..]),
    ] {
        // The last byte: the upload is refused before its last frame goes out.
        flip_object_byte(&repo, artifact["sha256"].as_str().unwrap(), artifact["size"].as_u64().unwrap() as usize - 1);
        let name = unique("rotten");
        let mut args = vec!["publish", artifact["name"].as_str().unwrap(), "--target", "lab", "--name", name.as_str()];
        args.extend(extra);
        let (code, report) = cli_json(&repo, &args, None);
        assert_eq!(code, 1, "{report:#}");
        assert_eq!(report["job"]["state"], "failed");
        let p = &report["publications"][0];
        assert_eq!((p["status"].as_str(), p["verified"].as_bool()), (Some("failed"), Some(false)), "{p:#}");
        assert_eq!(p["error"]["code"], "object_damaged", "{p:#}");
        assert!(p["error"]["text"].as_str().unwrap().contains(artifact["name"].as_str().unwrap()), "{p:#}");
        assert!(images_named(glance, &name).is_empty(), "no image of the damaged bytes is left in the cloud");
        assert!(repo.staging_files().is_empty(), "nothing converted is left behind");
    }
}

/// A Glance of its own with image_size_cap, stopped by PID (scripts/servers.sh stop) when dropped.
struct CappedGlance {
    state: tempfile::TempDir,
    url: String,
}

impl CappedGlance {
    fn start(cap: u64) -> CappedGlance {
        let state = tempfile::Builder::new().prefix("capped-glance").tempdir().unwrap();
        let port = 9296 + (std::process::id() % 50) as u16;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/servers.sh");
        let out = Command::new(&script)
            .args(["start", state.path().to_str().unwrap(), "glance"])
            .env("TS_GLANCE_PORT", port.to_string())
            .env("TS_GLANCE_IMAGE_SIZE_CAP", cap.to_string())
            .output()
            .unwrap();
        let g = CappedGlance { state, url: format!("http://127.0.0.1:{port}") };
        assert!(out.status.success(), "start capped glance: {}", String::from_utf8_lossy(&out.stderr));
        g
    }
}

impl Drop for CappedGlance {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/servers.sh");
        let _ = Command::new(script).args(["stop", self.state.path().to_str().unwrap()]).output();
    }
}

#[test]
fn an_image_over_the_size_cap_is_too_large_and_no_image_is_left() {
    let glance = CappedGlance::start(1 << 20);
    let dir = tempfile::tempdir().unwrap();
    // Just over the cap: the whole body is on its way before Glance answers 413 and closes the
    // connection. (Far over it, the close can win the race and the 413 is lost: the upload then
    // fails as remote_unavailable, with a hint at the size cap.)
    let raw = raw_disk(dir.path(), "big.img", 1, 4);
    std::fs::OpenOptions::new().append(true).open(&raw).unwrap().write_all(&[7u8; 64 << 10]).unwrap();
    let repo = repo();
    add_noauth_target(&repo, "capped", &glance.url);
    import_disk(&repo, &raw, true);
    let (code, report) = cli_json(&repo, &["publish", "big.img", "--target", "capped"], None);
    assert_eq!(code, 1, "{report:#}");
    let p = &report["publications"][0];
    assert_eq!(p["error"]["code"], "too_large", "{p:#}");
    assert!(p["error"]["text"].as_str().unwrap().contains("413"), "{p:#}");
    assert!(glance_get(&glance.url, "/v2/images")["images"].as_array().unwrap().is_empty());
}

#[test]
fn cancel_in_the_middle_of_a_1_gib_upload_leaves_no_remote_image() {
    let glance = server_fact("TS_GLANCE_URL");
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.img");
    // Sparse: instant to make; the upload still sends every byte.
    std::fs::File::create(&big).unwrap().set_len(1 << 30).unwrap();
    let repo = repo();
    add_noauth_target(&repo, "lab", glance);
    import_disk(&repo, &big, true);
    let name = unique("cancel");
    let child = cli(&repo)
        .args(["publish", "big.img", "--target", "lab", "--name", &name, "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until Glance is receiving the bytes.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = images_named(glance, &name);
        if found.first().is_some_and(|i| i["status"] == "saving") {
            break;
        }
        assert!(Instant::now() < deadline, "the upload never started: {found:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    run_ok(Command::new("kill").args(["-INT", &child.id().to_string()]));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let report = json_of(&out);
    assert_eq!(report["job"]["state"], "cancelled");
    let p = &report["publications"][0];
    assert_eq!(p["status"], "cancelled", "{p:#}");
    let done = report["job"]["bytes_done"].as_u64().unwrap();
    assert!(done > 0 && done < 1 << 30, "cancelled mid-way: {done}");
    assert!(images_named(glance, &name).is_empty(), "no remote image is left");
    assert!(repo.staging_files().is_empty());
}

#[test]
fn vmdk_published_as_qcow2_is_converted_and_matches_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_disk(dir.path(), "seed.raw", 4, 5);
    let vmdk = convert_to(&raw, "vmdk", &dir.path().join("db.vmdk"));
    let repo = repo();
    add_noauth_target(&repo, "lab", server_fact("TS_GLANCE_URL"));
    import_disk(&repo, &vmdk, false);
    let (code, report) =
        cli_json(&repo, &["publish", "db.vmdk", "--target", "lab", "--disk-format", "qcow2", "--name", &unique("db")], None);
    assert_eq!(code, 0, "{report:#}");
    let p = &report["publications"][0];
    assert_eq!((p["verified"].as_bool(), p["disk_format"].as_str()), (Some(true), Some("qcow2")), "{p:#}");
    let file = stored_file(server_fact("TS_GLANCE_IMAGES_DIR"), p["remote_id"].as_str().unwrap());
    let info = run_ok(Command::new("qemu-img").args(["info", "--output=json"]).arg(&file));
    assert!(info.contains("\"format\": \"qcow2\""), "{info}");
    run_ok(Command::new("qemu-img").args(["compare", "-f", "vmdk", "-F", "qcow2"]).arg(&vmdk).arg(&file));
    assert_eq!(p["md5"].as_str().unwrap(), digest("md5sum", &file));
    assert!(repo.staging_files().is_empty(), "the converted copy is removed");
}

#[test]
fn two_publishes_at_once_are_both_verified() {
    let dir = tempfile::tempdir().unwrap();
    let a = raw_disk(dir.path(), "a.img", 8, 6);
    let b = raw_disk(dir.path(), "b.img", 8, 7);
    let repo = repo();
    add_noauth_target(&repo, "lab", server_fact("TS_GLANCE_URL"));
    import_disk(&repo, &a, true);
    import_disk(&repo, &b, true);
    let spawn = |img: &str| {
        cli(&repo).args(["publish", img, "--target", "lab", "--name", &unique(img), "--json"]).stdout(Stdio::piped()).spawn().unwrap()
    };
    let (ca, cb) = (spawn("a.img"), spawn("b.img"));
    for child in [ca, cb] {
        let out = child.wait_with_output().unwrap();
        let report = json_of(&out);
        assert_eq!(out.status.code(), Some(0), "{report:#}");
        assert_eq!(report["publications"][0]["verified"], true, "{report:#}");
    }
    let (_, pubs) = cli_json(&repo, &["publications"], None);
    assert_eq!(pubs.as_array().unwrap().len(), 2);
    let (_, of_a) = cli_json(&repo, &["publications", "--artifact", "a.img"], None);
    assert_eq!(of_a.as_array().unwrap().len(), 1);

    // Deleted behind Imagesmith's back: a refresh notices; the other stays active. `verified` is
    // what the publish proved and stays in the history.
    let gone = of_a[0]["remote_id"].as_str().unwrap();
    run_ok(Command::new("curl").args(["-s", "-m", "20", "-X", "DELETE", &format!("{}/v2/images/{gone}", server_fact("TS_GLANCE_URL"))]));
    let (code, pubs) = cli_json(&repo, &["publications", "--refresh"], None);
    assert_eq!(code, 0, "{pubs:#}");
    for p in pubs.as_array().unwrap() {
        let expected = if p["remote_id"] == gone { ("deleted", true) } else { ("active", true) };
        assert_eq!((p["status"].as_str().unwrap(), p["verified"].as_bool().unwrap()), expected, "{p:#}");
    }
}

#[test]
fn a_password_kept_in_the_real_keyring_signs_in_and_is_forgotten_with_the_target() {
    let bus = server_fact("TS_KEYRING_DBUS_ADDRESS");
    let repo = repo();
    let mut add = add_keystone_target(&repo, "kr", &["--password-stdin", "--json"]);
    add.env("DBUS_SESSION_BUS_ADDRESS", bus).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = add.spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{}\n", server_fact("TS_OS_PASSWORD")).as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let added = json_of(&out);
    assert_eq!(added["secret_stored"], true, "{added:#}");
    // The password is nowhere in the catalog.
    let db = std::fs::read(repo.home().join("catalog.db")).unwrap();
    assert!(!db.windows(server_fact("TS_OS_PASSWORD").len()).any(|w| w == server_fact("TS_OS_PASSWORD").as_bytes()));

    let with_keyring = |args: &[&str]| {
        let out = cli(&repo).env("DBUS_SESSION_BUS_ADDRESS", bus).args(args).arg("--json").output().unwrap();
        (out.status.code().unwrap_or(-1), json_of(&out))
    };
    let (code, check) = with_keyring(&["target", "test", "kr"]);
    assert_eq!((code, check["user"].as_str()), (0, Some("demo")), "{check:#}");
    let out = cli(&repo).env("DBUS_SESSION_BUS_ADDRESS", bus).args(["target", "remove", "kr"]).output().unwrap();
    assert!(out.status.success());
    let out = add_keystone_target(&repo, "kr", &["--json"]).env("DBUS_SESSION_BUS_ADDRESS", bus).output().unwrap();
    assert!(out.status.success());
    let (code, err) = with_keyring(&["target", "test", "kr"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("secret_required")), "{err:#}");
}

/// Keystone's answer to one curl call: (X-Subject-Token header if any, JSON body).
fn keystone(method: &str, url: &str, token: Option<&str>, body: &Value) -> (Option<String>, Value) {
    let mut c = Command::new("curl");
    c.args(["-sS", "-m", "30", "-D", "-", "-X", method, url, "-H", "Content-Type: application/json", "--data-binary", &body.to_string()]);
    if let Some(t) = token {
        c.args(["-H", &format!("X-Auth-Token: {t}")]);
    }
    let text = run_ok(&mut c);
    let (head, json) = text.split_once("\r\n\r\n").expect("headers, then the body");
    let token =
        head.lines().find_map(|l| l.strip_prefix("X-Subject-Token: ").or_else(|| l.strip_prefix("x-subject-token: "))).map(str::to_string);
    (token, serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}")))
}

#[test]
fn an_application_credential_signs_in_and_publishes() {
    // The demo user makes itself an application credential through Keystone's own API.
    let auth = server_fact("TS_OS_AUTH_URL");
    let (token, body) = keystone(
        "POST",
        &format!("{auth}/auth/tokens"),
        None,
        &serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"name": server_fact("TS_OS_USERNAME"),
            "domain": {"name": server_fact("TS_OS_USER_DOMAIN_NAME")}, "password": server_fact("TS_OS_PASSWORD")}}},
        "scope": {"project": {"name": server_fact("TS_OS_PROJECT_NAME"), "domain": {"name": server_fact("TS_OS_PROJECT_DOMAIN_NAME")}}}}}),
    );
    let token = token.expect("Keystone issued a token");
    let user_id = body["token"]["user"]["id"].as_str().unwrap().to_string();
    let (_, cred) = keystone(
        "POST",
        &format!("{auth}/users/{user_id}/application_credentials"),
        Some(&token),
        &serde_json::json!({"application_credential": {"name": unique("imagesmith-test")}}),
    );
    let id = cred["application_credential"]["id"].as_str().unwrap_or_else(|| panic!("{cred:#}")).to_string();
    let secret = cred["application_credential"]["secret"].as_str().unwrap().to_string();

    let repo = repo();
    let (code, added) = cli_json(
        &repo,
        &["target", "add", "appcred", "--auth-url", auth, "--application-credential-id", &id, "--region", server_fact("TS_OS_REGION_NAME")],
        None,
    );
    assert_eq!(code, 0, "{added:#}");
    let (code, err) = cli_json(&repo, &["target", "test", "appcred"], Some("not-the-secret"));
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("auth_failed")), "{err:#}");
    let (code, check) = cli_json(&repo, &["target", "test", "appcred"], Some(&secret));
    assert_eq!(code, 0, "{check:#}");
    assert_eq!(check["user"], server_fact("TS_OS_USERNAME"), "{check:#}");
    assert_eq!(check["project_id"], server_fact("TS_OS_PROJECT_ID"), "{check:#}");
    assert_eq!(check["image_endpoint"], server_fact("TS_GLANCE_KS_URL"), "{check:#}");

    let dir = tempfile::tempdir().unwrap();
    let raw = raw_disk(dir.path(), "appcred.img", 1, 7);
    import_disk(&repo, &raw, true);
    let (code, report) = cli_json(&repo, &["publish", "appcred.img", "--target", "appcred", "--name", &unique("appcred")], Some(&secret));
    assert_eq!(code, 0, "{report:#}");
    let p = &report["publications"][0];
    assert_eq!(p["verified"], true, "{p:#}");
    let file = stored_file(server_fact("TS_GLANCE_KS_IMAGES_DIR"), p["remote_id"].as_str().unwrap());
    assert_eq!(digest("sha512sum", &file), digest("sha512sum", &raw));
}

#[test]
fn the_log_names_every_request_but_never_the_password_or_the_keystone_token() {
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_disk(dir.path(), "logged.img", 1, 9);
    let repo = repo();
    let out = add_keystone_target(&repo, "cloud", &["--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    import_disk(&repo, &raw, true);
    let password = server_fact("TS_OS_PASSWORD");
    // As much as the log can say: trace for Imagesmith and for every library, mirrored to stderr.
    let traced = |args: &[&str], password: &str| {
        let out =
            cli(&repo).args(args).args(["--json", "-vv"]).env("RUST_LOG", "trace").env("IMAGESMITH_PASSWORD", password).output().unwrap();
        (out.status.code().unwrap_or(-1), json_of(&out), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err, stderr_refused) = traced(&["publish", "logged.img", "--target", "cloud"], "not-the-password");
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("auth_failed")), "{err:#}");
    let (code, report, stderr_published) = traced(&["publish", "logged.img", "--target", "cloud", "--name", &unique("logged")], password);
    assert_eq!(code, 0, "{report:#}");
    let p = &report["publications"][0];
    let (code, gone, stderr_unpublished) = traced(&["unpublish", &p["id"].to_string()], password);
    assert_eq!((code, gone["status"].as_str()), (0, Some("deleted")), "{gone:#}");

    let text = repo.log_text();
    assert!(!text.is_empty());
    for (what, out) in
        [("the log file", &text), ("stderr", &stderr_refused), ("stderr", &stderr_published), ("stderr", &stderr_unpublished)]
    {
        for secret in [password, "not-the-password"] {
            assert!(!out.contains(secret), "a password reached {what}: {out}");
        }
        // Every Fernet token (Keystone's) starts with the version byte and a timestamp: "gAAAAA".
        assert!(!out.contains("gAAAAA"), "a Keystone token reached {what}: {out}");
        let lower = out.to_ascii_lowercase();
        assert!(
            !lower.contains("x-auth-token") && !lower.contains("x-subject-token") && !lower.contains("authorization"),
            "a header reached {what}: {out}"
        );
    }
    let lines = repo.log_lines();
    let request = |service: &str, method: &str, status: u64| {
        lines.iter().any(|l| {
            l["message"] == "request"
                && l["service"] == service
                && l["method"] == method
                && l["status"] == status
                && l["host"] == server_fact("TS_HOST")
        })
    };
    assert!(request("keystone", "POST", 401), "the refused sign-in: {lines:#?}");
    assert!(request("keystone", "POST", 201), "the sign-in: {lines:#?}");
    assert!(
        request("glance", "POST", 201) && request("glance", "PUT", 204) && request("glance", "GET", 200),
        "create, upload, status: {lines:#?}"
    );
    assert!(request("glance", "DELETE", 204), "unpublish: {lines:#?}");
    let job = report["job"]["id"].as_i64().unwrap();
    let end = lines.iter().find(|l| l["message"] == "job finished" && l["job_id"] == job).unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!((end["kind"].as_str(), end["state"].as_str()), (Some("publish"), Some("succeeded")));
}
