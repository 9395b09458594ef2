//! The wasmi engine: set up once, modules compiled once, a fresh store and instance per run.
//!
//! Limits are enforced here: fuel (a budget of instructions), memory pages (a resource limiter), and the
//! wall clock and [`Interrupt`] — the guest runs in fuel slices of about a millisecond and both are
//! checked between slices, because wasmi can resume a call after it runs out of fuel. A `(start)`
//! function runs the same way (see [`crate::module`]), after the guest's memory is known to the host.

use std::sync::Arc;
use std::time::Instant;

use wasmi::errors::ErrorKind;
use wasmi::{CompilationMode, Config, CustomFuelCosts, Engine, Linker, Store, Val};

use crate::interrupt::Interrupt;
use crate::module::{self, Module, START_EXPORT};
use crate::process::Process;
use crate::scheme::Stdio;
use crate::trap::Trap;
use crate::{abi, Error, Policy};

mod meter;
mod outcome;
mod stack_bound;

pub use crate::host::RefusedGrowth;
use crate::host::{HostState, MemoryLimiter};
use meter::FuelMeter;
pub use outcome::{Outcome, Termination};
pub use stack_bound::{StackBoundExceeded, GUEST_STACK_SIZE, MAX_PREPAID};

/// The engine and linker, shared by every run: set up once, then compile and run from any thread.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    imports: Vec<(&'static str, &'static str)>,
}

/// When the runtime validates a module's function bodies. Either way the rest of the module (types,
/// imports, exports, data and element segments) is checked at compile, and each function is
/// translated to wasmi's bytecode on its first call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Validation {
    /// Validate every function body at compile: an invalid module is refused before anything runs.
    /// For modules compiled once and run many times (`tern serve`, `--check`).
    #[default]
    AtCompile,
    /// Validate each function body on its first call, with its translation: compile does a tenth of
    /// the work (a Rust std hello: 0.35M instructions instead of 3.9M), functions never called are
    /// never validated. An invalid body is found only if it is called: the run then ends with
    /// [`Termination::Trapped`], whose message says the body is invalid, after whatever the guest did
    /// before. For one run per compile (`tern run`).
    OnFirstCall,
}

impl Runtime {
    /// Sets up the engine with fuel metering and links every ABI front-end; function bodies are
    /// validated at compile ([`Validation::AtCompile`]).
    pub fn new() -> Self {
        Self::with_validation(Validation::AtCompile)
    }

    /// Like [`Runtime::new`], validating function bodies when `validation` says.
    pub fn with_validation(validation: Validation) -> Self {
        let mut config = Config::default();
        config.compilation_mode(match validation {
            Validation::AtCompile => CompilationMode::LazyTranslation,
            Validation::OnFirstCall => CompilationMode::Lazy,
        });
        config.consume_fuel(true);
        // The host stack bound counts on this depth (stack_bound.rs); it is wasmi's default.
        config.set_max_recursion_depth(stack_bound::MAX_CALL_DEPTH);
        // wasmi translates a function on its first call and, by default, charges that to the guest's
        // fuel. Such a charge cannot be resumed: when it exceeds the fuel of a slice (a 300 KB
        // function costs ~2.7M) the call fails as "out of fuel" with nothing used. Fuel measures the
        // guest's own work, so translation is free here; it is bounded by the module's size and done
        // once per module, and fuel_used is then the same on the first run of a module as on later ones.
        config.fuel_cost(CustomFuelCosts {
            bytes_copied_per_fuel: 64, // wasmi's default for memory.copy/fill/grow and table ops
            fuel_per_bytes_translated: 0,
            fuel_per_bytes_validated: 0,
        });
        let engine = Engine::new(&config);
        let mut linker = Linker::new(&engine);
        let imports = abi::link(&mut linker);
        Runtime {
            engine,
            linker,
            imports,
        }
    }

    /// The `(module, name)` of every host function the runtime provides.
    pub fn imports(&self) -> &[(&'static str, &'static str)] {
        &self.imports
    }

