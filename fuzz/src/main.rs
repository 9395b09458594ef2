//! `tern-fuzz`: seeded fuzzers that run the release `tern` binary and report host failures.
//!
//! ```text
//! tern-fuzz run --tern PATH --seeds N [--start S] [--jobs J] [--only abi|modules] [--timeout-ms T]
//!               [--host-memory-mb M (default 512; 0: no cap)] [--work DIR] [--findings DIR]
//! tern-fuzz replay --tern PATH FINDING_DIR
//! tern-fuzz minimize --tern PATH FINDING_DIR   (an ABI finding: keep only the calls that cause it)
//! tern-fuzz guest SEED > g.wat      (the ABI fuzzer's guest for SEED, aimed at target/fuzz-work/show)
//! tern-fuzz module SEED > m.wasm     (the module fuzzer's module for SEED; its shape on stderr)
//! ```
//! Exit status: 0 when no run found anything, 1 on findings, 2 on bad usage or a broken setup.
#![forbid(unsafe_code)]

mod abi;
mod abi_memory;
mod abi_table;
mod bombs;
mod campaign;
mod exec;
mod finding;
mod minimize;
mod modules;
mod rng;
mod sandbox;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::campaign::Options;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => parse(&args[1..]).and_then(|o| campaign::run_all(&o)),
        Some("replay") => parse(&args[1..]).and_then(|o| finding::replay(&o)),
        Some("minimize") => parse(&args[1..]).and_then(|o| minimize::minimize(&o)),
        Some("module") => module_to_stdout(&args[1..]),
        Some("guest") => guest_to_stdout(&args[1..]),
        _ => Err(format!("usage: tern-fuzz run|replay … (see {})", file!())),
    };
    match result {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(message) => {
            eprintln!("tern-fuzz: {message}");
            ExitCode::from(2)
        }
    }
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        tern: PathBuf::from("target/release/tern"),
        seeds: 100,
        start: 0,
        // Twice the cores: some runs only wait for their deadline (sleeps, polls, a silent stdin).
        jobs: 2 * std::thread::available_parallelism().map_or(2, |n| n.get()),
        abi: true,
        modules: true,
        timeout_ms: 1000,
        work: PathBuf::from("target/fuzz-work"),
        findings: PathBuf::from("target/fuzz-findings"),
        host_memory_mb: Some(512),
        replay: None,
        started: Instant::now(),
    };
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        if !flag.starts_with("--") {
            options.replay = Some(PathBuf::from(flag));
            i += 1;
            continue;
        }
        let value = args
            .get(i + 1)
            .ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {value}"))
        };
        match flag {
            "--tern" => options.tern = PathBuf::from(value),
            "--seeds" => options.seeds = number()?,
            "--start" => options.start = number()?,
            "--jobs" => options.jobs = number()?.max(1) as usize,
            "--host-memory-mb" => options.host_memory_mb = Some(number()?).filter(|&mb| mb > 0),
            "--timeout-ms" => options.timeout_ms = number()?.max(100),
            "--work" => options.work = PathBuf::from(value),
            "--findings" => options.findings = PathBuf::from(value),
            "--only" => match value.as_str() {
                "abi" => options.modules = false,
                "modules" => options.abi = false,
                _ => return Err(format!("--only abi|modules, not {value}")),
            },
            _ => return Err(format!("unknown option {flag}")),
        }
        i += 2;
    }
    if options.host_memory_mb.is_some() && !exec::have_prlimit() {
        eprintln!("tern-fuzz: no prlimit here: host memory is not capped");
        options.host_memory_mb = None;
    }
    if !options.tern.is_file() {
        return Err(format!("no tern binary at {}", options.tern.display()));
    }
    Ok(options)
}

fn module_to_stdout(args: &[String]) -> Result<usize, String> {
    use std::io::Write;
    let seed = args
        .first()
        .and_then(|s| s.parse().ok())
        .ok_or("module needs a seed")?;
    let (bytes, shape) = modules::generate(seed);
    eprintln!("{}", shape.name());
    std::io::stdout()
        .write_all(&bytes)
        .map_err(|e| e.to_string())?;
    Ok(0)
}

fn guest_to_stdout(args: &[String]) -> Result<usize, String> {
    let seed = args
        .first()
        .and_then(|s| s.parse().ok())
        .ok_or("guest needs a seed")?;
    let root = std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join("target/fuzz-work/show/tree");
    let sandbox = sandbox::Sandbox::create(&root, "CANARY").map_err(|e| e.to_string())?;
    print!("{}", abi::generate(seed, &sandbox).wat);
    Ok(0)
}
