//! Does a driver fit an OS image? Its architectures against the image's, a Windows driver's
//! `[Manufacturer]` decorations against the image's build, a Linux driver's kernels against the
//! kernel the image boots. A mismatch is refused (`incompatible_driver`, naming the reason); a near
//! miss is a warning. What either side does not say (no architecture, no kernel, no build) is never
//! a reason to refuse.
//!
//! Kernels ("near" for RHEL's kABI): a kernel release is `UPSTREAM-RELEASE.DIST.ARCH`
//! (`5.14.0-427.13.1.el9_4.x86_64`). Red Hat keeps the kernel ABI of its kABI stablelists stable
//! for a whole major release, and kmod packages built for one minor release's kernel are linked
//! into later kernels of that release by `weak-modules`; kernels of one minor release (the first
//! number of RELEASE, `427`, across its z-stream updates) share the same build. So:
//! - same upstream version and the same first RELEASE number: fits;
//! - same upstream version and distribution tag, the image's RELEASE newer: a warning
//!   (`kernel_other_release`) — it loads if the module uses only stablelisted symbols;
//! - the image's RELEASE older than the driver's (its `kernel >=` requirement is not met, and
//!   `weak-modules` never links backwards), or another upstream version or distribution tag (RHEL 8's
//!   4.18.0 against RHEL 9's 5.14.0): refused.
//!
//! Windows: a decoration `NTamd64.10.0...17763` makes its models section apply to amd64 Windows
//! 10.0 of build 17763 or later, a ProductType field (`NTamd64.10.0.1`) only to workstations (1) or
//! servers (2, 3); an undecorated section to every version (Microsoft's "INF Manufacturer section"
//! and "Combining platform extensions with operating system versions"). A driver fits when one
//! decoration of the image's architecture applies to the image's build. The build comes from the
//! image's detected `build` (an install.wim's, where the reader of Windows media records it) or
//! else its libosinfo id: win2k16 14393, win2k19 17763, win2k22 20348, win2k25 26100; win10 and
//! win11 name a range of builds (10240–19045, 22000 on), where a driver for a later build of the
//! range is a warning (`windows_build_unsure`), not a refusal.

use crate::driver_info::{DriverInfo, WindowsTarget};
use crate::error::{code, Error, Result};
use crate::model::{Artifact, OsFamily};
use serde::{Deserialize, Serialize};
use serde_json::Value;

crate::model::string_enum!(
    /// What a warning is about (shared with the UI through the generated client).
    WarningCode, "warning code", UnknownValue {
        KernelOtherRelease = "kernel_other_release",
        WindowsBuildUnsure = "windows_build_unsure",
        IncompatibleDriver = "incompatible_driver",
        UnsignedBundle = "unsigned_bundle",
    }
);

/// Something to know before an install that is no reason to refuse: shown in `show`, the
/// profile editor and the import review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Warning {
    pub code: WarningCode,
    pub text: String,
}

/// What a driver is checked against: the facts detection kept of an OS image.
#[derive(Debug, Clone, Default)]
pub(crate) struct ImageFacts {
    pub name: String,
    pub os: Option<OsFamily>,
    pub os_id: Option<String>,
    /// libosinfo's word (x86_64, aarch64, i686, …).
    pub arch: Option<String>,
    pub kernel: Option<String>,
    /// An exact Windows build, where the media said it.
    pub build: Option<u32>,
}

impl ImageFacts {
    pub fn new(name: &str, os: Option<OsFamily>, detected: &Value) -> ImageFacts {
        let text = |k: &str| detected.get(k).and_then(Value::as_str).map(str::to_string);
        let build = detected.get("build").and_then(Value::as_u64).or_else(|| {
            detected.get("editions").and_then(Value::as_array)?.iter().filter_map(|e| e.get("build").and_then(Value::as_u64)).max()
        });
        ImageFacts {
            name: name.to_string(),
            os,
            os_id: text("os_id"),
            arch: text("arch").map(|a| arch_word(&a)),
            kernel: text("kernel"),
            build: build.and_then(|b| u32::try_from(b).ok()),
        }
    }

