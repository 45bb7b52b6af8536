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
    let (code, p) =
        repo.json(["profile", "create", "rhel9-web", "--os-image", "rhel-9.6-x86_64-dvd.iso", "--description", "RHEL 9 web servers"]);
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(p["base"]["name"], "rhel-9.6-x86_64-dvd.iso");
    assert_eq!(p["os"], "linux");

    let (code, p) =
        repo.json(["profile", "add", "rhel9-web", "dud-kmod-example.iso", "ks.cfg", "post-install.sh", "monitoring-agent-2.1.tar.gz"]);
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

    let (code, p) = repo.json([
        "profile",
        "set",
        "rhel9-web",
        "hostname=web01",
        "timezone=Europe/Berlin",
        "locale=en_US.UTF-8",
        "keyboard=us",
        "ntp=pool.ntp.org",
    ]);
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
    repo.json(["profile", "create", "rhel9-db", "--os-image", "rhel-9.6-x86_64-dvd.iso"]);
    repo.json(["profile", "add", "rhel9-db", "post-install.sh"]);
    // what uses a file is shown before anyone tries to delete it
    let (_, shown) = repo.json(["show", "post-install.sh"]);
    assert_eq!(shown["profiles"], serde_json::json!(["rhel9-db", "rhel9-web"]), "{shown:#}");
    let table = String::from_utf8_lossy(&repo.run(["show", "post-install.sh"]).stdout).into_owned();
    assert!(table.contains("rhel9-db, rhel9-web"), "{table}");
    assert!(repo.run(["profile", "delete", "rhel9-db"]).status.success());
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
    let (code, _) =
        repo.json(["profile", "add", "rhel9-web", "dud-kmod-example.iso", "ks.cfg", "post-install.sh", "monitoring-agent-2.1.tar.gz"]);
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
    let ok = std::process::Command::new("sha256sum")
        .args(["-c", "--strict", "rhel9-web.tar.gz.sha256"])
        .current_dir(out_a.path())
        .status()
        .unwrap();
    assert!(ok.success());
    // GNU tar lists and extracts it; the inner SHA256SUMS covers every file and checks out.
    let list = std::process::Command::new("tar").arg("tzf").arg(&archive).output().unwrap();
    assert!(list.status.success());
    let listing = String::from_utf8(list.stdout).unwrap();
    for f in [
        "profile.json",
        "SHA256SUMS",
        "drivers/dud-kmod-example.iso",
        "unattend/ks.cfg",
        "custom/post-install.sh",
        "custom/monitoring-agent-2.1.tar.gz",
    ] {
        assert!(listing.lines().any(|l| l == f), "{f} missing from:\n{listing}");
    }
    assert!(!listing.contains("os/"), "the base OS image is left out unless asked for");
    let x = tempfile::tempdir().unwrap();
    assert!(std::process::Command::new("tar").arg("xzf").arg(&archive).arg("-C").arg(x.path()).status().unwrap().success());
    let ok =
        std::process::Command::new("sha256sum").args(["-c", "--strict", "--quiet", "SHA256SUMS"]).current_dir(x.path()).status().unwrap();
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
    let (code, _) = repo.json([
        "profile".as_ref(),
        "export".as_ref(),
        "rhel9-web".as_ref(),
        "--include-os".as_ref(),
        "--to".as_ref(),
        out_c.path().as_os_str(),
    ]);
    assert_eq!(code, 0);
    let list = std::process::Command::new("tar").arg("tzf").arg(out_c.path().join("rhel9-web.tar.gz")).output().unwrap();
    assert!(String::from_utf8(list.stdout).unwrap().lines().any(|l| l == "os/rhel-9.6-x86_64-dvd.iso"));

    let (_, jobs) = repo.json(["jobs"]);
    assert_eq!(jobs[0]["kind"], "export");
    let (code, err) = repo.json(["profile", "export", "rhel9-web", "--to", "/nonexistent/folder"]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "file_not_found");
}

