//! Each limit: fuel, memory pages, wall-clock timeout, call depth, open handles.

use crate::common;

use std::time::{Duration, Instant};

use common::Guest;
use tern::Termination;

#[test]
fn an_infinite_loop_stops_at_the_timeout() {
    let started = Instant::now();
    let run = Guest::module(r#"(module (func (export "_start") (loop (br 0))))"#)
        .limits(|l| l.timeout = Some(Duration::from_millis(300)))
        .run();
    let took = started.elapsed();
    assert_eq!(
        run.termination(),
        &Termination::TimedOut(Duration::from_millis(300))
    );
    assert_eq!(run.code(), 124);
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(took >= Duration::from_millis(300), "took {took:?}");
}

#[test]
fn a_sleeping_loop_stops_at_the_timeout_too() {
    let run = Guest::main(
        "(loop (call $runtime_msleep (i32.const 50)) (br 0)) (i32.const 0)",
        &[],
    )
    .limits(|l| l.timeout = Some(Duration::from_millis(200)))
    .run();
    assert!(
        matches!(run.termination(), Termination::TimedOut(_)),
        "{}",
        run.termination()
    );
}

#[test]
fn fuel_runs_out() {
    let run = Guest::module(r#"(module (func (export "_start") (loop (br 0))))"#)
        .limits(|l| l.fuel = Some(50_000))
        .run();
    run.assert_trapped("out of fuel");
    assert!(run.outcome.fuel_used <= 50_000, "{}", run.outcome.fuel_used);
    assert!(run.outcome.fuel_used > 40_000, "{}", run.outcome.fuel_used);

    // A program that fits in its budget finishes, and its fuel is counted.
    let run = Guest::main("(i32.const 0)", &[])
        .limits(|l| l.fuel = Some(50_000))
        .run();
    assert_eq!(run.code(), 0);
    assert!(run.outcome.fuel_used > 0 && run.outcome.fuel_used < 100);
}

#[test]
fn fuel_is_counted_across_slices_without_a_budget() {
    // About 3 instructions per iteration for 3 million iterations: more than one 2M-fuel slice.
    let run = Guest::module(
        r#"(module (func (export "_start") (local $i i32)
            (loop (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br_if 0 (i32.lt_u (local.get $i) (i32.const 3000000))))))"#,
    )
    .run();
    assert_eq!(run.code(), 0);
    assert!(
        run.outcome.fuel_used > 6_000_000,
        "{}",
        run.outcome.fuel_used
    );
}

#[test]
fn memory_growth_past_the_page_limit_returns_minus_one_and_is_reported() {
    // As the WebAssembly spec and wasmtime have it: a refused memory.grow returns -1 (C's malloc then
    // returns NULL) instead of trapping; the outcome says what was refused and by which limit.
    let wat = r#"(module (memory (export "memory") 1)
        (func (export "cwa_main") (result i32) (drop (memory.grow (i32.const 4)))
            (drop (memory.grow (i32.const 100)))
            (i32.add (memory.grow (i32.const 50)) (i32.const 10))))"#;
    let run = Guest::module(wat)
        .limits(|l| l.max_memory_pages = Some(10))
        .run();
    assert_eq!(run.code(), 9, "{}", run.termination());
    assert_eq!(run.outcome.peak_memory_pages, 5);
    let refused = run
        .outcome
        .refused_growth
        .expect("the refusals are recorded");
    assert_eq!(
        (
            refused.count,
            refused.largest_request_pages,
            refused.limit_pages
        ),
        (2, 105, 10)
    );
    assert!(refused.to_string().contains("memory limit"), "{refused}");
    // Without a limit it grows.
    let run = Guest::module(wat).run();
    assert_eq!(run.code(), 115);
    assert_eq!(run.outcome.peak_memory_pages, 155);
    assert_eq!(run.outcome.refused_growth, None);
}

