//! The exact OS of an installer ISO — libosinfo's short id (`rhel9.6`, `sles15sp6`, `ubuntu24.04`,
//! `debian12`, `esxi8.0`, `win2k22`), name, version and architecture — from the files inside the
//! ISO first (`.treeinfo`, `.discinfo`, `.disk/info`, SUSE `media.1/products`, ESXi `boot.cfg` and
//! `upgrade/metadata.xml`, Windows `sources/install.wim` or `install.esd` as [`crate::windows`]
//! reads them), then from the libosinfo database's media rules (Debian's `osinfo-db`: volume,
//! publisher, application and system id regexes, and the volume size where it matters). An ISO
//! neither source knows is "not an OS installer"; Windows PE media are not one either.

use crate::model::OsFamily;
use crate::windows::WindowsMedia;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One of libosinfo's media regexes, compiled.
pub use regex_lite::Regex as Rule;

/// What the ISO is, as exactly as the sources tell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OsIdentity {
    /// libosinfo's short id (`rhel9.6`); an id in the same style where libosinfo has none.
    pub os_id: Option<String>,
    pub os_name: Option<String>,
    pub os_version: Option<String>,
    /// libosinfo's architecture words: x86_64, i686, aarch64, ppc64le, s390x.
    pub arch: Option<String>,
    /// Where it was read: a file inside the ISO, or `osinfo-db`.
    pub source: Option<String>,
    /// The kernel release the installer boots and installs (`uname -r`:
    /// `5.14.0-570.12.1.el9_6.x86_64`), and the file it was read from; see [`kernel`].
    pub kernel: Option<String>,
    pub kernel_from: Option<String>,
    /// Windows PE boot media (a boot.wim and no install image): named, but not an OS installer.
    pub windows_pe: bool,
}

impl OsIdentity {
    /// The family and distribution the support matrix uses, derived from the id.
    pub fn family_and_distro(&self) -> Option<(OsFamily, Option<String>)> {
        let id = self.os_id.as_deref()?;
        let prefixes: [(&str, OsFamily, Option<&str>); 14] = [
            ("rhel", OsFamily::Linux, Some("rhel")),
            ("centos", OsFamily::Linux, Some("centos")),
            ("rocky", OsFamily::Linux, Some("rocky")),
            ("almalinux", OsFamily::Linux, Some("alma")),
            ("ol", OsFamily::Linux, Some("oracle")),
            ("fedora", OsFamily::Linux, Some("fedora")),
            ("sle", OsFamily::Linux, Some("sles")),
            ("opensuse", OsFamily::Linux, Some("opensuse")),
            ("ubuntu", OsFamily::Linux, Some("ubuntu")),
            ("debian", OsFamily::Linux, Some("debian")),
            ("esxi", OsFamily::Vmware, Some("esxi")),
            ("win", OsFamily::Windows, None),
            ("silverblue", OsFamily::Linux, Some("fedora")),
            ("", OsFamily::Linux, None),
        ];
        let (_, family, distro) = prefixes.iter().find(|(p, _, _)| id.starts_with(p))?;
        // Only a Linux id libosinfo's families confirm is taken as Linux.
        if distro.is_none() && *family == OsFamily::Linux {
            return match osinfo_db().iter().find(|m| m.short_id == id).and_then(|m| m.family.as_deref()) {
                Some("linux") => Some((OsFamily::Linux, None)),
                Some("winnt") => Some((OsFamily::Windows, None)),
                _ => None,
            };
        }
        Some((*family, distro.map(str::to_string)))
    }

    /// The facts detection keeps (`os_id`, `os_name`, `os_version`, `arch`, `identified_by`), or
    /// `installer: false` when nothing named it; Windows PE media add `windows_pe: true` to
    /// `installer: false`.
    pub fn facts(&self) -> Map<String, Value> {
        let mut f = Map::new();
        if self.os_id.is_none() && self.os_name.is_none() {
            f.insert("installer".into(), json!(false));
            return f;
        }
        f.insert("installer".into(), json!(!self.windows_pe));
        if self.windows_pe {
            f.insert("windows_pe".into(), json!(true));
        }
        for (k, v) in [
            ("os_id", &self.os_id),
            ("os_name", &self.os_name),
            ("os_version", &self.os_version),
            ("arch", &self.arch),
            ("identified_by", &self.source),
            ("kernel", &self.kernel),
            ("kernel_from", &self.kernel_from),
        ] {
            if let Some(v) = v {
                f.insert(k.into(), json!(v));
            }
        }
        f
    }
}

