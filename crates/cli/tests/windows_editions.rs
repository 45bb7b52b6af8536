//! Windows installer media imported through the CLI: the exact Windows and every edition of
//! `sources/install.wim` (Server 2022, read through UDF and through ISO 9660) or `install.esd`
//! (Windows 11 arm64, whose ISO 9660 view shows only README.TXT), in `import --json`, `show --json`
//! and `show`'s rows; Windows PE boot media (an ISO, or a zip whose boot.wim says so) are boot
//! files, not an OS installer.

mod common;

use common::*;
use serde_json::Value;

fn import(repo: &Repo, file: &str, extra: &[&str]) -> Value {
    let (code, report) = repo.import(extra, &[fixture(file)]);
    assert_eq!(code, 0, "{report:#}");
    report["items"][0]["artifact"].clone()
}

/// (index, name, edition_id, build, arch, languages) of every edition.
fn editions(a: &Value) -> Vec<(u64, String, String, u64, String, Vec<String>)> {
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    a["editions"]
        .as_array()
        .unwrap_or_else(|| panic!("no editions: {a:#}"))
        .iter()
        .map(|e| {
            let languages = e["languages"].as_array().unwrap().iter().map(text).collect();
            (
                e["index"].as_u64().unwrap(),
                text(&e["name"]),
                text(&e["edition_id"]),
                e["build"].as_u64().unwrap(),
                text(&e["arch"]),
                languages,
            )
        })
        .collect()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn windows_server_2022_names_its_editions_and_the_exact_windows_from_install_wim() {
    let repo = Repo::new();
    let a = import(&repo, "win-server-2022-udf.iso", &[]);
    assert_eq!((a["kind"].as_str(), a["os"].as_str(), a["distro"].as_str()), (Some("os"), Some("windows"), None));
    assert_eq!(
        (a["os_id"].as_str(), a["os_name"].as_str(), a["os_version"].as_str(), a["arch"].as_str()),
        (Some("win2k22"), Some("Microsoft Windows Server 2022"), Some("10.0.20348"), Some("x86_64"))
    );
    let en = vec!["en-US".to_string()];
    assert_eq!(
        editions(&a),
        [
            (1, "Windows Server 2022 SERVERSTANDARD".into(), "ServerStandard".into(), 20348, "x86_64".into(), en.clone()),
            (2, "Windows Server 2022 SERVERDATACENTER".into(), "ServerDatacenter".into(), 20348, "x86_64".into(), en),
        ]
    );
    assert_eq!(a["editions"][0]["display_name"], "Windows Server 2022 Standard (Desktop Experience)");
    assert_eq!(a["editions"][0]["installation_type"], "server");
    // The files inside win over libosinfo's volume id rule (which says only "10.0").
    assert_eq!(a["detected"]["identified_by"], "sources/install.wim");
    assert_eq!(a["detected"]["file_system"], "udf");
    assert_eq!(a["detected"]["installer"], true);

    // show --json carries the same; show prints them as rows under a header.
    let (code, shown) = repo.json(["show", "win-server-2022-udf.iso"]);
    assert_eq!(code, 0);
    assert_eq!(shown["editions"], a["editions"]);
    let out = stdout(&repo.run(["show", "win-server-2022-udf.iso"]));
    assert!(out.contains("Microsoft Windows Server 2022 (win2k22), x86_64"), "{out}");
    let rows: Vec<&str> = out.lines().skip_while(|l| !l.trim_start().starts_with("editions:")).take(3).collect();
    assert_eq!(rows.len(), 3, "{out}");
    for (row, words) in rows.iter().zip([
        &["INDEX", "NAME", "EDITION ID", "BUILD", "ARCH", "LANGUAGES"][..],
        &["1", "Windows Server 2022 SERVERSTANDARD", "ServerStandard", "20348", "x86_64", "en-US"][..],
        &["2", "Windows Server 2022 SERVERDATACENTER", "ServerDatacenter", "20348", "x86_64", "en-US"][..],
    ]) {
        let mut at = 0;
        for w in words {
            let found = row[at..].find(w).unwrap_or_else(|| panic!("{w} not in order in {row:?}\n{out}"));
            at += found + w.len();
        }
    }
    // The raw editions array is not printed again among the detected facts.
    assert!(!out.contains("[{"), "{out}");

    // The same media without UDF (xorriso): the ISO 9660 tree leads to the same install.wim.
    let plain = import(&repo, "win-server-2022.iso", &[]);
    assert_eq!((plain["os_id"].as_str(), plain["os_version"].as_str()), (Some("win2k22"), Some("10.0.20348")));
    assert_eq!(plain["detected"]["file_system"], "iso9660");
    assert_eq!(plain["editions"], a["editions"]);
    let (_, l) = repo.json(["list", "--os-id", "win2k22"]);
    assert_eq!(l.as_array().unwrap().len(), 2, "{l:#}");
}

#[test]
fn windows_11_arm64_editions_come_from_an_esd_only_udf_shows() {
    let repo = Repo::new();
    let a = import(&repo, "win11-arm64-udf.iso", &[]);
    assert_eq!(
        (a["os_id"].as_str(), a["os_name"].as_str(), a["os_version"].as_str(), a["arch"].as_str()),
        (Some("win11"), Some("Microsoft Windows 11"), Some("10.0.22631"), Some("aarch64"))
    );
    assert_eq!(a["os"], "windows");
    assert_eq!(a["detected"]["identified_by"], "sources/install.esd");
    let langs = vec!["en-US".to_string(), "de-DE".to_string()];
    assert_eq!(
        editions(&a),
        [
            (1, "Windows 11 Home".into(), "Core".into(), 22631, "aarch64".into(), langs.clone()),
            (2, "Windows 11 Pro".into(), "Professional".into(), 22631, "aarch64".into(), langs.clone()),
            (3, "Windows 11 Education".into(), "Education".into(), 22631, "aarch64".into(), langs),
        ]
    );
    let out = stdout(&repo.run(["show", "win11-arm64-udf.iso"]));
    assert!(out.contains("Professional"), "{out}");
    assert!(out.contains("en-US, de-DE"), "{out}");
}

#[test]
fn windows_pe_media_are_boot_files_not_an_installer_with_editions() {
    let repo = Repo::new();
    let a = import(&repo, "winpe-amd64.iso", &[]);
    assert_eq!((a["kind"].as_str(), a["os"].as_str()), (Some("boot"), Some("windows")), "{a:#}");
    assert_eq!((a["os_id"].as_str(), a["os_name"].as_str(), a["arch"].as_str()), (None, Some("Windows PE"), Some("x86_64")));
    assert_eq!(a["detected"]["installer"], false);
    assert_eq!(a["detected"]["windows_pe"], true);
    assert_eq!(a["detected"]["identified_by"], "sources/boot.wim");
    assert_eq!(a["editions"], serde_json::json!([]));
    let out = stdout(&repo.run(["show", "winpe-amd64.iso"]));
    assert!(out.contains("Windows PE, x86_64"), "{out}");
    assert!(!out.contains("editions:"), "{out}");
    // A WinPE boot zip's boot.wim says the same, read through the zip's compression.
    let zip = import(&repo, "winpe-amd64.zip", &[]);
    assert_eq!((zip["kind"].as_str(), zip["os_name"].as_str(), zip["arch"].as_str()), (Some("boot"), Some("Windows PE"), Some("x86_64")));
    assert_eq!((&zip["detected"]["windows_pe"], &zip["detected"]["identified_by"]), (&Value::from(true), &Value::from("sources/boot.wim")));
    // Kept as an OS image when asked: the support matrix still takes it so.
    let repo = Repo::new();
    let a = import(&repo, "winpe-amd64.iso", &["--kind", "os"]);
    assert_eq!(a["kind"], "os");

    // Nothing Windows in a Linux ISO: no editions.
    let rhel = import(&repo, "rhel-9.6-x86_64-dvd.iso", &[]);
    assert_eq!(rhel["editions"], serde_json::json!([]));
}

#[test]
fn a_winpe_boot_file_must_be_for_the_profile_images_architecture() {
    // What boot.wim's XML says (x86_64 Windows PE) is what compat checks a boot member against.
    let repo = Repo::new();
    let (code, report) = repo.import(
        &[],
        &[fixture("win-server-2022-udf.iso"), fixture("win11-arm64-udf.iso"), fixture("winpe-amd64.zip"), fixture("winpe-amd64.iso")],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(repo.json(["profile", "create", "srv", "--os-image", "win-server-2022-udf.iso"]).0, 0);
    let (code, p) = repo.json(["profile", "add", "srv", "winpe-amd64.zip", "winpe-amd64.iso"]);
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(p["members"].as_array().unwrap().len(), 2);

    assert_eq!(repo.json(["profile", "create", "arm", "--os-image", "win11-arm64-udf.iso"]).0, 0);
    for boot in ["winpe-amd64.zip", "winpe-amd64.iso"] {
        let (code, err) = repo.json(["profile", "add", "arm", boot]);
        assert_eq!(code, 1, "{boot}: {err:#}");
        assert_eq!(err["error"]["code"], "incompatible_boot_file", "{boot}: {err:#}");
        let text = err["error"]["text"].as_str().unwrap();
        assert!(text.contains("its Windows PE is for x86_64, and win11-arm64-udf.iso is aarch64"), "{boot}: {err:#}");
        assert!(err["error"]["recovery"].as_str().unwrap().contains("copype arm64"), "{boot}: {err:#}");
    }
    assert_eq!(repo.json(["profile", "show", "arm"]).1["members"], serde_json::json!([]), "nothing joined");
}

#[test]
fn boot_files_whose_boot_wim_is_not_windows_pe_are_refused() {
    // An install image renamed boot.wim: detection keeps windows_pe false, a profile refuses it.
    let repo = Repo::new();
    let (code, report) = repo.import(&[], &[fixture("win-server-2022-udf.iso"), fixture("boot-not-winpe.zip")]);
    assert_eq!(code, 0, "{report:#}");
    let a = repo.json(["show", "boot-not-winpe.zip"]).1;
    assert_eq!((a["kind"].as_str(), &a["detected"]["windows_pe"]), (Some("boot"), &Value::from(false)), "{a:#}");
    assert_eq!(repo.json(["profile", "create", "srv", "--os-image", "win-server-2022-udf.iso"]).0, 0);
    let (code, err) = repo.json(["profile", "add", "srv", "boot-not-winpe.zip"]);
    assert_eq!(code, 1, "{err:#}");
    assert_eq!(err["error"]["code"], "incompatible_boot_file", "{err:#}");
    assert!(err["error"]["text"].as_str().unwrap().contains("not a WinPE boot file"), "{err:#}");
    assert!(err["error"]["recovery"].as_str().unwrap().contains("WinPE add-on"), "{err:#}");
}

#[test]
fn a_profile_on_a_windows_image_installs_the_edition_it_picks() {
    let repo = Repo::new();
    let (code, report) = repo.import(&[], &[fixture("win-server-2022-udf.iso"), fixture("rhel-9.6-x86_64-dvd.iso")]);
    assert_eq!(code, 0, "{report:#}");
    let edition = |p: &Value| (p["edition"]["index"].as_u64(), p["edition"]["edition_id"].as_str().map(str::to_string));

    // Picked when the profile is made, by edition id in any case; the choices come with the profile.
    let (code, p) = repo.json(["profile", "create", "dc", "--os-image", "win-server-2022-udf.iso", "--edition", "serverdatacenter"]);
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(edition(&p), (Some(2), Some("ServerDatacenter".into())));
    assert_eq!(p["editions"].as_array().unwrap().len(), 2, "{p:#}");
    let out = stdout(&repo.run(["profile", "show", "dc"]));
    assert!(out.contains("edition: 2 Windows Server 2022 SERVERDATACENTER (ServerDatacenter)"), "{out}");

    // An edition the image lacks: refused with the choices, and no profile is left behind.
    let (code, err) = repo.json(["profile", "create", "pro", "--os-image", "win-server-2022-udf.iso", "--edition", "Professional"]);
    assert_eq!(code, 1, "{err:#}");
    assert_eq!(err["error"]["code"], "invalid_argument", "{err:#}");
    assert!(err["error"]["text"].as_str().unwrap().contains("has no edition \"Professional\""), "{err:#}");
    let recovery = err["error"]["recovery"].as_str().unwrap();
    assert!(
        recovery
            .contains("1 Windows Server 2022 SERVERSTANDARD (ServerStandard); 2 Windows Server 2022 SERVERDATACENTER (ServerDatacenter)"),
        "{recovery}"
    );
    let names: Vec<Value> = repo.json(["profile", "list"]).1.as_array().unwrap().iter().map(|p| p["name"].clone()).collect();
    assert_eq!(names, vec![Value::from("dc")]);

    // Changed by index, and cleared: Setup asks then.
    let (code, p) = repo.json(["profile", "edition", "dc", "1"]);
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(edition(&p), (Some(1), Some("ServerStandard".into())));
    let (_, p) = repo.json(["profile", "edition", "dc", "--clear"]);
    assert_eq!(p["edition"], Value::Null);
    let out = stdout(&repo.run(["profile", "show", "dc"]));
    assert!(out.contains("edition: not chosen (2 in the image"), "{out}");
    assert_eq!(repo.json(["profile", "edition", "dc", "3"]).1["error"]["code"], "invalid_argument");

    // A Linux image has none to choose.
    assert_eq!(repo.json(["profile", "create", "rhel", "--os-image", "rhel-9.6-x86_64-dvd.iso"]).0, 0);
    let (code, err) = repo.json(["profile", "edition", "rhel", "1"]);
    assert_eq!(code, 1);
    assert!(err["error"]["text"].as_str().unwrap().contains("has no Windows editions to choose from"), "{err:#}");

    // The export records it (index, name, edition id) and an import chooses it again.
    assert_eq!(repo.json(["profile", "edition", "dc", "ServerDatacenter"]).0, 0);
    let out = tempfile::tempdir().unwrap();
    let (code, e) = repo.json(["profile".as_ref(), "export".as_ref(), "dc".as_ref(), "--to".as_ref(), out.path().as_os_str()]);
    assert_eq!(code, 0, "{e:#}");
    let archive = out.path().join("dc.tar.gz");
    let x = tempfile::tempdir().unwrap();
    assert!(std::process::Command::new("tar").arg("xzf").arg(&archive).arg("-C").arg(x.path()).status().unwrap().success());
    let manifest: Value = serde_json::from_slice(&std::fs::read(x.path().join("profile.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["edition"],
        serde_json::json!({"index": 2, "name": "Windows Server 2022 SERVERDATACENTER", "edition_id": "ServerDatacenter"})
    );
    let fresh = Repo::new();
    assert_eq!(fresh.import(&[], &[fixture("win-server-2022-udf.iso")]).0, 0);
    let (code, report) = fresh.json(["profile".as_ref(), "import".as_ref(), archive.as_os_str()]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(edition(&report["profile"]), (Some(2), Some("ServerDatacenter".into())));
}
