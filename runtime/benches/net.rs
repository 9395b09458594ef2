//! The cost of the guest ABI on an HTTP round trip: a GET to a loopback server made by a guest
//! (through `resource_open`/`resource_write`/`resource_flush`/`resource_read`) against the same GET
//! made directly with ureq from Rust.
//!
//! Run with `cargo bench -p tern --bench net`; BENCHMARKS.md records the figures.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use tern::{Policy, Process, Runtime, Stdio};

const BODY: &[u8] = b"hello, bench\n";

/// A keep-alive HTTP/1.1 server on 127.0.0.1 answering every request with [`BODY`].
fn server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                loop {
                    // Request line and headers up to the blank line; the bench sends no bodies.
                    let mut blank = false;
                    while !blank {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) => blank = line == "\r\n",
                        }
                    }
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", BODY.len());
                    if writer
                        .write_all(head.as_bytes())
                        .and_then(|()| writer.write_all(BODY))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    port
}

fn process(policy: &Arc<Policy>) -> Process {
    Process::new("bench", vec!["bench".into()], policy.clone(), Stdio::null())
}

/// One GET with ureq, read to the end and checked.
fn ureq_get(agent: &ureq::Agent, url: &str) {
    let mut body = Vec::new();
    let response = agent.get(url).call().expect("GET");
    response
        .into_body()
        .into_reader()
        .read_to_end(&mut body)
        .unwrap();
    assert_eq!(body, BODY);
}

/// A guest that opens `url` and does `exchanges` full-form GETs on the handle, each read to the
/// end; it traps if anything fails, so a broken run cannot pass for a fast one.
fn guest(url: &str, exchanges: u32) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
          (import "cwa" "resource_open" (func $open (param i32 i32) (result i32)))
          (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
          (import "cwa" "resource_flush" (func $flush (param i32) (result i32)))
          (import "cwa" "resource_read" (func $read (param i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "{url}")
          (data (i32.const 512) "GET / HTTP/1.1\0d\0a\0d\0a")
          (func (export "_start") (local $h i32) (local $i i32) (local $n i32) (local $total i32)
            (local.set $h (call $open (i32.const 0) (i32.const {url_len})))
            (if (i32.lt_s (local.get $h) (i32.const 0)) (then unreachable))
            (loop $exchange
              (if (i32.ne (call $write (local.get $h) (i32.const 512) (i32.const 18)) (i32.const 18))
                (then unreachable))
              (if (i32.ne (call $flush (local.get $h)) (i32.const 0)) (then unreachable))
              (local.set $total (i32.const 0))
              (block $done (loop $more
                (local.set $n (call $read (local.get $h) (i32.const 1024) (i32.const 8192)))
                (br_if $done (i32.eq (local.get $n) (i32.const -5)))
                (if (i32.lt_s (local.get $n) (i32.const 0)) (then unreachable))
                (local.set $total (i32.add (local.get $total) (local.get $n)))
                (br $more)))
              (if (i32.lt_u (local.get $total) (i32.const {body_len})) (then unreachable))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $exchange (i32.lt_u (local.get $i) (i32.const {exchanges}))))))"#,
        url_len = url.len(),
        body_len = BODY.len(),
    ))
    .expect("bench module")
}

fn benches(c: &mut Criterion) {
    let port = server();
    let url = format!("http://127.0.0.1:{port}/");
    let mut policy = Policy::new();
    policy.allow(&format!("http://127.0.0.1:{port}")).unwrap();
    let policy = Arc::new(policy);
    let runtime = Runtime::new();

    let mut group = c.benchmark_group("http round trip");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(4));

    // Keep-alive: one connection for many requests.
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    group.bench_function("ureq direct, keep-alive", |b| {
        b.iter(|| ureq_get(&agent, &url))
    });
    // Many exchanges per run, so the run's own connection setup (and the first exchanges on a
    // fresh connection, which are slower) weigh little, as they do for the ureq figure above.
    const EXCHANGES: u32 = 1000;
    let many = runtime.compile(&guest(&url, EXCHANGES)).expect("compiles");
    group.bench_function("guest ABI, keep-alive (per exchange)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters.div_ceil(u64::from(EXCHANGES)) {
                let start = Instant::now();
                let outcome = runtime.run(&many, process(&policy)).expect("runs");
                total += start.elapsed();
                assert_eq!(
                    outcome.termination.exit_code(),
                    0,
                    "{}",
                    outcome.termination
                );
            }
            // Each run did EXCHANGES round trips; scale to the iterations asked for.
            total.mul_f64(
                iters as f64 / (iters.div_ceil(u64::from(EXCHANGES)) * u64::from(EXCHANGES)) as f64,
            )
        })
    });

    // The same exchanges through the Process API, without WebAssembly: the scheme's own share.
    let mut host_side = process(&policy);
    let handle = host_side.open(&url).expect("open");
    group.bench_function("Process API, keep-alive (no guest)", |b| {
        b.iter(|| {
            host_side.write(handle, b"GET / HTTP/1.1\r\n\r\n").unwrap();
            host_side.flush(handle).unwrap();
            let mut buf = [0u8; 8192];
            let mut total = 0;
            loop {
                match host_side.read(handle, &mut buf).unwrap() {
                    0 => break,
                    n => total += n,
                }
            }
            assert!(total > BODY.len());
        })
    });

    // A new connection for every request: what one `tern run` of a fetching guest does.
    group.bench_function("ureq direct, new connection", |b| {
        b.iter(|| ureq_get(&ureq::Agent::config_builder().build().into(), &url))
    });
    let once = runtime.compile(&guest(&url, 1)).expect("compiles");
    group.bench_function("guest ABI, new connection (whole run)", |b| {
        b.iter(|| {
            let outcome = runtime.run(&once, process(&policy)).expect("runs");
            assert_eq!(
                outcome.termination.exit_code(),
                0,
                "{}",
                outcome.termination
            );
        })
    });
    group.finish();
}

criterion_group!(net, benches);
criterion_main!(net);
