//! Module `cwa` (and `env`): the CommonWA stream ABI, version 1.x. See abi/ABI.md §3.

use std::time::{SystemTime, UNIX_EPOCH};

use tern_abi::{errno, func, handle};
use wasmi::Caller;

use super::{capped, code, count, process, sleep, with_memory, Imports};
use crate::host::HostState;
use crate::memory;
use crate::scheme::LogLevel;
use crate::Error;

type C<'a> = Caller<'a, HostState>;

pub(super) fn link(imports: &mut Imports<'_>, m: &'static str) {
    imports.func(m, func::LOG_WRITE, log_write);
    imports.func(m, func::ENV_GET, env_get);
    imports.func(m, func::RUNTIME_EXIT, runtime_exit);
    imports.func(m, func::RUNTIME_SPEC_MAJOR, |mut c: C| {
        process(&mut c);
        tern_abi::SPEC_MAJOR
    });
    imports.func(m, func::RUNTIME_SPEC_MINOR, |mut c: C| {
        process(&mut c);
        tern_abi::SPEC_MINOR
    });
    imports.func(m, func::RUNTIME_NAME, runtime_name);
    imports.func(m, func::RUNTIME_MSLEEP, |mut c: C, ms: i32| {
        process(&mut c);
        sleep(&mut c, ms.max(0) as u64)
    });
    imports.func(m, func::STARTUP_ARG_LEN, |mut c: C| {
        count(process(&mut c).args().len())
    });
    imports.func(m, func::STARTUP_ARG_AT, startup_arg_at);
    imports.func(m, func::TIME_NOW, |mut c: C| {
        process(&mut c);
        unix_time().as_secs() as i64
    });
    imports.func(m, func::TIME_NOW_NS, |mut c: C| {
        process(&mut c);
        i64::try_from(unix_time().as_nanos()).unwrap_or(i64::MAX)
    });
    imports.func(m, func::TIME_MONOTONIC_NS, |mut c: C| {
        let elapsed = process(&mut c).started().elapsed();
        i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX)
    });
    imports.func(m, func::RANDOM_I32, |mut c: C| {
        random_bytes(process(&mut c), func::RANDOM_I32).map(i32::from_le_bytes)
    });
    imports.func(m, func::RANDOM_I64, |mut c: C| {
        random_bytes(process(&mut c), func::RANDOM_I64).map(i64::from_le_bytes)
    });
    imports.func(m, func::RANDOM_FILL, random_fill);
    imports.func(m, func::RESOURCE_OPEN, resource_open);
    imports.func(m, func::RESOURCE_READ, resource_read);
    imports.func(m, func::RESOURCE_WRITE, resource_write);
    imports.func(m, func::RESOURCE_FLUSH, |mut c: C, h: i32| {
        code(process(&mut c).flush(h).map(|()| 0))
    });
    imports.func(m, func::RESOURCE_CLOSE, |mut c: C, h: i32| {
        // Closing a bad handle does nothing (ABI.md); a failed final flush has no one to report to.
        let _ = process(&mut c).close(h);
    });
    imports.func(m, func::IO_GET_STDIN, |mut c: C| {
        process(&mut c);
        handle::STDIN
    });
    imports.func(m, func::IO_GET_STDOUT, |mut c: C| {
        process(&mut c);
        handle::STDOUT
    });
    imports.func(m, func::IO_GET_STDERR, |mut c: C| {
        process(&mut c);
        handle::STDERR
    });
}

fn log_write(mut c: C, level: i32, ptr: i32, len: i32) {
    with_memory(&mut c, |mem, p| {
        // A bad buffer is ignored: log_write has no result to report it with.
        if let Ok(text) = memory::slice(mem, ptr, len) {
            p.log(LogLevel::from_abi(level), text);
        }
    });
}

fn env_get(mut c: C, key_ptr: i32, key_len: i32, val_ptr: i32, val_len: i32) -> i32 {
    code(with_memory(&mut c, |mem, p| {
        let key = memory::str(mem, key_ptr, key_len)?;
        let value = p
            .env()
            .get(key)
            .ok_or_else(|| Error::NotFound(format!("no environment variable {key:?}")))?
            .clone();
        memory::write_sized(mem, val_ptr, val_len, value.as_bytes())
    }))
}

fn runtime_exit(mut c: C, status: i32) -> Result<(), wasmi::Error> {
    process(&mut c);
    Err(wasmi::Error::i32_exit(status))
}

fn runtime_name(mut c: C, ptr: i32, len: i32) -> i32 {
    code(with_memory(&mut c, |mem, _| {
        let buf = memory::slice_mut(mem, ptr, len)?;
        let name = tern_abi::RUNTIME_NAME.as_bytes();
        let dst = buf
            .get_mut(..name.len())
            .ok_or_else(|| Error::invalid("runtime_name: buffer too small"))?;
        dst.copy_from_slice(name);
        Ok(count(name.len()))
    }))
}

/// Argument `i`; out of range is -2, invalid argument, as the CommonWA spec has it (Olin's
/// docs/cwa-spec/ns/startup.md), so Olin binaries run unmodified.
fn startup_arg_at(mut c: C, i: i32, ptr: i32, len: i32) -> i32 {
    code(with_memory(&mut c, |mem, p| {
        let n = p.args().len();
        let arg = usize::try_from(i)
            .ok()
            .and_then(|i| p.args().get(i))
            .ok_or_else(|| Error::invalid(format!("no argument {i} (the guest has {n})")))?;
        memory::write_sized(mem, ptr, len, arg.as_bytes())
    }))
}

fn random_fill(mut c: C, ptr: i32, len: i32) -> i32 {
    code(with_memory(&mut c, |mem, p| {
        let buf = capped(memory::slice_mut(mem, ptr, len)?);
        p.random_fill(buf)?;
        Ok(count(buf.len()))
    }))
}

fn resource_open(mut c: C, ptr: i32, len: i32) -> i32 {
    code(with_memory(&mut c, |mem, p| {
        let url = memory::str(mem, ptr, len)?.to_owned();
        p.open(&url)
    }))
}

fn resource_read(mut c: C, h: i32, ptr: i32, len: i32) -> i32 {
    match read(&mut c, h, ptr, len) {
        Ok(0) if len != 0 => errno::EOF,
        other => code(other),
    }
}

/// Reads from a handle into guest memory; shared with Dagger, which reports the end as 0.
pub(super) fn read(c: &mut C, h: i32, ptr: i32, len: i32) -> crate::Result<i32> {
    with_memory(c, |mem, p| {
        let buf = capped(memory::slice_mut(mem, ptr, len)?);
        Ok(count(p.read(h, buf)?))
    })
}

/// Writes guest memory to a handle; Dagger's `write` is the same call.
pub(super) fn resource_write(mut c: C, h: i32, ptr: i32, len: i32) -> i32 {
    code(with_memory(&mut c, |mem, p| {
        let buf = capped(memory::slice_mut(mem, ptr, len)?);
        Ok(count(p.write(h, buf)?))
    }))
}
fn unix_time() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Random bytes for `random_i32`/`random_i64`; a broken OS generator traps rather than return zeros.
/// Random bytes for `random_i32`/`random_i64`, whose bare number has no room for an error: a
/// denial (or a failing source) traps, naming the call and the reason.
fn random_bytes<const N: usize>(
    p: &mut crate::Process,
    call: &str,
) -> Result<[u8; N], wasmi::Error> {
    let mut bytes = [0u8; N];
    p.random_fill(&mut bytes)
        .map_err(|e| wasmi::Error::new(format!("{call}: {e}")))?;
    Ok(bytes)
}
