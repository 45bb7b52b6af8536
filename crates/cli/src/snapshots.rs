//! `vm list` and `snapshot list|image`: libvirt VMs with their disks, the snapshots of a VM's disk,
//! a qcow2 file or a library image, and the `snapshot_image` job that cuts a disk image from one.

use crate::{output, AttributeArgs};
use clap::{Args, Subcommand, ValueEnum};
use imagesmith_engine::snapshot::{DiskSnapshots, SnapshotFormat, SnapshotImageRequest, SnapshotSource, VmInfo};
use imagesmith_engine::{Engine, Error};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum VmAction {
    /// The VMs on a libvirt connection: state, disks (numbered from 1) and snapshot count.
    List {
        /// A libvirt connection URI (qemu:///system, qemu:///session, qemu+ssh://host/system);
        /// virsh's default when not given.
        #[arg(long, value_name = "URI")]
        connect: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// Where the disk and its snapshots are read from: exactly one of a file, a library image, a VM.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct SourceArgs {
    /// A qcow2 disk file.
    #[arg(long, value_name = "FILE")]
    disk_file: Option<PathBuf>,
    /// A qcow2 disk image in the library.
    #[arg(long, value_name = "ID_OR_NAME")]
    artifact: Option<String>,
    /// A libvirt VM (name or uuid).
    #[arg(long)]
    vm: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// qcow2 with compressed clusters (the default: small, what clouds take).
    Qcow2,
    Raw,
}

#[derive(Subcommand)]
pub enum SnapshotAction {
    /// The snapshots of each disk (or of the one --disk-id names): name, date, VM state, VM size.
    List {
        #[command(flatten)]
        source: SourceArgs,
        #[arg(long, value_name = "URI", requires = "vm")]
        connect: Option<String>,
        #[arg(long, value_name = "N")]
        disk_id: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// Cut a disk image from one snapshot of one disk, as a job: read only (a running VM is never
    /// paused), hashed into the store, its source recorded.
    Image {
        name: String,
        #[command(flatten)]
        source: SourceArgs,
        #[arg(long, value_name = "URI", requires = "vm")]
        connect: Option<String>,
        #[arg(long, value_name = "SNAP")]
        snapshot: String,
        /// Which disk, from 1 (default 1).
        #[arg(long, value_name = "N")]
        disk_id: Option<u32>,
        #[arg(long, value_enum, default_value = "qcow2")]
        format: FormatArg,
        #[command(flatten)]
        attributes: AttributeArgs,
        #[arg(long)]
        json: bool,
    },
}

pub fn vm_wants_json(a: &VmAction) -> bool {
    matches!(a, VmAction::List { json: true, .. })
}

pub fn snapshot_wants_json(a: &SnapshotAction) -> bool {
    match a {
        SnapshotAction::List { json, .. } | SnapshotAction::Image { json, .. } => *json,
    }
}

fn source(s: SourceArgs, connect: Option<String>) -> SnapshotSource {
    match (s.disk_file, s.artifact, s.vm) {
        (Some(path), _, _) => SnapshotSource::DiskFile { path },
        (None, Some(key), _) => SnapshotSource::Artifact { key },
        (None, None, Some(vm)) => SnapshotSource::Vm { vm, connect },
        (None, None, None) => unreachable!("clap requires one source"),
    }
}

pub fn run_vm(engine: &Engine, action: VmAction) -> Result<ExitCode, Error> {
    let VmAction::List { connect, json } = action;
    let vms = engine.vm_list(connect.as_deref())?;
    if json {
        output::json(&vms);
    } else if vms.is_empty() {
        println!("No VMs on {}.", connect.as_deref().unwrap_or("libvirt's default connection"));
    } else {
        vm_table(&vms);
    }
    Ok(ExitCode::SUCCESS)
}

fn vm_table(vms: &[VmInfo]) {
    for vm in vms {
        println!(
            "{}  {}  {} snapshot(s){}",
            vm.name,
            vm.state,
            vm.snapshot_count,
            vm.uuid.as_deref().map(|u| format!("  {u}")).unwrap_or_default()
        );
        if vm.disks.is_empty() {
            continue;
        }
        let mut table = crate::table::Table::new(&["DISK>", "TARGET", "FORMAT", "SIZE>", "FILE"]).indented("  ");
        for d in &vm.disks {
            table.row([
                d.disk_id.to_string(),
                d.target.clone(),
                d.format.clone().unwrap_or_else(|| "?".into()),
                d.virtual_size.map(output::human_size).unwrap_or_else(|| "?".into()),
                d.file.clone().unwrap_or_else(|| "(no file)".into()),
            ]);
        }
        table.print();
    }
}

fn snapshot_table(disks: &[DiskSnapshots]) {
    for d in disks {
        let size = d.disk.virtual_size.map(output::human_size).unwrap_or_else(|| "?".into());
        let target = if d.disk.target.is_empty() { String::new() } else { format!(" ({})", d.disk.target) };
        println!(
            "disk {}{target}  {}  {size}  {}",
            d.disk.disk_id,
            d.disk.format.as_deref().unwrap_or("?"),
            d.disk.file.as_deref().unwrap_or("")
        );
        if d.snapshots.is_empty() {
            println!("  no snapshots");
            continue;
        }
        let mut table = crate::table::Table::new(&["SNAPSHOT", "TAKEN", "VM STATE", "WHERE", "STATE SIZE>", "PROBLEM"]).indented("  ");
        for s in &d.snapshots {
            table.row([
                s.name.clone(),
                s.created_at.clone().unwrap_or_else(|| "—".into()),
                s.vm_state.clone().unwrap_or_else(|| "—".into()),
                s.location.to_string(),
                output::human_size(s.vm_state_size),
                s.problem.as_deref().map(|p| format!("unusable: {p}")).unwrap_or_default(),
            ]);
        }
        table.print();
    }
}

pub fn run_snapshot(engine: &Engine, action: SnapshotAction) -> Result<ExitCode, Error> {
    match action {
        SnapshotAction::List { source: s, connect, disk_id, json } => {
            let disks = engine.snapshot_list(&source(s, connect), disk_id)?;
            if json {
                output::json(&disks);
            } else {
                snapshot_table(&disks);
            }
        }
        SnapshotAction::Image { name, source: s, connect, snapshot, disk_id, format, attributes, json } => {
            let format = match format {
                FormatArg::Qcow2 => SnapshotFormat::Qcow2,
                FormatArg::Raw => SnapshotFormat::Raw,
            };
            let req = SnapshotImageRequest { source: source(s, connect), snapshot, disk_id, format, name, attributes: attributes.patch() };
            let cancel = crate::cancel_on_ctrl_c();
            let bar = output::ProgressBar::new(json);
            let report = engine.snapshot_image(req, &cancel, &|p| bar.update(p));
            bar.finish();
            let report = report?;
            if json {
                output::json(&report);
            } else {
                let a = &report.artifact;
                let what = if report.outcome == imagesmith_engine::Outcome::Duplicate { "already in the library as" } else { "made" };
                println!("{what} {} — {} {}, SHA-256 {}", a.name, a.kind, output::human_size(a.size), a.sha256);
                println!("  from {}", output::source_label(&a.source));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
