//! [`Resource`]: an open URL — a handle you read, write, flush and close.

use crate::{buf, sys, Error};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::mem::ManuallyDrop;

/// An open resource: what [`Resource::open`] returns for a URL (ABI.md §4).
///
/// The handle is closed when the `Resource` is dropped (or by [`Resource::close`]). All operations
/// take `&self`: the host keeps the stream's state, so a shared reference is enough to use it.
///
/// With the `std` feature, `Resource` and `&Resource` implement `std::io::Read` and
/// `std::io::Write`; without it, use the inherent methods below, which work the same way (and take
/// precedence in method calls, returning this crate's [`Error`]).
///
/// The guest's stdin, stdout and stderr are `&'static Resource`s from [`io`](crate::io), which are
/// never closed.
///
/// ```no_run
/// use tern_guest::{Error, Resource};
///
/// fn copy_file() -> Result<(), Error> {
///     let input = Resource::open("file:///data/in.txt?mode=r")?;
///     let text = input.read_string()?;
///     let log = Resource::open("log://?prefix=copy")?;
///     writeln!(log, "read {} bytes", text.len())?;
///     let out = Resource::open("file:///data/out.txt?mode=w")?;
///     out.write_all(text.to_uppercase().as_bytes())?;
///     out.flush()
/// }
/// ```
#[derive(Debug)]
pub struct Resource {
    handle: i32,
}

impl Resource {
    /// Opens `url` (`log://?prefix=P`, `file:///path?mode=r`, `https://host/path`, …).
    ///
    /// Fails with [`Error::InvalidArgument`] for an empty or malformed URL, [`Error::NotFound`] for an
    /// unknown scheme or missing file, [`Error::PermissionDenied`] when the host's policy does not
    /// grant it, [`Error::LimitExceeded`] when too many handles are open.
    ///
    /// ```no_run
    /// let log = tern_guest::Resource::open("log://?prefix=job")?;
    /// log.write_all(b"started\n")?;
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn open(url: &str) -> Result<Resource, Error> {
        let handle = Error::check(sys::resource_open(url.as_bytes()))?;
        Ok(Resource {
            handle: handle as i32,
        })
    }

    /// Takes ownership of a raw handle: it is closed when the `Resource` is dropped.
    ///
    /// ```no_run
    /// # use tern_guest::Resource;
    /// let raw = tern_guest::sys::resource_open(b"null://");
    /// let r = Resource::from_raw_handle(raw);
    /// assert_eq!(r.handle(), raw);
    /// ```
    pub const fn from_raw_handle(handle: i32) -> Resource {
        Resource { handle }
    }

    /// Gives up ownership of the handle without closing it and returns it.
    ///
    /// ```no_run
    /// let h = tern_guest::Resource::open("null://")?.into_raw_handle();
    /// tern_guest::sys::resource_close(h);
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn into_raw_handle(self) -> i32 {
        ManuallyDrop::new(self).handle
    }

    /// The raw handle number.
    ///
    /// ```
    /// assert_eq!(tern_guest::io::stdout().handle(), tern_abi::handle::STDOUT);
    /// ```
    pub const fn handle(&self) -> i32 {
        self.handle
    }

    /// Reads up to `buf.len()` bytes; returns how many were read, `Ok(0)` at the end of the stream (the
    /// host's [`Error::Eof`] is mapped to `Ok(0)`, as `std::io::Read` does) or when `buf` is empty.
    /// May block.
    ///
    /// ```no_run
    /// let stdin = tern_guest::io::stdin();
    /// let mut buf = [0u8; 256];
    /// let n = stdin.read(&mut buf)?;
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, Error> {
        map_eof(sys::resource_read(self.handle, buf))
    }

    /// Fills `buf` completely, or fails with [`Error::Eof`] if the stream ends first (what was read by
    /// then is in `buf`).
    ///
    /// ```no_run
    /// let random = tern_guest::Resource::open("random://")?;
    /// let mut key = [0u8; 32];
    /// random.read_exact(&mut key)?;
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn read_exact(&self, buf: &mut [u8]) -> Result<(), Error> {
        read_exact_with(|b| self.read(b), buf)
    }

    /// Reads to the end of the stream, appending to `buf`; returns the number of bytes read.
    ///
    /// ```no_run
    /// let mut body = Vec::new();
    /// tern_guest::io::stdin().read_to_end(&mut body)?;
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn read_to_end(&self, buf: &mut Vec<u8>) -> Result<usize, Error> {
        read_to_end_with(|b| self.read(b), buf)
    }

