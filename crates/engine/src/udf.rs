//! Reading files by path from the UDF file system of an ISO (ECMA-167 as OSTA UDF 1.02–2.50 uses
//! it), the way Windows installer media must be read: they show `sources/` only in UDF.
//!
//! Public API:
//! - [`Udf::open`] — find the volume (anchor at sector 256, else the last sector or 256 before it),
//!   its partitions (type 1, and the metadata partition of UDF 2.50) and the root directory.
//! - [`Udf::open_file`] — look a path up, case-insensitively, and get a [`UdfFile`]: `Read + Seek`
//!   over the file's extents, reading from the image only what is asked for (a 5 GB install.wim
//!   is never read whole).
//! - [`Udf::read`] — a small file's bytes, up to a cap.
//! - [`ReadAt`] — what the image is read through: positional reads on a `File`, or bytes in
//!   memory (tests and fuzzing).
//!
//! Everything a file controls is bounded before anything is allocated or walked: descriptor
//! sequences ([`MAX_VDS_BLOCKS`]), directory sizes ([`MAX_DIR_BYTES`]), path depth
//! ([`MAX_PATH_DEPTH`]), extents per file ([`MAX_EXTENTS`]) and allocation-extent chains. Every
//! descriptor's tag checksum, CRC and recorded location are checked (file identifiers: the
//! checksum, as the Linux kernel does), so random bytes are refused rather than followed. Virtual (VAT) and sparable partitions — CD-R and CD-RW packet writing,
//! never installer media — are refused as unsupported.
//!
//! Why not a crate: `hadris-udf` 2.x reads a whole file into memory (2 GB of RAM for a 1.2 GB
//! install.wim, measured) and 3.0 is a release candidate that refuses UDF 2.50's metadata
//! partition; `isomage::udf` parses the whole tree and gives one start offset per file (wrong for
//! a file of several extents); `udf-core` 0.1 also reads whole files. This reader is the part of
//! ECMA-167 that a lookup needs, with the limits above.

use crate::error::{code, Error, Result};
use std::io::{self, Read, Seek, SeekFrom};

/// The only block size installer media use (ECMA-119 and UDF on optical media alike).
const BLOCK: u64 = 2048;
/// Volume descriptor sequence: a real one has 6–10 descriptors; 16 blocks are the minimum extent.
pub const MAX_VDS_BLOCKS: u64 = 64;
/// A directory's identifier stream: Windows' `sources/` (about 1,000 files) is ~100 KiB.
pub const MAX_DIR_BYTES: u64 = 8 << 20;
/// Components of a looked-up path.
pub const MAX_PATH_DEPTH: usize = 32;
/// Extents of one file (a 5 GB install.wim written by oscdimg has 5: an extent holds < 1 GiB).
pub const MAX_EXTENTS: usize = 65_536;
/// Allocation extent descriptors chained behind one file entry.
const MAX_AED_CHAIN: usize = 4_096;

/// Positional reads of the image: `File` (pread, no shared cursor) or bytes in memory.
pub trait ReadAt {
    /// Fill `buf` from `offset`; an error when the image ends first.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// The image's length in bytes.
    fn size(&self) -> io::Result<u64>;
}

impl ReadAt for std::fs::File {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }
    fn size(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }
}

impl ReadAt for [u8] {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let start = usize::try_from(offset).ok().filter(|&s| s <= self.len());
        let src = start.and_then(|s| self.get(s..s.checked_add(buf.len())?));
        let src = src.ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn size(&self) -> io::Result<u64> {
        Ok(self.len() as u64)
    }
}

/// An open UDF volume: where its partitions start and where the root directory's entry is.
pub struct Udf<'a, R: ReadAt + ?Sized> {
    image: &'a R,
    image_len: u64,
    /// Partition reference number (index in the logical volume's map table) → how to reach it.
    partitions: Vec<Partition>,
    root: LongAd,
    /// The domain's UDF revision, e.g. 0x0102, 0x0201, 0x0250.
    revision: u16,
}

/// How a partition reference maps logical blocks to the image.
#[derive(Debug, Clone)]
enum Partition {
    /// Type 1: `start` block of the partition descriptor plus the logical block.
    Physical { start: u64, len: u64 },
    /// UDF 2.50: logical blocks are offsets into the metadata file, itself stored in a physical
    /// partition; its extents are kept as (offset in the metadata file, byte offset in the image, length).
    Metadata { extents: Vec<Extent> },
}

/// A piece of a file: `len` bytes at byte `disk` of the image, from byte `pos` of the file; `disk`
/// is `None` for extents allocated but not recorded (they read as zeros).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub pos: u64,
    pub disk: Option<u64>,
    pub len: u64,
}

/// A long allocation descriptor's address: logical block in a partition.
#[derive(Debug, Clone, Copy)]
struct LongAd {
    block: u32,
    partition: u16,
}

fn damaged(what: impl Into<String>) -> Error {
    Error::new(
        code::INVALID_CONTENT,
        format!("The UDF file system of this image is damaged: {}.", what.into()),
        "The image may be truncated, corrupted while copied, or not a UDF image at all.",
        "Download or copy the image again and check its checksum.",
    )
}

