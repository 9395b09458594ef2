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
fn memory_growth_past_the_page_limit_traps() {
    let wat = r#"(module (memory (export "memory") 1)
        (func (export "cwa_main") (result i32) (drop (memory.grow (i32.const 4))) (memory.grow (i32.const 100))))"#;
    let run = Guest::module(wat)
        .limits(|l| l.max_memory_pages = Some(10))
        .run();
    run.assert_trapped("memory limit");
    assert_eq!(run.outcome.peak_memory_pages, 5);
    // Without a limit it grows.
    let run = Guest::module(wat).run();
    assert_eq!(run.code(), 5);
    assert_eq!(run.outcome.peak_memory_pages, 105);
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