    pub fn of(a: &Artifact) -> ImageFacts {
        ImageFacts::new(&a.name, a.os, &a.detected)
    }

    /// The Windows builds the image may be (least, greatest if bounded) and whether it is a server.
    fn windows_builds(&self) -> Option<(u32, Option<u32>, Option<bool>)> {
        let id = self.os_id.as_deref().unwrap_or("");
        let server = if id.starts_with("win2k") {
            Some(true)
        } else if id.starts_with("win") {
            Some(false)
        } else {
            None
        };
        if let Some(b) = self.build {
            return Some((b, Some(b), server));
        }
        windows_build_range(id).map(|(lo, hi)| (lo, hi, server))
    }
}

/// The builds of a Windows libosinfo id: exact for servers, a range for Windows 10 and 11.
pub fn windows_build_range(os_id: &str) -> Option<(u32, Option<u32>)> {
    Some(match os_id {
        "win2k16" => (14393, Some(14393)),
        "win2k19" => (17763, Some(17763)),
        "win2k22" => (20348, Some(20348)),
        "win2k25" => (26100, Some(26100)),
        "win10" => (10240, Some(19045)),
        "win11" => (22000, None),
        _ => return None,
    })
}

/// One architecture word for both worlds: amd64/x64 → x86_64, arm64 → aarch64, x86 → i686.
fn arch_word(a: &str) -> String {
    crate::osid::normalise_arch(a).unwrap_or_else(|| a.trim().to_ascii_lowercase())
}

/// What the checks found: a reason to refuse, and warnings.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Fit {
    pub refusal: Option<String>,
    pub warnings: Vec<Warning>,
}

/// Check a driver against an image; facts neither says are skipped.
pub(crate) fn driver_fit(d: &DriverInfo, image: &ImageFacts) -> Fit {
    let mut fit = Fit::default();
    let arches: Vec<String> = d.arch.iter().filter(|a| !a.eq_ignore_ascii_case("noarch")).map(|a| arch_word(a)).collect();
    if let Some(img) = &image.arch {
        if !arches.is_empty() && !arches.contains(img) {
            fit.refusal = Some(format!("it is built for {}, and {} is {img}", d.arch.join(", "), image.name));
            return fit;
        }
    }
    if image.os == Some(OsFamily::Windows) {
        windows_fit(d, image, &mut fit);
    }
    if fit.refusal.is_none() {
        kernel_fit(d, image, &mut fit);
    }
    fit
}

/// `10.0.17763` → (10, 0, 17763); `6.3` → (6, 3, 0).
fn version_triple(v: &str) -> Option<(u32, u32, u32)> {
    let mut parts = v.split('.').map(|p| p.trim().parse::<u32>());
    let major = parts.next()?.ok()?;
    let minor = parts.next().and_then(|p| p.ok()).unwrap_or(0);
    let build = parts.next().and_then(|p| p.ok()).unwrap_or(0);
    Some((major, minor, build))
}

