//! Domain words as types: artifact kinds, OS families, digest algorithms, artifacts and jobs.

use crate::error::{code, Error, Result};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident, $what:literal, $invalid:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        pub enum $name { $(#[serde(rename = $s)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }

        impl std::fmt::Display for $name {
            // `pad`, not `write_str`: a width such as `{:<10}` in a table applies to the word.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.pad(self.as_str()) }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> $crate::error::Result<Self> {
                let lower = s.trim().to_ascii_lowercase();
                $(if lower == $s { return Ok($name::$variant); })+
                Err($crate::error::Error::new(
                    $crate::error::ErrorCode::$invalid,
                    format!(concat!("\"{}\" is not a known ", $what, "."), s),
                    format!(concat!("A ", $what, " is one of: {}."), [$($s),+].join(", ")),
                    concat!("Use one of the listed values for the ", $what, "."),
                ))
            }
        }
    };
}

/// Shared with the other modules that name closed sets of words (publish: visibility, …).
pub(crate) use string_enum;

string_enum!(
    /// What an imported file is, following XClarity's import types plus gold and disk images.
    Kind, "kind", InvalidKind {
        Os = "os", OsProfile = "os_profile", Driver = "driver", Boot = "boot", Bundle = "bundle",
        BundleSig = "bundle_sig", Config = "config", Script = "script", Software = "software",
        Unattend = "unattend", GoldImage = "gold_image", DiskImage = "disk_image",
    }
);

string_enum!(
    /// Who may use an image (Danube's access): public 1, private 3, deleted 4 — a deleted image is
    /// hidden from lists and refused by new profiles and publishing, while what uses it keeps working.
    Access, "access", InvalidAccess { Public = "public", Private = "private", Deleted = "deleted" }
);

string_enum!(
    /// Where an artifact's bytes came from.
    SourceKind, "source kind", InvalidArgument { File = "file", Url = "url", Store = "store", Snapshot = "snapshot" }
);

/// Where an artifact came from: a local file, a URL (and the manifest that named it), an image
/// store, or a VM disk snapshot (the VM, its disk, the snapshot and when it was taken; fields of
/// other sources are left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ArtifactSource {
    pub kind: SourceKind,
    pub url: Option<String>,
    pub manifest_url: Option<String>,
    pub store: Option<String>,
    /// The image's id in its store (an IMGAPI uuid, a SimpleStreams product).
    pub remote_id: Option<String>,
    /// The libvirt VM a snapshot image was cut from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm: Option<String>,
    /// The libvirt connection URI it was reached on (virsh's default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<String>,
    /// The disk (numbered from 1) of a snapshot image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_id: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// The disk file the snapshot was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_file: Option<String>,
    /// The library's qcow2 image a snapshot image was cut from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
    /// When the snapshot was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_at: Option<String>,
}

impl Default for ArtifactSource {
    fn default() -> Self {
        ArtifactSource {
            kind: SourceKind::File,
            url: None,
            manifest_url: None,
            store: None,
            remote_id: None,
            vm: None,
            connect: None,
            disk_id: None,
            snapshot: None,
            disk_file: None,
            artifact: None,
            snapshot_at: None,
        }
    }
}

string_enum!(
    /// The operating system family a file is for.
    OsFamily, "os", InvalidOs { Linux = "linux", Windows = "windows", Vmware = "vmware" }
);

string_enum!(
    /// Digest algorithms Imagesmith computes and verifies.
    Algo, "algorithm", InvalidAlgorithm { Md5 = "md5", Sha1 = "sha1", Sha256 = "sha256", Sha512 = "sha512" }
);

string_enum!(
    /// Where an expected digest came from: typed by the user (`--sha256`, the review's field), a
    /// checksum file (SHA256SUMS, a `.sha256` sidecar, Fedora's CHECKSUM), the SHA256SUMS inside
    /// a profile archive, or a detached OpenPGP signature over the file itself (a vendor bundle's
    /// BUNDLESIG `.asc`, recorded against the SHA-256 of the bytes it was checked over).
    ExpectedFrom, "evidence source", UnknownValue { Typed = "typed", ChecksumFile = "checksum_file", ProfileArchive = "profile_archive", Signature = "signature" }
);

string_enum!(
    /// Whether an artifact's stored copy can be used: `ok`; `missing` (its file under objects/ is
    /// gone); `damaged` (its bytes no longer hash to its SHA-256). Found by recovery after a reboot
    /// and by verify; re-importing the same bytes makes it `ok` again.
    ArtifactState, "artifact_state", InvalidArtifactState { Ok = "ok", Missing = "missing", Damaged = "damaged" }
);

