//! Reading ISO 9660 installer media: volume descriptors, and which OS the image holds.

use crate::model::OsFamily;
use serde_json::{json, Map, Value};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

pub const SECTOR: u64 = 2048;
const VD_START: u64 = 16 * SECTOR;

/// Fields of the primary volume descriptor and what else the descriptor set says.
#[derive(Debug, Clone, Default)]
pub struct VolumeInfo {
    pub system_id: String,
    pub volume_id: String,
    pub publisher: String,
    pub application: String,
    pub volume_bytes: u64,
    pub el_torito: bool,
    pub joliet: bool,
}

fn field(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim_matches(|c: char| c == ' ' || c == '\0').to_string()
}

/// Is there an ISO 9660 descriptor (`CD001`) at sector 16?
pub fn has_cd001(head: &[u8]) -> bool {
    head.len() >= VD_START as usize + 6 && &head[VD_START as usize + 1..VD_START as usize + 6] == b"CD001"
}

/// Walk the volume descriptor set. `None` when the primary descriptor is missing or malformed.
pub fn read_volume_info(file: &mut File) -> Option<VolumeInfo> {
    let mut info = VolumeInfo::default();
    let mut have_primary = false;
    let mut buf = vec![0u8; SECTOR as usize];
    for i in 0..64u64 {
        file.seek(SeekFrom::Start(VD_START + i * SECTOR)).ok()?;
        file.read_exact(&mut buf).ok()?;
        if &buf[1..6] != b"CD001" {
            return None;
        }
        match buf[0] {
            0 => info.el_torito = buf[7..30].starts_with(b"EL TORITO SPECIFICATION"),
            1 => {
                have_primary = true;
                info.system_id = field(&buf[8..40]);
                info.volume_id = field(&buf[40..72]);
                let blocks = u32::from_le_bytes(buf[80..84].try_into().ok()?) as u64;
                let block_size = u16::from_le_bytes(buf[128..130].try_into().ok()?) as u64;
                info.volume_bytes = blocks * block_size.max(1);
                info.publisher = field(&buf[318..446]);
                info.application = field(&buf[574..702]);
            }
            2 => info.joliet = true,
            255 => break,
            _ => {}
        }
    }
    have_primary.then_some(info)
}

/// What an installer ISO holds, as far as its volume id and files tell.
#[derive(Debug, Clone, Default)]
pub struct OsGuess {
    pub family: Option<OsFamily>,
    pub distro: Option<String>,
    pub facts: Map<String, Value>,
}

/// Guess the OS from the volume id (cheap), then confirm from well-known files inside.
pub fn guess_os(file: &File, info: &VolumeInfo) -> OsGuess {
    let mut guess = guess_from_volume_id(&info.volume_id);
    if guess.family.is_some() {
        guess.facts.insert("detected_by".into(), json!("volume_id"));
    }
    if let Some(tree) = Tree::open(file) {
        refine_from_files(&tree, &mut guess);
    }
    guess
}

fn guess_from_volume_id(vol: &str) -> OsGuess {
    let v = vol.to_ascii_lowercase();
    let linux = |distro: &str| (Some(OsFamily::Linux), Some(distro.to_string()));
    let (family, distro) = if v.starts_with("rhel") {
        linux("rhel")
    } else if v.starts_with("centos") {
        linux("centos")
    } else if v.starts_with("rocky") {
        linux("rocky")
    } else if v.starts_with("almalinux") {
        linux("alma")
    } else if v.starts_with("ol-") || v.starts_with("oraclelinux") {
        linux("oracle")
    } else if v.starts_with("fedora") {
        linux("fedora")
    } else if v.starts_with("sle-") || v.starts_with("sles") {
        linux("sles")
    } else if v.starts_with("opensuse") {
        linux("opensuse")
    } else if v.starts_with("ubuntu") {
        linux("ubuntu")
    } else if v.starts_with("debian") {
        linux("debian")
    } else if v.starts_with("esxi") || v.starts_with("vmvisor") {
        (Some(OsFamily::Vmware), Some("esxi".to_string()))
    } else if ["ccsa", "cpba", "cccoma", "sss_", "ces_", "cena", "grms", "j_ccsa", "sw_dvd", "win"].iter().any(|p| v.starts_with(p)) {
        (Some(OsFamily::Windows), None)
    } else {
        (None, None)
    };
    OsGuess { family, distro, facts: Map::new() }
}

