//! Disk images cut from VM disk snapshots: the disks and snapshots of a libvirt VM (through
//! `virsh`), of a qcow2 file or of a qcow2 image in the library, and the `snapshot_image` job that
//! extracts one snapshot's state of one disk with `qemu-img convert` (read only, shared access) into
//! the store as an ordinary disk image.
//!
//! Danube Cloud's refusals carry over: `vm_not_found` (404), `name_taken` (406), `invalid_disk`
//! (412, naming the valid ids) and `snapshot_unusable` (417, saying why).

use crate::catalog;
use crate::error::{code, Error, Result};
use crate::import::{Checks, Downloaded, ImportItem, JobRef};
use crate::jobs::{JobKind, JobSummary};
use crate::model::{Artifact, ArtifactPatch, ArtifactRef, ArtifactSource, Kind, SourceKind};
use crate::pipeline;
use crate::qemu::{self, ConvertError};
use crate::runner::{self, Done, ItemEnd, ItemSpec, Step, Work};
use crate::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

crate::model::string_enum!(
    /// The format of an image cut from a snapshot: qcow2 with compressed clusters (small, what
    /// clouds take), or raw.
    SnapshotFormat, "image format", InvalidArgument { Qcow2 = "qcow2", Raw = "raw" }
);

crate::model::string_enum!(
    /// Where a snapshot's state of a disk lives: inside the qcow2 file, or in the backing file an
    /// external snapshot left behind an overlay.
    SnapshotLocation, "snapshot location", InvalidArgument { Internal = "internal", External = "external" }
);

/// What the disks and snapshots are read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SnapshotSource {
    /// A qcow2 file on disk.
    DiskFile { path: PathBuf },
    /// A qcow2 disk image in the library (id or name).
    Artifact { key: String },
    /// A libvirt VM (name or uuid) on a connection (`virsh`'s default when none).
    Vm { vm: String, connect: Option<String> },
}

/// A libvirt VM as `vm list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VmInfo {
    pub name: String,
    pub uuid: Option<String>,
    /// libvirt's word: running, shut off, paused, …
    pub state: String,
    pub disks: Vec<VmDisk>,
    /// How many libvirt snapshots the VM has.
    pub snapshot_count: u32,
}

/// One disk of a VM, numbered from 1 in the order of the VM's definition (`disk_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VmDisk {
    pub disk_id: u32,
    /// The guest device name (`vda`, `sdb`).
    pub target: String,
    pub file: Option<String>,
    pub format: Option<String>,
    pub virtual_size: Option<u64>,
    /// Why the disk cannot be read (missing, not an image, damaged), when it cannot.
    pub problem: Option<String>,
}

/// One snapshot of one disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DiskSnapshot {
    pub name: String,
    /// When it was taken (RFC 3339, UTC).
    pub created_at: Option<String>,
    /// The VM's state when it was taken (libvirt's word: shutoff, running, …), when libvirt made it.
    pub vm_state: Option<String>,
    /// Bytes of saved VM memory state (qemu-img's VM SIZE; 0 for a disk-only snapshot).
    pub vm_state_size: u64,
    pub location: SnapshotLocation,
    pub description: Option<String>,
    /// Whether an image can be cut from it; `problem` says why not.
    pub usable: bool,
    pub problem: Option<String>,
}

/// A disk and its snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DiskSnapshots {
    pub disk: VmDisk,
    pub snapshots: Vec<DiskSnapshot>,
}

/// What `snapshot image` asks for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SnapshotImageRequest {
    pub source: SnapshotSource,
    pub snapshot: String,
    /// Which disk (from 1); the first when not given, as Danube's `disk_id` defaults to 1.
    pub disk_id: Option<u32>,
    pub format: SnapshotFormat,
    pub name: String,
    /// Alias, access, owner, description, version (default "1.0"), resize, deploy, tags.
    #[serde(default)]
    pub attributes: ArtifactPatch,
}

/// What the job made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SnapshotImageReport {
    pub job: JobSummary,
    pub outcome: crate::jobs::Outcome,
    pub artifact: Artifact,
}

