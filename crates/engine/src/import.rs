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
use crate::jobs::{JobKind, JobProgress, JobSummary, Outcome};
use crate::matrix;
use crate::model::{
    Algo, Artifact, ArtifactRef, ArtifactSource, ArtifactState, Kind, OsFamily, OsName, SignatureCheck, SignatureStatus, SourceKind,
};
use crate::pipeline::Digests;
use crate::pipeline::{self, Sink};
use crate::runner::{self, Done, ItemEnd, ItemSpec, Step, Work};
use crate::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Files to review before importing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PlanRequest {
    pub paths: Vec<PathBuf>,
    /// Extra checksum files to match against (besides those found among `paths`), and detached
    /// signatures named after them.
    pub checksum_files: Vec<PathBuf>,
    /// Ask for a good signature on every file even where the repository's policy does not.
    #[serde(default)]
    pub require_signature: bool,
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
    /// The best signature over the checksum files that give its digests.
    pub signature: SignatureCheck,
    /// Why this file cannot be imported as it stands (unknown type, bad content, OS missing…).
    pub refused: Option<Error>,
    pub detected: Value,
    /// For an answer file: what lint finds in it (for the OS detected; null for other files).
    pub lint: Option<Vec<crate::lint::Finding>>,
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
    /// The detached signature found beside it.
    pub signature_path: Option<String>,
    /// What its signature came to (`none` when it is not signed).
    pub signature: SignatureCheck,
    pub error: Option<Error>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportPlan {
    pub items: Vec<PlanItem>,
    pub checksum_files: Vec<ChecksumFileReport>,
    /// Bytes free on the repository's disk now (None when the system does not say): the review
    /// warns when the files do not fit.
    pub free_bytes: Option<u64>,
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
    /// Attributes to give the new artifact (alias, access, owner, description, version, resize,
    /// deploy, tags); name, kind and OS come from the fields above. A duplicate keeps its own.
    #[serde(default)]
    pub attributes: crate::model::ArtifactPatch,
    /// An http(s) URL to download instead of reading `path` (left empty): fetched into the
    /// repository's downloads/ folder, resumable, hashed as it comes, then imported like a file.
    #[serde(default)]
    pub url: Option<String>,
    /// For a URL from a manifest or an image store: the size and digest it declared, its
    /// compression, and where it came from.
    #[serde(default)]
    pub remote: Option<crate::stores::RemoteFile>,
}

impl ImportItem {
    /// The item's file name: the file's, or the last part of its URL's path.
    pub fn file_name(&self) -> String {
        match &self.url {
            Some(u) => crate::download::url_file_name(u),
            None => file_name(&self.path),
        }
    }

    /// What the job shows for the item: its path or its URL.
    pub fn label(&self) -> String {
        self.url.clone().unwrap_or_else(|| self.path.display().to_string())
    }
}

/// What a file is checked against: the digests expected of it, the detached signature that lay
/// beside it among the files of the batch (a vendor bundle's BUNDLESIG `.asc`), and whether the
/// repository's policy asks for a good signature.
#[derive(Clone, Copy, Default)]
pub(crate) struct Checks<'a> {
    pub expected: &'a [ExpectedDigest],
    pub bundle_sig: Option<&'a Path>,
    /// The file is `x.zip.asc` and `x.zip` is in the batch: a bundle's signature, which the policy
    /// asks of its bundle rather than of itself (when it is an OpenPGP signature at all).
    pub signs_bundle: bool,
    pub require_signature: bool,
}

/// Bytes already in the repository (a finished download, hashed as it came): moved into the store
/// instead of copied, and recorded with where they came from.
pub(crate) struct Downloaded<'a> {
    pub digests: &'a Digests,
    pub source: &'a ArtifactSource,
    /// Facts to keep beside what detection finds (what a compressed download was as served).
    pub facts: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportRequest {
    pub items: Vec<ImportItem>,
    /// Checksum files to take expected digests from, matched by file name, and detached
    /// signatures named after them (`SHA256SUMS.gpg`).
    pub checksum_files: Vec<PathBuf>,
    /// Ask for a good signature on every file even where the repository's policy does not.
    #[serde(default)]
    pub require_signature: bool,
    /// Import files whose checksum list is signed by a key not trusted here (or an expired one) as
    /// if it were not signed, for this batch; what the signature was is recorded.
    #[serde(default)]
    pub accept_unverified_signatures: bool,
    /// Seconds a server may send nothing before a download fails (default 30).
    #[serde(default)]
    pub read_timeout_secs: Option<u64>,
}

impl ImportRequest {
    pub fn read_timeout(&self) -> std::time::Duration {
        self.read_timeout_secs.map(std::time::Duration::from_secs).unwrap_or(crate::download::DEFAULT_READ_TIMEOUT)
    }
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

/// Split paths into files to import and checksum files. A checksum file is recognised by its
/// content: a small text file whose every line (comments, blank lines and PGP clear-sign armour
/// aside) is a checksum line. The name is only a hint: a file named like a checksum list
/// (`SHA256SUMS`, `x.iso.sha256`) whose content does not parse is reported as an invalid checksum
/// file; `md5sum.sh` or `verify-checksum.py`, whose content is a script, are imported as files.
pub fn split_checksum_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, Result<ChecksumFile>)>) {
    let mut files = Vec::new();
    let mut sums = Vec::new();
    for p in paths {
        let small = std::fs::metadata(p).map(|m| m.is_file() && m.len() <= checksum::MAX_CHECKSUM_FILE).unwrap_or(false);
        if !small {
            files.push(p.clone());
            continue;
        }
        match checksum::read_checksum_file(p) {
            Ok(f) => sums.push((p.clone(), Ok(f))),
            Err(e) if e.is(code::CHECKSUM_FILE_INVALID) && checksum::name_suggests_checksum_file(&file_name(p)) => {
                sums.push((p.clone(), Err(e)))
            }
            Err(_) => files.push(p.clone()),
        }
    }
    let files = pair_signatures(&mut sums, files);
    (files, sums)
}

