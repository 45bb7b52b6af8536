//! Import of files: review (plan), then one job that verifies, deduplicates and stores each file.
//!
//! Per file: detect -> check the support matrix -> one read pass feeding the staging writer and every
//! hasher -> compare with the expected digest -> fsync -> rename into objects/ -> one catalog
//! transaction. A failure at any step leaves no object and no row; one bad file never stops the rest.

use crate::cancel::CancelToken;
use crate::catalog::{self, NewArtifact};
use crate::checksum::{self, ChecksumFile, ExpectedDigest};
use crate::detect::{self, Detection};
use crate::error::{code, Error, Result};
use crate::jobs::{self, JobProgress, JobState, JobSummary, Outcome};
use crate::matrix;
use crate::model::{Algo, Artifact, ArtifactRef, Kind, OsFamily, OsName};
use crate::pipeline::{self, Sink};
use crate::progress::Meter;
use crate::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Files to review before importing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PlanRequest {
    pub paths: Vec<PathBuf>,
    /// Extra checksum files to match against (besides those found among `paths`).
    pub checksum_files: Vec<PathBuf>,
}

/// The review of one file: what it is, what it needs, whether it can be imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PlanItem {
    pub path: String,
    pub file_name: String,
    pub size: u64,
    pub format: String,
    pub kind: Option<Kind>,
    pub os: Option<OsFamily>,
    pub distro: Option<String>,
    /// OS families the matrix accepts for this kind and format.
    pub allowed_os: Vec<OsFamily>,
    pub os_required: bool,
    /// Kinds this file could be imported as.
    pub allowed_kinds: Vec<Kind>,
    pub expected: Option<ExpectedDigest>,
    /// Why this file cannot be imported as it stands (unknown type, bad content, OS missing…).
    pub refused: Option<Error>,
    pub detected: Value,
}

/// A checksum file found among the paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChecksumFileReport {
    pub path: String,
    pub file_name: String,
    pub format: String,
    pub entries: u32,
    /// Names of the files being imported that it gave a digest for.
    pub matched: Vec<String>,
    pub error: Option<Error>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportPlan {
    pub items: Vec<PlanItem>,
    pub checksum_files: Vec<ChecksumFileReport>,
}

/// One file to import, with what the user chose or confirmed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportItem {
    pub path: PathBuf,
    pub kind: Option<Kind>,
    /// An OS family or distribution name (`linux`, `windows`, `vmware`, `rhel`, …).
    pub os: Option<String>,
    /// Name or id of the OS image this file belongs to.
    pub image: Option<String>,
    pub name: Option<String>,
    pub expected: Option<ExpectedDigest>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportRequest {
    pub items: Vec<ImportItem>,
    /// Checksum files to take expected digests from, matched by file name.
    pub checksum_files: Vec<PathBuf>,
}

/// What became of one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ItemReport {
    pub path: String,
    pub outcome: Outcome,
    /// The new artifact, or for a duplicate the one already holding these bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
    /// The digests that were checked, and where each came from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub verified: Vec<ExpectedDigest>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportReport {
    pub job: JobSummary,
    pub items: Vec<ItemReport>,
    pub checksum_files: Vec<ChecksumFileReport>,
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// Split paths into files to import and checksum files (recognised by name, confirmed by content).
/// A file whose name says "checksum file" but whose content does not parse is reported as invalid.
pub fn split_checksum_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, Result<ChecksumFile>)>) {
    let mut files = Vec::new();
    let mut sums = Vec::new();
    for p in paths {
        let name = file_name(p);
        let small = std::fs::metadata(p).map(|m| m.is_file() && m.len() <= checksum::MAX_CHECKSUM_FILE).unwrap_or(false);
        if small && checksum::name_suggests_checksum_file(&name) {
            sums.push((p.clone(), checksum::read_checksum_file(p)));
        } else {
            files.push(p.clone());
        }
    }
    (files, sums)
}

fn load_checksum_files(paths: &[PathBuf]) -> Vec<(PathBuf, Result<ChecksumFile>)> {
    paths.iter().map(|p| (p.clone(), checksum::read_checksum_file(p))).collect()
}

