//! Handles 0, 1 and 2, `io_get_*`, and the guest's stdin.

use super::{opened, read_to_eof, write_whole, Outcome};
use crate::check::{ensure, expect_bytes, expect_eq};
use tern_guest::abi::errno;
use tern_guest::sys;

/// Checks that `get` returns `want` on three calls (Olin allocated a new handle each time).
fn stable(get: fn() -> i32, want: i32, what: &str) -> Outcome {
    for i in 0..3 {
        expect_eq!(get(), want, "{what}() call {}", i + 1);
    }
    Ok(())
}

/// Case 7.
pub fn stdin_handle() -> Outcome {
    stable(sys::io_get_stdin, 0, "io_get_stdin")
}

/// Case 8.
pub fn stdout_handle() -> Outcome {
    stable(sys::io_get_stdout, 1, "io_get_stdout")
}

/// Case 9.
pub fn stderr_handle() -> Outcome {
    stable(sys::io_get_stderr, 2, "io_get_stderr")
}

/// Case 10.
pub fn write_stdout() -> Outcome {
    write_whole(1, b"c10: written to handle 1\n")
}

/// Case 11.
pub fn write_stderr() -> Outcome {
    write_whole(2, b"c11: written to handle 2\n")
}

/// What the harness sends on stdin in run main.
const STDIN_FIRST: &[u8] = b"first line\n";
const STDIN_REST: &[u8] = b"second line\n";

/// Case 12.
pub fn read_stdin() -> Outcome {
    let mut buf = [0u8; STDIN_FIRST.len()];
    let mut got = 0;
    while got < buf.len() {
        let n = sys::resource_read(0, &mut buf[got..]);
        ensure!(
            n >= 1 && (n as usize) <= buf.len() - got,
            "resource_read(0) returned {n} after {got} bytes ({:?})",
            core::str::from_utf8(&buf[..got])
        );
        got += n as usize;
    }
    expect_bytes!(&buf[..], STDIN_FIRST, "stdin");
    Ok(())
}

/// Case 13.
pub fn fd0_same_stream() -> Outcome {
    let h = opened("fd://0")?;
    let rest = read_to_eof(h.0)?;
    expect_bytes!(&rest[..], STDIN_REST, "the rest of stdin read from fd://0");
    Ok(())
}

/// Case 14.
pub fn stdin_eof() -> Outcome {
    let mut buf = [0u8; 16];
    for _ in 0..2 {
        expect_eq!(
            sys::resource_read(0, &mut buf),
            errno::EOF,
            "resource_read(0) at the end"
        );
    }
    Ok(())
}

/// Case 15.
pub fn read_stdout() -> Outcome {
    let mut buf = [0u8; 8];
    expect_eq!(
        sys::resource_read(1, &mut buf),
        errno::UNSUPPORTED,
        "resource_read(1)"
    );
    Ok(())
}

/// Case 16.
pub fn write_stdin() -> Outcome {
    expect_eq!(
        sys::resource_write(0, b"x"),
        errno::UNSUPPORTED,
        "resource_write(0)"
    );
    Ok(())
}
