//! Errors users see: a stable code the UI branches on, what happened, why it can happen, what to do.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

crate::model::string_enum!(
    /// Stable error codes: the UI and scripts branch on these (shared with the UI through the
    /// generated client as `ErrorCode`); never rename one. Build errors with the constants in
    /// [`code`]. An unknown code in a stored error is itself an `unknown_value` error.
    ErrorCode, "error code", UnknownValue {
        NotFound = "not_found",
        ImageNotFound = "image_not_found",
        FileNotFound = "file_not_found",
        NotAFile = "not_a_file",
        ReadFailed = "read_failed",
        WriteFailed = "write_failed",
        DiskFull = "disk_full",
        UnknownType = "unknown_type",
        UnsupportedType = "unsupported_type",
        InvalidContent = "invalid_content",
        OsRequired = "os_required",
        InvalidOs = "invalid_os",
        InvalidKind = "invalid_kind",
        InvalidChecksum = "invalid_checksum",
        ChecksumMismatch = "checksum_mismatch",
        ChecksumFileInvalid = "checksum_file_invalid",
        NameTaken = "name_taken",
        InvalidName = "invalid_name",
        InUse = "in_use",
        ObjectMissing = "object_missing",
        ObjectCorrupted = "object_corrupted",
        ObjectLost = "object_lost",
        Cancelled = "cancelled",
        CatalogTooNew = "catalog_too_new",
        UnsafeArchive = "unsafe_archive",
        ArchiveTooLarge = "archive_too_large",
        InvalidProfile = "invalid_profile",
        CatalogFailed = "catalog_failed",
        CatalogDamaged = "catalog_damaged",
        CatalogBusy = "catalog_busy",
        RepositoryReadOnly = "repository_read_only",
        RepositoryMissing = "repository_missing",
        NotChosen = "not_chosen",
        RepositoryUnavailable = "repository_unavailable",
        JobNotFound = "job_not_found",
        InvalidArgument = "invalid_argument",
        SecretRequired = "secret_required",
        KeyringUnavailable = "keyring_unavailable",
        ConnectionFailed = "connection_failed",
        TlsFailed = "tls_failed",
        AuthFailed = "auth_failed",
        RemoteFailed = "remote_failed",
        HostKeyUnknown = "host_key_unknown",
        HostKeyMismatch = "host_key_mismatch",
        RemotePathMissing = "remote_path_missing",
        RemoteVerifyFailed = "remote_verify_failed",
        Forbidden = "forbidden",
        RemoteConflict = "remote_conflict",
        TooLarge = "too_large",
        FormatMismatch = "format_mismatch",
        RemoteUnavailable = "remote_unavailable",
        RemoteChecksumMismatch = "remote_checksum_mismatch",
        ConversionFailed = "conversion_failed",
        FormatUnsupported = "format_unsupported",
        InvalidAlgorithm = "invalid_algorithm",
        InvalidAuthMethod = "invalid_auth_method",
        InvalidInterface = "invalid_interface",
        InvalidVisibility = "invalid_visibility",
        InvalidJobKind = "invalid_job_kind",
        InvalidJobState = "invalid_job_state",
        InvalidOutcome = "invalid_outcome",
        UnknownValue = "unknown_value",
        Internal = "internal",
        OpenFailed = "open_failed",
        ObjectDamaged = "object_damaged",
        ChecksumConflict = "checksum_conflict",
        InvalidArtifactState = "invalid_artifact_state",
        InvalidGoldState = "invalid_gold_state",
        SpecialFile = "special_file",
        VmNotFound = "vm_not_found",
        InvalidDisk = "invalid_disk",
        SnapshotUnusable = "snapshot_unusable",
        ChangedDuringCapture = "changed_during_capture",
        TargetNotEmpty = "target_not_empty",
        ImageArchived = "image_archived",
        NotPublished = "not_published",
        ImageDeleted = "image_deleted",
        InvalidAccess = "invalid_access",
        DownloadFailed = "download_failed",
        DownloadStalled = "download_stalled",
        BadSignature = "bad_signature",
        NotADriver = "not_a_driver",
        IncompatibleDriver = "incompatible_driver",
        IncompatibleBootFile = "incompatible_boot_file",
        UnknownKey = "unknown_key",
        ExpiredKey = "expired_key",
        SignatureRequired = "signature_required",
        MediaCheckFailed = "media_check_failed",
        UnsignedBundle = "unsigned_bundle",
        LintErrors = "lint_errors",
        NotOnTeamRepository = "not_on_team_repository",
        RepositoryUnreachable = "repository_unreachable",
        TeamSchemaUpgradeNeeded = "team_schema_upgrade_needed",
    }
);

