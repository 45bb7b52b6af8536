//! What a file is: its format from extension plus content (magic numbers, listings, parsing).

use crate::archive;
use crate::driver_info;
use crate::error::{code, Error, Result};
use crate::iso;
use crate::model::OsFamily;
use serde_json::{json, Map, Value};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The file formats the support matrix talks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Iso,
    /// Windows PE boot media: an ISO whose only Windows image is a Windows PE boot.wim.
    WinPeIso,
    DriverDisk,
    Rpm,
    Zip,
    ZipDrivers,
    ZipWinPe,
    TarGz,
    ProfileTarGz,
    Asc,
    Json,
    Kickstart,
    AutoYast,
    Unattend,
    Shell,
    Perl,
    Python,
    Cmd,
    PowerShell,
    Qcow2,
    Vmdk,
    Vhdx,
    Raw,
    Xml,
    Text,
    Binary,
}

impl Format {
    /// How users call it, for "allowed" lists and messages.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Iso => ".iso image",
            Format::WinPeIso => ".iso of Windows PE boot media",
            Format::DriverDisk => ".iso driver update disk (OEMDRV)",
            Format::Rpm => ".rpm package",
            Format::Zip => ".zip archive",
            Format::ZipDrivers => ".zip of .inf drivers",
            Format::ZipWinPe => ".zip of WinPE boot files",
            Format::TarGz => ".tar.gz archive",
            Format::ProfileTarGz => ".tar.gz exported profile",
            Format::Asc => ".asc signature",
            Format::Json => "JSON file",
            Format::Kickstart => "kickstart file",
            Format::AutoYast => "AutoYaST .xml profile",
            Format::Unattend => "unattend .xml answer file",
            Format::Shell => ".sh script",
            Format::Perl => ".pl/.pm script",
            Format::Python => ".py script",
            Format::Cmd => ".cmd script",
            Format::PowerShell => ".ps1 script",
            Format::Qcow2 => "qcow2 disk image",
            Format::Vmdk => "VMDK disk image",
            Format::Vhdx => "VHDX disk image",
            Format::Raw => "raw disk image",
            Format::Xml => "XML file that is neither AutoYaST nor unattend",
            Format::Text => "plain text file",
            Format::Binary => "file of unknown format",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Iso => "iso",
            Format::WinPeIso => "winpe_iso",
            Format::DriverDisk => "driver_update_disk",
            Format::Rpm => "rpm",
            Format::Zip => "zip",
            Format::ZipDrivers => "zip_drivers",
            Format::ZipWinPe => "zip_winpe",
            Format::TarGz => "tar_gz",
            Format::ProfileTarGz => "profile_tar_gz",
            Format::Asc => "asc",
            Format::Json => "json",
            Format::Kickstart => "kickstart",
            Format::AutoYast => "autoyast",
            Format::Unattend => "unattend",
            Format::Shell => "shell",
            Format::Perl => "perl",
            Format::Python => "python",
            Format::Cmd => "cmd",
            Format::PowerShell => "powershell",
            Format::Qcow2 => "qcow2",
            Format::Vmdk => "vmdk",
            Format::Vhdx => "vhdx",
            Format::Raw => "raw",
            Format::Xml => "xml",
            Format::Text => "text",
            Format::Binary => "binary",
        }
    }
}

/// What detection found about one file.
#[derive(Debug, Clone)]
pub struct Detection {
    pub format: Format,
    /// OS family the content itself tells (an installer ISO's OS, an unattend.xml is Windows…).
    pub os: Option<OsFamily>,
    pub distro: Option<String>,
    /// Facts for the details pane: volume id, product, version, arch, driver class, …
    pub facts: Map<String, Value>,
}

const HEAD: usize = 64 * 1024;
/// Listing an archive stops after this many entries / decompressed bytes (bombs stay cheap).
const MAX_LIST_ENTRIES: usize = 20_000;
const MAX_LIST_BYTES: u64 = 256 << 20;

