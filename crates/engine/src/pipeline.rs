//! One read pass over a file that feeds the staging writer and every hasher at once, on threads.
//!
//! The reader fills 1 MiB buffers and hands each (shared, read-only) to the writer and to one thread
//! per digest over bounded channels, so reading, writing and hashing overlap and memory stays at a
//! few MiB whatever the file size. sha2 picks up SHA-NI at run time where the CPU has it.

use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::model::Algo;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread;

const CHUNK: usize = 1 << 20;
/// Chunks a consumer may lag behind the reader. Deep enough that a hasher keeps working while the
/// writer waits for the disk (and the other way round); bounds memory to about this many MiB.
const IN_FLIGHT: usize = 24;
/// Every digest computed in one pass; SHA-256 always (it is the content address).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digests {
    pub size: u64,
    pub sha256: String,
    pub md5: Option<String>,
    pub sha1: Option<String>,
    pub sha512: Option<String>,
}

impl Digests {
    pub fn get(&self, algo: Algo) -> Option<&str> {
        match algo {
            Algo::Md5 => self.md5.as_deref(),
            Algo::Sha1 => self.sha1.as_deref(),
            Algo::Sha256 => Some(&self.sha256),
            Algo::Sha512 => self.sha512.as_deref(),
        }
    }
}

enum Hasher {
    Md5(Md5),
    Sha1(Sha1),
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    fn new(algo: Algo) -> Self {
        match algo {
            Algo::Md5 => Hasher::Md5(Md5::new()),
            Algo::Sha1 => Hasher::Sha1(Sha1::new()),
            Algo::Sha256 => Hasher::Sha256(Sha256::new()),
            Algo::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    fn finish(self) -> String {
        match self {
            Hasher::Md5(h) => hex::encode(h.finalize()),
            Hasher::Sha1(h) => hex::encode(h.finalize()),
            Hasher::Sha256(h) => hex::encode(h.finalize()),
            Hasher::Sha512(h) => hex::encode(h.finalize()),
        }
    }
}

/// Where the copy goes: an open staging file and its path (for error messages).
pub struct Sink<'a> {
    pub file: &'a mut File,
    pub path: &'a Path,
}

/// Read `src` once; write it to `sink` (if any) and compute SHA-256 plus `extra` digests.
/// `progress` gets the bytes read so far after every chunk. The sink is left in the page cache:
/// durability is settled later (see `durability`), as `cp` leaves it too.
pub fn copy_and_hash(
    src: &mut File,
    src_path: &Path,
    sink: Option<Sink<'_>>,
    extra: &[Algo],
    cancel: &CancelToken,
    progress: &mut dyn FnMut(u64),
) -> Result<Digests> {
    advise_sequential(src);
    let mut algos = vec![Algo::Sha256];
    for a in extra {
        if !algos.contains(a) {
            algos.push(*a);
        }
    }
    thread::scope(|scope| {
        let mut senders: Vec<SyncSender<Arc<Vec<u8>>>> = Vec::new();
        let mut hashers = Vec::new();
        for &algo in &algos {
            let (tx, rx) = sync_channel::<Arc<Vec<u8>>>(IN_FLIGHT);
            senders.push(tx);
            hashers.push((algo, scope.spawn(move || hash_from(rx, Hasher::new(algo)))));
        }
        let writer = sink.map(|sink| {
            let (tx, rx) = sync_channel::<Arc<Vec<u8>>>(IN_FLIGHT);
            senders.push(tx);
            scope.spawn(move || write_from(rx, sink))
        });

        let read_result = read_into(src, src_path, &senders, cancel, progress);
        drop(senders);
        // A writer error (disk full) shows up as a closed channel on the reader's side: report it first.
        let write_result = match writer {
            Some(w) => w.join().expect("writer thread panicked"),
            None => Ok(()),
        };
        let mut digests = Digests::default();
        for (algo, h) in hashers {
            let hex = h.join().expect("hasher thread panicked");
            match algo {
                Algo::Md5 => digests.md5 = Some(hex),
                Algo::Sha1 => digests.sha1 = Some(hex),
                Algo::Sha256 => digests.sha256 = hex,
                Algo::Sha512 => digests.sha512 = Some(hex),
            }
        }
        write_result?;
        digests.size = read_result?;
        Ok(digests)
    })
}

fn read_into(
    src: &mut File,
    src_path: &Path,
    senders: &[SyncSender<Arc<Vec<u8>>>],
    cancel: &CancelToken,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    let mut done = 0u64;
    progress(0);
    // Buffers come back for reuse once every consumer has dropped them (no 1 MiB memset per chunk).
    let mut pool: VecDeque<Arc<Vec<u8>>> = VecDeque::new();
    loop {
        if cancel.is_cancelled() {
            return Err(Error::cancelled());
        }
        let mut chunk = match pool.front_mut().map(|a| Arc::get_mut(a).is_some()) {
            Some(true) => pool.pop_front().expect("front exists"),
            _ => Arc::new(vec![0u8; CHUNK]),
        };
        let buf = Arc::get_mut(&mut chunk).expect("unshared buffer");
        buf.resize(CHUNK, 0);
        let mut filled = 0;
        while filled < CHUNK {
            match src.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(src_path, &e, false)),
            }
        }
        if filled == 0 {
            return Ok(done);
        }
        buf.truncate(filled);
        for tx in senders {
            if tx.send(chunk.clone()).is_err() {
                // The writer stopped on an error; it reports it.
                return Ok(done);
            }
        }
        pool.push_back(chunk);
        if pool.len() > 2 * IN_FLIGHT {
            pool.pop_front();
        }
        done += filled as u64;
        progress(done);
        if filled < CHUNK {
            return Ok(done);
        }
    }
}

fn hash_from(rx: Receiver<Arc<Vec<u8>>>, mut hasher: Hasher) -> String {
    for chunk in rx {
        hasher.update(&chunk);
    }
    hasher.finish()
}

fn write_from(rx: Receiver<Arc<Vec<u8>>>, sink: Sink<'_>) -> Result<()> {
    let Sink { file, path } = sink;
    for chunk in rx {
        file.write_all(&chunk).map_err(|e| Error::io(path, &e, true))?;
    }
    file.flush().map_err(|e| Error::io(path, &e, true))
}

#[cfg(target_os = "linux")]
fn advise_sequential(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: advisory syscall on our own descriptor.
    unsafe {
        libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_SEQUENTIAL);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_sequential(_file: &File) {}

/// Hash a file without copying it (verify).
pub fn hash_file(path: &Path, extra: &[Algo], cancel: &CancelToken, progress: &mut dyn FnMut(u64)) -> Result<Digests> {
    let mut f = File::open(path).map_err(|e| Error::io(path, &e, false))?;
    copy_and_hash(&mut f, path, None, extra, cancel, progress)
}