/// Normalise an architecture word to libosinfo's.
pub fn normalise_arch(a: &str) -> Option<String> {
    let a = a.trim().to_ascii_lowercase();
    Some(
        match a.as_str() {
            "x86_64" | "amd64" | "x64" | "x86-64" => "x86_64",
            "i386" | "i486" | "i586" | "i686" | "x86" => "i686",
            "aarch64" | "arm64" => "aarch64",
            "ppc64le" | "ppc64el" => "ppc64le",
            "ppc64" => "ppc64",
            "s390x" => "s390x",
            _ => return None,
        }
        .to_string(),
    )
}

/// An architecture word inside a label ("SLE-15-SP6-Full-x86_64-GM-Media1", "RHEL-9-6-0-BaseOS-x86_64").
pub fn arch_in(label: &str) -> Option<String> {
    const WORDS: [&str; 8] = ["x86_64", "amd64", "aarch64", "arm64", "ppc64le", "s390x", "i686", "i386"];
    let lower = label.to_ascii_lowercase();
    WORDS.iter().filter_map(|w| lower.find(w).map(|at| (at, w))).min().and_then(|(_, w)| normalise_arch(w))
}

/// Reads small files of the ISO: the caller's ISO 9660 tree.
pub trait IsoFiles {
    /// At most `max` bytes of the file at `path` (case-insensitive), or `None`.
    fn read_file(&self, path: &str, max: u64) -> Option<Vec<u8>>;
    fn has(&self, path: &str) -> bool;
    /// Names of the files in the folder at `path` (none when it is not there).
    fn list(&self, _path: &str) -> Vec<String> {
        Vec::new()
    }
}

/// Boot kernels of installer media, as bzImages: RHEL and its rebuilds (`images/pxeboot`, the
/// BIOS `isolinux` copy), Ubuntu (`casper`), Debian (`install.amd`), SUSE (`boot/x86_64/loader`).
const KERNEL_IMAGES: [&str; 5] =
    ["images/pxeboot/vmlinuz", "isolinux/vmlinuz", "casper/vmlinuz", "install.amd/vmlinuz", "boot/x86_64/loader/linux"];
/// Package folders of Red Hat family media: RHEL 8+ DVDs (`BaseOS/Packages`), older and rebuilt
/// media (`Packages`), Fedora (`Packages/k`).
const PACKAGE_DIRS: [&str; 3] = ["BaseOS/Packages", "Packages", "Packages/k"];

/// The kernel release (`uname -r`) an installer ISO boots and installs: the version string of its
/// x86 boot kernel's setup header, else the `kernel-core` / `kernel` package its package folder
/// holds (aarch64 and s390x media, whose boot kernels are no bzImage). `None` when neither says.
pub fn kernel(iso: &dyn IsoFiles) -> Option<(String, String)> {
    for path in KERNEL_IMAGES {
        if let Some(release) = iso.read_file(path, 64 * 1024).and_then(|head| bzimage_release(&head)) {
            return Some((release, path.to_string()));
        }
    }
    for dir in PACKAGE_DIRS {
        let names = iso.list(dir);
        for prefix in ["kernel-core-", "kernel-"] {
            let found = names.iter().find_map(|n| {
                let release = n.strip_prefix(prefix)?.strip_suffix(".rpm")?;
                (release.starts_with(|c: char| c.is_ascii_digit()) && valid_release(release))
                    .then(|| (release.to_string(), format!("{dir}/{n}")))
            });
            if found.is_some() {
                return found;
            }
        }
    }
    None
}

/// The kernel release an x86 boot image (bzImage) names. Its setup header (Linux
/// Documentation/arch/x86/boot.rst) has the boot signature 55 AA at 0x1FE, "HdrS" at 0x202, the
/// boot protocol version at 0x206 and, from protocol 2.00 on, at 0x20E `kernel_version`: a pointer,
/// less 0x200, to a NUL-terminated string such as `5.14.0-570.12.1.el9_6.x86_64
/// (mockbuild@…) #1 SMP PREEMPT_DYNAMIC …`, whose first word is the release.
pub fn bzimage_release(head: &[u8]) -> Option<String> {
    if head.len() < 0x210 || head[0x1FE..0x200] != [0x55, 0xAA] || &head[0x202..0x206] != b"HdrS" {
        return None;
    }
    if u16::from_le_bytes([head[0x206], head[0x207]]) < 0x0200 {
        return None;
    }
    let pointer = u16::from_le_bytes([head[0x20E], head[0x20F]]) as usize;
    if pointer == 0 {
        return None;
    }
    let rest = head.get(pointer + 0x200..)?;
    let rest = &rest[..rest.len().min(512)];
    let end = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
    let word = std::str::from_utf8(&rest[..end]).ok()?.split_whitespace().next()?;
    (word.starts_with(|c: char| c.is_ascii_digit()) && valid_release(word)).then(|| word.to_string())
}