impl ArtifactState {
    /// What a re-hash found, as a state: `None` when it says nothing about the object (cancelled,
    /// or it could not be read for another reason).
    pub fn from_check(result: &Result<()>) -> Option<ArtifactState> {
        match result {
            Ok(()) => Some(ArtifactState::Ok),
            Err(e) if e.code == code::OBJECT_MISSING => Some(ArtifactState::Missing),
            Err(e) if e.code == code::OBJECT_CORRUPTED => Some(ArtifactState::Damaged),
            Err(_) => None,
        }
    }

    /// Read from the catalog, where a CHECK constraint keeps the column to the three words.
    pub(crate) fn from_column(r: &crate::db::Row<'_>, idx: usize) -> crate::db::SqlResult<ArtifactState> {
        let s: String = r.get(idx)?;
        s.parse().map_err(|e: Error| crate::db::SqlError::conversion(idx, e))
    }
}

impl Algo {
    /// Hex length of a digest, which also identifies a bare hex string's algorithm.
    pub fn hex_len(self) -> usize {
        match self {
            Algo::Md5 => 32,
            Algo::Sha1 => 40,
            Algo::Sha256 => 64,
            Algo::Sha512 => 128,
        }
    }

    pub fn from_hex_len(len: usize) -> Option<Algo> {
        Algo::ALL.iter().copied().find(|a| a.hex_len() == len)
    }

    /// Name as in BSD tagged lines and checksum file names (`SHA256`).
    /// The name people read: "SHA-256".
    pub fn label(self) -> &'static str {
        match self {
            Algo::Md5 => "MD5",
            Algo::Sha1 => "SHA-1",
            Algo::Sha256 => "SHA-256",
            Algo::Sha512 => "SHA-512",
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Algo::Md5 => "MD5",
            Algo::Sha1 => "SHA1",
            Algo::Sha256 => "SHA256",
            Algo::Sha512 => "SHA512",
        }
    }
}

/// An OS as users name it: a family, or a distro that implies one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsName {
    pub family: OsFamily,
    pub distro: Option<String>,
}

/// The Linux distributions users may name as an OS (the app offers them from the generated client).
pub const LINUX_DISTROS: &[&str] = &["rhel", "centos", "rocky", "alma", "oracle", "fedora", "sles", "opensuse", "ubuntu", "debian"];

impl FromStr for OsName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        if let Ok(family) = lower.parse::<OsFamily>() {
            return Ok(OsName { family, distro: None });
        }
        if LINUX_DISTROS.contains(&lower.as_str()) {
            return Ok(OsName { family: OsFamily::Linux, distro: Some(lower) });
        }
        if lower == "esxi" {
            return Ok(OsName { family: OsFamily::Vmware, distro: Some(lower) });
        }
        Err(Error::new(
            code::INVALID_OS,
            format!("\"{s}\" is not a known operating system."),
            format!("An OS is a family (linux, windows, vmware) or a Linux distribution ({}).", LINUX_DISTROS.join(", ")),
            "Use one of the listed names.",
        ))
    }
}

/// A short reference to another artifact (the OS image a driver belongs to, who uses an image).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ArtifactRef {
    pub id: i64,
    pub name: String,
}