/// Why a libvirt call failed, as the user should read it.
fn virsh(connect: Option<&str>, args: &[&str]) -> Result<String> {
    let mut cmd = Command::new("virsh");
    if let Some(uri) = connect {
        cmd.args(["--connect", uri]);
    }
    let out = cmd.args(["--quiet"]).args(args).stdin(Stdio::null()).output().map_err(|e| {
        Error::new(
            code::CONNECTION_FAILED,
            format!("virsh could not be run: {e}."),
            "VMs are read through libvirt's command-line client virsh (Debian package libvirt-clients).",
            "Install libvirt-clients, or cut the image from the VM's qcow2 file with --disk-file.",
        )
    })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let msg = String::from_utf8_lossy(&out.stderr).lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
    let uri = connect.unwrap_or("libvirt's default connection");
    if msg.contains("failed to connect") || msg.contains("Failed to connect") {
        return Err(Error::new(
            code::CONNECTION_FAILED,
            format!("libvirt at {uri} could not be reached: {msg}"),
            "The libvirt daemon is not running there, the URI is wrong, or this user may not use it.",
            "Check the connection URI (virsh --connect URI list works?), start libvirtd, or use qemu:///session.",
        ));
    }
    Err(Error::new(
        code::REMOTE_FAILED,
        format!("libvirt at {uri} refused: {msg}"),
        "virsh reported an error.",
        "Check the VM in virsh or virt-manager, then try again.",
    ))
}

fn vm_not_found(vm: &str, connect: Option<&str>) -> Error {
    Error::new(
        code::VM_NOT_FOUND,
        format!("There is no VM {vm} at {}.", connect.unwrap_or("libvirt's default connection")),
        "VMs are looked up by name or uuid on one libvirt connection; it may be defined on another (qemu:///system or qemu:///session).",
        "List the VMs (imagesmith-cli vm list --connect URI) and use one of those names.",
    )
}

fn text_of(node: roxmltree::Node<'_, '_>, tag: &str) -> Option<String> {
    node.children().find(|c| c.has_tag_name(tag)).and_then(|c| c.text()).map(|t| t.trim().to_string())
}

/// A VM's disks (`device='disk'`, in definition order) from its XML.
fn disks_of(xml: &str) -> Result<Vec<VmDisk>> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| {
        Error::new(
            code::REMOTE_FAILED,
            format!("libvirt sent a VM description that is not XML: {e}."),
            "virsh dumpxml printed something unexpected.",
            "Check the VM with virsh dumpxml.",
        )
    })?;
    let mut disks = Vec::new();
    for d in doc.descendants().filter(|n| n.has_tag_name("disk") && n.parent().is_some_and(|p| p.has_tag_name("devices"))) {
        if d.attribute("device").unwrap_or("disk") != "disk" {
            continue;
        }
        let child = |tag: &str| d.children().find(|c| c.has_tag_name(tag));
        let file = child("source").and_then(|s| s.attribute("file").or(s.attribute("dev")).or(s.attribute("name"))).map(str::to_string);
        disks.push(VmDisk {
            disk_id: disks.len() as u32 + 1,
            target: child("target").and_then(|t| t.attribute("dev")).unwrap_or_default().to_string(),
            file,
            format: child("driver").and_then(|t| t.attribute("type")).map(str::to_string),
            virtual_size: None,
            problem: None,
        });
    }
    Ok(disks)
}

fn dumpxml(vm: &str, connect: Option<&str>) -> Result<String> {
    virsh(connect, &["dumpxml", "--", vm]).map_err(|e| if is_missing_domain(&e) { vm_not_found(vm, connect) } else { e })
}

fn is_missing_domain(e: &Error) -> bool {
    e.code == code::REMOTE_FAILED && (e.text.contains("failed to get domain") || e.text.contains("Domain not found"))
}

/// A libvirt snapshot's facts, from `snapshot-dumpxml`.
struct LibvirtSnapshot {
    name: String,
    description: Option<String>,
    state: Option<String>,
    created_at: Option<String>,
    /// Per disk target: internal, external (with the overlay file it made), or no.
    disks: Vec<(String, String, Option<String>)>,
}

