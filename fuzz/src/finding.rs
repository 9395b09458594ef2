//! Running seeds on worker threads, tallying them, and saving and replaying findings.

use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::exec::{self, Run};
use crate::modules::{self, Shape};
use crate::rng::Rng;
use crate::sandbox::Sandbox;
use crate::abi;

/// How long past its own `--timeout` tern may take to end before the run counts as a hang: generous,
/// because CI machines are loaded and tern's watchdog allows itself a second.
const HANG_MARGIN: Duration = Duration::from_secs(5);

/// What to run.
pub struct Options {
    pub tern: PathBuf,
    pub seeds: u64,
    pub start: u64,
    pub jobs: usize,
    pub abi: bool,
    pub modules: bool,
    pub timeout_ms: u64,
    pub work: PathBuf,
    pub findings: PathBuf,
    pub replay: Option<PathBuf>,
    pub started: Instant,
}

/// Figures for the closing summary.
#[derive(Default)]
struct Tally {
    abi_runs: u64,
    abi_calls: u64,
    abi_planned: u64,
    module_runs: u64,
    shapes: [u64; 3],
    module_completed: u64,
    findings: Vec<String>,
}

/// One run's host failure, with everything needed to reproduce it.
struct Finding<'a> {
    fuzzer: &'static str,
    seed: u64,
    kind: &'static str,
    detail: String,
    module: (&'a str, &'a [u8]),
    args: &'a [OsString],
    module_path: &'a Path,
    run: &'a Run,
    sandbox: Option<&'a Sandbox>,
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
                if (task + 1) % 500 == 0 {
                    eprintln!("tern-fuzz: {}/{tasks} runs, {:.0} s", task + 1, options.started.elapsed().as_secs_f64());
                }
            });
        }
    });
    if let Some(e) = setup_error.into_inner().unwrap() {
        return Err(e);
    }
    let t = tally.into_inner().unwrap();
    println!(
        "tern-fuzz: seeds {}..{}: abi: {} runs, {} host calls ({} written in the guests); modules: {} runs ({} valid, {} mutated, {} truncated; {} ran to the end); {} findings; {} jobs, {:.1} s",
        options.start,
        options.start + options.seeds,
        t.abi_runs,
        t.abi_calls,
        t.abi_planned,
        t.module_runs,
        t.shapes[0],
        t.shapes[1],
        t.shapes[2],
        t.module_completed,
        t.findings.len(),
        options.jobs,
        options.started.elapsed().as_secs_f64()
    );
    for f in &t.findings {
        println!("  {f}");
    }
    Ok(t.findings.len())
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    fs::create_dir_all(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The token for `seed`: only the sandbox's forbidden files contain it, never the guest.
fn token(seed: u64) -> String {
    format!("CANARY{:016x}", Rng::new(seed, 3).next_u64())
}

fn abi_seed(options: &Options, seed: u64, dir: &Path, tally: &Mutex<Tally>) -> Result<(), String> {
    let io = |e: std::io::Error| format!("sandbox in {}: {e}", dir.display());
    let sandbox = Sandbox::create(&dir.join("tree"), &token(seed)).map_err(io)?;
    let before = sandbox.snapshot().map_err(io)?;
    let guest = abi::generate(seed, &sandbox);
    let module_path = dir.join("guest.wat");
    fs::write(&module_path, &guest.wat).map_err(io)?;
    let args = abi::tern_args(&sandbox, &module_path, options.timeout_ms);
    let run = launch(options, &args)?;
    let after = sandbox.snapshot().map_err(io)?;

    let mut found: Vec<(&'static str, String)> = exec::host_failure(&run).into_iter().collect();
    let changes = before.changes(&after);
    if !changes.is_empty() {
        found.push(("escape", format!("changed outside the grant: {}", changes.join(", "))));
    }
    let seen = |bytes: &[u8]| String::from_utf8_lossy(bytes).contains(&sandbox.token);
    if seen(&run.stdout) || seen(&run.stderr) {
        found.push(("read-escape", "a forbidden file's token reached the output".into()));
    }
    let calls = exec::host_calls(&run.stderr).unwrap_or(0);
    let mut saved = Vec::new();
    for (kind, detail) in found {
        saved.push(save(options, &Finding {
            fuzzer: "abi",
            seed,
            kind,
            detail,
            module: ("guest.wat", guest.wat.as_bytes()),
            args: &args,
            module_path: &module_path,
            run: &run,
            sandbox: Some(&sandbox),
        })?);
    }
    let mut t = tally.lock().unwrap();
    t.abi_runs += 1;
    t.abi_calls += calls;
    t.abi_planned += guest.calls as u64;
    t.findings.extend(saved);
    Ok(())
}

fn module_seed(options: &Options, seed: u64, dir: &Path, tally: &Mutex<Tally>) -> Result<(), String> {
    let (bytes, shape) = modules::generate(seed);
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let module_path = dir.join("module.wasm");
    fs::write(&module_path, &bytes).map_err(|e| format!("{}: {e}", module_path.display()))?;
    let args = modules::tern_args(&module_path, options.timeout_ms);
    let run = launch(options, &args)?;
    let mut saved = None;
    if let Some((kind, detail)) = exec::host_failure(&run) {
        saved = Some(save(options, &Finding {
            fuzzer: "module",
            seed,
            kind,
            detail: format!("{} module: {detail}", shape.name()),
            module: ("module.wasm", &bytes),
            args: &args,
            module_path: &module_path,
            run: &run,
            sandbox: None,
        })?);
    }
    let mut t = tally.lock().unwrap();
    t.module_runs += 1;
    t.shapes[match shape {
        Shape::Valid => 0,
        Shape::Mutated => 1,
        Shape::Truncated => 2,
    }] += 1;
    if run.status.is_some_and(|s| s.success()) {
        t.module_completed += 1;
    }
    t.findings.extend(saved);
    Ok(())
}

fn launch(options: &Options, args: &[OsString]) -> Result<Run, String> {
    let kill_after = Duration::from_millis(options.timeout_ms) + HANG_MARGIN;
    exec::run(&options.tern, args, kill_after)
        .map_err(|e| format!("cannot run {}: {e}", options.tern.display()))
}

/// Writes a finding's reproducer to `findings/<fuzzer>-<seed>-<kind>/`; returns its summary line.
fn save(options: &Options, f: &Finding) -> Result<String, String> {
    let dir = absolute(&options.findings)?.join(format!("{}-{}-{}", f.fuzzer, f.seed, f.kind));
    let io = |e: std::io::Error| format!("saving finding in {}: {e}", dir.display());
    fs::create_dir_all(&dir).map_err(io)?;
    let module = dir.join(f.module.0);
    fs::write(&module, f.module.1).map_err(io)?;
    // The saved command runs the saved module.
    let args: Vec<OsString> = f
        .args
        .iter()
        .map(|a| if Path::new(a) == f.module_path { module.clone().into_os_string() } else { a.clone() })
        .collect();
    let mut argv = Vec::new();
    for a in &args {
        argv.extend_from_slice(a.as_bytes());
        argv.push(0);
    }
    fs::write(dir.join("args"), argv).map_err(io)?;
    let shown: Vec<String> = args.iter().map(|a| shell_word(&a.to_string_lossy())).collect();
    let mut readme = format!(
        "{} fuzzer, seed {}: {}: {}\n\nreplay: tern-fuzz replay --tern {} {}\nor:     {} {}\n",
        f.fuzzer,
        f.seed,
        f.kind,
        f.detail,
        options.tern.display(),
        dir.display(),
        options.tern.display(),
        shown.join(" "),
    );
    if let Some(sandbox) = f.sandbox {
        readme.push_str("(the plain command needs the sandbox tree; replay rebuilds it)\n");
        fs::write(dir.join("root"), sandbox.root.as_os_str().as_bytes()).map_err(io)?;
        fs::write(dir.join("token"), &sandbox.token).map_err(io)?;
    }
    fs::write(dir.join("README.txt"), readme).map_err(io)?;
    fs::write(dir.join("stdout"), &f.run.stdout).map_err(io)?;
    fs::write(dir.join("stderr"), &f.run.stderr).map_err(io)?;
    let line = format!("{} seed {}: {}: {} → {}", f.fuzzer, f.seed, f.kind, f.detail, dir.display());
    eprintln!("tern-fuzz: FINDING {line}");
    Ok(line)
}

fn shell_word(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-=:".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Runs a saved finding again (rebuilding its sandbox); returns 1 if it still fails.
pub fn replay(options: &Options) -> Result<usize, String> {
    let dir = options.replay.as_ref().ok_or("replay needs a finding directory")?;
    let read = |name: &str| fs::read(dir.join(name)).map_err(|e| format!("{}/{name}: {e}", dir.display()));
    let args: Vec<OsString> = read("args")?
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect();
    let sandbox = match (read("root"), read("token")) {
        (Ok(root), Ok(token)) => {
            let root = PathBuf::from(OsString::from_vec(root));
            let token = String::from_utf8_lossy(&token).into_owned();
            Some(Sandbox::create(&root, &token).map_err(|e| format!("sandbox: {e}"))?)
        }
        _ => None,
    };
    let before = sandbox.as_ref().map(|s| s.snapshot()).transpose().map_err(|e| e.to_string())?;
    let run = launch(options, &args)?;
    let mut problems: Vec<String> = exec::host_failure(&run)
        .map(|(kind, detail)| format!("{kind}: {detail}"))
        .into_iter()
        .collect();
    if let (Some(sandbox), Some(before)) = (&sandbox, before) {
        let after = sandbox.snapshot().map_err(|e| e.to_string())?;
        problems.extend(before.changes(&after).into_iter().map(|c| format!("escape: {c}")));
        if String::from_utf8_lossy(&run.stdout).contains(&sandbox.token)
            || String::from_utf8_lossy(&run.stderr).contains(&sandbox.token)
        {
            problems.push("read-escape: the token reached the output".into());
        }
    }
    println!("exit: {:?}, {:.2} s", run.status, run.elapsed.as_secs_f64());
    println!("stderr (end): {}", exec::last_lines(&String::from_utf8_lossy(&run.stderr), 5));
    if problems.is_empty() {
        println!("no longer fails");
    }
    for p in &problems {
        println!("FAILS: {p}");
    }
    Ok(problems.len())
}