/// One imported file as the catalog knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Artifact {
    pub id: i64,
    pub name: String,
    pub kind: Kind,
    pub os: Option<OsFamily>,
    pub distro: Option<String>,
    pub size: u64,
    pub sha256: String,
    /// Whether the stored copy is there and intact (see [`ArtifactState`]).
    pub state: ArtifactState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
    /// The OS image this file belongs to.
    pub image: Option<ArtifactRef>,
    /// Artifacts that name this one as their image.
    pub used_by: Vec<ArtifactRef>,
    /// Profiles that use it as their base image or a member (a delete is refused while any does).
    pub profiles: Vec<String>,
    /// Where it is published now: "target: image name" of each publication not deleted.
    pub published_to: Vec<String>,
    pub original_name: String,
    pub description: String,
    pub version: String,
    pub tags: Vec<String>,
    /// A short unique name, usable wherever an id or name is.
    pub alias: Option<String>,
    pub access: Access,
    /// Who imported it (the OS user), or whom the admin says it belongs to.
    pub owner: String,
    /// Who added it, as `user@host` (the session that imported, downloaded, cut or rebuilt it);
    /// none for artifacts added before Imagesmith recorded it.
    pub created_by: Option<String>,
    /// Who last changed it (name, attributes, kind, OS), as `user@host`: whoever added it until
    /// someone changes it; none for artifacts not changed since Imagesmith recorded it.
    pub updated_by: Option<String>,
    /// Whether a deployment may grow the disk to the VM's size.
    pub resize: bool,
    /// Whether the image is deployed once, as is (no customisation).
    pub deploy: bool,
    pub source: ArtifactSource,
    /// The exact OS of an installer image: libosinfo's short id (`rhel9.6`, `win2k22`), its name,
    /// version and architecture (x86_64, aarch64, …); null when unknown.
    pub os_id: Option<String>,
    pub os_name: Option<String>,
    pub os_version: Option<String>,
    pub arch: Option<String>,
    /// What detection found: volume id, OS family/version/arch, driver details, …
    pub detected: serde_json::Value,
    /// What a driver holds (architectures, hardware IDs, kernels, …), read from `detected`.
    pub driver: Option<crate::driver_info::DriverInfo>,
    /// The images of a Windows installer's install.wim/esd (index, name, edition id, build,
    /// architecture, languages), read from `detected`; empty for anything else.
    pub editions: Vec<crate::wim::WindowsEdition>,
    /// What to know before installing it with its OS image (a driver built for another kernel
    /// release of the image's series, …); see `compat`.
    pub warnings: Vec<crate::compat::Warning>,
    /// Every digest its bytes were found to match, and where each expected value came from.
    pub verification: Vec<Verification>,
    /// The best signature over what vouched for its digests (`none` when nothing was signed).
    pub signature: SignatureCheck,
    /// For an ISO: its embedded media checksum (isomd5sum), passed or absent; null for other files.
    pub media_check: Option<MediaCheck>,
    /// For an answer file (kickstart, AutoYaST, unattend.xml): what lint finds in it, checked
    /// against its image's release and architecture; null for other files and in lists.
    #[serde(default)]
    pub lint: Option<Vec<crate::lint::Finding>>,
    /// When `verify` last re-hashed the stored copy and found it intact.
    pub last_verified_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// One exact OS release the library holds images of (the library's release filter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OsRelease {
    /// libosinfo's short id (`rhel9.6`).
    pub os_id: String,
    pub os_name: Option<String>,
    /// How many artifacts (not marked deleted) are of it.
    pub count: u32,
}

string_enum!(
    /// What the OpenPGP signature over a checksum file (or a bundle) came to: `good` (made by a
    /// trusted key over these bytes), `bad` (a trusted key's signature that does not verify: the
    /// file was changed), `unknown_key` (made by a key not trusted here), `expired_key` (made by a
    /// trusted key that has expired), `none` (nothing was signed).
    SignatureStatus, "signature status", UnknownValue {
        Good = "good", Bad = "bad", UnknownKey = "unknown_key", ExpiredKey = "expired_key", None = "none"
    }
);

impl SignatureStatus {
    /// How much the outcome says for the bytes, to pick the best of several: good first.
    pub(crate) fn rank(self) -> u8 {
        match self {
            SignatureStatus::Good => 4,
            SignatureStatus::ExpiredKey => 3,
            SignatureStatus::UnknownKey => 2,
            SignatureStatus::None => 1,
            SignatureStatus::Bad => 0,
        }
    }
}

/// The signature over what vouched for an artifact's digest, as it was checked:
/// "signed by Fedora (fingerprint …) on 2026-04-14".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SignatureCheck {
    pub status: SignatureStatus,
    /// The trusted key's primary user id (good, bad and expired_key).
    pub signer: Option<String>,
    /// The signing key's fingerprint: the trusted key's whole fingerprint, or for an unknown key
    /// what the signature names (a fingerprint, or a 16-digit key id from older signers).
    pub fingerprint: Option<String>,
    /// When the signature was made.
    pub signed_at: Option<String>,
    /// The detached signature file it was read from; None for a clear-signed file.
    pub signature_file: Option<String>,
}

impl SignatureCheck {
    pub fn none() -> Self {
        SignatureCheck { status: SignatureStatus::None, signer: None, fingerprint: None, signed_at: None, signature_file: None }
    }

    /// The best of several checks (an artifact whose digests several files vouched for): good
    /// over an expired or unknown key over none.
    pub fn best<'a>(checks: impl IntoIterator<Item = &'a SignatureCheck>) -> SignatureCheck {
        checks.into_iter().max_by_key(|c| c.status.rank()).cloned().unwrap_or_else(SignatureCheck::none)
    }

    /// One line for people: "signed by Fedora <fedora-42@…> (fingerprint 1234 …)".
    pub fn describe(&self) -> String {
        let fpr = self.fingerprint.as_deref().map(crate::trust::grouped_fingerprint).unwrap_or_default();
        let signer = self.signer.as_deref().unwrap_or("an unnamed key");
        match self.status {
            SignatureStatus::Good => format!("signed by {signer} (fingerprint {fpr})"),
            SignatureStatus::ExpiredKey => format!("signed by {signer}, whose key has expired (fingerprint {fpr})"),
            SignatureStatus::UnknownKey => format!("signed by a key that is not trusted here ({fpr})"),
            SignatureStatus::Bad => format!("a signature by {signer} that does not verify (fingerprint {fpr})"),
            SignatureStatus::None => "not signed".to_string(),
        }
    }
}

