//! Rebuild a damaged catalog from the stored files: the damaged catalog is set aside (never
//! deleted), a new one is made, and every object file that still hashes to its name becomes an
//! artifact again, its kind and OS detected from its content. Names, profiles and history lived
//! only in the old catalog: artifacts are named `recovered-<sha256 prefix>.<ext>` and can be
//! renamed. A file that no longer matches its name goes to `lost+found/`, never away.

use crate::cancel::CancelToken;
use crate::catalog::{self, NewArtifact};
use crate::detect::{self, Format};
use crate::error::{code, Error, Result};
use crate::layout::DataLayout;
use crate::model::{Algo, Kind};
use crate::{db, integrity, matrix};
use serde::Serialize;
use std::path::PathBuf;

/// What a rebuild did.
#[derive(Debug, Clone, Serialize)]
pub struct RebuildReport {
    /// Where the damaged catalog was moved (next to the new one), when there was one.
    pub set_aside: Option<String>,
    /// Names of the artifacts made from the stored files.
    pub recovered: Vec<String>,
    /// Stored files that no longer hash to their name, moved to `lost+found/`.
    pub lost_and_found: Vec<String>,
}

/// The extension a recovered file gets, so that tools that look at names see what it is.
fn extension(format: Format) -> &'static str {
    match format {
        Format::Iso | Format::WinPeIso | Format::DriverDisk => ".iso",
        Format::Rpm => ".rpm",
        Format::Zip | Format::ZipDrivers | Format::ZipWinPe => ".zip",
        Format::TarGz | Format::ProfileTarGz => ".tar.gz",
        Format::Asc => ".asc",
        Format::Json => ".json",
        Format::Kickstart => ".cfg",
        Format::AutoYast | Format::Unattend | Format::Xml => ".xml",
        Format::Shell => ".sh",
        Format::Perl => ".pl",
        Format::Python => ".py",
        Format::Cmd => ".cmd",
        Format::PowerShell => ".ps1",
        Format::Qcow2 => ".qcow2",
        Format::Vmdk => ".vmdk",
        Format::Vhdx => ".vhdx",
        Format::Raw => ".img",
        Format::Text => ".txt",
        Format::Binary => ".bin",
    }
}

/// Set the damaged catalog aside and make a new one from the stored files. Refused while another
/// process has the repository open (its catalog would be pulled from under it).
pub fn rebuild_catalog(layout: &DataLayout) -> Result<RebuildReport> {
    let catalog = layout.catalog();
    let store = crate::store::Store::open(layout)?;
    let others = store.live_sessions()?.into_iter().filter(|s| s != store.session()).count();
    if others > 0 {
        return Err(Error::new(
            code::CATALOG_BUSY,
            format!("The catalog {} cannot be rebuilt while {others} other Imagesmith process(es) use the repository.", catalog.display()),
            "Rebuilding replaces the catalog; a process that has it open would keep writing to the old one.",
            "Close the app and other imagesmith-cli commands on this repository, then rebuild again.",
        ));
    }
    // Built under another name and moved into place last: a rebuild killed half-way leaves the
    // damaged catalog where it was (refused again, rebuilt again), never a partial new one that
    // would make the stored files look like strays.
    let building = PathBuf::from(format!("{}.rebuilding", catalog.display()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
    }
    let mut conn = db::open(&building, true)?;
    let lost_dir = layout.root.join("lost+found");
    let mut recovered = Vec::new();
    let mut lost_and_found = Vec::new();
    db::write(&mut conn, |tx| {
        for (sha, path) in integrity::object_files(&layout.objects())? {
            let digests = crate::pipeline::hash_file(&path, &[Algo::Md5], &CancelToken::new(), &mut |_| {})?;
            if digests.sha256 != sha {
                std::fs::create_dir_all(&lost_dir).map_err(|e| Error::io(&lost_dir, &e, true))?;
                let to = lost_dir.join(&sha);
                std::fs::rename(&path, &to).map_err(|e| Error::io(&to, &e, true))?;
                lost_and_found.push(to.display().to_string());
                continue;
            }
            let det = detect::detect(&path).ok();
            let format = det.as_ref().map_or(Format::Binary, |d| d.format);
            // An RPM without kernel modules (no `driver` found) is software, as the import would have it.
            let not_a_driver = format == Format::Rpm && det.as_ref().is_some_and(|d| !d.facts.contains_key("driver"));
            let kind = if not_a_driver { Some(Kind::Software) } else { matrix::default_kind(format) };
            let kind = kind.unwrap_or(match format {
                Format::Raw => Kind::DiskImage,
                Format::Xml | Format::Text => Kind::Config,
                _ => Kind::Software,
            });
            let name = format!("recovered-{}{}", &sha[..12], extension(format));
            let detected = serde_json::Value::Object(det.as_ref().map(|d| d.facts.clone()).unwrap_or_default());
            catalog::insert(
                tx,
                &NewArtifact {
                    name: &name,
                    kind,
                    os: det.as_ref().and_then(|d| d.os),
                    distro: det.as_ref().and_then(|d| d.distro.as_deref()),
                    digests: &digests,
                    image_id: None,
                    original_name: &name,
                    detected: &detected,
                },
            )?;
            // Read from disk just now: settled, nothing to re-hash after a restart.
            tx.execute("UPDATE objects SET unsettled_boot = NULL WHERE sha256 = ?1", [&sha])?;
            recovered.push(name);
        }
        Ok(())
    })?;
    drop(conn); // the last connection folds the write-ahead log into the file
    let stamp = crate::clock::now().replace([':', '-', '.'], "");
    let mut set_aside = None;
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", catalog.display()));
        if from.exists() {
            let to = PathBuf::from(format!("{}.damaged-{stamp}{suffix}", catalog.display()));
            std::fs::rename(&from, &to).map_err(|e| Error::io(&to, &e, true))?;
            if suffix.is_empty() {
                set_aside = Some(to.display().to_string());
            }
        }
    }
    std::fs::rename(&building, &catalog).map_err(|e| Error::io(&catalog, &e, true))?;
    recovered.sort();
    Ok(RebuildReport { set_aside, recovered, lost_and_found })
}
