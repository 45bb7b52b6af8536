//! Answer-file lint: kickstart, AutoYaST and Windows unattend.xml files checked for what makes an
//! unattended install stop, fail or leak a secret, each finding with its line and column, severity,
//! code, message and how to fix it. Kickstart is checked against the grammar of the target release
//! (`kickstart-grammar.json`, written from pykickstart by scripts/lint/kickstart-grammar.py).

mod autoyast;
mod kickstart;
mod unattend;

use crate::detect::{self, Format};
use crate::error::{Error, Result};
use crate::model::string_enum;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub use kickstart::release_for;

string_enum!(
    /// How much a finding matters: an `error` stops or breaks the install (and blocks export unless
    /// overridden with a reason); a `warning` is worth fixing but the install goes on.
    Severity, "lint severity", UnknownValue { Error = "error", Warning = "warning" }
);

string_enum!(
    /// What a finding is about, the same words in the CLI, the app and profile.json.
    LintCode, "lint code", UnknownValue {
        InvalidXml = "invalid_xml",
        UnknownCommand = "unknown_command",
        RemovedCommand = "removed_command",
        DeprecatedCommand = "deprecated_command",
        DuplicateCommand = "duplicate_command",
        ConflictingCommand = "conflicting_command",
        UnknownOption = "unknown_option",
        DeprecatedOption = "deprecated_option",
        MissingValue = "missing_value",
        UnexpectedValue = "unexpected_value",
        MissingOption = "missing_option",
        MissingArgument = "missing_argument",
        UnclosedQuote = "unclosed_quote",
        UnknownSection = "unknown_section",
        UnterminatedSection = "unterminated_section",
        StrayEnd = "stray_end",
        PlaintextPassword = "plaintext_password",
        WrongRoot = "wrong_root",
        InvalidType = "invalid_type",
        InvalidValue = "invalid_value",
        UntypedBoolean = "untyped_boolean",
        UnknownPass = "unknown_pass",
        DuplicatePass = "duplicate_pass",
        UnknownComponent = "unknown_component",
        WrongPass = "wrong_pass",
        ArchitectureMismatch = "architecture_mismatch",
        NoImageSelection = "no_image_selection",
    }
);

/// One thing found in an answer file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Finding {
    /// Counting from 1.
    pub line: u32,
    /// Counting from 1, in characters.
    pub column: u32,
    pub severity: Severity,
    pub code: LintCode,
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl Finding {
    pub(crate) fn new(line: usize, column: usize, severity: Severity, code: LintCode, message: String, fix: impl Into<String>) -> Self {
        Finding { line: line as u32, column: column.max(1) as u32, severity, code, message, fix: fix.into() }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// What an answer file was checked as, and what was found, first line first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LintReport {
    /// What the file was checked as: "kickstart (RHEL 9)", "AutoYaST", "unattend.xml (amd64)".
    pub checked_as: String,
    pub findings: Vec<Finding>,
}

impl LintReport {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }
}

/// What lint finds in one answer file of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MemberLint {
    pub artifact: crate::model::ArtifactRef,
    pub report: LintReport,
}

/// What an answer file is meant for: the OS release its installer runs (kickstart syntax differs
/// between RHEL 8, 9, 10 and Fedora) and the machine's architecture (unattend components name it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// A distribution id as detection and libosinfo name it: "rhel", "fedora", "centos", "rocky".
    pub distro: Option<String>,
    /// Its version, "9.6" or "42".
    pub version: Option<String>,
    /// "x86_64", "aarch64", "amd64", "arm64"…
    pub arch: Option<String>,
}

/// Lint `text`, detected as `format`; None when the format is not an answer file.
pub fn lint_text(format: Format, text: &str, target: &Target) -> Option<LintReport> {
    let mut report = match format {
        Format::Kickstart => kickstart::lint(text, target),
        Format::AutoYast => autoyast::lint(text),
        Format::Unattend => unattend::lint(text, target),
        _ => return None,
    };
    report.findings.sort_by_key(|f| (f.line, f.column));
    Some(report)
}