fn libvirt_snapshots(vm: &str, connect: Option<&str>) -> Result<Vec<LibvirtSnapshot>> {
    let names = virsh(connect, &["snapshot-list", "--name", "--", vm])?;
    let mut out = Vec::new();
    for name in names.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let xml = virsh(connect, &["snapshot-dumpxml", "--", vm, name])?;
        let doc = match roxmltree::Document::parse(&xml) {
            Ok(d) => d,
            Err(_) => continue,
        };
        let root = doc.root_element();
        let created_at = text_of(root, "creationTime").and_then(|t| t.parse::<i64>().ok()).map(rfc3339_from_epoch);
        let disks = root
            .children()
            .find(|c| c.has_tag_name("disks"))
            .map(|ds| {
                ds.children()
                    .filter(|c| c.has_tag_name("disk"))
                    .map(|d| {
                        let overlay = d.children().find(|c| c.has_tag_name("source")).and_then(|s| s.attribute("file")).map(str::to_string);
                        (
                            d.attribute("name").unwrap_or_default().to_string(),
                            d.attribute("snapshot").unwrap_or("internal").to_string(),
                            overlay,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(LibvirtSnapshot {
            name: name.to_string(),
            description: text_of(root, "description"),
            state: text_of(root, "state"),
            created_at,
            disks,
        });
    }
    Ok(out)
}

fn rfc3339_from_epoch(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs).map(crate::clock::format).unwrap_or_default()
}

/// One file of a disk's backing chain as `qemu-img info --backing-chain` describes it: its format,
/// virtual size and internal snapshots (name, when, VM state size).
struct QcowFacts {
    file: PathBuf,
    format: String,
    virtual_size: u64,
    snapshots: Vec<(String, Option<String>, u64)>,
}

fn facts_of(info: &Value, fallback: &Path) -> QcowFacts {
    let snapshots = info
        .get("snapshots")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|s| {
                    let name = s.get("name")?.as_str()?.to_string();
                    let at = s.get("date-sec").and_then(Value::as_i64).map(rfc3339_from_epoch);
                    Some((name, at, s.get("vm-state-size").and_then(Value::as_u64).unwrap_or(0)))
                })
                .collect()
        })
        .unwrap_or_default();
    QcowFacts {
        file: info.get("filename").and_then(Value::as_str).map(PathBuf::from).unwrap_or_else(|| fallback.to_path_buf()),
        format: info.get("format").and_then(Value::as_str).unwrap_or("raw").to_string(),
        virtual_size: info.get("virtual-size").and_then(Value::as_u64).unwrap_or(0),
        snapshots,
    }
}

/// A disk file and the files below it (its backing chain, outermost first). `Err` says why the
/// file or a file of its chain cannot be opened.
fn chain_facts(file: &Path) -> std::result::Result<Vec<QcowFacts>, String> {
    let info = qemu::info(file, &["--backing-chain"])?;
    let chain: Vec<QcowFacts> = match &info {
        Value::Array(list) => list.iter().map(|i| facts_of(i, file)).collect(),
        one => vec![facts_of(one, file)],
    };
    if chain.is_empty() {
        return Err("qemu-img described no image".into());
    }
    Ok(chain)
}

/// The source resolved to disk files: their snapshots, and how to read each.
struct Resolved {
    /// What the history and the artifact's source say.
    vm: Option<String>,
    connect: Option<String>,
    artifact: Option<String>,
    disks: Vec<(VmDisk, Vec<(DiskSnapshot, Extract)>)>,
}

/// How a snapshot's state of a disk is read.
#[derive(Debug, Clone)]
enum Extract {
    /// `qemu-img convert -l snapshot.name=NAME FILE`.
    Internal {
        file: PathBuf,
        name: String,
    },
    /// The file (and its backing chain, flattened) that holds the state an external snapshot froze.
    Chain {
        file: PathBuf,
    },
    Unusable(String),
}

