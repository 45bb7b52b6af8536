//! What a driver package holds: kernels and kernel modules of Linux kmod RPMs and driver update
//! disks; class, provider, version, architectures, OS versions, hardware IDs and files of every
//! `.inf` in a Windows driver zip. Read with bounds: file-controlled sizes are checked before
//! anything is allocated from them.

use crate::detect::Format;
use crate::error::{code, Error, Result};
use crate::model::{ArtifactQuery, ArtifactRef, Kind, OsFamily};
use crate::{catalog, Engine};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

/// A driver as an admin checks it against hardware and images. Windows words for Windows
/// architectures (`amd64`, `arm64`, `x86`, `ia64`, `arm`, as in `[Manufacturer]` decorations), RPM
/// words for Linux ones (`x86_64`, `aarch64`, …).
///
/// Stored in an artifact's `detected` facts and read back from there: a field added later needs
/// `#[serde(default)]`, or descriptions stored before it no longer read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DriverInfo {
    /// Architectures it is built for.
    pub arch: Vec<String>,
    /// Every hardware (and compatible) ID the `.inf` model sections list, upper-cased, each once.
    pub hardware_ids: Vec<String>,
    /// Device setup class (`Net`, `SCSIAdapter`, …).
    pub class: Option<String>,
    pub class_guid: Option<String>,
    /// The INF's Provider, or the RPM's Vendor.
    pub provider: Option<String>,
    /// DriverVer's version, or the RPM's version.
    pub version: Option<String>,
    /// DriverVer's date, or the RPM's build date (YYYY-MM-DD).
    pub date: Option<String>,
    /// The catalog file the `.inf` names (its signature), if any.
    pub catalog: Option<String>,
    /// Whether every catalog file the `.inf` files name is in the package.
    pub catalog_present: bool,
    /// Kernel versions it is built for (`uname -r` of /lib/modules/<kver>/, `kernel-modules >=`
    /// provides, `kernel`/`kernel-uname-r` requires).
    pub kernels: Vec<String>,
    /// Kernel modules it carries (`ixgbe.ko`).
    pub kmods: Vec<String>,
    /// Windows versions the `[Manufacturer]` decorations name (`10.0`, `10.0.17763`).
    pub os_versions: Vec<String>,
    /// The RPM's name-version-release (a driver update disk with one package: that package's).
    pub package: Option<String>,
    /// Every package of a driver update disk, as `rpms/<arch>/` holds it (name-version-release.arch).
    pub packages: Vec<String>,
    /// The `.inf` files of a driver zip, as paths inside it.
    pub infs: Vec<String>,
    /// Files an `.inf` names (`[SourceDisksFiles]`, its catalog) that the package lacks.
    pub missing_files: Vec<String>,
    /// Each `[Manufacturer]` decoration as Windows matches it: architecture, least version and
    /// product type together (`arch` and `os_versions` above list them apart). Empty for drivers
    /// described before it was kept, and for Linux drivers.
    #[serde(default)]
    pub targets: Vec<WindowsTarget>,
}

impl DriverInfo {
    /// The description detection recorded (`detected.driver`), if there is one that reads.
    pub fn from_fact(fact: Option<&serde_json::Value>) -> Option<DriverInfo> {
        fact.and_then(|d| serde_json::from_value(d.clone()).ok())
    }
}

/// One `TargetOSVersion` decoration of an `.inf`'s `[Manufacturer]` section,
/// `nt[Architecture][.[OSMajorVersion][.[OSMinorVersion][.[ProductType][.[SuiteMask][.[BuildNumber]]]]]]`:
/// the models section it names is used on Windows of this architecture whose version is at least
/// `version` (build numbers count from Windows 10 1607 on) and, when `product_type` is given, of
/// that product type (1 workstation, 2 domain controller, 3 server).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WindowsTarget {
    pub arch: String,
    pub version: Option<String>,
    pub product_type: Option<u32>,
}

/// Push `value` unless it is there already.
fn push_unique(list: &mut Vec<String>, value: impl Into<String>) {
    let value = value.into();
    if !value.is_empty() && !list.contains(&value) {
        list.push(value);
    }
}

// ---- what detection and the import call -------------------------------------------------------

/// The driver a file of this format describes: `None` for formats that are not drivers and for an
/// RPM without a kernel module.
pub fn describe_driver(path: &Path, format: Format) -> Result<Option<DriverInfo>> {
    let invalid = |what: &str, why: String| {
        Error::new(
            code::INVALID_CONTENT,
            format!("{} is not a valid {what}: {why}.", path.display()),
            "The file's name or content says it is this format, but its content does not follow it.",
            "Download the file again from its source and compare its checksum, or choose the right file.",
        )
    };
    match format {
        Format::Rpm => {
            let file = crate::detect::open_regular(path)?;
            let pkg = read_rpm(&mut std::io::BufReader::new(file)).map_err(|e| invalid("RPM package", e))?;
            Ok(pkg.is_driver().then(|| rpm_driver(std::slice::from_ref(&pkg), &[])))
        }
        Format::DriverDisk => {
            let file = crate::detect::open_regular(path)?;
            let tree = crate::iso::Tree::open(&file).ok_or_else(|| invalid("ISO 9660 image", "it has no directory tree".into()))?;
            Ok(Some(describe_dud(&tree)))
        }
        Format::ZipDrivers => {
            let file = crate::detect::open_regular(path)?;
            let mut zip = zip::ZipArchive::new(file).map_err(|e| invalid("zip archive", e.to_string()))?;
            Ok(Some(describe_zip(&mut zip)))
        }
        _ => Ok(None),
    }
}