#[test]
fn a_timeout_too_large_for_the_clock_is_no_deadline() {
    // `Instant + Duration` overflowed and panicked (issue 11, defect 7).
    let run = Guest::main("(i32.const 3)", &[])
        .limits(|l| l.timeout = Some(Duration::from_secs(10_000_000_000_000_000_000)))
        .run();
    assert_eq!(run.code(), 3, "{}", run.termination());
}

#[test]
fn initial_memory_past_the_limit_traps_before_running() {
    let run = Guest::module(r#"(module (memory (export "memory") 20) (func (export "_start")))"#)
        .limits(|l| l.max_memory_pages = Some(10))
        .run();
    run.assert_trapped("memory limit");
}

#[test]
fn deep_recursion_is_a_stack_overflow_trap() {
    let run = Guest::module(r#"(module (func $f (export "_start") (call $f)))"#).run();
    run.assert_trapped("stack overflow");
}

#[test]
fn wasm_traps_are_reported_with_their_reason() {
    for (wat, reason) in [
        (
            r#"(module (func (export "_start") unreachable))"#,
            "unreachable",
        ),
        (
            r#"(module (memory 1) (func (export "_start") (drop (i32.load (i32.const 70000)))))"#,
            "out of bounds",
        ),
        (
            r#"(module (func (export "_start") (drop (i32.div_s (i32.const 1) (i32.const 0)))))"#,
            "divi",
        ),
    ] {
        let run = Guest::module(wat).run();
        run.assert_trapped(reason);
    }
}

#[test]
fn open_handles_are_limited() {
    // Open null:// until it fails; with a limit of 8 handles (3 are stdio) the sixth open fails with -7.
    let run = Guest::main(
        "(block $done (loop $l
            (local.set $h (call $resource_open (i32.const 0) (i32.const 7)))
            (br_if $done (i32.lt_s (local.get $h) (i32.const 0)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l)))
         ;; closing one frees a slot
         (call $resource_close (i32.const 4))
         (if (i32.ne (call $resource_open (i32.const 0) (i32.const 7)) (i32.const 4)) (then (return (i32.const 99))))
         (i32.add (i32.mul (local.get $i) (i32.const 100)) (i32.sub (i32.const 0) (local.get $h)))",
        &[(0, "null://")],
    )
    .limits(|l| l.max_handles = 8)
    .run();
    assert_eq!(run.code(), 5 * 100 + 7);
}

/// A module whose `_start` is one function of about 300 KB (100,000 × `i32.const 1; drop`).
fn one_big_function() -> String {
    let body = "(drop (i32.const 1))".repeat(100_000);
    format!(r#"(module (func (export "_start") {body}))"#)
}

#[test]
fn a_large_function_runs_without_a_fuel_limit() {
    // Translating a function on its first call used to be charged as fuel that a slice could not
    // cover, so this ended at once as "out of fuel" with fuel_used 0.
    let run = Guest::module(one_big_function()).run();
    assert_eq!(run.code(), 0, "{}", run.termination());
    assert!(
        run.outcome.fuel_used >= 100_000,
        "{}",
        run.outcome.fuel_used
    );
}

#[test]
fn a_large_function_runs_within_a_fuel_limit_that_covers_its_instructions() {
    let run = Guest::module(one_big_function())
        .limits(|l| l.fuel = Some(1_000_000))
        .run();
    assert_eq!(run.code(), 0, "{}", run.termination());
    assert!(run.outcome.fuel_used <= 1_000_000);
}

/// Writes nothing anywhere; triggers `interrupt` on the guest's first write, so a test can interrupt a
/// guest that is known to be running without sleeping.
struct TriggerOnWrite(tern::Interrupt);

impl std::io::Write for TriggerOnWrite {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.trigger();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `wat` with an interrupt that its first stdout write triggers.
fn run_interrupted_on_write(wat: &str) -> tern::Outcome {
    let runtime = tern::Runtime::new();
    let wasm = wat::parse_str(wat).expect("valid text");
    let module = runtime.compile(&wasm).expect("compiles");
    let interrupt = tern::Interrupt::new();
    let stdio = tern::Stdio::new(
        Box::new(std::io::empty()),
        Box::new(TriggerOnWrite(interrupt.clone())),
        Box::new(std::io::sink()),
        Box::new(std::io::sink()),
    );
    let process = tern::Process::new("guest", vec![], Default::default(), stdio);
    runtime
        .run_with(&module, process, &interrupt)
        .expect("runs")
}

const WRITE_THEN_SPIN: &str = r#"(func $write_then_spin
        (drop (call $write (i32.const 1) (i32.const 0) (i32.const 3)))
        (loop (br 0)))"#;

#[test]
fn an_interrupt_ends_a_running_guest() {
    let wat = format!(
        r#"(module (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
            (memory (export "memory") 1) (data (i32.const 0) "hi\n")
            {WRITE_THEN_SPIN} (export "_start" (func $write_then_spin)))"#
    );
    let outcome = run_interrupted_on_write(&wat);
    assert_eq!(outcome.termination, Termination::Interrupted);
    assert_eq!(outcome.termination.exit_code(), 130);
}

#[test]
fn an_interrupt_ends_a_start_function_too() {
    // The start function used to run whole inside instantiation, out of reach of interrupts and
    // timeouts.
    let wat = format!(
        r#"(module (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
            (memory (export "memory") 1) (data (i32.const 0) "hi\n")
            {WRITE_THEN_SPIN} (start $write_then_spin) (func (export "_start")))"#
    );
    let outcome = run_interrupted_on_write(&wat);
    assert_eq!(outcome.termination, Termination::Interrupted);
}