impl Engine {
    fn resolve_snapshots(&self, source: &SnapshotSource) -> Result<Resolved> {
        match source {
            SnapshotSource::DiskFile { path } => {
                let path = std::fs::canonicalize(path).map_err(|e| Error::io(path, &e, false))?;
                if !path.is_file() {
                    return Err(Error::io(&path, &std::io::Error::from(std::io::ErrorKind::NotFound), false));
                }
                let disk = VmDisk {
                    disk_id: 1,
                    target: String::new(),
                    file: Some(path.display().to_string()),
                    format: None,
                    virtual_size: None,
                    problem: None,
                };
                Ok(Resolved { vm: None, connect: None, artifact: None, disks: vec![file_snapshots(disk, &path, &[])?] })
            }
            SnapshotSource::Artifact { key } => {
                let a = catalog::get(&self.db(), key)?;
                // On a team repository the disk image may not be in this desktop's cache yet.
                let path = self.object_file(&a.sha256, &crate::CancelToken::new(), &mut |_| {})?;
                if a.kind != Kind::DiskImage {
                    return Err(Error::new(
                        code::SNAPSHOT_UNUSABLE,
                        format!("{} has no snapshots to cut an image from: it is not a disk image (its kind is {}).", a.name, a.kind),
                        "Snapshots live inside qcow2 disk images.",
                        "Choose a qcow2 disk image from the library, a qcow2 file, or a VM.",
                    ));
                }
                let disk = VmDisk { disk_id: 1, target: String::new(), file: None, format: None, virtual_size: None, problem: None };
                let mut d = file_snapshots(disk, &path, &[])?;
                d.0.file = None;
                Ok(Resolved { vm: None, connect: None, artifact: Some(a.name), disks: vec![d] })
            }
            SnapshotSource::Vm { vm, connect } => {
                let c = connect.as_deref();
                let xml = dumpxml(vm, c)?;
                let name =
                    roxmltree::Document::parse(&xml).ok().and_then(|d| text_of(d.root_element(), "name")).unwrap_or_else(|| vm.clone());
                let lv = libvirt_snapshots(&name, c)?;
                let mut disks = Vec::new();
                for disk in disks_of(&xml)? {
                    let Some(file) = disk.file.clone() else {
                        disks.push((disk, Vec::new()));
                        continue;
                    };
                    disks.push(file_snapshots(disk, Path::new(&file), &lv)?);
                }
                Ok(Resolved { vm: Some(name), connect: connect.clone(), artifact: None, disks })
            }
        }
    }

    /// The disks of a source and the snapshots of each (all disks, or the one `disk_id` names).
    pub fn snapshot_list(&self, source: &SnapshotSource, disk_id: Option<u32>) -> Result<Vec<DiskSnapshots>> {
        let r = self.resolve_snapshots(source)?;
        let disks: Vec<DiskSnapshots> = r
            .disks
            .into_iter()
            .map(|(disk, snaps)| DiskSnapshots { disk, snapshots: snaps.into_iter().map(|(s, _)| s).collect() })
            .collect();
        match disk_id {
            None => Ok(disks),
            Some(id) => {
                let valid: Vec<u32> = disks.iter().map(|d| d.disk.disk_id).collect();
                disks.into_iter().find(|d| d.disk.disk_id == id).map(|d| vec![d]).ok_or_else(|| invalid_disk(id, &valid))
            }
        }
    }

    /// The VMs on a libvirt connection, with their state and disks.
    pub fn vm_list(&self, connect: Option<&str>) -> Result<Vec<VmInfo>> {
        let names = virsh(connect, &["list", "--all", "--name"])?;
        let mut vms = Vec::new();
        for name in names.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let xml = match dumpxml(name, connect) {
                Ok(x) => x,
                // Undefined between the list and now.
                Err(e) if e.code == code::VM_NOT_FOUND => continue,
                Err(e) => return Err(e),
            };
            let uuid = roxmltree::Document::parse(&xml).ok().and_then(|d| text_of(d.root_element(), "uuid"));
            let state = virsh(connect, &["domstate", "--", name]).map(|s| s.trim().to_string()).unwrap_or_default();
            let snapshot_count = virsh(connect, &["snapshot-list", "--name", "--", name])
                .map(|s| s.lines().filter(|l| !l.trim().is_empty()).count() as u32)
                .unwrap_or(0);
            let disks = disks_of(&xml)?
                .into_iter()
                .map(|mut d| {
                    if let Some(f) = &d.file {
                        if let Ok(chain) = chain_facts(Path::new(f)) {
                            d.virtual_size = Some(chain[0].virtual_size);
                            d.format = d.format.or(Some(chain[0].format.clone()));
                        }
                    }
                    d
                })
                .collect();
            vms.push(VmInfo { name: name.to_string(), uuid, state, disks, snapshot_count });
        }
        Ok(vms)
    }

    /// The `snapshot_image` job, after every refusal that needs no job: the name, the source, the
    /// disk, the snapshot.
    pub fn snapshot_image_work(&self, req: SnapshotImageRequest) -> Result<SnapshotImageWork> {
        let name = catalog::validate_name(&req.name)?;
        if catalog::name_taken(&self.db(), &name, None)? {
            return Err(catalog::name_taken_error(&name));
        }
        if let Some(e) = self.store.why_unwritable() {
            return Err(e.clone());
        }
        let r = self.resolve_snapshots(&req.source)?;
        let disk_id = req.disk_id.unwrap_or(1);
        let valid: Vec<u32> = r.disks.iter().map(|(d, _)| d.disk_id).collect();
        let (disk, snaps) = r.disks.iter().find(|(d, _)| d.disk_id == disk_id).ok_or_else(|| invalid_disk(disk_id, &valid))?;
        let what = describe(&r, disk);
        if let Some(why) = &disk.problem {
            return Err(unusable(&req.snapshot, format!("{what} cannot be read: {why}")));
        }
        let (snap, extract) = snaps.iter().find(|(s, _)| s.name == req.snapshot).ok_or_else(|| {
            let names: Vec<&str> = snaps.iter().map(|(s, _)| s.name.as_str()).collect();
            let why = if names.is_empty() && disk.format.as_deref().is_some_and(|f| f != "qcow2") {
                format!("{what} is a {} disk without snapshots (only qcow2 disks hold them)", disk.format.as_deref().unwrap_or_default())
            } else if names.is_empty() {
                format!("{what} has no snapshots")
            } else {
                format!("{what} has no snapshot {} (it has {})", req.snapshot, names.join(", "))
            };
            unusable(&req.snapshot, why)
        })?;
        if let Extract::Unusable(why) = extract {
            return Err(unusable(&req.snapshot, format!("{what}: {why}")));
        }
        let mut attributes = req.attributes.clone();
        attributes.name = None;
        attributes.kind = None;
        attributes.version = attributes.version.or(Some("1.0".into()));
        let source = ArtifactSource {
            kind: SourceKind::Snapshot,
            vm: r.vm.clone(),
            connect: r.connect.clone(),
            disk_id: Some(disk_id),
            snapshot: Some(snap.name.clone()),
            disk_file: disk.file.clone(),
            artifact: r.artifact.clone(),
            snapshot_at: snap.created_at.clone(),
            ..ArtifactSource::default()
        };
        Ok(SnapshotImageWork {
            label: format!("{what}, snapshot {}", snap.name),
            size: disk.virtual_size.unwrap_or(0),
            target: disk.target.clone(),
            extract: extract.clone(),
            format: req.format,
            name,
            attributes,
            source,
        })
    }
}

