//! `tern-fuzz`: seeded fuzzers that run the release `tern` binary and report host failures.
//!
//! ```text
//! tern-fuzz run --tern PATH --seeds N [--start S] [--jobs J] [--only abi|modules] [--timeout-ms T]
//!               [--work DIR] [--findings DIR]
//! tern-fuzz replay --tern PATH FINDING_DIR
//! ```
//! Exit status: 0 when no run found anything, 1 on findings, 2 on bad usage or a broken setup.
#![forbid(unsafe_code)]

mod abi;
mod abi_table;
mod exec;
mod finding;
mod modules;
mod rng;
mod sandbox;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::finding::Options;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => parse(&args[1..]).and_then(|o| finding::run_all(&o)),
        Some("replay") => parse(&args[1..]).and_then(|o| finding::replay(&o)),
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
        jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
        abi: true,
        modules: true,
        timeout_ms: 2000,
        work: PathBuf::from("target/fuzz-work"),
        findings: PathBuf::from("target/fuzz-findings"),
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
    if !options.tern.is_file() {
        return Err(format!("no tern binary at {}", options.tern.display()));
    }
    Ok(options)
}
