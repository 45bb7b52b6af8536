//! Expected digests: typed or pasted (`ALGO:HEX`, bare hex) and checksum files (GNU, BSD tagged, sidecars).

use crate::error::{code, Error, Result};
use crate::model::{Algo, ExpectedFrom, SignatureCheck};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::Path;

/// A digest a file must match, and where it came from ("entered", "--sha256", "SHA256SUMS", …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ExpectedDigest {
    pub algo: Algo,
    /// Lower-case hex.
    pub hex: String,
    pub source: String,
    /// What kind of source `source` is (kept with the artifact as evidence).
    pub from: ExpectedFrom,
    /// The line of the checksum file it was read from, counting from 1.
    pub line: Option<u32>,
    /// The signature over that checksum file, once checked (None for a typed digest).
    #[serde(default)]
    pub signature: Option<crate::model::SignatureCheck>,
}

impl ExpectedDigest {
    /// A digest the user typed or passed on the command line.
    pub fn typed(algo: Algo, hex: String, source: &str) -> Self {
        ExpectedDigest { algo, hex, source: source.to_string(), from: ExpectedFrom::Typed, line: None, signature: None }
    }
}

/// One line of a checksum file: the digest of the file called `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChecksumEntry {
    pub name: String,
    pub algo: Algo,
    pub hex: String,
    /// Where it stands in the file, counting from 1.
    pub line: u32,
}

/// A parsed checksum file, and what its signature came to once checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChecksumFile {
    pub path: String,
    pub file_name: String,
    pub format: String,
    /// For a clear-signed file, only the lines its signature covers.
    pub entries: Vec<ChecksumEntry>,
    /// Whether it is clear-signed (`-----BEGIN PGP SIGNED MESSAGE-----`).
    #[serde(default)]
    pub clear_signed: bool,
    /// The detached signature found beside it (`SHA256SUMS.gpg`, `SHA512SUMS.sign`, `CHECKSUM.asc`).
    #[serde(default)]
    pub signature_path: Option<String>,
    /// What its signature came to; `none` until [`crate::Engine::check_signatures`] has run.
    #[serde(default)]
    pub signature: SignatureCheck,
    /// The bytes as read, once: the signature is checked over exactly what the digests came from.
    #[serde(skip)]
    #[cfg_attr(feature = "specta", specta(skip))]
    pub(crate) bytes: Vec<u8>,
}

/// Extensions of detached signature files, as distributions name them.
const SIGNATURE_EXTENSIONS: &[&str] = &["asc", "sig", "gpg", "sign"];

/// `SHA256SUMS.gpg` → `SHA256SUMS`: the file a detached signature file is named after.
pub fn signed_file_name(signature_name: &str) -> Option<&str> {
    let (stem, ext) = signature_name.rsplit_once('.')?;
    (SIGNATURE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()) && !stem.is_empty()).then_some(stem)
}

/// Does the name look like a detached signature of a checksum list (`SHA256SUMS.gpg`,
/// `Fedora-…-CHECKSUM.asc`)? URLs are sorted by name before they are fetched.
pub fn name_suggests_checksum_signature(file_name: &str) -> bool {
    signed_file_name(file_name).is_some_and(name_suggests_checksum_file)
}

/// Checksum files are small; anything larger is not one.
pub const MAX_CHECKSUM_FILE: u64 = 4 << 20;

fn invalid_digest(input: &str, why: &str) -> Error {
    Error::new(
        code::INVALID_CHECKSUM,
        format!("\"{}\" is not a usable checksum: {why}.", truncate(input, 80)),
        "A checksum is hexadecimal: 32 digits for MD5, 40 for SHA-1, 64 for SHA-256, 128 for SHA-512, optionally written ALGO:HEX.",
        "Copy the checksum again from the vendor's download page or checksum file.",
    )
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

fn normalize_hex(hex: &str) -> Option<String> {
    let hex = hex.trim();
    if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some(hex.to_ascii_lowercase())
    } else {
        None
    }
}

/// A digest for a known algorithm (`--sha256 HEX`).
pub fn expected_for(algo: Algo, hex: &str, source: &str) -> Result<ExpectedDigest> {
    let norm = normalize_hex(hex).ok_or_else(|| invalid_digest(hex, "it is not hexadecimal"))?;
    if norm.len() != algo.hex_len() {
        return Err(invalid_digest(hex, &format!("{} has {} hex digits, this has {}", algo.tag(), algo.hex_len(), norm.len())));
    }
    Ok(ExpectedDigest::typed(algo, norm, source))
}