/// "disk 2 (vdb) of VM web", "disk.qcow2", "the library's ubuntu.qcow2".
fn describe(r: &Resolved, disk: &VmDisk) -> String {
    match (&r.vm, &r.artifact, &disk.file) {
        (Some(vm), _, _) => format!("disk {} ({}) of VM {vm}", disk.disk_id, disk.target),
        (None, Some(a), _) => format!("the library's {a}"),
        (None, None, Some(f)) => f.clone(),
        (None, None, None) => format!("disk {}", disk.disk_id),
    }
}

/// Every snapshot of one disk file: its internal qcow2 snapshots (named by libvirt's too), and the
/// external libvirt snapshots whose frozen state is a file of its backing chain.
fn file_snapshots(mut disk: VmDisk, file: &Path, libvirt: &[LibvirtSnapshot]) -> Result<(VmDisk, Vec<(DiskSnapshot, Extract)>)> {
    let chain = match chain_facts(file) {
        Ok(c) => c,
        Err(why) => {
            // A disk that cannot be read has no usable snapshot; say why on each libvirt one.
            let snaps = libvirt
                .iter()
                .filter(|s| s.disks.iter().any(|(t, kind, _)| *t == disk.target && kind != "no"))
                .map(|s| (lv_snapshot(s, SnapshotLocation::Internal, 0, Some(why.clone())), Extract::Unusable(why.clone())))
                .collect();
            disk.problem = Some(why);
            return Ok((disk, snaps));
        }
    };
    let facts = &chain[0];
    disk.virtual_size = Some(facts.virtual_size);
    disk.format = Some(facts.format.clone());
    let mut out: Vec<(DiskSnapshot, Extract)> = Vec::new();
    for (name, at, vm_size) in &facts.snapshots {
        let extract = Extract::Internal { file: file.to_path_buf(), name: name.clone() };
        let mut s = match libvirt.iter().find(|s| &s.name == name) {
            Some(lv) => lv_snapshot(lv, SnapshotLocation::Internal, *vm_size, None),
            None => DiskSnapshot {
                name: name.clone(),
                created_at: at.clone(),
                vm_state: None,
                vm_state_size: *vm_size,
                location: SnapshotLocation::Internal,
                description: None,
                usable: true,
                problem: None,
            },
        };
        s.created_at = s.created_at.or(at.clone());
        out.push((s, extract));
    }
    // libvirt snapshots of this disk that are not in the file itself.
    for lv in libvirt {
        let Some((_, kind, overlay)) = lv.disks.iter().find(|(t, _, _)| *t == disk.target) else { continue };
        if kind == "no" || out.iter().any(|(s, _)| s.name == lv.name) {
            continue;
        }
        let extract = if kind == "external" {
            // The overlay made at the snapshot holds what came after it; the snapshot's state is the
            // overlay's backing file, with its own chain.
            match overlay.as_deref().map(Path::new) {
                None => Extract::Unusable("libvirt does not say which overlay file it made".into()),
                Some(ov) => match chain_facts(ov) {
                    Err(why) => {
                        Extract::Unusable(format!("its overlay {} or the backing chain below it cannot be read: {why}", ov.display()))
                    }
                    Ok(c) if c.len() < 2 => Extract::Unusable(format!("its overlay {} has no backing file", ov.display())),
                    Ok(c) => Extract::Chain { file: c[1].file.clone() },
                },
            }
        } else if let Some(below) = chain[1..].iter().find(|f| f.snapshots.iter().any(|(n, _, _)| *n == lv.name)) {
            // An internal snapshot taken before an external one: it lives in a file below the overlay.
            Extract::Internal { file: below.file.clone(), name: lv.name.clone() }
        } else if facts.format != "qcow2" {
            Extract::Unusable(format!("it is a {} disk, and only qcow2 disks hold snapshots", facts.format))
        } else {
            Extract::Unusable(format!("libvirt lists it, but no file of {} holds a snapshot of that name", file.display()))
        };
        let (location, why) = match &extract {
            Extract::Unusable(w) => {
                (if kind == "external" { SnapshotLocation::External } else { SnapshotLocation::Internal }, Some(w.clone()))
            }
            Extract::Chain { .. } => (SnapshotLocation::External, None),
            Extract::Internal { .. } => (SnapshotLocation::Internal, None),
        };
        out.push((lv_snapshot(lv, location, 0, why), extract));
    }
    // Oldest first; snapshots taken in the same second keep the order qemu-img and libvirt gave.
    out.sort_by(|a, b| a.0.created_at.cmp(&b.0.created_at));
    Ok((disk, out))
}

