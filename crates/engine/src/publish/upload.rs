//! The upload body: an image streamed through the shared I/O layer (`pipeline::MeteredReader`:
//! counted for progress, hashed — MD5 and SHA-512 of exactly the bytes sent, for Glance's checksums —
//! re-hashed against the stored object when it is one, failing as soon as the job is cancelled),
//! cut into frames of a request body of a known length. A read that fails aborts the request.

use crate::pipeline::MeteredReader;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use std::io::{self, Read};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Bytes handed to the connection per frame.
const FRAME: usize = 256 << 10;

/// A request body of exactly `len` bytes read from `inner`. Reads are plain blocking reads of a
/// local file: the body is polled on a runtime of its own that does nothing else. Before the last
/// frame goes out the reader is read to its end, so a stored object that fails its check
/// (`object_damaged`), or a file that grew, aborts the request before the image is complete.
pub struct HashingBody<R> {
    inner: MeteredReader<R>,
    left: u64,
}

impl<R: Read> HashingBody<R> {
    pub fn new(inner: MeteredReader<R>, len: u64) -> Self {
        HashingBody { inner, left: len }
    }

    fn next_chunk(&mut self) -> io::Result<Bytes> {
        let want = FRAME.min(self.left as usize);
        let mut buf = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            match self.inner.read(&mut buf[filled..])? {
                0 => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the image file got shorter during the upload")),
                n => filled += n,
            }
        }
        self.left -= want as u64;
        if self.left == 0 && !self.inner.at_end()? {
            return Err(io::Error::other("the image file got longer during the upload"));
        }
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
