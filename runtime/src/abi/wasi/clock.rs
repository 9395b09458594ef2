//! Clocks, randomness and the process: `clock_res_get`, `clock_time_get`, `random_get`,
//! `proc_exit`, `proc_raise`, `sched_yield`.
//!
//! The monotonic clock counts from the process's start, as the stream ABI's `time_monotonic_ns`
//! does, so both front-ends agree on it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{bytes_mut, call, errno, from_tern, put_u64, Errno, Imports, C, R};
use crate::abi::process;

/// `clockid` values.
pub(super) const REALTIME: u32 = 0;
pub(super) const MONOTONIC: u32 = 1;
const PROCESS_CPUTIME: u32 = 2;
const THREAD_CPUTIME: u32 = 3;

pub(super) fn link(imports: &mut Imports<'_>, m: &'static str) {
    imports.func(m, "clock_res_get", |mut c: C, id: i32, out: i32| {
        call(&mut c, |mem, _| {
            known(id as u32)?;
            // Both clocks are read with nanosecond resolution (as wasmtime reports).
            put_u64(mem, out as u32, 1)
        })
    });
    imports.func(
        m,
        "clock_time_get",
        |mut c: C, id: i32, _precision: i64, out: i32| {
            call(&mut c, |mem, p| {
                let now = now(id as u32, p)?;
                put_u64(mem, out as u32, now)
            })
        },
    );
    imports.func(m, "random_get", |mut c: C, buf: i32, len: i32| {
        call(&mut c, |mem, p| {
            let buf = bytes_mut(mem, buf as u32, len as u32)?;
            p.random_fill(buf).map_err(|e| from_tern(&e))
        })
    });
    imports.func(
        m,
        "proc_exit",
        |mut c: C, status: i32| -> Result<(), wasmi::Error> {
            process(&mut c);
            // The stream ABI's runtime_exit path: the status becomes the run's exit status.
            Err(wasmi::Error::i32_exit(status))
        },
    );
    imports.func(m, "proc_raise", |mut c: C, _sig: i32| {
        process(&mut c);
        // Signals are not supported (as in wasmtime).
        i32::from(errno::NOTSUP)
    });
    imports.func(m, "sched_yield", |mut c: C| {
        process(&mut c);
        std::thread::yield_now();
        i32::from(errno::SUCCESS)
    });
}

/// `EINVAL` for an id that is no clock; `EBADF` for the CPU-time clocks, which are not provided
/// (as wasmtime).
fn known(id: u32) -> R {
    match id {
        REALTIME | MONOTONIC => Ok(()),
        PROCESS_CPUTIME | THREAD_CPUTIME => Err(errno::BADF),
        _ => Err(errno::INVAL),
    }
}

/// The current time of clock `id` in nanoseconds.
pub(super) fn now(id: u32, p: &crate::Process) -> Result<u64, Errno> {
    known(id)?;
    let since: Duration = if id == REALTIME {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    } else {
        p.started().elapsed()
    };
    u64::try_from(since.as_nanos()).map_err(|_| errno::OVERFLOW)
}