fn invalid(path: &Path, what: &str, why: impl std::fmt::Display) -> Error {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Error::new(
        code::INVALID_CONTENT,
        format!("{name} is not a valid {what}: {why}."),
        "The file's name or content says it is this format, but its content does not follow it. It may be truncated by an interrupted download, damaged, or mislabelled.",
        "Download the file again from its source and compare its checksum, or choose the right file.",
    )
}

fn ext_of(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if name.ends_with(".tar.gz") {
        return "tar.gz".into();
    }
    name.rsplit_once('.').map(|(_, e)| e.to_string()).unwrap_or_default()
}

fn not_a_file(path: &Path, file_type: std::fs::FileType) -> Error {
    use std::os::unix::fs::FileTypeExt;
    let (what, recovery) = if file_type.is_dir() {
        ("a folder", "Choose the files inside the folder instead.")
    } else if file_type.is_fifo() {
        ("a named pipe", "Save what the pipe carries to a file first, then import that file.")
    } else if file_type.is_socket() {
        ("a socket", "Choose the file itself, not a socket.")
    } else {
        ("a device", "Copy the data into a regular file first (for a disk, an image made with dd or qemu-img), then import that file.")
    };
    Error::new(
        code::NOT_A_FILE,
        format!("{} is {what}, not a regular file.", path.display()),
        "Only regular files can be imported or read: folders, devices, sockets and named pipes cannot (a pipe or a device such as /dev/zero never ends, and opening a pipe waits for a writer).",
        recovery,
    )
}

/// Open a file for reading only when it is a regular file. Folders, devices, sockets and named
/// pipes are refused from their metadata before anything opens them (opening a pipe waits for a
/// writer); the open itself cannot block (O_NONBLOCK) should the path be swapped in between, and
/// what was opened is checked again.
pub fn open_regular(path: &Path) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, &e, false))?;
    if !meta.is_file() {
        return Err(not_a_file(path, meta.file_type()));
    }
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(|e| Error::io(path, &e, false))?;
    let meta = file.metadata().map_err(|e| Error::io(path, &e, false))?;
    if !meta.is_file() {
        return Err(not_a_file(path, meta.file_type()));
    }
    // Reads of a regular file ignore O_NONBLOCK; clear it all the same for whoever reads on.
    // SAFETY: fcntl on a descriptor this function owns, with flags it just read.
    unsafe {
        let fd = file.as_raw_fd();
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
    Ok(file)
}

