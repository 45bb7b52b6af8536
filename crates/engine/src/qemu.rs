//! `qemu-img` as the engine runs it: one convert runner with progress from its `-p` output, whose
//! cancel kills the process and removes the half-written file (publish conversions and images cut
//! from snapshots both use it), and `qemu-img info` read as JSON.

use crate::cancel::CancelToken;
use crate::error::{code, Error, Result};
use serde_json::Value;
use std::ffi::OsString;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// qemu-img's name for a Glance disk format (`vhd` is qemu's `vpc`); `None` when qemu-img cannot
/// write it.
pub fn qemu_format(glance: &str) -> Option<&'static str> {
    Some(match glance {
        "raw" => "raw",
        "qcow2" => "qcow2",
        "vmdk" => "vmdk",
        "vhdx" => "vhdx",
        "vhd" => "vpc",
        "vdi" => "vdi",
        _ => return None,
    })
}

/// Convert `src` (Glance format `from`) to `dst` (Glance format `to`); `progress` gets the percent done.
pub fn convert(src: &Path, from: &str, dst: &Path, to: &str, cancel: &CancelToken, progress: &mut dyn FnMut(f64)) -> Result<()> {
    let (Some(f), Some(t)) = (qemu_format(from), qemu_format(to)) else {
        return Err(Error::new(
            code::CONVERSION_FAILED,
            format!("A {from} image cannot be converted to {to}."),
            "qemu-img converts between the disk image formats raw, qcow2, vmdk, vhdx, vhd and vdi; an ISO is published as it is.",
            format!("Publish it as {from}, or choose one of those formats."),
        ));
    };
    let failed = |why: String| {
        Error::new(
            code::CONVERSION_FAILED,
            format!("Converting {} from {from} to {to} failed: {why}", src.display()),
            "qemu-img (Debian package qemu-utils) converts disk images; it is missing, the image is damaged, or the staging disk is full.",
            "Check that qemu-img is installed and that the repository's disk has room for a converted copy, then publish again.",
        )
    };
    let mut args: Vec<OsString> = ["convert", "-f", f, "-O", t].iter().map(OsString::from).collect();
    args.extend([src.as_os_str().to_owned(), dst.as_os_str().to_owned()]);
    run_convert(&args, dst, cancel, progress).map_err(|why| match why {
        ConvertError::Cancelled => Error::cancelled(),
        ConvertError::Failed(why) => failed(why),
    })
}

/// Why a `qemu-img convert` did not finish: cancelled, or what went wrong (qemu-img's last line).
pub enum ConvertError {
    Cancelled,
    Failed(String),
}

/// Run `qemu-img ARGS` with `-p` added after `convert`: `dst` (the last argument) is removed when it
/// fails or is cancelled; `progress` gets the percent done. The child dies with this process (a
/// kill -9 of the app leaves no qemu-img writing into a staging folder that is reaped).
pub fn run_convert(
    args: &[OsString],
    dst: &Path,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(f64),
) -> std::result::Result<(), ConvertError> {
    let mut cmd = Command::new("qemu-img");
    cmd.arg("convert").arg("-p").args(&args[1..]).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    die_with_parent(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| ConvertError::Failed(format!("qemu-img could not be started: {e}.")))?;
    let percent = Arc::new(AtomicU64::new(0));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let seen = percent.clone();
    // qemu-img -p writes "    (12.34/100%)\r" lines.
    let out_thread = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        let mut line = String::new();
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            for &b in &buf[..n] {
                if b == b'\r' || b == b'\n' {
                    if let Some(p) = line.trim().strip_prefix('(').and_then(|l| l.split('/').next()).and_then(|p| p.parse::<f64>().ok()) {
                        seen.store((p * 100.0) as u64, Ordering::Relaxed);
                    }
                    line.clear();
                } else {
                    line.push(b as char);
                }
            }
        }
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = loop {
        if cancel.is_cancelled() {
            let _ = child.kill();
            let _ = child.wait();
            let _ = out_thread.join();
            let _ = err_thread.join();
            let _ = std::fs::remove_file(dst);
            return Err(ConvertError::Cancelled);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {
                std::thread::sleep(Duration::from_millis(50));
                crate::failpoint::failpoint("qemu.converting");
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_file(dst);
                return Err(ConvertError::Failed(format!("waiting for qemu-img failed: {e}.")));
            }
        }
        progress(percent.load(Ordering::Relaxed) as f64 / 100.0);
    };
    let _ = out_thread.join();
    let stderr = err_thread.join().unwrap_or_default();
    if !status.success() {
        let _ = std::fs::remove_file(dst);
        let last = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
        return Err(ConvertError::Failed(format!("{last} ({status}).")));
    }
    progress(100.0);
    Ok(())
}

/// Ask the kernel to kill the child when this process dies.
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the child's own state.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// `qemu-img info --output=json -U [ARGS] PATH`: `-U` reads an image a running VM holds (shared,
/// read only). `Err` carries qemu-img's own message, or why it could not run.
pub fn info(path: &Path, args: &[&str]) -> std::result::Result<Value, String> {
    let out = Command::new("qemu-img")
        .args(["info", "--output=json", "-U"])
        .args(args)
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("qemu-img could not be run ({e}); it comes with Debian's qemu-utils"))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        return Err(msg.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("qemu-img failed").trim().to_string());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("qemu-img info printed no JSON: {e}"))
}