/// Tests and scripts compare with the code as it is written on the wire.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// The codes as constants, so call sites read `code::CHECKSUM_MISMATCH`.
pub mod code {
    use super::ErrorCode;
    pub const NOT_FOUND: ErrorCode = ErrorCode::NotFound;
    pub const IMAGE_NOT_FOUND: ErrorCode = ErrorCode::ImageNotFound;
    pub const FILE_NOT_FOUND: ErrorCode = ErrorCode::FileNotFound;
    pub const NOT_A_FILE: ErrorCode = ErrorCode::NotAFile;
    pub const READ_FAILED: ErrorCode = ErrorCode::ReadFailed;
    pub const WRITE_FAILED: ErrorCode = ErrorCode::WriteFailed;
    pub const DISK_FULL: ErrorCode = ErrorCode::DiskFull;
    pub const UNKNOWN_TYPE: ErrorCode = ErrorCode::UnknownType;
    pub const UNSUPPORTED_TYPE: ErrorCode = ErrorCode::UnsupportedType;
    pub const INVALID_CONTENT: ErrorCode = ErrorCode::InvalidContent;
    pub const OS_REQUIRED: ErrorCode = ErrorCode::OsRequired;
    pub const INVALID_OS: ErrorCode = ErrorCode::InvalidOs;
    pub const INVALID_KIND: ErrorCode = ErrorCode::InvalidKind;
    pub const INVALID_CHECKSUM: ErrorCode = ErrorCode::InvalidChecksum;
    pub const CHECKSUM_MISMATCH: ErrorCode = ErrorCode::ChecksumMismatch;
    pub const CHECKSUM_FILE_INVALID: ErrorCode = ErrorCode::ChecksumFileInvalid;
    pub const NAME_TAKEN: ErrorCode = ErrorCode::NameTaken;
    pub const INVALID_NAME: ErrorCode = ErrorCode::InvalidName;
    pub const IN_USE: ErrorCode = ErrorCode::InUse;
    pub const OBJECT_MISSING: ErrorCode = ErrorCode::ObjectMissing;
    pub const OBJECT_CORRUPTED: ErrorCode = ErrorCode::ObjectCorrupted;
    pub const OBJECT_LOST: ErrorCode = ErrorCode::ObjectLost;
    pub const CANCELLED: ErrorCode = ErrorCode::Cancelled;
    pub const CATALOG_TOO_NEW: ErrorCode = ErrorCode::CatalogTooNew;
    pub const UNSAFE_ARCHIVE: ErrorCode = ErrorCode::UnsafeArchive;
    pub const ARCHIVE_TOO_LARGE: ErrorCode = ErrorCode::ArchiveTooLarge;
    pub const INVALID_PROFILE: ErrorCode = ErrorCode::InvalidProfile;
    pub const CATALOG_FAILED: ErrorCode = ErrorCode::CatalogFailed;
    pub const CATALOG_DAMAGED: ErrorCode = ErrorCode::CatalogDamaged;
    pub const CATALOG_BUSY: ErrorCode = ErrorCode::CatalogBusy;
    pub const REPOSITORY_READ_ONLY: ErrorCode = ErrorCode::RepositoryReadOnly;
    pub const REPOSITORY_MISSING: ErrorCode = ErrorCode::RepositoryMissing;
    pub const NOT_CHOSEN: ErrorCode = ErrorCode::NotChosen;
    pub const REPOSITORY_UNAVAILABLE: ErrorCode = ErrorCode::RepositoryUnavailable;
    pub const JOB_NOT_FOUND: ErrorCode = ErrorCode::JobNotFound;
    pub const INVALID_ARGUMENT: ErrorCode = ErrorCode::InvalidArgument;
    pub const SECRET_REQUIRED: ErrorCode = ErrorCode::SecretRequired;
    pub const KEYRING_UNAVAILABLE: ErrorCode = ErrorCode::KeyringUnavailable;
    pub const CONNECTION_FAILED: ErrorCode = ErrorCode::ConnectionFailed;
    pub const TLS_FAILED: ErrorCode = ErrorCode::TlsFailed;
    pub const AUTH_FAILED: ErrorCode = ErrorCode::AuthFailed;
    pub const REMOTE_FAILED: ErrorCode = ErrorCode::RemoteFailed;
    pub const HOST_KEY_UNKNOWN: ErrorCode = ErrorCode::HostKeyUnknown;
    pub const HOST_KEY_MISMATCH: ErrorCode = ErrorCode::HostKeyMismatch;
    pub const REMOTE_PATH_MISSING: ErrorCode = ErrorCode::RemotePathMissing;
    pub const REMOTE_VERIFY_FAILED: ErrorCode = ErrorCode::RemoteVerifyFailed;
    pub const FORBIDDEN: ErrorCode = ErrorCode::Forbidden;
    pub const REMOTE_CONFLICT: ErrorCode = ErrorCode::RemoteConflict;
    pub const TOO_LARGE: ErrorCode = ErrorCode::TooLarge;
    pub const FORMAT_MISMATCH: ErrorCode = ErrorCode::FormatMismatch;
    pub const REMOTE_UNAVAILABLE: ErrorCode = ErrorCode::RemoteUnavailable;
    pub const REMOTE_CHECKSUM_MISMATCH: ErrorCode = ErrorCode::RemoteChecksumMismatch;
    pub const CONVERSION_FAILED: ErrorCode = ErrorCode::ConversionFailed;
    pub const FORMAT_UNSUPPORTED: ErrorCode = ErrorCode::FormatUnsupported;
    pub const INVALID_ALGORITHM: ErrorCode = ErrorCode::InvalidAlgorithm;
    pub const INVALID_AUTH_METHOD: ErrorCode = ErrorCode::InvalidAuthMethod;
    pub const INVALID_INTERFACE: ErrorCode = ErrorCode::InvalidInterface;
    pub const INVALID_VISIBILITY: ErrorCode = ErrorCode::InvalidVisibility;
    pub const INVALID_JOB_KIND: ErrorCode = ErrorCode::InvalidJobKind;
    pub const INVALID_JOB_STATE: ErrorCode = ErrorCode::InvalidJobState;
    pub const INVALID_OUTCOME: ErrorCode = ErrorCode::InvalidOutcome;
    pub const UNKNOWN_VALUE: ErrorCode = ErrorCode::UnknownValue;
    pub const INTERNAL: ErrorCode = ErrorCode::Internal;
    pub const OPEN_FAILED: ErrorCode = ErrorCode::OpenFailed;
    pub const OBJECT_DAMAGED: ErrorCode = ErrorCode::ObjectDamaged;
    pub const CHECKSUM_CONFLICT: ErrorCode = ErrorCode::ChecksumConflict;
    pub const INVALID_ARTIFACT_STATE: ErrorCode = ErrorCode::InvalidArtifactState;
    pub const SPECIAL_FILE: ErrorCode = ErrorCode::SpecialFile;
    pub const VM_NOT_FOUND: ErrorCode = ErrorCode::VmNotFound;
    pub const INVALID_DISK: ErrorCode = ErrorCode::InvalidDisk;
    pub const SNAPSHOT_UNUSABLE: ErrorCode = ErrorCode::SnapshotUnusable;
    pub const CHANGED_DURING_CAPTURE: ErrorCode = ErrorCode::ChangedDuringCapture;
    pub const TARGET_NOT_EMPTY: ErrorCode = ErrorCode::TargetNotEmpty;
    pub const IMAGE_ARCHIVED: ErrorCode = ErrorCode::ImageArchived;
    pub const NOT_PUBLISHED: ErrorCode = ErrorCode::NotPublished;
    pub const IMAGE_DELETED: ErrorCode = ErrorCode::ImageDeleted;
    pub const DOWNLOAD_FAILED: ErrorCode = ErrorCode::DownloadFailed;
    pub const DOWNLOAD_STALLED: ErrorCode = ErrorCode::DownloadStalled;
    pub const BAD_SIGNATURE: ErrorCode = ErrorCode::BadSignature;
    pub const NOT_A_DRIVER: ErrorCode = ErrorCode::NotADriver;
    pub const INCOMPATIBLE_DRIVER: ErrorCode = ErrorCode::IncompatibleDriver;
    pub const INCOMPATIBLE_BOOT_FILE: ErrorCode = ErrorCode::IncompatibleBootFile;
    pub const UNKNOWN_KEY: ErrorCode = ErrorCode::UnknownKey;
    pub const EXPIRED_KEY: ErrorCode = ErrorCode::ExpiredKey;
    pub const SIGNATURE_REQUIRED: ErrorCode = ErrorCode::SignatureRequired;
    pub const MEDIA_CHECK_FAILED: ErrorCode = ErrorCode::MediaCheckFailed;
    pub const UNSIGNED_BUNDLE: ErrorCode = ErrorCode::UnsignedBundle;
    pub const LINT_ERRORS: ErrorCode = ErrorCode::LintErrors;
    pub const NOT_ON_TEAM_REPOSITORY: ErrorCode = ErrorCode::NotOnTeamRepository;
    pub const REPOSITORY_UNREACHABLE: ErrorCode = ErrorCode::RepositoryUnreachable;
    pub const TEAM_SCHEMA_UPGRADE_NEEDED: ErrorCode = ErrorCode::TeamSchemaUpgradeNeeded;
}