/// Detect a file's format (and the OS its content names) from its extension and content.
pub fn detect(path: &Path) -> Result<Detection> {
    let mut file = open_regular(path)?;
    let meta = file.metadata().map_err(|e| Error::io(path, &e, false))?;
    let mut head = Vec::with_capacity(HEAD);
    (&mut file).take(HEAD as u64).read_to_end(&mut head).map_err(|e| Error::io(path, &e, false))?;
    let ext = ext_of(path);
    let mut d = Detection { format: Format::Binary, os: None, distro: None, facts: Map::new() };

    if let Some(format) = disk_image_magic(&head) {
        d.format = format;
        d.facts.extend(disk_image_info(path, format)?);
        return Ok(d);
    }
    if iso::has_cd001(&head) || ext == "iso" {
        return detect_iso(path, &mut file, meta.len(), d);
    }
    if head.starts_with(&[0xED, 0xAB, 0xEE, 0xDB]) {
        d.format = Format::Rpm;
        d.os = Some(OsFamily::Linux);
        file.seek(SeekFrom::Start(0)).map_err(|e| Error::io(path, &e, false))?;
        let pkg = driver_info::read_rpm(&mut std::io::BufReader::new(&mut file)).map_err(|e| invalid(path, "RPM package", e))?;
        d.facts.extend(driver_info::rpm_facts(&pkg));
        return Ok(d);
    }
    if ext == "rpm" {
        return Err(invalid(path, "RPM package", "it does not start with the RPM lead magic (ED AB EE DB)"));
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") || ext == "zip" {
        return detect_zip(path, file, d);
    }
    if head.starts_with(&[0x1F, 0x8B]) || ext == "tar.gz" || ext == "tgz" {
        return detect_tar_gz(path, file, d);
    }
    let text = match std::str::from_utf8(&head) {
        Ok(t) => Some(t),
        // The head may end inside a multi-byte character.
        Err(e) if e.valid_up_to() + 4 >= head.len() && head.len() == HEAD => std::str::from_utf8(&head[..e.valid_up_to()]).ok(),
        Err(_) => None,
    };
    let Some(text) = text.map(|t| t.strip_prefix('\u{feff}').unwrap_or(t)) else {
        return Ok(d);
    };
    let trimmed = text.trim_start();
    if trimmed.starts_with("-----BEGIN PGP SIGNATURE-----") || ext == "asc" {
        if !trimmed.starts_with("-----BEGIN PGP") {
            return Err(invalid(path, "ASCII-armoured signature", "it does not start with -----BEGIN PGP SIGNATURE-----"));
        }
        d.format = Format::Asc;
        d.os = Some(OsFamily::Windows);
        return Ok(d);
    }
    if ext == "json" || trimmed.starts_with('{') || (trimmed.starts_with('[') && ext != "ks" && ext != "cfg") {
        let full = read_text(path, &mut file, meta.len())?;
        match serde_json::from_str::<Value>(&full) {
            Ok(v) => {
                d.format = Format::Json;
                if let Some(obj) = v.as_object() {
                    d.facts.insert("keys".into(), json!(obj.keys().take(20).collect::<Vec<_>>()));
                }
                return Ok(d);
            }
            Err(e) if ext == "json" => return Err(invalid(path, "JSON file", e)),
            Err(_) => {}
        }
    }
    if ext == "xml" || trimmed.starts_with("<?xml") || trimmed.starts_with('<') {
        let full = read_text(path, &mut file, meta.len())?;
        return detect_xml(path, &full, d);
    }
    if let Some(script) = script_format(&ext, trimmed) {
        d.format = script;
        d.os = Some(match script {
            Format::Cmd | Format::PowerShell => OsFamily::Windows,
            _ => OsFamily::Linux,
        });
        if let Some(line) = trimmed.lines().next().filter(|l| l.starts_with("#!")) {
            d.facts.insert("interpreter".into(), json!(line.trim_start_matches("#!").trim()));
        }
        return Ok(d);
    }
    if looks_like_kickstart(&ext, text) {
        d.format = Format::Kickstart;
        d.os = Some(OsFamily::Linux);
        return Ok(d);
    }
    d.format = Format::Text;
    Ok(d)
}

fn read_text(path: &Path, file: &mut File, len: u64) -> Result<String> {
    const MAX_TEXT: u64 = 16 << 20;
    if len > MAX_TEXT {
        return Err(invalid(path, "text file", format!("it is {len} bytes; answer files and configs are at most 16 MiB")));
    }
    file.seek(SeekFrom::Start(0)).map_err(|e| Error::io(path, &e, false))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| Error::io(path, &e, false))?;
    let text = decode_text(&bytes).ok_or_else(|| invalid(path, "text file", "it is not UTF-8 or UTF-16 text"))?;
    Ok(text)
}

/// UTF-8 (with or without BOM) or UTF-16 with BOM, as Windows tools write .inf and .xml files.
pub fn decode_text(bytes: &[u8]) -> Option<String> {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        return String::from_utf16(&units).ok();
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        return String::from_utf16(&units).ok();
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    String::from_utf8(bytes.to_vec()).ok()
}