/// The strongest digest the checksum files give for `name` (what the review shows).
fn expected_from(sums: &[(PathBuf, Result<ChecksumFile>)], name: &str) -> Option<ExpectedDigest> {
    all_expected(sums, name).into_iter().max_by_key(|e| e.algo.hex_len())
}

/// Every digest the checksum files give for `name`; all of them are checked.
fn all_expected(sums: &[(PathBuf, Result<ChecksumFile>)], name: &str) -> Vec<ExpectedDigest> {
    sums.iter().filter_map(|(_, f)| f.as_ref().ok()).filter_map(|f| f.expected_for(name)).collect()
}

/// A zip with a detached signature next to it (`x.zip` + `x.zip.asc`) is a vendor bundle.
fn is_signed(name: &str, all_names: &[String]) -> bool {
    let sig = format!("{name}.asc");
    all_names.iter().any(|n| n.eq_ignore_ascii_case(&sig))
}

fn checksum_reports(sums: &[(PathBuf, Result<ChecksumFile>)], names: &[String]) -> Vec<ChecksumFileReport> {
    sums.iter()
        .map(|(p, f)| match f {
            Ok(f) => ChecksumFileReport {
                path: p.display().to_string(),
                file_name: f.file_name.clone(),
                format: f.format.clone(),
                entries: f.entries.len() as u32,
                matched: names.iter().filter(|n| f.expected_for(n).is_some()).cloned().collect(),
                error: None,
            },
            Err(e) => ChecksumFileReport {
                path: p.display().to_string(),
                file_name: file_name(p),
                format: String::new(),
                entries: 0,
                matched: Vec::new(),
                error: Some(e.clone()),
            },
        })
        .collect()
}

/// Decide kind and OS for a detected file given what the user said. Errors name what is allowed.
fn resolve(
    det: &Detection,
    kind: Option<Kind>,
    os: Option<&str>,
    name: &str,
    signed: bool,
) -> Result<(Kind, Option<OsFamily>, Option<String>)> {
    let kind = match kind {
        Some(k) => k,
        None if signed && matrix::allowed(Kind::Bundle, OsFamily::Windows).contains(&det.format) => Kind::Bundle,
        None => matrix::default_kind(det.format).ok_or_else(|| matrix::unknown_type_error(name, det.format))?,
    };
    let user_os: Option<OsName> = os.map(str::parse).transpose()?;
    let (family, distro) = match user_os {
        Some(o) => (Some(o.family), o.distro.or_else(|| det.distro.clone().filter(|_| det.os == Some(o.family)))),
        None => {
            let candidates = matrix::os_for(kind, det.format);
            match det.os {
                Some(os) if candidates.contains(&os) || !matrix::os_required(kind) => (Some(os), det.distro.clone()),
                _ if candidates.len() == 1 => (Some(candidates[0]), None),
                _ => (None, None),
            }
        }
    };
    matrix::check(kind, family, det.format, name)?;
    if family.is_none() && matrix::os_required(kind) {
        return Err(matrix::os_required_error(kind, name, &matrix::os_for(kind, det.format)));
    }
    Ok((kind, family, distro))
}

impl Engine {
    /// Review files before importing: detected kind and OS, what is required, expected digests
    /// from checksum files found among them, and what would be refused and why. Reads only heads.
    pub fn plan_import(&self, req: &PlanRequest) -> Result<ImportPlan> {
        let (files, mut sums) = split_checksum_files(&req.paths);
        sums.extend(load_checksum_files(&req.checksum_files));
        let names: Vec<String> = files.iter().map(|p| file_name(p)).collect();
        let mut items = Vec::new();
        for path in &files {
            let name = file_name(path);
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            let mut item = PlanItem {
                path: path.display().to_string(),
                file_name: name.clone(),
                size,
                format: String::new(),
                kind: None,
                os: None,
                distro: None,
                allowed_os: Vec::new(),
                os_required: false,
                allowed_kinds: Vec::new(),
                expected: expected_from(&sums, &name),
                refused: None,
                detected: Value::Null,
            };
            match detect::detect(path) {
                Err(e) => item.refused = Some(e),
                Ok(det) => {
                    item.format = det.format.as_str().to_string();
                    item.detected = Value::Object(det.facts.clone());
                    item.allowed_kinds = Kind::ALL
                        .iter()
                        .copied()
                        .filter(|k| matrix::importable(*k) && !matrix::os_for(*k, det.format).is_empty())
                        .collect();
                    item.kind = matrix::default_kind(det.format);
                    let signed = is_signed(&name, &names);
                    match resolve(&det, None, None, &name, signed) {
                        Ok((kind, os, distro)) => {
                            item.kind = Some(kind);
                            item.os = os;
                            item.distro = distro;
                        }
                        Err(e) => {
                            // Missing OS is a question for the review, not a refusal.
                            if e.code != code::OS_REQUIRED {
                                item.refused = Some(e);
                            }
                        }
                    }
                    if let Some(kind) = item.kind {
                        item.allowed_os = matrix::os_for(kind, det.format);
                        item.os_required = matrix::os_required(kind);
                    }
                }
            }
            items.push(item);
        }
        Ok(ImportPlan { items, checksum_files: checksum_reports(&sums, &names) })
    }