/// What crosses every boundary (IPC, CLI JSON): `{code, text, explanation, recovery}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Error {
    pub code: ErrorCode,
    pub text: String,
    pub explanation: String,
    pub recovery: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Error {}

impl Error {
    pub fn new(code: ErrorCode, text: impl Into<String>, explanation: impl Into<String>, recovery: impl Into<String>) -> Self {
        Error { code, text: text.into(), explanation: explanation.into(), recovery: recovery.into() }
    }

    pub fn is(&self, code: ErrorCode) -> bool {
        self.code == code
    }

    pub fn not_found(what: &str, key: &str) -> Self {
        Error::new(
            code::NOT_FOUND,
            format!("No {what} named or numbered \"{key}\" is in the repository."),
            format!("The {what} may have been deleted, or the name is spelled differently."),
            "List what exists (for example `imagesmith-cli list`) and use its id or exact name.",
        )
    }

    pub fn image_not_found(key: &str) -> Self {
        Error::new(
            code::IMAGE_NOT_FOUND,
            format!("The OS image \"{key}\" this file should belong to is not in the repository."),
            "A driver, boot file, script or other file can name the OS image it belongs to, and that image must already be imported.",
            "Import the OS image first, or name an existing one (`imagesmith-cli list --kind os`), then import this file again.",
        )
    }