fn detect_iso(path: &Path, file: &mut File, len: u64, mut d: Detection) -> Result<Detection> {
    let info = iso::read_volume_info(file)
        .ok_or_else(|| invalid(path, "ISO 9660 image", "it has no primary volume descriptor (CD001) at sector 16"))?;
    if info.volume_bytes > len {
        return Err(invalid(
            path,
            "ISO 9660 image",
            format!("it is truncated: the volume is {} bytes but the file has {len}", info.volume_bytes),
        ));
    }
    d.facts.insert("volume_id".into(), json!(info.volume_id));
    for (k, v) in [("system_id", &info.system_id), ("publisher", &info.publisher), ("application", &info.application)] {
        if !v.is_empty() {
            d.facts.insert(k.into(), json!(v));
        }
    }
    d.facts.insert("bootable".into(), json!(info.el_torito));
    d.facts.insert("joliet".into(), json!(info.joliet));
    if let Some(dud) = iso::driver_update_disk(file, &info) {
        d.format = Format::DriverDisk;
        d.os = Some(OsFamily::Linux);
        d.facts.extend(dud);
        return Ok(d);
    }
    d.format = Format::Iso;
    let guess = iso::guess_os(file, &info);
    d.os = guess.family;
    d.distro = guess.distro;
    d.facts.extend(guess.facts);
    // Windows media: the install image's editions (through UDF, where Windows media keep
    // sources/), or Windows PE's boot.wim alone.
    let windows = crate::windows::windows_media(file);
    // The exact OS (files inside first, then libosinfo) decides the family and distro it names.
    let id = iso::identify(file, &info, windows.as_ref());
    if let Some((family, distro)) = id.family_and_distro() {
        let same = d.os == Some(family);
        d.os = Some(family);
        d.distro = distro.or_else(|| d.distro.take().filter(|_| same));
    }
    let mut facts = id.facts();
    // (Only when the Windows image named the OS: no other file inside did first.)
    if let Some(media) = windows.as_ref().filter(|m| id.source.as_deref() == Some(m.wim_path.as_str())) {
        d.os = Some(OsFamily::Windows);
        d.distro = None;
        d.facts.insert("detected_by".into(), json!(media.wim_path));
        d.facts.insert("file_system".into(), json!(media.file_system));
        if media.windows_pe {
            // Boot media, not an installer: kind boot by default, like a WinPE zip.
            d.format = Format::WinPeIso;
        } else {
            facts.insert("editions".into(), json!(media.editions));
        }
    } else if d.os.is_some() {
        // Known as an installer by its volume id or its install.wim, without an exact release.
        facts.insert("installer".into(), json!(true));
    }
    d.facts.extend(facts);
    Ok(d)
}

fn detect_zip(path: &Path, file: File, mut d: Detection) -> Result<Detection> {
    let mut zip = zip::ZipArchive::new(file).map_err(|e| invalid(path, "zip archive", e))?;
    let names: Vec<String> = zip.file_names().map(|n| n.to_string()).collect();
    let lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    d.facts.insert("entries".into(), json!(names.len()));
    let has = |p: &str| lower.iter().any(|n| n == p || n.ends_with(&format!("/{p}")));
    if lower.iter().any(|n| n.ends_with(".inf")) {
        d.format = Format::ZipDrivers;
        d.os = Some(OsFamily::Windows);
        d.facts.insert("driver".into(), json!(driver_info::describe_zip(&mut zip)));
    } else if has("sources/boot.wim") || has("bootmgr") || has("boot/bcd") {
        d.format = Format::ZipWinPe;
        d.os = Some(OsFamily::Windows);
        // What boot.wim's XML says: Windows PE (named as a WinPE ISO is) or not, and its arch.
        match crate::windows::zipped_boot_wim(&mut zip) {
            Some(media) if media.windows_pe => d.facts.extend(crate::osid::from_windows(&media).facts()),
            Some(media) => {
                d.facts.insert("windows_pe".into(), json!(false));
                if let Some(arch) = media.arch {
                    d.facts.insert("arch".into(), json!(arch));
                }
            }
            None => {}
        }
    } else {
        d.format = Format::Zip;
    }
    Ok(d)
}

fn detect_tar_gz(path: &Path, mut file: File, mut d: Detection) -> Result<Detection> {
    file.seek(SeekFrom::Start(0)).map_err(|e| Error::io(path, &e, false))?;
    let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(file));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut profile = false;
    // A listing is enough to classify; stop before a bomb or a huge archive costs anything.
    let limits = archive::Limits { max_entries: MAX_LIST_ENTRIES, refuse_more_entries: false };
    let count = archive::walk(gz, &name, limits, &|e| invalid(path, "tar.gz archive", e), |entry| {
        let name = entry.path().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        if name.trim_start_matches("./") == "profile.json" {
            profile = true;
        }
        let end = entry.raw_file_position().saturating_add(entry.size());
        Ok(if end > MAX_LIST_BYTES { archive::Walk::Stop } else { archive::Walk::Continue })
    })?;
    if count == 0 {
        return Err(invalid(path, "tar.gz archive", "it holds no files"));
    }
    d.facts.insert("entries".into(), json!(count));
    d.format = if profile { Format::ProfileTarGz } else { Format::TarGz };
    Ok(d)
}