#[test]
fn export_then_import_on_a_fresh_repository_gives_the_same_profile() {
    let source = Repo::new();
    composed(&source);
    let out = tempfile::tempdir().unwrap();
    let (code, _) = source.json([
        "profile".as_ref(),
        "export".as_ref(),
        "rhel9-web".as_ref(),
        "--include-os".as_ref(),
        "--to".as_ref(),
        out.path().as_os_str(),
    ]);
    assert_eq!(code, 0);
    let archive = out.path().join("rhel9-web.tar.gz");

    let fresh = Repo::new();
    let (code, report) = fresh.json(["profile".as_ref(), "import".as_ref(), archive.as_os_str()]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["sidecar_verified"], true);
    let (_, original) = source.json(["profile", "show", "rhel9-web"]);
    let (_, copy) = fresh.json(["profile", "show", "rhel9-web"]);
    let shape = |p: &serde_json::Value| {
        let members: Vec<String> = p["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| format!("{} {} {} {}", m["role"], m["kind"], m["artifact"]["name"], m["sha256"]))
            .collect();
        (members, p["options"].clone(), p["base"]["name"].clone(), p["os"].clone())
    };
    assert_eq!(shape(&original), shape(&copy));
    // Each member keeps the proof it matched the archive's SHA256SUMS, with the line.
    let sums = std::process::Command::new("tar").args(["-xzOf"]).arg(&archive).arg("SHA256SUMS").output().unwrap();
    let sums = String::from_utf8(sums.stdout).unwrap();
    for m in copy["members"].as_array().unwrap() {
        let (_, a) = fresh.json(["show", m["artifact"]["name"].as_str().unwrap()]);
        let v = &a["verification"][0];
        assert_eq!(v["expected_from"], "profile_archive", "{a:#}");
        assert_eq!(v["source_file"], "SHA256SUMS in rhel9-web.tar.gz");
        let line = v["line"].as_u64().unwrap() as usize;
        let listed = sums.lines().nth(line - 1).unwrap();
        assert!(listed.starts_with(a["sha256"].as_str().unwrap()), "line {line} of SHA256SUMS is {listed:?}");
    }
    // Importing again: members are duplicates, the profile gets a free name.
    let (code, again) = fresh.json(["profile".as_ref(), "import".as_ref(), archive.as_os_str()]);
    assert_eq!(code, 0);
    assert_eq!(again["profile"]["name"], "rhel9-web (2)");
    assert_eq!(fresh.objects().len(), 5, "base + 4 members stored once");

    // Without the OS image the base must already be there.
    let out2 = tempfile::tempdir().unwrap();
    source.json(["profile".as_ref(), "export".as_ref(), "rhel9-web".as_ref(), "--to".as_ref(), out2.path().as_os_str()]);
    let empty = Repo::new();
    let (code, err) = empty.json(["profile".as_ref(), "import".as_ref(), out2.path().join("rhel9-web.tar.gz").as_os_str()]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "image_not_found");
    assert!(err["error"]["recovery"].as_str().unwrap().contains("--include-os"));
    assert!(empty.staging_files().is_empty());

    // A damaged archive fails its sidecar.
    let mut bytes = std::fs::read(&archive).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&archive, bytes).unwrap();
    let other = Repo::new();
    let (code, err) = other.json(["profile".as_ref(), "import".as_ref(), archive.as_os_str()]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "checksum_mismatch");
    let (_, list) = other.json(["list"]);
    assert!(list.as_array().unwrap().is_empty());
}

/// Build a hostile archive with Python's tarfile (a real, independent tar writer).
fn hostile(dir: &std::path::Path, name: &str, script: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.tar.gz"));
    let program = format!(
        "import tarfile, io, gzip, hashlib, json, sys\nout = sys.argv[1]\ntf = tarfile.open(out, 'w:gz')\n\
def add(name, data=b'x', **kw):\n    ti = tarfile.TarInfo(name); ti.size = len(data)\n    for k, v in kw.items(): setattr(ti, k, v)\n    tf.addfile(ti, io.BytesIO(data) if ti.isreg() else None)\n\
manifest = json.dumps({{'format': 'imagesmith-profile/1', 'name': 'evil', 'base': {{'name': 'b', 'sha256': '0'*64}}, 'members': []}}).encode()\n\
add('profile.json', manifest)\nadd('SHA256SUMS', (hashlib.sha256(manifest).hexdigest() + '  profile.json\\n').encode())\n{script}\ntf.close()\n"
    );
    let ok = std::process::Command::new("python3").arg("-c").arg(program).arg(&path).status().unwrap();
    assert!(ok.success(), "python3 built {name}");
    path
}