#[test]
fn an_interrupt_wakes_a_sleeping_guest() {
    // The guest asks to sleep an hour (no timeout); the interrupt ends the sleep and the run.
    let wat = r#"(module (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
        (import "cwa" "runtime_msleep" (func $sleep (param i32)))
        (memory (export "memory") 1) (data (i32.const 0) "hi\n")
        (func (export "_start")
            (drop (call $write (i32.const 1) (i32.const 0) (i32.const 3)))
            (call $sleep (i32.const 3600000))))"#;
    let outcome = run_interrupted_on_write(wat);
    assert_eq!(outcome.termination, Termination::Interrupted);
    assert!(outcome.wall < Duration::from_secs(60), "{:?}", outcome.wall);
}

#[test]
fn a_start_function_stops_at_the_timeout() {
    let run = Guest::module(
        r#"(module (func $spin (loop (br 0))) (start $spin) (func (export "_start")))"#,
    )
    .limits(|l| l.timeout = Some(Duration::from_millis(100)))
    .run();
    assert_eq!(
        run.termination(),
        &Termination::TimedOut(Duration::from_millis(100))
    );
}

#[test]
fn a_start_function_sees_guest_memory_and_runs_before_the_entry_point() {
    // Its resource_write got -2 (invalid argument: no memory) before.
    let run = Guest::module(
        r#"(module (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
            (memory (export "memory") 1) (data (i32.const 0) "hi\n")
            (global $written (mut i32) (i32.const -100))
            (func $start (global.set $written (call $write (i32.const 1) (i32.const 0) (i32.const 3))))
            (start $start)
            (func (export "cwa_main") (result i32) (global.get $written)))"#,
    )
    .run();
    assert_eq!(run.code(), 3, "{}", run.termination());
    assert_eq!(run.stdout, "hi\n");
}