fn lv_snapshot(lv: &LibvirtSnapshot, location: SnapshotLocation, vm_state_size: u64, problem: Option<String>) -> DiskSnapshot {
    DiskSnapshot {
        name: lv.name.clone(),
        created_at: lv.created_at.clone(),
        vm_state: lv.state.clone(),
        vm_state_size,
        location,
        description: lv.description.clone(),
        usable: problem.is_none(),
        problem,
    }
}

fn invalid_disk(id: u32, valid: &[u32]) -> Error {
    let list: Vec<String> = valid.iter().map(u32::to_string).collect();
    Error::new(
        code::INVALID_DISK,
        format!("There is no disk {id}: the valid disk ids are {}.", if list.is_empty() { "none".into() } else { list.join(", ") }),
        "Disks are numbered from 1 in the order the VM defines them (cdroms and floppies are not counted).",
        "List them (imagesmith-cli snapshot list … ) and pass one of those ids with --disk-id.",
    )
}

fn unusable(snapshot: &str, why: String) -> Error {
    Error::new(
        code::SNAPSHOT_UNUSABLE,
        format!("No image can be cut from snapshot {snapshot}: {why}."),
        "An image is cut from a snapshot that exists and can be read whole: an internal qcow2 snapshot, or an external one whose backing chain is intact.",
        "List the snapshots (imagesmith-cli snapshot list …) and choose a usable one, or repair the disk (qemu-img check).",
    )
}

/// Cut one snapshot of one disk into the store: one item, extracting, hashing, then the import's
/// commit (a duplicate when the library holds those bytes already).
pub struct SnapshotImageWork {
    label: String,
    size: u64,
    /// The guest device name of the disk (`vdb`; empty for a disk file), kept among the image's
    /// facts so the library can say "disk 2 (vdb) of VM web".
    target: String,
    extract: Extract,
    format: SnapshotFormat,
    name: String,
    attributes: ArtifactPatch,
    source: ArtifactSource,
}

impl Work for SnapshotImageWork {
    type Item = (crate::jobs::Outcome, Artifact);
    type Report = SnapshotImageReport;
    const KIND: JobKind = JobKind::SnapshotImage;