#[test]
fn hostile_archives_are_refused_and_nothing_is_written_outside_staging() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("dotdot", "add('custom/../../outside/pwned', b'owned')".into(), "unsafe_archive", ".."),
        ("absolute", format!("add('{}/pwned', b'owned')", outside.display()), "unsafe_archive", "absolute"),
        ("symlink", "add('custom/link', b'', type=tarfile.SYMTYPE, linkname='/etc/passwd')".into(), "unsafe_archive", "symbolic link"),
        ("hardlink", "add('custom/hard', b'', type=tarfile.LNKTYPE, linkname='profile.json')".into(), "unsafe_archive", "hard link"),
        ("device", "add('custom/null', b'', type=tarfile.CHRTYPE, devmajor=1, devminor=3)".into(), "unsafe_archive", "device"),
        ("unlisted", "add('custom/extra.sh', b'#!/bin/sh\\n')".into(), "unsafe_archive", "not listed"),
        ("outside-folders", "add('etc/cron.d/x', b'* * * * * root sh')".into(), "unsafe_archive", "outside the folders"),
        // 1 TiB declared over a one-byte body: refused from the header, before anything is read.
        ("huge", "ti = tarfile.TarInfo('os/huge.iso'); ti.size = 1 << 40\ntf.fileobj.write(ti.tobuf(tf.format, tf.encoding, tf.errors) + b'\\0' * 1024)".into(), "archive_too_large", "bytes free"),
        // 256 MiB of zeros: about 256 KiB compressed, an expansion of 1000 times.
        ("bomb", "ti = tarfile.TarInfo('custom/zeros.bin'); ti.size = 1 << 28\nclass Z(io.RawIOBase):\n    left = 1 << 28\n    def readable(self): return True\n    def readinto(self, b):\n        n = min(len(b), Z.left); b[:n] = bytes(n); Z.left -= n; return n\ntf.addfile(ti, io.BufferedReader(Z(), 1 << 20))".into(), "archive_too_large", "expand"),
    ];
    for (name, script, code_expected, hint) in cases {
        let repo = Repo::new();
        let archive = hostile(dir.path(), name, &script);
        let (code, err) = repo.json(["profile".as_ref(), "import".as_ref(), archive.as_os_str()]);
        assert_eq!(code, 1, "{name}: {err:#}");
        assert_eq!(err["error"]["code"], code_expected, "{name}: {err:#}");
        assert!(err["error"]["text"].as_str().unwrap().contains(hint), "{name}: `{hint}` not in {err:#}");
        assert!(std::fs::read_dir(&outside).unwrap().next().is_none(), "{name} wrote outside");
        assert!(repo.staging_files().is_empty(), "{name} left staging files");
        assert!(repo.objects().is_empty(), "{name} stored something");
        let (_, jobs) = repo.json(["jobs"]);
        assert_eq!(jobs[0]["state"], "failed", "{name}");
    }
}

#[test]
fn a_cancelled_export_leaves_no_file_behind() {
    let repo = Repo::new();
    let dir = tempfile::tempdir().unwrap();
    // A stored (uncompressed) 1 GiB software zip: the export takes long enough to interrupt.
    let big = dir.path().join("payload.bin");
    std::fs::File::create(&big).unwrap().set_len(1 << 30).unwrap();
    let zip = dir.path().join("big-tools.zip");
    assert!(std::process::Command::new("zip").args(["-0", "-q", "-j"]).arg(&zip).arg(&big).status().unwrap().success());
    std::fs::remove_file(&big).unwrap();
    repo.import(&[], &[fixture("win-server-2022.iso")]);
    let (code, _) = repo.import(&["--kind", "software", "--os", "windows"], &[zip]);
    assert_eq!(code, 0);
    repo.json(["profile", "create", "big", "--os-image", "win-server-2022.iso"]);
    repo.json(["profile", "add", "big", "big-tools.zip"]);
    let out = tempfile::tempdir().unwrap();
    let mut child = repo
        .cmd()
        .args(["profile", "export", "big", "--json", "--to"])
        .arg(out.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    loop {
        let partial: u64 =
            std::fs::read_dir(out.path()).unwrap().filter_map(|e| e.ok()).filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum();
        if partial > 0 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "export finished before it could be cancelled");
        assert!(start.elapsed() < std::time::Duration::from_secs(60));
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    child.wait().unwrap();
    let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "nothing half-written in the chosen folder: {left:?}");
    let (_, jobs) = repo.json(["jobs"]);
    assert_eq!(jobs[0]["kind"], "export");
    assert_eq!(jobs[0]["state"], "cancelled");
}

#[test]
fn an_export_of_a_damaged_object_fails_with_object_damaged_and_leaves_nothing() {
    let repo = Repo::new();
    composed(&repo);
    let (_, dud) = repo.json(["show", "dud-kmod-example.iso"]);
    flip_object_byte(&repo, dud["sha256"].as_str().unwrap(), 40_000);
    let out = tempfile::tempdir().unwrap();
    let (code, err) = repo.json(["profile".as_ref(), "export".as_ref(), "rhel9-web".as_ref(), "--to".as_ref(), out.path().as_os_str()]);
    assert_eq!(code, 1, "{err:#}");
    assert_eq!(err["error"]["code"], "object_damaged", "{err:#}");
    assert!(err["error"]["text"].as_str().unwrap().contains("dud-kmod-example.iso"), "the text names the artifact: {err:#}");
    assert!(err["error"]["recovery"].as_str().unwrap().contains("verify"), "{err:#}");
    let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "no archive, no sidecar, no .part file: {left:?}");
    let (_, jobs) = repo.json(["jobs"]);
    assert_eq!(jobs[0]["kind"], "export");
    assert_eq!(jobs[0]["state"], "failed");
}

