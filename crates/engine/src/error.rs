//! Errors users see: a stable code the UI branches on, what happened, why it can happen, what to do.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// Stable error codes. The UI and scripts branch on these; never rename one.
pub mod code {
    pub const NOT_FOUND: &str = "not_found";
    pub const IMAGE_NOT_FOUND: &str = "image_not_found";
    pub const FILE_NOT_FOUND: &str = "file_not_found";
    pub const NOT_A_FILE: &str = "not_a_file";
    pub const READ_FAILED: &str = "read_failed";
    pub const WRITE_FAILED: &str = "write_failed";
    pub const DISK_FULL: &str = "disk_full";
    pub const UNKNOWN_TYPE: &str = "unknown_type";
    pub const UNSUPPORTED_TYPE: &str = "unsupported_type";
    pub const INVALID_CONTENT: &str = "invalid_content";
    pub const OS_REQUIRED: &str = "os_required";
    pub const INVALID_OS: &str = "invalid_os";
    pub const INVALID_KIND: &str = "invalid_kind";
    pub const INVALID_CHECKSUM: &str = "invalid_checksum";
    pub const CHECKSUM_MISMATCH: &str = "checksum_mismatch";
    pub const CHECKSUM_FILE_INVALID: &str = "checksum_file_invalid";
    pub const NAME_TAKEN: &str = "name_taken";
    pub const INVALID_NAME: &str = "invalid_name";
    pub const IN_USE: &str = "in_use";
    pub const OBJECT_MISSING: &str = "object_missing";
    pub const OBJECT_CORRUPTED: &str = "object_corrupted";
    /// A stored object read on its way out (export, upload, publish) is not what was imported.
    pub const OBJECT_DAMAGED: &str = "object_damaged";
    pub const OBJECT_LOST: &str = "object_lost";
    pub const CANCELLED: &str = "cancelled";
    pub const CATALOG_TOO_NEW: &str = "catalog_too_new";
    pub const UNSAFE_ARCHIVE: &str = "unsafe_archive";
    pub const ARCHIVE_TOO_LARGE: &str = "archive_too_large";
    pub const INVALID_PROFILE: &str = "invalid_profile";
    pub const CATALOG_FAILED: &str = "catalog_failed";
    pub const REPOSITORY_UNAVAILABLE: &str = "repository_unavailable";
    pub const JOB_NOT_FOUND: &str = "job_not_found";
    pub const INVALID_ARGUMENT: &str = "invalid_argument";
    // secrets
    pub const SECRET_REQUIRED: &str = "secret_required";
    pub const KEYRING_UNAVAILABLE: &str = "keyring_unavailable";
    // remote file servers and clouds (shared by both)
    pub const CONNECTION_FAILED: &str = "connection_failed";
    pub const TLS_FAILED: &str = "tls_failed";
    pub const AUTH_FAILED: &str = "auth_failed";
    pub const REMOTE_FAILED: &str = "remote_failed";
    // file servers
    pub const HOST_KEY_UNKNOWN: &str = "host_key_unknown";
    pub const HOST_KEY_MISMATCH: &str = "host_key_mismatch";
    pub const REMOTE_PATH_MISSING: &str = "remote_path_missing";
    pub const REMOTE_VERIFY_FAILED: &str = "remote_verify_failed";
    // clouds
    pub const FORBIDDEN: &str = "forbidden";
    pub const REMOTE_CONFLICT: &str = "remote_conflict";
    pub const TOO_LARGE: &str = "too_large";
    pub const FORMAT_MISMATCH: &str = "format_mismatch";
    pub const REMOTE_UNAVAILABLE: &str = "remote_unavailable";
    pub const REMOTE_CHECKSUM_MISMATCH: &str = "remote_checksum_mismatch";
    pub const CONVERSION_FAILED: &str = "conversion_failed";
    pub const FORMAT_UNSUPPORTED: &str = "format_unsupported";
}

/// What crosses every boundary (IPC, CLI JSON): `{code, text, explanation, recovery}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Error {
    pub code: String,
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
    pub fn new(
        code: &str,
        text: impl Into<String>,
        explanation: impl Into<String>,
        recovery: impl Into<String>,
    ) -> Self {
        Error {
            code: code.to_string(),
            text: text.into(),
            explanation: explanation.into(),
            recovery: recovery.into(),
        }
    }

    pub fn is(&self, code: &str) -> bool {
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
            return Error::new(
                code::DISK_FULL,
                format!("The disk holding {p} is full."),
                "The repository stores a full copy of every imported file and needs room for it while the import runs.",
                "Free some space on that disk, or move the repository to a larger one, then try again.",
            );
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
            "The catalog (catalog.db) may be locked by a stuck process for too long, read-only, or on a full disk.",
            "Close other Imagesmith processes that may hang, check free space and permissions of the repository folder, then try again.",
        )
    }

    pub fn invalid_argument(text: impl Into<String>, recovery: impl Into<String>) -> Self {
        Error::new(
            code::INVALID_ARGUMENT,
            text,
            "The request could not be understood as given.",
            recovery,
        )
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::catalog(e)
    }
}
