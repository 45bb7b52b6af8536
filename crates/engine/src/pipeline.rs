//! The one I/O layer every byte stream goes through: import, verify, export, server uploads and publish.
//!
//! - `Hashers`: SHA-256 (the content address) plus any of MD5, SHA-1, SHA-512, giving `Digests`.
//! - `Counter`: bytes moved so far, shared with whoever reports progress (`watch` polls it from the
//!   calling thread while the transfer runs on another), and the coded reason a stream stopped.
//! - `MeteredReader` / `MeteredWriter`: wrap any `Read` / `Write` (a file, an HTTP body, a
//!   decompressor, a `qemu-img` pipe); count into a `Counter`, stop between chunks when the job is
//!   cancelled (`io_stop`: a recognisable io error that carries the coded error), optionally hash
//!   inline; a reader can also check what it read against a stored object's size and SHA-256
//!   (`expecting`), failing with `object_damaged` at the end of the stream instead of passing bad
//!   bytes on as good.
//! - `copy_and_hash`: one read pass over any `Read` that feeds a writer and every hasher at once,
//!   each on its own thread. The reader fills pooled 1 MiB buffers and hands each (shared, read-only)
//!   over bounded channels, so reading, writing and hashing overlap, the slowest sets the pace, and
//!   memory stays at a few MiB whatever the size. sha2 picks up SHA-NI at run time where the CPU has it.
//!   `copy_hash_and_tap` adds taps: other readers of the same pass (an ISO's media check, a bundle's
//!   detached signature), each on its own thread, reading the shared chunks through a `ChunkReader`.

use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::model::Algo;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

const CHUNK: usize = 1 << 20;
/// Chunks a consumer may lag behind the reader. Deep enough that a hasher keeps working while the
/// writer waits for the disk (and the other way round); bounds memory to about this many MiB.
const IN_FLIGHT: usize = 24;
/// How often `watch` reads the counter while a transfer runs (the job's meter throttles further).
const POLL: Duration = Duration::from_millis(50);

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

    fn set(&mut self, algo: Algo, hex: String) {
        match algo {
            Algo::Md5 => self.md5 = Some(hex),
            Algo::Sha1 => self.sha1 = Some(hex),
            Algo::Sha256 => self.sha256 = hex,
            Algo::Sha512 => self.sha512 = Some(hex),
        }
    }
}