/// Deeper nesting than this is refused: answer files nest a dozen levels; libxml2 stops at 256.
pub const MAX_XML_DEPTH: usize = 256;

/// Parse XML with bounds: roxmltree parses nesting without recursion, and the depth of the tree
/// (which whoever walks it recursively pays in stack) is checked before anyone walks it.
pub fn parse_xml(text: &str) -> std::result::Result<roxmltree::Document<'_>, String> {
    let options = roxmltree::ParsingOptions { allow_dtd: true, nodes_limit: 4_000_000, ..Default::default() };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|e| e.to_string())?;
    // Nodes come in document order, a parent before its children: one pass gives every depth.
    let mut depth = vec![0usize; doc.descendants().count()];
    for node in doc.descendants() {
        let d = node.parent().map_or(0, |p| depth[p.id().get_usize()] + usize::from(node.is_element()));
        if d > MAX_XML_DEPTH {
            return Err(format!("its elements are nested more than {MAX_XML_DEPTH} levels deep"));
        }
        depth[node.id().get_usize()] = d;
    }
    Ok(doc)
}

fn detect_xml(path: &Path, text: &str, mut d: Detection) -> Result<Detection> {
    let doc = parse_xml(text).map_err(|e| invalid(path, "XML file", e))?;
    let root = doc.root_element();
    let ns = root.tag_name().namespace().unwrap_or("");
    let name = root.tag_name().name();
    if name == "profile" && ns == "http://www.suse.com/1.0/yast2ns" {
        d.format = Format::AutoYast;
        d.os = Some(OsFamily::Linux);
        d.distro = Some("sles".into());
    } else if name == "unattend" && ns == "urn:schemas-microsoft-com:unattend" {
        d.format = Format::Unattend;
        d.os = Some(OsFamily::Windows);
        let passes: Vec<&str> = root
            .children()
            .filter(|c| c.has_tag_name(("urn:schemas-microsoft-com:unattend", "settings")))
            .filter_map(|c| c.attribute("pass"))
            .collect();
        d.facts.insert("passes".into(), json!(passes));
    } else {
        d.format = Format::Xml;
        d.facts.insert("xml_root".into(), json!(name));
    }
    Ok(d)
}

fn script_format(ext: &str, text: &str) -> Option<Format> {
    match ext {
        "sh" | "bash" => return Some(Format::Shell),
        "pl" | "pm" => return Some(Format::Perl),
        "py" => return Some(Format::Python),
        "cmd" | "bat" => return Some(Format::Cmd),
        "ps1" => return Some(Format::PowerShell),
        _ => {}
    }
    let first = text.lines().next()?.trim();
    let interp = first.strip_prefix("#!")?;
    let prog = interp.split_whitespace().flat_map(|w| w.rsplit('/').next()).find(|w| *w != "env")?;
    if prog.starts_with("python") {
        Some(Format::Python)
    } else if prog.starts_with("perl") {
        Some(Format::Perl)
    } else if ["sh", "bash", "dash", "ksh", "zsh"].contains(&prog) {
        Some(Format::Shell)
    } else if prog.starts_with("pwsh") {
        Some(Format::PowerShell)
    } else {
        None
    }
}

const KICKSTART_COMMANDS: &[&str] = &[
    "%packages",
    "%post",
    "%pre",
    "lang",
    "keyboard",
    "timezone",
    "rootpw",
    "bootloader",
    "clearpart",
    "autopart",
    "part",
    "network",
    "url",
    "cdrom",
    "install",
    "text",
    "graphical",
    "reboot",
    "zerombr",
    "firstboot",
    "selinux",
    "firewall",
    "user",
    "authselect",
    "services",
    "eula",
    "ignoredisk",
];

fn looks_like_kickstart(ext: &str, text: &str) -> bool {
    let hits = text
        .lines()
        .map(|l| l.trim())
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            let word = l.split_whitespace().next().unwrap_or("");
            KICKSTART_COMMANDS.contains(&word)
        })
        .take(3)
        .count();
    hits >= 3 || (ext == "ks" && hits >= 1)
}