/// Detached signatures among `paths` named after a checksum file in `sums` (`SHA256SUMS.gpg` beside
/// `SHA256SUMS`) are taken as that file's signature: the list in the same folder, or else the one
/// list of that name (downloaded lists each sit in their own folder). The other paths are returned.
fn pair_signatures(sums: &mut [(PathBuf, Result<ChecksumFile>)], paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut rest = Vec::new();
    for p in paths {
        let Some(signed) = checksum::signed_file_name(&file_name(&p)).map(str::to_string) else {
            rest.push(p);
            continue;
        };
        let unpaired = |(_, f): &(PathBuf, Result<ChecksumFile>)| f.as_ref().is_ok_and(|f| f.signature_path.is_none());
        let beside = p.with_file_name(&signed);
        let same_folder = sums.iter().position(|e| e.0 == beside && unpaired(e));
        let named: Vec<usize> = sums.iter().enumerate().filter(|(_, e)| file_name(&e.0) == signed).map(|(i, _)| i).collect();
        let target = same_folder.or(match named.as_slice() {
            [only] if unpaired(&sums[*only]) => Some(*only),
            _ => None,
        });
        match target.map(|i| &mut sums[i].1) {
            Some(Ok(f)) => f.signature_path = Some(p.display().to_string()),
            _ => rest.push(p),
        }
    }
    rest
}

/// A dropped folder holds at most this many files; more is almost certainly the wrong folder.
pub const MAX_FOLDER_FILES: usize = 10_000;