fn valid_release(r: &str) -> bool {
    r.len() <= 128 && r.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '~'))
}

fn text(iso: &dyn IsoFiles, path: &str) -> Option<String> {
    iso.read_file(path, 64 * 1024).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// (section, key, value) of an INI file, sections and keys lower-cased.
fn ini(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut section = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') && line.ends_with(']') {
            section = line[1..line.len() - 1].trim().to_ascii_lowercase();
        } else if let Some((k, v)) = line.split_once('=') {
            out.push((section.clone(), k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    out
}

/// The major and minor of a version ("9.6" → (9, Some(6)), "24.04.1" → (24, Some(4))).
fn major_minor(v: &str) -> Option<(u32, Option<u32>)> {
    let mut parts = v.split(['.', '-', ' ']);
    let major = parts.next()?.trim().parse().ok()?;
    let minor = parts.next().and_then(|m| m.trim().parse().ok());
    Some((major, minor))
}

/// A libosinfo-style id for a product name and version read from a file inside the ISO.
fn id_for(product: &str, version: &str) -> Option<String> {
    let p = product.to_ascii_lowercase();
    let (major, minor) = major_minor(version)?;
    let with_minor = |prefix: &str| match minor {
        Some(m) => format!("{prefix}{major}.{m}"),
        None => format!("{prefix}{major}"),
    };
    Some(if p.contains("red hat enterprise linux") || p == "rhel" {
        with_minor("rhel")
    } else if p.contains("centos stream") || p.contains("centos-stream") {
        format!("centos-stream{major}")
    } else if p.contains("centos") {
        format!("centos{major}")
    } else if p.contains("rocky") {
        with_minor("rocky")
    } else if p.contains("alma") {
        format!("almalinux{major}")
    } else if p.contains("oracle") {
        with_minor("ol")
    } else if p.contains("fedora") {
        format!("fedora{major}")
    } else if p.contains("suse linux enterprise server") || p == "sles" || p.starts_with("sle-") || p == "sle" {
        match minor {
            Some(sp) if sp > 0 => format!("sles{major}sp{sp}"),
            _ => format!("sles{major}"),
        }
    } else if p.contains("opensuse") && p.contains("leap") {
        with_minor("opensuse")
    } else if p.contains("ubuntu") {
        format!("ubuntu{major}.{:02}", minor.unwrap_or(0))
    } else if p.contains("debian") {
        format!("debian{major}")
    } else if p.contains("esxi") || p.contains("vmware") {
        format!("esxi{major}.{}", minor.unwrap_or(0))
    } else {
        return None;
    })
}

/// The OS named by the files inside the ISO, best first.
pub fn from_files(iso: &dyn IsoFiles) -> Option<OsIdentity> {
    treeinfo(iso).or_else(|| disk_info(iso)).or_else(|| suse_products(iso)).or_else(|| esxi(iso))
}

/// The OS a Windows image's XML names (`crate::windows::windows_media`): libosinfo's id for its
/// build, the image's name, version and architecture; read from `sources/install.wim` (or .esd,
/// or boot.wim for Windows PE). A build libosinfo has no id for (a semi-annual server release, a
/// preview) keeps its version and a plain name, and no id.
pub fn from_windows(media: &WindowsMedia) -> OsIdentity {
    let os_name = media.os_name.clone().or_else(|| {
        let server = media.editions.iter().any(crate::wim::WindowsEdition::is_server);
        let family = if server { "Microsoft Windows Server" } else { "Microsoft Windows" };
        Some(match media.build {
            Some(build) => format!("{family} (build {build})"),
            None => family.to_string(),
        })
    });
    OsIdentity {
        os_id: media.os_id.clone(),
        os_name,
        os_version: media.os_version.clone(),
        arch: media.arch.map(|a| a.as_str().to_string()),
        source: Some(media.wim_path.clone()),
        windows_pe: media.windows_pe,
        ..Default::default()
    }
}

/// `.treeinfo` (Red Hat family: [release] name/short/version or [general] family/version, [tree]
/// or [general] arch), completed by `.discinfo` (timestamp, product name, arch).
fn treeinfo(iso: &dyn IsoFiles) -> Option<OsIdentity> {
    let (name, version, arch, source) = if let Some(t) = text(iso, ".treeinfo") {
        let ini = ini(&t);
        let get = |sec: &str, key: &str| ini.iter().find(|(s, k, _)| s == sec && k == key).map(|(_, _, v)| v.clone());
        (
            get("release", "name").or_else(|| get("general", "family"))?,
            get("release", "version").or_else(|| get("general", "version"))?,
            get("tree", "arch").or_else(|| get("general", "arch")),
            ".treeinfo",
        )
    } else {
        let d = text(iso, ".discinfo")?;
        let lines: Vec<&str> = d.lines().map(str::trim).collect();
        let product = *lines.get(1)?;
        let version = product.split_whitespace().find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
        let name = product.trim_end_matches(version).trim().to_string();
        (name, version.to_string(), lines.get(2).map(|s| s.to_string()), ".discinfo")
    };
    let os_id = id_for(&name, &version)?;
    let os_name = if name.contains(&version) { name.clone() } else { format!("{name} {version}") };
    Some(OsIdentity {
        os_id: Some(os_id),
        os_name: Some(os_name),
        os_version: Some(version),
        arch: arch.as_deref().and_then(normalise_arch),
        source: Some(source.into()),
        ..Default::default()
    })
}

/// Debian and Ubuntu `.disk/info`: `Ubuntu-Server 24.04.1 LTS "Noble Numbat" - Release amd64
/// (20240827.1)`, `Debian GNU/Linux 12.7.0 "Bookworm" - Official amd64 DVD Binary-1 …`.
fn disk_info(iso: &dyn IsoFiles) -> Option<OsIdentity> {
    let t = text(iso, ".disk/info")?;
    let line = t.lines().next()?.trim();
    let words: Vec<&str> = line.split_whitespace().collect();
    let version = *words.iter().find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    let product = if line.to_ascii_lowercase().starts_with("ubuntu") {
        "ubuntu"
    } else if line.to_ascii_lowercase().starts_with("debian") {
        "debian"
    } else {
        return None;
    };
    let os_id = id_for(product, version)?;
    let head = line.split('"').next().unwrap_or(line).trim();
    let os_name = head.replace("Ubuntu-Server", "Ubuntu Server");
    let arch = words.iter().find_map(|w| normalise_arch(w));
    Some(OsIdentity {
        os_id: Some(os_id),
        os_name: Some(os_name),
        os_version: Some(version.to_string()),
        arch,
        source: Some(".disk/info".into()),
        ..Default::default()
    })
}

/// SUSE `media.1/products`: lines `PATH NAME VERSION-RELEASE`, e.g. `/Product-SLES sles 15.6-0`.
fn suse_products(iso: &dyn IsoFiles) -> Option<OsIdentity> {
    let t = text(iso, "media.1/products")?;
    let arch = text(iso, "media.1/media").and_then(|m| arch_in(&m));
    for line in t.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, name, version, ..] = fields[..] else { continue };
        let version = version.split('-').next().unwrap_or(version);
        let lname = name.to_ascii_lowercase();
        let (product, display) = if lname == "sles"
            || lname.starts_with("sle-") && lname.contains("server")
            || lname.starts_with("sle-15")
            || lname.starts_with("sle-12")
        {
            ("sles", "SUSE Linux Enterprise Server")
        } else if lname.contains("leap") {
            ("opensuse leap", "openSUSE Leap")
        } else {
            continue;
        };
        let os_id = id_for(product, version)?;
        let (major, minor) = major_minor(version)?;
        let pretty = match (product, minor) {
            ("sles", Some(sp)) if sp > 0 => format!("{display} {major} SP{sp}"),
            _ => format!("{display} {version}"),
        };
        return Some(OsIdentity {
            os_id: Some(os_id),
            os_name: Some(pretty),
            os_version: Some(version.to_string()),
            arch,
            source: Some("media.1/products".into()),
            ..Default::default()
        });
    }
    None
}

