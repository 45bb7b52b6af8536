//! Failpoints for crash-consistency tests: `IMAGESMITH_FAILPOINT=name` kills the process (SIGKILL,
//! as `kill -9` would) when it reaches the point of that name; `IMAGESMITH_FAILPOINT=name:pause=FILE`
//! creates FILE there and waits until the test removes it, so that a test can act while the
//! process stands at that point (restart a server, run another desktop's work against it). Several
//! points, each with its own file, are separated by commas.
//! Compiled in only with the cargo feature `failpoints`, which the CLI's tests turn on; release
//! builds have no failpoints at all.
//!
//! Points: `import.after_rename` (an object is in objects/, its rows are not committed yet),
//! `delete.before_commit` (the rows are deleted, not committed yet), `delete.after_commit` (the rows
//! are gone, the object file is not removed yet), `export.before_rename` (the archive and sidecar
//! are written under their hidden temp names), `export.between_renames` (the archive is in place,
//! its sidecar not yet), `profile_import.before_commit` (the members are imported, the profile is
//! not committed), `verify.after_hash` (an object was re-hashed, its state not recorded yet), `qemu.converting`
//! (a `qemu-img convert` child is running), `team.upload.after_part.N` (part N of a multipart upload to
//! a team's bucket is sent and recorded, the upload is not complete), `team.upload.done` (the object
//! is whole in the bucket, no row names it yet), `team.gc.before_delete` (a
//! tombstone's object is about to be deleted from the bucket, in the write transaction).

/// Die here, at once and without cleaning up, when `IMAGESMITH_FAILPOINT` names this point; or
/// stand here while the pause file it names exists.
#[cfg(feature = "failpoints")]
pub fn failpoint(name: &str) {
    static CHOSEN: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let Some(chosen) = CHOSEN.get_or_init(|| std::env::var("IMAGESMITH_FAILPOINT").ok()).as_deref() else {
        return;
    };
    for one in chosen.split(',') {
        match one.split_once(":pause=") {
            Some((point, file)) if point == name => {
                std::fs::write(file, name).expect("failpoint: writing the pause file");
                while std::path::Path::new(file).exists() {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
            None if one == name => {
                // SAFETY: kill(2) on our own pid with a constant signal number.
                unsafe {
                    libc::kill(libc::getpid(), libc::SIGKILL);
                }
            }
            _ => {}
        }
    }
}

#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn failpoint(_name: &str) {}