fn read_small(iso: &Tree<'_>, path: &str) -> Option<String> {
    let bytes = iso.read(path, 64 * 1024)?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn exists(iso: &Tree<'_>, path: &str) -> bool {
    iso.lookup(path).is_some()
}

fn refine_from_files(iso: &Tree<'_>, g: &mut OsGuess) {
    if let Some(treeinfo) = read_small(iso, ".treeinfo") {
        let ini = parse_ini(&treeinfo);
        let get = |sec: &str, key: &str| ini.iter().find(|(s, k, _)| s == sec && k == key).map(|(_, _, v)| v.clone());
        let family = get("general", "family").or_else(|| get("release", "name"));
        let version = get("general", "version").or_else(|| get("release", "version"));
        let arch = get("general", "arch").or_else(|| get("tree", "arch"));
        g.family = Some(OsFamily::Linux);
        if let Some(f) = &family {
            g.distro = g.distro.take().or_else(|| distro_from_product(f));
            g.facts.insert("product".into(), json!(f));
        }
        if let Some(v) = version {
            g.facts.insert("version".into(), json!(v));
        }
        if let Some(a) = arch {
            g.facts.insert("arch".into(), json!(a));
        }
        g.facts.insert("detected_by".into(), json!(".treeinfo"));
    } else if let Some(info) = read_small(iso, ".disk/info") {
        let line = info.lines().next().unwrap_or("").trim().to_string();
        g.family = Some(OsFamily::Linux);
        g.distro = g.distro.take().or_else(|| distro_from_product(&line));
        let mut words = line.split_whitespace();
        if let Some(v) = words.find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit())) {
            g.facts.insert("version".into(), json!(v));
        }
        if let Some(arch) = line.split_whitespace().find(|w| ["amd64", "arm64", "i386", "x86_64"].contains(w)) {
            g.facts.insert("arch".into(), json!(arch));
        }
        g.facts.insert("product".into(), json!(line));
        g.facts.insert("detected_by".into(), json!(".disk/info"));
    } else if exists(iso, "vmware-esx-base-osl.txt") || exists(iso, "boot.cfg") && g.family == Some(OsFamily::Vmware) {
        g.family = Some(OsFamily::Vmware);
        g.distro = Some("esxi".into());
        g.facts.insert("detected_by".into(), json!("boot.cfg"));
    } else if exists(iso, "sources/install.wim") || exists(iso, "sources/install.esd") {
        g.family = Some(OsFamily::Windows);
        g.facts.insert("detected_by".into(), json!("sources/install.wim"));
    }
}

fn distro_from_product(product: &str) -> Option<String> {
    let p = product.to_ascii_lowercase();
    let table = [
        ("red hat", "rhel"),
        ("rhel", "rhel"),
        ("centos", "centos"),
        ("rocky", "rocky"),
        ("alma", "alma"),
        ("oracle", "oracle"),
        ("fedora", "fedora"),
        ("suse linux enterprise", "sles"),
        ("opensuse", "opensuse"),
        ("ubuntu", "ubuntu"),
        ("debian", "debian"),
    ];
    table.iter().find(|(k, _)| p.contains(k)).map(|(_, d)| d.to_string())
}

