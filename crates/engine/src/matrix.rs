//! The per-OS support matrix (XClarity's import types): which kinds and formats each OS takes.

use crate::detect::Format;
use crate::error::{code, Error, Result};
use crate::model::{Kind, OsFamily};

use Format::*;

/// Formats allowed for a kind on an OS family; empty means the kind is not supported there.
pub fn allowed(kind: Kind, os: OsFamily) -> &'static [Format] {
    use OsFamily::*;
    match (kind, os) {
        // Windows PE boot media are boot files first, but were always importable as an OS ISO.
        (Kind::Os, _) => &[Iso, DriverDisk, WinPeIso],
        (Kind::OsProfile, _) => &[ProfileTarGz, TarGz],
        (Kind::Driver, Linux) => &[DriverDisk, Rpm],
        (Kind::Driver, Windows) => &[ZipDrivers],
        (Kind::Boot, Windows) => &[ZipWinPe, WinPeIso],
        (Kind::Bundle, Windows) => &[Zip, ZipDrivers, ZipWinPe],
        (Kind::BundleSig, Windows) => &[Asc],
        (Kind::Config, _) => &[Json],
        (Kind::Script, Linux) => &[Shell, Perl, Python],
        (Kind::Script, Windows) => &[Cmd, PowerShell],
        // An RPM without kernel modules is software (`not_a_driver` sends it here).
        (Kind::Software, Linux) => &[TarGz, Rpm],
        (Kind::Software, Windows) => &[Zip, ZipDrivers, ZipWinPe],
        (Kind::Unattend, Linux) => &[Kickstart, AutoYast],
        (Kind::Unattend, Windows) => &[Unattend],
        (Kind::DiskImage, _) => &[Qcow2, Vmdk, Vhdx, Raw],
        _ => &[],
    }
}

/// The OS is required for these kinds (for OS, profile and disk images it is optional).
pub fn os_required(kind: Kind) -> bool {
    !matches!(kind, Kind::Os | Kind::OsProfile | Kind::DiskImage)
}

/// Kinds importable through the file import (gold images are made from folders).
pub fn importable(kind: Kind) -> bool {
    !matches!(kind, Kind::GoldImage)
}

/// OS families on which this kind accepts this format.
pub fn os_for(kind: Kind, format: Format) -> Vec<OsFamily> {
    OsFamily::ALL.iter().copied().filter(|os| allowed(kind, *os).contains(&format)).collect()
}

/// The kind a format most likely is when the user did not say.
pub fn default_kind(format: Format) -> Option<Kind> {
    Some(match format {
        Iso => Kind::Os,
        DriverDisk | Rpm | ZipDrivers => Kind::Driver,
        ZipWinPe | WinPeIso => Kind::Boot,
        Zip | TarGz => Kind::Software,
        ProfileTarGz => Kind::OsProfile,
        Asc => Kind::BundleSig,
        Json => Kind::Config,
        Qcow2 | Vmdk | Vhdx => Kind::DiskImage,
        Kickstart | AutoYast | Unattend => Kind::Unattend,
        Shell | Perl | Python | Cmd | PowerShell => Kind::Script,
        Raw | Xml | Text | Binary => return None,
    })
}

fn describe_allowed(kind: Kind) -> String {
    let mut parts = Vec::new();
    for os in OsFamily::ALL {
        let formats = allowed(kind, *os);
        if formats.is_empty() {
            parts.push(format!("{os}: not supported"));
        } else {
            let list: Vec<&str> = formats.iter().map(|f| f.describe()).collect();
            parts.push(format!("{os}: {}", list.join(" or ")));
        }
    }
    parts.join("; ")
}

/// Check a (kind, os, format) triple against the matrix.
pub fn check(kind: Kind, os: Option<OsFamily>, format: Format, file_name: &str) -> Result<()> {
    if !importable(kind) {
        return Err(Error::new(
            code::UNSUPPORTED_TYPE,
            format!("{kind} artifacts cannot be imported from a file yet."),
            "Gold images are made from folders, not imported from a file.",
            "Import the file as one of the kinds the support matrix lists.",
        ));
    }
    let allowed_here: Vec<OsFamily> = os_for(kind, format);
    match os {
        Some(os) if allowed(kind, os).is_empty() => Err(Error::new(
            code::UNSUPPORTED_TYPE,
            format!("{kind} files are not supported for {os}."),
            format!("The support matrix allows {kind} files as follows — {}.", describe_allowed(kind)),
            "Choose another OS or kind for this file, or leave it out.",
        )),
        Some(os) if !allowed(kind, os).contains(&format) => Err(Error::new(
            code::UNSUPPORTED_TYPE,
            format!("{file_name} is a {}, which is not accepted as a {kind} file for {os}.", format.describe()),
            format!("The support matrix allows {kind} files as follows — {}.", describe_allowed(kind)),
            "Choose the right kind or OS for this file, or import a file in an allowed format.",
        )),
        None if allowed_here.is_empty() => Err(Error::new(
            code::UNSUPPORTED_TYPE,
            format!("{file_name} is a {}, which is not accepted as a {kind} file.", format.describe()),
            format!("The support matrix allows {kind} files as follows — {}.", describe_allowed(kind)),
            "Choose the right kind for this file, or import a file in an allowed format.",
        )),
        _ => Ok(()),
    }
}

pub fn os_required_error(kind: Kind, file_name: &str, choices: &[OsFamily]) -> Error {
    let list: Vec<&str> = choices.iter().map(|o| o.as_str()).collect();
    Error::new(
        code::OS_REQUIRED,
        format!("{file_name} needs an OS: {kind} files are kept per operating system."),
        format!("Nothing in the file says which OS it is for; it could be for {}.", list.join(", ")),
        "Choose the OS (--os linux|windows|vmware, or a distribution such as rhel) and import it again.",
    )
}

pub fn unknown_type_error(file_name: &str, format: Format) -> Error {
    Error::new(
        code::UNKNOWN_TYPE,
        format!("Imagesmith cannot tell what kind of file {file_name} is (found: {}).", format.describe()),
        format!(
            "Imported files must be one of the supported kinds: {}.",
            Kind::ALL.iter().filter(|k| importable(**k)).map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
        ),
        "Give the kind explicitly (--kind), or leave this file out.",
    )
}