fn windows_fit(d: &DriverInfo, image: &ImageFacts, fit: &mut Fit) {
    let Some((least, greatest, server)) = image.windows_builds() else { return };
    // Drivers described before decorations were kept whole: each version, any architecture.
    let targets: Vec<WindowsTarget> = if d.targets.is_empty() {
        d.os_versions.iter().map(|v| WindowsTarget { arch: String::new(), version: Some(v.clone()), product_type: None }).collect()
    } else {
        d.targets.clone()
    };
    if targets.is_empty() {
        return;
    }
    let for_arch: Vec<&WindowsTarget> =
        targets.iter().filter(|t| t.arch.is_empty() || image.arch.as_ref().is_none_or(|a| arch_word(&t.arch) == *a)).collect();
    let for_product: Vec<&WindowsTarget> = for_arch
        .iter()
        .copied()
        // ProductType 1 is a workstation, 2 and 3 servers (a domain controller is a server).
        .filter(|t| !matches!((t.product_type, server), (Some(1), Some(true)) | (Some(2 | 3), Some(false))))
        .collect();
    if for_product.is_empty() {
        if !for_arch.is_empty() {
            let what = if server == Some(true) { "workstation (client) editions" } else { "server editions" };
            fit.refusal = Some(format!("its .inf files install only on Windows {what}, and {} is not one", image.name));
        }
        return;
    }
    let need = |t: &WindowsTarget| t.version.as_deref().and_then(version_triple).unwrap_or((0, 0, 0));
    let surely = for_product.iter().any(|t| need(t) <= (10, 0, least));
    if surely {
        return;
    }
    let lowest = for_product.iter().map(|t| need(t)).min().unwrap_or((0, 0, 0));
    let decoration = |(ma, mi, b): (u32, u32, u32)| format!("Windows {ma}.{mi} build {b} or later");
    let image_builds = match greatest {
        Some(g) if g == least => format!("build {least}"),
        Some(g) => format!("builds {least} to {g}"),
        None => format!("build {least} or later"),
    };
    let id = image.os_id.as_deref().unwrap_or("Windows");
    if greatest.is_none_or(|g| lowest <= (10, 0, g)) {
        fit.warnings.push(Warning {
            code: WarningCode::WindowsBuildUnsure,
            text: format!(
                "Its .inf files need {}; {} is {id}, {image_builds}: it installs only on a release of that build or later.",
                decoration(lowest),
                image.name
            ),
        });
    } else {
        fit.refusal = Some(format!("its .inf files need {}, and {} is {id}, {image_builds}", decoration(lowest), image.name));
    }
}

/// A kernel release split as RHEL names it: `5.14.0-427.13.1.el9_4.x86_64` → upstream `5.14.0`,
/// release `427`, distribution `el9`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct KernelRelease {
    pub upstream: String,
    pub release: Option<u64>,
    pub dist: Option<String>,
}

pub(crate) fn kernel_release(k: &str) -> Option<KernelRelease> {
    let k = k.trim().trim_start_matches("0:");
    let (upstream, rest) = k.split_once('-').unwrap_or((k, ""));
    if upstream.is_empty() || !upstream.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = rest.split(['.', '-']).collect();
    let release = parts.first().and_then(|p| p.parse().ok());
    let dist = parts.iter().find_map(|p| {
        let tag = p.split('_').next()?;
        (tag.len() > 2 && tag.starts_with("el") && tag[2..].bytes().all(|b| b.is_ascii_digit())).then(|| tag.to_string())
    });
    Some(KernelRelease { upstream: upstream.to_string(), release, dist })
}

/// A release without its architecture, as people compare them: `5.14.0-427.el9`.
fn short_kernel(k: &str) -> &str {
    let k = k.trim();
    match k.rsplit_once('.') {
        Some((head, arch)) if crate::osid::normalise_arch(arch).is_some() || arch == "noarch" => head,
        _ => k,
    }
}

enum KernelMatch {
    Same,
    /// The image's kernel is a later release of the same series.
    Later,
    Incompatible,
}

fn kernel_match(driver: &KernelRelease, image: &KernelRelease) -> KernelMatch {
    if driver.upstream != image.upstream {
        return KernelMatch::Incompatible;
    }
    if let (Some(a), Some(b)) = (&driver.dist, &image.dist) {
        if a != b {
            return KernelMatch::Incompatible;
        }
    }
    match (driver.release, image.release) {
        (Some(a), Some(b)) if a == b => KernelMatch::Same,
        (Some(a), Some(b)) if b > a => KernelMatch::Later,
        (Some(_), Some(_)) => KernelMatch::Incompatible,
        // A release either side does not number: the same series is all that is known.
        _ => KernelMatch::Same,
    }
}

