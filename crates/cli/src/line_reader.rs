//! Lines of an input stream as [`Bytes`] that share the blocks they were read into: no copy
//! and no allocation per line, which `rafka produce` would otherwise pay once per record.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Bytes asked of the input per read.
const READ_BLOCK: usize = 256 * 1024;

/// Splits an input into lines (without their `\n`; a last line without one is returned too).
/// Each line is a slice of the block it was read into, so a block lives as long as any of its
/// lines does (for `rafka produce`: until the records are acknowledged).
#[derive(Debug)]
pub struct LineReader<R> {
    input: R,
    buf: BytesMut,
    /// Where the search for the next `\n` resumes in `buf` (what is before has none).
    scanned: usize,
    eof: bool,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    /// Reads `input`.
    pub fn new(input: R) -> Self {
        LineReader {
            input,
            buf: BytesMut::new(),
            scanned: 0,
            eof: false,
        }
    }

    /// The next line, or `None` at the end of the input. Cancel-safe: a read dropped while
    /// waiting loses nothing.
    ///
    /// # Errors
    /// Read errors of the input.
    pub async fn next_line(&mut self) -> std::io::Result<Option<Bytes>> {
        loop {
            if let Some(at) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
                let end = self.scanned + at;
                let mut line = self.buf.split_to(end + 1);
                line.truncate(end);
                self.scanned = 0;
                return Ok(Some(line.freeze()));
            }
            self.scanned = self.buf.len();
            if self.eof {
                self.scanned = 0;
                return Ok((!self.buf.is_empty()).then(|| self.buf.split().freeze()));
            }
            // Keeps the partial line; a block still shared with earlier lines is not written
            // over: the partial line moves to a fresh one.
            self.buf.reserve(READ_BLOCK);
            if self.input.read_buf(&mut self.buf).await? == 0 {
                self.eof = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8]) -> Vec<Bytes> {
        let mut r = LineReader::new(input);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().await.unwrap() {
            out.push(l);
        }
        out
    }

    #[tokio::test]
    async fn splits_on_newlines_and_keeps_a_last_unterminated_line() {
        assert_eq!(lines(b"a\n\nbc\r\nd").await, ["a", "", "bc\r", "d"]);
        assert_eq!(lines(b"a\n").await, ["a"]);
        assert!(lines(b"").await.is_empty());
    }

    #[tokio::test]
    async fn lines_across_blocks_stay_whole_while_earlier_ones_are_held() {
        let line = |i: usize| format!("{i:06}-{}", "x".repeat(1000));
        let input: String = (0..600).map(|i| line(i) + "\n").collect();
        let got = lines(input.as_bytes()).await;
        assert_eq!(got.len(), 600);
        for (i, l) in got.iter().enumerate() {
            assert_eq!(&l[..], line(i).as_bytes());
        }
    }
}