    /// Compiles a module from WebAssembly binary bytes (or text, with the `wat` feature), checks its
    /// imports and resolves its entry point: the first of `_start`, `cwa_main`, `main` it exports.
    /// A module with a function that could keep more host stack frames than
    /// [`GUEST_STACK_SIZE`] allows is refused with [`Error::StackBound`] (see [`MAX_PREPAID`]).
    pub fn compile(&self, bytes: &[u8]) -> Result<Module, Error> {
        self.compile_entry(bytes, None)
    }

    /// Like [`Runtime::compile`], with the exported function `entry` as the entry point.
    pub fn compile_with_entry(&self, bytes: &[u8], entry: &str) -> Result<Module, Error> {
        self.compile_entry(bytes, Some(entry))
    }

    fn compile_entry(&self, bytes: &[u8], entry: Option<&str>) -> Result<Module, Error> {
        let binary = to_binary(bytes)?;
        let rewritten = module::export_start(&binary);
        let has_start = rewritten.is_some();
        let wasm = wasmi::Module::new(&self.engine, rewritten.as_deref().unwrap_or(&binary))
            .map_err(|e| Error::InvalidModule(format!("invalid module: {e}")))?;
        stack_bound::check(&binary).map_err(|refusal| match refusal {
            stack_bound::Refusal::Exceeded(e) => Error::StackBound(e),
            stack_bound::Refusal::Malformed(e) => {
                Error::InvalidModule(format!("invalid module: {e}"))
            }
        })?;
        self.check_imports(&wasm)?;
        Module::new(wasm, entry, has_start)
    }

    /// Links `wasm` in a throwaway store whose limiter refuses every memory and table: the linker
    /// resolves and type-checks every import first, then instantiation stops before allocating.
    fn check_imports(&self, wasm: &wasmi::Module) -> Result<(), Error> {
        let process = Process::new("", Vec::new(), Arc::new(Policy::new()), Stdio::null());
        let mut store = Store::new(
            &self.engine,
            HostState {
                process,
                memory: None,
                limiter: MemoryLimiter::probe(),
            },
        );
        store.limiter(|state| &mut state.limiter);
        use wasmi::errors::InstantiationError as I;
        match self.linker.instantiate_and_start(&mut store, wasm) {
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Linker(_)
                        | ErrorKind::Instantiation(
                            I::ImportTypeMismatch { .. }
                                | I::FuncTypeMismatch { .. }
                                | I::GlobalTypeMismatch { .. }
                                | I::TableTypeMismatch { .. }
                                | I::MemoryTypeMismatch { .. }
                        )
                ) =>
            {
                Err(Error::UnknownImport(format!(
                    "unknown import: {e} (tern provides functions of the cwa, env, dagger and \
                     WASI preview1 modules)"
                )))
            }
            _ => Ok(()),
        }
    }

    /// Runs `module` in a fresh instance: its start function if it has one, then its entry point.
    pub fn run(&self, module: &Module, process: Process) -> Result<Outcome, Error> {
        self.run_inner(module, process, None)
    }

    /// Like [`Runtime::run`]; triggering `interrupt` (from any thread) ends the run within a few
    /// milliseconds as [`Termination::Interrupted`]. `module` must come from this runtime.
    pub fn run_with(
        &self,
        module: &Module,
        process: Process,
        interrupt: &Interrupt,
    ) -> Result<Outcome, Error> {
        self.run_inner(module, process, Some(interrupt))
    }

    /// Runs with the embedder's interrupt, if any. Without one the process has none (a run
    /// allocates nothing for it) and the meter checks [`Interrupt::never`].
    fn run_inner(
        &self,
        module: &Module,
        mut process: Process,
        interrupt: Option<&Interrupt>,
    ) -> Result<Outcome, Error> {
        // wasmi panics on a module of another engine; an embedder's mix-up is an error instead.
        if !Engine::same(module.wasmi().engine(), &self.engine) {
            return Err(Error::Instantiate(
                "cannot instantiate: the module was compiled by another Runtime".into(),
            ));
        }
        let limits = process.limits().clone();
        let started = Instant::now();
        // A timeout too large for the clock (`--timeout 10000000000000000000`) is no deadline at all.
        let deadline = limits.timeout.and_then(|t| started.checked_add(t));
        process.start(started, deadline, interrupt.cloned());
        let interrupt: &Interrupt = match interrupt {
            Some(interrupt) => interrupt,
            None => Interrupt::never(),
        };
        let state = HostState {
            process,
            memory: None,
            limiter: MemoryLimiter::new(limits.max_memory_pages),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        let mut meter = FuelMeter::new(limits.fuel);
        let finish = |store, termination, meter: &FuelMeter| {
            Ok(finish(store, termination, meter.used, started))
        };

        // No guest code runs here: the start function was turned into an export at compile time.
        let instance = match meter.run_whole(&mut store, |store| {
            self.linker.instantiate_and_start(store, module.wasmi())
        }) {
            Ok(instance) => instance,
            Err(error) => {
                if let Some(termination) = meter::classify(&error, &store, &meter) {
                    return finish(store, termination, &meter);
                }
                if let Some(refused) = store.data().limiter.refused {
                    // The module's initial memory is larger than the limit: it cannot start.
                    let trap = Trap::MemoryLimit {
                        requested_pages: refused.largest_request_pages,
                        limit_pages: refused.limit_pages,
                    };
                    return finish(store, Termination::Trapped(trap), &meter);
                }
                return Err(Error::Instantiate(format!("cannot instantiate: {error}")));
            }
        };
        // Host calls from the start function on see the guest's memory.
        store.data_mut().memory = instance.get_memory(&store, "memory");

        if module.has_start() {
            let start = instance
                .get_func(&store, START_EXPORT)
                .ok_or_else(|| Error::Instantiate("the start function is missing".into()))?;
            if let Some(termination) = meter.run_sliced(&mut store, interrupt, start, &mut []) {
                return finish(store, termination, &meter);
            }
        }
        let entry = instance
            .get_func(&store, module.entry())
            .ok_or_else(|| Error::Entry(format!("no exported function {:?}", module.entry())))?;
        let mut outputs = [Val::I32(0)];
        let outputs = &mut outputs[..usize::from(module.entry_returns_status())];
        let termination = meter
            .run_sliced(&mut store, interrupt, entry, outputs)
            .unwrap_or(Termination::Exited(match outputs.first() {
                Some(Val::I32(status)) => *status,
                _ => 0,
            }));
        finish(store, termination, &meter)
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::new()
    }
}