fn unsupported(what: impl Into<String>) -> Error {
    Error::new(
        code::FORMAT_UNSUPPORTED,
        format!("This UDF image uses {}, which Imagesmith does not read.", what.into()),
        "Imagesmith reads the UDF of installer media (UDF 1.02 to 2.50 on a read-only partition); packet-written discs use other layouts.",
        "Copy the files out of the image with another tool, or make an ISO of them with genisoimage -udf.",
    )
}

fn not_found(path: &str) -> Error {
    Error::new(
        code::FILE_NOT_FOUND,
        format!("The image has no {path} in its UDF file system."),
        "The image may not be the installer media it looks like, or the file is elsewhere on it.",
        "Check the image's contents (for example with 7z l) and its checksum.",
    )
}

fn read_failed(err: &io::Error) -> Error {
    if err.kind() == io::ErrorKind::UnexpectedEof {
        return damaged("a structure points past the end of the image");
    }
    Error::new(
        code::READ_FAILED,
        format!("Could not read the image: {err}."),
        "The file may be on a disconnected drive or unreadable for your user.",
        "Check that the file opens for your user, then try again.",
    )
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2).map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4).map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).map_or(0, |s| u64::from_le_bytes(s.try_into().unwrap_or([0; 8])))
}

fn long_ad(b: &[u8], at: usize) -> LongAd {
    LongAd { block: u32_at(b, at + 4), partition: u16_at(b, at + 8) }
}

/// CRC-ITU-T (polynomial 0x1021, initial 0), as ECMA-167 7.2.6 defines the descriptor CRC.
fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

fn tag_checksum_ok(desc: &[u8]) -> bool {
    desc.get(..16).is_some_and(|tag| tag.iter().enumerate().filter(|(i, _)| *i != 4).fold(0u8, |s, (_, b)| s.wrapping_add(*b)) == tag[4])
}

/// A descriptor tag (ECMA-167 3/7.2) that checks out: its identifier when the checksum, the CRC
/// over the bytes it covers and (when `location` is given) the recorded block agree.
fn tag_ident(desc: &[u8], location: Option<u32>) -> Option<u16> {
    let tag = desc.get(..16)?;
    if !tag_checksum_ok(tag) {
        return None;
    }
    let crc_len = usize::from(u16_at(tag, 10));
    let body = desc.get(16..16 + crc_len)?;
    if crc16(body) != u16_at(tag, 8) {
        return None;
    }
    if location.is_some_and(|l| l != u32_at(tag, 12)) {
        return None;
    }
    Some(u16_at(tag, 0))
}

mod tag {
    pub const PRIMARY_VOLUME: u16 = 1;
    pub const ANCHOR: u16 = 2;
    pub const POINTER: u16 = 3;
    pub const PARTITION: u16 = 5;
    pub const LOGICAL_VOLUME: u16 = 6;
    pub const TERMINATING: u16 = 8;
    pub const FILE_SET: u16 = 256;
    pub const FILE_ID: u16 = 257;
    pub const ALLOCATION_EXTENT: u16 = 258;
    pub const FILE_ENTRY: u16 = 261;
    pub const EXTENDED_FILE_ENTRY: u16 = 266;
}

/// What a file entry says about its data: size, type and where its allocation descriptors are.
struct Entry {
    size: u64,
    is_dir: bool,
    extents: Vec<Extent>,
}

impl<'a, R: ReadAt + ?Sized> Udf<'a, R> {
    /// Open the UDF volume of `image`. Fails with `invalid_content` when there is none or it is
    /// damaged, `format_unsupported` for layouts other than installer media's.
    pub fn open(image: &'a R) -> Result<Self> {
        let image_len = image.size().map_err(|e| read_failed(&e))?;
        let mut udf = Udf { image, image_len, partitions: Vec::new(), root: LongAd { block: 0, partition: 0 }, revision: 0 };
        if !udf.has_nsr() {
            return Err(damaged("it has no UDF volume recognition sequence (NSR02 or NSR03)"));
        }
        let anchor = udf.anchor()?;
        // The main sequence, else its reserve copy.
        let (main, reserve) = ((u32_at(&anchor, 20), u32_at(&anchor, 16)), (u32_at(&anchor, 28), u32_at(&anchor, 24)));
        let volume = udf.volume_sequence(main).or_else(|first| udf.volume_sequence(reserve).map_err(|_| first))?;
        udf.revision = volume.revision;
        udf.partitions = volume.partitions;
        let fsd = udf.block(volume.file_set)?;
        if tag_ident(&fsd, Some(volume.file_set.block)) != Some(tag::FILE_SET) {
            return Err(damaged("its file set descriptor is missing"));
        }
        udf.root = long_ad(&fsd, 400);
        Ok(udf)
    }

    /// The UDF revision the logical volume's domain records (0x0102, 0x0150, 0x0201, 0x0250, …).
    pub fn revision(&self) -> u16 {
        self.revision
    }

