//! Running guest code in fuel slices: the budget is accounted across slices, and between two slices
//! the deadline and the [`Interrupt`] are checked.
//!
//! wasmi can resume a call after it runs out of fuel, so a slice ends the interpretation for a moment
//! without ending the call. Slices are sized by how long they take: a slice that ran well under
//! [`SLICE_TARGET`] doubles, one well over it halves, within [`MIN_SLICE`]..[`MAX_SLICE`]. An
//! interrupt or a deadline is therefore seen within a few milliseconds on any machine and in any
//! build profile. [`MAX_SLICE`] also bounds the host stack a slice can take (stack_bound.rs).

use std::time::{Duration, Instant};

use wasmi::{ResumableCall, Store, Val};

use super::HostState;
use crate::interrupt::Interrupt;
use crate::trap::{Deadline, Interrupted, Trap};
use crate::Termination;

/// How long a slice should take.
const SLICE_TARGET: Duration = Duration::from_millis(1);
/// Fuel of the first slice.
const FIRST_SLICE: u64 = MAX_SLICE;
/// Slice bounds: small enough to stay responsive, large enough that slicing costs little.
const MIN_SLICE: u64 = 10_000;
/// The most fuel a slice is given, unless one charge alone needs more. Not for responsiveness (an
/// optimised build runs it in well under a millisecond) but for the host stack: under wasmi's
/// tail-call dispatch every `memory.grow`, `table.grow` and `call_indirect` paid in a slice may keep
/// a host stack frame until the slice ends, so this bounds them (see stack_bound.rs, which bounds
/// the rest, and `GUEST_STACK_SIZE`). Slicing this finely costs about 1% (BENCHMARKS.md).
pub(super) const MAX_SLICE: u64 = 32_768;

/// Accounts fuel across slices against the budget.
pub(super) struct FuelMeter {
    budget: Option<u64>,
    pub(super) used: u64,
    slice: u64,
}

impl FuelMeter {
    pub(super) fn new(budget: Option<u64>) -> Self {
        FuelMeter {
            budget,
            used: 0,
            slice: FIRST_SLICE,
        }
    }

    fn remaining(&self) -> u64 {
        self.budget
            .map_or(u64::MAX, |b| b.saturating_sub(self.used))
    }

    pub(super) fn out_of_fuel(&self) -> Termination {
        Termination::Trapped(Trap::OutOfFuel {
            budget: self.budget,
        })
    }

    /// Runs `f` (which runs no guest code that could be sliced) with the whole remaining budget.
    pub(super) fn run_whole<R>(
        &mut self,
        store: &mut Store<HostState>,
        f: impl FnOnce(&mut Store<HostState>) -> Result<R, wasmi::Error>,
    ) -> Result<R, wasmi::Error> {
        let given = self.remaining();
        store.set_fuel(given)?;
        let result = f(store);
        self.used += given - store.get_fuel().unwrap_or(0);
        result
    }

    /// Calls `func`, resuming after each fuel slice until it ends, traps, runs out of budget or time,
    /// or is interrupted. `None` when it returned; the termination otherwise.
    pub(super) fn run_sliced(
        &mut self,
        store: &mut Store<HostState>,
        interrupt: &Interrupt,
        func: wasmi::Func,
        outputs: &mut [Val],
    ) -> Option<Termination> {
        let mut needed = 1;
        let mut call: Option<wasmi::ResumableCallOutOfFuel> = None;
        loop {
            if interrupt.is_triggered() {
                return Some(Termination::Interrupted);
            }
            if store
                .data()
                .process
                .deadline()
                .is_some_and(|deadline| Instant::now() >= deadline)
            {
                return Some(super::timed_out(&store.data().process));
            }
            let remaining = self.remaining();
            if remaining < needed {
                return Some(self.out_of_fuel());
            }
            // A cost larger than a slice (a big memory.copy, a block of more than MAX_SLICE
            // instructions) gets what it needs in one go, and that charge then takes all of it.
            let given = remaining.min(self.slice.max(needed));
            if let Err(e) = store.set_fuel(given) {
                return Some(Termination::Trapped(Trap::Other(format!("fuel: {e}"))));
            }
            let slice_started = Instant::now();
            let result = match call.take() {
                None => func.call_resumable(&mut *store, &[], outputs),
                Some(paused) => paused.resume(&mut *store, outputs),
            };
            self.used += given - store.get_fuel().unwrap_or(0);
            match result {
                Ok(ResumableCall::Finished) => return None,
                Ok(ResumableCall::OutOfFuel(paused)) => {
                    self.adapt(slice_started.elapsed());
                    needed = paused.required_fuel().max(1);
                    call = Some(paused);
                }
                Ok(ResumableCall::HostTrap(trap)) => {
                    return Some(termination(&trap.into_host_error(), store, self))
                }
                Err(error) => return Some(termination(&error, store, self)),
            }
        }
    }

    /// Sizes the next slice from how long the last full one took.
    fn adapt(&mut self, took: Duration) {
        if took < SLICE_TARGET / 2 {
            self.slice = (self.slice * 2).min(MAX_SLICE);
        } else if took > SLICE_TARGET * 2 {
            self.slice = (self.slice / 2).max(MIN_SLICE);
        }
    }
}

/// The termination for an error that ended running guest code.
fn termination(error: &wasmi::Error, store: &Store<HostState>, meter: &FuelMeter) -> Termination {
    classify(error, store, meter).unwrap_or_else(|| match error.kind() {
        wasmi::errors::ErrorKind::Host(_) | wasmi::errors::ErrorKind::Message(_) => {
            Termination::Trapped(Trap::Host(error.to_string()))
        }
        // A body validated on its first call (Validation::OnFirstCall) and found invalid.
        wasmi::errors::ErrorKind::Wasm(_) => {
            Termination::Trapped(Trap::InvalidFunction(error.to_string()))
        }
        _ => Termination::Trapped(Trap::Other(error.to_string())),
    })
}

/// Turns a wasmi error that ended a running guest into a termination; `None` if it is a setup error.
pub(super) fn classify(
    error: &wasmi::Error,
    store: &Store<HostState>,
    meter: &FuelMeter,
) -> Option<Termination> {
    if let Some(status) = error.i32_exit_status() {
        return Some(Termination::Exited(status));
    }
    if error.downcast_ref::<Interrupted>().is_some() {
        return Some(Termination::Interrupted);
    }
    if error.downcast_ref::<Deadline>().is_some() {
        return Some(super::timed_out(&store.data().process));
    }
    let code = error.as_trap_code()?;
    Some(Termination::Trapped(Trap::from_code(code, meter.budget)))
}
