//! Import an exported profile (.tar.gz): verified against its sidecar and its inner SHA256SUMS,
//! unpacked only into staging with every member checked (no `..`, absolute paths, links, devices,
//! unlisted files, sizes the disk cannot take, bomb-like expansion), members imported deduplicated,
//! and the profile recreated under its name (or a free one).

use crate::archive;
use crate::cancel::CancelToken;
use crate::catalog;
use crate::checksum::{self, ExpectedDigest};
use crate::error::{code, Error, Result};
use crate::export::FORMAT;
use crate::import::{Checks, ImportItem, JobRef};
use crate::jobs::{JobKind, JobProgress, JobSummary, Outcome};
use crate::model::{Algo, ArtifactRef, ExpectedFrom, Kind};
use crate::profile::{self, Profile};
use crate::runner::{self, Done, ItemEnd, ItemSpec, Step, Work};
use crate::Engine;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Declared content larger than this many times the compressed archive is refused as a bomb.
/// Real profiles hold ISOs, RPMs and zips that barely compress, plus small text files.
pub const MAX_EXPANSION: u64 = 100;
/// Archives smaller than this may expand freely (a few answer files compress very well).
const RATIO_FLOOR: u64 = 16 << 20;
/// A profile holds a base image and its members; an archive with more entries than this is not one.
const MAX_ENTRIES: usize = 10_000;
/// profile.json lists a few dozen members; a larger one is not an export (and is not read whole).
const MAX_MANIFEST: u64 = 1 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProfileImportReport {
    pub job: JobSummary,
    pub profile: Profile,
    /// Whether a `.sha256` sidecar was found next to the archive and matched.
    pub sidecar_verified: bool,
    pub members: Vec<ArtifactRef>,
}

fn unsafe_archive(name: &str, why: String) -> Error {
    Error::new(
        code::UNSAFE_ARCHIVE,
        format!("{name} was refused: {why}."),
        "A profile archive holds only plain files in drivers/, boot/, custom/, unattend/ and os/, each listed in its SHA256SUMS. Anything else could write outside the repository or is not an Imagesmith export.",
        "Use an archive exported by Imagesmith from a source you trust; nothing from this one was kept.",
    )
}

fn invalid_profile(name: &str, why: String) -> Error {
    Error::new(
        code::INVALID_PROFILE,
        format!("{name} is not a usable profile export: {why}."),
        "The archive's profile.json and SHA256SUMS must describe every file it holds, and every file must match its checksum.",
        "Export the profile again from the original repository, copy it without changes, and import it again.",
    )
}

/// A member path inside the archive, checked: relative, no `..`, in a known folder or a known root file.
fn safe_member_path(raw: &Path, name: &str) -> Result<Option<PathBuf>> {
    let mut out = PathBuf::new();
    for c in raw.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(unsafe_archive(name, format!("the member {} climbs out of the archive with ..", raw.display())))
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(unsafe_archive(name, format!("the member {} has an absolute path", raw.display())))
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Ok(None);
    }
    let first = out.components().next().and_then(|c| c.as_os_str().to_str()).unwrap_or("");
    let root_file = out.components().count() == 1 && matches!(first, "profile.json" | "SHA256SUMS");
    let in_folder = matches!(first, "drivers" | "boot" | "custom" | "unattend" | "os");
    if !root_file && !in_folder {
        return Err(unsafe_archive(name, format!("the member {} is outside the folders a profile uses", raw.display())));
    }
    Ok(Some(out))
}

#[derive(Deserialize)]
struct Manifest {
    format: String,
    name: String,
    #[serde(default)]
    description: String,
    base: ManifestBase,
    members: Vec<ManifestMember>,
    #[serde(default)]
    install_options: BTreeMap<String, String>,
    #[serde(default)]
    edition: Option<ManifestEdition>,
}

/// The Windows edition the exported profile installed: chosen again by its index.
#[derive(Deserialize)]
struct ManifestEdition {
    index: u32,
}

#[derive(Deserialize)]
struct ManifestBase {
    name: String,
    sha256: String,
    #[serde(default)]
    file: Option<String>,
}