/// A typed or pasted digest: `ALGO:HEX` (also `ALGO=HEX`, `ALGO HEX`) or a bare hex string.
pub fn parse_expected(input: &str, source: &str) -> Result<ExpectedDigest> {
    let text = input.trim();
    if let Some((algo, hex)) = text.split_once([':', '=', ' ']) {
        let algo_name = algo.trim().replace('-', "");
        let algo: Algo = algo_name.parse().map_err(|_| invalid_digest(input, "the algorithm is not md5, sha1, sha256 or sha512"))?;
        return expected_for(algo, hex, source);
    }
    let norm = normalize_hex(text).ok_or_else(|| invalid_digest(input, "it is not hexadecimal"))?;
    let algo =
        Algo::from_hex_len(norm.len()).ok_or_else(|| invalid_digest(input, &format!("{} hex digits match no algorithm", norm.len())))?;
    Ok(ExpectedDigest::typed(algo, norm, source))
}

/// Extensions that say a file is something other than a checksum list, whatever its name says
/// (`md5sum.sh` is a script about checksums, not a list of them).
const OTHER_TYPES: &[&str] = &[
    "sh", "bash", "zsh", "ksh", "pl", "pm", "py", "rb", "js", "cmd", "bat", "ps1", "psm1", "exe", "msi", "json", "xml", "inf", "cfg", "ks",
    "iso", "img", "zip", "rpm", "deb", "gz", "tgz", "tar", "asc", "sig", "gpg", "sign",
];

/// Does the file name look like a checksum list (`SHA256SUMS`, `Fedora-…-CHECKSUM`, `x.iso.sha256`)?
/// Only a hint: checksum files are recognised by their content (see `import::split_checksum_files`).
pub fn name_suggests_checksum_file(file_name: &str) -> bool {
    if sidecar_algo(file_name).is_some() {
        return true;
    }
    let upper = file_name.to_ascii_uppercase();
    let base = upper.split('.').next().unwrap_or("");
    let listy = ["SUMS", "SUM", "CHECKSUM", "CHECKSUMS"].iter().any(|s| base.ends_with(s));
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    listy && !OTHER_TYPES.contains(&ext.as_str())
}

/// `name.sha256` → (Sha256, "name").
fn sidecar_algo(file_name: &str) -> Option<(Algo, &str)> {
    let (stem, ext) = file_name.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    let ext = ext.strip_suffix("sum").unwrap_or(&ext);
    let algo = match ext {
        "md5" => Algo::Md5,
        "sha1" => Algo::Sha1,
        "sha256" => Algo::Sha256,
        "sha512" => Algo::Sha512,
        _ => return None,
    };
    Some((algo, stem))
}

fn invalid_file(file_name: &str, why: String) -> Error {
    Error::new(
        code::CHECKSUM_FILE_INVALID,
        format!("{file_name} could not be read as a checksum file: {why}."),
        "Imagesmith reads sha256sum-style lines (`HEX  name`, `HEX *name`), BSD tagged lines (`SHA256 (name) = HEX`) and single-file sidecars holding a bare digest; `#` comments and Windows line ends are fine.",
        "Check that the checksum file is the one published with the image and was not changed, then try again.",
    )
}

/// A small file (a checksum list, a signature beside it) read whole, or `Err(size)` when it holds
/// more than `MAX_CHECKSUM_FILE` bytes. Special files are refused (`open_regular`).
pub(crate) fn read_small(path: &Path) -> Result<std::result::Result<Vec<u8>, u64>> {
    read_capped(path, MAX_CHECKSUM_FILE)
}

/// A file read whole, or `Err(size)` when it holds more than `max` bytes (never more than that is
/// read, even from a file that grows). Special files are refused (`open_regular`).
pub(crate) fn read_capped(path: &Path, max: u64) -> Result<std::result::Result<Vec<u8>, u64>> {
    let file = crate::detect::open_regular(path)?;
    let len = file.metadata().map_err(|e| Error::io(path, &e, false))?.len();
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(|e| Error::io(path, &e, false))?;
    let read = bytes.len() as u64;
    Ok(if len > max || read > max { Err(len.max(read)) } else { Ok(bytes) })
}

