//! The wasmi engine: set up once, modules compiled once, a fresh store and instance per run.
//!
//! Limits are enforced here: fuel (a budget of instructions), memory pages (a resource limiter), and the
//! wall clock — the guest runs in fuel slices and the clock is checked between slices, because wasmi can
//! resume a call after it runs out of fuel. An infinite loop therefore stops within one slice of its
//! deadline.

use std::fmt;
use std::time::{Duration, Instant};

use wasmi::{
    Config, CustomFuelCosts, Engine, Instance, Linker, Memory, Module, ResourceLimiter,
    ResumableCall, Store, Val, ValType,
};
use wasmi_core::LimiterError;

use crate::abi;
use crate::process::Process;

/// Fuel per slice: a few milliseconds of interpretation, so timeouts are checked often enough.
const FUEL_SLICE: u64 = 2_000_000;
/// Bytes in a WebAssembly page.
const PAGE: usize = 65536;

/// What the wasmi store holds for one run: the process and what the engine needs beside it.
pub struct HostState {
    /// The guest's process.
    pub process: Process,
    /// The guest's exported `memory`, once instantiated.
    pub(crate) memory: Option<Memory>,
    limiter: MemoryLimiter,
}

/// Caps memory growth at the policy's page limit, records the peak and every refused growth.
struct MemoryLimiter {
    max_pages: Option<u32>,
    peak_pages: u64,
    refused: Option<RefusedGrowth>,
}

/// `memory.grow` calls the page limit refused: the guest saw -1, as the WebAssembly spec and wasmtime
/// do, so a C `malloc` returns NULL and the program may recover; the user still learns of it here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusedGrowth {
    /// How many `memory.grow` calls were refused.
    pub count: u64,
    /// The largest size, in 64 KiB pages, the guest asked for.
    pub largest_request_pages: u64,
    /// The limit that refused them, in 64 KiB pages (`Limits::max_memory_pages`).
    pub limit_pages: u32,
}

impl fmt::Display for RefusedGrowth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let times = match self.count {
            1 => "once".to_string(),
            n => format!("{n} times"),
        };
        write!(
            f,
            "memory limit: memory.grow refused {times} (the guest asked for up to {} pages, \
             the limit is {})",
            self.largest_request_pages, self.limit_pages
        )
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, LimiterError> {
        let pages = (desired / PAGE) as u64;
        if let Some(max) = self.max_pages {
            if pages > u64::from(max) {
                let refused = self.refused.get_or_insert(RefusedGrowth {
                    count: 0,
                    largest_request_pages: 0,
                    limit_pages: max,
                });
                refused.count += 1;
                refused.largest_request_pages = refused.largest_request_pages.max(pages);
                // `memory.grow` returns -1 (an initial memory past the limit fails instantiation).
                return Ok(false);
            }
        }
        self.peak_pages = self.peak_pages.max(pages);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, LimiterError> {
        // Tables cost host memory too; cap them at a generous fixed size.
        Ok(desired <= 1 << 20)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        // Enough for any toolchain's output; bounded so a module cannot declare thousands.
        16
    }

    fn memories(&self) -> usize {
        1
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Termination {
    /// The guest finished or exited with this status.
    Exited(i32),
    /// The guest trapped; the reason is for people.
    Trapped(String),
    /// The guest ran past its wall-clock timeout.
    TimedOut(Duration),
}

impl Termination {
    /// The exit status `tern run` reports for this termination.
    pub fn exit_code(&self) -> i32 {
        match self {
            Termination::Exited(code) => *code,
            Termination::Trapped(_) => tern_abi::exit_status::TRAP,
            Termination::TimedOut(_) => tern_abi::exit_status::TIMEOUT,
        }
    }
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Termination::Exited(code) => write!(f, "exited with status {code}"),
            Termination::Trapped(reason) => f.write_str(reason),
            Termination::TimedOut(limit) => write!(f, "timeout: ran longer than {limit:?}"),
        }
    }
}