    /// Look `path` up (`/`-separated, case-insensitive, as Windows Setup does) and open the file.
    pub fn open_file(&self, path: &str) -> Result<UdfFile<'a, R>> {
        let parts: Vec<&str> = path.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
        if parts.len() > MAX_PATH_DEPTH {
            return Err(Error::invalid_argument(
                format!("The path {path} has more than {MAX_PATH_DEPTH} parts."),
                "Look up a shorter path.",
            ));
        }
        let mut icb = self.root;
        for part in &parts {
            let dir = self.entry(icb)?;
            if !dir.is_dir {
                return Err(not_found(path));
            }
            icb = self.find_in(&dir, part)?.ok_or_else(|| not_found(path))?;
        }
        let entry = self.entry(icb)?;
        if entry.is_dir {
            return Err(not_found(path));
        }
        Ok(UdfFile { image: self.image, size: entry.size, extents: entry.extents, pos: 0 })
    }

    /// A small file's bytes; `too_large` when it is longer than `max`.
    pub fn read(&self, path: &str, max: u64) -> Result<Vec<u8>> {
        let mut file = self.open_file(path)?;
        if file.len() > max {
            return Err(Error::new(
                code::TOO_LARGE,
                format!("{path} in the image is {} bytes, more than the {max} read for it.", file.len()),
                "Only small files are read whole; this one is larger than such a file should be.",
                "Check that the image is the installer media it looks like.",
            ));
        }
        let mut out = Vec::with_capacity(file.len() as usize);
        file.read_to_end(&mut out).map_err(|e| read_failed(&e))?;
        Ok(out)
    }

    fn read_bytes(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        if offset.checked_add(len as u64).is_none_or(|end| end > self.image_len) {
            return Err(damaged("a structure points past the end of the image"));
        }
        let mut buf = vec![0u8; len];
        self.image.read_exact_at(&mut buf, offset).map_err(|e| read_failed(&e))?;
        Ok(buf)
    }

    fn has_nsr(&self) -> bool {
        // The recognition sequence follows ISO 9660's descriptors from sector 16, one per 2048 bytes.
        (16..16 + MAX_VDS_BLOCKS).any(|s| self.read_bytes(s * BLOCK, 6).is_ok_and(|b| &b[1..6] == b"NSR02" || &b[1..6] == b"NSR03"))
    }

    fn anchor(&self) -> Result<Vec<u8>> {
        let last = (self.image_len / BLOCK).saturating_sub(1);
        for at in [256, last, last.saturating_sub(256)] {
            if let Ok(b) = self.read_bytes(at * BLOCK, BLOCK as usize) {
                if tag_ident(&b, Some(at as u32)) == Some(tag::ANCHOR) {
                    return Ok(b);
                }
            }
        }
        Err(damaged("it has no anchor volume descriptor pointer at sector 256"))
    }

    /// Read one volume descriptor sequence (`(block, bytes)`): the partitions and the logical
    /// volume's partition maps, file set location and revision.
    fn volume_sequence(&self, (start, len): (u32, u32)) -> Result<Volume> {
        let mut partitions: Vec<(u16, u64, u64)> = Vec::new(); // number, start, length
        let mut logical: Option<Vec<u8>> = None;
        let (mut block, mut end) = (u64::from(start), u64::from(start) + (u64::from(len) / BLOCK).min(MAX_VDS_BLOCKS));
        let mut read = 0;
        while block < end && read < MAX_VDS_BLOCKS {
            read += 1;
            let d = self.read_bytes(block * BLOCK, BLOCK as usize)?;
            match tag_ident(&d, Some(block as u32)) {
                Some(tag::PARTITION) => {
                    let number = u16_at(&d, 22);
                    partitions.retain(|p| p.0 != number);
                    partitions.push((number, u64::from(u32_at(&d, 188)), u64::from(u32_at(&d, 192))));
                }
                Some(tag::LOGICAL_VOLUME) => logical = Some(d),
                Some(tag::POINTER) => {
                    // The sequence continues elsewhere (ECMA-167 3/10.3).
                    let (next, next_len) = (u64::from(u32_at(&d, 24)), u64::from(u32_at(&d, 20)));
                    block = next;
                    end = next + (next_len / BLOCK).min(MAX_VDS_BLOCKS);
                    continue;
                }
                Some(tag::TERMINATING) | None => break,
                Some(tag::PRIMARY_VOLUME) | Some(_) => {}
            }
            block += 1;
        }
        let lvd = logical.ok_or_else(|| damaged("its logical volume descriptor is missing"))?;
        if u32_at(&lvd, 212) != BLOCK as u32 {
            return Err(unsupported(format!("logical blocks of {} bytes", u32_at(&lvd, 212))));
        }
        let revision = if lvd.get(217..236).is_some_and(|id| id.starts_with(b"*OSTA UDF Compliant")) { u16_at(&lvd, 240) } else { 0 };
        let file_set = long_ad(&lvd, 248);
        let (table_len, count) = (u32_at(&lvd, 264) as usize, u32_at(&lvd, 268) as usize);
        let table = lvd.get(440..440 + table_len).ok_or_else(|| damaged("its partition map table does not fit its descriptor"))?;
        let physical = |number: u16| -> Result<Partition> {
            let &(_, start, len) =
                partitions.iter().find(|p| p.0 == number).ok_or_else(|| damaged(format!("partition {number} has no descriptor")))?;
            Ok(Partition::Physical { start, len })
        };
        // Each map: how to reach it, the partition number it names, and for a metadata partition
        // the blocks of its metadata file and of that file's mirror.
        let mut maps: Vec<(Partition, u16, Option<[u32; 2]>)> = Vec::new();
        let mut at = 0usize;
        for _ in 0..count.min(64) {
            let (kind, map_len) = (table.get(at).copied().unwrap_or(0), usize::from(table.get(at + 1).copied().unwrap_or(0)));
            let map = table.get(at..at + map_len).filter(|_| map_len >= 6).ok_or_else(|| damaged("a partition map is cut short"))?;
            let id = map.get(5..28).unwrap_or(&[]);
            match kind {
                1 => maps.push((physical(u16_at(map, 4))?, u16_at(map, 4), None)),
                2 if id.starts_with(b"*UDF Metadata Partition") && map_len >= 48 => {
                    maps.push((Partition::Metadata { extents: Vec::new() }, u16_at(map, 38), Some([u32_at(map, 40), u32_at(map, 44)])));
                }
                2 if id.starts_with(b"*UDF Virtual Partition") => return Err(unsupported("a virtual (VAT) partition")),
                2 if id.starts_with(b"*UDF Sparable Partition") => return Err(unsupported("a sparable partition")),
                _ => return Err(unsupported(format!("a partition map of type {kind}"))),
            }
            at += map_len;
        }
        // A metadata partition's blocks are the metadata file's (or its mirror's), a file entry in
        // the physical partition with the same partition number.
        let mut udf = Udf {
            image: self.image,
            image_len: self.image_len,
            partitions: maps.iter().map(|m| m.0.clone()).collect(),
            root: file_set,
            revision,
        };
        for i in 0..maps.len() {
            let Some(blocks) = maps[i].2 else { continue };
            let number = maps[i].1;
            let host = maps
                .iter()
                .position(|m| m.2.is_none() && m.1 == number)
                .ok_or_else(|| damaged("the metadata partition names no physical partition"))?;
            let entry = blocks
                .into_iter()
                .find_map(|block| udf.entry(LongAd { block, partition: host as u16 }).ok())
                .ok_or_else(|| damaged("its metadata file and the file's mirror are both unreadable"))?;
            udf.partitions[i] = Partition::Metadata { extents: entry.extents };
        }
        Ok(Volume { partitions: udf.partitions, file_set, revision })
    }

    /// The byte offset in the image of logical block `block` of partition `partition`.
    fn offset(&self, partition: u16, block: u32) -> Result<u64> {
        match self.partitions.get(usize::from(partition)) {
            Some(Partition::Physical { start, len }) => {
                if u64::from(block) >= *len {
                    return Err(damaged("a block address lies outside its partition"));
                }
                Ok((start + u64::from(block)) * BLOCK)
            }
            Some(Partition::Metadata { extents }) => {
                let pos = u64::from(block) * BLOCK;
                let e = extents
                    .iter()
                    .find(|e| e.pos <= pos && pos < e.pos + e.len)
                    .ok_or_else(|| damaged("a block lies outside the metadata file"))?;
                e.disk.map(|d| d + (pos - e.pos)).ok_or_else(|| damaged("a block lies in an unrecorded part of the metadata file"))
            }
            None => Err(damaged(format!("partition reference {partition} is not in the logical volume"))),
        }
    }

    fn block(&self, ad: LongAd) -> Result<Vec<u8>> {
        self.read_bytes(self.offset(ad.partition, ad.block)?, BLOCK as usize)
    }

    /// Read the (extended) file entry at `icb`: its size, whether it is a directory, its extents.
    fn entry(&self, icb: LongAd) -> Result<Entry> {
        let fe = self.block(icb)?;
        let ident = tag_ident(&fe, Some(icb.block));
        let (ea_len_at, ad_start) = match ident {
            Some(tag::FILE_ENTRY) => (168, 176),
            Some(tag::EXTENDED_FILE_ENTRY) => (208, 216),
            _ => return Err(damaged("a file entry is missing where a directory points")),
        };
        let strategy = u16_at(&fe, 16 + 4);
        if strategy != 4 {
            return Err(unsupported(format!("ICB strategy {strategy}")));
        }
        let file_type = fe[16 + 11];
        let flags = u16_at(&fe, 16 + 18);
        let size = u64_at(&fe, 56);
        let (ea_len, ad_len) = (u32_at(&fe, ea_len_at) as usize, u32_at(&fe, ea_len_at + 4) as usize);
        let ads_at = ad_start + ea_len;
        let ads = ads_at
            .checked_add(ad_len)
            .and_then(|end| fe.get(ads_at..end))
            .ok_or_else(|| damaged("a file entry's descriptors overflow its block"))?;
        let mut extents = Vec::new();
        match flags & 7 {
            3 => {
                // Embedded: the data is the descriptor area itself.
                if size > ad_len as u64 {
                    return Err(damaged("an embedded file is longer than its entry"));
                }
                let disk = self.offset(icb.partition, icb.block)? + ads_at as u64;
                extents.push(Extent { pos: 0, disk: Some(disk), len: size });
            }
            kind @ (0 | 1) => self.collect_extents(ads, kind == 1, icb.partition, size, &mut extents)?,
            other => return Err(unsupported(format!("allocation descriptors of type {other}"))),
        }
        Ok(Entry { size, is_dir: file_type == 4, extents })
    }

    /// Follow short (`long == false`) or long allocation descriptors, through allocation extent
    /// descriptors, until `size` bytes are covered.
    fn collect_extents(&self, first: &[u8], long: bool, partition: u16, size: u64, out: &mut Vec<Extent>) -> Result<()> {
        let step = if long { 16 } else { 8 };
        let mut area = first.to_vec();
        let mut pos = 0u64;
        let mut chain = 0usize;
        'areas: loop {
            for ad in area.chunks_exact(step) {
                let raw = u32_at(ad, 0);
                let (kind, len) = (raw >> 30, u64::from(raw & 0x3FFF_FFFF));
                let (block, part) = if long { (u32_at(ad, 4), u16_at(ad, 8)) } else { (u32_at(ad, 4), partition) };
                if len == 0 || pos >= size {
                    break 'areas;
                }
                if kind == 3 {
                    // The next extent of allocation descriptors.
                    chain += 1;
                    if chain > MAX_AED_CHAIN {
                        return Err(damaged("a file's allocation descriptors chain on without end"));
                    }
                    let aed = self.read_bytes(self.offset(part, block)?, BLOCK as usize)?;
                    if tag_ident(&aed, Some(block)) != Some(tag::ALLOCATION_EXTENT) {
                        return Err(damaged("an allocation extent descriptor is missing"));
                    }
                    let n = (u32_at(&aed, 20) as usize).min(BLOCK as usize - 24);
                    area = aed[24..24 + n].to_vec();
                    continue 'areas;
                }
                if out.len() >= MAX_EXTENTS {
                    return Err(damaged(format!("a file has more than {MAX_EXTENTS} extents")));
                }
                let len = len.min(size - pos);
                let disk = if kind == 0 { Some(self.offset(part, block)?) } else { None };
                if let Some(d) = disk {
                    if d.checked_add(len).is_none_or(|end| end > self.image_len) {
                        return Err(damaged("a file's extent runs past the end of the image"));
                    }
                }
                out.push(Extent { pos, disk, len });
                pos += len;
            }
            break;
        }
        if pos < size {
            return Err(damaged("a file's extents are shorter than the file"));
        }
        Ok(())
    }

    /// Find `name` among a directory's file identifiers (case-insensitive).
    fn find_in(&self, dir: &Entry, name: &str) -> Result<Option<LongAd>> {
        if dir.size > MAX_DIR_BYTES {
            return Err(damaged(format!("a directory is larger than {MAX_DIR_BYTES} bytes")));
        }
        let mut data = UdfFile { image: self.image, size: dir.size, extents: dir.extents.clone(), pos: 0 };
        let mut bytes = Vec::with_capacity(dir.size as usize);
        data.read_to_end(&mut bytes).map_err(|e| read_failed(&e))?;
        let wanted = name.to_lowercase();
        let mut at = 0usize;
        while at + 38 <= bytes.len() {
            let fid = &bytes[at..];
            if u16_at(fid, 0) != tag::FILE_ID {
                return Err(damaged("a directory holds something other than file identifiers"));
            }
            let (characteristics, name_len, iu_len) = (fid[18], usize::from(fid[19]), usize::from(u16_at(fid, 36)));
            let total = (38 + iu_len + name_len + 3) & !3;
            let raw = fid.get(38 + iu_len..38 + iu_len + name_len).ok_or_else(|| damaged("a file identifier is cut short"))?;
            // The tag checksum only, as the Linux kernel checks identifiers: a writer's quirk in
            // the CRC of a 40-byte record must not hide a file; every length is bounded anyway.
            if !tag_checksum_ok(fid) {
                return Err(damaged("a file identifier's tag does not check out"));
            }
            let deleted_or_parent = characteristics & 0x04 != 0 || characteristics & 0x08 != 0;
            if !deleted_or_parent && decode_name(raw).to_lowercase() == wanted {
                return Ok(Some(long_ad(fid, 20)));
            }
            at += total;
        }
        Ok(None)
    }
}