/// ESXi: `upgrade/metadata.xml` `<esxVersion>8.0.3</esxVersion>`, or `boot.cfg`'s `build=8.0.3-…`
/// on media whose boot.cfg loads the ESXi installer.
fn esxi(iso: &dyn IsoFiles) -> Option<OsIdentity> {
    let boot = text(iso, "boot.cfg").or_else(|| text(iso, "efi/boot/boot.cfg"));
    let is_esxi = boot.as_deref().is_some_and(|b| b.to_ascii_lowercase().contains("esxi")) || iso.has("vmware-esx-base-osl.txt");
    if !is_esxi {
        return None;
    }
    let from_meta = text(iso, "upgrade/metadata.xml").and_then(|m| {
        let doc = roxmltree::Document::parse(&m).ok()?;
        doc.descendants().find(|n| n.has_tag_name("esxVersion")).and_then(|n| n.text()).map(|t| t.trim().to_string())
    });
    let from_boot = boot
        .as_deref()
        .and_then(|b| b.lines().find_map(|l| l.trim().strip_prefix("build=")).map(|v| v.split('-').next().unwrap_or(v).trim().to_string()));
    let version = from_meta.clone().or(from_boot).filter(|v| major_minor(v).is_some());
    let source = if from_meta.is_some() { "upgrade/metadata.xml" } else { "boot.cfg" };
    match version {
        Some(v) => Some(OsIdentity {
            os_id: id_for("esxi", &v),
            os_name: Some(format!("VMware ESXi {v}")),
            os_version: Some(v),
            arch: Some("x86_64".into()),
            source: Some(source.into()),
            ..Default::default()
        }),
        None => Some(OsIdentity {
            os_id: None,
            os_name: Some("VMware ESXi".into()),
            os_version: None,
            arch: Some("x86_64".into()),
            source: Some(source.into()),
            ..Default::default()
        }),
    }
}