fn kernel_fit(d: &DriverInfo, image: &ImageFacts, fit: &mut Fit) {
    let Some(img_kernel) = image.kernel.as_deref() else { return };
    let Some(img) = kernel_release(img_kernel) else { return };
    let built: Vec<(&String, KernelRelease)> = d.kernels.iter().filter_map(|k| kernel_release(k).map(|r| (k, r))).collect();
    if built.is_empty() {
        return;
    }
    let mut later = None;
    for (k, r) in &built {
        match kernel_match(r, &img) {
            KernelMatch::Same => return,
            KernelMatch::Later => later = later.or(Some(*k)),
            KernelMatch::Incompatible => {}
        }
    }
    let image_kernel = short_kernel(img_kernel);
    match later {
        Some(k) => fit.warnings.push(Warning {
            code: WarningCode::KernelOtherRelease,
            text: format!(
                "It was built for kernel {}, and {} boots {image_kernel}: a later release of the same kernel series. RHEL keeps the kernel ABI (kABI) stable within a major release, so weak-modules loads it if it uses only stablelisted symbols; a driver built for this release is the safe choice.",
                short_kernel(k),
                image.name
            ),
        }),
        None => {
            let kernels: Vec<&str> = built.iter().map(|(k, _)| short_kernel(k)).collect();
            let older = built.iter().any(|(_, r)| r.upstream == img.upstream && r.dist == img.dist);
            fit.refusal = Some(if older {
                format!(
                    "it is built for kernel {} or later, and {} boots the older {image_kernel}",
                    kernels.join(", "),
                    image.name
                )
            } else {
                format!("it is built for kernel {}, and {} boots {image_kernel}, another kernel series", kernels.join(", "), image.name)
            });
        }
    }
}

/// The refusal of a driver that does not fit.
pub(crate) fn incompatible(driver_name: &str, image: &ImageFacts, reason: &str) -> Error {
    Error::new(
        code::INCOMPATIBLE_DRIVER,
        format!("{driver_name} does not fit {}: {reason}.", image.name),
        "A driver is loaded by the installer of the image it goes with: it must be built for that image's architecture, and for its Windows build or its kernel. One that is not would be skipped or refused during the install, and the hardware that needs it would stay without a driver.",
        format!("Choose the driver built for {} (its vendor's download for this OS release and architecture), or use this one with an image it fits.", image.name),
    )
}

/// Check a driver (its description, if any) before it joins `image`: refused when it does not
/// fit, else the warnings.
pub(crate) fn check_driver(driver_name: &str, driver: Option<&DriverInfo>, image: &ImageFacts) -> Result<Vec<Warning>> {
    let Some(d) = driver else { return Ok(Vec::new()) };
    let fit = driver_fit(d, image);
    match fit.refusal {
        Some(reason) => Err(incompatible(driver_name, image, &reason)),
        None => Ok(fit.warnings),
    }
}

/// Warnings of a driver already with `image`: a refusal (it joined before these checks, or the
/// image's facts changed) becomes an `incompatible_driver` warning.
pub(crate) fn warnings(driver: Option<&DriverInfo>, image: &ImageFacts) -> Vec<Warning> {
    let Some(d) = driver else { return Vec::new() };
    let fit = driver_fit(d, image);
    let mut out: Vec<Warning> = fit
        .refusal
        .map(|r| Warning { code: WarningCode::IncompatibleDriver, text: format!("It does not fit {}: {r}.", image.name) })
        .into_iter()
        .collect();
    out.extend(fit.warnings);
    out
}

/// What the checks make of a driver, as detection described it, with an OS image: what the import
/// review shows for a driver row once an image is chosen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DriverFit {
    /// `incompatible_driver` with the reason, when importing it with this image would be refused.
    pub refused: Option<Error>,
    pub warnings: Vec<Warning>,
}

impl crate::Engine {
    /// Check a driver that is not imported yet (`detected`, a plan item's facts) against the OS
    /// image `image` (id, name or alias), as importing it with that image will.
    pub fn driver_fit(&self, name: &str, detected: &Value, image: &str) -> Result<DriverFit> {
        let conn = self.db();
        let img = ImageFacts::of(&crate::catalog::find_os_image(&conn, image)?);
        let Some(driver) = DriverInfo::from_fact(detected.get("driver")) else { return Ok(DriverFit::default()) };
        let fit = driver_fit(&driver, &img);
        Ok(DriverFit { refused: fit.refusal.map(|reason| incompatible(name, &img, &reason)), warnings: fit.warnings })
    }
}

