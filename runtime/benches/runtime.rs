//! Core runtime costs: compiling, instantiating and running, a stream-ABI write, zero:// reads.
//!
//! Run with `cargo bench -p tern --bench runtime`; BENCHMARKS.md records the figures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tern::{Capture, Policy, Process, Runtime, Stdio};

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

/// A small handler, the server's unit of work: reads its request body from stdin and writes a CGI
/// response (head, then the body echoed) to stdout.
const HANDLER: &str = r#"(module
  (import "cwa" "resource_read" (func $read (param i32 i32 i32) (result i32)))
  (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "Status: 200\r\nContent-Type: text/plain\r\n\r\nyou sent: ")
  (func (export "_start") (local $n i32)
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 51)))
    (local.set $n (call $read (i32.const 0) (i32.const 1024) (i32.const 4096)))
    (if (i32.gt_s (local.get $n) (i32.const 0))
      (then (drop (call $write (i32.const 1) (i32.const 1024) (local.get $n)))))))"#;

/// Compiles [`HANDLER`] and runs it once with a request body on stdin and stdout captured.
fn compile_and_run_handler(runtime: &Runtime, policy: &Arc<Policy>) -> Vec<u8> {
    let module = runtime.compile(HANDLER.as_bytes()).expect("compiles");
    let stdout = Capture::new();
    let stdio = Stdio::new(
        Box::new(std::io::Cursor::new(b"name=tern&lang=wasm".to_vec())),
        Box::new(stdout.clone()),
        Box::new(std::io::sink()),
        Box::new(std::io::sink()),
    );
    let process = Process::new("handler", vec!["handler".into()], policy.clone(), stdio);
    let outcome = runtime.run(&module, process).expect("runs");
    assert_eq!(outcome.termination.exit_code(), 0);
    stdout.contents()
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

    let response = compile_and_run_handler(&runtime, &policy);
    assert!(
        response.ends_with(b"you sent: name=tern&lang=wasm"),
        "{response:?}"
    );
    c.bench_function("compile + run a small handler (captured stdio)", |b| {
        b.iter(|| compile_and_run_handler(&runtime, &policy))
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
