//! The runtime's own functions: version, name, module `env`, log_write, time, sleep, randomness.

use super::Outcome;
use crate::check::{ensure, expect_bytes, expect_eq};
use crate::raw::{self, Edge};
use tern_guest::abi::{errno, log_level};
use tern_guest::sys;

/// Case 1.
pub fn spec_major() -> Outcome {
    expect_eq!(sys::runtime_spec_major(), 1, "runtime_spec_major()");
    Ok(())
}

/// Case 2.
pub fn spec_minor() -> Outcome {
    let minor = sys::runtime_spec_minor();
    ensure!(
        minor >= 1,
        "runtime_spec_minor(): expected >= 1, got {minor}"
    );
    Ok(())
}

/// The runtime's name, as case 3 checks it.
fn read_name() -> Result<alloc::string::String, alloc::string::String> {
    let mut buf = [0xEEu8; 64];
    let n = sys::runtime_name(&mut buf);
    ensure!(n > 0 && n <= 64, "runtime_name(buf, 64) returned {n}");
    let n = n as usize;
    ensure!(
        buf[n..].iter().all(|&b| b == 0xEE),
        "runtime_name wrote past the returned length {n}"
    );
    match core::str::from_utf8(&buf[..n]) {
        Ok(name) => Ok(name.into()),
        Err(_) => Err(alloc::format!(
            "runtime_name is not UTF-8: b\"{}\"",
            buf[..n].escape_ascii()
        )),
    }
}

/// Case 3.
pub fn name() -> Outcome {
    let name = read_name()?;
    // Shown in the report; the SDK's wrapper must agree.
    tern_guest::println!("# runtime_name: {name}");
    expect_eq!(
        tern_guest::runtime::name(),
        Ok(name.clone()),
        "runtime::name()"
    );
    Ok(())
}

/// Case 4.
pub fn name_too_small() -> Outcome {
    let name = read_name()?;
    let n = name.len();
    let mut buf = [0xEEu8; 64];
    expect_eq!(
        sys::runtime_name(&mut buf[..n - 1]),
        errno::INVALID_ARGUMENT,
        "runtime_name(buf, {})",
        n - 1
    );
    ensure!(
        buf.iter().all(|&b| b == 0xEE),
        "runtime_name wrote into a too-small buffer"
    );
    expect_eq!(
        sys::runtime_name(&mut buf[..n]),
        n as i32,
        "runtime_name(buf, {n})"
    );
    Ok(())
}

/// Case 5.
pub fn name_out_of_bounds() -> Outcome {
    let edge = Edge::grow();
    // SAFETY: the buffer is out of bounds on purpose; a conforming host touches nothing.
    let got = unsafe { raw::runtime_name(edge.near_end(), 16) };
    raw::untouched(&edge)?;
    expect_eq!(
        got,
        errno::INVALID_ARGUMENT,
        "runtime_name(<end of memory - 2>, 16)"
    );
    Ok(())
}

/// Case 6.
pub fn env_module() -> Outcome {
    use raw::env_module as env;
    // SAFETY: imports with the ABI's signatures; the buffers are valid for the call.
    let (major, stdout) = unsafe { (env::runtime_spec_major(), env::io_get_stdout()) };
    expect_eq!(major, 1, "env.runtime_spec_major()");
    expect_eq!(stdout, 1, "env.io_get_stdout()");
    let key = b"CONF_GREETING";
    let mut buf = [0u8; 64];
    // SAFETY: as above.
    let n = unsafe {
        env::env_get(
            raw::addr(key),
            raw::len(key),
            raw::addr_mut(&mut buf),
            raw::len(&buf),
        )
    };
    expect_eq!(n, 18, "env.env_get(CONF_GREETING)");
    expect_bytes!(&buf[..18], &b"hello, conformance"[..], "env.env_get value");
    Ok(())
}

/// Case 17.
pub fn log_error() -> Outcome {
    sys::log_write(log_level::ERROR, b"c17: an error line");
    Ok(())
}

/// Case 18.
pub fn log_warning() -> Outcome {
    sys::log_write(log_level::WARNING, b"c18: a warning line");
    Ok(())
}

/// Case 19.
pub fn log_info() -> Outcome {
    sys::log_write(log_level::INFO, b"c19: an info line");
    Ok(())
}