/// SHA-256 first, then each of `extra` once.
fn algos(extra: &[Algo]) -> Vec<Algo> {
    let mut algos = vec![Algo::Sha256];
    for a in extra {
        if !algos.contains(a) {
            algos.push(*a);
        }
    }
    algos
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

/// Running digests of one stream, updated inline: SHA-256 always plus any of MD5, SHA-1, SHA-512.
pub struct Hashers {
    size: u64,
    running: Vec<(Algo, Hasher)>,
}

impl Hashers {
    pub fn new(extra: &[Algo]) -> Self {
        Hashers { size: 0, running: algos(extra).into_iter().map(|a| (a, Hasher::new(a))).collect() }
    }

    pub fn update(&mut self, data: &[u8]) {
        self.size += data.len() as u64;
        for (_, h) in &mut self.running {
            h.update(data);
        }
    }

    pub fn finish(self) -> Digests {
        let mut d = Digests { size: self.size, ..Digests::default() };
        for (algo, h) in self.running {
            d.set(algo, h.finish());
        }
        d
    }
}

#[derive(Default)]
struct Shared {
    bytes: AtomicU64,
    stop: Mutex<Option<Error>>,
    digests: Mutex<Option<Digests>>,
}

/// What a stream running on another thread (or inside a library: an SFTP put, an HTTP body) shares
/// with the job: the bytes moved so far, why it stopped on purpose (cancel, a damaged object) and
/// the digests of the last stream a `MeteredReader` read to its end. Clones share one state.
#[derive(Clone, Default)]
pub struct Counter(Arc<Shared>);

impl Counter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes counted so far.
    pub fn get(&self) -> u64 {
        self.0.bytes.load(Ordering::Relaxed)
    }

    pub fn add(&self, n: u64) {
        self.0.bytes.fetch_add(n, Ordering::Relaxed);
    }

    /// The coded error a metered stream stopped with on purpose, when one did. Libraries that wrap
    /// the io error (ssh2, suppaftp, hyper) lose it; this keeps it.
    pub fn stopped(&self) -> Option<Error> {
        lock(&self.0.stop).clone()
    }

    /// The digests of the stream a `MeteredReader` read to its end (taken: a second call gives None).
    pub fn digests(&self) -> Option<Digests> {
        lock(&self.0.digests).take()
    }

    fn stop(&self, e: Error) -> io::Error {
        lock(&self.0.stop).get_or_insert_with(|| e.clone());
        io_stop(e)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The io error a metered stream stops with on purpose, carrying the coded error (`cancelled`,
/// `object_damaged`). Never `ErrorKind::Interrupted`: `io::copy` would retry that forever.
pub fn io_stop(e: Error) -> io::Error {
    io::Error::other(e)
}

/// The coded error inside an io error made by `io_stop`, when it is one.
pub fn stop_reason(e: &io::Error) -> Option<Error> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()).cloned()
}

/// What a stored object must read back as: its size and SHA-256, and the artifact it belongs to.
struct Expected {
    name: String,
    sha256: String,
    size: u64,
}

/// A `Read` that counts, stops when cancelled, optionally hashes and optionally checks a stored
/// object. At the end of the stream its digests go to the counter (`Counter::digests`).
pub struct MeteredReader<R> {
    inner: R,
    counter: Counter,
    cancel: CancelToken,
    hashers: Option<Hashers>,
    expected: Option<Expected>,
    read: u64,
    ended: bool,
}

impl<R: Read> MeteredReader<R> {
    pub fn new(inner: R, counter: &Counter, cancel: &CancelToken) -> Self {
        MeteredReader { inner, counter: counter.clone(), cancel: cancel.clone(), hashers: None, expected: None, read: 0, ended: false }
    }

    /// Hash what is read: SHA-256 plus `extra`.
    pub fn hashing(mut self, extra: &[Algo]) -> Self {
        self.hashers = Some(Hashers::new(extra));
        self
    }

    /// Check that the stream is the stored object of artifact `name` (`size` bytes, `sha256`): a
    /// stream that runs past `size`, ends short or hashes differently fails with `object_damaged`.
    pub fn expecting(mut self, name: &str, sha256: &str, size: u64) -> Self {
        if self.hashers.is_none() {
            self.hashers = Some(Hashers::new(&[]));
        }
        self.expected = Some(Expected { name: name.to_string(), sha256: sha256.to_ascii_lowercase(), size });
        self
    }

    /// Read once more to be sure the stream is over, without handing out data: `Ok(true)` at the
    /// end (and the end checks passed), `Ok(false)` when more bytes follow (they are consumed).
    pub fn at_end(&mut self) -> io::Result<bool> {
        let mut probe = [0u8; 1];
        Ok(self.read(&mut probe)? == 0)
    }

    fn end(&mut self) -> io::Result<()> {
        if self.ended {
            return Ok(());
        }
        self.ended = true;
        let Some(hashers) = self.hashers.take() else { return Ok(()) };
        let digests = hashers.finish();
        if let Some(exp) = &self.expected {
            if digests.size != exp.size {
                return Err(self.counter.stop(crate::store::object_damaged(
                    &exp.name,
                    &exp.sha256,
                    &format!("it has {} bytes, not {}", digests.size, exp.size),
                )));
            }
            if digests.sha256 != exp.sha256 {
                return Err(self.counter.stop(crate::store::object_damaged(
                    &exp.name,
                    &exp.sha256,
                    &format!("it reads with SHA-256 {}", digests.sha256),
                )));
            }
        }
        *lock(&self.counter.0.digests) = Some(digests);
        Ok(())
    }
}

impl<R: Read> Read for MeteredReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(self.counter.stop(Error::cancelled()));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let n = loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        if n == 0 {
            self.end()?;
            return Ok(0);
        }
        self.read += n as u64;
        if let Some(h) = &mut self.hashers {
            h.update(&buf[..n]);
        }
        if let Some(exp) = &self.expected {
            if self.read > exp.size {
                // Longer than recorded: say so before these bytes go anywhere.
                return Err(self.counter.stop(crate::store::object_damaged(
                    &exp.name,
                    &exp.sha256,
                    &format!("it is longer than its {} bytes", exp.size),
                )));
            }
        }
        self.counter.add(n as u64);
        Ok(n)
    }
}

/// A `Write` that counts, stops when cancelled and optionally hashes what it passes on.
pub struct MeteredWriter<W> {
    inner: W,
    counter: Counter,
    cancel: CancelToken,
    hashers: Option<Hashers>,
}

impl<W: Write> MeteredWriter<W> {
    pub fn new(inner: W, counter: &Counter, cancel: &CancelToken) -> Self {
        MeteredWriter { inner, counter: counter.clone(), cancel: cancel.clone(), hashers: None }
    }

