//! Images from VM disk snapshots: the VMs of a libvirt connection, the disks and snapshots of a
//! VM, a qcow2 file or a qcow2 image of the library, and the `snapshot_image` job that cuts one
//! snapshot of one disk into the library. A disk file is read only when the person chose it in the
//! native dialog (`choose_disk_file`) or dropped it; a connection URI that would make libvirt run a
//! program of the page's choosing is refused before virsh sees it.

use imagesmith_engine::error::code;
use imagesmith_engine::snapshot::{DiskSnapshots, SnapshotImageReport, SnapshotImageRequest, SnapshotSource, VmInfo};
use imagesmith_engine::JobProgress;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{blocking, IpcError};
use crate::AppState;

/// The VMs on a libvirt connection (none or empty: virsh's default), with their state and disks.
/// `connection_failed` when virsh is missing or the daemon cannot be reached.
#[tauri::command]
#[specta::specta]
pub async fn list_vms(state: State<'_, AppState>, connect: Option<String>) -> Result<Vec<VmInfo>, IpcError> {
    let connect = given_uri(connect)?;
    let engine = state.engine();
    blocking(move || engine.vm_list(connect.as_deref())).await
}

/// The disks of a source and each disk's snapshots (all disks, or the one `disk_id` names:
/// `invalid_disk` naming the valid ids otherwise). A disk file must have been chosen in this
/// window (`not_chosen`); a VM that does not exist is `vm_not_found`.
#[tauri::command]
#[specta::specta]
pub async fn list_snapshots(
    state: State<'_, AppState>,
    source: SnapshotSource,
    disk_id: Option<u32>,
) -> Result<Vec<DiskSnapshots>, IpcError> {
    let source = checked_source(&state, source)?;
    let engine = state.engine();
    blocking(move || engine.snapshot_list(&source, disk_id)).await
}

/// Start the job that cuts one snapshot of one disk into the library; returns its id at once, the
/// new artifact arrives on `on_report`. Refused before any job exists: the name taken, a VM not
/// found, an invalid disk, an unusable snapshot, a disk file not chosen in this window.
#[tauri::command]
#[specta::specta]
pub async fn start_snapshot_image(
    state: State<'_, AppState>,
    request: SnapshotImageRequest,
    on_progress: Channel<JobProgress>,
    on_report: Channel<SnapshotImageReport>,
) -> Result<i64, IpcError> {
    let source = checked_source(&state, request.source)?;
    let request = SnapshotImageRequest { source, ..request };
    crate::jobs::start(state.engine(), move |engine| engine.snapshot_image_work(request), on_progress, Some(on_report)).await
}

/// The source as the engine takes it: a disk file only when it was chosen or dropped, a VM's
/// connection URI checked.
fn checked_source(state: &State<'_, AppState>, source: SnapshotSource) -> Result<SnapshotSource, IpcError> {
    match source {
        SnapshotSource::DiskFile { path } => {
            state.grants.check(&path, "disk file")?;
            Ok(SnapshotSource::DiskFile { path })
        }
        SnapshotSource::Vm { vm, connect } => Ok(SnapshotSource::Vm { vm: vm.trim().to_string(), connect: given_uri(connect)? }),
        other => Ok(other),
    }
}

/// A connection URI as typed: empty means virsh's default; one that would run a program (the
/// `ext` transport, or a `command`/`netcat` parameter naming what ssh runs) is refused.
fn given_uri(connect: Option<String>) -> Result<Option<String>, IpcError> {
    let Some(uri) = connect.map(|c| c.trim().to_string()).filter(|c| !c.is_empty()) else { return Ok(None) };
    let refuse = |why: &str| {
        Err(IpcError::new(
            code::INVALID_ARGUMENT,
            format!("“{uri}” is not a connection URI Imagesmith uses: {why}."),
            "A libvirt connection URI names a hypervisor driver and, for a remote host, how to reach it, e.g. qemu:///system, \
             qemu:///session or qemu+ssh://admin@host/system. URIs that make libvirt start another program are not used.",
            "Leave it empty for libvirt's default connection, or give a URI like qemu:///system.",
        ))
    };
    if uri.chars().any(char::is_control) {
        return refuse("it contains control characters");
    }
    let Some((scheme, rest)) = uri.split_once("://") else { return refuse("it has no driver:// part") };
    let valid_scheme = !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-');
    if !valid_scheme {
        return refuse("its driver part is not a word like qemu or qemu+ssh");
    }
    if scheme.split('+').nth(1).is_some_and(|t| t.eq_ignore_ascii_case("ext")) {
        return refuse("the ext transport runs a program");
    }
    let query = rest.split_once('?').map(|(_, q)| q).unwrap_or_default();
    // As libvirt reads them: parameters split on '&' and ';', names percent-decoded.
    let runs = query
        .split(['&', ';'])
        .filter_map(|kv| kv.split('=').next())
        .map(imagesmith_engine::download::percent_decode)
        .any(|k| k.trim().eq_ignore_ascii_case("command") || k.trim().eq_ignore_ascii_case("netcat"));
    if runs {
        return refuse("its command or netcat parameter names a program to run");
    }
    Ok(Some(uri))
}

#[cfg(test)]
mod tests {
    use super::given_uri;

    #[test]
    fn connection_uris_that_would_run_a_program_are_refused() {
        assert_eq!(given_uri(None).unwrap(), None);
        assert_eq!(given_uri(Some("  ".into())).unwrap(), None, "empty: virsh's default");
        for ok in ["qemu:///system", " qemu:///session ", "qemu+ssh://admin@host/system", "qemu:///system?socket=/tmp/x/libvirt-sock"] {
            assert_eq!(given_uri(Some(ok.into())).unwrap().as_deref(), Some(ok.trim()), "{ok}");
        }
        for bad in [
            "qemu+ext:///system?command=/bin/sh",
            "qemu+ssh://h/system?command=/tmp/evil",
            "qemu+ssh://h/system?x=1&netcat=/tmp/evil",
            // libvirt also splits parameters on ';' and percent-decodes their names
            "qemu+ssh://h/system?x=1;command=/tmp/evil",
            "qemu+ssh://h/system?%63ommand=/tmp/evil",
            "qemu+ssh://h/system?NETCAT%3D=/tmp/evil&%6Eetcat=/tmp/evil",
            "/etc/passwd",
            "-c qemu:///system",
            "qemu:///system\n--help",
        ] {
            let e = given_uri(Some(bad.into())).unwrap_err();
            assert_eq!(e.code, imagesmith_engine::error::code::INVALID_ARGUMENT, "{bad}");
        }
    }
}