#[derive(Deserialize)]
struct ManifestMember {
    kind: Kind,
    os: Option<String>,
    sha256: String,
    file: String,
    /// A bundle's BUNDLESIG, written beside it as `<file>.asc`.
    #[serde(default)]
    signature: Option<String>,
}

/// Read profile.json: bounded in size, every field of the right type.
fn read_manifest(path: &Path, file_name: &str) -> Result<Manifest> {
    let len = std::fs::metadata(path).map_err(|e| Error::io(path, &e, false))?.len();
    if len > MAX_MANIFEST {
        return Err(invalid_profile(file_name, format!("its profile.json is {len} bytes, more than the {MAX_MANIFEST} an export writes")));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, &e, false))?;
    parse_manifest(&bytes, file_name)
}

fn parse_manifest(bytes: &[u8], file_name: &str) -> Result<Manifest> {
    let manifest: Manifest =
        serde_json::from_slice(bytes).map_err(|e| invalid_profile(file_name, format!("profile.json cannot be read ({e})")))?;
    if manifest.format != FORMAT {
        return Err(invalid_profile(file_name, format!("its format is {}, this Imagesmith reads {FORMAT}", shown(&manifest.format))));
    }
    Ok(manifest)
}

/// The manifest parser, for the fuzz target: whether `bytes` reads as a profile.json.
pub(crate) fn parse_manifest_for_fuzzing(bytes: &[u8]) -> Result<()> {
    let manifest = parse_manifest(bytes, "fuzz.tar.gz")?;
    // Checked against an archive that holds only what the manifest names, with the digests it gives.
    let mut files = BTreeMap::new();
    let mut digests = HashMap::new();
    let named =
        manifest.members.iter().map(|m| (&m.file, &m.sha256)).chain(manifest.base.file.as_ref().map(|f| (f, &manifest.base.sha256)));
    for (file, sha) in named {
        files.insert(file.clone(), PathBuf::from(file));
        digests.insert(file.clone(), sha.clone());
    }
    check_manifest(&manifest, &files, &digests, "fuzz.tar.gz")
}

/// A value from the manifest, shortened and escaped for a message.
fn shown(s: &str) -> String {
    let short: String = s.chars().take(80).collect();
    short.escape_default().to_string()
}

/// The manifest and the archive agree before anything is imported: every digest is a SHA-256, the
/// base file (when included) is an `os/` member with the base's digest, every member file is named
/// once, lies in a member folder and has its digest, and every file of the archive is named.
fn check_manifest(
    manifest: &Manifest,
    files: &BTreeMap<String, PathBuf>,
    digests: &HashMap<String, String>,
    file_name: &str,
) -> Result<()> {
    let sha256 = |hex: &str, whose: &str| -> Result<()> {
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(())
        } else {
            Err(invalid_profile(file_name, format!("the SHA-256 of {whose} in profile.json, \"{}\", is not 64 hex digits", shown(hex))))
        }
    };
    sha256(&manifest.base.sha256, "its base image")?;
    let mut named: Vec<&str> = Vec::new();
    if let Some(f) = &manifest.base.file {
        if !f.starts_with("os/") {
            return Err(invalid_profile(file_name, format!("its base image file {} is not in os/", shown(f))));
        }
        match digests.get(f) {
            Some(d) if d.eq_ignore_ascii_case(&manifest.base.sha256) => {}
            Some(_) => return Err(invalid_profile(file_name, format!("its base image {f} does not match the digest in profile.json"))),
            None => return Err(invalid_profile(file_name, format!("its base image {} is named in profile.json but missing", shown(f)))),
        }
        named.push(f);
    }
    for m in &manifest.members {
        let f = m.file.as_str();
        sha256(&m.sha256, &shown(f))?;
        let folder = f.split('/').next().unwrap_or("");
        if !matches!(folder, "drivers" | "boot" | "custom" | "unattend") || !f.contains('/') {
            return Err(invalid_profile(
                file_name,
                format!("its member file {} is not in drivers/, boot/, custom/ or unattend/", shown(f)),
            ));
        }
        if manifest.members.iter().filter(|o| o.file == f).count() > 1 || manifest.base.file.as_deref() == Some(f) {
            return Err(invalid_profile(file_name, format!("{} is named twice in profile.json", shown(f))));
        }
        match digests.get(f) {
            Some(d) if d.eq_ignore_ascii_case(&m.sha256) => {}
            Some(_) => return Err(invalid_profile(file_name, format!("{f} does not match the digest in profile.json"))),
            None => return Err(invalid_profile(file_name, format!("{} is named in profile.json but missing", shown(f)))),
        }
        named.push(f);
        if let Some(sig) = &m.signature {
            if *sig != format!("{f}.asc") || !files.contains_key(sig) {
                return Err(invalid_profile(file_name, format!("the signature of {} is not {}.asc beside it", shown(f), shown(f))));
            }
            named.push(sig);
        }
    }
    for key in files.keys().filter(|k| *k != "SHA256SUMS" && *k != "profile.json") {
        if !named.contains(&key.as_str()) {
            return Err(unsafe_archive(file_name, format!("the member {key} is not in the profile's manifest")));
        }
    }
    Ok(())
}