/// A WinPE boot file against the profile's image. `boot.wim`'s XML must say Windows PE and its
/// architecture must match the image's: the facts `windows_pe` and `arch` that detection keeps for
/// a boot zip (`windows::zipped_boot_wim`) and a Windows PE ISO from boot.wim's XML. A boot file
/// without them (its boot.wim unreadable or too large) is not refused.
pub(crate) fn boot_refusal(boot: &Artifact, image: &ImageFacts) -> Option<Error> {
    let detected = &boot.detected;
    let wim = detected.get("boot_wim").unwrap_or(detected);
    if wim.get("windows_pe").and_then(Value::as_bool) == Some(false) {
        return Some(Error::new(
            code::INCOMPATIBLE_BOOT_FILE,
            format!("{} is not a WinPE boot file: its boot.wim holds a full Windows, not Windows PE.", boot.name),
            "A Windows deployment starts the target from Windows PE, the small Windows that runs setup; its boot.wim's XML says so (installation type or edition WindowsPE). A boot.wim without it would start a full Windows instead, or nothing.",
            "Use the boot files of the Windows ADK's WinPE add-on (copype, then MakeWinPEMedia) or the boot.wim from the installer's sources folder, zipped with its Boot and EFI folders.",
        ));
    }
    let arch = wim.get("arch").and_then(Value::as_str).map(arch_word);
    match (arch, &image.arch) {
        (Some(a), Some(i)) if a != *i => Some(Error::new(
            code::INCOMPATIBLE_BOOT_FILE,
            format!("{} does not fit {}: its Windows PE is for {a}, and {} is {i}.", boot.name, image.name, image.name),
            "The target starts from these boot files before setup runs, and firmware only starts Windows PE built for its own processor: boot files for another architecture would not start, or would start a setup that cannot install this image.",
            format!("Choose the WinPE boot files for {i} (copype {} in the Windows ADK), or use these with a {a} image.", copype_arch(i)),
        )),
        _ => None,
    }
}