fn finish(
    store: Store<HostState>,
    termination: Termination,
    fuel_used: u64,
    started: Instant,
) -> Outcome {
    let state = store.into_data();
    let mut process = state.process;
    process.close_all();
    // A guest whose wait was cut short by the interrupt or the deadline was stopped, whatever it
    // did with the error it got.
    let termination = match termination {
        Termination::Exited(_) | Termination::Trapped(_) if process.was_interrupted() => {
            Termination::Interrupted
        }
        Termination::Exited(_) if process.ran_out_of_time() => timed_out(&process),
        other => other,
    };
    Outcome {
        termination,
        fuel_used,
        peak_memory_pages: state.limiter.peak_pages,
        refused_growth: state.limiter.refused,
        wall: started.elapsed(),
        process,
    }
}

fn timed_out(process: &Process) -> Termination {
    Termination::TimedOut(process.limits().timeout.unwrap_or_default())
}

/// Accepts `\0asm` binaries as they are and, with the `wat` feature, compiles WebAssembly text.
fn to_binary(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, Error> {
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes.into());
    }
    #[cfg(feature = "wat")]
    {
        // Bytes that are not UTF-8 were never meant as text: a broken or foreign binary is more
        // likely, and the text parser's complaint about UTF-8 would not say so.
        if std::str::from_utf8(bytes).is_err() {
            return Err(Error::InvalidModule(
                "not a WebAssembly module: not a binary (it does not start with \\0asm) and not \
                 text (it is not UTF-8)"
                    .into(),
            ));
        }
        wat::parse_bytes(bytes)
            .map_err(|e| Error::InvalidModule(format!("invalid WebAssembly text: {e}")))
    }
    #[cfg(not(feature = "wat"))]
    {
        Err(Error::InvalidModule(
            "not a WebAssembly binary (this tern was built without .wat support)".into(),
        ))
    }
}
