//! Compatibility before install: a driver joining a profile, or imported with `--image`, is checked
//! against the image — its architecture, a Windows driver's `[Manufacturer]` decorations against
//! the image's build, a Linux driver's kernel against the kernel read from the ISO's vmlinuz. A
//! mismatch is `incompatible_driver` naming the reason; a later kernel release of the same series
//! is a warning (`warnings` in JSON, "warning:" lines in text). Fixtures: kmod RPMs and a driver
//! update disk made by rpmbuild and xorriso, driver zips of real-shaped .inf files.

mod common;

use common::*;
use serde_json::Value;

const RHEL: &str = "rhel-9.6-x86_64-dvd.iso";
const WIN: &str = "win-server-2022.iso";

fn warning_codes(v: &Value) -> Vec<&str> {
    v["warnings"].as_array().map(|w| w.iter().filter_map(|w| w["code"].as_str()).collect()).unwrap_or_default()
}

fn member<'a>(profile: &'a Value, name: &str) -> &'a Value {
    profile["members"].as_array().unwrap().iter().find(|m| m["artifact"]["name"] == name).unwrap_or_else(|| panic!("{name} in {profile:#}"))
}

fn setup() -> Repo {
    let repo = Repo::new();
    let files = [
        RHEL,
        WIN,
        "kmod-ixgbe-5.19.6-1.el9_4.aarch64.rpm",
        "kmod-ixgbe-5.19.6-1.el9_6.x86_64.rpm",
        "kmod-ixgbe-5.19.6-1.el8_10.x86_64.rpm",
        "dud-ixgbe-rhel9.4.iso",
        "win11-nic-driver.zip",
        "win-intel-nic-driver.zip",
    ];
    let (code, report) = repo.import(&[], &files.map(fixture));
    assert_eq!(code, 0, "{report:#}");
    repo
}

#[test]
fn the_image_kernel_is_read_from_the_isos_vmlinuz() {
    let repo = Repo::new();
    let (code, report) = repo.import(&[], &[fixture(RHEL)]);
    assert_eq!(code, 0, "{report:#}");
    let detected = &report["items"][0]["artifact"]["detected"];
    assert_eq!(detected["kernel"], "5.14.0-570.12.1.el9_6.x86_64", "{detected:#}");
    assert_eq!(detected["kernel_from"], "images/pxeboot/vmlinuz");
    assert_eq!(report["items"][0]["artifact"]["warnings"], serde_json::json!([]), "an OS image has no warnings");
}

#[test]
fn drivers_that_do_not_fit_the_profiles_image_are_refused_with_the_reason() {
    let repo = setup();
    assert_eq!(repo.json(["profile", "create", "rhel", "--os-image", RHEL]).0, 0);
    assert_eq!(repo.json(["profile", "create", "win", "--os-image", WIN]).0, 0);

    for (profile, driver, reason) in [
        ("rhel", "kmod-ixgbe-5.19.6-1.el9_4.aarch64.rpm", "built for aarch64"),
        ("rhel", "kmod-ixgbe-5.19.6-1.el8_10.x86_64.rpm", "4.18.0-553.el8_10"),
        ("win", "win11-nic-driver.zip", "build 22000 or later"),
    ] {
        let (code, err) = repo.json(["profile", "add", profile, driver]);
        assert_eq!((code, err["error"]["code"].as_str()), (1, Some("incompatible_driver")), "{driver}: {err:#}");
        let text = err["error"]["text"].as_str().unwrap();
        assert!(text.contains(reason), "{driver}: {text}");
        assert!(!err["error"]["recovery"].as_str().unwrap().is_empty());
    }
    let (_, rhel) = repo.json(["profile", "show", "rhel"]);
    assert_eq!(rhel["members"], serde_json::json!([]), "nothing was added");

    // The same refusal in text: the reason, then what to do.
    let out = repo.run(["profile", "add", "win", "win11-nic-driver.zip"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Windows 10.0 build 22000 or later") && stderr.contains("win2k22, build 20348"), "{stderr}");
}

#[test]
fn matching_drivers_are_accepted_and_a_later_kernel_release_is_a_warning() {
    let repo = setup();
    assert_eq!(repo.json(["profile", "create", "rhel", "--os-image", RHEL]).0, 0);
    assert_eq!(repo.json(["profile", "create", "win", "--os-image", WIN]).0, 0);

    let (code, p) = repo.json(["profile", "add", "rhel", "kmod-ixgbe-5.19.6-1.el9_6.x86_64.rpm", "dud-ixgbe-rhel9.4.iso"]);
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(warning_codes(member(&p, "kmod-ixgbe-5.19.6-1.el9_6.x86_64.rpm")), Vec::<&str>::new(), "built for 9.6's kernel");
    let dud = member(&p, "dud-ixgbe-rhel9.4.iso");
    assert_eq!(warning_codes(dud), ["kernel_other_release"], "{dud:#}");
    let text = dud["warnings"][0]["text"].as_str().unwrap();
    assert!(text.contains("5.14.0-427.el9") && text.contains("5.14.0-570.12.1.el9_6"), "{text}");

    let (code, p) = repo.json(["profile", "add", "win", "win-intel-nic-driver.zip"]);
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(warning_codes(member(&p, "win-intel-nic-driver.zip")), Vec::<&str>::new());

    // `profile show` prints the warning under its member.
    let out = repo.run(["profile", "show", "rhel"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("warning: It was built for kernel 5.14.0-427.el9"), "{stdout}");
}

#[test]
fn import_with_image_checks_the_driver_and_the_artifact_carries_its_warnings() {
    let repo = Repo::new();
    assert_eq!(repo.import(&[], &[fixture(RHEL), fixture(WIN)]).0, 0);

    let (code, report) = repo.import(&["--image", RHEL], &[fixture("kmod-ixgbe-5.19.6-1.el9_4.aarch64.rpm")]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["items"][0]["error"]["code"], "incompatible_driver", "{report:#}");
    let (code, report) = repo.import(&["--image", WIN], &[fixture("win11-nic-driver.zip")]);
    assert_eq!((code, report["items"][0]["error"]["code"].as_str()), (1, Some("incompatible_driver")), "{report:#}");
    let (_, list) = repo.json(["list", "--kind", "driver"]);
    assert_eq!(list, serde_json::json!([]), "nothing refused was stored");

    let (code, report) = repo.import(&["--image", RHEL], &[fixture("kmod-ixgbe-5.19.6-1.el9_4.x86_64.rpm")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(warning_codes(&report["items"][0]["artifact"]), ["kernel_other_release"], "{report:#}");
    let (_, shown) = repo.json(["show", "kmod-ixgbe-5.19.6-1.el9_4.x86_64.rpm"]);
    assert_eq!(warning_codes(&shown), ["kernel_other_release"]);
    let out = repo.run(["show", "kmod-ixgbe-5.19.6-1.el9_4.x86_64.rpm"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("warning: It was built for kernel 5.14.0-427.el9"));

    let (code, report) = repo.import(&["--image", RHEL], &[fixture("kmod-ixgbe-5.19.6-1.el9_6.x86_64.rpm")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["items"][0]["artifact"]["warnings"], serde_json::json!([]));

    // Without an image nothing is checked: the aarch64 driver is just a driver.
    let (code, report) = repo.import(&[], &[fixture("kmod-ixgbe-5.19.6-1.el9_4.aarch64.rpm")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["items"][0]["artifact"]["driver"]["arch"], serde_json::json!(["aarch64"]));
}