/// Facts detection keeps for an RPM: its name-version-release and arch, and `driver` when it
/// carries kernel modules.
pub(crate) fn rpm_facts(pkg: &RpmPackage) -> serde_json::Map<String, serde_json::Value> {
    let mut facts = serde_json::Map::new();
    facts.insert("package".into(), pkg.nvr().into());
    facts.insert("arch".into(), pkg.arch.clone().into());
    if pkg.is_driver() {
        facts.insert("driver".into(), serde_json::json!(rpm_driver(std::slice::from_ref(pkg), &[])));
    }
    facts
}

/// Refuse an RPM as a driver when it carries no kernel module (detection left out its `driver`).
pub(crate) fn check_driver(kind: Kind, format: Format, facts: &serde_json::Map<String, serde_json::Value>, name: &str) -> Result<()> {
    if kind != Kind::Driver || format != Format::Rpm || facts.contains_key("driver") {
        return Ok(());
    }
    let package = facts.get("package").and_then(|p| p.as_str()).unwrap_or(name);
    Err(Error::new(
        code::NOT_A_DRIVER,
        format!("{name} is not a driver: the package {package} carries no kernel module."),
        "A Linux driver is an RPM with kernel modules: .ko files under /lib/modules/<kernel>/, or kmod(…) and kernel-modules provides. This package has none, so an installer could not load anything from it.",
        "Import it as software (--kind software, or Software in the review), or choose the kmod package of the driver.",
    ))
}

// ---- RPM ---------------------------------------------------------------------------------------

/// Header region (lead, signature header, header) of an RPM read at most: the file list of a
/// kernel-modules package with thousands of modules stays well under it.
const MAX_RPM_HEADER: usize = 32 << 20;
/// librpm's own limit on index entries per header (hdrchkTags).
const MAX_RPM_INDEX_ENTRIES: u32 = 0xffff;
const RPM_LEAD: usize = 96;
/// A driver update disk's packages read at most (real ones hold one to a few), and the header
/// bytes read of them all (packages may share one extent: the count alone does not bound it).
const MAX_DUD_RPMS: usize = 256;
const MAX_DUD_HEADER_BYTES: u64 = 128 << 20;

/// What one RPM's header says, as far as drivers go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RpmPackage {
    pub name: String,
    pub version: String,
    pub release: String,
    pub arch: String,
    pub vendor: Option<String>,
    pub build_date: Option<String>,
    pub kernels: Vec<String>,
    pub kmods: Vec<String>,
    /// Module files, `kmod(…)` or `kernel-modules` provides seen.
    pub modules: bool,
}

impl RpmPackage {
    pub fn nvr(&self) -> String {
        format!("{}-{}-{}", self.name, self.version, self.release)
    }