struct Volume {
    partitions: Vec<Partition>,
    file_set: LongAd,
    revision: u16,
}

/// An OSTA compressed Unicode name (UDF 2.1.1): 8 = one byte per character, 16 = UTF-16BE.
fn decode_name(raw: &[u8]) -> String {
    match raw.split_first() {
        Some((8, rest)) => rest.iter().map(|&b| char::from(b)).collect(),
        Some((16, rest)) => {
            let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16_lossy(&units)
        }
        _ => String::new(),
    }
}

/// A file in the UDF volume: reads go to its extents in the image, only as far as asked.
pub struct UdfFile<'a, R: ReadAt + ?Sized> {
    image: &'a R,
    size: u64,
    extents: Vec<Extent>,
    pos: u64,
}

impl<'a, R: ReadAt + ?Sized> UdfFile<'a, R> {
    /// A file that is one run of `len` bytes at byte `offset` of the image (an ISO 9660 file).
    pub fn from_extent(image: &'a R, offset: u64, len: u64) -> Self {
        UdfFile { image, size: len, extents: vec![Extent { pos: 0, disk: Some(offset), len }], pos: 0 }
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Where the file's bytes are in the image.
    pub fn extents(&self) -> &[Extent] {
        &self.extents
    }
}

impl<R: ReadAt + ?Sized> Read for UdfFile<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        // Extents are in file order: find the one holding `pos`.
        let i = self.extents.partition_point(|e| e.pos + e.len <= self.pos);
        let Some(e) = self.extents.get(i) else { return Ok(0) };
        let within = self.pos - e.pos;
        let n = (e.len - within).min(buf.len() as u64).min(self.size - self.pos) as usize;
        match e.disk {
            Some(disk) => self.image.read_exact_at(&mut buf[..n], disk + within)?,
            None => buf[..n].fill(0),
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: ReadAt + ?Sized> Seek for UdfFile<'_, R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start of the file"))?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_crc_is_crc_itu_t() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn names_are_osta_compressed_unicode() {
        assert_eq!(decode_name(b"\x08sources"), "sources");
        assert_eq!(decode_name(b"\x10\x00i\x00n\x00s\x00t\x00a\x00l\x00l\x00.\x00w\x00i\x00m"), "install.wim");
        assert_eq!(decode_name(b"\x10\x00"), "", "an odd byte is dropped");
        assert_eq!(decode_name(b""), "");
        assert_eq!(decode_name(b"\x07abc"), "");
    }

