//! Image stores and manifest imports against the real nginx of scripts/servers.sh: an IMGAPI tree
//! (`/images`, `/images/UUID`, `/images/UUID/file`) and a SimpleStreams tree
//! (`streams/v1/index.json` and its products file) written by the tests; manifest defaults, a
//! wrong sha1 that stores nothing, gzip/bzip2/xz images decompressed with both digests kept,
//! browsing with the already-in-library marker, and store imports as one job.

mod common;

use common::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

const UUID_A: &str = "2b683a82-a066-11e3-97ab-2faa44701c5a";
const UUID_B: &str = "c02a2044-c1bd-11e4-bd8c-dfc1db8b0182";
const UUID_C: &str = "7b5981c4-1889-11e7-b4c5-3f3bdfc9b88b";

#[test]
fn a_manifest_url_import_takes_its_defaults_and_verifies_the_file_against_it() {
    let repo = Repo::new();
    let (root, base) = site("manifest");
    let iso = fixture("ipxe.iso");
    imgapi_image(&root, UUID_A, "ipxe", "1.21.1", &iso, "none");
    let manifest_url = format!("{base}/images/{UUID_A}");
    let (code, report) = repo.json(["import", "--manifest-url", &manifest_url, "--owner", "lab"]);
    assert_eq!(code, 0, "{report:#}");
    let a = &report["items"][0]["artifact"];
    assert_eq!(a["name"], "ipxe-1.21.1");
    assert_eq!((a["version"].as_str(), a["description"].as_str()), (Some("1.21.1"), Some("ipxe 1.21.1 for KVM")));
    assert_eq!(a["tags"], json!(["kvm", "role=os"]));
    assert_eq!((a["access"].as_str(), a["owner"].as_str()), (Some("public"), Some("lab")), "{a:#}");
    assert_eq!(a["sha256"].as_str().unwrap(), sha256_of(&iso));
    assert_eq!(
        a["source"],
        json!({"kind": "url", "url": format!("{manifest_url}/file"), "manifest_url": manifest_url, "store": null, "remote_id": UUID_A})
    );
    // The manifest's sha1 is kept as evidence of the check.
    let v = report["items"][0]["verified"].as_array().unwrap();
    assert!(v.iter().any(|e| e["algo"] == "sha1" && e["source"] == manifest_url.as_str()), "{report:#}");
    // The same image again is the duplicate outcome, not a clash with its own name.
    let (code, again) = repo.json(["import", "--manifest-url", &manifest_url]);
    assert_eq!(code, 0, "{again:#}");
    assert_eq!(again["items"][0]["outcome"], "duplicate", "{again:#}");
    assert_eq!(again["items"][0]["artifact"]["id"], a["id"]);

    // A file URL elsewhere, named explicitly; attributes given win over the manifest's.
    let (root2, base2) = site("manifest-elsewhere");
    std::fs::copy(fixture("grub-rescue-cdrom.iso"), root2.join("rescue.iso")).unwrap();
    let m = json!({"uuid": UUID_B, "name": "rescue", "version": "2", "public": false,
        "files": [{"sha1": sha1_of(&fixture("grub-rescue-cdrom.iso")), "size": std::fs::metadata(fixture("grub-rescue-cdrom.iso")).unwrap().len()}]});
    std::fs::write(root2.join("rescue.json"), m.to_string()).unwrap();
    let (code, report) = repo.json([
        "import",
        "--manifest-url",
        &format!("{base2}/rescue.json"),
        "--file-url",
        &format!("{base2}/rescue.iso"),
        "--kind",
        "os",
        "--os",
        "linux",
        "--version",
        "2.0-lab",
    ]);
    assert_eq!(code, 0, "{report:#}");
    let a = &report["items"][0]["artifact"];
    assert_eq!((a["name"].as_str(), a["version"].as_str(), a["access"].as_str()), (Some("rescue-2"), Some("2.0-lab"), Some("private")));
    // Without --file-url, a manifest that is not at …/images/UUID names no file: said before any download.
    let (code, report) = repo.json(["import", "--manifest-url", &format!("{base2}/rescue.json")]);
    let err = if report["error"].is_object() { &report["error"] } else { &report["items"][0]["error"] };
    assert_eq!((code, err["code"].as_str()), (1, Some("invalid_argument")), "{report:#}");
    assert!(err["recovery"].as_str().unwrap().contains("--file-url"), "{report:#}");
}