    /// Hash what is written: SHA-256 plus `extra`.
    pub fn hashing(mut self, extra: &[Algo]) -> Self {
        self.hashers = Some(Hashers::new(extra));
        self
    }

    /// The writer back, and the digests of everything written when it was hashing.
    pub fn finish(self) -> (W, Option<Digests>) {
        (self.inner, self.hashers.map(Hashers::finish))
    }
}

impl<W: Write> Write for MeteredWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(self.counter.stop(Error::cancelled()));
        }
        let n = self.inner.write(buf)?;
        if let Some(h) = &mut self.hashers {
            h.update(&buf[..n]);
        }
        self.counter.add(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Run `work` (a transfer counting into `counter`) on a helper thread while this thread hands the
/// count to `progress` every 50 ms and once more at the end.
pub fn watch<T: Send>(counter: &Counter, progress: &mut dyn FnMut(u64), work: impl FnOnce() -> T + Send) -> T {
    thread::scope(|s| {
        let worker = s.spawn(work);
        while !worker.is_finished() {
            thread::sleep(POLL);
            progress(counter.get());
        }
        let out = worker.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        progress(counter.get());
        out
    })
}

/// Open a file for one sequential pass: tells the kernel to read ahead aggressively.
pub fn open_sequential(path: &Path) -> Result<File> {
    let file = File::open(path).map_err(|e| Error::io(path, &e, false))?;
    Ok(sequential(file))
}

/// Tell the kernel `file` will be read front to back (read-ahead), and hand it back.
pub fn sequential(file: File) -> File {
    advise_sequential(&file);
    file
}

/// Where the copy goes: a writer (the staging file) and its path (for error messages).
pub struct Sink<'a> {
    pub file: &'a mut (dyn Write + Send),
    pub path: &'a Path,
}

/// Read `src` once (any reader: open files with `open_sequential`); write it to `sink` (if any) and
/// compute SHA-256 plus `extra` digests, each on its own thread. `src_path` names the source in
/// errors. `progress` gets the bytes read so far after every chunk. The sink is left in the page
/// cache: durability is settled later (see `durability`), as `cp` leaves it too.
pub fn copy_and_hash<R: Read + ?Sized>(
    src: &mut R,
    src_path: &Path,
    sink: Option<Sink<'_>>,
    extra: &[Algo],
    cancel: &CancelToken,
    progress: &mut dyn FnMut(u64),
) -> Result<Digests> {
    copy_hash_and_tap::<R, ()>(src, src_path, sink, extra, Vec::new(), cancel, progress).map(|(d, _)| d)
}

/// Something else that reads the bytes of a copy in the same pass (an ISO's media check, a
/// detached signature's check): it runs on its own thread, is handed the chunks as a
/// [`ChunkReader`], and what it returns comes back with the digests.
pub type Tap<'a, T> = Box<dyn FnOnce(&mut ChunkReader) -> T + Send + 'a>;

/// [`copy_and_hash`], with `taps` fed the same chunks on more threads of the same pass; their
/// outcomes come back with the digests, in the order given.
pub fn copy_hash_and_tap<R: Read + ?Sized, T: Send>(
    src: &mut R,
    src_path: &Path,
    sink: Option<Sink<'_>>,
    extra: &[Algo],
    taps: Vec<Tap<'_, T>>,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(u64),
) -> Result<(Digests, Vec<T>)> {
    let algos = algos(extra);
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
        let tapped: Vec<_> = taps
            .into_iter()
            .map(|tap| {
                let (tx, rx) = sync_channel::<Arc<Vec<u8>>>(IN_FLIGHT);
                senders.push(tx);
                scope.spawn(move || {
                    let mut reader = ChunkReader::new(rx);
                    let out = tap(&mut reader);
                    // A tap that stopped early (a signature it cannot check) must not look like a
                    // failed writer to the reader: what it left is read and dropped.
                    reader.drain();
                    out
                })
            })
            .collect();

        let mut reader = MeteredReader::new(src, &Counter::new(), cancel);
        let read_result = read_into(&mut reader, src_path, &senders, progress);
        drop(senders);
        // A writer error (disk full) shows up as a closed channel on the reader's side: report it first.
        let write_result = match writer {
            Some(w) => w.join().expect("writer thread panicked"),
            None => Ok(()),
        };
        let mut digests = Digests::default();
        for (algo, h) in hashers {
            digests.set(algo, h.join().expect("hasher thread panicked"));
        }
        let outcomes = tapped.into_iter().map(|t| t.join().expect("tap thread panicked")).collect();
        write_result?;
        digests.size = read_result?;
        Ok((digests, outcomes))
    })
}

