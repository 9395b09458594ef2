//! A fuzzing campaign: every seed of the chosen fuzzers on worker threads, tallied, findings grouped.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::finding::{self, Finding};
use crate::modules::{self, Shape};
use crate::rng::Rng;
use crate::sandbox::Sandbox;
use crate::{abi, exec};

/// Reproducers kept per kind of finding (the rest are only counted).
const KEEP_PER_SIGNATURE: usize = 3;

/// What to run.
pub struct Options {
    /// The `tern` binary under test.
    pub tern: PathBuf,
    /// How many seeds each fuzzer runs.
    pub seeds: u64,
    /// The first seed.
    pub start: u64,
    /// Worker threads (each runs one `tern` at a time).
    pub jobs: usize,
    /// Run the ABI fuzzer.
    pub abi: bool,
    /// Run the module fuzzer.
    pub modules: bool,
    /// The `--timeout` given to tern; a run still alive five seconds later is a hang.
    pub timeout_ms: u64,
    /// Where workers build their sandboxes.
    pub work: PathBuf,
    /// Where findings are saved.
    pub findings: PathBuf,
    /// Cap tern's address space at this many MiB (through `prlimit`), so runaway host allocation
    /// shows as a finding; `None` if `prlimit` is missing or the cap is 0.
    pub host_memory_mb: Option<u64>,
    /// The finding directory to replay or minimize.
    pub replay: Option<PathBuf>,
    /// When the command started.
    pub started: Instant,
}

/// Figures for the closing summary.
#[derive(Default)]
struct Tally {
    abi_runs: u64,
    abi_calls: u64,
    abi_planned: u64,
    module_runs: u64,
    shapes: [u64; 4],
    module_completed: u64,
    /// Findings by signature: how many, and the saved reproducers.
    findings: BTreeMap<String, (u64, Vec<String>)>,
}

impl Tally {
    fn total_findings(&self) -> u64 {
        self.findings.values().map(|(n, _)| n).sum()
    }
}