/// Parse a checksum file from disk.
pub fn read_checksum_file(path: &Path) -> Result<ChecksumFile> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let bytes = read_small(path)?.map_err(|len| invalid_file(&file_name, format!("it is {len} bytes, too large for a checksum file")))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| invalid_file(&file_name, "it is not text".into()))?;
    let (format, entries, clear_signed) = match clear_signed_part(text) {
        None => {
            let (format, entries) = parse_checksum_text(text, &file_name)?;
            (format, entries, false)
        }
        Some(Err(())) => {
            return Err(invalid_file(
                &file_name,
                "its OpenPGP armour is damaged or misplaced (a clear-signed list starts with -----BEGIN PGP SIGNED MESSAGE-----, and its signed part and signature must both be readable)".into(),
            ))
        }
        Some(Ok((first_line, signed))) => {
            // Only what the signature covers counts: lines added outside the signed part are not read.
            let (format, mut entries) = parse_checksum_text(&signed, &file_name)?;
            entries.iter_mut().for_each(|e| e.line += first_line - 1);
            (format, entries, true)
        }
    };
    Ok(ChecksumFile {
        path: path.display().to_string(),
        file_name,
        format: format.to_string(),
        entries,
        clear_signed,
        signature_path: None,
        signature: SignatureCheck::none(),
        bytes,
    })
}

/// For a clear-signed text: the line its signed part starts on (counting from 1) and that part,
/// as signed; `Err` when the clear-signing cannot be read. None for a text that is not clear-signed.
fn clear_signed_part(text: &str) -> Option<std::result::Result<(u32, String), ()>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Any OpenPGP armour makes it a signed list, which must then be one from its first line: a list
    // whose armour is misplaced or damaged is not read as if it were unsigned.
    if !text.contains("-----BEGIN PGP") {
        return None;
    }
    if !text.starts_with("-----BEGIN PGP SIGNED MESSAGE-----") {
        return Some(Err(()));
    }
    let Some((_, signed)) = crate::openpgp::clearsigned(text) else { return Some(Err(())) };
    // The armour header lines (Hash: …) end at the first blank line (OpenPGP allows spaces in it).
    let Some(header_lines) = text.lines().position(|l| l.trim().is_empty()) else { return Some(Err(())) };
    Some(Ok((header_lines as u32 + 2, signed.replace("\r\n", "\n"))))
}

/// Parse checksum file text. Returns the format seen ("gnu", "bsd", "sidecar") and the entries.
pub fn parse_checksum_text(text: &str, file_name: &str) -> Result<(&'static str, Vec<ChecksumEntry>)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut entries = Vec::new();
    let mut formats = (false, false);
    let mut in_signature = false;
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let meaningful: Vec<(usize, &str)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| (i + 1, *l))
        .collect();

    // A sidecar holding only a bare digest names its file by its own name.
    if let (Some((algo, stem)), [(line, only)]) = (sidecar_algo(file_name), meaningful.as_slice()) {
        if let Some(hex) = normalize_hex(only) {
            if hex.len() == algo.hex_len() {
                return Ok(("sidecar", vec![ChecksumEntry { name: stem.to_string(), algo, hex, line: *line as u32 }]));
            }
        }
    }

    for (line_no, line) in meaningful {
        let line_no = line_no as u32;
        if in_signature {
            if line.starts_with("-----END PGP SIGNATURE") {
                in_signature = false;
            }
            continue;
        }
        if line.starts_with("-----BEGIN PGP SIGNED MESSAGE") || line.starts_with("Hash:") {
            continue;
        }
        if line.starts_with("-----BEGIN PGP SIGNATURE") {
            in_signature = true;
            continue;
        }
        // Clear-signed text escapes lines starting with a dash as "- ".
        let line = line.strip_prefix("- ").unwrap_or(line);
        if let Some(e) = parse_bsd_line(line, line_no) {
            formats.1 = true;
            entries.push(e);
        } else if let Some(e) = parse_gnu_line(line, line_no) {
            formats.0 = true;
            entries.push(e);
        } else {
            return Err(invalid_file(file_name, format!("line {line_no} is neither `HEX  name` nor `ALGO (name) = HEX`")));
        }
    }
    if entries.is_empty() {
        return Err(invalid_file(file_name, "it holds no checksum lines".into()));
    }
    let format = match formats {
        (true, true) => "mixed",
        (false, true) => "bsd",
        _ => "gnu",
    };
    Ok((format, entries))
}