    #[test]
    fn images_without_udf_are_refused() {
        for image in [&[][..], &[0u8; 100][..], &vec![0u8; 600 * 2048][..]] {
            let e = Udf::open(image).err().unwrap();
            assert_eq!(e.code, code::INVALID_CONTENT);
        }
        // A recognition sequence but no anchor.
        let mut image = vec![0u8; 600 * 2048];
        image[20 * 2048 + 1..20 * 2048 + 6].copy_from_slice(b"NSR02");
        assert!(Udf::open(&image[..]).err().unwrap().text.contains("anchor"));
    }

    #[test]
    fn a_file_reads_its_extents_in_order_and_unrecorded_ones_as_zeros() {
        let image: Vec<u8> = (0..=255u8).collect();
        let mut file = UdfFile {
            image: &image[..],
            size: 10,
            extents: vec![
                Extent { pos: 0, disk: Some(100), len: 4 },
                Extent { pos: 4, disk: None, len: 2 },
                Extent { pos: 6, disk: Some(10), len: 8 },
            ],
            pos: 0,
        };
        let mut all = Vec::new();
        file.read_to_end(&mut all).unwrap();
        assert_eq!(all, [100, 101, 102, 103, 0, 0, 10, 11, 12, 13]);
        file.seek(SeekFrom::End(-3)).unwrap();
        let mut tail = Vec::new();
        file.read_to_end(&mut tail).unwrap();
        assert_eq!(tail, [11, 12, 13]);
        assert!(file.seek(SeekFrom::Current(-100)).is_err());
        file.seek(SeekFrom::Start(1000)).unwrap();
        assert_eq!(file.read(&mut [0u8; 4]).unwrap(), 0);
    }