/// The architecture word the Windows ADK's `copype` takes.
fn copype_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "i686" => "x86",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn image(os: OsFamily, detected: Value) -> ImageFacts {
        ImageFacts::new("img.iso", Some(os), &detected)
    }

    fn linux_driver(arch: &str, kernel: &str) -> DriverInfo {
        DriverInfo { arch: vec![arch.into()], kernels: vec![kernel.into()], ..Default::default() }
    }

    fn win_driver(targets: &[(&str, Option<&str>, Option<u32>)]) -> DriverInfo {
        DriverInfo {
            arch: targets.iter().map(|t| t.0.to_string()).collect(),
            targets: targets
                .iter()
                .map(|(a, v, p)| WindowsTarget { arch: a.to_string(), version: v.map(str::to_string), product_type: *p })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn kernel_releases_split_as_rhel_names_them() {
        let k = kernel_release("5.14.0-570.12.1.el9_6.x86_64").unwrap();
        assert_eq!(k, KernelRelease { upstream: "5.14.0".into(), release: Some(570), dist: Some("el9".into()) });
        assert_eq!(kernel_release("6.8.0-31-generic").unwrap().release, Some(31));
        assert_eq!(short_kernel("5.14.0-427.el9.x86_64"), "5.14.0-427.el9");
        assert_eq!(short_kernel("6.8.0-31-generic"), "6.8.0-31-generic");
        assert_eq!(kernel_release("kernel"), None);
    }

    #[test]
    fn rhel_kernels_fit_warn_or_refuse_by_release() {
        let img = image(OsFamily::Linux, json!({"arch": "x86_64", "kernel": "5.14.0-570.12.1.el9_6.x86_64"}));
        let same_minor = driver_fit(&linux_driver("x86_64", "5.14.0-570.el9.x86_64"), &img);
        assert_eq!(same_minor, Fit::default());
        let older_driver = driver_fit(&linux_driver("x86_64", "5.14.0-427.el9.x86_64"), &img);
        assert_eq!(older_driver.refusal, None);
        assert_eq!(older_driver.warnings[0].code, WarningCode::KernelOtherRelease);
        assert!(older_driver.warnings[0].text.contains("5.14.0-427.el9"), "{:?}", older_driver.warnings);
        let newer_driver = driver_fit(&linux_driver("x86_64", "5.14.0-611.el9.x86_64"), &img);
        assert!(newer_driver.refusal.unwrap().contains("or later"));
        let rhel8 = driver_fit(&linux_driver("x86_64", "4.18.0-553.el8_10.x86_64"), &img);
        assert!(rhel8.refusal.unwrap().contains("another kernel series"));
        // unknown facts never refuse
        let no_kernel = image(OsFamily::Linux, json!({}));
        assert_eq!(driver_fit(&linux_driver("aarch64", "4.18.0-553.el8_10.aarch64"), &no_kernel), Fit::default());
        assert_eq!(driver_fit(&DriverInfo::default(), &img), Fit::default());
    }

    #[test]
    fn architectures_are_compared_in_one_vocabulary() {
        let img = image(OsFamily::Linux, json!({"arch": "x86_64"}));
        assert!(driver_fit(&linux_driver("aarch64", ""), &img).refusal.unwrap().contains("aarch64"));
        assert_eq!(driver_fit(&linux_driver("noarch", ""), &img), Fit::default());
        let win = image(OsFamily::Windows, json!({"arch": "x86_64", "os_id": "win2k22"}));
        assert_eq!(driver_fit(&win_driver(&[("amd64", None, None)]), &win), Fit::default());
        assert!(driver_fit(&win_driver(&[("arm64", None, None), ("x86", None, None)]), &win).refusal.is_some());
    }

    #[test]
    fn windows_decorations_are_least_builds_of_their_architecture_and_product_type() {
        let w2k19 = image(OsFamily::Windows, json!({"arch": "x86_64", "os_id": "win2k19"}));
        let for_22000 = win_driver(&[("amd64", Some("10.0.22000"), None)]);
        assert!(driver_fit(&for_22000, &w2k19).refusal.unwrap().contains("build 22000 or later"));
        let for_17763 = win_driver(&[("amd64", Some("10.0.17763"), None), ("arm64", Some("10.0"), None)]);
        assert_eq!(driver_fit(&for_17763, &w2k19), Fit::default());
        // the arm64 decoration does not make an amd64 image fit
        let mixed = win_driver(&[("amd64", Some("10.0.26100"), None), ("arm64", Some("10.0"), None)]);
        assert!(driver_fit(&mixed, &w2k19).refusal.is_some());
        // workstation-only on a server
        let client_only = win_driver(&[("amd64", Some("10.0"), Some(1))]);
        assert!(driver_fit(&client_only, &w2k19).refusal.unwrap().contains("workstation"));
        // Windows 11 is a range: a later build of it is a warning
        let w11 = image(OsFamily::Windows, json!({"arch": "x86_64", "os_id": "win11"}));
        let for_22631 = win_driver(&[("amd64", Some("10.0.22631"), None)]);
        assert_eq!(driver_fit(&for_22631, &w11).warnings[0].code, WarningCode::WindowsBuildUnsure);
        // an exact build from the media wins over the id
        let exact = image(OsFamily::Windows, json!({"arch": "x86_64", "os_id": "win11", "build": 26100}));
        assert_eq!(driver_fit(&for_22631, &exact), Fit::default());
        // drivers described before decorations were kept whole: their versions alone
        let old = DriverInfo { arch: vec!["amd64".into()], os_versions: vec!["10.0.22000".into()], ..Default::default() };
        assert!(driver_fit(&old, &w2k19).refusal.is_some());
        assert_eq!(windows_build_range("win2k25"), Some((26100, Some(26100))));
    }
}
