//! Disk format conversion with `qemu-img convert` into the staging folder, with progress from its
//! `-p` output; cancelling kills the qemu-img process it started and removes the half-written file.

use crate::cancel::CancelToken;
use crate::error::{code, Error, Result};
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
    let mut child = Command::new("qemu-img")
        .args(["convert", "-p", "-f", f, "-O", t])
        .arg(src)
        .arg(dst)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("qemu-img could not be started: {e}.")))?;
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
            return Err(Error::cancelled());
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => {
                let _ = child.kill();
                return Err(failed(format!("waiting for qemu-img failed: {e}.")));
            }
        }
        progress(percent.load(Ordering::Relaxed) as f64 / 100.0);
    };
    let _ = out_thread.join();
    let stderr = err_thread.join().unwrap_or_default();
    if !status.success() {
        let _ = std::fs::remove_file(dst);
        let last = stderr.lines().last().unwrap_or("").trim().to_string();
        return Err(failed(format!("{last} ({status}).")));
    }
    progress(100.0);
    Ok(())
}
