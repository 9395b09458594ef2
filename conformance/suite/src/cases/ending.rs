//! Cases that end the guest (exit, trap, timeout, limits) or close its standard streams.

use super::{open, write_whole, Outcome};
use crate::check::expect_eq;
use tern_guest::abi::errno;
use tern_guest::sys;

/// Case 107: prints a line, exits with 7; anything after that is a failure the harness sees.
pub fn exit() -> i32 {
    let _ = sys::resource_write(1, b"c107: before runtime_exit\n");
    sys::runtime_exit(7)
}

/// Case 109.
pub fn trap() -> i32 {
    core::arch::wasm32::unreachable()
}

/// Case 110: the run's --timeout (1s) must end this sleep early.
pub fn sleep_past_timeout() -> i32 {
    sys::runtime_msleep(600_000);
    0
}

/// Case 111: runs until the run's --fuel is used up.
pub fn spin() -> i32 {
    let mut n: u64 = 0;
    loop {
        n = core::hint::black_box(n.wrapping_add(1));
    }
}

/// Case 112: a memory.grow past the run's --max-memory-pages (100) is refused with -1.
pub fn grow_refused() -> Outcome {
    use core::arch::wasm32::{memory_grow, memory_size};
    let before = memory_size(0);
    let got = memory_grow(0, 1000);
    expect_eq!(
        got as isize,
        -1,
        "memory.grow(1000) under --max-memory-pages 100"
    );
    expect_eq!(
        memory_size(0),
        before,
        "memory pages after the refused grow"
    );
    Ok(())
}

/// Case 113.
pub fn close_stdin() -> Outcome {
    sys::resource_close(0);
    let mut buf = [0u8; 8];
    expect_eq!(
        sys::resource_read(0, &mut buf),
        errno::INVALID_ARGUMENT,
        "resource_read(0) after close"
    );
    expect_eq!(sys::io_get_stdin(), 0, "io_get_stdin() after close");
    let h = open("null://");
    sys::resource_close(h);
    expect_eq!(h, 0, "resource_open(\"null://\") after closing 0");
    Ok(())
}

/// Case 114.
pub fn close_stdout() -> Outcome {
    write_whole(1, b"c114: before close\n")?;
    sys::resource_close(1);
    expect_eq!(
        sys::resource_write(1, b"c114: after close\n"),
        errno::INVALID_ARGUMENT,
        "resource_write(1) after close"
    );
    expect_eq!(sys::io_get_stdout(), 1, "io_get_stdout() after close");
    Ok(())
}
