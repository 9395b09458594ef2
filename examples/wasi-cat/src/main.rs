//! `cat` for WASI: prints each file named on the command line (or stdin if none), through
//! nothing but Rust's standard library. Under tern the files must be below a `--dir` preopen.
use std::io::{self, Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut stdout = io::stdout().lock();
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        let mut input = Vec::new();
        if io::stdin().read_to_end(&mut input).is_err() || stdout.write_all(&input).is_err() {
            return ExitCode::FAILURE;
        }
        return ExitCode::SUCCESS;
    }
    let mut status = ExitCode::SUCCESS;
    for path in &paths {
        match std::fs::read(path) {
            Ok(bytes) => {
                if stdout.write_all(&bytes).is_err() {
                    return ExitCode::FAILURE;
                }
            }
            Err(e) => {
                eprintln!("wasi-cat: {path}: {e}");
                status = ExitCode::FAILURE;
            }
        }
    }
    status
}