    /// Start an import job on its own thread; returns its id at once.
    pub fn start_import(self: &Arc<Self>, req: ImportRequest, sink: crate::ProgressSink) -> Result<i64> {
        let token = CancelToken::new();
        let job = self.create_import_job(&req)?;
        self.register_running(job, &token);
        let engine = Arc::clone(self);
        std::thread::Builder::new()
            .name(format!("import-{job}"))
            .spawn(move || {
                let _ = engine.run_import_job(job, &req, &token, &*sink);
                engine.unregister_running(job);
                // A long-running app settles what it imported once the kernel has written it back.
                std::thread::sleep(crate::durability::SETTLE_AFTER + std::time::Duration::from_secs(5));
                let _ = engine.settle(crate::durability::SETTLE_AFTER);
            })
            .map_err(|e| Error::new(code::CATALOG_FAILED, format!("Could not start the import: {e}."), "The system refused to start a worker thread.", "Close other programs and try again."))?;
        Ok(job)
    }

    /// Import in the calling thread (the CLI): create the job, run it, return the report.
    pub fn import(&self, req: &ImportRequest, cancel: &CancelToken, sink: &dyn Fn(&JobProgress)) -> Result<ImportReport> {
        let job = self.create_import_job(req)?;
        self.register_running(job, cancel);
        let out = self.run_import_job(job, req, cancel, sink);
        self.unregister_running(job);
        out
    }

    fn create_import_job(&self, req: &ImportRequest) -> Result<i64> {
        let items: Vec<(String, Option<u64>)> = req
            .items
            .iter()
            .map(|i| (i.path.display().to_string(), std::fs::metadata(&i.path).ok().map(|m| m.len())))
            .collect();
        let total = items.iter().filter_map(|(_, s)| *s).sum();
        let session = self.store.session().to_string();
        self.write(|tx| jobs::create(tx, "import", &session, &items, total))
    }

