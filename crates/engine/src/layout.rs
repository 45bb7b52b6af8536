//! Where a repository lives on disk: catalog.db, objects/sha256/ab/…, staging/.

use crate::error::{code, Error, Result};
use std::path::{Path, PathBuf};

/// The app's identifier; it fixes the per-user data directory shared by the app and the CLI.
pub const APP_IDENTIFIER: &str = "io.imagesmith.desktop";
/// Environment variable that points every Imagesmith process at another repository.
pub const HOME_ENV: &str = "IMAGESMITH_HOME";

/// The files of one repository, computed from its root directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLayout {
    pub root: PathBuf,
    /// A folder the user configured (`--home`, `IMAGESMITH_HOME`): opening it never creates it. A
    /// missing one is `repository_missing` — a disk or share not mounted — instead of a new, empty
    /// repository where the old one was expected.
    pub must_exist: bool,
}

impl DataLayout {
    /// A repository at `root`, created when it does not exist yet.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataLayout { root: root.into(), must_exist: false }
    }

    /// The repository the user configured at `root`: it must exist (see [`DataLayout::must_exist`]).
    pub fn configured(root: impl Into<PathBuf>) -> Self {
        DataLayout { root: root.into(), must_exist: true }
    }

    /// The same repository, created if it is missing (`imagesmith-cli init`).
    pub fn creating(self) -> Self {
        DataLayout { must_exist: false, ..self }
    }

    /// `IMAGESMITH_HOME` when set, else `<user data dir>/io.imagesmith.desktop/repository`.
    pub fn default_for_user() -> Result<Self> {
        if let Some(home) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            return Ok(DataLayout::configured(PathBuf::from(home)));
        }
        let data = dirs::data_dir().ok_or_else(|| {
            Error::new(
                code::REPOSITORY_UNAVAILABLE,
                "Could not find your user data directory.",
                "Neither XDG_DATA_HOME nor HOME is set, so there is no per-user place for the repository.",
                format!("Set {HOME_ENV} (or pass --home) to the folder the repository should live in."),
            )
        })?;
        Ok(DataLayout::new(data.join(APP_IDENTIFIER).join("repository")))
    }

    pub fn catalog(&self) -> PathBuf {
        self.root.join("catalog.db")
    }

    pub fn objects(&self) -> PathBuf {
        self.root.join("objects").join("sha256")
    }

    pub fn staging(&self) -> PathBuf {
        self.root.join("staging")
    }

    /// Partial downloads, one folder per URL, kept across restarts so a download resumes.
    pub fn downloads(&self) -> PathBuf {
        self.root.join("downloads")
    }

    /// `objects/sha256/<first 2 hex>/<remaining 62 hex>`.
    pub fn object_path(&self, sha256: &str) -> PathBuf {
        let (head, rest) = sha256.split_at(2);
        self.objects().join(head).join(rest)
    }

    pub fn contains(&self, path: &Path) -> bool {
        path.starts_with(&self.root)
    }
}
