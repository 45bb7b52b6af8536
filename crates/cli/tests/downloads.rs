//! Import from URLs against the real nginx of scripts/servers.sh (Range, ETag, If-Range) and the
//! fault proxy in front of it (scripts/servers/faultproxy.py) that cuts and stalls responses: a
//! verified import, a wrong digest that stores nothing, a cut connection resumed with Range (each
//! request in the support log), a stalled server failing after the read timeout and then resumed,
//! a process killed with -9 and the same import resumed, a file changed on the server between
//! tries, TLS verified.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Put `src` on the web server under a folder of this test's own; returns its URL path.
fn serve(test: &str, src: &Path) -> String {
    let name = src.file_name().unwrap().to_str().unwrap();
    // The servers (and the proxy's faults and log) outlive a test run: a folder of this run's own.
    let test = &format!("{test}-{}", std::process::id());
    let dir = Path::new(server_fact("TS_HTTP_ROOT")).join(test);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(src, dir.join(name)).unwrap();
    format!("/{test}/{name}")
}

fn served_file(path: &str) -> PathBuf {
    Path::new(server_fact("TS_HTTP_ROOT")).join(path.trim_start_matches('/'))
}

fn downloads(repo: &Repo) -> Vec<PathBuf> {
    walk(&repo.home().join("downloads")).into_iter().filter(|p| p.file_name().is_some_and(|n| n != "lock")).collect()
}

fn item0(report: &Value) -> &Value {
    &report["items"][0]
}

