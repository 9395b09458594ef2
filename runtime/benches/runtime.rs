//! Core runtime costs: compiling, instantiating and running, a stream-ABI write, zero:// reads.
//!
//! Run with `cargo bench -p tern --bench runtime`; BENCHMARKS.md records the figures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tern::{Policy, Process, Runtime, Stdio};

fn process(policy: &Arc<Policy>) -> Process {
    let stdio = Stdio::null();
    Process::new("bench", vec!["bench".into()], policy.clone(), stdio)
}

/// A module whose `_start` opens `url` and calls `resource_CALL(h, 0, len)` `iters` times.
fn loop_module(url: &str, call: &str, len: u32, iters: u64) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
          (import "cwa" "resource_open" (func $open (param i32 i32) (result i32)))
          (import "cwa" "resource_{call}" (func $call (param i32 i32 i32) (result i32)))
          (memory (export "memory") 2)
          (data (i32.const 0) "{url}")
          (func (export "_start") (local $h i32) (local $i i64)
            (local.set $h (call $open (i32.const 0) (i32.const {url_len})))
            (loop $l
              (drop (call $call (local.get $h) (i32.const 0) (i32.const {len})))
              (local.set $i (i64.add (local.get $i) (i64.const 1)))
              (br_if $l (i64.lt_u (local.get $i) (i64.const {iters}))))))"#,
        url_len = url.len()
    ))
    .expect("bench module")
}

/// Times `iters` calls inside one guest run (compiling outside the timed region).
fn time_calls(runtime: &Runtime, policy: &Arc<Policy>, wasm: &[u8]) -> Duration {
    let module = runtime.compile(wasm).expect("compiles");
    let p = process(policy);
    let start = Instant::now();
    let outcome = runtime.run(&module, p).expect("runs");
    let elapsed = start.elapsed();
    assert_eq!(outcome.termination.exit_code(), 0);
    elapsed
}

fn benches(c: &mut Criterion) {
    let runtime = Runtime::new();
    let policy = Arc::new(Policy::new());
    let hello = wat::parse_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/hello.wat"
    ))
    .expect("hello.wat");

    c.bench_function("compile hello.wat (binary)", |b| {
        b.iter(|| runtime.compile(&hello).expect("compiles"))
    });

    let empty = runtime
        .compile(br#"(module (func (export "_start")))"#)
        .expect("compiles");
    c.bench_function("instantiate + run empty _start", |b| {
        b.iter(|| runtime.run(&empty, process(&policy)).expect("runs"))
    });

    c.bench_function("resource_write 16 B to null:// (per call)", |b| {
        b.iter_custom(|iters| {
            time_calls(
                &runtime,
                &policy,
                &loop_module("null://", "write", 16, iters),
            )
        })
    });

    let mut group = c.benchmark_group("zero:// read");
    group.throughput(Throughput::Bytes(65536));
    group.bench_function("resource_read 64 KiB (per call)", |b| {
        b.iter_custom(|iters| {
            time_calls(
                &runtime,
                &policy,
                &loop_module("zero://", "read", 65536, iters),
            )
        })
    });
    group.finish();
}

criterion_group! {
    name = runtime;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(runtime);