#[test]
fn a_wrong_sha1_or_size_in_the_manifest_stores_nothing() {
    let repo = Repo::new();
    let (root, base) = site("manifest-wrong");
    let mut m = imgapi_image(&root, UUID_A, "ipxe", "1", &fixture("ipxe.iso"), "none");
    m["files"][0]["sha1"] = json!("0".repeat(40));
    std::fs::write(root.join(format!("images/{UUID_A}/manifest.json")), m.to_string()).unwrap();
    let (code, report) = repo.json(["import", "--manifest-url", &format!("{base}/images/{UUID_A}")]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["items"][0]["error"]["code"], "checksum_mismatch", "{report:#}");
    m["files"][0]["sha1"] = json!(sha1_of(&fixture("ipxe.iso")));
    m["files"][0]["size"] = json!(1234);
    std::fs::write(root.join(format!("images/{UUID_A}/manifest.json")), m.to_string()).unwrap();
    let (code, report) = repo.json(["import", "--manifest-url", &format!("{base}/images/{UUID_A}")]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["items"][0]["error"]["code"], "checksum_mismatch", "{report:#}");
    assert!(report["items"][0]["error"]["text"].as_str().unwrap().contains("1234"), "{report:#}");
    let (_, list) = repo.json(["list", "--all"]);
    assert_eq!(list, json!([]));
    assert!(repo.objects().is_empty());
    assert!(walk(&repo.home().join("downloads")).iter().all(|p| p.ends_with("lock")), "nothing kept");
}

#[test]
fn gzip_bzip2_and_xz_images_are_stored_decompressed_with_both_digests_kept() {
    let repo = Repo::new();
    let (root, base) = site("compressed");
    let iso = fixture("grub-rescue-cdrom.iso");
    for (uuid, c) in [(UUID_A, "gzip"), (UUID_B, "bzip2"), (UUID_C, "xz")] {
        let m = imgapi_image(&root, uuid, &format!("rescue-{c}"), "1", &iso, c);
        let (code, report) = repo.json(["import", "--manifest-url", &format!("{base}/images/{uuid}"), "--kind", "os", "--os", "linux"]);
        assert_eq!(code, 0, "{c}: {report:#}");
        let item = &report["items"][0];
        // The same bytes three times: stored once.
        assert_eq!(item["outcome"], if c == "gzip" { "imported" } else { "duplicate" }, "{report:#}");
        if c == "gzip" {
            let a = &item["artifact"];
            assert_eq!(a["sha256"].as_str().unwrap(), sha256_of(&iso), "stored decompressed");
            assert_eq!(a["size"].as_u64().unwrap(), std::fs::metadata(&iso).unwrap().len());
            let served = &a["detected"]["served"];
            assert_eq!(served["compression"], "gzip", "{a:#}");
            assert_eq!(served["sha1"], m["files"][0]["sha1"], "{a:#}");
            assert_eq!(served["size"], m["files"][0]["size"]);
        }
    }
    // A file that says xz but is not: invalid_content, nothing stored beyond the first.
    let dir = root.join("images").join("bad");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture("ks.cfg"), dir.join("file")).unwrap();
    let m = json!({"uuid": "bad", "name": "bad", "files": [{"sha1": sha1_of(&dir.join("file")), "size": std::fs::metadata(dir.join("file")).unwrap().len(), "compression": "xz"}]});
    std::fs::write(dir.join("manifest.json"), m.to_string()).unwrap();
    let (code, report) = repo.json(["import", "--manifest-url", &format!("{base}/images/bad")]);
    assert_eq!((code, report["items"][0]["error"]["code"].as_str()), (1, Some("invalid_content")), "{report:#}");
    assert_eq!(repo.objects().len(), 1);
}

