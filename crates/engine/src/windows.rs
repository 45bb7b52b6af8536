//! Windows installer media: which Windows an ISO holds and its editions, from `sources/install.wim`
//! or `install.esd` (or `boot.wim` alone on Windows PE media), read through UDF and else ISO 9660.
//!
//! Public API:
//! - [`windows_media`] — the editions, common architecture, build and libosinfo-style identity
//!   (`os_id` win10, win11, win2k16 … win2k25; `os_name`; `os_version` 10.0.BUILD) of an ISO, or
//!   None when it holds no readable Windows image.
//! - [`is_windows_pe`] — whether a boot.wim's editions are Windows PE (for WinPE boot zips).
//! - [`zipped_boot_wim`] — what the `sources/boot.wim` of a WinPE boot zip holds, read front to
//!   back through its compression (at most [`MAX_ZIPPED_BOOT_WIM`] bytes).
//! - [`os_for_build`] — the libosinfo id and name of a Windows build, client or server.
//!
//! Windows media hide `sources/` from the ISO 9660 view (it holds only a README), so UDF is read
//! first ([`crate::udf`]); ISO 9660 is the fallback for media remastered without UDF. Only the WIM
//! header and its XML are read ([`crate::wim`]), through the file's extents in the image.

use crate::model::string_enum;
use crate::udf::{Udf, UdfFile};
use crate::wim::{wim_editions, WindowsArch, WindowsEdition};
use serde::{Deserialize, Serialize};
use std::fs::File;

string_enum!(
    /// Which file system of the ISO the Windows image was found through.
    MediaFileSystem, "media file system", InvalidArgument { Udf = "udf", Iso9660 = "iso9660", Zip = "zip" }
);

/// What a Windows installer (or Windows PE) ISO holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WindowsMedia {
    /// The image the editions were read from: `sources/install.wim`, `sources/install.esd` or
    /// `sources/boot.wim`.
    pub wim_path: String,
    pub file_system: MediaFileSystem,
    pub editions: Vec<WindowsEdition>,
    /// The architecture every edition shares; None when they differ or do not say.
    pub arch: Option<WindowsArch>,
    /// The highest build among the editions (they share one on Microsoft's media).
    pub build: Option<u32>,
    /// libosinfo's short id: win10, win11, win2k16, win2k19, win2k22, win2k25, … None for
    /// Windows PE media and builds libosinfo has no id for.
    pub os_id: Option<String>,
    /// e.g. "Microsoft Windows Server 2022"; "Windows PE" for Windows PE media.
    pub os_name: Option<String>,
    /// MAJOR.MINOR.BUILD, e.g. "10.0.20348".
    pub os_version: Option<String>,
    /// Only Windows PE images (a boot.wim without install.wim beside it).
    pub windows_pe: bool,
}

/// Where an image is looked for, best first: the installer's images, then Windows PE's.
const CANDIDATES: [&str; 3] = ["sources/install.wim", "sources/install.esd", BOOT_WIM];
const BOOT_WIM: &str = "sources/boot.wim";

/// The Windows an ISO holds, read from its install.wim/esd (or boot.wim) through UDF, else ISO
/// 9660. None when neither file system has a readable one — and when an install image is there
/// but unreadable: the media are then damaged installer media, not Windows PE media.
pub fn windows_media(file: &File) -> Option<WindowsMedia> {
    let udf = Udf::open(file).ok();
    for path in CANDIDATES {
        let in_udf = udf.as_ref().and_then(|u| u.open_file(path).ok());
        let in_iso = crate::iso::file_extent(file, path);
        if in_udf.is_none() && in_iso.is_none() {
            continue;
        }
        let found = in_udf.and_then(|f| wim_editions(f).ok()).map(|editions| (editions, MediaFileSystem::Udf)).or_else(|| {
            let (offset, len) = in_iso?;
            wim_editions(UdfFile::from_extent(file, offset, len)).ok().map(|editions| (editions, MediaFileSystem::Iso9660))
        });
        match found {
            Some((editions, file_system)) if !editions.is_empty() => return Some(describe(path, file_system, editions)),
            _ if path != BOOT_WIM => return None,
            _ => {}
        }
    }
    None
}

/// A WinPE boot zip's boot.wim larger than this is not read (real ones are 300–700 MB): a
/// compressed entry is read from its start to its XML, which sits at the end.
pub const MAX_ZIPPED_BOOT_WIM: u64 = 2 << 30;

/// What the `sources/boot.wim` of a WinPE boot zip (anywhere below its top folder) holds. None
/// when there is none, it is larger than [`MAX_ZIPPED_BOOT_WIM`], or it does not read.
pub fn zipped_boot_wim<R: std::io::Read + std::io::Seek>(zip: &mut zip::ZipArchive<R>) -> Option<WindowsMedia> {
    let (index, name) = (0..zip.len()).find_map(|i| {
        let name = zip.name_for_index(i)?.to_string();
        let lower = name.to_ascii_lowercase();
        (lower == BOOT_WIM || lower.ends_with(&format!("/{BOOT_WIM}"))).then_some((i, name))
    })?;
    let entry = zip.by_index(index).ok()?;
    let len = entry.size();
    if len > MAX_ZIPPED_BOOT_WIM {
        return None;
    }
    let editions = crate::wim::wim_editions_streamed(entry, len).ok().filter(|e| !e.is_empty())?;
    Some(describe(&name, MediaFileSystem::Zip, editions))
}

/// Are these a boot.wim's editions, and all of them Windows PE (installation type or edition id
/// WindowsPE, or FLAGS 9)? False for none.
pub fn is_windows_pe(editions: &[WindowsEdition]) -> bool {
    !editions.is_empty() && editions.iter().all(WindowsEdition::is_windows_pe)
}

