//! Handle numbers: bad, closed, reused; zero-length and out-of-bounds buffers; flush.

use super::{open, opened, Outcome};
use crate::check::{ensure, expect_eq};
use crate::raw::{self, Edge};
use tern_guest::abi::errno;
use tern_guest::sys;

/// Checks that read, write and flush on `h` return -2.
fn all_invalid(h: i32) -> Outcome {
    let mut buf = [0u8; 8];
    expect_eq!(
        sys::resource_read(h, &mut buf),
        errno::INVALID_ARGUMENT,
        "resource_read({h})"
    );
    expect_eq!(
        sys::resource_write(h, b"x"),
        errno::INVALID_ARGUMENT,
        "resource_write({h})"
    );
    expect_eq!(
        sys::resource_flush(h),
        errno::INVALID_ARGUMENT,
        "resource_flush({h})"
    );
    Ok(())
}

/// Case 62.
pub fn never_opened() -> Outcome {
    for h in [999, -1, 1 << 30] {
        all_invalid(h)?;
    }
    Ok(())
}

/// Case 63.
pub fn closed() -> Outcome {
    let h = opened("zero://")?;
    let number = h.0;
    drop(h);
    all_invalid(number)
}

/// Case 64.
pub fn close_bad() -> Outcome {
    let live = opened("zero://")?;
    let dead = opened("null://")?;
    let dead_number = dead.0;
    drop(dead);
    sys::resource_close(999);
    sys::resource_close(-1);
    sys::resource_close(dead_number);
    let mut buf = [1u8; 4];
    expect_eq!(
        sys::resource_read(live.0, &mut buf),
        4,
        "resource_read on an open handle"
    );
    Ok(())
}

/// Case 65.
pub fn reuse() -> Outcome {
    let (a, b, c) = (opened("null://")?, opened("null://")?, opened("null://")?);
    let (na, nb, nc) = (a.0, b.0, c.0);
    ensure!(
        na != nb && nb != nc && na != nc,
        "handles are not distinct: {na} {nb} {nc}"
    );
    drop(b);
    drop(a);
    let first = open("null://");
    let second = open("null://");
    sys::resource_close(first);
    sys::resource_close(second);
    drop(c);
    expect_eq!(first, na.min(nb), "the open after closing {nb} then {na}");
    expect_eq!(second, na.max(nb), "the open after that");
    Ok(())
}

/// Case 66.
pub fn read_zero_len() -> Outcome {
    let h = opened("zero://")?;
    expect_eq!(
        sys::resource_read(h.0, &mut []),
        0,
        "resource_read(zero://, buf, 0)"
    );
    Ok(())
}

/// Case 67.
pub fn read_out_of_bounds() -> Outcome {
    let h = opened("zero://")?;
    let edge = Edge::grow();
    // SAFETY: out of bounds on purpose; a conforming host writes nothing.
    let got = unsafe { raw::resource_read(h.0, edge.near_end(), 16) };
    raw::untouched(&edge)?;
    expect_eq!(
        got,
        errno::INVALID_ARGUMENT,
        "resource_read(zero://, <end of memory - 2>, 16)"
    );
    // SAFETY: as above; the buffer wraps around the 32-bit address space.
    let got = unsafe { raw::resource_read(h.0, -1, 2) };
    expect_eq!(
        got,
        errno::INVALID_ARGUMENT,
        "resource_read(zero://, 0xFFFFFFFF, 2)"
    );
    Ok(())
}

/// Case 68.
pub fn write_out_of_bounds() -> Outcome {
    let h = opened("null://")?;
    let edge = Edge::grow();
    // SAFETY: out of bounds on purpose; resource_write only reads.
    let got = unsafe { raw::resource_write(h.0, edge.near_end(), 16) };
    expect_eq!(
        got,
        errno::INVALID_ARGUMENT,
        "resource_write(null://, <end of memory - 2>, 16)"
    );
    let buf = [0u8; 8];
    // SAFETY: a length of -1 is 0xFFFFFFFF bytes: out of bounds on purpose.
    let got = unsafe { raw::resource_write(h.0, raw::addr(&buf), -1) };
    expect_eq!(
        got,
        errno::INVALID_ARGUMENT,
        "resource_write(null://, buf, -1)"
    );
    Ok(())
}

/// Case 69.
pub fn flush() -> Outcome {
    expect_eq!(sys::resource_flush(1), 0, "resource_flush(1)");
    expect_eq!(sys::resource_flush(2), 0, "resource_flush(2)");
    Ok(())
}
