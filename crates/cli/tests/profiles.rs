//! Deployment profiles through the CLI: compose on a base OS image, refusals that say why, options,
//! and members protected from deletion while a profile uses them.

mod common;

use common::*;

fn library(repo: &Repo) {
    let (code, report) = repo.import(
        &[],
        &[
            fixture("rhel-9.6-x86_64-dvd.iso"),
            fixture("win-server-2022.iso"),
            fixture("dud-kmod-example.iso"),
            fixture("win-nic-driver.zip"),
            fixture("winpe-amd64.zip"),
            fixture("ks.cfg"),
            fixture("autoyast.xml"),
            fixture("post-install.sh"),
            fixture("monitoring-agent-2.1.tar.gz"),
        ],
    );
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_profile_is_composed_from_library_items_and_refuses_what_does_not_fit() {
    let repo = Repo::new();
    library(&repo);
    let (code, p) = repo.json(["profile", "create", "rhel9-web", "--os-image", "rhel-9.6-x86_64-dvd.iso", "--description", "RHEL 9 web servers"]);
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(p["base"]["name"], "rhel-9.6-x86_64-dvd.iso");
    assert_eq!(p["os"], "linux");

    let (code, p) = repo.json(["profile", "add", "rhel9-web", "dud-kmod-example.iso", "ks.cfg", "post-install.sh", "monitoring-agent-2.1.tar.gz"]);
    assert_eq!(code, 0, "{p:#}");
    let roles: Vec<String> = p["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{} {}", m["role"].as_str().unwrap(), m["artifact"]["name"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, ["custom monitoring-agent-2.1.tar.gz", "custom post-install.sh", "driver dud-kmod-example.iso", "unattend ks.cfg"]);

    for (artifact, hint) in [
        ("win-nic-driver.zip", "is for windows, but the profile rhel9-web is for linux"),
        ("winpe-amd64.zip", "only fits a Windows profile"),
        ("autoyast.xml", "already has an answer file (ks.cfg)"),
        ("win-server-2022.iso", "an OS image"),
    ] {
        let (code, err) = repo.json(["profile", "add", "rhel9-web", artifact]);
        assert_eq!(code, 1, "{artifact}");
        assert_eq!(err["error"]["code"], "unsupported_type", "{artifact}");
        assert!(err["error"]["text"].as_str().unwrap().contains(hint), "{artifact}: {err:#}");
        assert!(!err["error"]["recovery"].as_str().unwrap().is_empty());
    }
    let (_, p) = repo.json(["profile", "show", "rhel9-web"]);
    assert_eq!(p["members"].as_array().unwrap().len(), 4, "refused additions change nothing");

    let (code, p) = repo.json(["profile", "set", "rhel9-web", "hostname=web01", "timezone=Europe/Berlin", "locale=en_US.UTF-8", "keyboard=us", "ntp=pool.ntp.org"]);
    assert_eq!(code, 0);
    assert_eq!(p["options"]["timezone"], "Europe/Berlin");
    assert_eq!(p["options"].as_object().unwrap().len(), 5);
    let (_, p) = repo.json(["profile", "set", "rhel9-web", "ntp="]);
    assert!(p["options"].get("ntp").is_none(), "KEY= removes an option");
    let out = repo.run(["profile", "set", "rhel9-web", "no-equals-sign"]);
    assert_eq!(out.status.code(), Some(2));

    let (code, p) = repo.json(["profile", "remove", "rhel9-web", "ks.cfg"]);
    assert_eq!(code, 0);
    assert_eq!(p["members"].as_array().unwrap().len(), 3);
    let (code, _) = repo.json(["profile", "add", "rhel9-web", "autoyast.xml"]);
    assert_eq!(code, 0, "with ks.cfg gone another answer file fits");

    let (code, w) = repo.json(["profile", "create", "win2022", "--os-image", "win-server-2022.iso"]);
    assert_eq!(code, 0, "{w:#}");
    let (code, w) = repo.json(["profile", "add", "win2022", "win-nic-driver.zip", "winpe-amd64.zip"]);
    assert_eq!(code, 0, "{w:#}");
    let (code, err) = repo.json(["profile", "create", "RHEL9-WEB", "--os-image", "rhel-9.6-x86_64-dvd.iso"]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "name_taken");
    let (code, err) = repo.json(["profile", "create", "x", "--os-image", "ks.cfg"]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "image_not_found");

    let (_, list) = repo.json(["profile", "list"]);
    let names: Vec<_> = list.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["rhel9-web", "win2022"]);
}

#[test]
fn members_and_base_images_cannot_be_deleted_while_a_profile_uses_them() {
    let repo = Repo::new();
    library(&repo);
    repo.json(["profile", "create", "rhel9-web", "--os-image", "rhel-9.6-x86_64-dvd.iso"]);
    repo.json(["profile", "add", "rhel9-web", "post-install.sh"]);
    for name in ["post-install.sh", "rhel-9.6-x86_64-dvd.iso"] {
        let out = repo.run(["delete", name]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("in_use") && err.contains("rhel9-web"), "{err}");
    }
    let objects = repo.objects().len();
    let out = repo.run(["profile", "delete", "rhel9-web"]);
    assert!(out.status.success());
    assert!(repo.run(["delete", "post-install.sh"]).status.success());
    assert!(repo.run(["delete", "rhel-9.6-x86_64-dvd.iso"]).status.success());
    assert_eq!(repo.objects().len(), objects - 2);
    let (code, err) = repo.json(["profile", "show", "rhel9-web"]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "not_found");
}

fn composed(repo: &Repo) {
    library(repo);
    repo.json(["profile", "create", "rhel9-web", "--os-image", "rhel-9.6-x86_64-dvd.iso"]);
    let (code, _) = repo.json(["profile", "add", "rhel9-web", "dud-kmod-example.iso", "ks.cfg", "post-install.sh", "monitoring-agent-2.1.tar.gz"]);
    assert_eq!(code, 0);
    repo.json(["profile", "set", "rhel9-web", "hostname=web01", "timezone=UTC"]);
}

#[test]
fn an_export_is_a_reproducible_tar_gz_that_gnu_tar_and_sha256sum_accept() {
    let repo = Repo::new();
    composed(&repo);
    let out_a = tempfile::tempdir().unwrap();
    let out_b = tempfile::tempdir().unwrap();
    let (code, a) = repo.json(["profile".as_ref(), "export".as_ref(), "rhel9-web".as_ref(), "--to".as_ref(), out_a.path().as_os_str()]);
    assert_eq!(code, 0, "{a:#}");
    let archive = out_a.path().join("rhel9-web.tar.gz");
    assert_eq!(a["file"].as_str().unwrap(), archive.display().to_string());
    assert_eq!(a["job"]["state"], "succeeded");
    assert_eq!(a["sha256"].as_str().unwrap(), sha256_of(&archive));
    let names: Vec<_> = std::fs::read_dir(out_a.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names.len(), 2, "the archive and its sidecar, nothing else: {names:?}");

    // Two exports of the same profile: the same bytes.
    let (_, b) = repo.json(["profile".as_ref(), "export".as_ref(), "rhel9-web".as_ref(), "--to".as_ref(), out_b.path().as_os_str()]);
    assert_eq!(a["sha256"], b["sha256"]);
    assert_eq!(std::fs::read(&archive).unwrap(), std::fs::read(out_b.path().join("rhel9-web.tar.gz")).unwrap());

    // The sidecar is GNU format: sha256sum -c accepts it.
    let ok = std::process::Command::new("sha256sum").args(["-c", "--strict", "rhel9-web.tar.gz.sha256"]).current_dir(out_a.path()).status().unwrap();
    assert!(ok.success());
    // GNU tar lists and extracts it; the inner SHA256SUMS covers every file and checks out.
    let list = std::process::Command::new("tar").arg("tzf").arg(&archive).output().unwrap();
    assert!(list.status.success());
    let listing = String::from_utf8(list.stdout).unwrap();
    for f in ["profile.json", "SHA256SUMS", "drivers/dud-kmod-example.iso", "unattend/ks.cfg", "custom/post-install.sh", "custom/monitoring-agent-2.1.tar.gz"] {
        assert!(listing.lines().any(|l| l == f), "{f} missing from:\n{listing}");
    }
    assert!(!listing.contains("os/"), "the base OS image is left out unless asked for");
    let x = tempfile::tempdir().unwrap();
    assert!(std::process::Command::new("tar").arg("xzf").arg(&archive).arg("-C").arg(x.path()).status().unwrap().success());
    let ok = std::process::Command::new("sha256sum").args(["-c", "--strict", "--quiet", "SHA256SUMS"]).current_dir(x.path()).status().unwrap();
    assert!(ok.success());
    let sums = std::fs::read_to_string(x.path().join("SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), listing.lines().filter(|l| !l.ends_with('/') && *l != "SHA256SUMS").count());
    assert_eq!(sha256_of(&x.path().join("unattend/ks.cfg")), sha256_of(&fixture("ks.cfg")));
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(x.path().join("profile.json")).unwrap()).unwrap();
    assert_eq!(manifest["name"], "rhel9-web");
    assert_eq!(manifest["base"]["sha256"].as_str().unwrap(), sha256_of(&fixture("rhel-9.6-x86_64-dvd.iso")));
    assert_eq!(manifest["base"]["included"], false);
    assert_eq!(manifest["install_options"]["hostname"], "web01");
    assert_eq!(manifest["members"].as_array().unwrap().len(), 4);
    assert!(manifest["imagesmith_version"].as_str().is_some());

    // With the OS image.
    let out_c = tempfile::tempdir().unwrap();
    let (code, _) = repo.json(["profile".as_ref(), "export".as_ref(), "rhel9-web".as_ref(), "--include-os".as_ref(), "--to".as_ref(), out_c.path().as_os_str()]);
    assert_eq!(code, 0);
    let list = std::process::Command::new("tar").arg("tzf").arg(out_c.path().join("rhel9-web.tar.gz")).output().unwrap();
    assert!(String::from_utf8(list.stdout).unwrap().lines().any(|l| l == "os/rhel-9.6-x86_64-dvd.iso"));

    let (_, jobs) = repo.json(["jobs"]);
    assert_eq!(jobs[0]["kind"], "export");
    let (code, err) = repo.json(["profile", "export", "rhel9-web", "--to", "/nonexistent/folder"]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "file_not_found");
}
