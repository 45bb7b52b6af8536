//! The fuzz targets' entry points, shared by the cargo-fuzz harness (`fuzz/`) and the corpus replay
//! test that `make test` runs: each takes arbitrary bytes and must return — an answer or a coded
//! error — without panicking, hanging or allocating without bound.

use crate::model::string_enum;
use std::io::Write;
use std::path::PathBuf;

string_enum!(
    /// One parser that reads what users drop on the window. `detect`: file detection as an import
    /// runs it (ISO 9660 volumes and driver update disks, zips of `.inf` drivers, tar.gz listings,
    /// XML answer files, scripts, disk image headers); `checksum_file`: GNU and BSD lines, comments,
    /// clear-signed armour; `tar_listing`: tar listing with bounded headers (software, profiles, any
    /// tar.gz); `profile_manifest`: a profile archive's profile.json and its checks; `inf`: a
    /// Windows .inf in any encoding (version, manufacturer decorations, models, source files);
    /// `xml`: XML with bounded depth (answer files).
    Target,
    "fuzz target",
    InvalidArgument {
        Detect = "detect",
        ChecksumFile = "checksum_file",
        TarListing = "tar_listing",
        ProfileManifest = "profile_manifest",
        Inf = "inf",
        Xml = "xml",
    }
);

/// Feed `data` to `target`. Errors are answers; only a panic, a hang or a crash is a finding.
pub fn run(target: Target, data: &[u8]) {
    match target {
        Target::Detect => detect(data),
        Target::ChecksumFile => {
            if let Some(text) = crate::detect::decode_text(data) {
                let _ = crate::checksum::parse_checksum_text(&text, "fuzz.sha256");
            }
        }
        Target::TarListing => {
            let damaged = |e: &std::io::Error| crate::Error::invalid_argument(e.to_string(), "");
            let limits = crate::archive::Limits { max_entries: 10_000, refuse_more_entries: true };
            let _ = crate::archive::walk(data, "fuzz.tar", limits, &damaged, |entry| {
                let _ = entry.path();
                let _ = entry.header().entry_type();
                Ok(crate::archive::Walk::Continue)
            });
        }
        Target::ProfileManifest => {
            let _ = crate::profile_import::parse_manifest_for_fuzzing(data);
        }
        Target::Inf => {
            let _ = crate::driver_info::describe_inf(&crate::driver_info::decode_inf(data));
        }
        Target::Xml => {
            if let Ok(text) = std::str::from_utf8(data) {
                let _ = crate::detect::parse_xml(text);
            }
        }
    }
}

/// Detection reads files, so the bytes go to a file first — one per thread, under the temp folder,
/// named as each format's files are named so every detector gets its turn. (The folder is left for
/// the next input of the same thread; the OS's temp cleaning removes it.)
fn detect(data: &[u8]) {
    thread_local! {
        static DIR: PathBuf = {
            let dir = std::env::temp_dir().join(format!("imagesmith-fuzz-{}-{:?}", std::process::id(), std::thread::current().id()));
            std::fs::create_dir_all(&dir).expect("a temp folder for fuzz inputs");
            dir
        };
    }
    DIR.with(|dir| {
        for name in ["input.iso", "input.zip", "input.tar.gz", "input.xml", "input.cfg", "input.qcow2", "input.bin"] {
            let path = dir.join(name);
            let written = std::fs::File::create(&path).and_then(|mut f| f.write_all(data));
            if written.is_ok() {
                let _ = crate::detect::detect(&path);
            }
        }
    });
}