/// `archive` rewritten with Python's tarfile: `edit` (Python, on the dict `m`) changes profile.json,
/// whose SHA256SUMS line is updated to match, so only the manifest's content is wrong.
fn doctored(archive: &std::path::Path, out: &std::path::Path, edit: &str) {
    let program = format!(
        "import tarfile, io, json, hashlib, sys\nsrc = tarfile.open(sys.argv[1]); dst = tarfile.open(sys.argv[2], 'w:gz')\n\
members = {{ti.name: (ti, src.extractfile(ti).read() if ti.isreg() else None) for ti in src.getmembers()}}\n\
m = json.loads(members['profile.json'][1])\n{edit}\nmanifest = json.dumps(m).encode()\n\
sums = ''.join(l + '\\n' for l in members['SHA256SUMS'][1].decode().splitlines() if not l.endswith(' profile.json'))\n\
sums += hashlib.sha256(manifest).hexdigest() + '  profile.json\\n'\n\
members['profile.json'] = (members['profile.json'][0], manifest); members['SHA256SUMS'] = (members['SHA256SUMS'][0], sums.encode())\n\
for name, (ti, data) in members.items():\n    ti.size = len(data) if data is not None else 0\n    dst.addfile(ti, io.BytesIO(data) if data is not None else None)\n\
dst.close()\n"
    );
    let ok = std::process::Command::new("python3").arg("-c").arg(program).arg(archive).arg(out).status().unwrap();
    assert!(ok.success(), "python3 rewrote the archive");
}

#[test]
fn a_profile_import_is_all_or_nothing_when_a_later_member_is_refused_or_the_name_is_taken() {
    let source = Repo::new();
    composed(&source);
    let dir = tempfile::tempdir().unwrap();
    let (code, e) = source.json([
        "profile".as_ref(),
        "export".as_ref(),
        "rhel9-web".as_ref(),
        "--include-os".as_ref(),
        "--to".as_ref(),
        dir.path().as_os_str(),
    ]);
    assert_eq!(code, 0, "{e:#}");
    let archive = dir.path().join("rhel9-web.tar.gz");

    // The last member claims to be a Windows driver: the base image and the members before it are
    // imported first, then it is refused, and none of them stays.
    let bad = dir.path().join("bad.tar.gz");
    doctored(&archive, &bad, "m['members'][-1]['kind'] = 'driver'; m['members'][-1]['os'] = 'windows'");
    let repo = Repo::new();
    let (code, err) = repo.json(["profile".as_ref(), "import".as_ref(), bad.as_os_str()]);
    assert_eq!(code, 1, "{err:#}");
    let (_, list) = repo.json(["list"]);
    assert_eq!(list.as_array().unwrap().len(), 0, "no member stays without its profile: {list:#}");
    assert!(repo.objects().is_empty(), "and no object");
    assert!(repo.staging_files().is_empty());
    let (_, jobs) = repo.json(["jobs"]);
    assert_eq!(jobs[0]["state"], "failed");
    assert_eq!(jobs[0]["kind"], "profile_import");

    // Files the user had imported before stay when a profile import that used them fails.
    let (code, r) = repo.import(&[], &[fixture("ks.cfg")]);
    assert_eq!(code, 0, "{r:#}");
    let (code, _) = repo.json(["profile".as_ref(), "import".as_ref(), bad.as_os_str()]);
    assert_eq!(code, 1);
    let (_, list) = repo.json(["list"]);
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ks.cfg"], "only what the user imported");

    // A name that is taken is refused before any job exists or any file is stored.
    let (code, p) = repo.json(["profile".as_ref(), "import".as_ref(), archive.as_os_str()]);
    assert_eq!(code, 0, "{p:#}");
    let (_, before) = repo.json(["jobs"]);
    let stored = repo.objects().len();
    let (code, err) = repo.json(["profile".as_ref(), "import".as_ref(), archive.as_os_str(), "--name".as_ref(), "RHEL9-web".as_ref()]);
    assert_eq!(code, 1, "{err:#}");
    assert_eq!(err["error"]["code"], "name_taken");
    let (_, after) = repo.json(["jobs"]);
    assert_eq!(after.as_array().unwrap().len(), before.as_array().unwrap().len(), "no job for a refusal");
    assert_eq!(repo.objects().len(), stored);
}
