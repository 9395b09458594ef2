//! Every use of the tern embedding API is here, so a change of that API touches one file.
//!
//! `Runtime::compile` gives a `tern::Module` (imports checked, entry resolved; cheap to clone and
//! shared by every run); `Runtime::run_with` runs it in a fresh instance under the handler's `Limits`,
//! and a [`Stopper`] (a `tern::Interrupt`) ends a run from another thread within milliseconds — when
//! its client goes away, or when shutdown's grace is over.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Grants, HandlerLimits};
use crate::Error;

/// The engine every handler runs on (one per server).
pub struct Engine {
    runtime: tern::Runtime,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            runtime: tern::Runtime::new(),
        }
    }
}

/// A compiled module, shared by every request to its handler; cheap to clone.
#[derive(Clone)]
pub struct CompiledModule {
    module: tern::Module,
    /// Lower-case hex sha256 of the module file's bytes: the handler's version.
    pub sha256: String,
}

impl Engine {
    /// Compiles a module from its bytes (binary, or text): valid, every import provided, and its
    /// entry point (`entry`, else `_start`, `cwa_main` or `main`) resolved.
    pub fn compile(&self, bytes: &[u8], entry: Option<&str>) -> Result<CompiledModule, Error> {
        let module = match entry {
            Some(entry) => self.runtime.compile_with_entry(bytes, entry),
            None => self.runtime.compile(bytes),
        }
        .map_err(|e| Error::new(e.to_string()))?;
        Ok(CompiledModule {
            module,
            sha256: sha256_hex(bytes),
        })
    }
}

/// Ends a run from any thread (a `tern::Interrupt`); clones share one trigger.
#[derive(Clone, Default)]
pub struct Stopper(tern::Interrupt);

impl Stopper {
    /// Ends the run within milliseconds, as [`RunEnd::Interrupted`].
    pub fn stop(&self) {
        self.0.trigger();
    }
}

/// Lower-case hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A handler's grants and limits as the runtime takes them, built once when the handler loads.
pub struct Permissions {
    policy: Arc<tern::Policy>,
    limits: tern::Limits,
    dirs: Vec<(PathBuf, String)>,
}

impl Permissions {
    /// Builds the policy from the grants (as `tern run` does from its flags) and the limits.
    pub fn new(grants: &Grants, limits: &HandlerLimits) -> Result<Self, Error> {
        let mut policy = tern::Policy::new();
        let at = |what: &str, e: &dyn std::fmt::Display| Error::new(format!("{what}: {e}"));
        let mut dirs = Vec::new();
        for spec in &grants.dirs {
            let (rest, read_only) = match spec.strip_suffix(":ro") {
                Some(rest) => (rest, true),
                None => (spec.as_str(), false),
            };
            let (host, guest) = rest.split_once("::").unwrap_or((rest, rest));
            let canonical =
                std::fs::canonicalize(host).map_err(|e| at(&format!("dirs {spec}"), &e))?;
            let url = url_of_dir(&canonical)
                .ok_or_else(|| Error::new(format!("dirs {spec}: not a directory")))?;
            let granted = if read_only {
                policy.allow_read(&url)
            } else {
                policy.allow(&url)
            };
            granted.map_err(|e| at(&format!("dirs {spec}"), &e))?;
            dirs.push((canonical, guest.to_owned()));
        }
        for url in &grants.allow {
            policy
                .allow(url)
                .map_err(|e| at(&format!("allow {url}"), &e))?;
        }
        for url in &grants.deny {
            policy
                .deny(url)
                .map_err(|e| at(&format!("deny {url}"), &e))?;
        }
        for range in &grants.allow_private {
            policy
                .allow_private(range)
                .map_err(|e| at(&format!("allow-private {range}"), &e))?;
        }
        for path in &grants.ca_files {
            let shown = format!("ca-file {}", path.display());
            let pem = std::fs::read(path).map_err(|e| at(&shown, &e))?;
            policy.network.trust_pem(&pem).map_err(|e| at(&shown, &e))?;
        }
        let limits = tern::Limits {
            timeout: Some(limits.timeout),
            fuel: limits.fuel,
            max_memory_pages: Some(limits.max_memory_pages),
            ..tern::Limits::default()
        };
        Ok(Permissions {
            policy: Arc::new(policy),
            limits,
            dirs,
        })
    }