    /// A UDF volume built by hand, for what no tool here writes: UDF 2.50's metadata partition
    /// (and its mirror), extended file entries, long allocation descriptors continued in an
    /// allocation extent descriptor, unrecorded extents, embedded data, 16-bit names, deleted
    /// entries. Blocks 310 + n hold "structure n"; with `metadata` they are logical block n of
    /// the metadata partition (reference 1), else logical block 10 + n of the physical one.
    struct Builder {
        image: Vec<u8>,
        metadata: bool,
    }

    const PART_START: usize = 300;

    impl Builder {
        fn block(&mut self, n: usize) -> &mut [u8] {
            &mut self.image[n * 2048..(n + 1) * 2048]
        }

        /// Write a tag at `block` (image block) with `location` and `len` bytes of descriptor.
        fn tag(&mut self, block: usize, ident: u16, location: u32, len: usize) {
            let d = self.block(block);
            d[0..2].copy_from_slice(&ident.to_le_bytes());
            d[2..4].copy_from_slice(&3u16.to_le_bytes());
            let crc = crc16(&d[16..len]);
            d[8..10].copy_from_slice(&crc.to_le_bytes());
            d[10..12].copy_from_slice(&((len - 16) as u16).to_le_bytes());
            d[12..16].copy_from_slice(&location.to_le_bytes());
            d[4] = d[..16].iter().enumerate().filter(|(i, _)| *i != 4).fold(0u8, |s, (_, b)| s.wrapping_add(*b));
        }

        /// (partition reference, logical block) of structure `n`.
        fn at(&self, n: usize) -> (u16, u32) {
            if self.metadata {
                (1, n as u32)
            } else {
                (0, (10 + n) as u32)
            }
        }

        fn long_ad(&self, n: usize, len: u32) -> [u8; 16] {
            let (part, lb) = self.at(n);
            let mut ad = [0u8; 16];
            ad[0..4].copy_from_slice(&len.to_le_bytes());
            ad[4..8].copy_from_slice(&lb.to_le_bytes());
            ad[8..10].copy_from_slice(&part.to_le_bytes());
            ad
        }

        /// A file entry (or extended one) for structure `n` with `ads` of allocation type `kind`.
        fn entry(&mut self, n: usize, extended: bool, file_type: u8, kind: u16, size: u64, ads: &[u8]) {
            let (ident, ad_at) = if extended { (266, 216) } else { (261, 176) };
            let location = self.at(n).1;
            let d = self.block(310 + n);
            d[20..22].copy_from_slice(&4u16.to_le_bytes());
            d[27] = file_type;
            d[34..36].copy_from_slice(&kind.to_le_bytes());
            d[56..64].copy_from_slice(&size.to_le_bytes());
            d[ad_at - 4..ad_at].copy_from_slice(&(ads.len() as u32).to_le_bytes());
            d[ad_at..ad_at + ads.len()].copy_from_slice(ads);
            self.tag(310 + n, ident, location, ad_at + ads.len());
        }