/// libosinfo's id and name for a Windows build: client 7600/7601 win7, 9200 win8, 9600 win8.1,
/// 10240..=19045 win10, 22000 and later win11; server 7600/7601 win2k8r2, 9200 win2k12, 9600
/// win2k12r2, 14393 win2k16, 17763 win2k19, 20348 win2k22, 26100 win2k25 (other server builds,
/// the semi-annual channel's, have no libosinfo id).
pub fn os_for_build(build: u32, server: bool) -> Option<(&'static str, &'static str)> {
    if server {
        return match build {
            7600 | 7601 => Some(("win2k8r2", "Microsoft Windows Server 2008 R2")),
            9200 => Some(("win2k12", "Microsoft Windows Server 2012")),
            9600 => Some(("win2k12r2", "Microsoft Windows Server 2012 R2")),
            14393 => Some(("win2k16", "Microsoft Windows Server 2016")),
            17763 => Some(("win2k19", "Microsoft Windows Server 2019")),
            20348 => Some(("win2k22", "Microsoft Windows Server 2022")),
            26100 => Some(("win2k25", "Microsoft Windows Server 2025")),
            _ => None,
        };
    }
    match build {
        7600 | 7601 => Some(("win7", "Microsoft Windows 7")),
        9200 => Some(("win8", "Microsoft Windows 8")),
        9600 => Some(("win8.1", "Microsoft Windows 8.1")),
        10240..=19045 => Some(("win10", "Microsoft Windows 10")),
        22000.. => Some(("win11", "Microsoft Windows 11")),
        _ => None,
    }
}

fn describe(path: &str, file_system: MediaFileSystem, editions: Vec<WindowsEdition>) -> WindowsMedia {
    let windows_pe = is_windows_pe(&editions);
    let first_arch = editions.first().and_then(|e| e.arch);
    let arch = first_arch.filter(|a| editions.iter().all(|e| e.arch == Some(*a)));
    let newest = editions.iter().filter(|e| e.build.is_some()).max_by_key(|e| e.build);
    let build = newest.and_then(|e| e.build);
    // MAJOR.MINOR.BUILD of the newest edition (its SPBUILD left out, as libosinfo's versions are).
    let os_version = newest.and_then(|e| e.version.as_deref()).map(|v| v.split('.').take(3).collect::<Vec<_>>().join("."));
    let server = editions.iter().any(WindowsEdition::is_server);
    let (os_id, os_name) = if windows_pe {
        (None, Some("Windows PE".to_string()))
    } else {
        match build.and_then(|b| os_for_build(b, server)) {
            Some((id, name)) => (Some(id.to_string()), Some(name.to_string())),
            None => (None, None),
        }
    };
    WindowsMedia { wim_path: path.to_string(), file_system, editions, arch, build, os_id, os_name, os_version, windows_pe }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wim::InstallationType;

    fn edition(index: u32, build: u32, arch: WindowsArch, kind: InstallationType) -> WindowsEdition {
        WindowsEdition {
            index,
            name: format!("image {index}"),
            description: None,
            display_name: None,
            edition_id: None,
            flags: None,
            arch: Some(arch),
            version: Some(format!("10.0.{build}.1")),
            build: Some(build),
            languages: vec!["en-US".into()],
            default_language: None,
            installation_type: Some(kind),
            product_name: None,
            product_type: None,
        }
    }

    #[test]
    fn builds_name_the_windows_libosinfo_knows() {
        let client: Vec<_> = [7601, 9600, 10240, 19045, 19046, 22000, 26100].iter().map(|&b| os_for_build(b, false).map(|o| o.0)).collect();
        assert_eq!(client, [Some("win7"), Some("win8.1"), Some("win10"), Some("win10"), None, Some("win11"), Some("win11")]);
        let server: Vec<_> = [9600, 14393, 17763, 20348, 25398, 26100].iter().map(|&b| os_for_build(b, true).map(|o| o.0)).collect();
        assert_eq!(server, [Some("win2k12r2"), Some("win2k16"), Some("win2k19"), Some("win2k22"), None, Some("win2k25")]);
        assert_eq!(os_for_build(26100, true).unwrap().1, "Microsoft Windows Server 2025");
    }

    #[test]
    fn media_identity_comes_from_every_edition() {
        use InstallationType::*;
        let server = describe(
            "sources/install.wim",
            MediaFileSystem::Udf,
            vec![edition(1, 26100, WindowsArch::X64, ServerCore), edition(2, 26100, WindowsArch::X64, Server)],
        );
        assert_eq!((server.os_id.as_deref(), server.os_version.as_deref()), (Some("win2k25"), Some("10.0.26100")));
        assert_eq!(server.arch, Some(WindowsArch::X64));
        // Mixed architectures have no common one; the newest build names the media.
        let mixed = describe(
            "sources/install.wim",
            MediaFileSystem::Udf,
            vec![edition(1, 19041, WindowsArch::X86, Client), edition(2, 19045, WindowsArch::X64, Client)],
        );
        assert_eq!((mixed.arch, mixed.build, mixed.os_id.as_deref()), (None, Some(19045), Some("win10")));
        let pe = describe("sources/boot.wim", MediaFileSystem::Iso9660, vec![edition(1, 22621, WindowsArch::Arm64, WindowsPe)]);
        assert!(pe.windows_pe);
        assert_eq!((pe.os_id, pe.os_name.as_deref(), pe.arch), (None, Some("Windows PE"), Some(WindowsArch::Arm64)));
    }
}