#[test]
fn a_compressed_image_is_decompressed_as_it_comes_and_a_killed_download_resumes_through_the_decoder() {
    let repo = Repo::new();
    let (root, _) = site("stream");
    // A rescue ISO with 6 MiB of noise after it: about 8 MiB served gzipped, well past the point
    // where the server stalls.
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("rescue-padded.iso");
    let mut bytes = std::fs::read(fixture("grub-rescue-cdrom.iso")).unwrap();
    bytes.extend(noise_bytes(6 << 20, 1));
    std::fs::write(&image, &bytes).unwrap();
    let m = imgapi_image(&root, UUID_A, "rescue", "1", &image, "gzip");
    let served = m["files"][0]["size"].as_u64().unwrap();
    let stall_at = 5_000_000;
    assert!(served > stall_at + (1 << 20), "{served}");
    // Through the fault proxy: the file stalls, so the import can be killed mid-download.
    let rel = root.file_name().unwrap().to_str().unwrap();
    fault(&format!("/{rel}/images/{UUID_A}/file"), json!({"stall_after": stall_at}));
    let manifest_url = format!("{}/{rel}/images/{UUID_A}", server_fact("TS_FAULT_URL"));
    let import = ["import", "--manifest-url", &manifest_url, "--kind", "os", "--os", "linux"];
    let mut child = repo.cmd().args(import).arg("--json").spawn().unwrap();
    let downloads = || -> Vec<PathBuf> { walk(&repo.home().join("downloads")) };
    let size_of = |name: &str| -> u64 {
        downloads().iter().filter(|p| p.ends_with(name)).map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)).sum()
    };
    // While the served bytes are still coming, the decompressed image is already being written.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while size_of("data.part") < 4 << 20 || size_of("image") < 4 << 20 {
        assert!(std::time::Instant::now() < deadline, "no image while the download runs: {:?}", downloads());
        assert!(child.try_wait().unwrap().is_none(), "the import ended on its own");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = size_of("data.part");
    assert!((4 << 20..=stall_at).contains(&kept), "{kept}");

    // The same import again: only the rest comes, the decoder reads the kept part first.
    let (code, report) = repo.json(import);
    assert_eq!(code, 0, "{report:#}");
    let a = &report["items"][0]["artifact"];
    assert_eq!(a["sha256"].as_str().unwrap(), sha256_of(&image), "{a:#}");
    assert_eq!(a["detected"]["served"]["sha1"], m["files"][0]["sha1"], "{a:#}");
    assert_eq!(a["detected"]["served"]["size"].as_u64(), Some(served));
    assert!(downloads().iter().all(|p| p.ends_with("lock")), "nothing kept: {:?}", downloads());
    let log = proxy_log(&format!("/{rel}/images/{UUID_A}/file"));
    let last = log.last().unwrap().clone();
    let range = format!("bytes={kept}-");
    assert_eq!((last["status"].as_u64(), last["range"].as_str()), (Some(206), Some(range.as_str())), "{log:#?}");
    assert_eq!(last["sent"].as_u64(), Some(served - kept), "only the rest came again");
}

#[test]
fn an_imgapi_store_is_added_browsed_with_the_library_marker_and_imported_from() {
    let repo = Repo::new();
    let (root, base) = site("imgapi");
    let a = imgapi_image(&root, UUID_A, "ipxe", "1.21.1", &fixture("ipxe.iso"), "none");
    let b = imgapi_image(&root, UUID_B, "rescue", "2.06", &fixture("grub-rescue-cdrom.iso"), "gzip");
    let mut disabled = a.clone();
    disabled["uuid"] = json!(UUID_C);
    disabled["disabled"] = json!(true);
    write_index(&root, &[a, b, disabled]);

    let (code, s) = repo.json(["store", "add", "danube", "--url", &format!("{base}/")]);
    assert_eq!(code, 0, "{s:#}");
    assert_eq!((s["kind"].as_str(), s["url"].as_str()), (Some("imgapi"), Some(base.as_str())), "found by asking, trailing / dropped");
    let (code, err) = repo.json(["store", "add", "DANUBE", "--url", &base]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("name_taken")));
    let (code, err) = repo.json(["store", "add", "nowhere", "--url", &format!("{base}/missing")]);
    assert_eq!(code, 1, "{err:#}");
    let (_, stores) = repo.json(["store", "list"]);
    assert_eq!(stores.as_array().unwrap().len(), 1);
    let (code, check) = repo.json(["store", "test", "danube"]);
    assert_eq!((code, check["images"].as_u64()), (0, Some(2)), "the disabled image is not offered: {check:#}");

    let (_, images) = repo.json(["store", "images", "danube"]);
    let ids: Vec<&str> = images.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [UUID_A, UUID_B], "newest first: {images:#}");
    assert_eq!(images[1]["compression"], "gzip");
    assert!(images.as_array().unwrap().iter().all(|i| i["in_library"].is_null()));
    let (_, found) = repo.json(["store", "images", "danube", "--search", "rescue 2.06"]);
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (_, none) = repo.json(["store", "images", "danube", "--os", "windows"]);
    assert_eq!(none, json!([]));

    let (code, report) = repo.json(["store", "import", "danube", UUID_A, UUID_B, "--kind", "os", "--os", "linux"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["job"]["state"], "succeeded");
    let art = &report["items"][0]["artifact"];
    assert_eq!(art["source"]["kind"], "store");
    assert_eq!(art["source"]["store"], "danube");
    assert_eq!(art["source"]["remote_id"], UUID_A);
    let (_, images) = repo.json(["store", "images", "danube"]);
    assert_eq!(images[0]["in_library"], "ipxe-1.21.1", "{images:#}");
    assert_eq!(images[1]["in_library"], "rescue-2.06");

    let (code, err) = repo.json(["store", "import", "danube", "no-such-uuid"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("not_found")), "{err:#}");
    let (code, _) = repo.json(["store", "remove", "danube"]);
    assert_eq!(code, 0);
    let (_, a) = repo.json(["show", "ipxe-1.21.1"]);
    assert_eq!(a["source"]["store"], "danube", "what came from a removed store still names it");
}