/// Folders among `paths` replaced by the regular files below them, in name order, so a dropped
/// folder is reviewed and imported like its files. Symbolic links are not followed (a link can point
/// anywhere), hidden files (`.DS_Store`, `.git/`) are left out, files stay as given.
pub fn expand_folders(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if !std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()) {
            out.push(p.clone());
            continue;
        }
        let walk = walkdir::WalkDir::new(p).follow_links(false).sort_by_file_name().into_iter();
        let hidden = |e: &walkdir::DirEntry| e.depth() > 0 && e.file_name().to_string_lossy().starts_with('.');
        for entry in walk.filter_entry(|e| !hidden(e)) {
            let entry = entry.map_err(|e| {
                let at = e.path().unwrap_or(p).to_path_buf();
                match e.into_io_error() {
                    Some(io) => Error::io(&at, &io, false),
                    None => Error::invalid_argument(format!("{} loops back on itself.", at.display()), "Drop the files instead."),
                }
            })?;
            if entry.file_type().is_file() {
                out.push(entry.into_path());
                if out.len() > MAX_FOLDER_FILES {
                    return Err(Error::new(
                        code::TOO_LARGE,
                        format!("{} holds more than {MAX_FOLDER_FILES} files.", p.display()),
                        "A folder is imported with everything below it; this many files is almost certainly not a folder of images, drivers and scripts.",
                        "Drop the folder that holds the files you want, or choose the files themselves.",
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Checksum files given by path, and the detached signatures among them named after one of them.
fn load_checksum_files(paths: &[PathBuf]) -> Vec<(PathBuf, Result<ChecksumFile>)> {
    let names: Vec<String> = paths.iter().map(|p| file_name(p)).collect();
    let (signatures, lists): (Vec<PathBuf>, Vec<PathBuf>) = paths
        .iter()
        .cloned()
        .partition(|p| checksum::signed_file_name(&file_name(p)).is_some_and(|signed| names.iter().any(|n| n == signed)));
    let mut sums: Vec<_> = lists.iter().map(|p| (p.clone(), checksum::read_checksum_file(p))).collect();
    for unpaired in pair_signatures(&mut sums, signatures) {
        sums.push((unpaired.clone(), checksum::read_checksum_file(&unpaired)));
    }
    sums
}

/// What the signatures over a file's checksum files allow: the best of them when the policy is
/// met; `bad_signature` when any is bad (the list was changed after it was signed), `unknown_key`
/// or `expired_key` unless the admin accepted those for the batch, and `signature_required` when
/// the policy asks for a good signature and there is none.
pub(crate) fn signature_verdict(name: &str, expected: &[ExpectedDigest], require: bool, accept_unverified: bool) -> Result<SignatureCheck> {
    let signed: Vec<(&ExpectedDigest, &SignatureCheck)> = expected.iter().filter_map(|e| e.signature.as_ref().map(|s| (e, s))).collect();
    if let Some((e, s)) = signed.iter().find(|(_, s)| s.status == SignatureStatus::Bad) {
        let by = match (&s.signer, &s.fingerprint) {
            (Some(who), Some(fpr)) => {
                format!("the trusted key of {who} ({}), or that key was revoked by its owner", crate::trust::grouped_fingerprint(fpr))
            }
            _ => format!("{} (it holds no OpenPGP signature that can be read)", s.signature_file.as_deref().unwrap_or(&e.source)),
        };
        return Err(Error::new(
            code::BAD_SIGNATURE,
            format!("The signature of {} does not verify against {by}; {name} was not imported.", e.source),
            "The checksum list was changed after it was signed, or the signature belongs to another file: its digests cannot be trusted, so neither can the file they vouch for.",
            "Download the checksum list and its signature again from the publisher's site and compare; do not import the file until they verify.",
        ));
    }
    let best = SignatureCheck::best(signed.iter().map(|(_, s)| *s));
    let source = signed.iter().find(|(_, s)| s.status == best.status).map(|(e, _)| e.source.clone()).unwrap_or_default();
    let fpr = best.fingerprint.as_deref().map(crate::trust::grouped_fingerprint).unwrap_or_default();
    match best.status {
        SignatureStatus::UnknownKey if !accept_unverified => {
            return Err(Error::new(
                code::UNKNOWN_KEY,
                format!("{source} is signed by a key that is not trusted here ({fpr}); {name} was not imported."),
                "Imagesmith checks signatures only against keys the admin added; this one was not, so the signature proves nothing yet.",
                format!(
                    "Get the publisher's public key with the fingerprint {fpr} from their site, add it (Settings → Trusted keys, or `imagesmith-cli key add KEYFILE`) and import again; or import without a trusted signature (tick \"Import without a trusted signature\" in the review, or pass --allow-unknown-key)."
                ),
            ))
        }
        SignatureStatus::ExpiredKey if !accept_unverified => {
            return Err(Error::new(
                code::EXPIRED_KEY,
                format!(
                    "{source} is signed by {}, whose trusted key has expired ({fpr}); {name} was not imported.",
                    best.signer.as_deref().unwrap_or("a trusted key")
                ),
                "An expired key is no longer vouched for by its owner: publishers extend a key's expiry or move to a new key.",
                "Add the publisher's current key (or the same key with its new expiry) in Settings → Trusted keys or with `imagesmith-cli key add`, and import again; or import without a trusted signature (the review's \"Import without a trusted signature\", or --allow-unknown-key).",
            ))
        }
        _ => {}
    }
    if require && best.status != SignatureStatus::Good {
        return Err(Error::new(
            code::SIGNATURE_REQUIRED,
            format!("{name} has no good signature, and this repository requires one ({})", best.describe()),
            "The repository's policy (or --require-signature) asks that every imported file be vouched for by a checksum list signed with a trusted key.",
            "Add the checksum list its publisher signed and its signature (SHA256SUMS with SHA256SUMS.gpg, a clear-signed CHECKSUM) to the files you import; or turn off \"Require a good signature\" in Settings → Trusted keys.",
        ));
    }
    Ok(best)
}

/// The strongest digest the checksum files give for `name` (what the review shows).
fn expected_from(sums: &[(PathBuf, Result<ChecksumFile>)], name: &str) -> Option<ExpectedDigest> {
    all_expected(sums, name).into_iter().max_by_key(|e| e.algo.hex_len())
}

/// Every digest the checksum files give for `name`; all of them are checked.
fn all_expected(sums: &[(PathBuf, Result<ChecksumFile>)], name: &str) -> Vec<ExpectedDigest> {
    sums.iter().filter_map(|(_, f)| f.as_ref().ok()).flat_map(|f| f.digests_for(name)).collect()
}

/// The detached signature beside `name` among the local files of a batch (`x.zip` + `x.zip.asc`):
/// a zip with one is a vendor bundle, and is accepted only if it verifies.
fn bundle_signature<'a>(name: &str, paths: impl IntoIterator<Item = &'a Path>) -> Option<PathBuf> {
    let sig = format!("{name}.asc");
    paths.into_iter().find(|p| file_name(p).eq_ignore_ascii_case(&sig)).map(Path::to_path_buf)
}

/// `x.zip.asc` with `x.zip` among the local files of the batch.
fn signs_bundle<'a>(name: &str, paths: impl IntoIterator<Item = &'a Path>) -> bool {
    let lower = name.to_ascii_lowercase();
    let Some(stem) = lower.strip_suffix(".asc") else { return false };
    paths.into_iter().any(|p| file_name(p).eq_ignore_ascii_case(stem))
}

/// Whether the file at `path` holds OpenPGP signatures (and is small enough to be a signature file).
fn is_signature_file(path: &Path) -> Result<bool> {
    Ok(checksum::read_small(path)?.is_ok_and(|bytes| crate::openpgp::detached_signatures(&bytes).is_ok()))
}

/// A bundle without its signature: XClarity's rule, kept here, is that a bundle is accepted only
/// with the BUNDLESIG that signs it.
fn unsigned_bundle(name: &str) -> Error {
    Error::new(
        code::UNSIGNED_BUNDLE,
        format!("{name} is a vendor bundle without its signature: a bundle is accepted only with {name}.asc beside it, signed by a trusted key."),
        "A bundle's contents are trusted because its vendor signed the zip (its BUNDLESIG .asc); without the signature nothing vouches for them.",
        format!("Import {name} together with {name}.asc as downloaded from the vendor (both files in the same batch, from local files); or, if it is not a vendor bundle, import it as software (--kind software)."),
    )
}

/// A bundle's detached signature must be good: an unknown or expired key cannot be accepted for
/// the batch as a checksum list's can (XClarity's rule).
fn bundle_verdict(name: &str, check: &SignatureCheck) -> Result<()> {
    let file = check.signature_file.clone().unwrap_or_else(|| format!("{name}.asc"));
    let fpr = check.fingerprint.as_deref().map(crate::trust::grouped_fingerprint).unwrap_or_default();
    let add_key = format!(
        "Get the vendor's public key with the fingerprint {fpr} from their site, add it (Settings → Trusted keys, or `imagesmith-cli key add KEYFILE`) and import the bundle again."
    );
    match check.status {
        SignatureStatus::Good => Ok(()),
        SignatureStatus::UnknownKey => Err(Error::new(
            code::UNKNOWN_KEY,
            format!("{file} is signed by a key that is not trusted here ({fpr}); the bundle {name} was not imported."),
            "A vendor bundle is accepted only when its signature verifies against a key the admin trusts; this key was not added.",
            add_key,
        )),
        SignatureStatus::ExpiredKey => Err(Error::new(
            code::EXPIRED_KEY,
            format!(
                "{file} is signed by {}, whose trusted key has expired ({fpr}); the bundle {name} was not imported.",
                check.signer.as_deref().unwrap_or("a trusted key")
            ),
            "An expired key is no longer vouched for by its owner, and a bundle needs a signature that verifies against a valid trusted key.",
            "Add the vendor's current key (or the same key with its new expiry) in Settings → Trusted keys or with `imagesmith-cli key add`, and import the bundle again.",
        )),
        SignatureStatus::Bad | SignatureStatus::None => {
            let why = match (&check.signer, &check.fingerprint) {
                (Some(who), Some(f)) => format!("does not verify over {name} against the trusted key of {who} ({}), or that key was revoked by its owner", crate::trust::grouped_fingerprint(f)),
                _ => "holds no OpenPGP signature that can be read".to_string(),
            };
            Err(Error::new(
                code::BAD_SIGNATURE,
                format!("The bundle signature {file} {why}; the bundle {name} was not imported."),
                "The bundle was changed after its vendor signed it, or the signature belongs to another bundle: its contents cannot be trusted.",
                format!("Download {name} and {file} again from the vendor's site; do not import the bundle until its signature verifies."),
            ))
        }
    }
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
                signature_path: f.signature_path.clone(),
                signature: f.signature.clone(),
                error: None,
            },
            Err(e) => ChecksumFileReport {
                path: p.display().to_string(),
                file_name: file_name(p),
                format: String::new(),
                entries: 0,
                matched: Vec::new(),
                signature_path: None,
                signature: SignatureCheck::none(),
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
    crate::driver_info::check_driver(kind, det.format, &det.facts, name)?;
    if family.is_none() && matrix::os_required(kind) {
        return Err(matrix::os_required_error(kind, name, &matrix::os_for(kind, det.format)));
    }
    Ok((kind, family, distro))
}

/// What an artifact becomes when its kind or OS is changed after import: the rules of the import
/// (the support matrix, an OS where the kind needs one) applied to its stored bytes. `os` "" asks
/// for none; `None` keeps the current one.
pub(crate) fn reclassify(
    path: &Path,
    a: &Artifact,
    kind: Option<Kind>,
    os: Option<&str>,
) -> Result<(Kind, Option<OsFamily>, Option<String>)> {
    let mut det = detect::detect(path)?;
    let kind = kind.unwrap_or(a.kind);
    if kind == Kind::DiskImage && matches!(det.format, detect::Format::Binary | detect::Format::Text) {
        det.format = detect::Format::Raw;
    }
    let signed_bundle = a.verified_signature_file().is_some();
    if kind == Kind::Bundle && a.kind != Kind::Bundle && !signed_bundle {
        return Err(unsigned_bundle(&a.name));
    }
    let current = a.distro.clone().or_else(|| a.os.map(|o| o.as_str().to_string()));
    let os = match os.map(str::trim) {
        Some("") => None,
        Some(s) => Some(s.to_string()),
        None => current,
    };
    resolve(&det, Some(kind), os.as_deref(), &a.name, false)
}

impl Engine {
    /// Review files before importing: detected kind and OS, what is required, expected digests
    /// from checksum files found among them, and what would be refused and why. Reads only heads.
    pub fn plan_import(&self, req: &PlanRequest) -> Result<ImportPlan> {
        let (files, mut sums) = split_checksum_files(&expand_folders(&req.paths)?);
        sums.extend(load_checksum_files(&req.checksum_files));
        self.check_signatures(&mut sums)?;
        let require = req.require_signature || self.signature_policy()?.require_signature;
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
                signature: SignatureCheck::none(),
                refused: None,
                detected: Value::Null,
                lint: None,
            };
            match detect::detect(path) {
                Err(e) => item.refused = Some(e),
                Ok(det) => {
                    item.format = det.format.as_str().to_string();
                    if matches!(det.format, detect::Format::Kickstart | detect::Format::AutoYast | detect::Format::Unattend) {
                        let target = crate::lint::Target { distro: det.distro.clone(), ..Default::default() };
                        let text = crate::lint::read_answer_file(path).ok();
                        item.lint = text.and_then(|t| crate::lint::lint_text(det.format, &t, &target)).map(|r| r.findings);
                    }
                    item.detected = Value::Object(det.facts.clone());
                    item.allowed_kinds = Kind::ALL
                        .iter()
                        .copied()
                        .filter(|k| matrix::importable(*k) && !matrix::os_for(*k, det.format).is_empty())
                        .collect();
                    item.kind = matrix::default_kind(det.format);
                    let signed = bundle_signature(&name, files.iter().map(PathBuf::as_path)).is_some();
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
            let expected = all_expected(&sums, &name);
            item.signature = SignatureCheck::best(expected.iter().filter_map(|e| e.signature.as_ref()));
            if item.refused.is_none() {
                item.refused = checksum::check_agreement(&name, &expected).err();
            }
            if item.kind == Some(Kind::Bundle) && item.refused.is_none() {
                // A checksum list with a bad signature refuses a bundle too. The bundle's own
                // signature is checked over its bytes as they are imported; what it will come to
                // if they are the ones signed is told now (and needs no checksum list).
                item.refused = signature_verdict(&name, &expected, false, true).err();
                if item.refused.is_none() {
                    match bundle_signature(&name, files.iter().map(PathBuf::as_path)) {
                        None => item.refused = Some(unsigned_bundle(&name)),
                        Some(sig) => match self.file_signature(&sig) {
                            Err(e) => item.refused = Some(e),
                            Ok(fs) => {
                                let check = fs.foresee();
                                item.refused = bundle_verdict(&name, &check).err();
                                item.signature = check;
                            }
                        },
                    }
                }
            } else if item.refused.is_none() {
                // unknown_key and expired_key are refusals the review lets the admin accept for the
                // batch, unless the policy would refuse the file even then (a bundle's signature
                // file is checked with its bundle instead).
                let bundles_sig = item.kind == Some(Kind::BundleSig)
                    && signs_bundle(&name, files.iter().map(PathBuf::as_path))
                    && is_signature_file(path).unwrap_or(false);
                let require = require && !bundles_sig;
                item.refused = match signature_verdict(&name, &expected, require, false) {
                    Err(e) if e.is(code::UNKNOWN_KEY) || e.is(code::EXPIRED_KEY) => {
                        Some(signature_verdict(&name, &expected, require, true).err().unwrap_or(e))
                    }
                    verdict => verdict.err(),
                };
            }
            items.push(item);
        }
        Ok(ImportPlan { items, checksum_files: checksum_reports(&sums, &names), free_bytes: self.store.staging_free_bytes() })
    }

    /// The import job for `req` (checksum files read, sizes taken); run it with [`Engine::run`] or
    /// [`Engine::spawn`]. Files are imported on every core, each in one read pass.
    /// Signatures over the checksum files are checked here, against the keys trusted now.
    pub fn import_work(&self, req: ImportRequest) -> Result<ImportWork> {
        let mut sums = load_checksum_files(&req.checksum_files);
        self.check_signatures(&mut sums)?;
        let require_signature = req.require_signature || self.signature_policy()?.require_signature;
        let names: Vec<String> = req.items.iter().map(ImportItem::file_name).collect();
        Ok(ImportWork { req, sums, names, require_signature })
    }

    /// Import in the calling thread (the CLI): create the job, run it, return the report.
    pub fn import(&self, req: &ImportRequest, cancel: &CancelToken, sink: &(dyn Fn(&JobProgress) + Sync)) -> Result<ImportReport> {
        self.run(self.import_work(req.clone())?, cancel, sink)
    }

    /// Import one file. Returns the outcome (imported / duplicate) and the artifact.
    pub(crate) fn import_one(
        &self,
        item: &ImportItem,
        checks: Checks<'_>,
        job: JobRef,
        downloaded: Option<Downloaded<'_>>,
        cancel: &CancelToken,
        progress: &mut dyn FnMut(&str, u64),
    ) -> Result<(Outcome, Artifact)> {
        let Checks { expected, bundle_sig, signs_bundle, require_signature } = checks;
        let path = &item.path;
        let staged_by = job.staged_by();
        // The file's name as a library name: never a control character or escape sequence.
        let name = catalog::name_from_file(&file_name(path));
        checksum::check_agreement(&name, expected)?;
        let mut det = detect::detect(path)?;
        if let Some(d) = &downloaded {
            det.facts.extend(d.facts.clone());
        }
        if item.kind == Some(Kind::DiskImage) && matches!(det.format, detect::Format::Binary | detect::Format::Text) {
            // Raw images have no header: they are disk images because the user says so.
            det.format = detect::Format::Raw;
            det.facts.extend(detect::disk_image_info(path, detect::Format::Raw)?);
        }
        let (kind, os, distro) = resolve(&det, item.kind, item.os.as_deref(), &name, bundle_sig.is_some())?;
        // A bundle is vouched for by its own signature, checked over its bytes as they are copied
        // (an unknown or expired key is told before they are read); anything else meets the
        // repository's policy through a signed checksum list.
        let bundle = match kind {
            Kind::Bundle => {
                let sig = self.file_signature(bundle_sig.ok_or_else(|| unsigned_bundle(&name))?)?;
                bundle_verdict(&name, &sig.foresee())?;
                Some(sig)
            }
            // A bundle's signature file is checked with its bundle; the policy asks it of what it
            // signs — when its bundle is in the batch and it is a signature.
            Kind::BundleSig if signs_bundle && is_signature_file(path)? => None,
            _ => {
                if require_signature {
                    signature_verdict(&name, expected, true, true)?;
                }
                None
            }
        };
        let image = match &item.image {
            Some(key) => Some(self.resolve_image(key, kind, os, &name, &det.facts)?),
            None => None,
        };
        let given_name = item.name.as_deref().map(catalog::validate_name).transpose()?;
        // A local file fails early on a taken name, before it is copied. Downloaded bytes are here
        // already and may be a duplicate (the same store image again), which the transaction
        // below answers first; it checks the name for new bytes.
        if let (Some(n), None) = (&given_name, &downloaded) {
            if catalog::name_taken(&self.db(), n, None)? {
                return Err(catalog::name_taken_error(n));
            }
        }

        // An ISO may carry its own MD5 (isomd5sum): read from its head, checked in the same pass,
        // as a bundle's signature is.
        let iso = matches!(det.format, detect::Format::Iso | detect::Format::WinPeIso);
        let implanted = if iso { crate::isomd5::read_implanted(path)? } else { None };
        let (staged, digests, media, signature) = match &downloaded {
            // Hashed as it came; the media check reads the downloaded file once more.
            Some(d) => {
                let media = implanted.map(|want| crate::isomd5::check_file(path, want, cancel)).transpose()?;
                let signature = match &bundle {
                    Some(sig) => Some(sig.check(&mut detect::open_regular(path)?)),
                    None => None,
                };
                (path.clone(), d.digests.clone(), media, signature)
            }
            None => {
                let extra: Vec<Algo> = expected.iter().map(|e| e.algo).collect();
                let (mut staged_file, staged) = self.store.staging_file()?;
                let guard = RemoveOnDrop(Some(staged.clone()));
                let mut src = pipeline::sequential(detect::open_regular(path)?);
                let sink = Some(Sink { file: &mut staged_file, path: &staged });
                let mut taps: Vec<pipeline::Tap<'_, Tapped>> = Vec::new();
                if let Some(want) = implanted {
                    taps.push(Box::new(move |chunks| {
                        let mut check = crate::isomd5::Check::new(want);
                        while let Some(chunk) = chunks.next_chunk() {
                            check.update(&chunk);
                        }
                        Tapped::Media(check.finish())
                    }));
                }
                if let Some(sig) = &bundle {
                    taps.push(Box::new(move |chunks| Tapped::Signature(sig.check(chunks))));
                }
                let (digests, tapped) =
                    pipeline::copy_hash_and_tap(&mut src, path, sink, &extra, taps, cancel, &mut |done| progress("copying", done))?;
                std::mem::forget(guard);
                let (mut media, mut signature) = (None, None);
                for t in tapped {
                    match t {
                        Tapped::Media(m) => media = Some(m),
                        Tapped::Signature(s) => signature = Some(s),
                    }
                }
                (staged, digests, media, signature)
            }
        };
        // Whatever is not committed goes: a staged copy, or a download whose digests were wrong.
        let staged_guard = RemoveOnDrop(Some(staged.clone()));
        progress("verifying", digests.size);
        let media_check = iso.then(|| media.unwrap_or_else(crate::isomd5::absent));
        if let Some(m) = media_check.as_ref().filter(|m| m.status == crate::model::MediaCheckStatus::Failed) {
            return Err(crate::isomd5::failed(&name, m));
        }
        for exp in expected {
            let actual = digests.get(exp.algo).unwrap_or_default();
            if actual != exp.hex {
                return Err(checksum_mismatch(&name, exp, actual));
            }
        }
        // What the bundle's signature came to over these bytes is evidence, kept against their SHA-256.
        let mut evidence = expected.to_vec();
        if let Some(check) = signature {
            bundle_verdict(&name, &check)?;
            evidence.push(ExpectedDigest {
                algo: Algo::Sha256,
                hex: digests.sha256.clone(),
                source: check.signature_file.clone().unwrap_or_default(),
                from: crate::model::ExpectedFrom::Signature,
                line: None,
                signature: Some(check),
            });
        }
        if cancel.is_cancelled() {
            return Err(Error::cancelled());
        }
        let detected = Value::Object(det.facts.clone());
        let (outcome, id) = self.land_bytes(&staged, &digests, cancel, progress, |tx, existing, landing| {
            if let Some(existing) = existing {
                claim_staged(tx, existing.id, staged_by)?;
                catalog::record_verifications(tx, existing.id, &evidence, job.id)?;
                if let Some(m) = &media_check {
                    catalog::record_media_check(tx, &digests.sha256, m)?;
                }
                if existing.state != ArtifactState::Ok {
                    landing.heal(tx)?;
                    return Ok((Outcome::Imported, existing.id));
                }
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
            if let Some(job) = staged_by {
                tx.execute("INSERT INTO staged_members (job_id, artifact_id) VALUES (?1, ?2)", [job, id])?;
            }
            let attributes = crate::model::ArtifactPatch { name: None, kind: None, os: None, ..item.attributes.clone() };
            catalog::update(tx, id, &attributes)?;
            if let Some(d) = &downloaded {
                catalog::set_source(tx, id, d.source)?;
            }
            catalog::record_verifications(tx, id, &evidence, job.id)?;
            if let Some(m) = &media_check {
                catalog::record_media_check(tx, &digests.sha256, m)?;
            }
            landing.commit()?;
            crate::failpoint::failpoint("import.after_rename");
            Ok((Outcome::Imported, id))
        })?;
        drop(staged_guard);
        let artifact = catalog::by_id(&self.db(), id)?.ok_or_else(|| Error::not_found("artifact", &id.to_string()))?;
        Ok((outcome, artifact))
    }

    /// Land staged bytes (hashed, checked) in the repository in one write. `write` gets the row
    /// that already holds these bytes, if any, and a [`Landing`] to move them into the store (its
    /// last step). On a team repository the bytes go to the bucket first, unless the team has a
    /// good copy; the write decides again under the lock every desktop shares (a copy found
    /// damaged, or bytes deleted and perhaps collected since they looked known) and runs once more
    /// after sending them. Should the write fail, the object it committed goes, and bytes sent with
    /// no row naming them are left to the collection (a tombstone).
    pub(crate) fn land_bytes<T>(
        &self,
        staged: &Path,
        digests: &Digests,
        cancel: &CancelToken,
        progress: &mut dyn FnMut(&str, u64),
        mut write: impl FnMut(&crate::db::Connection, Option<Artifact>, &mut Landing<'_>) -> Result<T>,
    ) -> Result<T> {
        let team = self.bucket().is_some();
        let sha256 = digests.sha256.as_str();
        let mut uploaded = false;
        if team {
            let known = catalog::by_sha256(&self.db(), sha256)?;
            if known.is_none_or(|a| a.state != ArtifactState::Ok) {
                self.upload_object(sha256, staged, digests.size, cancel, &mut |done| progress("uploading", done))?;
                uploaded = true;
            }
        }
        progress("committing", digests.size);
        let mut landing = Landing { engine: self, staged, sha256, committed: None };
        let landed = loop {
            let decided = self.write(|tx| {
                let existing = catalog::by_sha256(tx, sha256)?;
                if team && !uploaded && existing.as_ref().is_none_or(|a| a.state != ArtifactState::Ok) {
                    return Ok(None);
                }
                // The bytes are in the bucket for good now (or were before).
                crate::team::objects::upload_settled(tx, sha256)?;
                write(tx, existing, &mut landing).map(Some)
            });
            match decided {
                Ok(None) => {
                    self.upload_object(sha256, staged, digests.size, cancel, &mut |done| progress("uploading", done))?;
                    uploaded = true;
                }
                Ok(Some(v)) => break Ok(v),
                Err(e) => break Err(e),
            }
        };
        if landed.is_err() {
            if let Some(obj) = landing.committed.take() {
                // The rows were rolled back; the object must go too.
                let _ = std::fs::remove_file(obj);
            }
            if uploaded {
                // Sent, but no row names it: collected after the grace period (unless imported again).
                let _ = self.write(|tx| {
                    crate::team::objects::upload_settled(tx, sha256)?;
                    crate::team::objects::tombstone(tx, sha256)
                });
            }
        }
        landed
    }

    /// The OS image `key` a file of `kind` and `os` belongs to; a driver must fit it (`compat`).
    fn resolve_image(
        &self,
        key: &str,
        kind: Kind,
        os: Option<OsFamily>,
        name: &str,
        facts: &serde_json::Map<String, Value>,
    ) -> Result<ArtifactRef> {
        let image = catalog::find_os_image(&self.db(), key)?;
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
        if kind == Kind::Driver {
            let driver = crate::driver_info::DriverInfo::from_fact(facts.get("driver"));
            crate::compat::check_driver(name, driver.as_ref(), &crate::compat::ImageFacts::of(&image))?;
        }
        Ok(ArtifactRef { id: image.id, name: image.name })
    }
}

/// The job an [`Engine::import_one`] runs in: recorded with its evidence, and for a profile import
/// (`staged`) the job whose failure takes back what it brought in.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct JobRef {
    pub id: Option<i64>,
    pub staged: bool,
}

impl JobRef {
    fn staged_by(self) -> Option<i64> {
        self.id.filter(|_| self.staged)
    }
}

/// An import found `artifact` already in the library. When a profile import (`staged_by`) brought
/// it in for a profile not created yet, this import shares that staging (it goes only when every
/// import that staged it failed); an import the user asked for makes it the library's own.
fn claim_staged(tx: &crate::db::Connection, artifact: i64, staged_by: Option<i64>) -> Result<()> {
    match staged_by {
        Some(job) => tx.execute(
            "INSERT INTO staged_members (job_id, artifact_id)
             SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM staged_members WHERE artifact_id = ?2) ON CONFLICT DO NOTHING",
            [job, artifact],
        )?,
        None => tx.execute("DELETE FROM staged_members WHERE artifact_id = ?1", [artifact])?,
    };
    Ok(())
}

/// Staged bytes on their way into the store, inside [`Engine::land_bytes`]'s write.
pub(crate) struct Landing<'a> {
    engine: &'a Engine,
    staged: &'a Path,
    sha256: &'a str,
    committed: Option<PathBuf>,
}

impl Landing<'_> {
    /// Move the staged file into the store as a new object: the write's last step, so a concurrent
    /// delete of the same bytes waits. Taken back should the write fail.
    pub(crate) fn commit(&mut self) -> Result<()> {
        self.committed = Some(self.engine.store.commit(self.staged, self.sha256)?);
        Ok(())
    }

    /// Heal: the stored copy is missing or damaged and these are its bytes (the same SHA-256), so
    /// the staged file replaces it and the artifact is ok again. Kept should the write fail: a
    /// good copy stays.
    pub(crate) fn heal(&self, tx: &crate::db::Connection) -> Result<()> {
        self.engine.store.commit(self.staged, self.sha256)?;
        crate::integrity::mark_restored(tx, self.sha256)
    }
}

/// The import job: one item per file.
pub struct ImportWork {
    req: ImportRequest,
    sums: Vec<(PathBuf, Result<ChecksumFile>)>,
    names: Vec<String>,
    /// The request's or the repository's policy: every file needs a good signature.
    require_signature: bool,
}

impl Work for ImportWork {
    type Item = (Artifact, Vec<ExpectedDigest>);
    type Report = ImportReport;
    const KIND: JobKind = JobKind::Import;

    fn items(&self) -> Vec<ItemSpec> {
        self.req
            .items
            .iter()
            .map(|i| ItemSpec::new(i.label(), i.url.is_none().then(|| std::fs::metadata(&i.path).ok().map(|m| m.len())).flatten()))
            .collect()
    }

    fn concurrency(&self) -> usize {
        runner::all_cores()
    }

    fn run_item(&self, engine: &Engine, seq: usize, step: &Step<'_>) -> Result<Done<Self::Item>> {
        let item = &self.req.items[seq];
        step.phase("checking");
        // A signature is only what check_signatures found here, and a checksum list only one read
        // here: what a request says of its digest is recorded as typed unless a list read here
        // gives the same digest (which then takes its place, with its signature).
        let mut expected: Vec<ExpectedDigest> = item
            .expected
            .iter()
            .cloned()
            .map(|e| ExpectedDigest { signature: None, from: crate::model::ExpectedFrom::Typed, line: None, ..e })
            .collect();
        for e in all_expected(&self.sums, &self.names[seq]) {
            match expected.iter_mut().find(|x| x.algo == e.algo && x.hex == e.hex) {
                // The same digest from the checksum file read here: keep its signature.
                Some(x) if x.source == e.source => *x = e,
                // Typed and listed in a checksum file too: both are evidence.
                _ => expected.push(e),
            }
        }
        // The policy's demand for a good signature waits until the kind is known: a bundle meets
        // it with its own signature.
        signature_verdict(&self.names[seq], &expected, false, self.req.accept_unverified_signatures)?;
        let locals = self.req.items.iter().filter(|i| i.url.is_none()).map(|i| i.path.as_path());
        let bundle_sig = bundle_signature(&self.names[seq], locals.clone());
        let signs_bundle = signs_bundle(&self.names[seq], locals);
        let require_signature = self.require_signature;
        let job = JobRef { id: Some(step.job_id()), staged: false };
        let mut progress = |phase: &str, done: u64| {
            step.phase(phase);
            step.progress(done);
        };
        let (outcome, artifact) = match &item.url {
            None => {
                let checks = Checks { expected: &expected, bundle_sig: bundle_sig.as_deref(), signs_bundle, require_signature };
                engine.import_one(item, checks, job, None, step.cancel(), &mut progress)?
            }
            Some(url) => {
                crate::osid::warm_up();
                let (fetched, facts) = engine.download(url, item.remote.as_ref(), &mut expected, self.req.read_timeout(), step)?;
                let local = ImportItem { path: fetched.path.clone(), url: None, ..item.clone() };
                let remote = item.remote.clone().unwrap_or_default();
                let source = ArtifactSource {
                    kind: if remote.store.is_some() { SourceKind::Store } else { SourceKind::Url },
                    url: Some(url.clone()),
                    manifest_url: remote.manifest_url,
                    store: remote.store,
                    remote_id: remote.remote_id,
                    ..ArtifactSource::default()
                };
                let downloaded = Downloaded { digests: &fetched.digests, source: &source, facts };
                let checks = Checks { expected: &expected, bundle_sig: bundle_sig.as_deref(), signs_bundle, require_signature };
                let result = engine.import_one(&local, checks, job, Some(downloaded), step.cancel(), &mut progress);
                // Imported, a duplicate, or refused (wrong digests): the download has served.
                crate::download::discard(&engine.layout().downloads(), url);
                result?
            }
        };
        let r = ArtifactRef { id: artifact.id, name: artifact.name.clone() };
        let mut artifact = artifact;
        artifact.lint = engine.lint_artifact(&artifact).ok().flatten().map(|r| r.findings);
        Ok(Done::with_artifact(outcome, r, (artifact, expected)))
    }

    fn report(self, _engine: &Engine, job: JobSummary, ends: Vec<ItemEnd<Self::Item>>) -> Result<ImportReport> {
        let items = ends
            .into_iter()
            .map(|e| {
                let path = self.req.items[e.seq].label();
                let (artifact, verified) = match e.value {
                    Some((a, v)) => (Some(a), v),
                    None => (None, Vec::new()),
                };
                ItemReport { path, outcome: e.outcome, artifact, error: e.error, verified }
            })
            .collect();
        Ok(ImportReport { job, items, checksum_files: checksum_reports(&self.sums, &self.names) })
    }
}

/// What the other readers of an import's pass came to.
enum Tapped {
    Media(crate::model::MediaCheck),
    Signature(SignatureCheck),
}

/// Deletes a staging file unless the import got as far as committing it.
/// Removes a staged file unless disarmed (`.0 = None`).
pub(crate) struct RemoveOnDrop(pub(crate) Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Removes staged files that are still there (those renamed into the store are gone already).
pub(crate) struct RemoveAllOnDrop(pub(crate) Vec<PathBuf>);

impl Drop for RemoveAllOnDrop {
    fn drop(&mut self) {
        for p in self.0.drain(..) {
            let _ = std::fs::remove_file(p);
        }
    }
}

pub fn checksum_mismatch(name: &str, exp: &ExpectedDigest, actual: &str) -> Error {
    let source =
        if exp.source == "entered" { "the checksum you entered".to_string() } else { format!("the expected checksum from {}", exp.source) };
    Error::new(
        code::CHECKSUM_MISMATCH,
        format!("The {} checksum of {name} does not match {source}: expected {}, got {actual}.", exp.algo.tag(), exp.hex),
        "The file differs from the one the checksum was published for: the download may be incomplete or damaged, or the checksum belongs to another file or release.",
        "Make sure the checksum matches the file (same release and edition), download the file again if needed, and import it again.",
    )
}
