//! What a run's wasmi store holds: the guest's [`Process`], its memory once instantiated, and the
//! memory limiter. The engine creates it and runs guest code on it; the ABI front-ends read it in
//! every host call. It sits below both, so neither imports the other's internals (the engine only
//! asks [`crate::abi`] to link its functions).

use wasmi::Memory;

use crate::process::Process;

mod limiter;

pub(crate) use limiter::MemoryLimiter;
pub use limiter::RefusedGrowth;

/// What the wasmi store holds for one run: the process and what the engine needs beside it.
pub struct HostState {
    /// The guest's process.
    pub process: Process,
    /// The guest's exported `memory`, once instantiated (before its start function runs).
    pub(crate) memory: Option<Memory>,
    /// The store's resource limiter (memory pages), which also records the peak and refusals.
    pub(crate) limiter: MemoryLimiter,
}