/// Minimal INI reader for .treeinfo: (section, key, value), keys lower-cased.
fn parse_ini(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') && line.ends_with(']') {
            section = line[1..line.len() - 1].trim().to_ascii_lowercase();
        } else if let Some((k, v)) = line.split_once('=') {
            out.push((section.clone(), k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    out
}

/// The exact OS of an installer ISO (`osid`): its files through the ISO 9660 tree, then the
/// Windows image `windows` read (through UDF or ISO 9660), then libosinfo.
pub fn identify(file: &File, info: &VolumeInfo, windows: Option<&crate::windows::WindowsMedia>) -> crate::osid::OsIdentity {
    let fields = crate::osid::VolumeFields {
        volume_id: &info.volume_id,
        publisher: &info.publisher,
        application: &info.application,
        system_id: &info.system_id,
        volume_bytes: info.volume_bytes,
    };
    let tree = Tree::open(file);
    crate::osid::identify(tree.as_ref().map(|t| t as &dyn crate::osid::IsoFiles), windows, &fields)
}

impl crate::osid::IsoFiles for Tree<'_> {
    fn read_file(&self, path: &str, max: u64) -> Option<Vec<u8>> {
        self.read(path, max)
    }
    fn has(&self, path: &str) -> bool {
        self.lookup(path).is_some()
    }
    fn list(&self, path: &str) -> Vec<String> {
        Tree::list(self, path).unwrap_or_default().into_iter().filter(|(_, r)| !r.dir).map(|(n, _)| n).collect()
    }
}

/// Is this ISO a Linux driver update disk (label OEMDRV or an `rhdd3` file)? Its facts include
/// the `driver` its `rpms/<arch>/` packages describe.
pub fn driver_update_disk(file: &File, info: &VolumeInfo) -> Option<Map<String, Value>> {
    let mut facts = Map::new();
    let mut is_dud = info.volume_id.eq_ignore_ascii_case("OEMDRV");
    if let Some(tree) = Tree::open(file) {
        if let Some(desc) = read_small(&tree, "rhdd3") {
            is_dud = true;
            facts.insert("description".into(), json!(desc.trim()));
        }
        if is_dud {
            facts.insert("driver".into(), json!(crate::driver_info::describe_dud(&tree)));
        }
    }
    is_dud.then_some(facts)
}

/// Where the file at `path` is in the ISO 9660 tree (Joliet, Rock Ridge or plain names): its byte
/// offset and length. Only the first extent of a multi-extent file (over 4 GiB) is returned.
pub(crate) fn file_extent(file: &File, path: &str) -> Option<(u64, u64)> {
    let rec = Tree::open(file)?.lookup(path).filter(|r| !r.dir)?;
    Some((rec.lba * SECTOR, rec.len))
}

/// Looking up files in the directory tree. Joliet names are preferred, then Rock Ridge `NM` names,
/// then plain ISO 9660 names without their `;1` version. (cdfs was evaluated and drags in FUSE;
/// hadris-iso is a release candidate; detection needs only a lookup of a few small files.)
pub(crate) struct Tree<'a> {
    file: &'a File,
    /// Root directory extent (LBA, length) and whether names are UCS-2 (Joliet).
    root: (u64, u64),
    joliet: bool,
}

pub(crate) struct Record {
    lba: u64,
    pub(crate) len: u64,
    pub(crate) dir: bool,
}

impl<'a> Tree<'a> {
    pub(crate) fn open(file: &'a File) -> Option<Tree<'a>> {
        let mut primary = None;
        let mut joliet = None;
        for i in 0..64u64 {
            let vd = read_at(file, VD_START + i * SECTOR, SECTOR as usize)?;
            if &vd[1..6] != b"CD001" || vd[0] == 255 {
                break;
            }
            let root = (u32::from_le_bytes(vd[158..162].try_into().ok()?) as u64, u32::from_le_bytes(vd[166..170].try_into().ok()?) as u64);
            match vd[0] {
                1 => primary = Some(root),
                // Joliet: a supplementary descriptor with escape sequence %/@, %/C or %/E.
                2 if vd[88] == b'%' && vd[89] == b'/' && matches!(vd[90], b'@' | b'C' | b'E') => joliet = Some(root),
                _ => {}
            }
        }
        match (joliet, primary) {
            (Some(root), _) => Some(Tree { file, root, joliet: true }),
            (None, Some(root)) => Some(Tree { file, root, joliet: false }),
            _ => None,
        }
    }

    pub(crate) fn lookup(&self, path: &str) -> Option<Record> {
        let mut current = Record { lba: self.root.0, len: self.root.1, dir: true };
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if !current.dir {
                return None;
            }
            current = self.find_in(&current, part)?;
        }
        Some(current)
    }

