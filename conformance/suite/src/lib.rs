//! The tern conformance suite module, written with the Rust guest SDK.
//!
//! The harness (`tern-conformance`) runs this module once per run of `conformance/cases.toml`, with
//! the run's name as argument 1. The module runs that run's cases in file order and reports each as
//! a TAP line (`ok 7 - io_get_stdin returns 0 on every call`); the harness adds the checks a module
//! cannot make itself (stdout, log lines, files, exit status). See conformance/README.md.
//!
//! Case numbers, names and runs come from cases.toml (build.rs generates the table); the behaviour
//! each case checks is written in the case's `expect` there and implemented in [`cases`].
#![no_std]

#[cfg(not(target_arch = "wasm32"))]
compile_error!(
    "the conformance suite is a guest module: build it with --target wasm32-unknown-unknown"
);

extern crate alloc;

mod cases;
mod cgi;
mod check;
mod raw;
mod tap;

use tern_guest::env;

/// One case of cases.toml.
pub struct Case {
    /// The case number (the TAP test number).
    pub id: u32,
    /// The case's TAP description.
    pub name: &'static str,
    /// The run the case belongs to.
    pub run: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/cases.rs"));

/// The run started through `--invoke` instead of `cwa_main`.
const INVOKE_RUN: &str = "invoke";

/// `cwa_main`: runs the run named by argument 1.
fn main() -> i32 {
    if cgi::is_handler() {
        // Run cgi: one request from `tern serve`.
        return cgi::handle();
    }
    let run = env::arg(1).ok().flatten().unwrap_or_default();
    if run == INVOKE_RUN {
        // The runtime should have called conformance_invoke (case 115), not cwa_main.
        let tap = tap::Tap::for_run(&run);
        for case in CASES.iter().filter(|c| c.run == run) {
            tap.result(
                case,
                Err("the runtime called cwa_main instead of the --invoke export".into()),
            );
        }
        return 0;
    }
    run_cases(&run)
}

tern_guest::main!(main);

/// The entry point of run `invoke`: `tern run --invoke conformance_invoke` calls it.
#[unsafe(no_mangle)]
pub extern "C" fn conformance_invoke() -> i32 {
    run_cases(INVOKE_RUN)
}

/// Runs every case of `run` in cases.toml order, reports each, and returns the exit status.
fn run_cases(run: &str) -> i32 {
    let tap = tap::Tap::for_run(run);
    if !RUNS.iter().any(|(name, _)| *name == run) {
        tap.comment(&alloc::format!(
            "unknown run {run:?}: argument 1 must name a run of cases.toml"
        ));
        return 2;
    }
    // The harness names the SDK in its report from this line.
    tap.comment(&alloc::format!("sdk: tern-guest (Rust) {SDK_VERSION}"));
    let mut status = 0;
    for case in CASES.iter().filter(|c| c.run == run) {
        match cases::implementation(case.id) {
            Some(cases::Impl::Check(f)) => tap.result(case, f()),
            Some(cases::Impl::Ends(f)) => {
                // The harness judges what happens next (exit status, output); report first.
                tap.result(case, Ok(()));
                status = f();
            }
            // A case added to cases.toml before this suite implements it: reported apart, and a
            // failure under --require-all.
            None => tap.skip(case, "not implemented by this suite"),
        }
    }
    status
}
