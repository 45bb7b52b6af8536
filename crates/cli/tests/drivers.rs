//! Drivers as an admin checks them: what a kmod RPM, a driver update disk and a Windows driver zip
//! hold (kernels, modules, architectures, OS versions, hardware IDs, missing files), an RPM without
//! a module refused as a driver, and `drivers --hwid` / `list --search` finding the driver for a device.

mod common;

use common::*;
use serde_json::{json, Value};

fn strings(v: &Value) -> Vec<&str> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}")).iter().map(|s| s.as_str().unwrap()).collect()
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect()
}

#[test]
fn a_kmod_rpm_tells_its_kernel_and_module_and_an_rpm_without_one_is_not_a_driver() {
    let repo = Repo::new();
    let (code, report) = repo.import(&[], &[fixture("kmod-ixgbe-5.19.6-1.el9_4.x86_64.rpm")]);
    assert_eq!(code, 0, "{report:#}");
    let a = &report["items"][0]["artifact"];
    assert_eq!((a["kind"].as_str(), a["os"].as_str()), (Some("driver"), Some("linux")));
    let d = &a["driver"];
    assert_eq!(
        strings(&d["kernels"]),
        ["5.14.0-427.el9.x86_64"],
        "kernel-modules >= 5.14.0-427.el9 and /lib/modules/5.14.0-427.el9.x86_64 are one"
    );
    assert_eq!(strings(&d["kmods"]), ["ixgbe.ko"], "kmod(ixgbe.ko) and extra/ixgbe.ko.xz are one");
    assert_eq!(strings(&d["arch"]), ["x86_64"]);
    assert_eq!(d["package"], "kmod-ixgbe-5.19.6-1.el9_4");
    assert_eq!(
        (d["version"].as_str(), d["provider"].as_str(), d["date"].as_str()),
        (Some("5.19.6"), Some("Example Networks"), Some("2024-04-23"))
    );
    assert_eq!(a["detected"]["package"], "kmod-ixgbe-5.19.6-1.el9_4");

    // A package without a kernel module: refused as a driver, with the way out.
    let plain = fixture("example-release-9.6-1.el9.noarch.rpm");
    let (code, report) = repo.import(&[], std::slice::from_ref(&plain));
    assert_eq!(code, 1, "{report:#}");
    let err = &report["items"][0]["error"];
    assert_eq!(err["code"], "not_a_driver", "{err:#}");
    assert!(err["text"].as_str().unwrap().contains("example-release-9.6-1.el9 carries no kernel module"), "{err:#}");
    assert!(err["explanation"].as_str().unwrap().contains("kernel modules"), "{err:#}");
    assert!(err["recovery"].as_str().unwrap().contains("--kind software"), "{err:#}");
    let (code, report) = repo.import(&["--kind", "driver", "--os", "rhel"], std::slice::from_ref(&plain));
    assert_eq!((code, report["items"][0]["error"]["code"].as_str()), (1, Some("not_a_driver")), "asked for, it is still no driver");
    assert_eq!(repo.objects().len(), 1, "a refused package leaves no object");

    // What the recovery says works; and it cannot be turned into a driver afterwards.
    let (code, report) = repo.import(&["--kind", "software"], std::slice::from_ref(&plain));
    assert_eq!(code, 0, "{report:#}");
    let a = &report["items"][0]["artifact"];
    assert_eq!((a["kind"].as_str(), a["os"].as_str()), (Some("software"), Some("linux")));
    assert_eq!(a["driver"], Value::Null);
    assert_eq!(a["detected"]["package"], "example-release-9.6-1.el9");
    let (code, err) = repo.json(["update", "example-release-9.6-1.el9.noarch.rpm", "--kind", "driver"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("not_a_driver")), "{err:#}");

    // What an admin reads.
    let out = repo.run(["show", "kmod-ixgbe-5.19.6-1.el9_4.x86_64.rpm"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for line in ["kernels: 5.14.0-427.el9.x86_64", "modules: ixgbe.ko", "architectures: x86_64", "package: kmod-ixgbe-5.19.6-1.el9_4"] {
        assert!(text.contains(line), "{line:?} in:\n{text}");
    }
    assert!(!text.contains("\"hardware_ids\""), "the driver is shown as rows, not as JSON:\n{text}");
}

#[test]
fn a_driver_update_disk_is_described_from_every_rpm_under_rpms_arch() {
    let repo = Repo::new();
    let (code, report) = repo.import(&[], &[fixture("dud-ixgbe-rhel9.4.iso"), fixture("dud-kmod-example.iso")]);
    assert_eq!(code, 0, "{report:#}");
    let dud = &item(&report, "dud-ixgbe-rhel9.4.iso")["artifact"];
    assert_eq!(dud["kind"], "driver");
    assert_eq!(dud["detected"]["description"], "Intel ixgbe 5.19.6 driver update disk for RHEL 9.4", "the rhdd3 line");
    let d = &dud["driver"];
    assert_eq!(strings(&d["arch"]), ["x86_64"]);
    assert_eq!(strings(&d["packages"]), ["kmod-ixgbe-5.19.6-1.el9_4.x86_64"], "repodata/ is not a package");
    assert_eq!(d["package"], "kmod-ixgbe-5.19.6-1.el9_4");
    assert_eq!(strings(&d["kernels"]), ["5.14.0-427.el9.x86_64"]);
    assert_eq!(strings(&d["kmods"]), ["ixgbe.ko"]);
    let other = &item(&report, "dud-kmod-example.iso")["artifact"]["driver"];
    assert_eq!((strings(&other["kmods"]), strings(&other["kernels"])), (vec!["example.ko"], vec!["5.14.0-427.el9.x86_64"]));
}

#[test]
fn a_windows_driver_zip_is_described_from_every_inf_in_any_encoding() {
    let repo = Repo::new();
    let (code, report) = repo.import(&[], &[fixture("win-intel-nic-driver.zip")]);
    assert_eq!(code, 0, "{report:#}");
    let a = &report["items"][0]["artifact"];
    assert_eq!((a["kind"].as_str(), a["os"].as_str()), (Some("driver"), Some("windows")));
    // i40ea.inf is UTF-16LE with a BOM, i40eb.inf UTF-8 without: both are read.
    assert_eq!(
        a["driver"],
        json!({
            "arch": ["amd64", "arm64", "x86"],
            "hardware_ids": [
                "PCI\\VEN_8086&DEV_1572",
                "PCI\\VEN_8086&DEV_1572&SUBSYS_00018086",
                "PCI\\VEN_8086&DEV_1583",
                "PCI\\VEN_8086&DEV_37D2",
                "USB\\VID_8086&PID_0B3A"
            ],
            "class": "Net",
            "class_guid": "{4d36e972-e325-11ce-bfc1-08002be10318}",
            "provider": "Intel",
            "version": "1.16.202.10",
            "date": "2023-07-21",
            "catalog": "i40ea.cat",
            "catalog_present": true,
            "kernels": [],
            "kmods": [],
            "os_versions": ["10.0.17763", "10.0.20348", "10.0.22000"],
            "package": null,
            "packages": [],
            "infs": ["i40ea.inf", "i40eb.inf"],
            "missing_files": ["i40eb64.sys"],
            // each decoration whole: an architecture with its least version
            "targets": [
                {"arch": "amd64", "version": "10.0.17763", "product_type": null},
                {"arch": "amd64", "version": "10.0.20348", "product_type": null},
                {"arch": "arm64", "version": "10.0.22000", "product_type": null},
                {"arch": "x86", "version": null, "product_type": null}
            ]
        })
    );
    let (_, shown) = repo.json(["show", "win-intel-nic-driver.zip"]);
    assert_eq!(shown["driver"], a["driver"], "show --json gives what the import gave");

    let out = repo.run(["show", "win-intel-nic-driver.zip"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "driver class: Net {4d36e972-e325-11ce-bfc1-08002be10318}",
        "provider: Intel",
        "driver version: 1.16.202.10 (2023-07-21)",
        "architectures: amd64, arm64, x86",
        "os versions: 10.0.17763, 10.0.20348, 10.0.22000",
        "catalog: i40ea.cat (present)",
        "missing files: i40eb64.sys",
        "hardware ids: PCI\\VEN_8086&DEV_1572",
    ] {
        assert!(text.contains(line), "{line:?} in:\n{text}");
    }

    // The older single-INF fixture: its one ID pair, its catalog and its .sys are all there.
    let (_, report) = repo.import(&[], &[fixture("win-nic-driver.zip")]);
    let d = &report["items"][0]["artifact"]["driver"];
    assert_eq!(strings(&d["hardware_ids"]), ["PCI\\VEN_1D0F&DEV_EC20", "PCI\\VEN_1D0F&DEV_EC20&SUBSYS_00001D0F"]);
    assert_eq!((d["catalog_present"].as_bool(), strings(&d["missing_files"])), (Some(true), vec![]));
    assert_eq!((d["provider"].as_str(), strings(&d["arch"])), (Some("Example Networks"), vec!["amd64"]));
}

#[test]
fn drivers_finds_the_driver_for_a_device_and_the_drivers_of_an_os_image() {
    let repo = Repo::new();
    let (code, report) =
        repo.import(&[], &[fixture("rhel-9.6-x86_64-dvd.iso"), fixture("win-server-2022.iso"), fixture("win-nic-driver.zip")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(repo.import(&["--image", "win-server-2022.iso"], &[fixture("win-intel-nic-driver.zip")]).0, 0);
    assert_eq!(repo.import(&["--image", "rhel-9.6-x86_64-dvd.iso"], &[fixture("kmod-ixgbe-5.19.6-1.el9_4.x86_64.rpm")]).0, 0);

    let (code, all) = repo.json(["drivers"]);
    assert_eq!(code, 0, "{all:#}");
    assert_eq!(
        names(&all),
        ["kmod-ixgbe-5.19.6-1.el9_4.x86_64.rpm", "win-intel-nic-driver.zip", "win-nic-driver.zip"],
        "drivers only, by name"
    );
    assert_eq!(all[1]["image"]["name"], "win-server-2022.iso");
    assert_eq!(all[1]["driver"]["class"], "Net");
    assert_eq!(all[1]["matched_ids"], json!([]));

    // By hardware ID: any case, a prefix, or a full device ID that a driver lists less specifically.
    for (hwid, found, matched) in [
        ("pci\\ven_8086&dev_1572", "win-intel-nic-driver.zip", vec!["PCI\\VEN_8086&DEV_1572", "PCI\\VEN_8086&DEV_1572&SUBSYS_00018086"]),
        ("PCI\\VEN_8086&DEV_1583&SUBSYS_00018086&REV_02", "win-intel-nic-driver.zip", vec!["PCI\\VEN_8086&DEV_1583"]),
        ("USB\\VID_8086", "win-intel-nic-driver.zip", vec!["USB\\VID_8086&PID_0B3A"]),
        ("PCI\\VEN_1D0F&DEV_EC20", "win-nic-driver.zip", vec!["PCI\\VEN_1D0F&DEV_EC20", "PCI\\VEN_1D0F&DEV_EC20&SUBSYS_00001D0F"]),
    ] {
        let (code, list) = repo.json(["drivers", "--hwid", hwid]);
        assert_eq!(code, 0, "{list:#}");
        assert_eq!(names(&list), [found], "{hwid}");
        assert_eq!(strings(&list[0]["matched_ids"]), matched, "{hwid}");
    }
    let (code, none) = repo.json(["drivers", "--hwid", "PCI\\VEN_8086&DEV_15721"]);
    assert_eq!((code, none), (0, json!([])), "DEV_1572 is not a less specific form of DEV_15721");

    // By OS image, and both together.
    let (_, win) = repo.json(["drivers", "--os-image", "win-server-2022.iso"]);
    assert_eq!(names(&win), ["win-intel-nic-driver.zip"]);
    let (_, rhel) = repo.json(["drivers", "--os-image", "rhel-9.6-x86_64-dvd.iso"]);
    assert_eq!(names(&rhel), ["kmod-ixgbe-5.19.6-1.el9_4.x86_64.rpm"]);
    let (_, both) = repo.json(["drivers", "--os-image", "rhel-9.6-x86_64-dvd.iso", "--hwid", "PCI\\VEN_8086&DEV_1572"]);
    assert_eq!(both, json!([]));
    let (code, err) = repo.json(["drivers", "--os-image", "no-such-image"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("image_not_found")), "{err:#}");
    let (code, err) = repo.json(["drivers", "--hwid", " "]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("invalid_argument")), "{err:#}");

    // The table an admin reads.
    let out = repo.run(["drivers"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let row = |name: &str| text.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("no row for {name} in:\n{text}")).to_string();
    assert!(
        text.lines().next().unwrap().split_whitespace().eq(["ID", "NAME", "OS", "CLASS", "PROVIDER", "VERSION", "ARCH", "IDS", "FOR"]),
        "{text}"
    );
    let intel = row("win-intel-nic-driver.zip");
    for cell in ["windows", "Net", "Intel", "1.16.202.10", "amd64,arm64,x86", " 5 ", "10.0.17763, 10.0.20348, 10.0.22000"] {
        assert!(intel.contains(cell), "{cell:?} in {intel:?}");
    }
    let kmod = row("kmod-ixgbe");
    for cell in ["linux", "Example Networks", "5.19.6", "x86_64", " 0 ", "5.14.0-427.el9.x86_64"] {
        assert!(kmod.contains(cell), "{cell:?} in {kmod:?}");
    }
    let out = repo.run(["drivers", "--hwid", "PCI\\VEN_8086&DEV_1583"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("matches PCI\\VEN_8086&DEV_1583"), "{text}");
    let out = repo.run(["drivers", "--hwid", "PCI\\VEN_FFFF"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "No driver in the library supports PCI\\VEN_FFFF.");
}

#[test]
fn the_library_search_finds_drivers_by_hardware_id() {
    let repo = Repo::new();
    let (code, report) = repo.import(
        &[],
        &[fixture("win-intel-nic-driver.zip"), fixture("win-nic-driver.zip"), fixture("kmod-ixgbe-5.19.6-1.el9_4.x86_64.rpm")],
    );
    assert_eq!(code, 0, "{report:#}");
    for (search, found) in [
        ("pci\\ven_8086&dev_1583", vec!["win-intel-nic-driver.zip"]),
        ("DEV_37D2", vec!["win-intel-nic-driver.zip"]),
        ("PCI\\VEN_8086&DEV_1572&SUBSYS_00018086&REV_01", vec!["win-intel-nic-driver.zip"]),
        ("VEN_1D0F", vec!["win-nic-driver.zip"]),
        ("PCI\\VEN_8086&DEV_15831", vec![]),
    ] {
        let (code, list) = repo.json(["list", "--search", search]);
        assert_eq!(code, 0, "{list:#}");
        assert_eq!(names(&list), found, "{search}");
    }
    let (_, list) = repo.json(["list", "--search", "ixgbe"]);
    assert_eq!(names(&list), ["kmod-ixgbe-5.19.6-1.el9_4.x86_64.rpm"], "names still match");
}