    fn read(&self, path: &str, max: u64) -> Option<Vec<u8>> {
        let rec = self.lookup(path).filter(|r| !r.dir)?;
        read_at(self.file, rec.lba * SECTOR, rec.len.min(max) as usize)
    }

    fn find_in(&self, dir: &Record, wanted: &str) -> Option<Record> {
        let wanted_alt = wanted.replace('.', "_");
        self.entries(dir)?
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted) || name.eq_ignore_ascii_case(&wanted_alt))
            .map(|(_, r)| r)
    }

    /// The entries of the folder at `path` (names as [`Tree::lookup`] matches them), `.` and `..` left out.
    pub(crate) fn list(&self, path: &str) -> Option<Vec<(String, Record)>> {
        self.entries(&self.lookup(path).filter(|r| r.dir)?)
    }

    /// A reader over a file's extent, for reading its start without loading it whole.
    pub(crate) fn reader(&self, rec: &Record) -> impl std::io::Read + 'a {
        Extent { file: self.file, start: rec.lba * SECTOR, len: rec.len, pos: 0 }
    }

    fn entries(&self, dir: &Record) -> Option<Vec<(String, Record)>> {
        const MAX_DIR: u64 = 4 << 20;
        let mut out = Vec::new();
        let data = read_at(self.file, dir.lba * SECTOR, dir.len.min(MAX_DIR) as usize)?;
        let mut pos = 0usize;
        while pos < data.len() {
            let len = data[pos] as usize;
            if len == 0 {
                // Records do not cross sector boundaries: skip to the next sector.
                pos = (pos / SECTOR as usize + 1) * SECTOR as usize;
                continue;
            }
            // A damaged record ends the listing; the entries before it stand.
            let Some(rec) = data.get(pos..pos + len).filter(|r| r.len() >= 34) else { break };
            pos += len;
            let name_len = rec[32] as usize;
            let Some(raw) = rec.get(33..33 + name_len) else { break };
            if raw == [0] || raw == [1] {
                continue;
            }
            let name = if self.joliet {
                let units: Vec<u16> = raw.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
                String::from_utf16_lossy(&units)
            } else {
                let system_use = rec.get(33 + name_len + (1 - name_len % 2)..).unwrap_or(&[]);
                rock_ridge_name(system_use).unwrap_or_else(|| String::from_utf8_lossy(raw).into_owned())
            };
            let name = name.split(';').next().unwrap_or("").trim_end_matches('.');
            out.push((
                name.to_string(),
                Record {
                    lba: u32::from_le_bytes([rec[2], rec[3], rec[4], rec[5]]) as u64,
                    len: u32::from_le_bytes([rec[10], rec[11], rec[12], rec[13]]) as u64,
                    dir: rec[25] & 2 != 0,
                },
            ));
        }
        Some(out)
    }
}

/// One file's bytes inside the image, read with positioned reads (the `File` is shared).
struct Extent<'a> {
    file: &'a File,
    start: u64,
    len: u64,
    pos: u64,
}

impl std::io::Read for Extent<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let want = (buf.len() as u64).min(self.len - self.pos) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.start + self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// The alternate name from Rock Ridge `NM` entries in a record's system use area.
fn rock_ridge_name(mut su: &[u8]) -> Option<String> {
    let mut name = Vec::new();
    while su.len() >= 4 {
        let len = su[2] as usize;
        if len < 4 || len > su.len() {
            break;
        }
        if &su[0..2] == b"NM" && len >= 5 {
            name.extend_from_slice(&su[5..len]);
        }
        su = &su[len..];
    }
    (!name.is_empty()).then(|| String::from_utf8_lossy(&name).into_owned())
}

fn read_at(file: &File, offset: u64, len: usize) -> Option<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, offset).ok()?;
    Some(buf)
}