/// One `<media>` of libosinfo's database with an `<iso>` rule.
#[derive(Debug)]
pub struct OsinfoMedia {
    pub short_id: String,
    pub name: String,
    pub version: Option<String>,
    pub family: Option<String>,
    pub arch: String,
    volume_id: Option<Rule>,
    publisher_id: Option<Rule>,
    application_id: Option<Rule>,
    system_id: Option<Rule>,
    volume_size: Option<u64>,
}

/// What an ISO's primary volume descriptor says, to match against libosinfo's rules.
#[derive(Debug, Clone, Default)]
pub struct VolumeFields<'a> {
    pub volume_id: &'a str,
    pub publisher: &'a str,
    pub application: &'a str,
    pub system_id: &'a str,
    pub volume_bytes: u64,
}

/// Where libosinfo's database is: `IMAGESMITH_OSINFO_DIR`, else Debian's `/usr/share/osinfo`.
pub fn osinfo_dir() -> PathBuf {
    std::env::var_os("IMAGESMITH_OSINFO_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/share/osinfo"))
}

/// The database's media rules, read once per process (about 2,100 media of 900 OSes; none when the
/// database is not installed, and then only the files inside an ISO name it).
pub fn osinfo_db() -> &'static [OsinfoMedia] {
    static DB: OnceLock<Vec<OsinfoMedia>> = OnceLock::new();
    DB.get_or_init(|| load(&osinfo_dir().join("os")))
}

/// Start reading the media rules on a thread of their own (once per process), so that an ISO that
/// is still arriving — a download — is identified as soon as its bytes are in instead of waiting
/// about a quarter of a CPU-second for the rules to compile. Whoever needs them before the thread
/// is done waits for it rather than reading them twice.
pub fn warm_up() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        // Without a thread (none to be had) the rules are read when first needed, as before.
        let _ = std::thread::Builder::new().name("osinfo-rules".into()).spawn(|| {
            osinfo_db();
        });
    });
}

/// How many media rules the database had and how many of their regexes this reader could not take.
pub fn load_report(dir: &Path) -> (usize, usize) {
    let mut skipped = 0;
    let n = read_dir_media(dir, &mut skipped).len();
    (n, skipped)
}

fn load(dir: &Path) -> Vec<OsinfoMedia> {
    let mut skipped = 0;
    read_dir_media(dir, &mut skipped)
}