/// What a run produced: how it ended, its figures, and the process (for stats and captured output).
pub struct Outcome {
    /// How the run ended.
    pub termination: Termination,
    /// Fuel (roughly, instructions) the guest used.
    pub fuel_used: u64,
    /// The largest memory the guest had, in 64 KiB pages.
    pub peak_memory_pages: u64,
    /// The `memory.grow` calls the page limit refused, if any.
    pub refused_growth: Option<RefusedGrowth>,
    /// Wall-clock time from instantiation to the end.
    pub wall: Duration,
    /// The process after the run, with every handle closed.
    pub process: Process,
}

/// Why a module could not be compiled or started at all (as opposed to a guest that ran and failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError(pub String);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LoadError {}

/// The engine and linker, shared by every run.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    imports: Vec<(&'static str, &'static str)>,
}

impl Runtime {
    /// Sets up the engine with fuel metering and links every ABI front-end.
    pub fn new() -> Self {
        let mut config = Config::default();
        config.consume_fuel(true);
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

    /// Compiles a module from WebAssembly binary bytes (or text, with the `wat` feature).
    pub fn compile(&self, bytes: &[u8]) -> Result<Module, LoadError> {
        let binary = to_binary(bytes)?;
        Module::new(&self.engine, &binary[..])
            .map_err(|e| LoadError(format!("invalid module: {e}")))
    }

    /// Runs `module` in a fresh instance: `entry` if given, else the first of `_start`, `cwa_main`, `main`.
    pub fn run(
        &self,
        module: &Module,
        mut process: Process,
        entry: Option<&str>,
    ) -> Result<Outcome, LoadError> {
        let limits = process.policy().limits.clone();
        let started = Instant::now();
        // A timeout too large for the clock (`--timeout 10000000000000000000`) is no deadline at all.
        process.set_deadline(limits.timeout.and_then(|t| started.checked_add(t)));
        let state = HostState {
            process,
            memory: None,
            limiter: MemoryLimiter {
                max_pages: limits.max_memory_pages,
                peak_pages: 0,
                refused: None,
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        let mut meter = FuelMeter {
            budget: limits.fuel,
            used: 0,
        };

        // A start function runs inside instantiation and cannot be sliced; it gets the whole budget.
        let instance = match meter.run_unsliced(&mut store, |store| {
            self.linker.instantiate_and_start(store, module)
        }) {
            Ok(instance) => instance,
            Err(error) => {
                if let Some(termination) = classify(&error, &store, &meter) {
                    return Ok(finish(store, termination, &meter, started));
                }
                if let Some(refused) = store.data().limiter.refused {
                    // The module's initial memory is larger than the limit: it cannot start.
                    let termination = Termination::Trapped(format!(
                        "memory limit exceeded: the module needs {} pages, the limit is {}",
                        refused.largest_request_pages, refused.limit_pages
                    ));
                    return Ok(finish(store, termination, &meter, started));
                }
                return Err(LoadError(format!("cannot instantiate: {error}")));
            }
        };
        store.data_mut().memory = instance.get_memory(&store, "memory");

        let (func, results) = find_entry(&store, &instance, entry)?;
        let termination = meter.run_sliced(&mut store, func, results);
        Ok(finish(store, termination, &meter, started))
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
    meter: &FuelMeter,
    started: Instant,
) -> Outcome {
    let state = store.into_data();
    let mut process = state.process;
    process.close_all();
    // A guest whose wait was cut short by the deadline ran out of time, whatever it did next.
    let termination = match termination {
        Termination::Exited(_) if process.ran_out_of_time() => timed_out(&process),
        other => other,
    };
    Outcome {
        termination,
        fuel_used: meter.used,
        peak_memory_pages: state.limiter.peak_pages,
        refused_growth: state.limiter.refused,
        wall: started.elapsed(),
        process,
    }
}

/// Accounts fuel across slices against the policy's budget.
struct FuelMeter {
    budget: Option<u64>,
    used: u64,
}

impl FuelMeter {
    fn remaining(&self) -> u64 {
        self.budget
            .map_or(u64::MAX, |b| b.saturating_sub(self.used))
    }

    fn run_unsliced<R>(
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

    /// Calls `func`, resuming after each fuel slice until it ends, traps, runs out of budget or time.
    fn run_sliced(
        &mut self,
        store: &mut Store<HostState>,
        func: wasmi::Func,
        results: usize,
    ) -> Termination {
        let mut outputs = vec![Val::I32(0); results];
        let mut needed = 1;
        let mut call: Option<wasmi::ResumableCallOutOfFuel> = None;
        loop {
            let remaining = self.remaining();
            if remaining < needed {
                return Termination::Trapped(match self.budget {
                    Some(b) => format!("out of fuel: the guest used its budget of {b}"),
                    None => "out of fuel".into(),
                });
            }
            let given = remaining.min(FUEL_SLICE.max(needed));
            if let Err(e) = store.set_fuel(given) {
                return Termination::Trapped(format!("fuel: {e}"));
            }
            let result = match call.take() {
                None => func.call_resumable(&mut *store, &[], &mut outputs),
                Some(paused) => paused.resume(&mut *store, &mut outputs),
            };
            self.used += given - store.get_fuel().unwrap_or(0);
            match result {
                Ok(ResumableCall::Finished) => {
                    return Termination::Exited(match outputs.first() {
                        Some(Val::I32(status)) => *status,
                        _ => 0,
                    })
                }
                Ok(ResumableCall::OutOfFuel(paused)) => {
                    if let Some(deadline) = store.data().process.deadline() {
                        if Instant::now() >= deadline {
                            return timed_out(&store.data().process);
                        }
                    }
                    needed = paused.required_fuel().max(1);
                    call = Some(paused);
                }
                Ok(ResumableCall::HostTrap(trap)) => {
                    let error = trap.into_host_error();
                    return classify(&error, store, self)
                        .unwrap_or_else(|| Termination::Trapped(error.to_string()));
                }
                Err(error) => {
                    return classify(&error, store, self)
                        .unwrap_or_else(|| Termination::Trapped(error.to_string()))
                }
            }
        }
    }
}

fn timed_out(process: &Process) -> Termination {
    Termination::TimedOut(process.policy().limits.timeout.unwrap_or_default())
}

/// Turns a wasmi error that ended a running guest into a termination; `None` if it is a setup error.
fn classify(
    error: &wasmi::Error,
    store: &Store<HostState>,
    meter: &FuelMeter,
) -> Option<Termination> {
    if let Some(status) = error.i32_exit_status() {
        return Some(Termination::Exited(status));
    }
    if let Some(abi::Deadline) = error.downcast_ref::<abi::Deadline>() {
        return Some(timed_out(&store.data().process));
    }
    let code = error.as_trap_code()?;
    Some(Termination::Trapped(match code {
        wasmi::TrapCode::OutOfFuel => match meter.budget {
            Some(b) => format!("out of fuel: the guest used its budget of {b}"),
            None => "out of fuel".into(),
        },
        wasmi::TrapCode::StackOverflow => "stack overflow (call stack exhausted)".into(),
        other => other.trap_message().to_string(),
    }))
}

fn find_entry(
    store: &Store<HostState>,
    instance: &Instance,
    entry: Option<&str>,
) -> Result<(wasmi::Func, usize), LoadError> {
    let name = match entry {
        Some(name) => name,
        None => tern_abi::entry::ORDER
            .iter()
            .copied()
            .find(|name| instance.get_func(store, name).is_some())
            .ok_or_else(|| {
                LoadError(format!(
                    "no entry point: the module exports none of {}",
                    tern_abi::entry::ORDER.join(", ")
                ))
            })?,
    };
    let func = instance
        .get_func(store, name)
        .ok_or_else(|| LoadError(format!("no exported function {name:?}")))?;
    let ty = func.ty(store);
    let results = match ty.results() {
        [] => 0,
        [ValType::I32] => 1,
        _ => {
            return Err(LoadError(format!(
                "entry point {name:?} must return nothing or an i32"
            )))
        }
    };
    if !ty.params().is_empty() {
        return Err(LoadError(format!(
            "entry point {name:?} must take no parameters"
        )));
    }
    Ok((func, results))
}

/// Accepts `\0asm` binaries as they are and, with the `wat` feature, compiles WebAssembly text.
fn to_binary(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, LoadError> {
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes.into());
    }
    #[cfg(feature = "wat")]
    {
        wat::parse_bytes(bytes).map_err(|e| LoadError(format!("invalid WebAssembly text: {e}")))
    }
    #[cfg(not(feature = "wat"))]
    {
        Err(LoadError(
            "not a WebAssembly binary (this tern was built without .wat support)".into(),
        ))
    }
}
