//! An [`Interrupt`] ends a run whatever the guest waits on: a TCP read, an HTTP exchange, a WASI
//! `poll_oneoff` sleep, a stdin pipe. Each guest first writes to its stdout, which tells the test
//! it is about to wait; the test then triggers the interrupt from its own thread. The runs have no
//! timeout, so only the interrupt can end them; the 10 s bound is a guard against a hang, not a
//! timing assertion.

use std::io::Write;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use tern::{Capture, Interrupt, Outcome, Policy, Process, Runtime, Stdio, Termination};

use crate::common::cwa_module;
use crate::net_support::wat_escape;

/// Stdout that reports its first write.
struct Signal(Option<mpsc::Sender<()>>);

impl Write for Signal {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `wat` under `policy` (with `stdin` if given, else an empty one), triggers the interrupt
/// once the guest is waiting — a message on `waiting` (from the server the guest waits on) or,
/// without one, the guest's first write to its stdout — and returns the outcome and the log.
fn interrupted(
    wat: &str,
    policy: Policy,
    stdin: Option<std::io::PipeReader>,
    waiting: Option<mpsc::Receiver<()>>,
) -> (Outcome, String) {
    let runtime = Runtime::new();
    let wasm = wat::parse_str(wat).expect("test module is valid text");
    let module = runtime.compile(&wasm).expect("test module compiles");
    let (wrote, wrote_rx) = mpsc::channel();
    let waiting = waiting.unwrap_or(wrote_rx);
    let log = Capture::new();
    let stdio = Stdio::new(
        Box::new(std::io::empty()),
        Box::new(Signal(Some(wrote))),
        Box::new(std::io::sink()),
        Box::new(log.clone()),
    );
    let stdio = match stdin {
        Some(pipe) => stdio.stdin_fd(pipe).unwrap(),
        None => stdio,
    };
    let process = Process::new("guest", vec!["guest".into()], Arc::new(policy), stdio);
    let interrupt = Interrupt::new();
    let trigger = interrupt.clone();
    let (done, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(runtime.run_with(&module, process, &interrupt));
    });
    waiting
        .recv_timeout(Duration::from_secs(10))
        .expect("the guest got to its wait");
    trigger.trigger();
    let outcome = outcome
        .recv_timeout(Duration::from_secs(10))
        .expect("the interrupt ended the run")
        .expect("the run started");
    (outcome, log.text())
}

/// A guest that writes "waiting" to stdout, then opens the URL at offset 100 (if any), writes
/// "ping" to it and reads from it (or reads stdin without a URL); returns what the read returned.
fn waiting_reader(url: Option<&str>) -> String {
    let open = match url {
        Some(url) => format!(
            "(local.set $h (call $resource_open (i32.const 100) (i32.const {})))
             (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (i32.const 100))))
             (drop (call $resource_write (local.get $h) (i32.const 10) (i32.const 4)))",
            url.len()
        ),
        None => String::new(),
    };
    let url = wat_escape(url.unwrap_or_default().as_bytes());
    cwa_module(
        &format!(
            "(drop (call $resource_write (i32.const 1) (i32.const 0) (i32.const 7)))
             {open}
             (call $resource_read (local.get $h) (i32.const 1024) (i32.const 1024))"
        ),
        &[(0, "waiting"), (10, "ping"), (100, &url)],
    )
}

#[test]
#[cfg(feature = "net")]
fn a_tcp_read_from_a_silent_server_ends_when_interrupted() {
    use std::io::Read;

    let (got, pinged) = mpsc::channel();
    let port = tern_loopback::listen(move |mut stream| {
        let mut buf = [0u8; 4];
        if stream.read_exact(&mut buf).is_ok() {
            let _ = got.send(());
        }
        // Never answers; holds the connection until the guest's side goes away.
        let _ = stream.read(&mut buf);
    })
    .unwrap();
    let url = format!("tcp://127.0.0.1:{port}");
    let mut policy = Policy::new();
    policy.allow(&url).unwrap();
    let wat = waiting_reader(Some(&url));
    let (outcome, log) = interrupted(&wat, policy, None, Some(pinged));
    assert_eq!(outcome.termination, Termination::Interrupted, "{log}");
}