/// `SHA256 (name) = hex`
fn parse_bsd_line(line: &str, line_no: u32) -> Option<ChecksumEntry> {
    let (algo_part, rest) = line.split_once(" (")?;
    let (name, hex) = rest.rsplit_once(") = ")?;
    let algo: Algo = algo_part.trim().replace('-', "").parse().ok()?;
    let hex = normalize_hex(hex)?;
    (hex.len() == algo.hex_len()).then(|| ChecksumEntry { name: name.to_string(), algo, hex, line: line_no })
}

/// `hex  name` (text) or `hex *name` (binary); a leading `\` marks an escaped name.
fn parse_gnu_line(line: &str, line_no: u32) -> Option<ChecksumEntry> {
    let (escaped, line) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let (hex, rest) = line.split_once(' ')?;
    let name = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('*'))?;
    let hex = normalize_hex(hex)?;
    let algo = Algo::from_hex_len(hex.len())?;
    if name.is_empty() {
        return None;
    }
    let name = if escaped { unescape(name) } else { name.to_string() };
    Some(ChecksumEntry { name, algo, hex, line: line_no })
}

fn unescape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The base name of an entry ("./images/boot.iso" → "boot.iso"), for matching against dropped files.
pub fn entry_base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

impl ChecksumFile {
    /// The strongest digest this file lists for a file called `file_name` (what a review shows).
    pub fn expected_for(&self, file_name: &str) -> Option<ExpectedDigest> {
        self.digests_for(file_name).into_iter().max_by_key(|e| e.algo.hex_len())
    }

    /// Every digest this file lists for a file called `file_name`, in file order, a repeated line
    /// once. All of them are checked; see [`check_agreement`] for lines that contradict each other.
    pub fn digests_for(&self, file_name: &str) -> Vec<ExpectedDigest> {
        let mut out: Vec<ExpectedDigest> = Vec::new();
        for e in self.entries.iter().filter(|e| entry_base_name(&e.name) == file_name) {
            if !out.iter().any(|x| x.algo == e.algo && x.hex == e.hex) {
                out.push(ExpectedDigest {
                    algo: e.algo,
                    hex: e.hex.clone(),
                    source: self.file_name.clone(),
                    from: ExpectedFrom::ChecksumFile,
                    line: Some(e.line),
                    signature: Some(self.signature.clone()),
                });
            }
        }
        out
    }
}