/// The largest answer file read for lint (detection refuses larger text files anyway).
const MAX_ANSWER_FILE: u64 = 16 << 20;

/// Lint the answer file at `path`: detected as kickstart, AutoYaST or unattend.xml, or an error
/// saying it is none of them.
pub fn lint_file(path: &Path, target: &Target) -> Result<LintReport> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let format = match detect::detect(path) {
        Ok(det) => match det.format {
            f @ (Format::Kickstart | Format::AutoYast | Format::Unattend) => f,
            // A short kickstart file does not look like one to detection; its name says it is.
            Format::Text if matches!(ext.as_str(), "ks" | "cfg") => Format::Kickstart,
            other => return Err(not_an_answer_file(&name, other.describe())),
        },
        // XML that is not well-formed is refused by detection; lint says where it breaks.
        Err(e) => match format_of(&read_answer_file(path)?, None) {
            Some(f) => f,
            None => return Err(e),
        },
    };
    let text = read_answer_file(path)?;
    Ok(lint_text(format, &text, target).expect("an answer file format"))
}

/// An answer file's text (UTF-8, a BOM dropped; UTF-16 as Windows tools write unattend.xml).
pub fn read_answer_file(path: &Path) -> Result<String> {
    let bytes = crate::checksum::read_capped(path, MAX_ANSWER_FILE)?.map_err(|len| {
        Error::invalid_argument(
            format!("{} is {len} bytes; answer files are at most 16 MiB.", path.display()),
            "Give the kickstart, AutoYaST or unattend.xml file itself.",
        )
    })?;
    Ok(decode(&bytes))
}

fn decode(bytes: &[u8]) -> String {
    let utf16 = |le: bool, b: &[u8]| {
        let units: Vec<u16> =
            b.chunks_exact(2).map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) }).collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(true, rest),
        [0xFE, 0xFF, rest @ ..] => utf16(false, rest),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn not_an_answer_file(name: &str, what: &str) -> Error {
    Error::invalid_argument(
        format!("{name} is not an answer file (it was read as a {what})."),
        "Lint checks kickstart files, AutoYaST profiles (<profile> in the yast2ns namespace) and Windows unattend.xml files (<unattend>).",
    )
}

/// Where an XML node starts: line and column, counting from 1.
pub(crate) fn pos(doc: &roxmltree::Document<'_>, node: roxmltree::Node<'_, '_>) -> (usize, usize) {
    let p = doc.text_pos_at(node.range().start);
    (p.row as usize, p.col as usize)
}

/// The closest of `known` to `word` when it is close enough to be a misspelling.
pub(crate) fn suggest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    known
        .into_iter()
        .map(|k| (strsim::levenshtein(&word, &k.to_ascii_lowercase()), k))
        .filter(|(d, k)| *d <= 2.min(k.len() / 3 + 1) && *d > 0)
        .min_by_key(|(d, k)| (*d, k.len()))
        .map(|(_, k)| k)
}

/// "did you mean `lang`?" for a fix, or the fallback.
pub(crate) fn did_you_mean(word: &str, known: Option<&str>, otherwise: &str) -> String {
    match known {
        Some(k) => format!("Did you mean {k}? Correct the spelling of {word}."),
        None => otherwise.to_string(),
    }
}

/// Which answer-file format an unattend artifact's text is (stored objects have no file name to
/// go by): XML by its namespace, else a Linux answer file is kickstart.
fn format_of(text: &str, os: Option<crate::model::OsFamily>) -> Option<Format> {
    let head = text.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with('<') {
        let root_ns = text.find("<unattend").map(|_| "unattend").or_else(|| text.find("yast2ns").map(|_| "autoyast"));
        return match root_ns {
            Some("unattend") => Some(Format::Unattend),
            Some(_) => Some(Format::AutoYast),
            None => None,
        };
    }
    (os == Some(crate::model::OsFamily::Linux)).then_some(Format::Kickstart)
}

