//! The exact OS of installer ISOs made with xorriso from the trees real media carry: `.treeinfo`
//! (RHEL), `.disk/info` (Ubuntu, Debian), `media.1/products` (SLES), ESXi's `boot.cfg`, and a
//! Fedora Server volume id that only libosinfo's rules (Debian's osinfo-db) know, Windows Server
//! 2022 from its install.wim; a rescue ISO that is no installer says so. `list --os-id` and
//! `list --search` find them by id.

mod common;

use common::*;
use serde_json::Value;

fn import(repo: &Repo, file: &str, extra: &[&str]) -> Value {
    let (code, report) = repo.import(extra, &[fixture(file)]);
    assert_eq!(code, 0, "{report:#}");
    report["items"][0]["artifact"].clone()
}

/// os_id, os_name, os_version, arch.
type Exact<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<&'a str>);

fn exact(a: &Value) -> Exact<'_> {
    (a["os_id"].as_str(), a["os_name"].as_str(), a["os_version"].as_str(), a["arch"].as_str())
}

#[test]
fn installer_isos_are_named_exactly_from_their_files_then_from_libosinfo() {
    let repo = Repo::new();
    let cases: [(&str, Exact<'_>, &str, Option<&str>); 7] = [
        (
            "rhel-9.6-x86_64-dvd.iso",
            (Some("rhel9.6"), Some("Red Hat Enterprise Linux 9.6"), Some("9.6"), Some("x86_64")),
            "linux",
            Some("rhel"),
        ),
        (
            "ubuntu-24.04-server-amd64.iso",
            (Some("ubuntu24.04"), Some("Ubuntu Server 24.04 LTS"), Some("24.04"), Some("x86_64")),
            "linux",
            Some("ubuntu"),
        ),
        (
            "debian-12.7.0-amd64-DVD-1.iso",
            (Some("debian12"), Some("Debian GNU/Linux 12.7.0"), Some("12.7.0"), Some("x86_64")),
            "linux",
            Some("debian"),
        ),
        (
            "sle-15-sp6-full-x86_64.iso",
            (Some("sles15sp6"), Some("SUSE Linux Enterprise Server 15 SP6"), Some("15.6"), Some("x86_64")),
            "linux",
            Some("sles"),
        ),
        ("esxi-8.0.iso", (Some("esxi8.0"), Some("VMware ESXi 8.0.2"), Some("8.0.2"), Some("x86_64")), "vmware", Some("esxi")),
        (
            "fedora-server-dvd-x86_64-37.iso",
            (Some("fedora37"), Some("Fedora Linux 37"), Some("37"), Some("x86_64")),
            "linux",
            Some("fedora"),
        ),
        // Windows media: install.wim's XML names the build (windows_editions.rs has its editions);
        // libosinfo's volume id and publisher rule would say only 10.0
        (
            "win-server-2022.iso",
            (Some("win2k22"), Some("Microsoft Windows Server 2022"), Some("10.0.20348"), Some("x86_64")),
            "windows",
            None,
        ),
    ];
    for (file, want, os, distro) in cases {
        let a = import(&repo, file, &[]);
        assert_eq!(exact(&a), want, "{file}: {:#}", a["detected"]);
        assert_eq!((a["os"].as_str(), a["distro"].as_str()), (Some(os), distro), "{file}");
        assert_eq!(a["detected"]["installer"], true, "{file}");
    }
    // where each was read
    let (_, rhel) = repo.json(["show", "rhel-9.6-x86_64-dvd.iso"]);
    assert_eq!(rhel["detected"]["identified_by"], ".treeinfo");
    let (_, fedora) = repo.json(["show", "fedora-server-dvd-x86_64-37.iso"]);
    assert_eq!(fedora["detected"]["identified_by"], "osinfo-db");

    // a rescue ISO is not an installer: no guess at an OS
    let rescue = import(&repo, "grub-rescue-cdrom.iso", &["--kind", "os"]);
    assert_eq!(exact(&rescue), (None, None, None, None), "{rescue:#}");
    assert_eq!(rescue["detected"]["installer"], false);
    let out = repo.run(["show", "grub-rescue-cdrom.iso"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("not an OS installer"), "{}", String::from_utf8_lossy(&out.stdout));
    let out = repo.run(["show", "rhel-9.6-x86_64-dvd.iso"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Red Hat Enterprise Linux 9.6 (rhel9.6), x86_64"));

    // found by id: exactly, by major release, and by search
    let names = |v: &Value| v.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let (_, l) = repo.json(["list", "--os-id", "rhel9.6"]);
    assert_eq!(names(&l), ["rhel-9.6-x86_64-dvd.iso"]);
    let (_, l) = repo.json(["list", "--os-id", "rhel9"]);
    assert_eq!(names(&l), ["rhel-9.6-x86_64-dvd.iso"], "rhel9 takes rhel9.6");
    let (_, l) = repo.json(["list", "--os-id", "rhel8"]);
    assert_eq!(names(&l), Vec::<String>::new());
    let (_, l) = repo.json(["list", "--search", "sles15sp6"]);
    assert_eq!(names(&l), ["sle-15-sp6-full-x86_64.iso"]);
}