/// A SimpleStreams tree made by Canonical's own json2streams (python-simplestreams, in the test
/// servers' venv) from an items list, as Ubuntu's cloud-images publish: one products file of a
/// product with two versions (serials); the newest holds the disk image and a manifest.
fn simplestreams_tree(root: &Path, disk: &Path) {
    let item_path = "server/releases/noble/release-20261201/ubuntu-24.04-server-cloudimg-amd64.img";
    let file = root.join(item_path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::copy(disk, &file).unwrap();
    let older = root.join("server/releases/noble/release-20261101/old.img");
    std::fs::create_dir_all(older.parent().unwrap()).unwrap();
    std::fs::copy(fixture("ks.cfg"), &older).unwrap();
    let manifest = root.join("server/releases/noble/release-20261201/x.manifest");
    std::fs::write(&manifest, "openssh-server 1:9.6p1\n").unwrap();
    let product = json!({"content_id": "com.ubuntu.cloud:released:download", "product_name": "com.ubuntu.cloud:server:24.04:amd64",
        "os": "ubuntu", "release": "noble", "release_title": "24.04 LTS", "release_codename": "Noble Numbat", "arch": "amd64"});
    let item = |version: &str, name: &str, ftype: &str, path: &Path| {
        let mut i = product.clone();
        let rel = path.strip_prefix(root).unwrap().to_str().unwrap();
        for (k, v) in [
            ("version_name", json!(version)),
            ("item_name", json!(name)),
            ("ftype", json!(ftype)),
            ("path", json!(rel)),
            ("sha256", json!(sha256_of(path))),
            ("size", json!(std::fs::metadata(path).unwrap().len())),
            ("pubname", json!(format!("ubuntu-noble-24.04-amd64-server-{version}"))),
        ] {
            i[k] = v;
        }
        i
    };
    let items = json!([
        item("20261101", "disk1.img", "disk1.img", &older),
        item("20261201", "disk1.img", "disk1.img", &file),
        item("20261201", "manifest", "manifest", &manifest),
    ]);
    let items_file = root.join("items.json");
    std::fs::write(&items_file, items.to_string()).unwrap();
    let out = Command::new(server_fact("TS_JSON2STREAMS")).arg(&items_file).arg(root).output().unwrap();
    assert!(out.status.success(), "json2streams: {}", String::from_utf8_lossy(&out.stderr));
    assert!(root.join("streams/v1/index.json").is_file());
}

#[test]
fn a_simplestreams_store_offers_each_products_newest_disk_image() {
    let repo = Repo::new();
    let (root, base) = site("simplestreams");
    let disk = fixture("ubuntu-24.04-server-amd64.iso");
    simplestreams_tree(&root, &disk);
    let (code, s) = repo.json(["store", "add", "ubuntu", "--url", &base]);
    assert_eq!((code, s["kind"].as_str()), (0, Some("simplestreams")), "{s:#}");
    let (_, images) = repo.json(["store", "images", "ubuntu", "--os", "ubuntu"]);
    let img = &images[0];
    assert_eq!(images.as_array().unwrap().len(), 1, "{images:#}");
    assert_eq!(img["id"], "com.ubuntu.cloud:server:24.04:amd64");
    assert_eq!(
        (img["version"].as_str(), img["image_type"].as_str(), img["arch"].as_str()),
        (Some("20261201"), Some("disk1.img"), Some("amd64"))
    );
    assert_eq!(img["digest_algo"], "sha256");
    let (code, report) = repo.json(["store", "import", "ubuntu", "com.ubuntu.cloud:server:24.04:amd64", "--alias", "noble"]);
    assert_eq!(code, 0, "{report:#}");
    let a = &report["items"][0]["artifact"];
    assert_eq!(a["sha256"].as_str().unwrap(), sha256_of(&disk));
    assert_eq!(a["alias"], "noble");
    assert_eq!(a["name"], "ubuntu-24.04-LTS-20261201");
    let (_, images) = repo.json(["store", "images", "ubuntu"]);
    assert_eq!(images[0]["in_library"], "ubuntu-24.04-LTS-20261201");
}

/// A throwaway OpenPGP key made with gpg in its own home; returns (gpg home, public key file).
fn signing_key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let home = dir.join(format!("gnupg-{name}"));
    std::fs::create_dir_all(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let gpg = |args: &[&str]| {
        let out = Command::new("gpg")
            .arg("--homedir")
            .arg(&home)
            .args(["--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "gpg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    gpg(&["--quick-gen-key", &format!("{name} <{name}@images.example>"), "ed25519", "sign", "never"]);
    let public = dir.join(format!("{name}.asc"));
    std::fs::write(&public, gpg(&["--export", "--armor"])).unwrap();
    (home, public)
}

fn clearsign(home: &Path, src: &Path, dest: &Path) {
    let out = Command::new("gpg")
        .arg("--homedir")
        .arg(home)
        .args(["--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", "", "--clearsign", "--output"])
        .arg(dest)
        .arg(src)
        .output()
        .unwrap();
    assert!(out.status.success(), "gpg --clearsign: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_signed_simplestreams_store_is_read_through_its_signature_and_a_tampered_index_is_refused() {
    let repo = Repo::new();
    let keys = tempfile::tempdir().unwrap();
    let (publisher, public) = signing_key(keys.path(), "publisher");
    let (_, stranger) = signing_key(keys.path(), "stranger");
    let (root, base) = site("signed");
    simplestreams_tree(&root, &fixture("ubuntu-24.04-server-amd64.iso"));
    let v1 = root.join("streams/v1");
    clearsign(&publisher, &v1.join("index.json"), &v1.join("index.sjson"));
    let products = v1.join("com.ubuntu.cloud:released:download.json");
    clearsign(&publisher, &products, &v1.join("com.ubuntu.cloud:released:download.sjson"));

    let (code, s) = repo.json(["store", "add", "ubuntu", "--url", &base, "--kind", "simplestreams", "--key", public.to_str().unwrap()]);
    assert_eq!(code, 0, "{s:#}");
    assert_eq!(s["key_fingerprint"].as_str().map(str::len), Some(40), "{s:#}");
    let (code, images) = repo.json(["store", "images", "ubuntu"]);
    assert_eq!(code, 0, "{images:#}");
    assert_eq!(images[0]["version"], "20261201");

    // Someone swaps in another image's digest inside the signed products file: refused.
    let signed = v1.join("com.ubuntu.cloud:released:download.sjson");
    let text = std::fs::read_to_string(&signed).unwrap();
    let tampered = text.replacen("\"size\":", "\"size\": 1,\"was\":", 1);
    assert_ne!(text, tampered);
    std::fs::write(&signed, tampered).unwrap();
    let (code, err) = repo.json(["store", "images", "ubuntu"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("bad_signature")), "{err:#}");
    let (code, err) = repo.json(["store", "import", "ubuntu", "com.ubuntu.cloud:server:24.04:amd64"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("bad_signature")), "{err:#}");
    assert!(repo.objects().is_empty());

    // The same tree under a key that did not sign it: refused too.
    clearsign(&publisher, &products, &signed);
    let (code, _) = repo.json(["store", "add", "other", "--url", &base, "--kind", "simplestreams", "--key", stranger.to_str().unwrap()]);
    assert_eq!(code, 0);
    let (code, err) = repo.json(["store", "images", "other"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("bad_signature")), "{err:#}");
    let (code, images) = repo.json(["store", "images", "ubuntu"]);
    assert_eq!(code, 0, "signed again by the publisher: {images:#}");
    // Not a key at all.
    let (code, err) = repo.json(["store", "add", "bad", "--url", &base, "--key", fixture("ks.cfg").to_str().unwrap()]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("invalid_content")), "{err:#}");
}
