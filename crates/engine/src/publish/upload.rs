//! The upload body: reads the image once, hashes MD5 and SHA-512 of exactly the bytes sent, counts
//! them for progress, and fails (which aborts the request) as soon as the job is cancelled.

use crate::cancel::CancelToken;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use md5::Md5;
use sha2::{Digest, Sha512};
use std::io::{self, Read};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// What the upload side shares with the job: bytes sent so far and the running digests.
#[derive(Default)]
pub struct Sent {
    pub bytes: AtomicU64,
    hashers: Mutex<Option<(Md5, Sha512)>>,
}

impl Sent {
    pub fn new() -> Arc<Sent> {
        Arc::new(Sent { bytes: AtomicU64::new(0), hashers: Mutex::new(Some((Md5::new(), Sha512::new()))) })
    }

    /// (md5, sha512) hex of everything read so far; call once the upload is over.
    pub fn digests(&self) -> (String, String) {
        let (md5, sha512) = self.hashers.lock().unwrap_or_else(|p| p.into_inner()).take().unwrap_or_default();
        (hex::encode(md5.finalize()), hex::encode(sha512.finalize()))
    }
}

/// The marker error a cancelled read returns (so the caller can tell cancel from a network error).
pub const CANCELLED_READ: &str = "imagesmith: upload cancelled";

/// Bytes handed to the connection per frame.
const FRAME: usize = 256 << 10;

/// A request body of exactly `len` bytes read from `inner`. Reads are plain blocking reads of a
/// local file: the body is polled on a runtime of its own that does nothing else.
pub struct HashingBody<R> {
    inner: R,
    left: u64,
    sent: Arc<Sent>,
    cancel: CancelToken,
}

impl<R: Read> HashingBody<R> {
    pub fn new(inner: R, len: u64, sent: Arc<Sent>, cancel: CancelToken) -> Self {
        HashingBody { inner, left: len, sent, cancel }
    }

    fn next_chunk(&mut self) -> io::Result<Bytes> {
        if self.cancel.is_cancelled() {
            return Err(io::Error::other(CANCELLED_READ));
        }
        let want = FRAME.min(self.left as usize);
        let mut buf = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the image file got shorter during the upload")),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        if let Some((md5, sha512)) = self.sent.hashers.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            md5.update(&buf);
            sha512.update(&buf);
        }
        self.left -= want as u64;
        self.sent.bytes.fetch_add(want as u64, Ordering::Relaxed);
        Ok(Bytes::from(buf))
    }
}

impl<R: Read + Unpin> http_body::Body for HashingBody<R> {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if this.left == 0 {
            return Poll::Ready(None);
        }
        Poll::Ready(Some(this.next_chunk().map(Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}
