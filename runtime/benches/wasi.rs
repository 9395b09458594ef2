//! WASI host calls against their stream-ABI equivalents, per call: a 16-byte write to `null://`,
//! reading the wall clock, and opening + reading + closing a small file. The target is a WASI call
//! costing no more than the stream ABI's equivalent + 20 %.
//!
//! Run with `cargo bench -p tern --bench wasi`; BENCHMARKS.md records the figures.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use tern::{Policy, Process, Runtime, Stdio};

/// A module importing what the loops need, with `url` as data at offset 128; `_start` runs `setup`
/// once, then `body` `iters` times.
fn loop_module(url: &str, setup: &str, body: &str, iters: u64) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
          (import "cwa" "resource_open" (func $resource_open (param i32 i32) (result i32)))
          (import "cwa" "resource_read" (func $resource_read (param i32 i32 i32) (result i32)))
          (import "cwa" "resource_write" (func $resource_write (param i32 i32 i32) (result i32)))
          (import "cwa" "resource_close" (func $resource_close (param i32)))
          (import "cwa" "time_now_ns" (func $time_now_ns (result i64)))
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
          (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
          (import "wasi_snapshot_preview1" "path_open"
            (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
          (memory (export "memory") 1)
          ;; 0: "null://"; 16: iovec {{1024, 16}}; 32: iovec {{1024, 256}}; 64: small.txt; 128: the file URL
          (data (i32.const 0) "null://")
          (data (i32.const 16) "\00\04\00\00\10\00\00\00")
          (data (i32.const 32) "\00\04\00\00\00\01\00\00")
          (data (i32.const 64) "small.txt")
          (data (i32.const 128) "{url}")
          (func (export "_start") (local $h i32) (local $i i64)
            {setup}
            (loop $l
              {body}
              (local.set $i (i64.add (local.get $i) (i64.const 1)))
              (br_if $l (i64.lt_u (local.get $i) (i64.const {iters}))))))"#
    ))
    .expect("bench module")
}

/// Times one guest run of `wasm` (compiling outside the timed region); checks the loop read
/// `read` bytes in all, so a failing call cannot pass for a fast one.
fn time_run(runtime: &Runtime, wasm: &[u8], make: &dyn Fn() -> Process, read: u64) -> Duration {
    let module = runtime.compile(wasm).expect("compiles");
    let p = make();
    let start = Instant::now();
    let outcome = runtime.run(&module, p).expect("runs");
    let elapsed = start.elapsed();
    assert_eq!(
        outcome.termination.exit_code(),
        0,
        "{}",
        outcome.termination
    );
    assert_eq!(
        outcome.process.stats.bytes_read, read,
        "bytes read by the loop"
    );
    assert!(outcome.process.stats.denied.is_empty());
    elapsed
}

fn process(policy: &Arc<Policy>, preopen: Option<&Path>) -> Process {
    let stdio = Stdio::null();
    let mut p = Process::new("bench", vec!["bench".into()], policy.clone(), stdio);
    if let Some(dir) = preopen {
        p.preopen(dir, "/d").expect("preopen");
    }
    p
}

fn benches(c: &mut Criterion) {
    let runtime = Runtime::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let dir_path = dir.path().canonicalize().expect("canonical");
    std::fs::write(dir_path.join("small.txt"), [b'x'; 200]).expect("small file");
    let mut policy = Policy::new();
    policy
        .allow(&format!("file://{}", dir_path.display()))
        .expect("grant");
    let policy = Arc::new(policy);
    let plain = || process(&policy, None);
    let preopened = || process(&policy, Some(&dir_path));

    let mut group = c.benchmark_group("wasi vs stream ABI (per call)");

    let open_null = "(local.set $h (call $resource_open (i32.const 0) (i32.const 7)))";
    group.bench_function("stream: resource_write 16 B to null://", |b| {
        let body = "(drop (call $resource_write (local.get $h) (i32.const 1024) (i32.const 16)))";
        b.iter_custom(|n| time_run(&runtime, &loop_module("", open_null, body, n), &plain, 0))
    });
    group.bench_function("wasi: fd_write 16 B to null://", |b| {
        let body =
            "(drop (call $fd_write (local.get $h) (i32.const 16) (i32.const 1) (i32.const 48)))";
        b.iter_custom(|n| time_run(&runtime, &loop_module("", open_null, body, n), &plain, 0))
    });

    group.bench_function("stream: time_now_ns", |b| {
        let body = "(drop (call $time_now_ns))";
        b.iter_custom(|n| time_run(&runtime, &loop_module("", "", body, n), &plain, 0))
    });
    group.bench_function("wasi: clock_time_get realtime", |b| {
        let body = "(drop (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 56)))";
        b.iter_custom(|n| time_run(&runtime, &loop_module("", "", body, n), &plain, 0))
    });

    // The stream ABI opens the file by URL; WASI opens it below preopen fd 3 (granted the same way).
    let url = format!("file://{}/small.txt?mode=r", dir_path.display());
    group.bench_function(
        "stream: resource_open + read + close of a small file",
        |b| {
            let body = format!(
                "(local.set $h (call $resource_open (i32.const 128) (i32.const {len})))
             (drop (call $resource_read (local.get $h) (i32.const 1024) (i32.const 256)))
             (call $resource_close (local.get $h))",
                len = url.len()
            );
            b.iter_custom(|n| time_run(&runtime, &loop_module(&url, "", &body, n), &plain, 200 * n))
        },
    );
    group.bench_function("wasi: path_open + fd_read + fd_close of a small file", |b| {
        let body = "(drop (call $path_open (i32.const 3) (i32.const 1) (i32.const 64) (i32.const 9)
                       (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 60)))
                    (drop (call $fd_read (i32.load (i32.const 60)) (i32.const 32) (i32.const 1) (i32.const 48)))
                    (drop (call $fd_close (i32.load (i32.const 60))))";
        b.iter_custom(|n| time_run(&runtime, &loop_module("", "", body, n), &preopened, 200 * n))
    });
    group.finish();
}

criterion_group! {
    name = wasi;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(wasi);