/// Two different digests of one algorithm for the same file cannot both be right, and nothing tells
/// which is: refuse with `checksum_conflict` rather than trust either.
pub fn check_agreement(file_name: &str, expected: &[ExpectedDigest]) -> Result<()> {
    for (i, a) in expected.iter().enumerate() {
        if let Some(b) = expected[i + 1..].iter().find(|b| b.algo == a.algo && b.hex != a.hex) {
            let from = |e: &ExpectedDigest| {
                if e.source == b.source && e.source == a.source {
                    String::new()
                } else {
                    format!(" (from {})", e.source)
                }
            };
            let same_file = if a.source == b.source { format!(" in {}", a.source) } else { String::new() };
            return Err(Error::new(
                code::CHECKSUM_CONFLICT,
                format!("Two different {} checksums are given for {file_name}{same_file}: {}{} and {}{}.", a.algo.tag(), a.hex, from(a), b.hex, from(b)),
                "At most one of them can be right: the checksum lists may mix releases or editions, or one was edited or damaged. The file was not imported.",
                "Keep only the checksum file published with this release of the file (check its signature if it has one), then import again.",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const H256: &str = "79a6564cd227d57f54dd365e7ba5ffb8847a61f5912023fdf645b1e3f3644d42";

    #[test]
    fn bare_hex_algorithm_follows_length() {
        let e = parse_expected(&H256.to_uppercase(), "entered").unwrap();
        assert_eq!(e.algo, Algo::Sha256);
        assert_eq!(e.hex, H256);
        assert_eq!(parse_expected("5313e5c2d2a16cc462df31d8866f6d5c", "x").unwrap().algo, Algo::Md5);
        assert_eq!(parse_expected("abc", "x").unwrap_err().code, code::INVALID_CHECKSUM);
    }

    #[test]
    fn algo_prefixed_digest_is_checked_against_its_length() {
        assert_eq!(parse_expected(&format!("sha256:{H256}"), "x").unwrap().algo, Algo::Sha256);
        assert_eq!(parse_expected(&format!("SHA-256:{H256}"), "x").unwrap().algo, Algo::Sha256);
        let err = parse_expected(&format!("md5:{H256}"), "x").unwrap_err();
        assert!(err.text.contains("MD5 has 32"), "{}", err.text);
    }

    #[test]
    fn gnu_text_binary_bsd_comments_crlf_and_pgp_are_read() {
        let text = format!(
            "-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n\r\n# comment\r\n{H256}  a.iso\r\n{H256} *b.iso\r\nSHA256 (c.iso) = {H256}\r\n\\{H256}  d\\\\e.iso\r\n-----BEGIN PGP SIGNATURE-----\r\nabc\r\n-----END PGP SIGNATURE-----\r\n"
        );
        let (format, entries) = parse_checksum_text(&text, "CHECKSUM").unwrap();
        assert_eq!(format, "mixed");
        let names: Vec<_> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a.iso", "b.iso", "c.iso", "d\\e.iso"]);
    }

    #[test]
    fn sidecar_with_bare_digest_names_its_file() {
        let (format, entries) = parse_checksum_text(&format!("{H256}\n"), "ipxe.iso.sha256").unwrap();
        assert_eq!(format, "sidecar");
        assert_eq!(entries[0].name, "ipxe.iso");
    }

    #[test]
    fn garbage_line_is_reported_with_its_number() {
        let err = parse_checksum_text(&format!("{H256}  a.iso\nhello world\n"), "SUMS").unwrap_err();
        assert_eq!(err.code, code::CHECKSUM_FILE_INVALID);
        assert!(err.text.contains("line 2"), "{}", err.text);
    }

    #[test]
    fn every_digest_for_a_name_is_returned_and_contradictions_are_a_conflict() {
        let md5 = "5313e5c2d2a16cc462df31d8866f6d5c";
        let other = H256.replace('7', "8");
        let text = format!("{other}  a.iso\nMD5 (a.iso) = {md5}\n{H256}  a.iso\n{H256}  ./a.iso\n{H256}  b.iso\n");
        let (_, entries) = parse_checksum_text(&text, "SUMS").unwrap();
        let f = ChecksumFile {
            path: "SUMS".into(),
            file_name: "SUMS".into(),
            format: "mixed".into(),
            entries,
            clear_signed: false,
            signature_path: None,
            signature: SignatureCheck::none(),
            bytes: Vec::new(),
        };
        let all = f.digests_for("a.iso");
        let seen: Vec<(Algo, &str)> = all.iter().map(|e| (e.algo, e.hex.as_str())).collect();
        assert_eq!(seen, [(Algo::Sha256, other.as_str()), (Algo::Md5, md5), (Algo::Sha256, H256)], "a repeated line counts once");
        let err = check_agreement("a.iso", &all).unwrap_err();
        assert_eq!(err.code, code::CHECKSUM_CONFLICT);
        assert!(err.text.contains(&other) && err.text.contains(H256) && err.text.contains("in SUMS"), "{}", err.text);
        check_agreement("b.iso", &f.digests_for("b.iso")).unwrap();
        assert_eq!(f.expected_for("a.iso").unwrap().algo, Algo::Sha256, "the review shows the strongest");
    }

    #[test]
    fn checksum_file_names_are_recognised() {
        for n in ["SHA256SUMS", "MD5SUMS.crlf", "CHECKSUM", "Fedora-39-x86_64-CHECKSUM", "x.iso.sha256", "x.md5"] {
            assert!(name_suggests_checksum_file(n), "{n}");
        }
        for n in
            ["ipxe.iso", "ks.cfg", "notes.txt", "summary.json", "md5sum.sh", "verify-checksum.sh", "CHECKSUMS-tool.py", "sha256sum.ps1"]
        {
            assert!(!name_suggests_checksum_file(n), "{n}");
        }
    }
}