#[test]
fn a_start_function_trap_and_fuel_are_reported_like_the_entry_points() {
    let run =
        Guest::module(r#"(module (func $s unreachable) (start $s) (func (export "_start")))"#)
            .run();
    assert_eq!(
        run.termination(),
        &Termination::Trapped(tern::Trap::Unreachable)
    );
    let run =
        Guest::module(r#"(module (func $s (loop (br 0))) (start $s) (func (export "_start")))"#)
            .limits(|l| l.fuel = Some(10_000))
            .run();
    assert_eq!(
        run.termination(),
        &Termination::Trapped(tern::Trap::OutOfFuel {
            budget: Some(10_000)
        })
    );
}

#[test]
fn outcome_serialises_its_stats_as_json() {
    let run = Guest::main("(i32.const 7)", &[]).run();
    let json = run.outcome.to_json();
    for key in [
        "\"fuel_used\":",
        "\"host_calls\":0",
        "\"peak_memory_pages\":1",
        "\"wall_ms\":",
        "\"exit_code\":7",
        "\"termination\":\"exited with status 7\"",
        "\"handles_opened\":",
        "\"bytes_read\":0",
        "\"bytes_written\":0",
        "\"denied\":[]",
        "\"memory_grow_refused\":0",
    ] {
        assert!(json.contains(key), "{key} missing from {json}");
    }
    assert!(json.starts_with('{') && json.ends_with('}'));
}

#[test]
fn stdout_stderr_and_log_bytes_are_bounded() {
    // stdout limited to 10 bytes: a 16-byte write is cut to 10, the next one is -7; a second
    // handle on stdout (fd://1) shares the count. stderr is unlimited here.
    let run = Guest::main(
        "(if (i32.ne (call $resource_write (i32.const 1) (i32.const 0) (i32.const 16)) (i32.const 10))
           (then (return (i32.const 1))))
         (local.set $h (call $resource_open (i32.const 100) (i32.const 6)))
         (if (i32.ne (call $resource_write (local.get $h) (i32.const 0) (i32.const 1)) (i32.const -7))
           (then (return (i32.const 2))))
         (if (i32.ne (call $resource_write (i32.const 2) (i32.const 0) (i32.const 16)) (i32.const 16))
           (then (return (i32.const 3))))
         (i32.const 0)",
        &[(0, "0123456789abcdef"), (100, "fd://1")],
    )
    .limits(|l| l.max_stdout_bytes = Some(10))
    .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    assert_eq!(run.stdout, "0123456789");
    assert_eq!(run.stderr, "0123456789abcdef");
    // Log bytes: log_write lines past the limit are dropped, a log:// write past it is -7.
    let run = Guest::main(
        "(call $log_write (i32.const 6) (i32.const 0) (i32.const 8))
         (call $log_write (i32.const 6) (i32.const 0) (i32.const 8))
         (local.set $h (call $resource_open (i32.const 100) (i32.const 6)))
         (call $resource_write (local.get $h) (i32.const 0) (i32.const 8))",
        &[(0, "line one"), (100, "log://")],
    )
    .limits(|l| l.max_log_bytes = Some(12))
    .run();
    assert_eq!(run.code(), tern_abi::errno::LIMIT_EXCEEDED, "{}", run.log);
    assert_eq!(run.log.matches("line one").count(), 1, "{}", run.log);
}

/// 2.4 million memory.grow and table.grow calls, by 0 pages and past the maximum.
const FAILED_GROWS: &str = include_str!("../release/grow-loop.wat");

#[test]
fn failed_grows_in_a_loop_do_not_overflow_the_host_stack() {
    // With wasmi's tail-call dispatch (auto-dispatch in an optimised build) the failure branch of the
    // grow handlers was not a tail call: each failed grow kept a host stack frame until the slice
    // ended, and ~40,000 of them aborted tern (issue 11, defect 3). `cargo test --release` and
    // runtime/tests/release/grow-loop.sh check the optimised build.
    let run = Guest::module(FAILED_GROWS).run();
    assert_eq!(run.code(), -2, "{}", run.termination());
}

#[test]
fn a_module_from_another_runtime_is_an_error_not_a_panic() {
    let module = tern::Runtime::new()
        .compile(&wat::parse_str(r#"(module (func (export "_start")))"#).unwrap())
        .unwrap();
    let process = tern::Process::new("m", vec![], Default::default(), tern::Stdio::null());
    let Err(error) = tern::Runtime::new().run(&module, process) else {
        panic!("a module of another runtime must not run");
    };
    assert!(error.to_string().contains("another Runtime"), "{error}");
}