    /// The grants, for `--check`.
    pub fn grants(&self) -> Vec<String> {
        self.policy.grants()
    }
}

fn url_of_dir(path: &std::path::Path) -> Option<String> {
    if !path.is_dir() {
        return None;
    }
    let text = path.to_str()?;
    Some(format!("file://{}/", text.trim_end_matches('/')))
}

/// The streams a run gets.
pub struct RunStreams {
    /// The request body.
    pub stdin: Box<dyn Read + Send>,
    /// The CGI response.
    pub stdout: Box<dyn Write + Send>,
    /// stderr and the guest's log lines, kept bounded for the invocation record.
    pub log: crate::records::LogCapture,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    /// Exited with this status.
    Exited(i32),
    /// Trapped: its kind (`trap`, `out-of-fuel`, `memory-limit`, `stack-overflow`) and the reason.
    Trapped(&'static str, String),
    /// Ran past its timeout.
    TimedOut(Duration),
    /// Stopped by its [`Stopper`] (the client went away, or shutdown).
    Interrupted,
    /// Could not start (instantiation, entry point).
    Failed(String),
}

impl RunEnd {
    /// A short name for records and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            RunEnd::Exited(0) => "exited",
            RunEnd::Exited(_) => "exited-nonzero",
            RunEnd::Trapped(kind, _) => kind,
            RunEnd::TimedOut(_) => "timeout",
            RunEnd::Interrupted => "interrupted",
            RunEnd::Failed(_) => "failed",
        }
    }
}

/// A run's figures.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    /// Fuel used.
    pub fuel: u64,
    /// Peak memory, pages.
    pub peak_memory_pages: u64,
    /// Host calls made.
    pub host_calls: u64,
    /// URLs the policy denied.
    pub denials: Vec<String>,
}

/// Runs `module` once with `env` and `streams`; `stopper` can end it early.
pub fn run(
    engine: &Engine,
    module: &CompiledModule,
    permissions: &Permissions,
    name: &str,
    env: Vec<(String, String)>,
    streams: RunStreams,
    stopper: &Stopper,
) -> (RunEnd, RunStats) {
    let stdio = tern::Stdio::new(
        streams.stdin,
        streams.stdout,
        Box::new(streams.log.clone()),
        Box::new(streams.log),
    );
    let mut process = tern::Process::new(
        name,
        vec![name.to_owned()],
        permissions.policy.clone(),
        stdio,
    );
    process.set_limits(permissions.limits.clone());
    for (k, v) in env {
        process.set_env(k, v);
    }
    for (host, guest) in &permissions.dirs {
        if let Err(e) = process.preopen(host, guest) {
            return (
                RunEnd::Failed(format!("dirs {}: {e}", host.display())),
                RunStats::default(),
            );
        }
    }
    match engine.runtime.run_with(&module.module, process, &stopper.0) {
        Ok(outcome) => {
            let stats = RunStats {
                fuel: outcome.fuel_used,
                peak_memory_pages: outcome.peak_memory_pages,
                host_calls: outcome.process.stats.host_calls,
                denials: outcome.process.stats.denied.clone(),
            };
            let end = match outcome.termination {
                tern::Termination::Exited(code) => RunEnd::Exited(code),
                tern::Termination::Trapped(trap) => {
                    let kind = match trap {
                        tern::Trap::OutOfFuel { .. } => "out-of-fuel",
                        tern::Trap::MemoryLimit { .. } => "memory-limit",
                        tern::Trap::StackOverflow => "stack-overflow",
                        _ => "trap",
                    };
                    RunEnd::Trapped(kind, trap.to_string())
                }
                tern::Termination::TimedOut(limit) => RunEnd::TimedOut(limit),
                tern::Termination::Interrupted => RunEnd::Interrupted,
            };
            (end, stats)
        }
        Err(e) => (RunEnd::Failed(e.to_string()), RunStats::default()),
    }
}