    fn run_import_job(&self, job: i64, req: &ImportRequest, cancel: &CancelToken, sink: &dyn Fn(&JobProgress)) -> Result<ImportReport> {
        let sums = load_checksum_files(&req.checksum_files);
        let names: Vec<String> = req.items.iter().map(|i| file_name(&i.path)).collect();
        let sizes: Vec<u64> = req.items.iter().map(|i| std::fs::metadata(&i.path).map(|m| m.len()).unwrap_or(0)).collect();
        let mut meter = Meter::new(job, req.items.len() as u32, sizes.iter().sum());
        jobs::set_running(&self.db(), job)?;
        let mut reports = Vec::with_capacity(req.items.len());
        let mut base = 0u64;
        let mut cancelled = false;
        for (seq, item) in req.items.iter().enumerate() {
            if cancelled || cancel.is_cancelled() {
                cancelled = true;
                reports.push(ItemReport { path: item.path.display().to_string(), outcome: Outcome::Cancelled, artifact: None, error: None, verified: Vec::new() });
                continue;
            }
            meter.progress.item_index = seq as u32;
            meter.progress.item_path = item.path.display().to_string();
            meter.progress.item_bytes_total = sizes[seq];
            meter.progress.phase = "checking".into();
            meter.mark_dirty();
            meter.advance(base, 0);
            sink(&meter.progress);
            let mut expected: Vec<ExpectedDigest> = item.expected.iter().cloned().collect();
            for e in all_expected(&sums, &names[seq]) {
                if !expected.iter().any(|x| x.algo == e.algo && x.hex == e.hex) {
                    expected.push(e);
                }
            }
            let signed = is_signed(&names[seq], &names);
            let result = self.import_one(item, &expected, signed, cancel, &mut |phase, done| {
                if meter.progress.phase != phase {
                    meter.progress.phase = phase.to_string();
                    meter.mark_dirty();
                }
                let (tell, persist) = meter.advance(base, done);
                if tell {
                    sink(&meter.progress);
                }
                if persist {
                    let _ = jobs::save_progress(&self.db(), &meter.progress);
                }
            });
            base += sizes[seq];
            let report = match result {
                Ok((outcome, artifact)) => {
                    let r = ArtifactRef { id: artifact.id, name: artifact.name.clone() };
                    self.write(|tx| jobs::set_item(tx, job, seq as u32, outcome, Some(&r), None))?;
                    ItemReport { path: item.path.display().to_string(), outcome, artifact: Some(artifact), error: None, verified: expected }
                }
                Err(e) => {
                    let outcome = if e.code == code::CANCELLED { Outcome::Cancelled } else { Outcome::Failed };
                    cancelled |= outcome == Outcome::Cancelled;
                    let error = (outcome == Outcome::Failed).then_some(e);
                    self.write(|tx| jobs::set_item(tx, job, seq as u32, outcome, None, error.as_ref()))?;
                    ItemReport { path: item.path.display().to_string(), outcome, artifact: None, error, verified: Vec::new() }
                }
            };
            reports.push(report);
        }
        let count = |o: Outcome| reports.iter().filter(|r| r.outcome == o).count();
        let (imported, duplicates, failed) = (count(Outcome::Imported), count(Outcome::Duplicate), count(Outcome::Failed));
        let state = JobState::of_batch(cancelled, failed);
        let mut parts = vec![format!("{imported} imported")];
        if duplicates > 0 {
            parts.push(format!("{duplicates} already there"));
        }
        if failed > 0 {
            parts.push(format!("{failed} failed"));
        }
        if cancelled {
            parts.push("cancelled".into());
        }
        let summary = parts.join(", ");
        let job_error = cancelled.then(Error::cancelled);
        meter.progress.state = state;
        meter.progress.phase = if cancelled { "cancelled".into() } else { "done".into() };
        meter.progress.eta_seconds = None;
        {
            let conn = self.db();
            jobs::save_progress(&conn, &meter.progress)?;
            jobs::finish(&conn, job, state, &summary, job_error.as_ref())?;
        }
        sink(&meter.progress);
        let detail = self.get_job(job)?;
        let checksum_files = checksum_reports(&sums, &names);
        Ok(ImportReport { job: detail.job, items: reports, checksum_files })
    }