        /// A directory's identifiers as structure `n` (its data, embedded nowhere: one block).
        fn directory(&mut self, n: usize, entries: &[(u8, &[u8], usize)]) -> u64 {
            let mut data = Vec::new();
            for &(characteristics, name, target) in entries {
                let mut fid = vec![0u8; 38];
                fid[0..2].copy_from_slice(&257u16.to_le_bytes());
                fid[2..4].copy_from_slice(&3u16.to_le_bytes());
                fid[16..18].copy_from_slice(&1u16.to_le_bytes());
                fid[18] = characteristics;
                fid[19] = name.len() as u8;
                fid[20..36].copy_from_slice(&self.long_ad(target, 2048));
                fid.extend_from_slice(name);
                let len = fid.len();
                let crc = crc16(&fid[16..]);
                fid[8..10].copy_from_slice(&crc.to_le_bytes());
                fid[10..12].copy_from_slice(&((len - 16) as u16).to_le_bytes());
                fid[4] = fid[..16].iter().enumerate().filter(|(i, _)| *i != 4).fold(0u8, |s, (_, b)| s.wrapping_add(*b));
                fid.resize((len + 3) & !3, 0);
                data.extend(fid);
            }
            self.block(310 + n)[..data.len()].copy_from_slice(&data);
            data.len() as u64
        }

        fn build(metadata: bool) -> Vec<u8> {
            let mut b = Builder { image: vec![0u8; 420 * 2048], metadata };
            b.block(17)[1..6].copy_from_slice(b"NSR03");
            // Anchor → sequence at 32 (16 blocks), reserve at 48 (left empty).
            let d = b.block(256);
            d[16..20].copy_from_slice(&(16 * 2048u32).to_le_bytes());
            d[20..24].copy_from_slice(&32u32.to_le_bytes());
            d[24..28].copy_from_slice(&(16 * 2048u32).to_le_bytes());
            d[28..32].copy_from_slice(&48u32.to_le_bytes());
            b.tag(256, tag::ANCHOR, 256, 512);
            // Partition 0: blocks 300..420.
            let d = b.block(32);
            d[188..192].copy_from_slice(&(PART_START as u32).to_le_bytes());
            d[192..196].copy_from_slice(&120u32.to_le_bytes());
            b.tag(32, tag::PARTITION, 32, 512);
            // Logical volume: file set at structure 0, partition maps.
            let fsd = b.long_ad(0, 2048);
            let d = b.block(33);
            d[212..216].copy_from_slice(&2048u32.to_le_bytes());
            d[217..236].copy_from_slice(b"*OSTA UDF Compliant");
            d[240..242].copy_from_slice(&(if metadata { 0x0250u16 } else { 0x0201 }).to_le_bytes());
            d[248..264].copy_from_slice(&fsd);
            let mut maps = vec![1u8, 6, 1, 0, 0, 0];
            if metadata {
                let mut m = vec![0u8; 64];
                m[0] = 2;
                m[1] = 64;
                m[5..28].copy_from_slice(b"*UDF Metadata Partition");
                m[40..44].copy_from_slice(&0u32.to_le_bytes()); // metadata file: physical lb 0
                m[44..48].copy_from_slice(&1u32.to_le_bytes()); // its mirror: lb 1
                maps.extend(m);
            }
            d[264..268].copy_from_slice(&(maps.len() as u32).to_le_bytes());
            d[268..272].copy_from_slice(&(if metadata { 2u32 } else { 1 }).to_le_bytes());
            d[440..440 + maps.len()].copy_from_slice(&maps);
            b.tag(33, tag::LOGICAL_VOLUME, 33, 440 + maps.len());
            b.tag(34, tag::TERMINATING, 34, 512);
            if metadata {
                // The metadata file (lb 0) and its mirror (lb 1): blocks 310.. as 16 blocks.
                for lb in [0u32, 1] {
                    let block = PART_START + lb as usize;
                    let d = b.block(block);
                    d[20..22].copy_from_slice(&4u16.to_le_bytes());
                    d[27] = 250;
                    d[56..64].copy_from_slice(&(16 * 2048u64).to_le_bytes());
                    d[212..216].copy_from_slice(&8u32.to_le_bytes());
                    d[216..220].copy_from_slice(&(16 * 2048u32).to_le_bytes());
                    d[220..224].copy_from_slice(&10u32.to_le_bytes());
                    b.tag(block, tag::EXTENDED_FILE_ENTRY, lb, 224);
                }
            }
            // 0 file set → 1 root (directory 2) → "sources" 3 (directory 4) → "Install.WIM" 5,
            // continued in the allocation extent descriptor 6; "README.TXT" 7 embedded.
            let root = b.long_ad(1, 2048);
            b.block(310)[400..416].copy_from_slice(&root);
            let location = b.at(0).1;
            b.tag(310, tag::FILE_SET, location, 512);
            let readme: Vec<u8> = [16u8].into_iter().chain("README.TXT".encode_utf16().flat_map(u16::to_be_bytes)).collect();
            let root_len = b.directory(2, &[(0x0A, b"", 1), (0x02, b"\x08sources", 3), (0x00, &readme, 7)]);
            let root_data = b.long_ad(2, root_len as u32);
            b.entry(1, false, 4, 1, root_len, &root_data);
            let dir_len = b.directory(4, &[(0x0A, b"", 1), (0x04, b"\x08install.wim", 9), (0x00, b"\x08Install.WIM", 5)]);
            let dir_data = b.long_ad(4, dir_len as u32);
            b.entry(3, true, 4, 1, dir_len, &dir_data);
            // install.wim: 3000 bytes at physical lb 40, then (through the AED) 1500 at lb 50 and
            // 100 allocated but unrecorded.
            let mut ads = Vec::new();
            ads.extend(long_ad_bytes(3000, 40, 0));
            ads.extend(long_ad_bytes((3 << 30) | 2048, b.at(6).1, b.at(6).0));
            b.entry(5, true, 5, 1, 4600, &ads);
            let aed_location = b.at(6).1;
            let mut more = Vec::new();
            more.extend(long_ad_bytes(1500, 50, 0));
            more.extend(long_ad_bytes((1 << 30) | 100, 0, 0));
            let d = b.block(316);
            d[20..24].copy_from_slice(&(more.len() as u32).to_le_bytes());
            d[24..24 + more.len()].copy_from_slice(&more);
            b.tag(316, tag::ALLOCATION_EXTENT, aed_location, 24 + more.len());
            for (i, byte) in b.image[(PART_START + 40) * 2048..][..3000].iter_mut().enumerate() {
                *byte = (i % 251) as u8;
            }
            for (i, byte) in b.image[(PART_START + 50) * 2048..][..1500].iter_mut().enumerate() {
                *byte = (i % 13) as u8 + 1;
            }
            b.entry(7, false, 5, 3, 5, b"hello");
            b.image
        }
    }