/// Case 20.
pub fn log_other_level() -> Outcome {
    sys::log_write(42, b"c20: level 42");
    sys::log_write(-1, b"c20: level -1");
    Ok(())
}

/// Case 21.
pub fn log_out_of_bounds() -> Outcome {
    let edge = Edge::grow();
    sys::log_write(log_level::INFO, b"c21: before");
    // SAFETY: out of bounds on purpose; log_write only reads, and a conforming host ignores it.
    unsafe {
        raw::log_write(log_level::INFO, edge.near_end(), 16);
        raw::log_write(log_level::INFO, -1, 2);
    }
    sys::log_write(log_level::INFO, b"c21: after");
    Ok(())
}

/// Case 40.
pub fn time_now() -> Outcome {
    let t = sys::time_now();
    ensure!(
        t > 1_600_000_000 && t < 4_102_444_800,
        "time_now() = {t} is not between 2020 and 2100"
    );
    Ok(())
}

/// Case 41.
pub fn time_now_ns() -> Outcome {
    let before = sys::time_now();
    let ns = sys::time_now_ns();
    let after = sys::time_now();
    let secs = ns / 1_000_000_000;
    ensure!(
        before <= secs + 1 && secs <= after + 1,
        "time_now_ns() = {ns} disagrees with time_now() = {before}..{after}"
    );
    Ok(())
}

/// Case 42.
pub fn monotonic() -> Outcome {
    let mut last = sys::time_monotonic_ns();
    ensure!(last >= 0, "time_monotonic_ns() = {last} is negative");
    for i in 0..1000 {
        let now = sys::time_monotonic_ns();
        ensure!(
            now >= last,
            "time_monotonic_ns() went back at call {i}: {last} -> {now}"
        );
        last = now;
    }
    Ok(())
}

/// Case 43.
pub fn msleep() -> Outcome {
    let start = sys::time_monotonic_ns();
    sys::runtime_msleep(50);
    let slept = sys::time_monotonic_ns() - start;
    ensure!(
        slept >= 50_000_000,
        "runtime_msleep(50) returned after {slept} ns"
    );
    Ok(())
}

/// Case 44.
pub fn msleep_zero() -> Outcome {
    let start = sys::time_monotonic_ns();
    sys::runtime_msleep(0);
    sys::runtime_msleep(-1000);
    let slept = sys::time_monotonic_ns() - start;
    ensure!(
        slept < 500_000_000,
        "runtime_msleep(0) and runtime_msleep(-1000) took {slept} ns"
    );
    Ok(())
}

/// Case 45.
pub fn random_i32() -> Outcome {
    let first = sys::random_i32();
    ensure!(
        (0..15).any(|_| sys::random_i32() != first),
        "random_i32() returned {first} 16 times"
    );
    Ok(())
}

/// Case 46.
pub fn random_i64() -> Outcome {
    let values: alloc::vec::Vec<i64> = (0..16).map(|_| sys::random_i64()).collect();
    ensure!(
        values.iter().any(|&v| v != values[0]),
        "random_i64() returned {} 16 times",
        values[0]
    );
    ensure!(
        values.iter().any(|&v| (v as u64) >> 32 != 0),
        "random_i64() never set the upper 32 bits: {values:?}"
    );
    Ok(())
}

/// Case 47.
pub fn random_fill() -> Outcome {
    let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
    expect_eq!(sys::random_fill(&mut a), 64, "random_fill(buf, 64)");
    expect_eq!(sys::random_fill(&mut b), 64, "random_fill(buf, 64)");
    ensure!(a != b, "two random_fill calls gave the same 64 bytes");
    ensure!(a.iter().any(|&x| x != 0), "random_fill left 64 zero bytes");
    Ok(())
}

/// Case 48.
pub fn random_fill_zero() -> Outcome {
    expect_eq!(sys::random_fill(&mut []), 0, "random_fill(buf, 0)");
    Ok(())
}

/// Case 49.
pub fn random_fill_out_of_bounds() -> Outcome {
    let edge = Edge::grow();
    // SAFETY: out of bounds on purpose; a conforming host touches nothing.
    let got = unsafe { raw::random_fill(edge.near_end(), 16) };
    raw::untouched(&edge)?;
    expect_eq!(
        got,
        errno::INVALID_ARGUMENT,
        "random_fill(<end of memory - 2>, 16)"
    );
    Ok(())
}