    pub fn is_driver(&self) -> bool {
        self.modules
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Read the lead and both headers into memory, checking every size the file gives before it is
/// used: index entries (at most librpm's 65,535), the data store (the region at most 32 MiB), and
/// each entry's offset and count against the store — so the header parser that runs next can
/// neither allocate from a hostile count nor index past its buffer.
fn read_header_region(r: &mut impl Read) -> std::result::Result<Vec<u8>, String> {
    let mut buf = vec![0u8; RPM_LEAD];
    r.read_exact(&mut buf).map_err(|_| "it ends inside the 96-byte lead".to_string())?;
    if buf[..4] != [0xED, 0xAB, 0xEE, 0xDB] {
        return Err("it does not start with the RPM lead magic (ED AB EE DB)".into());
    }
    for (signature, what) in [(true, "signature header"), (false, "header")] {
        let start = buf.len();
        buf.resize(start + 16, 0);
        r.read_exact(&mut buf[start..]).map_err(|_| format!("it ends before its {what}"))?;
        let intro = &buf[start..start + 16];
        if intro[..3] != [0x8E, 0xAD, 0xE8] || intro[3] != 1 {
            return Err(format!("its {what} does not start with the header magic (8E AD E8 01)"));
        }
        let entries = be32(&intro[8..12]);
        let data = be32(&intro[12..16]);
        if entries == 0 || entries > MAX_RPM_INDEX_ENTRIES {
            return Err(format!("its {what} claims {entries} index entries (at most {MAX_RPM_INDEX_ENTRIES})"));
        }
        let padding = if signature { (8 - data as usize % 8) % 8 } else { 0 };
        let rest = entries as usize * 16 + data as usize + padding;
        if buf.len() + rest > MAX_RPM_HEADER {
            return Err(format!("its headers are larger than {} MiB", MAX_RPM_HEADER >> 20));
        }
        let body = buf.len();
        buf.resize(body + rest, 0);
        r.read_exact(&mut buf[body..]).map_err(|_| format!("it ends inside its {what}"))?;
        check_index(&buf[body..body + entries as usize * 16], data).map_err(|e| format!("its {what} is damaged: {e}"))?;
    }
    Ok(buf)
}

/// Every index entry's data must lie inside the store: offset within it, and room for `count`
/// items of the entry's type (strings at least one byte each).
fn check_index(index: &[u8], store: u32) -> std::result::Result<(), String> {
    for entry in index.chunks_exact(16) {
        let (tag, kind, offset, count) = (be32(&entry[0..4]), be32(&entry[4..8]), be32(&entry[8..12]), be32(&entry[12..16]) as u64);
        if offset > store {
            return Err(format!("tag {tag} points past the end of the data ({offset} > {store})"));
        }
        let size = match kind {
            0 => 0,
            1 | 2 | 6 | 7 | 8 | 9 => 1,
            3 => 2,
            4 => 4,
            5 => 8,
            _ => return Err(format!("tag {tag} has the unknown type {kind}")),
        };
        if count * size > (store - offset) as u64 {
            return Err(format!("tag {tag} claims {count} items that do not fit in the data"));
        }
    }
    Ok(())
}

/// Read an RPM's header (name, version, release, arch, provides, requires, file list) with the
/// `rpm` crate, after [`read_header_region`] bounded it.
pub(crate) fn read_rpm(r: &mut impl Read) -> std::result::Result<RpmPackage, String> {
    let region = read_header_region(r)?;
    let meta = rpm::PackageMetadata::parse(&mut region.as_slice()).map_err(|e| format!("its header does not parse ({e})"))?;
    let text = |v: std::result::Result<&str, rpm::Error>| v.ok().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let name = text(meta.get_name()).ok_or("its header has no package name")?;
    let mut pkg = RpmPackage {
        name,
        version: text(meta.get_version()).unwrap_or_default(),
        release: text(meta.get_release()).unwrap_or_default(),
        arch: text(meta.get_arch()).unwrap_or_default(),
        vendor: text(meta.get_vendor()),
        build_date: meta.get_build_time().ok().and_then(|t| ymd(t as i64)),
        ..Default::default()
    };
    let versioned = |d: &rpm::Dependency| (!d.version.trim().is_empty()).then(|| d.version.trim().to_string());
    for dep in meta.get_provides().unwrap_or_default() {
        let name = dep.name.trim();
        if name == "kernel-modules" {
            pkg.modules = true;
            if let Some(v) = versioned(&dep) {
                add_kernel(&mut pkg.kernels, &v);
            }
        } else if let Some(module) = name.strip_prefix("kmod(").and_then(|m| m.strip_suffix(')')) {
            pkg.modules = true;
            push_unique(&mut pkg.kmods, module_name(module));
        }
    }
    for dep in meta.get_requires().unwrap_or_default() {
        if matches!(dep.name.trim(), "kernel" | "kernel-core" | "kernel-uname-r" | "kernel-default" | "kernel-modules-core") {
            if let Some(v) = versioned(&dep) {
                add_kernel(&mut pkg.kernels, &v);
            }
        }
    }
    for (dir, base) in meta.get_file_paths_split().unwrap_or_default() {
        let Some(module) = kernel_module_file(base) else { continue };
        let dir = dir.strip_prefix("/usr").unwrap_or(dir);
        if let Some(kver) = dir.strip_prefix("/lib/modules/").and_then(|rest| rest.split('/').next()).filter(|k| !k.is_empty()) {
            pkg.modules = true;
            add_kernel(&mut pkg.kernels, kver);
            push_unique(&mut pkg.kmods, module);
        }
    }
    Ok(pkg)
}

/// `ixgbe.ko.xz` → `ixgbe.ko`; anything not a kernel module → `None`.
fn kernel_module_file(base: &str) -> Option<String> {
    let stem = ["", ".xz", ".gz", ".zst"].iter().find_map(|ext| base.strip_suffix(ext).filter(|s| s.ends_with(".ko")))?;
    (stem.len() > 3).then(|| stem.to_string())
}

/// `kmod(ixgbe.ko)` and `kmod(ixgbe)` both name `ixgbe.ko`.
fn module_name(m: &str) -> String {
    let m = m.trim();
    kernel_module_file(m).unwrap_or_else(|| format!("{m}.ko"))
}

/// Add a kernel version: `5.14.0-427.el9` and `5.14.0-427.el9.x86_64` are the same kernel, the
/// one with its arch kept.
fn add_kernel(kernels: &mut Vec<String>, kver: &str) {
    let kver = kver.trim().trim_start_matches("0:");
    if kver.is_empty() {
        return;
    }
    for k in kernels.iter_mut() {
        if k == kver || k.starts_with(&format!("{kver}.")) {
            return;
        }
        if kver.starts_with(&format!("{k}.")) {
            *k = kver.to_string();
            return;
        }
    }
    kernels.push(kver.to_string());
}

fn ymd(unix: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).ok()?;
    Some(format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
}

/// The driver of one or more RPMs: architectures, kernels and modules of them all; package,
/// version, vendor and date of the first.
fn rpm_driver(pkgs: &[RpmPackage], dirs: &[String]) -> DriverInfo {
    let mut d = DriverInfo::default();
    for a in dirs {
        push_unique(&mut d.arch, a.clone());
    }
    for p in pkgs {
        if !p.arch.is_empty() && p.arch != "noarch" {
            push_unique(&mut d.arch, p.arch.clone());
        }
        for k in &p.kernels {
            add_kernel(&mut d.kernels, k);
        }
        for m in &p.kmods {
            push_unique(&mut d.kmods, m.clone());
        }
    }
    if let Some(first) = pkgs.iter().find(|p| p.is_driver()).or(pkgs.first()) {
        d.version = Some(first.version.clone()).filter(|v| !v.is_empty());
        d.provider = first.vendor.clone();
        d.date = first.build_date.clone();
    }
    if pkgs.len() == 1 {
        d.package = Some(pkgs[0].nvr());
    }
    d
}

/// A driver update disk: every RPM under `rpms/<arch>/` (repodata left out), its arches from those
/// folders. At most [`MAX_DUD_RPMS`] packages and 128 MiB of headers are read; a package that does
/// not parse is skipped.
pub(crate) fn describe_dud(tree: &crate::iso::Tree<'_>) -> DriverInfo {
    let mut pkgs = Vec::new();
    let mut arches = Vec::new();
    let mut packages = Vec::new();
    let mut budget = MAX_DUD_HEADER_BYTES;
    let dirs = tree.list("rpms").unwrap_or_default();
    'dirs: for (arch, _) in dirs.iter().filter(|(n, r)| r.dir && !n.eq_ignore_ascii_case("repodata")) {
        let files = tree.list(&format!("rpms/{arch}")).unwrap_or_default();
        for (name, rec) in files.iter().filter(|(_, r)| !r.dir) {
            if !name.to_ascii_lowercase().ends_with(".rpm") {
                continue;
            }
            if pkgs.len() >= MAX_DUD_RPMS || budget == 0 {
                break 'dirs;
            }
            let mut reader = std::io::BufReader::new(tree.reader(rec).take(budget));
            let read = read_rpm(&mut reader);
            budget = reader.into_inner().limit();
            if let Ok(pkg) = read {
                push_unique(&mut arches, arch.clone());
                packages.push(format!("{}.{}", pkg.nvr(), pkg.arch));
                pkgs.push(pkg);
            }
        }
    }
    let mut d = rpm_driver(&pkgs, &arches);
    d.packages = packages;
    d
}

// ---- Windows .inf ------------------------------------------------------------------------------

/// An `.inf` read at most (a large vendor INF in UTF-16 is a few MiB).
pub const MAX_INF_BYTES: u64 = 16 << 20;
/// `.inf` files of one zip read at most, and their bytes together.
const MAX_INFS: usize = 512;
const MAX_INF_TOTAL: u64 = 128 << 20;

/// Text of an `.inf`: UTF-16 (LE or BE) with a BOM, UTF-16LE without one (every other byte NUL),
/// UTF-8 with or without a BOM, else ANSI (Windows-1252).
pub fn decode_inf(bytes: &[u8]) -> String {
    let utf16 = |rest: &[u8], le: bool| {
        let units = rest.chunks_exact(2).map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) });
        char::decode_utf16(units).map(|c| c.unwrap_or('\u{fffd}')).collect::<String>()
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, false);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    let sample = &bytes[..bytes.len().min(512) & !1];
    if sample.len() >= 4 && sample.iter().skip(1).step_by(2).all(|b| *b == 0) {
        return utf16(bytes, true);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|b| windows_1252(*b)).collect(),
    }
}

fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•',
        '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}

/// One line of a section: `key = v1, v2, …` or just values. Quotes are removed, `""` inside quotes
/// is a quote; `%strkey%` is not substituted yet.
#[derive(Debug, Clone, Default)]
struct InfLine {
    key: Option<String>,
    values: Vec<String>,
}

/// An `.inf` as sections of lines (names lower-cased; a section given twice is one) and its strings.
#[derive(Debug, Default)]
pub(crate) struct Inf {
    sections: HashMap<String, Vec<InfLine>>,
    strings: HashMap<String, String>,
}

/// Split at `sep` outside double quotes; with `limit` 2, only the first one.
fn split_unquoted(s: &str, sep: char, limit: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted && parts.len() + 1 < limit {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Trim and unquote one token: `"a ""b"" c"` → `a "b" c`.
fn unquote(token: &str) -> String {
    let mut out = String::new();
    let mut chars = token.trim().chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if c == '"' {
            if quoted && chars.peek() == Some(&'"') {
                out.push('"');
                chars.next();
            } else {
                quoted = !quoted;
            }
        } else {
            out.push(c);
        }
    }
    out.trim().to_string()
}

/// Cut a line at its comment (`;` outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

impl Inf {
    pub(crate) fn parse(text: &str) -> Inf {
        let mut inf = Inf::default();
        let mut section: Option<String> = None;
        let mut pending = String::new();
        for raw in text.lines() {
            let line = strip_comment(raw).trim();
            // A backslash at the end of a line continues it on the next.
            if let Some(head) = line.strip_suffix('\\') {
                pending.push_str(head);
                pending.push(' ');
                continue;
            }
            let joined;
            let line = if pending.is_empty() {
                line
            } else {
                pending.push_str(line);
                joined = std::mem::take(&mut pending);
                joined.trim()
            };
            if line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let name = rest.split(']').next().unwrap_or("").trim().to_ascii_lowercase();
                inf.sections.entry(name.clone()).or_default();
                section = Some(name);
                continue;
            }
            let Some(name) = &section else { continue };
            let parts = split_unquoted(line, '=', 2);
            let (key, values) = if parts.len() == 2 { (Some(unquote(parts[0])), parts[1]) } else { (None, parts[0]) };
            let values = split_unquoted(values, ',', usize::MAX).into_iter().map(unquote).collect();
            inf.sections.entry(name.clone()).or_default().push(InfLine { key, values });
        }
        // [Strings] first, then localized [Strings.xxxx] for keys it lacks.
        let mut names: Vec<&String> = inf.sections.keys().filter(|n| *n == "strings" || n.starts_with("strings.")).collect();
        names.sort_by_key(|n| (n.as_str() != "strings", n.as_str() != "strings.0409", n.to_string()));
        let mut strings = HashMap::new();
        for name in names {
            for line in &inf.sections[name] {
                // An unquoted string may hold commas: the value is the whole rest of the line.
                if let Some(k) = &line.key {
                    strings.entry(k.to_ascii_lowercase()).or_insert_with(|| line.values.join(","));
                }
            }
        }
        inf.strings = strings;
        inf
    }

    fn section(&self, name: &str) -> &[InfLine] {
        self.sections.get(&name.to_ascii_lowercase()).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Replace `%strkey%` with its string; `%%` is a percent sign; unknown keys (and directory ids
    /// such as `%13%`) stay as written.
    fn subst(&self, s: &str) -> String {
        if !s.contains('%') {
            return s.to_string();
        }
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find('%') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            match after.find('%') {
                Some(0) => {
                    out.push('%');
                    rest = &after[1..];
                }
                Some(end) => {
                    let key = &after[..end];
                    match self.strings.get(&key.to_ascii_lowercase()) {
                        Some(v) => out.push_str(v),
                        None => {
                            out.push('%');
                            out.push_str(key);
                            out.push('%');
                        }
                    }
                    rest = &after[end + 1..];
                }
                None => {
                    out.push('%');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// `key`'s first value in `[section]`, substituted.
    fn value(&self, section: &str, key: &str) -> Option<String> {
        self.values(section, key).and_then(|v| v.into_iter().next()).filter(|v| !v.is_empty())
    }

    fn values(&self, section: &str, key: &str) -> Option<Vec<String>> {
        self.section(section)
            .iter()
            .find(|l| l.key.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(key)))
            .map(|l| l.values.iter().map(|v| self.subst(v)).collect())
    }
}

/// What one `.inf` says.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct InfInfo {
    pub class: Option<String>,
    pub class_guid: Option<String>,
    pub provider: Option<String>,
    pub version: Option<String>,
    pub date: Option<String>,
    /// Catalog files named (CatalogFile, CatalogFile.NTamd64, …), each once.
    pub catalogs: Vec<String>,
    pub arch: Vec<String>,
    pub os_versions: Vec<String>,
    pub targets: Vec<WindowsTarget>,
    pub hardware_ids: Vec<String>,
    /// Files `[SourceDisksFiles*]` names, as paths relative to the `.inf`'s folder.
    pub source_files: Vec<String>,
}

/// `NTamd64.10.0...17763` → (`amd64`, Some(`10.0.17763`)); no architecture means x86 (64-bit
/// Windows requires the decoration); `None` for what is not an NT decoration.
fn decoration(d: &str) -> Option<(String, Option<String>)> {
    let lower = d.trim().to_ascii_lowercase();
    let rest = lower.strip_prefix("nt")?;
    let mut parts = rest.split('.');
    let arch = match parts.next().unwrap_or("") {
        "" | "x86" => "x86",
        "amd64" => "amd64",
        "arm64" => "arm64",
        "ia64" => "ia64",
        "arm" => "arm",
        _ => return None,
    };
    let fields: Vec<&str> = parts.collect();
    let num = |i: usize| fields.get(i).map(|s| s.trim()).filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    let version = num(0).map(|major| {
        let mut v = major.to_string();
        if let Some(minor) = num(1) {
            v = format!("{v}.{minor}");
        }
        if let Some(build) = num(4) {
            if num(1).is_none() {
                v.push_str(".0");
            }
            v = format!("{v}.{build}");
        }
        v
    });
    Some((arch.to_string(), version))
}

/// The ProductType field of a decoration (`NTamd64.10.0.3` → 3; hex `0x3` too), if given.
fn product_type(d: &str) -> Option<u32> {
    let field = d.trim().split('.').nth(3)?.trim().to_ascii_lowercase();
    match field.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => field.parse().ok(),
    }
    .filter(|t| *t > 0)
}

fn push_target(list: &mut Vec<WindowsTarget>, t: WindowsTarget) {
    if !list.contains(&t) {
        list.push(t);
    }
}

/// `03/14/2024` → `2024-03-14` (as written when it is not a date).
fn inf_date(d: &str) -> String {
    let parts: Vec<&str> = d.trim().split(['/', '-']).collect();
    if let [m, day, y] = parts.as_slice() {
        if let (Ok(m), Ok(day), Ok(y)) = (m.parse::<u32>(), day.parse::<u32>(), y.parse::<u32>()) {
            if (1..=12).contains(&m) && (1..=31).contains(&day) && (1000..=9999).contains(&y) {
                return format!("{y:04}-{m:02}-{day:02}");
            }
        }
    }
    d.trim().to_string()
}

/// Folders joined and normalised (`\` → `/`, `.` and empty parts dropped, `..` going up).
fn join_path(parts: &[&str]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in parts {
        for p in part.split(['/', '\\']) {
            match p.trim() {
                "" | "." => {}
                ".." => {
                    out.pop();
                }
                p => out.push(p),
            }
        }
    }
    out.join("/")
}

/// Describe one `.inf`'s text.
pub(crate) fn describe_inf(text: &str) -> InfInfo {
    let inf = Inf::parse(text);
    let mut info = InfInfo {
        class: inf.value("Version", "Class"),
        class_guid: inf.value("Version", "ClassGuid"),
        provider: inf.value("Version", "Provider"),
        ..Default::default()
    };
    if let Some(v) = inf.values("Version", "DriverVer") {
        info.date = v.first().map(|d| inf_date(d)).filter(|d| !d.is_empty());
        info.version = v.get(1).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    }
    for line in inf.section("Version") {
        if let Some(k) = &line.key {
            let k = k.to_ascii_lowercase();
            if k == "catalogfile" || k.starts_with("catalogfile.") {
                if let Some(v) = line.values.first().map(|v| inf.subst(v)).filter(|v| !v.is_empty()) {
                    push_unique(&mut info.catalogs, v);
                }
            }
        }
    }
    // [Manufacturer]: `%Mfg% = Models, NTamd64, NTamd64.10.0...17763`; Windows reads the models
    // section `Models.<decoration>` for each decoration, `Models` when there is none.
    let mut model_sections = Vec::new();
    for line in inf.section("Manufacturer") {
        let Some(models) = line.values.first().map(|m| inf.subst(m)).filter(|m| !m.is_empty()) else { continue };
        let decorations: Vec<&String> = line.values.iter().skip(1).filter(|d| !d.trim().is_empty()).collect();
        if decorations.is_empty() {
            push_unique(&mut info.arch, "x86");
            push_target(&mut info.targets, WindowsTarget { arch: "x86".into(), ..Default::default() });
            model_sections.push(models.clone());
        }
        for d in decorations {
            let d = inf.subst(d);
            if let Some((arch, version)) = decoration(&d) {
                push_unique(&mut info.arch, arch.clone());
                push_target(&mut info.targets, WindowsTarget { arch, version: version.clone(), product_type: product_type(&d) });
                if let Some(v) = version {
                    push_unique(&mut info.os_versions, v);
                }
            }
            model_sections.push(format!("{models}.{}", d.trim()));
        }
    }
    // Model lines: `description = install-section, hardware-id[, compatible-id…]`.
    let mut seen = HashSet::new();
    for section in &model_sections {
        for line in inf.section(section) {
            if line.key.is_none() {
                continue;
            }
            for id in line.values.iter().skip(1) {
                let id = inf.subst(id).trim().to_ascii_uppercase();
                if !id.is_empty() && seen.insert(id.clone()) {
                    info.hardware_ids.push(id);
                }
            }
        }
    }
    // [SourceDisksFiles(.arch)]: `file = diskid[, subdir[, size]]`, the disk's folder from
    // [SourceDisksNames(.arch)]: `diskid = description[, tag, unused, path …]`.
    let mut names: Vec<&String> = inf.sections.keys().filter(|n| *n == "sourcedisksfiles" || n.starts_with("sourcedisksfiles.")).collect();
    names.sort();
    for section in names {
        let platform = section.strip_prefix("sourcedisksfiles").unwrap_or("");
        for line in &inf.sections[section] {
            let Some(file) = line.key.as_deref().map(|k| inf.subst(k)).filter(|k| !k.is_empty()) else { continue };
            let disk = line.values.first().map(|d| inf.subst(d)).unwrap_or_default();
            let subdir = line.values.get(1).map(|s| inf.subst(s)).unwrap_or_default();
            let disk_path = [format!("sourcedisksnames{platform}"), "sourcedisksnames".to_string()]
                .iter()
                .find_map(|names| {
                    inf.sections
                        .get(names)?
                        .iter()
                        .find(|l| l.key.as_deref().is_some_and(|k| k.trim() == disk.trim()))
                        .map(|l| l.values.get(3).map(|p| inf.subst(p)).unwrap_or_default())
                })
                .unwrap_or_default();
            push_unique(&mut info.source_files, join_path(&[&disk_path, &subdir, &file]));
        }
    }
    info
}

/// Describe every `.inf` of a driver zip (name order), with what the zip lacks of what they name.
pub(crate) fn describe_zip<R: Read + std::io::Seek>(zip: &mut zip::ZipArchive<R>) -> DriverInfo {
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    let members: HashSet<String> = names.iter().map(|n| join_path(&[n]).to_ascii_lowercase()).collect();
    let mut infs: Vec<String> = names.iter().filter(|n| n.to_ascii_lowercase().ends_with(".inf")).cloned().collect();
    infs.sort();
    let mut d = DriverInfo { infs: infs.iter().map(|n| join_path(&[n])).collect(), catalog_present: true, ..Default::default() };
    let mut budget = MAX_INF_TOTAL;
    let mut named_catalog = false;
    for name in infs.iter().take(MAX_INFS) {
        let Ok(entry) = zip.by_name(name) else { continue };
        if entry.size() > MAX_INF_BYTES || entry.size() > budget {
            continue;
        }
        let mut bytes = Vec::new();
        if entry.take(MAX_INF_BYTES.min(budget) + 1).read_to_end(&mut bytes).is_err() || bytes.len() as u64 > MAX_INF_BYTES.min(budget) {
            continue;
        }
        budget -= bytes.len() as u64;
        let info = describe_inf(&decode_inf(&bytes));
        let folder = join_path(&[name]).rsplit_once('/').map(|(f, _)| f.to_string()).unwrap_or_default();
        for (field, value) in [
            (&mut d.class, info.class),
            (&mut d.class_guid, info.class_guid),
            (&mut d.provider, info.provider),
            (&mut d.version, info.version),
            (&mut d.date, info.date),
        ] {
            if field.is_none() {
                *field = value;
            }
        }
        for c in &info.catalogs {
            named_catalog = true;
            d.catalog.get_or_insert_with(|| c.clone());
            let path = join_path(&[&folder, c]);
            if !members.contains(&path.to_ascii_lowercase()) {
                d.catalog_present = false;
                push_unique(&mut d.missing_files, path);
            }
        }
        for f in &info.source_files {
            let path = join_path(&[&folder, f]);
            if !members.contains(&path.to_ascii_lowercase()) {
                push_unique(&mut d.missing_files, path);
            }
        }
        for a in info.arch {
            push_unique(&mut d.arch, a);
        }
        for v in info.os_versions {
            push_unique(&mut d.os_versions, v);
        }
        for t in info.targets {
            push_target(&mut d.targets, t);
        }
        for id in info.hardware_ids {
            push_unique(&mut d.hardware_ids, id);
        }
    }
    d.catalog_present &= named_catalog;
    d
}

// ---- hardware-ID search -------------------------------------------------------------------------

/// Which drivers to list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DriverQuery {
    /// Only drivers for this hardware ID: case-insensitive; `PCI\VEN_8086&DEV_1572` finds
    /// drivers listing it or a more specific ID (`…&SUBSYS_00008086`), and a full device ID
    /// (`…&DEV_1572&SUBSYS_00008086&REV_01`) finds drivers listing a less specific one.
    pub hwid: Option<String>,
    /// Only drivers that belong to this OS image (id, name or alias).
    pub os_image: Option<String>,
}

/// One driver of the library with its description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DriverEntry {
    pub id: i64,
    pub name: String,
    pub os: Option<OsFamily>,
    pub distro: Option<String>,
    /// The OS image it belongs to.
    pub image: Option<ArtifactRef>,
    /// `None` for a driver imported before drivers were described.
    pub driver: Option<DriverInfo>,
    /// With a hardware ID asked for: the IDs of the driver that matched it.
    pub matched_ids: Vec<String>,
}