    fn long_ad_bytes(len: u32, lb: u32, part: u16) -> [u8; 16] {
        let mut ad = [0u8; 16];
        ad[0..4].copy_from_slice(&len.to_le_bytes());
        ad[4..8].copy_from_slice(&lb.to_le_bytes());
        ad[8..10].copy_from_slice(&part.to_le_bytes());
        ad
    }

    fn expected_wim() -> Vec<u8> {
        let mut out: Vec<u8> = (0..3000).map(|i| (i % 251) as u8).collect();
        out.extend((0..1500).map(|i| (i % 13) as u8 + 1));
        out.extend([0u8; 100]);
        out
    }

    #[test]
    fn a_hand_built_volume_reads_through_both_partition_kinds() {
        for metadata in [false, true] {
            let image = Builder::build(metadata);
            let udf = Udf::open(&image[..]).unwrap_or_else(|e| panic!("metadata {metadata}: {e}"));
            assert_eq!(udf.revision(), if metadata { 0x0250 } else { 0x0201 });
            assert_eq!(udf.read("sources/install.wim", 1 << 20).unwrap(), expected_wim(), "metadata {metadata}");
            assert_eq!(udf.open_file("SOURCES/INSTALL.WIM").unwrap().extents().len(), 3);
            assert_eq!(udf.read("readme.txt", 100).unwrap(), b"hello");
            assert!(udf.open_file("sources").is_err());
            assert!(udf.open_file("readme.txt/x").is_err());
        }
    }

    #[test]
    fn a_damaged_metadata_file_is_read_from_its_mirror() {
        let mut image = Builder::build(true);
        image[PART_START * 2048 + 30] ^= 0xFF; // the main metadata file entry's CRC fails
        let udf = Udf::open(&image[..]).unwrap();
        assert_eq!(udf.read("sources/install.wim", 1 << 20).unwrap(), expected_wim());
        image[(PART_START + 1) * 2048 + 30] ^= 0xFF;
        assert!(Udf::open(&image[..]).err().unwrap().text.contains("mirror"));
    }

    #[test]
    fn hand_built_volumes_cut_or_flipped_give_an_answer_never_a_panic() {
        for metadata in [false, true] {
            let good = Builder::build(metadata);
            let busy: Vec<usize> = (0..good.len() / 2048).filter(|s| good[s * 2048..(s + 1) * 2048].iter().any(|&b| b != 0)).collect();
            let mut state = 0x9e37_79b9_7f4a_7c15u64;
            let mut image = good.clone();
            for round in 0..3000 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let block = busy[state as usize % busy.len()];
                let at = block * 2048 + (state >> 20) as usize % 600;
                let saved: [u8; 4] = image[at..at + 4].try_into().unwrap();
                if round % 2 == 0 {
                    image[at] ^= 1 << ((state >> 40) % 8);
                } else {
                    image[at..at + 4].copy_from_slice(&[0xFF; 4]);
                }
                if let Ok(udf) = Udf::open(&image[..]) {
                    let _ = udf.read("sources/install.wim", 1 << 20);
                    let _ = udf.read("readme.txt", 100);
                }
                image[at..at + 4].copy_from_slice(&saved);
            }
            assert_eq!(image, good);
        }
    }
}