    fn items(&self) -> Vec<ItemSpec> {
        vec![ItemSpec::new(self.label.clone(), Some(self.size))]
    }

    fn run_item(&self, engine: &Engine, _seq: usize, step: &Step<'_>) -> Result<Done<Self::Item>> {
        let dir = engine.store.staging_dir("snapshot")?;
        let result = self.cut(engine, &dir, step);
        // Imported (moved into the store), a duplicate, or refused: nothing of it stays.
        let _ = std::fs::remove_dir_all(&dir);
        let (outcome, artifact) = result?;
        let r = ArtifactRef { id: artifact.id, name: artifact.name.clone() };
        Ok(Done::with_artifact(outcome, r, (outcome, artifact)))
    }

    fn report(self, _engine: &Engine, job: JobSummary, ends: Vec<ItemEnd<Self::Item>>) -> Result<SnapshotImageReport> {
        let (outcome, artifact) = runner::single_result(ends)?;
        Ok(SnapshotImageReport { job, outcome, artifact })
    }
}

impl SnapshotImageWork {
    fn cut(&self, engine: &Engine, dir: &Path, step: &Step<'_>) -> Result<(crate::jobs::Outcome, Artifact)> {
        let out = dir.join(format!("{}.{}", self.name, self.format.as_str()));
        let mut args: Vec<std::ffi::OsString> = vec!["convert".into(), "-U".into(), "-O".into(), self.format.as_str().into()];
        if self.format == SnapshotFormat::Qcow2 {
            args.push("-c".into());
        }
        let (file, snapshot) = match &self.extract {
            Extract::Internal { file, name } => (file, Some(name)),
            Extract::Chain { file } => (file, None),
            Extract::Unusable(why) => return Err(unusable(self.source.snapshot.as_deref().unwrap_or_default(), why.clone())),
        };
        if let Some(name) = snapshot {
            args.extend(["-f".into(), "qcow2".into(), "-l".into(), format!("snapshot.name={name}").into()]);
        }
        args.extend([file.as_os_str().to_owned(), out.as_os_str().to_owned()]);
        step.phase_sized("extracting", self.size);
        let size = self.size as f64;
        qemu::run_convert(&args, &out, step.cancel(), &mut |pct| step.progress((pct / 100.0 * size) as u64)).map_err(|e| match e {
            ConvertError::Cancelled => Error::cancelled(),
            ConvertError::Failed(why) => {
                unusable(self.source.snapshot.as_deref().unwrap_or_default(), format!("qemu-img could not read it: {why}"))
            }
        })?;
        // qemu-img writes without flushing (its default cache mode for convert): the store wants
        // the bytes on disk before the rename that commits them.
        std::fs::File::open(&out).and_then(|f| f.sync_all()).map_err(|e| Error::io(&out, &e, true))?;
        let written = std::fs::metadata(&out).map_err(|e| Error::io(&out, &e, false))?.len();
        step.phase_sized("hashing", written);
        let digests = pipeline::hash_file(&out, &[], step.cancel(), &mut |n| step.progress(n))?;
        let item = ImportItem {
            path: out.clone(),
            kind: Some(Kind::DiskImage),
            name: Some(self.name.clone()),
            attributes: self.attributes.clone(),
            ..ImportItem::default()
        };
        let mut facts = serde_json::Map::from_iter([("snapshot_format".to_string(), json!(self.format.as_str()))]);
        if !self.target.is_empty() {
            facts.insert("disk_target".into(), json!(self.target));
        }
        let downloaded = Downloaded { digests: &digests, source: &self.source, facts };
        let job = JobRef { id: Some(step.job_id()), staged: false };
        let mut progress = |phase: &str, done: u64| {
            step.phase(phase);
            step.progress(done);
        };
        let (outcome, artifact) = engine.import_one(&item, Checks::default(), job, Some(downloaded), step.cancel(), &mut progress)?;
        Ok((outcome, artifact))
    }
}

impl Engine {
    /// Cut an image from a snapshot in the calling thread (the CLI).
    pub fn snapshot_image(
        &self,
        req: SnapshotImageRequest,
        cancel: &crate::cancel::CancelToken,
        sink: &(dyn Fn(&crate::jobs::JobProgress) + Sync),
    ) -> Result<SnapshotImageReport> {
        self.run(self.snapshot_image_work(req)?, cancel, sink)
    }
}