impl Engine {
    /// The profile import job for an archive. Nothing outside staging is written until every
    /// check passed.
    pub fn profile_import_work(&self, archive: &Path, name: Option<&str>) -> Result<ProfileImportWork> {
        let file_name = archive.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let size = std::fs::metadata(archive).map_err(|e| Error::io(archive, &e, false))?.len();
        if let Some(n) = name {
            let n = catalog::validate_name(n)?;
            if profile::name_exists(&self.db(), &n)? {
                return Err(profile::profile_name_taken(&n));
            }
        }
        Ok(ProfileImportWork { archive: archive.to_path_buf(), file_name, size, name: name.map(str::to_string) })
    }

    /// Import a profile archive in the calling thread (the CLI).
    pub fn import_profile(
        &self,
        archive: &Path,
        name: Option<&str>,
        cancel: &CancelToken,
        sink: &(dyn Fn(&JobProgress) + Sync),
    ) -> Result<ProfileImportReport> {
        self.run(self.profile_import_work(archive, name)?, cancel, sink)
    }

    #[allow(clippy::too_many_arguments)]
    fn import_profile_in(
        &self,
        archive: &Path,
        file_name: &str,
        size: u64,
        name: Option<&str>,
        dir: &Path,
        step: &Step<'_>,
    ) -> Result<(Profile, Vec<ArtifactRef>, bool)> {
        let cancel = step.cancel();
        // 0. Only a regular file: a named pipe would block the open, a device never ends.
        let f = crate::detect::open_regular(archive)?;
        // 1. The sidecar, when there is one.
        let sidecar = archive.with_file_name(format!("{file_name}.sha256"));
        let mut sidecar_verified = false;
        if sidecar.is_file() {
            step.phase("verifying");
            let sums = checksum::read_checksum_file(&sidecar)?;
            let expected = sums.digests_for(file_name);
            if !expected.is_empty() {
                checksum::check_agreement(file_name, &expected)?;
                let algos: Vec<Algo> = expected.iter().map(|e| e.algo).collect();
                let d = crate::pipeline::hash_file(archive, &algos, cancel, &mut |_| {})?;
                for exp in &expected {
                    let actual = d.get(exp.algo).unwrap_or_default();
                    if actual != exp.hex {
                        return Err(crate::import::checksum_mismatch(file_name, exp, actual));
                    }
                }
                sidecar_verified = true;
            }
        }
        // 2. Unpack into staging, checking every member before a byte of it is written.
        step.phase("unpacking");
        let free = self.store.staging_free_bytes().unwrap_or(u64::MAX);
        let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(f));
        let mut declared = 0u64;
        let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
        let limits = archive::Limits { max_entries: MAX_ENTRIES, refuse_more_entries: true };
        let damaged = |e: &std::io::Error| invalid_profile(file_name, format!("the archive is damaged ({e})"));
        archive::walk(gz, file_name, limits, &damaged, |entry| {
            if cancel.is_cancelled() {
                return Err(Error::cancelled());
            }
            let raw = entry.path().map_err(|e| invalid_profile(file_name, e.to_string()))?.into_owned();
            let kind = entry.header().entry_type();
            let what = match kind {
                tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::Directory => None,
                tar::EntryType::Symlink => Some("a symbolic link"),
                tar::EntryType::Link => Some("a hard link"),
                tar::EntryType::Char | tar::EntryType::Block => Some("a device file"),
                tar::EntryType::Fifo => Some("a named pipe"),
                _ => Some("a special entry"),
            };
            if let Some(what) = what {
                return Err(unsafe_archive(file_name, format!("the member {} is {what}", raw.display())));
            }
            let Some(rel) = safe_member_path(&raw, file_name)? else { return Ok(archive::Walk::Continue) };
            if kind == tar::EntryType::Directory {
                return Ok(archive::Walk::Continue);
            }
            // entry.size(), not the header field: a PAX record may carry the real size.
            let len = entry.size();
            declared = declared.saturating_add(len);
            if declared > free {
                return Err(Error::new(
                    code::ARCHIVE_TOO_LARGE,
                    format!("{file_name} was refused: it declares {declared} bytes of content, more than the {free} bytes free for the repository."),
                    "Unpacking it would fill the disk; the sizes in the archive may also be forged.",
                    "Free space on the repository's disk, or check where the archive came from.",
                ));
            }
            if declared > RATIO_FLOOR && declared / size.max(1) > MAX_EXPANSION {
                return Err(Error::new(
                    code::ARCHIVE_TOO_LARGE,
                    format!("{file_name} was refused: {size} compressed bytes would expand to at least {declared} bytes, more than {MAX_EXPANSION} times its size."),
                    "Profile contents (ISOs, packages, archives) barely compress; an expansion this large is what a decompression bomb looks like.",
                    "Check where the archive came from; nothing from it was kept.",
                ));
            }
            let key = rel.to_string_lossy().replace('\\', "/");
            if files.contains_key(&key) {
                return Err(unsafe_archive(file_name, format!("the member {key} appears twice")));
            }
            let out_path = dir.join(&rel);
            if let Some(parent) = out_path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, &e, true))?;
            }
            let mut out = File::create(&out_path).map_err(|e| Error::io(&out_path, &e, true))?;
            std::io::copy(&mut (&mut *entry).take(len), &mut out)
                .map_err(|e| invalid_profile(file_name, format!("the member {key} is cut short ({e})")))?;
            files.insert(key, out_path);
            Ok(archive::Walk::Continue)
        })?;
        step.progress(size);

        // 3. SHA256SUMS covers every file, profile.json names every member, all digests match.
        let sums_path = files.get("SHA256SUMS").ok_or_else(|| invalid_profile(file_name, "it has no SHA256SUMS".into()))?;
        let sums = checksum::read_checksum_file(sums_path)?;
        let mut listed: HashMap<&str, &checksum::ChecksumEntry> = HashMap::new();
        for e in sums.entries.iter().filter(|e| e.algo == Algo::Sha256) {
            if listed.insert(e.name.as_str(), e).is_some_and(|earlier| earlier.hex != e.hex) {
                return Err(invalid_profile(file_name, format!("its SHA256SUMS gives two different digests for {}", e.name)));
            }
        }
        for key in files.keys().filter(|k| *k != "SHA256SUMS") {
            if !listed.contains_key(key.as_str()) {
                return Err(unsafe_archive(file_name, format!("the member {key} is not listed in its SHA256SUMS")));
            }
        }
        for listed_name in listed.keys() {
            if !files.contains_key(*listed_name) {
                return Err(invalid_profile(file_name, format!("{listed_name} is listed in SHA256SUMS but missing")));
            }
        }
        step.phase("verifying");
        let mut digests: HashMap<String, String> = HashMap::new();
        for (key, path) in &files {
            if key == "SHA256SUMS" {
                continue;
            }
            let d = crate::pipeline::hash_file(path, &[], cancel, &mut |_| {})?;
            let expected = evidence(listed[key.as_str()], file_name);
            if d.sha256 != expected.hex {
                return Err(crate::import::checksum_mismatch(key, &expected, &d.sha256));
            }
            digests.insert(key.clone(), d.sha256);
        }
        let manifest_path = files.get("profile.json").ok_or_else(|| invalid_profile(file_name, "it has no profile.json".into()))?;
        let manifest = read_manifest(manifest_path, file_name)?;
        let profile_name = catalog::validate_name(name.unwrap_or(&manifest.name))?;
        check_manifest(&manifest, &files, &digests, file_name)?;

        // 4. The base image: from the archive, or already in the repository. What this import brings
        // in is staged by its job until the profile exists: undone if anything below fails or the
        // process dies (`discard_staging`), so the library never keeps members without their profile.
        step.phase("importing");
        let job = JobRef { id: Some(step.job_id()), staged: true };
        let expected_for = |f: &str| listed.get(f).map(|e| evidence(e, file_name)).into_iter().collect::<Vec<_>>();
        let base_id = match &manifest.base.file {
            Some(f) => {
                let path = files.get(f).ok_or_else(|| invalid_profile(file_name, format!("its base image {f} is missing")))?;
                let item = ImportItem { path: path.clone(), kind: Some(Kind::Os), ..Default::default() };
                let (_, a) =
                    self.import_one(&item, Checks { expected: &expected_for(f), ..Checks::default() }, job, None, cancel, &mut |_, _| {})?;
                a.id
            }
            None => catalog::by_sha256(&self.db(), &manifest.base.sha256)?.map(|a| a.id).ok_or_else(|| {
                Error::new(
                    code::IMAGE_NOT_FOUND,
                    format!(
                        "The profile's base image {} (SHA-256 {}) is not in this repository.",
                        manifest.base.name, manifest.base.sha256
                    ),
                    "The archive was exported without its OS image, so the image must already be here.",
                    "Import the OS image first, or export the profile again with --include-os, then import it again.",
                )
            })?,
        };
        // 5. Members, deduplicated against the library.
        let mut members = Vec::new();
        for m in &manifest.members {
            let path =
                files.get(&m.file).ok_or_else(|| invalid_profile(file_name, format!("{} is named in profile.json but missing", m.file)))?;
            let item = ImportItem { path: path.clone(), kind: Some(m.kind), os: m.os.clone(), ..Default::default() };
            // A bundle member is accepted only with its signature, a member of the archive too.
            let bundle_sig = m.signature.as_ref().and_then(|s| files.get(s)).map(PathBuf::as_path);
            let checks = Checks { expected: &expected_for(&m.file), bundle_sig, ..Checks::default() };
            let (_, a) = self.import_one(&item, checks, job, None, cancel, &mut |_, _| {})?;
            members.push(ArtifactRef { id: a.id, name: a.name });
        }
        if cancel.is_cancelled() {
            return Err(Error::cancelled());
        }
        // 6. The profile, under its name or a free one, with its members and options, in one
        // transaction that also makes the staged members the library's own.
        let keys: Vec<String> = members.iter().map(|m| m.id.to_string()).collect();
        let opts: Vec<(String, String)> = manifest.install_options.into_iter().collect();
        let profile = self.write(|tx| {
            let profile_name = if name.is_some() { profile_name.clone() } else { profile::free_name(tx, &profile_name)? };
            let id = profile::create(tx, &profile_name, &base_id.to_string(), &manifest.description)?;
            profile::add_members(tx, id, &keys)?;
            profile::set_options(tx, id, &opts)?;
            if let Some(e) = &manifest.edition {
                profile::set_edition(tx, id, Some(&e.index.to_string()))?;
            }
            tx.execute("DELETE FROM staged_members WHERE job_id = ?1", [step.job_id()])?;
            crate::failpoint::failpoint("profile_import.before_commit");
            profile::load_profile(tx, id)
        })?;
        Ok((profile, members, sidecar_verified))
    }

    /// Undo what profile import `job` staged for a profile it never created: each artifact it alone
    /// staged, that no profile uses and no other artifact names as its image, is deleted (rows in one
    /// transaction, the object after it). The others are kept as they are.
    pub(crate) fn discard_staging(&self, job: i64) -> Result<usize> {
        let mut unreferenced = Vec::new();
        let deleted = self.write(|tx| {
            let ids: Vec<i64> = tx
                .prepare("SELECT artifact_id FROM staged_members WHERE job_id = ?1")?
                .query_map([job], |r| r.get(0))?
                .collect::<crate::db::SqlResult<_>>()?;
            tx.execute("DELETE FROM staged_members WHERE job_id = ?1", [job])?;
            let mut deleted = 0;
            for id in ids {
                let others: bool =
                    tx.query_row("SELECT EXISTS (SELECT 1 FROM staged_members WHERE artifact_id = ?1)", [id], |r| r.get(0))?;
                let Some(a) = catalog::by_id(tx, id)? else { continue };
                if others {
                    continue;
                }
                // In use (a profile, or another artifact's image): it stays, as the library's own.
                if let Ok(sha) = catalog::delete(tx, &a) {
                    unreferenced.extend(sha);
                    deleted += 1;
                }
            }
            Ok(deleted)
        })?;
        for sha in unreferenced {
            let _ = self.remove_unreferenced_object(&sha);
        }
        Ok(deleted)
    }

    /// On open: undo the staging of profile imports that are not running any more (their process
    /// died, or a failure's own clean-up could not finish).
    pub(crate) fn discard_unfinished_staging(&self) -> Result<usize> {
        // On a team repository only this desktop's jobs (their sessions start with its id).
        let prefix = self.desktop_id().map(|d| format!("{d}-"));
        let jobs: Vec<i64> = {
            let conn = self.db();
            let mut stmt = conn.prepare(
                "SELECT DISTINCT s.job_id FROM staged_members s JOIN jobs j ON j.id = s.job_id
                 WHERE j.state <> 'running' AND (substr(j.session, 1, length(?1)) = ?1 OR ?1 IS NULL)",
            )?;
            stmt.query_map([prefix], |r| r.get(0))?.collect::<crate::db::SqlResult<_>>()?
        };
        let mut deleted = 0;
        for job in jobs {
            deleted += self.discard_staging(job)?;
        }
        Ok(deleted)
    }
}