impl Default for SignatureCheck {
    fn default() -> Self {
        SignatureCheck::none()
    }
}

string_enum!(
    /// What an ISO's embedded media checksum (isomd5sum) came to: `passed`, `failed` (the import is
    /// refused), `absent` (the ISO carries none).
    MediaCheckStatus, "media check status", UnknownValue { Passed = "passed", Failed = "failed", Absent = "absent" }
);

/// The embedded media check of an ISO, done in the import's read pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MediaCheck {
    pub status: MediaCheckStatus,
    /// The MD5 implanted in the ISO (lower-case hex).
    pub md5: Option<String>,
    /// The MD5 its bytes gave (with the implanted area read as spaces), when checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computed: Option<String>,
}

/// The proof of one check: "SHA-256 matched SHA256SUMS (line 2), 2 Dec 2026 05:11".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Verification {
    pub algo: Algo,
    pub expected_from: ExpectedFrom,
    /// The checksum file (or profile archive) the expected digest was read from.
    pub source_file: Option<String>,
    /// Its line in that file, counting from 1.
    pub line: Option<u32>,
    pub verified_at: String,
    /// The job that did the check.
    pub job_id: Option<i64>,
    /// The signature over the checksum file, as it was checked then.
    pub signature: SignatureCheck,
}

impl Artifact {
    /// The `.asc` whose detached signature was verified good over this artifact's bytes (a vendor
    /// bundle's BUNDLESIG), when one was.
    pub fn verified_signature_file(&self) -> Option<&str> {
        self.verification
            .iter()
            .find(|v| v.expected_from == ExpectedFrom::Signature && v.signature.status == SignatureStatus::Good)
            .and_then(|v| v.source_file.as_deref())
    }
}

impl Verification {
    /// One line for people: "SHA-256 matched SHA256SUMS (line 2), 2026-12-02 05:11 UTC".
    pub fn describe(&self) -> String {
        let when = self.verified_at.get(..16).unwrap_or(&self.verified_at).replace('T', " ");
        if let (ExpectedFrom::Signature, Some(file)) = (self.expected_from, &self.source_file) {
            return format!("OpenPGP signature {file} verified over the file ({}), {when} UTC", self.signature.describe());
        }
        let source = match (self.expected_from, &self.source_file) {
            (ExpectedFrom::Typed, _) | (_, None) => "the checksum typed at import".to_string(),
            (_, Some(file)) => match self.line {
                Some(line) => format!("{file} (line {line})"),
                None => file.clone(),
            },
        };
        let signed = match self.signature.status {
            SignatureStatus::None => String::new(),
            _ => format!(" ({})", self.signature.describe()),
        };
        format!("{} matched {source}{signed}, {when} UTC", self.algo.label())
    }
}

/// Changes to an artifact's descriptive fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ArtifactPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
    pub tags: Option<Vec<String>>,
    /// A new kind, checked against the support matrix as at import.
    #[serde(default)]
    pub kind: Option<Kind>,
    /// A new OS as users name it ("windows", "rhel"); "" for none where the kind needs none.
    #[serde(default)]
    pub os: Option<String>,
    /// A new alias; "" removes it.
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub access: Option<Access>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub resize: Option<bool>,
    #[serde(default)]
    pub deploy: Option<bool>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    Name,
    Created,
    Size,
}

impl FromStr for SortKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "name" => Ok(SortKey::Name),
            "created" => Ok(SortKey::Created),
            "size" => Ok(SortKey::Size),
            _ => Err(Error::invalid_argument(format!("Cannot sort by \"{s}\"."), "Sort by name, created or size.")),
        }
    }
}

/// Which artifacts to list, in which order, which page.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ArtifactQuery {
    pub kind: Option<Kind>,
    pub os: Option<OsFamily>,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    pub sort: SortKey,
    pub descending: bool,
    pub limit: Option<u32>,
    pub offset: u32,
    /// Only artifacts with this access (asking for deleted ones shows them).
    #[serde(default)]
    pub access: Option<Access>,
    /// Deleted artifacts too (hidden unless asked for).
    #[serde(default)]
    pub all: bool,
    /// Only images of this exact OS (libosinfo short id); `rhel9` also takes `rhel9.6`.
    #[serde(default)]
    pub os_id: Option<String>,
}