/// A target named on the command line: an OS or libosinfo id (`rhel9.6`, `rhel-9`, `fedora42`,
/// `sles15sp6`, `win2k22`), read as a distribution and a version.
pub fn target_from_os(os: &str) -> Target {
    let os = os.trim().to_ascii_lowercase();
    let split = os.find(|c: char| c.is_ascii_digit()).unwrap_or(os.len());
    let (distro, version) = os.split_at(split);
    let distro = distro.trim_end_matches(['-', '_', ' ']);
    Target {
        distro: (!distro.is_empty()).then(|| distro.to_string()),
        version: (!version.is_empty()).then(|| version.to_string()),
        arch: None,
    }
}

/// What an OS image says it is, as a target for the answer files that go with it.
pub fn target_from_image(image: &crate::model::Artifact) -> Target {
    Target {
        distro: image.distro.clone().or_else(|| image.os_id.as_deref().map(|id| target_from_os(id).distro.unwrap_or_default())),
        version: image.os_version.clone(),
        arch: image.arch.clone(),
    }
}

impl crate::Engine {
    /// Lint an answer file given by path, for the OS named (`--os`) or the OS image named
    /// (`--image`, its release and architecture); RHEL 9 syntax when neither is given.
    pub fn lint_path(&self, path: &Path, os: Option<&str>, image: Option<&str>) -> Result<LintReport> {
        let target = match (os, image) {
            (_, Some(key)) => target_from_image(&crate::catalog::find_os_image(&self.db(), key)?),
            (Some(os), None) => target_from_os(os),
            (None, None) => Target::default(),
        };
        lint_file(path, &target)
    }

    /// Lint an artifact's stored bytes when it is an answer file (None otherwise), for the OS image
    /// it belongs to, else its own OS.
    pub fn lint_artifact(&self, a: &crate::model::Artifact) -> Result<Option<LintReport>> {
        let target = match &a.image {
            Some(image) => match crate::catalog::by_id(&self.db(), image.id)? {
                Some(image) => target_from_image(&image),
                None => Target::default(),
            },
            None => Target { distro: a.distro.clone(), ..Target::default() },
        };
        self.lint_for(a, &target)
    }

    /// Lint an artifact's stored bytes for `target` when it is an answer file (None otherwise).
    pub fn lint_for(&self, a: &crate::model::Artifact, target: &Target) -> Result<Option<LintReport>> {
        if a.kind != crate::model::Kind::Unattend {
            return Ok(None);
        }
        let text = self.stored_text(a)?;
        Ok(format_of(&text, a.os).and_then(|format| lint_text(format, &text, target)))
    }

    /// An answer file's stored text, re-hashed first: bytes that changed on disk are reported as
    /// the damage they are (`object_damaged`), not linted or shown as if they were the file.
    fn stored_text(&self, a: &crate::model::Artifact) -> Result<String> {
        use sha2::Digest;
        let path = self.object_file(&a.sha256, &crate::CancelToken::new(), &mut |_| {})?;
        let bytes = crate::checksum::read_capped(&path, MAX_ANSWER_FILE)?
            .map_err(|_| crate::store::object_damaged(&a.name, &a.sha256, "it is larger than an answer file can be"))?;
        if hex::encode(sha2::Sha256::digest(&bytes)) != a.sha256 {
            return Err(crate::store::object_damaged(&a.name, &a.sha256, "its SHA-256 differs"));
        }
        Ok(decode(&bytes))
    }

