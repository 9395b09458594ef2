//! Module `dagger` (ABI.md §6): Olin's first ABI on the same handles.

use super::{dir, Outcome};
use crate::check::{ensure, expect_bytes, expect_eq};
use crate::raw::{self, dagger, Edge};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use tern_guest::abi::errno;
use tern_guest::sys;

/// `dagger.open` of `url` (a NUL is appended).
fn open(url: &str) -> i32 {
    let mut bytes = String::from(url).into_bytes();
    bytes.push(0);
    // SAFETY: a valid, NUL-terminated buffer; open only reads it.
    unsafe { dagger::open(raw::addr(&bytes), 0) }
}

/// `dagger.open`, failing the case unless it returns a handle above the standard three.
fn opened(url: &str) -> Result<i32, String> {
    let h = open(url);
    ensure!(
        h > 2,
        "dagger.open({url:?}): expected a handle > 2, got {h}"
    );
    Ok(h)
}

/// `dagger.read` into `buf`.
fn read(h: i32, buf: &mut [u8]) -> i32 {
    // SAFETY: `buf` is valid and writable for its length.
    unsafe { dagger::read(h, raw::addr_mut(buf), raw::len(buf)) }
}

/// Case 98.
pub fn open_case() -> Outcome {
    let h = opened("zero://")?;
    let mut buf = [0xAAu8; 8];
    let n = sys::resource_read(h, &mut buf);
    sys::resource_close(h);
    expect_eq!(n, 8, "resource_read on a dagger handle");
    expect_bytes!(buf, [0u8; 8], "the bytes of zero://");
    Ok(())
}

/// Case 99.
pub fn read_eof() -> Outcome {
    let null = opened("null://")?;
    let zero = opened("zero://")?;
    let mut buf = [0xAAu8; 8];
    let (at_end, n) = (read(null, &mut buf), read(zero, &mut buf));
    sys::resource_close(null);
    sys::resource_close(zero);
    expect_eq!(at_end, 0, "dagger.read(null://)");
    expect_eq!(n, 8, "dagger.read(zero://, buf, 8)");
    Ok(())
}

/// Case 100.
pub fn write() -> Outcome {
    let h = opened("fd://1")?;
    let line = b"c100: via dagger\n";
    // SAFETY: a valid buffer; write only reads it.
    let n = unsafe { dagger::write(h, raw::addr(line), raw::len(line)) };
    // SAFETY: no pointers.
    let closed = unsafe { dagger::close(h) };
    expect_eq!(n, line.len() as i32, "dagger.write(fd://1)");
    expect_eq!(closed, 0, "dagger.close");
    Ok(())
}

/// Case 101.
pub fn sync() -> Outcome {
    let h = opened("null://")?;
    // SAFETY: no pointers.
    let (ok, bad) = unsafe { (dagger::sync(h), dagger::sync(999)) };
    sys::resource_close(h);
    expect_eq!(ok, 0, "dagger.sync(null://)");
    expect_eq!(bad, errno::INVALID_ARGUMENT, "dagger.sync(999)");
    Ok(())
}

/// Case 102.
pub fn close() -> Outcome {
    let h = opened("zero://")?;
    // SAFETY: no pointers.
    let (first, second) = unsafe { (dagger::close(h), dagger::close(h)) };
    expect_eq!(first, 0, "dagger.close({h})");
    expect_eq!(second, errno::INVALID_ARGUMENT, "dagger.close({h}) again");
    let mut buf = [0u8; 4];
    expect_eq!(
        sys::resource_read(h, &mut buf),
        errno::INVALID_ARGUMENT,
        "resource_read after dagger.close"
    );
    Ok(())
}

/// Case 103.
pub fn open_no_nul() -> Outcome {
    let long = vec![b'a'; 5000];
    // SAFETY: a valid buffer without a NUL in its first 4097 bytes; open only reads.
    let got = unsafe { dagger::open(raw::addr(&long), 0) };
    expect_eq!(
        got,
        errno::INVALID_ARGUMENT,
        "dagger.open(5000 x 'a', no NUL)"
    );
    let edge = Edge::grow();
    let at = edge.put_at_end(b"null://");
    // SAFETY: the URL runs into the end of memory without a NUL; open only reads.
    let got = unsafe { dagger::open(at, 0) };
    ensure!(edge.is_last(), "memory grew during the call");
    expect_eq!(
        got,
        errno::INVALID_ARGUMENT,
        "dagger.open(\"null://\" at the end of memory, no NUL)"
    );
    Ok(())
}

/// Case 104.
pub fn open_denied() -> Outcome {
    let url = format!("file://{}/../outside.txt", dir()?);
    let got = open(&url);
    expect_eq!(got, errno::PERMISSION_DENIED, "dagger.open({url:?})");
    Ok(())
}

/// Case 105.
pub fn out_of_bounds() -> Outcome {
    let zero = opened("zero://")?;
    let null = opened("null://")?;
    let edge = Edge::grow();
    // SAFETY: out of bounds on purpose; a conforming host touches nothing.
    let (r, w) = unsafe {
        (
            dagger::read(zero, edge.near_end(), 16),
            dagger::write(null, edge.near_end(), 16),
        )
    };
    let untouched = raw::untouched(&edge);
    sys::resource_close(zero);
    sys::resource_close(null);
    untouched?;
    expect_eq!(
        r,
        errno::INVALID_ARGUMENT,
        "dagger.read(zero://, <end of memory - 2>, 16)"
    );
    expect_eq!(
        w,
        errno::INVALID_ARGUMENT,
        "dagger.write(null://, <end of memory - 2>, 16)"
    );
    Ok(())
}
