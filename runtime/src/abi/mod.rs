//! ABI front-ends: they read guest memory through the one checked accessor, translate each call into a
//! [`Process`] call, and write results back. No capability decisions and no I/O happen here.

use wasmi::{Caller, IntoFunc, Linker};

use crate::host::HostState;
use crate::process::Process;

mod cwa;
mod dagger;
#[cfg(feature = "wasi")]
mod wasi;

/// Defines every front-end's functions in `linker`; returns the `(module, name)` of each.
pub(crate) fn link(linker: &mut Linker<HostState>) -> Vec<(&'static str, &'static str)> {
    let mut imports = Imports {
        linker,
        names: Vec::new(),
    };
    for module in [tern_abi::module::CWA, tern_abi::module::ENV] {
        cwa::link(&mut imports, module);
    }
    dagger::link(&mut imports, tern_abi::module::DAGGER);
    #[cfg(feature = "wasi")]
    wasi::link(&mut imports);
    imports.names
}

/// Records what is defined, so tests can hold the linker to the spec's function tables.
pub(crate) struct Imports<'a> {
    linker: &'a mut Linker<HostState>,
    names: Vec<(&'static str, &'static str)>,
}

impl Imports<'_> {
    /// Defines host function `module.name`.
    pub(crate) fn func<Params, Args>(
        &mut self,
        module: &'static str,
        name: &'static str,
        func: impl IntoFunc<HostState, Params, Args>,
    ) {
        // Names are unique by construction (they come from the spec's tables), so this cannot fail.
        if let Err(e) = self.linker.func_wrap(module, name, func) {
            unreachable!("duplicate host function {module}.{name}: {e}");
        }
        self.names.push((module, name));
    }
}

/// Counts a host call and gives the front-end the guest's memory and process together.
///
/// A module that exports no memory has an empty one: every non-empty buffer is then out of bounds.
pub(crate) fn with_memory<R>(
    caller: &mut Caller<'_, HostState>,
    f: impl FnOnce(&mut [u8], &mut Process) -> R,
) -> R {
    let state = caller.data_mut();
    state.process.stats.host_calls += 1;
    match state.memory {
        Some(memory) => {
            let (data, state) = memory.data_and_store_mut(caller);
            f(data, &mut state.process)
        }
        None => f(&mut [], &mut state.process),
    }
}

/// Counts a host call and gives the front-end the process.
pub(crate) fn process<'a>(caller: &'a mut Caller<'_, HostState>) -> &'a mut Process {
    let process = &mut caller.data_mut().process;
    process.stats.host_calls += 1;
    process
}

/// An `i32` result: the value, or the error's ABI number.
pub(crate) fn code(result: crate::Result<i32>) -> i32 {
    result.unwrap_or_else(|e| e.code())
}

/// A byte count as an ABI result; buffers are capped at `i32::MAX` so counts always fit.
pub(crate) fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Limits a guest buffer to `i32::MAX` bytes, so the count returned for it is never negative.
pub(crate) fn capped<T>(buf: &mut [T]) -> &mut [T] {
    let n = buf.len().min(i32::MAX as usize);
    &mut buf[..n]
}

/// Sleeps `ms` milliseconds, or traps with [`Deadline`](crate::trap::Deadline) if the run's deadline comes first, or with
/// [`Interrupted`](crate::trap::Interrupted) if the run's interrupt is triggered.
pub(crate) fn sleep(caller: &mut Caller<'_, HostState>, ms: u64) -> Result<(), wasmi::Error> {
    let wanted = std::time::Duration::from_millis(ms);
    let process = &caller.data().process;
    let left = process
        .deadline()
        .map(|deadline| deadline.saturating_duration_since(std::time::Instant::now()));
    let wait = left.map_or(wanted, |left| wanted.min(left));
    let interrupted = match process.interrupt() {
        Some(interrupt) => interrupt.sleep(wait),
        None => {
            std::thread::sleep(wait);
            false
        }
    };
    if interrupted {
        return Err(wasmi::Error::host(crate::trap::Interrupted));
    }
    if left.is_some_and(|left| wanted >= left) {
        return Err(wasmi::Error::host(crate::trap::Deadline));
    }
    Ok(())
}
