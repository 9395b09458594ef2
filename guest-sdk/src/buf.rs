//! Fixed-size formatting buffers: formatting without allocating (used by `print!`, `write!` on a
//! [`Resource`](crate::Resource), the panic handler and the entry point's error report).

use crate::Error;
use core::fmt::{self, Write};

/// A line of at most `N` bytes. Formatting past the end is silently truncated at a char boundary, so
/// the contents are always valid UTF-8.
pub(crate) struct LineBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> LineBuf<N> {
    pub(crate) const fn new() -> Self {
        LineBuf {
            buf: [0; N],
            len: 0,
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl<const N: usize> Write for LineBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut take = s.len().min(N - self.len);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

const CHUNK: usize = 512;

/// Collects formatted output in a stack buffer and hands it to `sink` in chunks of up to 512 bytes
/// (a long piece goes to the sink directly), so `write!` costs few host calls.
struct Chunked<F> {
    buf: [u8; CHUNK],
    len: usize,
    sink: F,
    error: Option<Error>,
}

impl<F: FnMut(&[u8]) -> Result<(), Error>> Chunked<F> {
    fn drain(&mut self) -> fmt::Result {
        if self.len > 0 {
            let len = core::mem::take(&mut self.len);
            if let Err(e) = (self.sink)(&self.buf[..len]) {
                self.error = Some(e);
                return Err(fmt::Error);
            }
        }
        Ok(())
    }
}

impl<F: FnMut(&[u8]) -> Result<(), Error>> Write for Chunked<F> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let bytes = s.as_bytes();
        if bytes.len() > CHUNK - self.len {
            self.drain()?;
        }
        if bytes.len() >= CHUNK {
            return (self.sink)(bytes).map_err(|e| {
                self.error = Some(e);
                fmt::Error
            });
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        Ok(())
    }
}

/// Formats `args` (and a newline if `newline`) into `sink`, which must write all of what it is given.
///
/// The sink's first error is returned; a `Display` impl that fails gives [`Error::Unknown`].
pub(crate) fn write_fmt_to(
    sink: impl FnMut(&[u8]) -> Result<(), Error>,
    args: fmt::Arguments<'_>,
    newline: bool,
) -> Result<(), Error> {
    let mut w = Chunked {
        buf: [0; CHUNK],
        len: 0,
        sink,
        error: None,
    };
    let mut result = w.write_fmt(args);
    if result.is_ok() && newline {
        result = w.write_str("\n");
    }
    if result.is_ok() {
        result = w.drain();
    }
    match (w.error, result) {
        (Some(e), _) => Err(e),
        (None, Err(_)) => Err(Error::Unknown),
        (None, Ok(())) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn line_buf_truncates_at_char_boundary() {
        let mut b = LineBuf::<5>::new();
        b.write_str("abçdé").unwrap();
        assert_eq!(b.as_bytes(), "abçd".as_bytes());
        write!(b, "more").unwrap();
        assert_eq!(b.as_bytes(), "abçd".as_bytes());
    }

    #[test]
    fn chunks_reassemble() {
        let mut out = Vec::new();
        let mut calls = 0;
        let long = "x".repeat(1500);
        write_fmt_to(
            |b| {
                calls += 1;
                out.extend_from_slice(b);
                Ok(())
            },
            format_args!("a{}b{}c", 1, long),
            true,
        )
        .unwrap();
        let expected = alloc::format!("a1b{long}c\n");
        assert_eq!(out, expected.as_bytes());
        assert!(calls <= 3, "{calls} calls");
    }

    #[test]
    fn small_output_is_one_call() {
        let mut calls = 0;
        write_fmt_to(
            |_| {
                calls += 1;
                Ok(())
            },
            format_args!("{} {} {}", 1, 2, 3),
            true,
        )
        .unwrap();
        assert_eq!(calls, 1);
    }

    #[test]
    fn sink_error_is_returned() {
        let r = write_fmt_to(|_| Err(Error::Unsupported), format_args!("hi"), false);
        assert_eq!(r, Err(Error::Unsupported));
    }

    #[test]
    fn failing_display_is_unknown() {
        struct Bad;
        impl fmt::Display for Bad {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                Err(fmt::Error)
            }
        }
        let r = write_fmt_to(|_| Ok(()), format_args!("{}", Bad), false);
        assert_eq!(r, Err(Error::Unknown));
    }
}