    /// Reads to the end of the stream, appending to `buf`; fails with [`Error::InvalidArgument`] (and
    /// leaves `buf` unchanged) if the data is not UTF-8.
    ///
    /// ```no_run
    /// let mut text = String::new();
    /// tern_guest::Resource::open("file:///etc/motd?mode=r")?.read_to_string(&mut text)?;
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn read_to_string(&self, buf: &mut String) -> Result<usize, Error> {
        let mut bytes = Vec::new();
        let n = self.read_to_end(&mut bytes)?;
        buf.push_str(core::str::from_utf8(&bytes).map_err(|_| Error::InvalidArgument)?);
        Ok(n)
    }

    /// Reads the rest of the stream into a new `Vec` (see [`Resource::read_to_end`]).
    ///
    /// ```no_run
    /// let body: Vec<u8> = tern_guest::io::stdin().read_all()?;
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn read_all(&self) -> Result<Vec<u8>, Error> {
        let mut v = Vec::new();
        self.read_to_end(&mut v)?;
        Ok(v)
    }

    /// Reads the rest of the stream into a new `String` (see [`Resource::read_to_string`]).
    ///
    /// ```no_run
    /// let input: String = tern_guest::io::stdin().read_string()?;
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn read_string(&self) -> Result<String, Error> {
        let mut s = String::new();
        self.read_to_string(&mut s)?;
        Ok(s)
    }

    /// Writes some of `buf`; returns how many bytes the host accepted (all of them, for every scheme
    /// tern has today).
    ///
    /// ```no_run
    /// let n = tern_guest::io::stdout().write(b"hello\n")?;
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn write(&self, buf: &[u8]) -> Result<usize, Error> {
        Ok(Error::check(sys::resource_write(self.handle, buf))? as usize)
    }

    /// Writes all of `buf`, calling [`Resource::write`] until it is done. A write that accepts nothing
    /// fails with [`Error::Unknown`].
    ///
    /// ```no_run
    /// tern_guest::io::stdout().write_all(b"hello\n")?;
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn write_all(&self, buf: &[u8]) -> Result<(), Error> {
        write_all_with(|b| self.write(b), buf)
    }

    /// Writes formatted text; what `write!` and `writeln!` call. Needs no trait import and allocates
    /// nothing (the text is formatted through a small stack buffer).
    ///
    /// ```no_run
    /// let out = tern_guest::io::stdout();
    /// writeln!(out, "{} + {} = {}", 1, 2, 1 + 2)?;
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn write_fmt(&self, args: fmt::Arguments<'_>) -> Result<(), Error> {
        buf::write_fmt_to(|b| self.write_all(b), args, false)
    }

    /// Pushes buffered writes out (for `log://`, emits a pending partial line; for HTTP, sends the
    /// request).
    ///
    /// ```no_run
    /// let out = tern_guest::io::stdout();
    /// out.write_all(b"progress...")?;
    /// out.flush()?;
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn flush(&self) -> Result<(), Error> {
        Error::check(sys::resource_flush(self.handle)).map(drop)
    }

    /// Flushes and closes the handle now (dropping the `Resource` does the same). The host reports no
    /// error on close; call [`Resource::flush`] first to learn whether buffered writes got out.
    ///
    /// ```no_run
    /// let log = tern_guest::Resource::open("log://")?;
    /// log.write_all(b"partial line")?;
    /// log.close();
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn close(self) {
        drop(self)
    }
}

impl Drop for Resource {
    fn drop(&mut self) {
        sys::resource_close(self.handle);
    }
}

/// A read result: a count, `0` at the end of the stream, or the error.
fn map_eof(ret: i32) -> Result<usize, Error> {
    match Error::check(ret) {
        Ok(n) => Ok(n as usize),
        Err(Error::Eof) => Ok(0),
        Err(e) => Err(e),
    }
}

/// [`Resource::read_exact`] over any read function (`Ok(0)` = end of stream).
pub(crate) fn read_exact_with(
    mut read: impl FnMut(&mut [u8]) -> Result<usize, Error>,
    mut buf: &mut [u8],
) -> Result<(), Error> {
    while !buf.is_empty() {
        match read(buf)? {
            0 => return Err(Error::Eof),
            n => {
                let n = n.min(buf.len());
                buf = &mut core::mem::take(&mut buf)[n..];
            }
        }
    }
    Ok(())
}

