//! Reading from a client without a read buffer per idle connection.
//!
//! Bytes are read into a buffer per worker thread and copied into the connection's own
//! `BytesMut`, which therefore only ever holds bytes not yet decoded: allocated to the size of
//! what arrived, split into packets (whose topics and payloads keep pointing into it), and given
//! up as soon as everything is decoded ([`release`]). An idle connection holds no buffer, where
//! a buffer of its own to read into would cost every connection its size for its lifetime.
//! The copy costs far less than the read system call it follows.

use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Poll};

use bytes::BytesMut;
use tokio::io::{AsyncRead, ReadBuf};

/// The most one read takes from the socket. It also bounds how much memory a message can hold
/// on to, the chunk it arrived in, while connected sessions hold it. Retained messages, and
/// messages that offline sessions alone hold, are copies of their own (`RetainedStore::store`,
/// `Inner::route`, `SessionState::detach_messages`).
const READ_SIZE: usize = 4096;

thread_local! {
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_SIZE].into_boxed_slice());
}

/// Reads what `rd` has (waiting for something) and appends it to `rbuf`; returns how many bytes
/// were read, 0 at end of stream.
pub(super) async fn read_some<R: AsyncRead + Unpin>(
    rd: &mut R,
    rbuf: &mut BytesMut,
) -> io::Result<usize> {
    poll_fn(|cx| {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let mut buf = ReadBuf::new(&mut scratch[..]);
            ready!(Pin::new(&mut *rd).poll_read(cx, &mut buf))?;
            let read = buf.filled();
            rbuf.extend_from_slice(read);
            Poll::Ready(Ok(read.len()))
        })
    })
    .await
}

/// Gives up `rbuf`'s memory once everything in it is decoded (an empty view would still keep
/// the whole chunk alive).
pub(super) fn release(rbuf: &mut BytesMut) {
    if rbuf.is_empty() && rbuf.capacity() > 0 {
        *rbuf = BytesMut::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_into_a_buffer_sized_to_what_arrived_and_releases_it() {
        let (mut client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::io::AsyncWriteExt::write_all(&mut client, &[7; 10_000])
            .await
            .unwrap();
        let mut rbuf = BytesMut::new();
        let mut total = 0;
        while total < 10_000 {
            let n = read_some(&mut server, &mut rbuf).await.unwrap();
            assert!(
                n > 0 && n <= READ_SIZE,
                "one read takes at most {READ_SIZE}: {n}"
            );
            total += n;
        }
        assert_eq!(rbuf.len(), 10_000);
        assert!(rbuf.iter().all(|&b| b == 7));
        let _packet = rbuf.split_to(10_000).freeze();
        release(&mut rbuf);
        assert_eq!(rbuf.capacity(), 0, "an empty buffer holds no memory");
        drop(client);
        assert_eq!(read_some(&mut server, &mut rbuf).await.unwrap(), 0);
    }
}
