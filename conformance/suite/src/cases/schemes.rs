//! The schemes granted by default: null, zero, random, log and fd.

use super::{opened, write_whole, Outcome};
use crate::check::{ensure, expect_eq};
use alloc::vec;
use tern_guest::abi::{errno, log_level};
use tern_guest::sys;

/// Case 70.
pub fn null_read() -> Outcome {
    let h = opened("null://")?;
    let mut buf = [0u8; 8];
    for _ in 0..2 {
        expect_eq!(
            sys::resource_read(h.0, &mut buf),
            errno::EOF,
            "resource_read(null://)"
        );
    }
    Ok(())
}

/// Case 71.
pub fn null_write() -> Outcome {
    let h = opened("null://")?;
    expect_eq!(
        sys::resource_write(h.0, b"x"),
        1,
        "resource_write(null://, 1 byte)"
    );
    let big = vec![7u8; 10_000];
    expect_eq!(
        sys::resource_write(h.0, &big),
        10_000,
        "resource_write(null://, 10000 bytes)"
    );
    expect_eq!(sys::resource_flush(h.0), 0, "resource_flush(null://)");
    Ok(())
}

/// Case 72.
pub fn zero_read() -> Outcome {
    let h = opened("zero://")?;
    let mut buf = [0xAAu8; 100];
    expect_eq!(
        sys::resource_read(h.0, &mut buf),
        100,
        "resource_read(zero://, buf, 100)"
    );
    ensure!(
        buf.iter().all(|&b| b == 0),
        "zero:// gave non-zero bytes: b\"{}\"",
        buf.escape_ascii()
    );
    expect_eq!(sys::resource_flush(h.0), 0, "resource_flush(zero://)");
    Ok(())
}

/// Case 73.
pub fn zero_write() -> Outcome {
    let h = opened("zero://")?;
    expect_eq!(
        sys::resource_write(h.0, b"x"),
        errno::UNSUPPORTED,
        "resource_write(zero://)"
    );
    Ok(())
}

/// Case 74.
pub fn random_read() -> Outcome {
    let h = opened("random://")?;
    let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
    expect_eq!(
        sys::resource_read(h.0, &mut a),
        64,
        "resource_read(random://, buf, 64)"
    );
    expect_eq!(
        sys::resource_read(h.0, &mut b),
        64,
        "resource_read(random://, buf, 64)"
    );
    ensure!(a != b, "two reads of random:// gave the same 64 bytes");
    ensure!(a.iter().any(|&x| x != 0), "random:// gave 64 zero bytes");
    expect_eq!(sys::resource_flush(h.0), 0, "resource_flush(random://)");
    Ok(())
}

/// Case 75.
pub fn random_write() -> Outcome {
    let h = opened("random://")?;
    expect_eq!(
        sys::resource_write(h.0, b"x"),
        errno::UNSUPPORTED,
        "resource_write(random://)"
    );
    Ok(())
}

/// Case 76.
pub fn log_lines() -> Outcome {
    let h = opened("log://?prefix=c76")?;
    expect_eq!(
        sys::resource_write(h.0, b"first\nsecond\n"),
        13,
        "resource_write(log://, 13 bytes)"
    );
    Ok(())
}

/// Case 77.
pub fn log_partial() -> Outcome {
    let h = opened("log://?prefix=c77")?;
    expect_eq!(
        sys::resource_write(h.0, b"par"),
        3,
        "resource_write(log://, \"par\")"
    );
    expect_eq!(
        sys::resource_write(h.0, b"tial line\n"),
        10,
        "resource_write(log://, \"tial line\\n\")"
    );
    Ok(())
}

/// Case 78.
pub fn log_flush() -> Outcome {
    let h = opened("log://?prefix=c78")?;
    expect_eq!(
        sys::resource_write(h.0, b"flushed"),
        7,
        "resource_write(log://, \"flushed\")"
    );
    expect_eq!(sys::resource_flush(h.0), 0, "resource_flush(log://)");
    sys::log_write(log_level::INFO, b"c78: after flush");
    Ok(())
}

/// Case 79.
pub fn log_close() -> Outcome {
    let h = opened("log://?prefix=c79")?;
    expect_eq!(
        sys::resource_write(h.0, b"closed"),
        6,
        "resource_write(log://, \"closed\")"
    );
    drop(h);
    sys::log_write(log_level::INFO, b"c79: after close");
    Ok(())
}

/// Case 80.
pub fn log_read() -> Outcome {
    let h = opened("log://?prefix=c80")?;
    let mut buf = [0u8; 8];
    expect_eq!(
        sys::resource_read(h.0, &mut buf),
        errno::UNSUPPORTED,
        "resource_read(log://)"
    );
    Ok(())
}

/// Case 81.
pub fn fd_write() -> Outcome {
    let out = opened("fd://1")?;
    let err = opened("fd://2")?;
    let (a, b) = (b"c81: via fd://1\n", b"c81: via fd://2\n");
    write_whole(out.0, a)?;
    write_whole(err.0, b)
}

/// Case 82.
pub fn fd_wrong_direction() -> Outcome {
    let mut buf = [0u8; 8];
    for url in ["fd://1", "fd://2"] {
        let h = opened(url)?;
        expect_eq!(
            sys::resource_read(h.0, &mut buf),
            errno::UNSUPPORTED,
            "resource_read({url})"
        );
    }
    let h = opened("fd://0")?;
    expect_eq!(
        sys::resource_write(h.0, b"x"),
        errno::UNSUPPORTED,
        "resource_write(fd://0)"
    );
    Ok(())
}

/// Case 83.
pub fn fd_other() -> Outcome {
    super::open_fails("fd://3", errno::NOT_FOUND)?;
    super::open_fails("fd://99", errno::NOT_FOUND)
}

/// Case 84.
pub fn fd_flush() -> Outcome {
    for url in ["fd://1", "fd://2"] {
        let h = opened(url)?;
        expect_eq!(sys::resource_flush(h.0), 0, "resource_flush({url})");
    }
    Ok(())
}