    /// Import one file. Returns the outcome (imported / duplicate) and the artifact.
    pub(crate) fn import_one(
        &self,
        item: &ImportItem,
        expected: &[ExpectedDigest],
        signed: bool,
        cancel: &CancelToken,
        progress: &mut dyn FnMut(&str, u64),
    ) -> Result<(Outcome, Artifact)> {
        let path = &item.path;
        let name = file_name(path);
        let mut det = detect::detect(path)?;
        if item.kind == Some(Kind::DiskImage) && matches!(det.format, detect::Format::Binary | detect::Format::Text) {
            // Raw images have no header: they are disk images because the user says so.
            det.format = detect::Format::Raw;
            det.facts.extend(detect::disk_image_info(path, detect::Format::Raw)?);
        }
        let (kind, os, distro) = resolve(&det, item.kind, item.os.as_deref(), &name, signed)?;
        let image = match &item.image {
            Some(key) => Some(self.resolve_image(key, kind, os, &name)?),
            None => None,
        };
        let given_name = item.name.as_deref().map(catalog::validate_name).transpose()?;
        if let Some(n) = &given_name {
            if catalog::name_taken(&self.db(), n, None)? {
                return Err(catalog::name_taken_error(n));
            }
        }

        let extra: Vec<Algo> = expected.iter().map(|e| e.algo).collect();
        let (mut staged_file, staged) = self.store.staging_file()?;
        let staged_guard = RemoveOnDrop(Some(staged.clone()));
        let mut src = pipeline::open_sequential(path)?;
        let digests = pipeline::copy_and_hash(
            &mut src,
            path,
            Some(Sink { file: &mut staged_file, path: &staged }),
            &extra,
            cancel,
            &mut |done| progress("copying", done),
        )?;
        drop(staged_file);
        progress("verifying", digests.size);
        for exp in expected {
            let actual = digests.get(exp.algo).unwrap_or_default();
            if actual != exp.hex {
                return Err(checksum_mismatch(&name, exp, actual));
            }
        }
        if cancel.is_cancelled() {
            return Err(Error::cancelled());
        }
        progress("committing", digests.size);
        let detected = Value::Object(det.facts.clone());
        let mut committed: Option<PathBuf> = None;
        let outcome = self.write(|tx| {
            if let Some(existing) = catalog::by_sha256(tx, &digests.sha256)? {
                return Ok((Outcome::Duplicate, existing.id));
            }
            let final_name = match &given_name {
                Some(n) if catalog::name_taken(tx, n, None)? => return Err(catalog::name_taken_error(n)),
                Some(n) => n.clone(),
                None => catalog::free_name(tx, &name)?,
            };
            let id = catalog::insert(
                tx,
                &NewArtifact {
                    name: &final_name,
                    kind,
                    os,
                    distro: distro.as_deref(),
                    digests: &digests,
                    image_id: image.as_ref().map(|i| i.id),
                    original_name: &name,
                    detected: &detected,
                },
            )?;
            // Last step inside the transaction, so a concurrent delete of the same bytes waits.
            committed = Some(self.store.commit(&staged, &digests.sha256)?);
            Ok((Outcome::Imported, id))
        });
        let (outcome, id) = match outcome {
            Ok(v) => v,
            Err(e) => {
                if let Some(obj) = committed {
                    // The rows were rolled back; the object must go too.
                    let _ = std::fs::remove_file(obj);
                }
                return Err(e);
            }
        };
        drop(staged_guard);
        let artifact = catalog::by_id(&self.db(), id)?.ok_or_else(|| Error::not_found("artifact", &id.to_string()))?;
        Ok((outcome, artifact))
    }

    fn resolve_image(&self, key: &str, kind: Kind, os: Option<OsFamily>, name: &str) -> Result<ArtifactRef> {
        let image = catalog::find(&self.db(), key)?.filter(|a| a.kind == Kind::Os).ok_or_else(|| Error::image_not_found(key))?;
        if kind == Kind::Os {
            return Err(Error::invalid_argument(
                format!("{name} is an OS image itself and cannot belong to another image."),
                "Leave out the image for OS images.",
            ));
        }
        if let (Some(mine), Some(theirs)) = (os, image.os) {
            if mine != theirs {
                return Err(Error::new(
                    code::UNSUPPORTED_TYPE,
                    format!("{name} is a {mine} file but the image {} is {theirs}.", image.name),
                    "A file can only belong to an OS image of the same operating system.",
                    "Name an image of the same OS, or correct the file's OS.",
                ));
            }
        }
        Ok(ArtifactRef { id: image.id, name: image.name })
    }
}

/// Deletes a staging file unless the import got as far as committing it.
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

pub fn checksum_mismatch(name: &str, exp: &ExpectedDigest, actual: &str) -> Error {
    let source = if exp.source == "entered" { "the checksum you entered".to_string() } else { format!("the expected checksum from {}", exp.source) };
    Error::new(
        code::CHECKSUM_MISMATCH,
        format!("The {} checksum of {name} does not match {source}: expected {}, got {actual}.", exp.algo.tag(), exp.hex),
        "The file differs from the one the checksum was published for: the download may be incomplete or damaged, or the checksum belongs to another file or release.",
        "Make sure the checksum matches the file (same release and edition), download the file again if needed, and import it again.",
    )
}