/// The profile import job: one item, the archive.
pub struct ProfileImportWork {
    archive: PathBuf,
    file_name: String,
    size: u64,
    name: Option<String>,
}

type Imported = (Profile, Vec<ArtifactRef>, bool);

impl Work for ProfileImportWork {
    type Item = Imported;
    type Report = ProfileImportReport;
    const KIND: JobKind = JobKind::ProfileImport;

    fn items(&self) -> Vec<ItemSpec> {
        vec![ItemSpec::new(self.archive.display().to_string(), Some(self.size))]
    }

    fn run_item(&self, engine: &Engine, _seq: usize, step: &Step<'_>) -> Result<Done<Imported>> {
        let dir = engine.store.staging_dir("profile")?;
        let result = engine.import_profile_in(&self.archive, &self.file_name, self.size, self.name.as_deref(), &dir, step);
        let _ = std::fs::remove_dir_all(&dir);
        if result.is_err() {
            // All or nothing: members brought in for the profile go with it.
            engine.discard_staging(step.job_id())?;
        }
        Ok(Done::new(Outcome::Imported, result?))
    }

    fn summary(&self, ends: &[ItemEnd<Imported>]) -> String {
        match ends.first() {
            Some(ItemEnd { value: Some((p, members, _)), .. }) => format!("profile {} with {} members", p.name, members.len()),
            Some(ItemEnd { error: Some(e), .. }) => e.text.clone(),
            _ => "cancelled".into(),
        }
    }

    fn report(self, _engine: &Engine, job: JobSummary, ends: Vec<ItemEnd<Imported>>) -> Result<ProfileImportReport> {
        let (profile, members, sidecar_verified) = runner::single_result(ends)?;
        Ok(ProfileImportReport { job, profile, sidecar_verified, members })
    }
}

/// A member's line in the archive's SHA256SUMS as evidence: "SHA256SUMS in web.tar.gz (line 3)".
fn evidence(e: &checksum::ChecksumEntry, archive: &str) -> ExpectedDigest {
    ExpectedDigest {
        algo: e.algo,
        hex: e.hex.clone(),
        source: format!("SHA256SUMS in {archive}"),
        from: ExpectedFrom::ProfileArchive,
        line: Some(e.line),
        signature: None,
    }
}