/// [`Resource::read_to_end`] over any read function (`Ok(0)` = end of stream).
pub(crate) fn read_to_end_with(
    mut read: impl FnMut(&mut [u8]) -> Result<usize, Error>,
    buf: &mut Vec<u8>,
) -> Result<usize, Error> {
    const MIN_CHUNK: usize = 4096;
    const MAX_CHUNK: usize = 1 << 20;
    let start = buf.len();
    loop {
        let filled = buf.len();
        let chunk = (filled - start).clamp(MIN_CHUNK, MAX_CHUNK);
        buf.resize(filled + chunk, 0);
        match read(&mut buf[filled..]) {
            Ok(0) => {
                buf.truncate(filled);
                return Ok(filled - start);
            }
            Ok(n) => buf.truncate(filled + n.min(chunk)),
            Err(e) => {
                buf.truncate(filled);
                return Err(e);
            }
        }
    }
}

/// [`Resource::write_all`] over any write function.
pub(crate) fn write_all_with(
    mut write: impl FnMut(&[u8]) -> Result<usize, Error>,
    mut buf: &[u8],
) -> Result<(), Error> {
    while !buf.is_empty() {
        match write(buf)? {
            0 => return Err(Error::Unknown),
            n => buf = &buf[n.min(buf.len())..],
        }
    }
    Ok(())
}

#[cfg(feature = "std")]
mod std_io {
    use super::Resource;
    use std::io;

    impl io::Read for &Resource {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            Ok(Resource::read(self, buf)?)
        }
    }

    impl io::Read for Resource {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            Ok(Resource::read(self, buf)?)
        }
    }

    impl io::Write for &Resource {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            Ok(Resource::write(self, buf)?)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(Resource::flush(self)?)
        }
    }

    impl io::Write for Resource {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            Ok(Resource::write(self, buf)?)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(Resource::flush(self)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// A fake stream that returns its data in pieces of at most `piece` bytes.
    fn reader(data: &[u8], piece: usize) -> impl FnMut(&mut [u8]) -> Result<usize, Error> + '_ {
        let mut pos = 0;
        move |buf| {
            let n = piece.min(buf.len()).min(data.len() - pos);
            buf[..n].copy_from_slice(&data[pos..pos + n]);
            pos += n;
            Ok(n)
        }
    }

    #[test]
    fn eof_maps_to_zero() {
        assert_eq!(map_eof(tern_abi::errno::EOF), Ok(0));
        assert_eq!(map_eof(7), Ok(7));
        assert_eq!(map_eof(-2), Err(Error::InvalidArgument));
    }

    #[test]
    fn read_to_end_collects_everything() {
        let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut out = vec![1, 2, 3];
        let n = read_to_end_with(reader(&data, 777), &mut out).unwrap();
        assert_eq!(n, data.len());
        assert_eq!(&out[..3], &[1, 2, 3]);
        assert_eq!(&out[3..], &data[..]);
    }

    #[test]
    fn read_to_end_keeps_data_before_an_error() {
        let mut calls = 0;
        let mut out = Vec::new();
        let r = read_to_end_with(
            |b| {
                calls += 1;
                if calls == 1 {
                    b[..2].copy_from_slice(b"ok");
                    Ok(2)
                } else {
                    Err(Error::ConnectionFailed)
                }
            },
            &mut out,
        );
        assert_eq!(r, Err(Error::ConnectionFailed));
        assert_eq!(out, b"ok");
    }

    #[test]
    fn read_exact_fails_at_early_eof() {
        let mut buf = [0u8; 8];
        assert_eq!(
            read_exact_with(reader(b"abc", 2), &mut buf),
            Err(Error::Eof)
        );
        assert_eq!(&buf[..3], b"abc");
        let mut buf = [0u8; 3];
        read_exact_with(reader(b"abcdef", 1), &mut buf).unwrap();
        assert_eq!(&buf, b"abc");
    }

    #[test]
    fn write_all_loops_over_short_writes() {
        let mut out = Vec::new();
        write_all_with(
            |b| {
                let n = b.len().min(3);
                out.extend_from_slice(&b[..n]);
                Ok(n)
            },
            b"hello world",
        )
        .unwrap();
        assert_eq!(out, b"hello world");
        assert_eq!(write_all_with(|_| Ok(0), b"x"), Err(Error::Unknown));
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn off_wasm32_everything_is_unsupported() {
        assert_eq!(Resource::open("log://").unwrap_err(), Error::Unsupported);
        let r = Resource::from_raw_handle(5);
        assert_eq!(r.write(b"x"), Err(Error::Unsupported));
        assert_eq!(r.into_raw_handle(), 5);
    }
}
