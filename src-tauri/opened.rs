//! Files and folders named on the command line — what a desktop's "Open with Imagesmith" passes
//! (`Exec=imagesmith %F` in the .desktop entry): kept for the window to ask for once
//! (`opened_files`), and granted like dropped files, so they go into the import review.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The paths of existing regular files and folders among `args` (the arguments after the program
/// name), made absolute against `cwd`. Anything else — a missing path, a pipe, a device, an option —
/// is logged and left out: nothing but files the person picked in a file manager is imported.
pub fn from_args(args: impl IntoIterator<Item = OsString>, cwd: &Path) -> Vec<PathBuf> {
    let mut opened: Vec<PathBuf> = Vec::new();
    for arg in args {
        let path = cwd.join(PathBuf::from(arg));
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() || meta.is_dir() => {
                if !opened.contains(&path) {
                    opened.push(path);
                }
            }
            Ok(_) => tracing::warn!(path = %path.display(), "not a regular file or folder; not opened"),
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot be opened; left out"),
        }
    }
    opened
}

/// What the command line named, handed to the window once.
#[derive(Default)]
pub struct Opened {
    paths: Mutex<Vec<PathBuf>>,
}

impl Opened {
    pub fn new(paths: Vec<PathBuf>) -> Opened {
        Opened { paths: Mutex::new(paths) }
    }

    /// The paths not yet handed over; empty from the second call on (a reload of the page does
    /// not open the review again).
    pub fn take(&self) -> Vec<PathBuf> {
        std::mem::take(&mut *self.paths.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_existing_files_and_folders_are_kept_made_absolute_and_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("debian.iso"), b"x").unwrap();
        std::fs::create_dir(dir.path().join("drivers")).unwrap();
        let args = ["debian.iso", "drivers", "missing.qcow2", "/dev/null", "--verbose", "debian.iso"].map(OsString::from);
        let opened = from_args(args, dir.path());
        assert_eq!(opened, [dir.path().join("debian.iso"), dir.path().join("drivers")]);
        assert!(opened.iter().all(|p| p.is_absolute()));
    }

    #[test]
    fn the_paths_are_handed_over_once() {
        let opened = Opened::new(vec![PathBuf::from("/d/a.iso")]);
        assert_eq!(opened.take(), [PathBuf::from("/d/a.iso")]);
        assert!(opened.take().is_empty());
    }
}