/// Does the driver's `id` answer the `query` (both any case)? The query is a prefix of the ID, or
/// the ID is a less specific form of the query (it ends where the query goes on with `&` or `\`).
pub fn hwid_matches(query: &str, id: &str) -> bool {
    let q = query.trim().to_ascii_uppercase();
    let id = id.trim().to_ascii_uppercase();
    if q.is_empty() || id.is_empty() {
        return false;
    }
    id.starts_with(&q) || (q.starts_with(&id) && matches!(q.as_bytes().get(id.len()), Some(b'&' | b'\\')))
}

impl Engine {
    /// The library's drivers (deleted ones left out), by name; with a hardware ID only those that
    /// support it, with an OS image only those that belong to it.
    pub fn drivers(&self, q: &DriverQuery) -> Result<Vec<DriverEntry>> {
        let hwid = q.hwid.as_deref().map(str::trim);
        if hwid == Some("") {
            return Err(Error::invalid_argument("The hardware ID to search for is empty.", "Give an ID such as PCI\\VEN_8086&DEV_1572."));
        }
        let conn = self.db();
        let image = match q.os_image.as_deref() {
            Some(key) => Some(catalog::find_os_image(&conn, key)?),
            None => None,
        };
        let list = catalog::list(&conn, &ArtifactQuery { kind: Some(Kind::Driver), ..Default::default() })?;
        let mut out = Vec::new();
        for a in list {
            if let Some(image) = &image {
                if a.image.as_ref().map(|i| i.id) != Some(image.id) {
                    continue;
                }
            }
            let matched_ids: Vec<String> = match (hwid, &a.driver) {
                (Some(h), Some(d)) => d.hardware_ids.iter().filter(|id| hwid_matches(h, id)).cloned().collect(),
                _ => Vec::new(),
            };
            if hwid.is_some() && matched_ids.is_empty() {
                continue;
            }
            out.push(DriverEntry { id: a.id, name: a.name, os: a.os, distro: a.distro, image: a.image, driver: a.driver, matched_ids });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INF: &str = r#"; a comment
[Version]
Signature   = "$Windows NT$"
Class       = Net
ClassGuid   = {4d36e972-e325-11ce-bfc1-08002be10318}
Provider    = %Intel%   ; who
CatalogFile.NTamd64 = i40ea68.cat
DriverVer   = 07/21/2023,1.16.202.10

[Manufacturer]
%Intel% = Intel, NTamd64.10.0...17763, NTamd64.10.0.1, NTarm64, \
          NTx86.6.3

[Intel.NTamd64.10.0...17763]
%E1572NS4.DeviceDesc% = E1572NS4.ndi, PCI\VEN_8086&DEV_1572&SUBSYS_00018086
%E1572.DeviceDesc%    = E1572.ndi, pci\ven_8086&dev_1572 ; lower case

[Intel.NTamd64.10.0.1]
%E1583.DeviceDesc% = E1583.ndi, PCI\VEN_8086&DEV_1583, PCI\VEN_8086&DEV_1572

[Intel.NTarm64]
"Quoted ""name""" = X.ndi, "USB\VID_0BDA&PID_8153"

[SourceDisksNames]
1 = %DiskName%,,,""
2 = %DiskName%,,,\x64

[SourceDisksFiles.amd64]
i40ea68.sys = 2
i40eaCo.dll = 1,tools

[Strings]
Intel = "Intel ; Corporation"
DiskName = "Intel Disk"
[Strings.0407]
Intel = "Intel GmbH"
"#;

    #[test]
    fn an_inf_gives_class_provider_version_arches_os_versions_ids_and_files() {
        let i = describe_inf(INF);
        assert_eq!(i.class.as_deref(), Some("Net"));
        assert_eq!(i.class_guid.as_deref(), Some("{4d36e972-e325-11ce-bfc1-08002be10318}"));
        assert_eq!(i.provider.as_deref(), Some("Intel ; Corporation"), "[Strings] wins, a ; in quotes is no comment");
        assert_eq!(i.version.as_deref(), Some("1.16.202.10"));
        assert_eq!(i.date.as_deref(), Some("2023-07-21"));
        assert_eq!(i.catalogs, ["i40ea68.cat"]);
        assert_eq!(i.arch, ["amd64", "arm64", "x86"]);
        assert_eq!(i.os_versions, ["10.0.17763", "10.0", "6.3"]);
        let t = |arch: &str, version: Option<&str>, product_type: Option<u32>| WindowsTarget {
            arch: arch.into(),
            version: version.map(str::to_string),
            product_type,
        };
        assert_eq!(
            i.targets,
            [t("amd64", Some("10.0.17763"), None), t("amd64", Some("10.0"), Some(1)), t("arm64", None, None), t("x86", Some("6.3"), None)],
            "each decoration whole: NTamd64.10.0.1 is for workstations"
        );
        assert_eq!(
            i.hardware_ids,
            ["PCI\\VEN_8086&DEV_1572&SUBSYS_00018086", "PCI\\VEN_8086&DEV_1572", "PCI\\VEN_8086&DEV_1583", "USB\\VID_0BDA&PID_8153"]
        );
        assert_eq!(i.source_files, ["x64/i40ea68.sys", "tools/i40eaCo.dll"]);
    }

    #[test]
    fn inf_text_is_read_in_every_encoding_windows_writes() {
        let text = "[Version]\r\nProvider = Caf\u{e9}\r\n";
        let utf16le: Vec<u8> = [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(|u| u.to_le_bytes())).collect();
        let utf16be: Vec<u8> = [0xFE, 0xFF].into_iter().chain(text.encode_utf16().flat_map(|u| u.to_be_bytes())).collect();
        let no_bom: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let utf8_bom: Vec<u8> = [0xEF, 0xBB, 0xBF].into_iter().chain(text.bytes()).collect();
        let ansi: Vec<u8> = text.chars().map(|c| c as u8).collect();
        for bytes in [utf16le, utf16be, no_bom, utf8_bom, text.as_bytes().to_vec(), ansi] {
            assert_eq!(describe_inf(&decode_inf(&bytes)).provider.as_deref(), Some("Caf\u{e9}"), "{bytes:02x?}");
        }
        assert_eq!(decode_inf(b"\x93quoted\x94 \x80"), "\u{201c}quoted\u{201d} \u{20ac}", "Windows-1252, not Latin-1");
    }

    #[test]
    fn decorations_give_windows_architectures_and_versions() {
        for (d, arch, version) in [
            ("NTamd64", "amd64", None),
            ("ntamd64.10.0...17763", "amd64", Some("10.0.17763")),
            ("NTamd64.10.0.3", "amd64", Some("10.0")),
            ("NTarm64.10.0...22000", "arm64", Some("10.0.22000")),
            ("NTx86.6.1", "x86", Some("6.1")),
            ("NT.5.1", "x86", Some("5.1")),
            ("NTia64", "ia64", None),
        ] {
            assert_eq!(decoration(d), Some((arch.to_string(), version.map(str::to_string))), "{d}");
        }
        assert_eq!(decoration("Win7"), None);
        assert_eq!(decoration("NTmips"), None);
    }

    #[test]
    fn hardware_ids_match_by_prefix_either_way_at_id_boundaries() {
        let id = "PCI\\VEN_8086&DEV_1572&SUBSYS_00018086";
        assert!(hwid_matches("pci\\ven_8086&dev_1572", id));
        assert!(hwid_matches("PCI\\VEN_8086", id));
        assert!(hwid_matches("PCI\\VEN_8086&DEV_1572&SUBSYS_00018086&REV_01", id), "a full device ID finds the less specific one");
        assert!(hwid_matches("PCI\\VEN_8086&DEV_1572&SUBSYS_00018086&REV_01", "PCI\\VEN_8086&DEV_1572"));
        assert!(!hwid_matches("PCI\\VEN_8086&DEV_15721", "PCI\\VEN_8086&DEV_1572"), "only at a boundary");
        assert!(!hwid_matches("PCI\\VEN_8086&DEV_1583", id));
        assert!(!hwid_matches("  ", id));
    }

    #[test]
    fn kernels_with_and_without_their_arch_are_one() {
        let mut k = Vec::new();
        add_kernel(&mut k, "5.14.0-427.el9");
        add_kernel(&mut k, "5.14.0-427.el9.x86_64");
        add_kernel(&mut k, "5.14.0-427.el9");
        add_kernel(&mut k, "0:5.14.0-503.el9");
        assert_eq!(k, ["5.14.0-427.el9.x86_64", "5.14.0-503.el9"]);
        assert_eq!(kernel_module_file("ixgbe.ko.xz").as_deref(), Some("ixgbe.ko"));
        assert_eq!(kernel_module_file("ixgbe.ko").as_deref(), Some("ixgbe.ko"));
        assert_eq!(kernel_module_file("modules.dep"), None);
        assert_eq!(module_name("ixgbe"), "ixgbe.ko");
    }

    fn header(entries: &[(u32, u32, u32, u32)], data: u32) -> Vec<u8> {
        let mut h = vec![0x8E, 0xAD, 0xE8, 0x01, 0, 0, 0, 0];
        h.extend((entries.len() as u32).to_be_bytes());
        h.extend(data.to_be_bytes());
        for (tag, kind, offset, count) in entries {
            for n in [tag, kind, offset, count] {
                h.extend(n.to_be_bytes());
            }
        }
        h
    }

    #[test]
    fn hostile_rpm_header_sizes_are_refused_before_anything_is_allocated_from_them() {
        let mut lead = vec![0xED, 0xAB, 0xEE, 0xDB];
        lead.resize(RPM_LEAD, 0);
        let cases: [(Vec<u8>, &str); 5] = [
            (header(&[(1000, 6, 0, 1)], u32::MAX), "larger than 32 MiB"),
            (header(&[], 0), "0 index entries"),
            (
                {
                    let mut h = header(&[(1000, 6, 0, 1)], 8);
                    h[8..12].copy_from_slice(&0x10000u32.to_be_bytes());
                    h
                },
                "65536 index entries",
            ),
            ([header(&[(1000, 4, 0, 0x4000_0000)], 8), vec![0; 8]].concat(), "do not fit"),
            ([header(&[(1000, 6, 9, 1)], 8), vec![0; 8]].concat(), "past the end"),
        ];
        for (sig, want) in cases {
            let bytes = [lead.clone(), sig].concat();
            let err = read_rpm(&mut bytes.as_slice()).unwrap_err();
            assert!(err.contains(want), "{err} (wanted {want})");
        }
        let err = read_rpm(&mut &b"\xed\xab\xee\xdb short"[..]).unwrap_err();
        assert!(err.contains("lead"), "{err}");
    }

    #[test]
    fn a_real_kmod_header_with_any_field_at_an_extreme_gives_an_answer_not_a_panic() {
        let rpm = include_bytes!("../../../fuzz/corpus/detect/kmod-ixgbe.rpm");
        let pkg = read_rpm(&mut &rpm[..]).unwrap();
        assert_eq!((pkg.nvr().as_str(), pkg.arch.as_str()), ("kmod-ixgbe-5.19.6-1.el9_4", "x86_64"));
        assert_eq!(
            (pkg.kernels.as_slice(), pkg.kmods.as_slice()),
            (&["5.14.0-427.el9.x86_64".to_string()][..], &["ixgbe.ko".to_string()][..])
        );
        let region = read_header_region(&mut &rpm[..]).unwrap().len();
        for at in 0..region - 4 {
            for extreme in [[0xff; 4], [0x7f, 0xff, 0xff, 0xff], [0; 4], [0, 0, 0, 1]] {
                let mut bytes = rpm.to_vec();
                bytes[at..at + 4].copy_from_slice(&extreme);
                let _ = read_rpm(&mut bytes.as_slice());
            }
        }
    }
}