    pub fn job_not_found(id: i64) -> Self {
        Error::new(
            code::JOB_NOT_FOUND,
            format!("There is no job {id}."),
            "Job ids are the numbers shown in the job history.",
            "List the history (`imagesmith-cli jobs`) and use one of its ids.",
        )
    }

    pub fn io(path: &Path, err: &std::io::Error, writing: bool) -> Self {
        let p = path.display();
        if err.raw_os_error() == Some(libc::ENOSPC) {
            return Error::disk_full(p);
        }
        match (writing, err.kind()) {
            (false, std::io::ErrorKind::NotFound) => Error::new(
                code::FILE_NOT_FOUND,
                format!("The file {p} does not exist."),
                "It may have been moved, renamed or deleted after it was chosen.",
                "Check the path and choose the file again.",
            ),
            (false, _) => Error::new(
                code::READ_FAILED,
                format!("Could not read {p}: {err}."),
                "The file may be unreadable for your user, on a disconnected drive, or damaged.",
                "Check that the file opens for your user (permissions, drive mounted), then try again.",
            ),
            (true, _) => Error::new(
                code::WRITE_FAILED,
                format!("Could not write {p}: {err}."),
                "The repository folder may be read-only, on a disconnected drive, or owned by another user.",
                "Check the repository folder's permissions and free space, then try again.",
            ),
        }
    }