    /// What lint finds in each answer file of a profile, checked against its base image (the
    /// profile editor shows it next to the file; an export is stopped by its errors).
    pub fn lint_profile(&self, key: &str) -> Result<Vec<MemberLint>> {
        let p = self.get_profile(key)?;
        let base = crate::catalog::by_id(&self.db(), p.base.id)?.ok_or_else(|| Error::not_found("artifact", &p.base.id.to_string()))?;
        self.member_lints(&p, &base)
    }

    fn member_lints(&self, p: &crate::profile::Profile, base: &crate::model::Artifact) -> Result<Vec<MemberLint>> {
        let target = target_from_image(base);
        let mut out = Vec::new();
        for m in p.members.iter().filter(|m| m.kind == crate::model::Kind::Unattend) {
            let Some(a) = crate::catalog::by_id(&self.db(), m.artifact.id)? else { continue };
            // A stored copy that is missing or damaged is the export's to report (object_missing…).
            if let Ok(Some(report)) = self.lint_for(&a, &target) {
                out.push(MemberLint { artifact: m.artifact.clone(), report });
            }
        }
        Ok(out)
    }

    /// An answer file's text as stored, for a read-only view next to its findings.
    pub fn answer_file_text(&self, id_or_name: &str) -> Result<String> {
        let a = crate::catalog::get(&self.db(), id_or_name)?;
        if a.kind != crate::model::Kind::Unattend {
            return Err(Error::invalid_argument(
                format!("{} is not an answer file (it is a {} artifact).", a.name, a.kind),
                "Only answer files (kickstart, AutoYaST, unattend.xml) are shown as text.",
            ));
        }
        self.stored_text(&a)
    }

    /// The errors lint finds in a profile's answer files, checked against its base image: they stop
    /// an export, unless the admin overrides them with a reason — then what profile.json records
    /// (the reason and each error, so whoever installs from the archive knows).
    pub(crate) fn lint_gate(
        &self,
        p: &crate::profile::Profile,
        base: &crate::model::Artifact,
        reason: Option<&str>,
    ) -> Result<Option<serde_json::Value>> {
        let errors: Vec<(String, Finding)> = self
            .member_lints(p, base)?
            .into_iter()
            .flat_map(|m| {
                let file = m.artifact.name;
                m.report.findings.into_iter().filter(Finding::is_error).map(move |f| (file.clone(), f))
            })
            .collect();
        if errors.is_empty() {
            return Ok(None);
        }
        let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) else {
            return Err(lint_errors(&p.name, &errors));
        };
        // Bounded, so profile.json stays well under what a profile import reads (1 MiB).
        let reason: String = reason.chars().take(MAX_REASON).collect();
        let listed: Vec<serde_json::Value> = errors
            .iter()
            .take(MAX_LISTED)
            .map(|(file, f)| serde_json::json!({"file": file, "line": f.line, "column": f.column, "code": f.code, "message": f.message}))
            .collect();
        Ok(Some(serde_json::json!({"reason": reason, "error_count": errors.len(), "errors": listed})))
    }
}

/// How much of an override profile.json keeps: the reason's first characters, the first errors
/// (with the count of all).
const MAX_REASON: usize = 2000;
const MAX_LISTED: usize = 100;

fn lint_errors(profile: &str, errors: &[(String, Finding)]) -> Error {
    let first: Vec<String> = errors.iter().take(3).map(|(file, f)| format!("{file} line {}: {}", f.line, f.message)).collect();
    let more = if errors.len() > 3 { format!(" (and {} more)", errors.len() - 3) } else { String::new() };
    Error::new(
        crate::error::code::LINT_ERRORS,
        format!("The answer files of {profile} have {} lint error(s): {}{more} The export was stopped.", errors.len(), first.join("; ")),
        "An answer file with errors stops or breaks the unattended install on every machine it reaches.",
        "Fix the answer file (`imagesmith-cli lint FILE --image BASE` lists every finding with its fix), import it again and put it in the profile; or export anyway, giving the reason (--override-lint REASON, or the export dialog's override) — it is recorded in profile.json.",
    )
}
