//! isomd5sum: the MD5 that `implantisomd5` writes into an ISO's primary volume descriptor (Fedora
//! and RHEL media; the installer's "Test this media" checks it), read from the head and checked in
//! the import's one read pass, beside SHA-256.
//!
//! The implanted text sits in the descriptor's 512-byte application-use area (`ISO MD5SUM = hex;
//! SKIPSECTORS = n;…`). The sum covers the image up to its volume size less the skipped sectors,
//! with that area read as spaces. Fragment sums (early failure in the installer) are not needed
//! here: the whole sum decides, as it does for `checkisomd5`.

use crate::error::{code, Error, Result};
use crate::model::{MediaCheck, MediaCheckStatus};
use md5::{Digest, Md5};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const SECTOR: u64 = 2048;
/// Where the application-use area starts in a primary volume descriptor, and its length.
const APPDATA_OFFSET: u64 = 883;
const APPDATA_LEN: u64 = 512;
/// The volume space size (sectors), big-endian half of the both-endian field.
const SIZE_OFFSET: usize = 84;
/// Volume descriptors looked at before giving up (they start at sector 16).
const MAX_DESCRIPTORS: u64 = 32;

/// The sum an ISO carries and what it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Implanted {
    /// Lower-case hex, as implanted.
    pub md5: String,
    /// Bytes the sum covers from the start of the image.
    pub covered: u64,
    /// Where the application-use area (read as spaces) starts.
    pub appdata: u64,
}

/// The implanted sum in a primary volume descriptor found at `pvd_offset`, if there is one.
pub fn parse_pvd(pvd: &[u8], pvd_offset: u64) -> Option<Implanted> {
    let area = pvd.get(APPDATA_OFFSET as usize..(APPDATA_OFFSET + APPDATA_LEN) as usize)?;
    let text = String::from_utf8_lossy(area);
    let field = |name: &str| {
        let at = text.find(name)? + name.len();
        Some(text[at..].split(';').next().unwrap_or("").to_string())
    };
    let md5 = field("ISO MD5SUM = ")?.get(..32)?.to_ascii_lowercase();
    if !md5.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let skip: u64 = field("SKIPSECTORS = ")?.trim().parse().ok()?;
    let sectors = u32::from_be_bytes(pvd.get(SIZE_OFFSET..SIZE_OFFSET + 4)?.try_into().ok()?);
    let covered = (u64::from(sectors) * SECTOR).checked_sub(skip * SECTOR)?;
    Some(Implanted { md5, covered, appdata: pvd_offset + APPDATA_OFFSET })
}

/// Read the volume descriptors at the head of `path` (a few KiB) for an implanted sum.
pub fn read_implanted(path: &Path) -> Result<Option<Implanted>> {
    let mut f = crate::detect::open_regular(path)?;
    let mut pvd = vec![0u8; SECTOR as usize];
    for n in 0..MAX_DESCRIPTORS {
        let offset = (16 + n) * SECTOR;
        f.seek(SeekFrom::Start(offset)).map_err(|e| Error::io(path, &e, false))?;
        if f.read_exact(&mut pvd).is_err() {
            return Ok(None);
        }
        match pvd[0] {
            1 if &pvd[1..6] == b"CD001" => return Ok(parse_pvd(&pvd, offset)),
            255 => return Ok(None),
            _ => {}
        }
    }
    Ok(None)
}

/// The check as the bytes go by: feed every chunk of the image in order, then `finish`.
pub struct Check {
    want: Implanted,
    md5: Md5,
    offset: u64,
}

impl Check {
    pub fn new(want: Implanted) -> Self {
        Check { want, md5: Md5::new(), offset: 0 }
    }

    pub fn update(&mut self, chunk: &[u8]) {
        let start = self.offset;
        self.offset += chunk.len() as u64;
        let end = self.offset.min(self.want.covered);
        if start >= end {
            return;
        }
        let data = &chunk[..(end - start) as usize];
        // The application-use area, as far as it lies in this chunk, is read as spaces.
        let (a0, a1) = (self.want.appdata.max(start), (self.want.appdata + APPDATA_LEN).min(end));
        if a0 >= a1 {
            self.md5.update(data);
            return;
        }
        let (i0, i1) = ((a0 - start) as usize, (a1 - start) as usize);
        self.md5.update(&data[..i0]);
        self.md5.update(vec![b' '; i1 - i0]);
        self.md5.update(&data[i1..]);
    }

    /// What the check came to: passed when the image was all there and its sum is the implanted one.
    pub fn finish(self) -> MediaCheck {
        let got = hex::encode(self.md5.finalize());
        let whole = self.offset >= self.want.covered;
        let status = if whole && got == self.want.md5 { MediaCheckStatus::Passed } else { MediaCheckStatus::Failed };
        MediaCheck { status, md5: Some(self.want.md5), computed: Some(got) }
    }
}

/// An ISO without an implanted sum.
pub fn absent() -> MediaCheck {
    MediaCheck { status: MediaCheckStatus::Absent, md5: None, computed: None }
}

/// Run a check over a whole file (a finished download, already hashed as it came).
pub fn check_file(path: &Path, want: Implanted, cancel: &crate::cancel::CancelToken) -> Result<MediaCheck> {
    let mut f = crate::pipeline::open_sequential(path)?;
    let mut check = Check::new(want);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        if cancel.is_cancelled() {
            return Err(Error::cancelled());
        }
        let n = f.read(&mut buf).map_err(|e| Error::io(path, &e, false))?;
        if n == 0 {
            return Ok(check.finish());
        }
        check.update(&buf[..n]);
    }
}

/// The refusal of an ISO whose implanted sum does not match its bytes.
pub fn failed(name: &str, check: &MediaCheck) -> Error {
    Error::new(
        code::MEDIA_CHECK_FAILED,
        format!(
            "{name} fails its embedded media check: the MD5 implanted in it is {}, its bytes give {}.",
            check.md5.as_deref().unwrap_or("?"),
            check.computed.as_deref().unwrap_or("?")
        ),
        "The ISO carries its own checksum (isomd5sum, as Fedora and RHEL media do, checked by the installer's \"Test this media\"); the file no longer matches it, so it is damaged or incomplete.",
        "Download the ISO again (and check it with `checkisomd5` if you like), then import it again.",
    )
}