/// Runs every seed of every selected fuzzer; returns the number of findings.
pub fn run_all(options: &Options) -> Result<usize, String> {
    let per_seed = u64::from(options.abi) + u64::from(options.modules);
    let tasks = options.seeds * per_seed;
    let next = AtomicU64::new(0);
    let tally = Mutex::new(Tally::default());
    let work = absolute(&options.work)?;
    let setup_error = Mutex::new(None);
    std::thread::scope(|scope| {
        for job in 0..options.jobs {
            let (next, tally, work, setup_error) = (&next, &tally, &work, &setup_error);
            scope.spawn(move || loop {
                let task = next.fetch_add(1, Ordering::Relaxed);
                if task >= tasks {
                    break;
                }
                let seed = options.start + task / per_seed;
                let abi_turn = options.abi && (!options.modules || task % 2 == 0);
                let dir = work.join(format!("w{job}"));
                let result = if abi_turn {
                    abi_seed(options, seed, &dir, tally)
                } else {
                    module_seed(options, seed, &dir, tally)
                };
                if let Err(e) = result {
                    *setup_error.lock().unwrap() = Some(e);
                    next.store(tasks, Ordering::Relaxed);
                }
                if (task + 1) % 1000 == 0 {
                    let t = tally.lock().unwrap();
                    eprintln!(
                        "tern-fuzz: {}/{tasks} runs, {} findings, {:.0} s",
                        task + 1,
                        t.total_findings(),
                        options.started.elapsed().as_secs_f64()
                    );
                }
            });
        }
    });
    if let Some(e) = setup_error.into_inner().unwrap() {
        return Err(e);
    }
    let t = tally.into_inner().unwrap();
    if t.abi_runs > 0 && t.abi_calls == 0 {
        return Err(format!(
            "{} ABI runs made no host calls: is {} a tern that runs modules?",
            t.abi_runs,
            options.tern.display()
        ));
    }
    println!(
        "tern-fuzz: seeds {}..{}: abi: {} runs, {} host calls ({} call sites in the guests); modules: {} runs ({} valid, {} mutated, {} truncated, {} bombs; {} ran to the end); {} findings; {} jobs, {:.1} s",
        options.start,
        options.start + options.seeds,
        t.abi_runs,
        t.abi_calls,
        t.abi_planned,
        t.module_runs,
        t.shapes[0],
        t.shapes[1],
        t.shapes[2],
        t.shapes[3],
        t.module_completed,
        t.total_findings(),
        options.jobs,
        options.started.elapsed().as_secs_f64()
    );
    for (signature, (count, saved)) in &t.findings {
        println!("  {count} × {signature}");
        for dir in saved {
            println!("      {dir}");
        }
    }
    Ok(t.total_findings() as usize)
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    fs::create_dir_all(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The token for `seed`: only the sandbox's forbidden files contain it, never the guest.
fn token(seed: u64) -> String {
    format!("CANARY{:016x}", Rng::new(seed, 3).next_u64())
}

/// Counts a finding under its signature, saving its reproducer if few of that kind are saved yet.
fn record(
    options: &Options,
    tally: &Mutex<Tally>,
    signature: String,
    f: &Finding,
) -> Result<(), String> {
    let keep = {
        let mut t = tally.lock().unwrap();
        let entry = t.findings.entry(signature.clone()).or_default();
        entry.0 += 1;
        entry.0 as usize <= KEEP_PER_SIGNATURE
    };
    if keep {
        let dir = finding::save(&absolute(&options.findings)?, &options.tern, f)?;
        eprintln!("tern-fuzz: FINDING {signature} → {}", dir.display());
        let mut t = tally.lock().unwrap();
        if let Some(entry) = t.findings.get_mut(&signature) {
            entry.1.push(dir.display().to_string());
        }
    }
    Ok(())
}

fn abi_seed(options: &Options, seed: u64, dir: &Path, tally: &Mutex<Tally>) -> Result<(), String> {
    let io = |e: std::io::Error| format!("sandbox in {}: {e}", dir.display());
    let sandbox = Sandbox::create(&dir.join("tree"), &token(seed)).map_err(io)?;
    let before = sandbox.snapshot().map_err(io)?;
    let guest = abi::generate(seed, &sandbox);
    // Run as a binary, so the run does not depend on tern's .wat support; the text is saved with
    // any finding, for reading and for the minimizer.
    let binary =
        wat::parse_str(&guest.wat).map_err(|e| format!("ABI guest for seed {seed}: {e}"))?;
    let module_path = dir.join("guest.wasm");
    fs::write(&module_path, &binary).map_err(io)?;
    let args = abi::tern_args(&sandbox, &module_path, options.timeout_ms);
    let run = finding::launch(options, &args, guest.sleepy)?;
    let after = sandbox.snapshot().map_err(io)?;

    let mut found: Vec<(&'static str, String, String)> = Vec::new();
    if let Some((kind, detail)) = exec::host_failure(&run) {
        found.push((kind, signature_of(kind, &detail), detail));
    }
    let changes = before.changes(&after);
    // One finding per top-most change, so one escape in a run does not hide another.
    for change in topmost(&changes) {
        let detail = format!("changed outside the grant: {}", changes.join(", "));
        found.push(("escape", format!("escape: {change}"), detail));
    }
    let seen = |bytes: &[u8]| String::from_utf8_lossy(bytes).contains(&sandbox.token);
    if seen(&run.stdout) || seen(&run.stderr) {
        let detail = "a forbidden file's token reached the output".to_owned();
        found.push(("read-escape", "read-escape".into(), detail));
    }
    for (index, (kind, signature, detail)) in found.into_iter().enumerate() {
        let f = Finding {
            fuzzer: "abi",
            seed,
            index,
            kind,
            detail,
            module: ("guest.wasm", &binary),
            text: Some(&guest.wat),
            args: &args,
            module_path: &module_path,
            run: &run,
            sandbox: Some(&sandbox),
            stdin_open: guest.sleepy,
        };
        record(options, tally, format!("abi {signature}"), &f)?;
    }
    let mut t = tally.lock().unwrap();
    t.abi_runs += 1;
    t.abi_calls += exec::host_calls(&run.stderr).unwrap_or(0);
    t.abi_planned += guest.calls as u64;
    Ok(())
}

fn module_seed(
    options: &Options,
    seed: u64,
    dir: &Path,
    tally: &Mutex<Tally>,
) -> Result<(), String> {
    let (bytes, shape) = modules::generate(seed);
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let module_path = dir.join("module.wasm");
    fs::write(&module_path, &bytes).map_err(|e| format!("{}: {e}", module_path.display()))?;
    let args = modules::tern_args(&module_path, options.timeout_ms);
    let run = finding::launch(options, &args, false)?;
    if let Some((kind, detail)) = exec::host_failure(&run) {
        let f = Finding {
            fuzzer: "module",
            seed,
            index: 0,
            kind,
            detail: format!("{} module: {detail}", shape.name()),
            module: ("module.wasm", &bytes),
            text: None,
            args: &args,
            module_path: &module_path,
            run: &run,
            sandbox: None,
            stdin_open: false,
        };
        record(
            options,
            tally,
            format!("module {}", signature_of(kind, &f.detail)),
            &f,
        )?;
    }
    let mut t = tally.lock().unwrap();
    t.module_runs += 1;
    t.shapes[match shape {
        Shape::Valid => 0,
        Shape::Mutated => 1,
        Shape::Truncated => 2,
        Shape::Bomb(_) => 3,
    }] += 1;
    if run.status.is_some_and(|s| s.success()) {
        t.module_completed += 1;
    }
    Ok(())
}

/// The changes ("created box/x", …) whose path is not inside another changed path.
fn topmost(changes: &[String]) -> Vec<&String> {
    let path = |c: &str| Path::new(c.split_once(' ').map_or(c, |(_, p)| p)).to_path_buf();
    changes
        .iter()
        .filter(|c| {
            let own = path(c);
            !changes.iter().any(|other| {
                let other = path(other);
                other != own && own.starts_with(&other)
            })
        })
        .collect()
}

/// Groups findings: a panic by where it panicked, a signal by its number, others by kind.
fn signature_of(kind: &str, detail: &str) -> String {
    match kind {
        "panic" => {
            let place = detail
                .split("panicked at ")
                .nth(1)
                .and_then(|rest| rest.split(':').next())
                .unwrap_or("?");
            format!("panic at {place}")
        }
        "signal" => detail.split(';').next().unwrap_or(kind).to_owned(),
        "stack-overflow" => "stack-overflow (known: issue 11 defect 3)".to_owned(),
        _ => kind.to_owned(),
    }
}
