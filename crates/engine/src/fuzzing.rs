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
    /// `xml`: XML with bounded depth (answer files); `wim`: a WIM/ESD header and its XML editions (seeking and front to back);
    /// `windows_media`: a UDF image given as sparse sectors (see [`sparse_image`]), its `sources/`
    /// images looked up and their editions read; `lint`: answer-file lint, the text read as a
    /// kickstart file, an AutoYaST profile and an unattend.xml.
    Target,
    "fuzz target",
    InvalidArgument {
        Detect = "detect",
        ChecksumFile = "checksum_file",
        TarListing = "tar_listing",
        ProfileManifest = "profile_manifest",
        Inf = "inf",
        Xml = "xml",
        Wim = "wim",
        WindowsMedia = "windows_media",
        Lint = "lint",
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
        Target::Wim => {
            let _ = crate::wim::wim_editions(std::io::Cursor::new(data));
            let _ = crate::wim::wim_editions_streamed(data, data.len() as u64);
        }
        Target::Lint => {
            if let Some(text) = crate::detect::decode_text(data) {
                let target = crate::lint::Target { distro: Some("rhel".into()), version: Some("9".into()), arch: Some("x86_64".into()) };
                for format in [crate::detect::Format::Kickstart, crate::detect::Format::AutoYast, crate::detect::Format::Unattend] {
                    let _ = crate::lint::lint_text(format, &text, &target);
                }
            }
        }
        Target::WindowsMedia => {
            let image = sparse_image(data);
            if let Ok(udf) = crate::udf::Udf::open(&image[..]) {
                for path in ["sources/install.wim", "sources/install.esd", "sources/boot.wim", "README.TXT"] {
                    if let Ok(file) = udf.open_file(path) {
                        let _ = crate::wim::wim_editions(file);
                    }
                }
            }
        }
    }
}

/// Sectors of a disc image as the `windows_media` target takes them: records of a sector number
/// (u16, little-endian) and its 2048 bytes; sectors not given are zeros. A UDF image's anchor is
/// at sector 256, so a whole image would be mostly zeros for the fuzzer to mutate; its non-zero
/// sectors alone are a few dozen. Images are capped at 4096 sectors (8 MiB).
pub fn sparse_image(data: &[u8]) -> Vec<u8> {
    const SECTOR: usize = 2048;
    let records = data.chunks(2 + SECTOR).filter(|r| r.len() > 2);
    let last = records.clone().map(|r| usize::from(u16::from_le_bytes([r[0], r[1]])) % 4096).max();
    let mut image = vec![0u8; last.map_or(0, |l| (l + 1) * SECTOR)];
    for r in records {
        let at = usize::from(u16::from_le_bytes([r[0], r[1]])) % 4096 * SECTOR;
        image[at..at + r.len() - 2].copy_from_slice(&r[2..]);
    }
    image
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