#[test]
#[cfg(feature = "net")]
fn an_http_exchange_with_a_silent_server_ends_when_interrupted() {
    let (got, requested) = mpsc::channel();
    let port = tern_loopback::http_server(move |_, _| {
        let _ = got.send(());
        // Never answers.
        loop {
            std::thread::park();
        }
    })
    .unwrap();
    let url = format!("http://127.0.0.1:{port}/");
    let mut policy = Policy::new();
    policy.allow(&url).unwrap();
    // The guest's read sends a GET.
    let wat = cwa_module(
        &format!(
            "(drop (call $resource_write (i32.const 1) (i32.const 0) (i32.const 7)))
             (local.set $h (call $resource_open (i32.const 100) (i32.const {})))
             (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (i32.const 100))))
             (call $resource_read (local.get $h) (i32.const 1024) (i32.const 1024))",
            url.len()
        ),
        &[(0, "waiting"), (100, &wat_escape(url.as_bytes()))],
    );
    let (outcome, log) = interrupted(&wat, policy, None, Some(requested));
    assert_eq!(outcome.termination, Termination::Interrupted, "{log}");
}

#[test]
fn a_stdin_pipe_without_data_ends_when_interrupted() {
    let (reader, writer) = std::io::pipe().unwrap();
    let (outcome, log) = interrupted(&waiting_reader(None), Policy::new(), Some(reader), None);
    assert_eq!(outcome.termination, Termination::Interrupted, "{log}");
    drop(writer);
}

#[test]
fn a_stdin_pipe_is_read_when_data_comes() {
    let (reader, mut writer) = std::io::pipe().unwrap();
    let stdin = Stdio::null().stdin_fd(reader).unwrap();
    writer.write_all(b"hello").unwrap();
    drop(writer);
    let runtime = Runtime::new();
    let module = runtime
        .compile(&wat::parse_str(waiting_reader(None)).unwrap())
        .expect("test module compiles");
    let process = Process::new("guest", vec![], Arc::new(Policy::new()), stdin);
    let outcome = runtime.run(&module, process).unwrap();
    assert_eq!(outcome.termination, Termination::Exited(5));
}

#[test]
#[cfg(feature = "wasi")]
fn a_long_poll_oneoff_ends_when_interrupted() {
    // After writing "waiting\n" (iovec at 0 → 100), one relative monotonic clock subscription of
    // an hour at 200, events at 300, the count at 400.
    let sub = "\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\01\\00\\00\\00\\00\\00\\00\\00\\00\\a0\\b8\\30\\46\\03\\00\\00";
    let wat = format!(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "\64\00\00\00\08\00\00\00")
          (data (i32.const 100) "waiting\n")
          (data (i32.const 200) "{sub}")
          (func (export "_start")
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 400)))
            (drop (call $poll_oneoff (i32.const 200) (i32.const 300) (i32.const 1) (i32.const 400)))))"#
    );
    let (outcome, log) = interrupted(&wat, Policy::new(), None, None);
    assert_eq!(outcome.termination, Termination::Interrupted, "{log}");
}

/// Runs a guest that connects to `scheme://` a loopback listener whose accept queue is full (the
/// kernel drops further SYNs, so a connect waits, retransmitting, until it gives up), under a
/// connect timeout longer than the test's guard: only the interrupt can end the connect in time.
#[cfg(all(feature = "net", target_os = "linux"))]
fn assert_a_hanging_connect_is_interrupted(scheme: &str, guest: fn(&str) -> String) {
    use std::net::{TcpListener, TcpStream};

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    let full =
        (0..1024).any(
            |_| match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                Ok(stream) => {
                    held.push(stream);
                    false
                }
                Err(_) => true,
            },
        );
    assert!(full, "the accept queue never filled");
    let url = format!("{scheme}://127.0.0.1:{}", addr.port());
    let mut policy = Policy::new();
    policy.allow(&url).unwrap();
    policy.network.connect_timeout = Duration::from_secs(60);
    let (outcome, log) = interrupted(&guest(&url), policy, None, None);
    assert_eq!(outcome.termination, Termination::Interrupted, "{log}");
    drop(held);
}

#[test]
#[cfg(all(feature = "net", target_os = "linux"))]
fn a_tcp_connect_that_hangs_ends_when_interrupted() {
    // The open connects, after the guest wrote to stdout.
    assert_a_hanging_connect_is_interrupted("tcp", |url| waiting_reader(Some(url)));
}

#[test]
#[cfg(all(feature = "net", target_os = "linux"))]
fn an_http_connect_that_hangs_ends_when_interrupted() {
    // The read connects (a GET), after the guest wrote to stdout; it reads whatever that write
    // returned.
    assert_a_hanging_connect_is_interrupted("http", |url| {
        cwa_module(
            &format!(
                "(local.set $h (call $resource_open (i32.const 100) (i32.const {})))
                 (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (i32.const 100))))
                 (drop (call $resource_write (i32.const 1) (i32.const 0) (i32.const 7)))
                 (call $resource_read (local.get $h) (i32.const 1024) (i32.const 1024))",
                url.len()
            ),
            &[(0, "waiting"), (100, &wat_escape(url.as_bytes()))],
        )
    });
}