    pub fn cancelled() -> Self {
        Error::new(
            code::CANCELLED,
            "The job was cancelled.",
            "Cancelling stops the work between two chunks; whatever was half written is removed.",
            "Start it again when you are ready; nothing from the cancelled attempt was kept.",
        )
    }

    pub fn catalog(err: impl fmt::Display) -> Self {
        Error::new(
            code::CATALOG_FAILED,
            format!("The catalog database could not be updated: {err}."),
            "The catalog (catalog.db) refused the change for a reason Imagesmith does not recognise.",
            "Try again; if it keeps failing, run `imagesmith-cli verify` and keep the log (Settings → Open log folder) for a report.",
        )
    }

    /// The catalog file is not a whole SQLite database (empty, cut short, overwritten).
    pub fn catalog_damaged(path: &Path, what: impl fmt::Display) -> Self {
        Error::new(
            code::CATALOG_DAMAGED,
            format!("The catalog {} is damaged: {what}.", path.display()),
            "The catalog lists every stored file with its name, kind and checksums. Opening a damaged one as if it were new would make the repository look empty and its stored files strays, so Imagesmith does not open it.",
            format!(
                "Restore {} from a backup (the stored files in objects/ are untouched), or run `imagesmith-cli rebuild-catalog` to set it aside and rebuild a catalog from the stored files.",
                path.display()
            ),
        )
    }

    /// The repository's disk or folder does not take writes.
    pub fn read_only(path: &Path, err: impl fmt::Display) -> Self {
        Error::new(
            code::REPOSITORY_READ_ONLY,
            format!("The repository cannot be changed: {} is read-only ({err}).", path.display()),
            "The repository is on a read-only disk or mount, or its folder belongs to another user.",
            "Remount the disk read-write or fix the folder's permissions, or open a repository you can write to.",
        )
    }

    fn disk_full(p: impl fmt::Display) -> Self {
        Error::new(
            code::DISK_FULL,
            format!("The disk holding {p} is full."),
            "The repository stores a full copy of every imported file and needs room for it while the import runs.",
            "Free some space on that disk, or move the repository to a larger one, then try again.",
        )
    }

    /// What a SQLite failure means to the user: a damaged catalog, a full disk, a read-only
    /// repository or another process holding the write lock each get their own code.
    pub fn from_sqlite(catalog: &Path, e: &crate::db::SqlError) -> Self {
        use crate::db::SqlErrorCode as C;
        match e.sqlite_error_code() {
            Some(C::DatabaseCorrupt | C::NotADatabase) => Error::catalog_damaged(catalog, e),
            Some(C::DiskFull) => Error::disk_full(catalog.display()),
            Some(C::ReadOnly) => Error::read_only(catalog, e),
            Some(C::DatabaseBusy | C::DatabaseLocked) => Error::new(
                code::CATALOG_BUSY,
                format!("The catalog {} is busy: another Imagesmith process held it for more than 30 seconds.", catalog.display()),
                "Only one process writes to the catalog at a time; one that hangs keeps the others waiting.",
                "Close other Imagesmith windows and commands on this repository (or end a stuck one), then try again.",
            ),
            _ => Error::catalog(e),
        }
    }

    pub fn invalid_argument(text: impl Into<String>, recovery: impl Into<String>) -> Self {
        Error::new(code::INVALID_ARGUMENT, text, "The request could not be understood as given.", recovery)
    }
}

impl From<crate::db::SqlError> for Error {
    fn from(e: crate::db::SqlError) -> Self {
        // A value read from the catalog that did not parse carries its own coded error.
        let e = match e {
            crate::db::SqlError::Conversion { cause, .. } => return *cause,
            crate::db::SqlError::Postgres(e) => return crate::team::catalog::query_error("team catalog", &e),
            crate::db::SqlError::Reconnect(e) => return e,
            e => e,
        };
        match e.sqlite_error_code() {
            // The path is not known here; the engine names catalog.db.
            Some(_) => Error::from_sqlite(Path::new("catalog.db"), &e),
            None => Error::catalog(e),
        }
    }
}