/// The chunks of one pass as a `Read` (for code that wants a reader, like a signature check),
/// or one chunk at a time without a copy ([`ChunkReader::next_chunk`]).
pub struct ChunkReader {
    rx: Receiver<Arc<Vec<u8>>>,
    chunk: Arc<Vec<u8>>,
    at: usize,
}

impl ChunkReader {
    pub fn new(rx: Receiver<Arc<Vec<u8>>>) -> Self {
        ChunkReader { rx, chunk: Arc::new(Vec::new()), at: 0 }
    }

    /// The next chunk not yet read (the rest of a partly read one first); None at the end.
    pub fn next_chunk(&mut self) -> Option<Arc<Vec<u8>>> {
        if self.at < self.chunk.len() {
            let rest = if self.at == 0 { self.chunk.clone() } else { Arc::new(self.chunk[self.at..].to_vec()) };
            self.at = self.chunk.len();
            return Some(rest);
        }
        let chunk = self.rx.recv().ok()?;
        self.chunk = chunk.clone();
        self.at = self.chunk.len();
        Some(chunk)
    }

    /// Read and drop what is left, so the pass never waits on this reader.
    pub fn drain(&mut self) {
        while self.next_chunk().is_some() {}
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.chunk.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn read_into<R: Read + ?Sized>(
    src: &mut MeteredReader<&mut R>,
    src_path: &Path,
    senders: &[SyncSender<Arc<Vec<u8>>>],
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    let mut done = 0u64;
    progress(0);
    // Buffers come back for reuse once every consumer has dropped them (no 1 MiB memset per chunk).
    let mut pool: VecDeque<Arc<Vec<u8>>> = VecDeque::new();
    loop {
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
                Err(e) => {
                    // What was read before the error still goes to the writer: a download keeps
                    // every byte that came (callers that fail discard their sink anyway).
                    if filled > 0 {
                        buf.truncate(filled);
                        for tx in senders {
                            let _ = tx.send(chunk.clone());
                        }
                    }
                    return Err(stop_reason(&e).unwrap_or_else(|| Error::io(src_path, &e, false)));
                }
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
    let mut f = open_sequential(path)?;
    copy_and_hash(&mut f, path, None, extra, cancel, progress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::code;

    /// A reader that hands out at most 7 bytes per call, as pipes and decompressors do.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(7).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    fn sha256(b: &[u8]) -> String {
        hex::encode(Sha256::digest(b))
    }

    #[test]
    fn copy_and_hash_streams_any_reader_into_any_writer_with_every_digest() {
        // Three and a half chunks, read a few bytes at a time: the pipeline fills whole buffers anyway.
        let bytes = data(3 * CHUNK + CHUNK / 2);
        let mut copy: Vec<u8> = Vec::new();
        let mut ticks = Vec::new();
        let d = copy_and_hash(
            &mut Trickle(&bytes),
            Path::new("a pipe"),
            Some(Sink { file: &mut copy, path: Path::new("memory") }),
            &[Algo::Md5, Algo::Sha1, Algo::Sha512],
            &CancelToken::new(),
            &mut |done| ticks.push(done),
        )
        .unwrap();
        assert!(copy == bytes, "the copy differs from the source");
        assert_eq!(d.size, bytes.len() as u64);
        assert_eq!(d.sha256, sha256(&bytes));
        assert_eq!(d.md5.as_deref(), Some(hex::encode(Md5::digest(&bytes)).as_str()));
        assert_eq!(d.sha1.as_deref(), Some(hex::encode(Sha1::digest(&bytes)).as_str()));
        assert_eq!(d.sha512.as_deref(), Some(hex::encode(Sha512::digest(&bytes)).as_str()));
        assert_eq!(ticks, vec![0, CHUNK as u64, 2 * CHUNK as u64, 3 * CHUNK as u64, bytes.len() as u64]);
        // The same digests inline.
        let mut h = Hashers::new(&[Algo::Md5, Algo::Sha1, Algo::Sha512]);
        bytes.chunks(1000).for_each(|c| h.update(c));
        assert_eq!(h.finish(), d);
    }

    #[test]
    fn a_cancelled_copy_stops_with_the_cancelled_code_and_a_cancelled_read_is_recognisable() {
        let cancel = CancelToken::new();
        cancel.cancel();
        let bytes = data(CHUNK);
        let err = copy_and_hash(&mut &bytes[..], Path::new("x"), None, &[], &cancel, &mut |_| {}).unwrap_err();
        assert!(err.is(code::CANCELLED), "{err:?}");

        let counter = Counter::new();
        let mut r = MeteredReader::new(&bytes[..], &counter, &cancel);
        let e = r.read(&mut [0u8; 16]).unwrap_err();
        assert_ne!(e.kind(), io::ErrorKind::Interrupted, "io::copy would retry an Interrupted error forever");
        assert!(stop_reason(&e).unwrap().is(code::CANCELLED));
        assert!(counter.stopped().unwrap().is(code::CANCELLED), "the counter keeps why the stream stopped");
        // Through io::copy too, and for a writer.
        let mut w = MeteredWriter::new(Vec::new(), &Counter::new(), &cancel);
        let e = io::copy(&mut &bytes[..], &mut w).unwrap_err();
        assert!(stop_reason(&e).unwrap().is(code::CANCELLED));
        assert!(stop_reason(&io::Error::other("a plain failure")).is_none());
    }

    #[test]
    fn a_metered_reader_counts_into_a_shared_counter_and_hands_over_its_digests_at_the_end() {
        let bytes = data(100_000);
        let counter = Counter::new();
        let mut seen = Vec::new();
        let copied = watch(&counter, &mut |n| seen.push(n), || {
            let mut r = MeteredReader::new(Trickle(&bytes), &counter, &CancelToken::new()).hashing(&[Algo::Md5]);
            io::copy(&mut r, &mut io::sink()).unwrap()
        });
        assert_eq!(copied, bytes.len() as u64);
        assert_eq!(counter.get(), bytes.len() as u64);
        assert_eq!(seen.last(), Some(&(bytes.len() as u64)), "the last tick has the whole count");
        let d = counter.digests().expect("digests at the end of the stream");
        assert_eq!((d.size, d.sha256.as_str()), (bytes.len() as u64, sha256(&bytes).as_str()));
        assert_eq!(d.md5.unwrap(), hex::encode(Md5::digest(&bytes)));
        assert!(counter.digests().is_none(), "taken once");
    }

    fn read_checked(stored: &[u8], sha: &str, size: u64) -> (io::Result<u64>, Counter, Vec<u8>) {
        let counter = Counter::new();
        let mut out = Vec::new();
        let mut r = MeteredReader::new(Trickle(stored), &counter, &CancelToken::new()).expecting("ks.cfg", sha, size);
        let result = io::copy(&mut r, &mut out);
        (result, counter, out)
    }

    #[test]
    fn a_stored_object_that_reads_back_wrong_fails_with_object_damaged_naming_the_artifact() {
        let good = data(5000);
        let sha = sha256(&good);
        let (r, counter, out) = read_checked(&good, &sha, 5000);
        assert_eq!(r.unwrap(), 5000);
        assert!(out == good && counter.stopped().is_none());
        assert_eq!(counter.digests().unwrap().sha256, sha);
        // A flipped byte: caught at the end of the stream.
        let mut flipped = good.clone();
        flipped[1234] ^= 0xff;
        // Shorter and longer than recorded; longer is caught before the extra bytes are handed out.
        for (bad, what) in [(&flipped[..], "SHA-256"), (&good[..4000], "4000 bytes"), (&[good.as_slice(), b"x"].concat()[..], "longer")] {
            let (r, counter, out) = read_checked(bad, &sha, 5000);
            let e = stop_reason(&r.unwrap_err()).expect("a coded stop");
            assert!(e.is(code::OBJECT_DAMAGED), "{e:?}");
            assert!(e.text.contains("ks.cfg") && e.text.contains(what), "{}", e.text);
            assert!(e.recovery.contains("verify"), "{}", e.recovery);
            assert_eq!(counter.stopped(), Some(e));
            assert!(out.len() <= 5000, "no byte past the recorded size is handed out");
        }
    }

    #[test]
    fn at_end_checks_the_end_without_handing_out_data() {
        let good = data(300);
        let counter = Counter::new();
        let mut r = MeteredReader::new(&good[..], &counter, &CancelToken::new()).expecting("x", &sha256(&good), 300);
        let mut buf = vec![0u8; 300];
        r.read_exact(&mut buf).unwrap();
        assert!(r.at_end().unwrap());
        let mut flipped = good.clone();
        flipped[0] ^= 1;
        let mut r = MeteredReader::new(&flipped[..], &counter, &CancelToken::new()).expecting("x", &sha256(&good), 300);
        r.read_exact(&mut buf).unwrap();
        assert!(stop_reason(&r.at_end().unwrap_err()).unwrap().is(code::OBJECT_DAMAGED));
    }
}