#[test]
fn a_url_and_its_checksum_file_url_import_verified_and_leave_nothing_behind() {
    let repo = Repo::new();
    let iso = fixture("ipxe.iso");
    let path = serve("plain", &iso);
    let folder = path.rsplit_once('/').unwrap().0;
    let sums = served_file(&format!("{folder}/SHA256SUMS"));
    std::fs::write(&sums, format!("{}  ipxe.iso\n", sha256_of(&iso))).unwrap();
    let base = server_fact("TS_HTTP_URL");
    let url = format!("{base}{path}");
    let (code, report) = repo.json(["import", &url, &format!("{base}{folder}/SHA256SUMS"), "--alias", "ipxe"]);
    assert_eq!(code, 0, "{report:#}");
    let item = item0(&report);
    assert_eq!(item["outcome"], "imported", "{report:#}");
    assert_eq!(item["path"], url.as_str());
    assert_eq!(item["verified"][0]["algo"], "sha256", "checked against the SHA256SUMS URL: {report:#}");
    assert_eq!(report["checksum_files"].as_array().unwrap().len(), 1, "{report:#}");
    let (_, a) = repo.json(["show", "ipxe"]);
    assert_eq!(a["name"], "ipxe.iso");
    assert_eq!(a["sha256"].as_str().unwrap(), sha256_of(&iso));
    assert_eq!(a["size"].as_u64().unwrap(), std::fs::metadata(&iso).unwrap().len());
    assert_eq!(a["source"], json!({"kind": "url", "url": url, "manifest_url": null, "store": null, "remote_id": null}));
    assert!(downloads(&repo).is_empty(), "nothing left in downloads/: {:?}", downloads(&repo));
    // What is stored is what the server had.
    let out = repo.run(["verify", "ipxe"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The same URL again is a duplicate; a missing one is not_found and stores nothing.
    let (code, report) = repo.json(["import", &url]);
    assert_eq!((code, item0(&report)["outcome"].as_str()), (0, Some("duplicate")), "{report:#}");
    let (code, report) = repo.json(["import", &format!("{base}{folder}/missing.iso")]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(item0(&report)["error"]["code"], "not_found", "{report:#}");
    assert!(downloads(&repo).is_empty());
}

#[test]
fn a_wrong_digest_stores_nothing_and_keeps_no_download() {
    let repo = Repo::new();
    let iso = fixture("ipxe.iso");
    let path = serve("wrong", &iso);
    let url = format!("{}{path}", server_fact("TS_HTTP_URL"));
    let wrong = format!("sha256:{}", "0".repeat(64));
    let (code, report) = repo.json(["import", &url, "--checksum", &wrong]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(item0(&report)["error"]["code"], "checksum_mismatch", "{report:#}");
    let (_, list) = repo.json(["list", "--all"]);
    assert_eq!(list, json!([]));
    assert!(repo.objects().is_empty(), "no object: {:?}", repo.objects());
    assert!(downloads(&repo).is_empty(), "no download kept: {:?}", downloads(&repo));
}

#[test]
fn cut_connections_are_resumed_with_range_fetching_barely_more_than_the_file() {
    let repo = Repo::new();
    let iso = fixture("grub-rescue-cdrom.iso");
    let size = std::fs::metadata(&iso).unwrap().len();
    let path = serve("cut", &iso);
    // The first three responses break off after 1.5 MiB each.
    fault(&path, json!({"cut_after": 1_500_000, "times": 3}));
    let url = format!("{}{path}", server_fact("TS_FAULT_URL"));
    let (code, report) = repo.json(["import", &url, "--kind", "os", "--os", "linux", "--sha256", &sha256_of(&iso)]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(item0(&report)["outcome"], "imported");
    let log = proxy_log(&path);
    let sent: u64 = log.iter().map(|e| e["sent"].as_u64().unwrap()).sum();
    assert!(sent <= size + size / 10, "fetched {sent} bytes for a {size}-byte file: {log:#?}");
    assert_eq!(log[0]["status"], 200);
    let resumes: Vec<&Value> = log.iter().skip(1).collect();
    assert!(resumes.len() >= 3, "{log:#?}");
    for r in resumes {
        assert_eq!(r["status"], 206, "{log:#?}");
        assert!(r["range"].as_str().unwrap().starts_with("bytes="), "{log:#?}");
        assert!(r["if_range"].is_string(), "resumes carry If-Range: {log:#?}");
    }
    // Each request is in the support log, with its answer (but not the If-Range validator).
    let lines = repo.log_lines();
    let logged: Vec<&Value> = lines.iter().filter(|l| l["message"] == "request" && l["service"] == "download").collect();
    let statuses: Vec<u64> = logged.iter().map(|l| l["status"].as_u64().unwrap()).collect();
    let proxied: Vec<u64> = log.iter().map(|e| e["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, proxied, "{logged:#?}");
    assert!(logged.iter().all(|l| l["method"] == "GET" && l["path"] == path.as_str()), "{logged:#?}");
}

#[test]
fn a_stalled_server_fails_after_the_read_timeout_and_the_next_import_resumes() {
    let repo = Repo::new();
    let iso = fixture("grub-rescue-cdrom.iso");
    let size = std::fs::metadata(&iso).unwrap().len();
    let path = serve("stall", &iso);
    fault(&path, json!({"stall_after": 2_000_000}));
    let url = format!("{}{path}", server_fact("TS_FAULT_URL"));
    let started = Instant::now();
    let (code, report) = repo.json(["import", &url, "--kind", "os", "--os", "linux", "--timeout", "2"]);
    assert_eq!(code, 1, "{report:#}");
    assert!(started.elapsed() < Duration::from_secs(60), "failed after the read timeout, not hung");
    let err = &item0(&report)["error"];
    assert_eq!(err["code"], "download_stalled", "{report:#}");
    assert!(err["text"].as_str().unwrap().contains("stopped sending at byte 2000000"), "{err:#}");
    assert!(repo.objects().is_empty());
    // The bytes that came are kept for the next try.
    let part: Vec<PathBuf> = downloads(&repo).into_iter().filter(|p| p.ends_with("data.part")).collect();
    assert_eq!(part.len(), 1, "{:?}", downloads(&repo));
    assert_eq!(std::fs::metadata(&part[0]).unwrap().len(), 2_000_000);

    let (code, report) = repo.json(["import", &url, "--kind", "os", "--os", "linux", "--sha256", &sha256_of(&iso)]);
    assert_eq!(code, 0, "{report:#}");
    let log = proxy_log(&path);
    let last = log.last().unwrap();
    assert_eq!((last["status"].as_u64(), last["range"].as_str()), (Some(206), Some("bytes=2000000-")), "{log:#?}");
    assert_eq!(last["sent"].as_u64().unwrap(), size - 2_000_000);
    assert!(downloads(&repo).is_empty());
}

#[test]
fn a_download_killed_with_sigkill_resumes_when_the_same_url_is_imported_again() {
    let repo = Repo::new();
    let iso = fixture("grub-rescue-cdrom.iso");
    let size = std::fs::metadata(&iso).unwrap().len();
    let path = serve("kill", &iso);
    fault(&path, json!({"stall_after": 3_000_000}));
    let url = format!("{}{path}", server_fact("TS_FAULT_URL"));
    let mut child = repo.cmd().args(["import", &url, "--kind", "os", "--os", "linux", "--json"]).spawn().unwrap();
    // Wait for the download to be well under way on disk, then kill the process as a power cut would.
    let part_size = || -> u64 {
        downloads(&repo).iter().filter(|p| p.ends_with("data.part")).map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)).sum()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while part_size() < 2 << 20 {
        assert!(Instant::now() < deadline, "the download never got under way (at {} bytes)", part_size());
        assert!(child.try_wait().unwrap().is_none(), "the import ended on its own");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = part_size();
    assert!((2 << 20..=3_000_000).contains(&kept), "{kept}");

    let (code, report) = repo.json(["import", &url, "--kind", "os", "--os", "linux", "--sha256", &sha256_of(&iso)]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(item0(&report)["outcome"], "imported");
    let log = proxy_log(&path);
    let last = log.last().unwrap();
    let range = format!("bytes={kept}-");
    assert_eq!((last["status"].as_u64(), last["range"].as_str()), (Some(206), Some(range.as_str())), "{log:#?}");
    assert_eq!(last["sent"].as_u64().unwrap(), size - kept, "only the rest came again");
    // The killed job is in the history, not running for ever.
    let (_, jobs) = repo.json(["jobs"]);
    let states: Vec<&str> = jobs.as_array().unwrap().iter().map(|j| j["state"].as_str().unwrap()).collect();
    assert!(states.contains(&"interrupted") && states.contains(&"succeeded"), "{states:?}");
}

#[test]
fn a_part_from_a_server_without_validators_is_resumed_only_when_a_digest_will_check_the_whole() {
    let repo = Repo::new();
    let iso = fixture("grub-rescue-cdrom.iso");
    let size = std::fs::metadata(&iso).unwrap().len();
    let path = serve("novalidator", &iso);
    let url = format!("{}{path}", server_fact("TS_FAULT_URL"));
    let stall_then_keep_a_part = |spec: Value| {
        fault(&path, spec);
        let (code, report) = repo.json(["import", &url, "--kind", "os", "--os", "linux", "--timeout", "2"]);
        assert_eq!((code, item0(&report)["error"]["code"].as_str()), (1, Some("download_stalled")), "{report:#}");
        let log = proxy_log(&path);
        assert_eq!(log.last().unwrap()["sent"], 2_000_000);
    };
    // No ETag, no Last-Modified: If-Range has nothing to hold the part to.
    stall_then_keep_a_part(json!({"stall_after": 2_000_000, "no_validators": true}));
    // Without a digest nothing would notice a changed file spliced onto the part: from byte 0.
    let (code, report) = repo.json(["import", &url, "--kind", "os", "--os", "linux"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(item0(&report)["artifact"]["sha256"].as_str().unwrap(), sha256_of(&iso));
    let log = proxy_log(&path);
    let last = log.last().unwrap();
    assert_eq!((last["status"].as_u64(), last["range"].as_str(), last["sent"].as_u64()), (Some(200), None, Some(size)), "{log:#?}");

    // With a digest the whole is checked at the end anyway: the part is resumed (without If-Range).
    stall_then_keep_a_part(json!({"stall_after": 2_000_000}));
    let (code, report) = repo.json(["import", &url, "--kind", "os", "--os", "linux", "--sha256", &sha256_of(&iso)]);
    assert_eq!(code, 0, "{report:#}");
    let log = proxy_log(&path);
    let last = log.last().unwrap();
    assert_eq!((last["status"].as_u64(), last["range"].as_str()), (Some(206), Some("bytes=2000000-")), "{log:#?}");
    assert!(last["if_range"].is_null(), "{log:#?}");
    assert_eq!(last["sent"].as_u64(), Some(size - 2_000_000));
    assert!(downloads(&repo).is_empty(), "{:?}", downloads(&repo));
}

#[test]
fn a_file_changed_on_the_server_between_tries_is_fetched_again_from_the_start() {
    let repo = Repo::new();
    let old = fixture("grub-rescue-cdrom.iso");
    let path = serve("changed", &old);
    fault(&path, json!({"stall_after": 1_000_000}));
    let url = format!("{}{path}", server_fact("TS_FAULT_URL"));
    let (code, report) = repo.json(["import", &url, "--kind", "os", "--os", "linux", "--timeout", "2"]);
    assert_eq!((code, item0(&report)["error"]["code"].as_str()), (1, Some("download_stalled")), "{report:#}");

    // A new build replaces the file (new size, new ETag) under the same URL.
    let new = fixture("ipxe.iso");
    std::fs::copy(&new, served_file(&path)).unwrap();
    let (code, report) = repo.json(["import", &url, "--kind", "os", "--os", "linux"]);
    assert_eq!(code, 0, "{report:#}");
    let a = &item0(&report)["artifact"];
    assert_eq!(a["sha256"].as_str().unwrap(), sha256_of(&new), "the new file, whole — not old bytes with new ones after them");
    let log = proxy_log(&path);
    let asks: Vec<(u64, Option<&str>)> = log.iter().map(|e| (e["status"].as_u64().unwrap(), e["range"].as_str())).collect();
    // The resume asked for the rest of the old file with If-Range; the server sent the whole new one.
    assert_eq!(asks[1], (200, Some("bytes=1000000-")), "{log:#?}");
}

#[test]
fn redirects_are_followed_to_the_file_and_a_redirect_loop_fails_with_its_reason() {
    let repo = Repo::new();
    let iso = fixture("ipxe.iso");
    let path = serve("redirect", &iso);
    let moved = format!("{}/_moved{path}", server_fact("TS_HTTP_URL"));
    let (code, report) = repo.json(["import", &moved, "--sha256", &sha256_of(&iso)]);
    assert_eq!(code, 0, "{report:#}");
    let a = &item0(&report)["artifact"];
    assert_eq!((a["name"].as_str(), a["source"]["url"].as_str()), (Some("ipxe.iso"), Some(moved.as_str())), "{a:#}");

    let looping = format!("{}/_loop{path}", server_fact("TS_HTTP_URL"));
    let started = Instant::now();
    let (code, report) = repo.json(["import", &looping]);
    assert!(started.elapsed() < Duration::from_secs(30), "a loop fails at once, with no retries");
    let err = &item0(&report)["error"];
    assert_eq!((code, err["code"].as_str()), (1, Some("download_failed")), "{report:#}");
    assert!(err["text"].as_str().unwrap().contains("redirects more than 10 times"), "{err:#}");
    assert!(downloads(&repo).is_empty(), "nothing kept: {:?}", downloads(&repo));
}

#[test]
fn https_is_verified_against_the_system_authorities() {
    let repo = Repo::new();
    let iso = fixture("ipxe.iso");
    let path = serve("tls", &iso);
    let url = format!("{}{path}", server_fact("TS_HTTPS_URL"));
    // The test CA is not trusted: refused, nothing stored.
    let out = repo.cmd().args(["import", &url, "--json"]).env("SSL_CERT_FILE", fixture("ks.cfg")).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(item0(&report)["error"]["code"], "tls_failed", "{report:#}");
    assert!(repo.objects().is_empty());
    // Trusted (SSL_CERT_FILE, as for a private authority): imported.
    let out = repo.cmd().args(["import", &url, "--json"]).env("SSL_CERT_FILE", server_fact("TS_CA_CERT")).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(item0(&report)["outcome"], "imported", "{report:#}");
}