fn read_dir_media(dir: &Path, skipped: &mut usize) -> Vec<OsinfoMedia> {
    let mut out = Vec::new();
    let Ok(vendors) = std::fs::read_dir(dir) else { return out };
    let mut files: Vec<PathBuf> = vendors
        .flatten()
        .filter(|v| v.path().is_dir())
        .flat_map(|v| std::fs::read_dir(v.path()).into_iter().flatten().flatten().map(|f| f.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    for f in files {
        // Bounded: libosinfo's largest OS file is well under 1 MiB.
        let Ok(meta) = std::fs::metadata(&f) else { continue };
        if meta.len() > 4 << 20 {
            continue;
        }
        let Ok(xml) = std::fs::read_to_string(&f) else { continue };
        let Ok(doc) = roxmltree::Document::parse(&xml) else { continue };
        for os in doc.descendants().filter(|n| n.has_tag_name("os")) {
            let plain = |tag: &str| {
                os.children()
                    .find(|c| c.has_tag_name(tag) && c.attribute(("http://www.w3.org/XML/1998/namespace", "lang")).is_none())
                    .and_then(|c| c.text())
                    .map(|t| t.trim().to_string())
            };
            let Some(short_id) = plain("short-id") else { continue };
            let name = plain("name").unwrap_or_else(|| short_id.clone());
            for media in os.children().filter(|c| c.has_tag_name("media")) {
                let Some(iso) = media.children().find(|c| c.has_tag_name("iso")) else { continue };
                let field = |tag: &str| {
                    iso.children().find(|c| c.has_tag_name(tag)).and_then(|c| c.text()).map(str::trim).filter(|t| !t.is_empty())
                };
                let mut bad = false;
                let mut rx = |tag: &str| match field(tag) {
                    None => None,
                    Some(p) => match Rule::new(p) {
                        Ok(r) => Some(r),
                        Err(_) => {
                            bad = true;
                            None
                        }
                    },
                };
                let (volume_id, publisher_id, application_id, system_id) =
                    (rx("volume-id"), rx("publisher-id"), rx("application-id"), rx("system-id"));
                if bad {
                    *skipped += 1;
                    continue;
                }
                if volume_id.is_none() && publisher_id.is_none() && application_id.is_none() && system_id.is_none() {
                    continue;
                }
                out.push(OsinfoMedia {
                    short_id: short_id.clone(),
                    name: name.clone(),
                    version: plain("version"),
                    family: plain("family"),
                    arch: media.attribute("arch").unwrap_or("all").to_string(),
                    volume_id,
                    publisher_id,
                    application_id,
                    system_id,
                    volume_size: field("volume-size").and_then(|s| s.parse().ok()),
                });
            }
        }
    }
    out
}

impl OsinfoMedia {
    /// The rule's regexes (volume, publisher, application, system id), for the table test.
    #[doc(hidden)]
    pub fn rules_for_test(&self) -> (Option<&Rule>, Option<&Rule>, Option<&Rule>, Option<&Rule>) {
        (self.volume_id.as_ref(), self.publisher_id.as_ref(), self.application_id.as_ref(), self.system_id.as_ref())
    }

    #[doc(hidden)]
    pub fn volume_size_for_test(&self) -> u64 {
        self.volume_size.unwrap_or(0)
    }

    /// How specific a match this rule makes with these fields (0: no match): each field the rule
    /// names must match; more fields, and longer patterns, are more specific.
    fn score(&self, v: &VolumeFields<'_>) -> usize {
        let mut score = 0;
        for (rule, value) in [
            (&self.volume_id, v.volume_id),
            (&self.publisher_id, v.publisher),
            (&self.application_id, v.application),
            (&self.system_id, v.system_id),
        ] {
            if let Some(r) = rule {
                if !r.is_match(value.trim()) {
                    return 0;
                }
                score += 1000 + r.as_str().len();
            }
        }
        if let Some(size) = self.volume_size {
            if size != v.volume_bytes {
                return 0;
            }
            score += 2000;
        }
        // "-unknown" entries are libosinfo's catch-alls for versions it does not know yet.
        if self.short_id.ends_with("-unknown") {
            score /= 2;
        }
        score
    }
}

/// The best libosinfo rule these volume fields satisfy.
pub fn from_osinfo<'a>(db: &'a [OsinfoMedia], v: &VolumeFields<'_>) -> Option<&'a OsinfoMedia> {
    db.iter().map(|m| (m.score(v), m)).filter(|(s, _)| *s > 0).max_by_key(|(s, _)| *s).map(|(_, m)| m)
}

/// The identity an ISO's files and its volume descriptor give: the files first — its ISO 9660
/// files, then the Windows image read through UDF or ISO 9660 —, libosinfo for what they leave
/// open (or everything when no file names the OS).
pub fn identify(iso: Option<&dyn IsoFiles>, windows: Option<&WindowsMedia>, v: &VolumeFields<'_>) -> OsIdentity {
    let mut id = identify_from(iso, windows, v);
    if id.os_id.is_some() && id.arch.is_none() {
        id.arch = arch_in(v.volume_id);
    }
    if id.os_id.is_some() || id.os_name.is_some() {
        if let Some((release, from)) = iso.and_then(kernel) {
            id.kernel = Some(release);
            id.kernel_from = Some(from);
        }
    }
    id
}

fn identify_from(iso: Option<&dyn IsoFiles>, windows: Option<&WindowsMedia>, v: &VolumeFields<'_>) -> OsIdentity {
    let files = iso.and_then(from_files).or_else(|| windows.map(from_windows));
    if files.as_ref().is_some_and(|f| f.windows_pe) {
        // Windows PE is no installer: libosinfo's rules for Windows media do not apply to it.
        return files.unwrap_or_default();
    }
    let db = from_osinfo(osinfo_db(), v);
    match (files, db) {
        (Some(mut f), Some(m)) => {
            // An exact version the files gave without an id (a Windows build libosinfo does not
            // know) is not overruled by a volume label's rule.
            if f.os_id.is_none() && f.os_version.is_none() {
                f.os_id = Some(m.short_id.clone());
            }
            if f.arch.is_none() && m.arch != "all" {
                f.arch = normalise_arch(&m.arch).or(Some(m.arch.clone()));
            }
            f
        }
        (Some(f), None) => f,
        (None, Some(m)) => OsIdentity {
            os_id: Some(m.short_id.clone()),
            os_name: Some(m.name.clone()),
            os_version: m.version.clone(),
            arch: (m.arch != "all").then(|| normalise_arch(&m.arch).unwrap_or_else(|| m.arch.clone())),
            source: Some("osinfo-db".into()),
            ..Default::default()
        },
        (None, None) => OsIdentity::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Files(HashMap<&'static str, &'static str>);
    impl IsoFiles for Files {
        fn read_file(&self, path: &str, _max: u64) -> Option<Vec<u8>> {
            self.0.get(path).map(|s| s.as_bytes().to_vec())
        }
        fn has(&self, path: &str) -> bool {
            self.0.contains_key(path)
        }
    }

    fn id(files: &[(&'static str, &'static str)]) -> OsIdentity {
        from_files(&Files(files.iter().copied().collect())).unwrap_or_default()
    }

    /// A bzImage's first 16 KiB: boot signature, "HdrS", protocol 2.15, kernel_version → `version`.
    fn bzimage(version: &str) -> Vec<u8> {
        let mut b = vec![0u8; 16384];
        b[0x1FE..0x200].copy_from_slice(&[0x55, 0xAA]);
        b[0x202..0x206].copy_from_slice(b"HdrS");
        b[0x206..0x208].copy_from_slice(&0x020Fu16.to_le_bytes());
        b[0x20E..0x210].copy_from_slice(&0x3000u16.to_le_bytes());
        b[0x3200..0x3200 + version.len()].copy_from_slice(version.as_bytes());
        b
    }

    struct Listed(Vec<&'static str>);
    impl IsoFiles for Listed {
        fn read_file(&self, _path: &str, _max: u64) -> Option<Vec<u8>> {
            None
        }
        fn has(&self, _path: &str) -> bool {
            false
        }
        fn list(&self, path: &str) -> Vec<String> {
            if path == "BaseOS/Packages" {
                self.0.iter().map(|s| s.to_string()).collect()
            } else {
                Vec::new()
            }
        }
    }

    #[test]
    fn the_kernel_is_read_from_the_boot_kernels_header_or_the_kernel_package() {
        let head = bzimage("5.14.0-570.12.1.el9_6.x86_64 (mockbuild@x86-64-01.build.eng.rdu2.redhat.com) #1 SMP PREEMPT_DYNAMIC\0");
        assert_eq!(bzimage_release(&head).as_deref(), Some("5.14.0-570.12.1.el9_6.x86_64"));
        let mut old = head.clone();
        old[0x206..0x208].copy_from_slice(&0x0105u16.to_le_bytes());
        assert_eq!(bzimage_release(&old), None, "boot protocol 1.x has no kernel_version");
        let mut far = head.clone();
        far[0x20E..0x210].copy_from_slice(&0xFFFFu16.to_le_bytes());
        assert_eq!(bzimage_release(&far), None, "a pointer past what was read");
        assert_eq!(bzimage_release(&bzimage("not a version")), None);
        assert_eq!(bzimage_release(&[0u8; 100]), None);
        // aarch64 media: the kernel package's file name
        let dvd = Listed(vec!["kernel-abi-stablelists-5.14.0-570.12.1.el9_6.noarch.rpm", "kernel-core-5.14.0-570.12.1.el9_6.aarch64.rpm"]);
        assert_eq!(
            kernel(&dvd),
            Some(("5.14.0-570.12.1.el9_6.aarch64".into(), "BaseOS/Packages/kernel-core-5.14.0-570.12.1.el9_6.aarch64.rpm".into()))
        );
        assert_eq!(kernel(&Listed(vec!["kernel-tools-5.14.0-570.el9.x86_64.rpm"])), None);
    }

    #[test]
    fn files_inside_the_iso_name_the_exact_release() {
        let rhel = id(&[(".treeinfo", "[general]\nfamily = Red Hat Enterprise Linux\nversion = 9.6\narch = x86_64\n[release]\nname = Red Hat Enterprise Linux\nshort = RHEL\nversion = 9.6\n[tree]\narch = x86_64\n")]);
        assert_eq!(
            (rhel.os_id.as_deref(), rhel.os_name.as_deref(), rhel.arch.as_deref()),
            (Some("rhel9.6"), Some("Red Hat Enterprise Linux 9.6"), Some("x86_64"))
        );
        let stream = id(&[(".treeinfo", "[release]\nname = CentOS Stream\nversion = 9\n[tree]\narch = aarch64\n")]);
        assert_eq!((stream.os_id.as_deref(), stream.arch.as_deref()), (Some("centos-stream9"), Some("aarch64")));
        let alma = id(&[(".discinfo", "1715000000.0\nAlmaLinux 9.4\nx86_64\n")]);
        assert_eq!(
            (alma.os_id.as_deref(), alma.os_version.as_deref(), alma.source.as_deref()),
            (Some("almalinux9"), Some("9.4"), Some(".discinfo"))
        );
        let ubuntu = id(&[(".disk/info", "Ubuntu-Server 24.04.1 LTS \"Noble Numbat\" - Release amd64 (20240827.1)")]);
        assert_eq!(
            (ubuntu.os_id.as_deref(), ubuntu.os_version.as_deref(), ubuntu.arch.as_deref()),
            (Some("ubuntu24.04"), Some("24.04.1"), Some("x86_64"))
        );
        let debian = id(&[(".disk/info", "Debian GNU/Linux 12.7.0 \"Bookworm\" - Official amd64 DVD Binary-1 20240831-10:40")]);
        assert_eq!((debian.os_id.as_deref(), debian.os_name.as_deref()), (Some("debian12"), Some("Debian GNU/Linux 12.7.0")));
        let sles = id(&[
            ("media.1/products", "/Module-Basesystem sle-module-basesystem 15.6-0\n/Product-SLES sles 15.6-0\n"),
            ("media.1/media", "SUSE - SLE-15-SP6-Full-x86_64\n"),
        ]);
        assert_eq!((sles.os_id.as_deref(), sles.os_name.as_deref()), (Some("sles15sp6"), Some("SUSE Linux Enterprise Server 15 SP6")));
        let esxi = id(&[
            ("boot.cfg", "bootstate=0\ntitle=Loading ESXi installer\nbuild=8.0.3-0.0.24022510\n"),
            ("upgrade/metadata.xml", "<vum><esxVersion>8.0.3</esxVersion></vum>"),
        ]);
        assert_eq!((esxi.os_id.as_deref(), esxi.os_version.as_deref()), (Some("esxi8.0"), Some("8.0.3")));
        assert_eq!(esxi.family_and_distro(), Some((OsFamily::Vmware, Some("esxi".into()))));
        assert_eq!(id(&[("boot/grub/grub.cfg", "menuentry rescue")]), OsIdentity::default());
    }

    fn media(build: Option<u32>, installation_type: &str, windows_pe: bool) -> WindowsMedia {
        let edition = json!({"index": 1, "name": "image", "languages": ["en-US"], "installation_type": installation_type});
        let (os_id, os_name) = match build.and_then(|b| crate::windows::os_for_build(b, installation_type == "server")) {
            _ if windows_pe => (None, Some("Windows PE".to_string())),
            Some((id, name)) => (Some(id.to_string()), Some(name.to_string())),
            None => (None, None),
        };
        WindowsMedia {
            wim_path: if windows_pe { "sources/boot.wim" } else { "sources/install.wim" }.into(),
            file_system: crate::windows::MediaFileSystem::Udf,
            editions: vec![serde_json::from_value(edition).unwrap()],
            arch: Some(crate::wim::WindowsArch::X64),
            build,
            os_id,
            os_name,
            os_version: build.map(|b| format!("10.0.{b}")),
            windows_pe,
        }
    }

    #[test]
    fn a_windows_image_names_its_build_and_windows_pe_is_no_installer() {
        let server = from_windows(&media(Some(20348), "server", false));
        assert_eq!(
            (server.os_id.as_deref(), server.os_version.as_deref(), server.arch.as_deref(), server.source.as_deref()),
            (Some("win2k22"), Some("10.0.20348"), Some("x86_64"), Some("sources/install.wim"))
        );
        assert_eq!(server.family_and_distro(), Some((OsFamily::Windows, None)));
        assert_eq!(server.facts()["installer"], json!(true));
        // A build libosinfo has no id for keeps its version and a plain name; a volume label's
        // rule does not give it another id.
        let preview = from_windows(&media(Some(25398), "server", false));
        assert_eq!((preview.os_id, preview.os_name.as_deref()), (None, Some("Microsoft Windows Server (build 25398)")));
        let fields = VolumeFields { volume_id: "SSS_X64FREE_EN-US_DV9", publisher: "MICROSOFT CORPORATION", ..Default::default() };
        let named = identify(None, Some(&media(Some(25398), "server", false)), &fields);
        assert_eq!((named.os_id, named.os_version.as_deref()), (None, Some("10.0.25398")));
        let pe = identify(None, Some(&media(Some(22621), "windows_pe", true)), &fields);
        assert_eq!(
            (pe.os_id.as_deref(), pe.os_name.as_deref(), pe.source.as_deref()),
            (None, Some("Windows PE"), Some("sources/boot.wim"))
        );
        let facts = pe.facts();
        assert_eq!((&facts["installer"], &facts["windows_pe"]), (&json!(false), &json!(true)));
    }
}