/// qcow2, VMDK (sparse extent or text descriptor) and VHDX announce themselves in their first bytes.
fn disk_image_magic(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"QFI\xfb") {
        Some(Format::Qcow2)
    } else if head.starts_with(b"KDMV") || head.starts_with(b"# Disk DescriptorFile") {
        Some(Format::Vmdk)
    } else if head.starts_with(b"vhdxfile") {
        Some(Format::Vhdx)
    } else {
        None
    }
}

fn disk_refused(path: &Path, why: String, recovery: &str) -> Error {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Error::new(
        code::UNSUPPORTED_TYPE,
        format!("{name} cannot be imported as a disk image: {why}."),
        "A disk image in the repository must stand alone: clouds take one self-contained, unencrypted file.",
        recovery,
    )
}

/// Describe a disk image with `qemu-img info` (format, virtual size, snapshots); a backing chain or
/// an encrypted image is refused.
pub fn disk_image_info(path: &Path, format: Format) -> Result<Map<String, Value>> {
    let info = crate::qemu::info(path, &["-f", format.as_str()]).map_err(|msg| invalid(path, format.describe(), msg))?;
    if let Some(backing) = info.get("backing-filename").and_then(Value::as_str) {
        return Err(disk_refused(
            path,
            format!("it is an overlay on the backing file {backing}"),
            "Flatten it first (qemu-img convert -O qcow2 overlay.qcow2 flat.qcow2), then import the flat image.",
        ));
    }
    if info.get("encrypted").and_then(Value::as_bool) == Some(true) {
        return Err(disk_refused(
            path,
            "it is encrypted".into(),
            "Convert it to an unencrypted image (qemu-img convert with --object secret), then import that.",
        ));
    }
    let mut facts = Map::new();
    facts.insert("disk_format".into(), json!(format.as_str()));
    for (from, to) in [("virtual-size", "virtual_size"), ("cluster-size", "cluster_size"), ("actual-size", "actual_size")] {
        if let Some(v) = info.get(from) {
            facts.insert(to.into(), v.clone());
        }
    }
    let snapshots: Vec<Value> = info
        .get("snapshots")
        .and_then(Value::as_array)
        .map(|s| s.iter().filter_map(|x| x.get("name").cloned()).collect())
        .unwrap_or_default();
    facts.insert("snapshots".into(), json!(snapshots));
    if let Some(compat) = info.pointer("/format-specific/data/compat") {
        facts.insert("compat".into(), compat.clone());
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeply_nested_xml_is_refused_on_a_small_worker_stack() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("deep.xml");
        std::fs::write(&deep, format!("<?xml version=\"1.0\"?>{}{}", "<a>".repeat(20_000), "</a>".repeat(20_000))).unwrap();
        let shallow = dir.path().join("shallow.xml");
        let depth = MAX_XML_DEPTH;
        std::fs::write(&shallow, format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth))).unwrap();
        // The app detects dropped files on worker threads with 2 MiB stacks.
        let worker = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || (detect(&deep).map(|d| d.format), detect(&shallow).map(|d| d.format)));
        let (deep, shallow) = worker.unwrap().join().expect("no stack overflow");
        let err = deep.unwrap_err();
        assert_eq!(err.code, code::INVALID_CONTENT);
        assert!(err.text.contains("nested more than 256 levels"), "{}", err.text);
        assert_eq!(shallow.unwrap(), Format::Xml, "{MAX_XML_DEPTH} levels are still read");
    }

    #[test]
    fn named_pipes_and_devices_are_refused_without_opening_them() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("ks.cfg");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        for path in [fifo.as_path(), Path::new("/dev/zero"), dir.path()] {
            let err = detect(path).unwrap_err();
            assert_eq!(err.code, code::NOT_A_FILE, "{}", path.display());
        }
        assert!(detect(&fifo).unwrap_err().text.contains("named pipe"));
        assert!(detect(Path::new("/dev/zero")).unwrap_err().text.contains("device"));
    }
}
