//! Guests and helpers for the network tests: a .wat guest that fetches a URL, one that talks to an
//! echo server, and network settings for test guests. The loopback servers and the test CA they run
//! against are in the `tern-loopback` crate.
#![allow(dead_code)]

use crate::common::{Guest, Run};

/// Escapes bytes for a WebAssembly text string literal.
pub fn wat_escape(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b':' | b'.' | b'-' | b'?' | b'=' => {
                (*b as char).to_string()
            }
            _ => format!("\\{b:02x}"),
        })
        .collect()
}

/// Exit-code bases of [`fetch_body`]: the failing step's base minus the error number.
pub const OPEN: i32 = 0;
pub const WRITE: i32 = 20;
pub const FLUSH: i32 = 40;
pub const READ: i32 = 60;

/// The body of a guest that opens the URL at offset 0, writes `request` (if any) and flushes, then
/// copies everything it reads (in 32 KiB reads) to its stdout, or to the URL at offset 1024 if
/// `sink` is given. Exit status 0, or a step's base ([`OPEN`], …) minus the error number.
pub fn fetch_body(
    url: &str,
    request: Option<&[u8]>,
    sink: Option<&str>,
) -> (String, Vec<(u32, String)>) {
    assert!(url.len() < 1024 && request.is_none_or(|r| r.len() <= 12 * 1024));
    let mut data = vec![(0, wat_escape(url.as_bytes()))];
    let mut body = format!(
        "(local.set $h (call $resource_open (i32.const 0) (i32.const {})))
         (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (i32.sub (i32.const {OPEN}) (local.get $h)))))
         (local.set $i (i32.const 1))",
        url.len()
    );
    if let Some(sink) = sink {
        data.push((1024, wat_escape(sink.as_bytes())));
        body += &format!(
            "(local.set $i (call $resource_open (i32.const 1024) (i32.const {})))
             (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const 99))))",
            sink.len()
        );
    }
    if let Some(request) = request {
        data.push((4096, wat_escape(request)));
        body += &format!(
            "(local.set $n (call $resource_write (local.get $h) (i32.const 4096) (i32.const {})))
             (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.sub (i32.const {WRITE}) (local.get $n)))))
             (local.set $n (call $resource_flush (local.get $h)))
             (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.sub (i32.const {FLUSH}) (local.get $n)))))",
            request.len()
        );
    }
    body += &format!(
        "(block $done (loop $more
           (local.set $n (call $resource_read (local.get $h) (i32.const 16384) (i32.const 32768)))
           (br_if $done (i32.eq (local.get $n) (i32.const -5)))
           (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.sub (i32.const {READ}) (local.get $n)))))
           (if (i32.ne (call $resource_write (local.get $i) (i32.const 16384) (local.get $n)) (local.get $n))
             (then (return (i32.const 98))))
           (br $more)))
         (call $resource_close (local.get $i))
         (i32.const 0)"
    );
    (body, data)
}

/// A guest running [`fetch_body`].
pub fn fetch(url: &str, request: Option<&[u8]>) -> Guest {
    let (body, data) = fetch_body(url, request, None);
    let data: Vec<(u32, &str)> = data.iter().map(|(o, s)| (*o, s.as_str())).collect();
    Guest::main(&body, &data)
}

/// Network settings and grants for a test guest.
pub trait NetGuest {
    /// Changes the guest's network settings.
    fn network(self, f: impl FnOnce(&mut tern::Network)) -> Self;
    /// Grants a special address range (`--allow-private`).
    fn allow_private(self, range: &str) -> Self;
}

impl NetGuest for Guest {
    fn network(mut self, f: impl FnOnce(&mut tern::Network)) -> Self {
        f(&mut self.policy.network);
        self
    }

    fn allow_private(mut self, range: &str) -> Self {
        self.policy.allow_private(range).expect("test range parses");
        self
    }
}

/// Splits an HTTP/1.1 response into its head and body.
pub fn split_response(text: &str) -> (&str, &str) {
    text.split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no blank line after the head in {text:?}"))
}

/// Runs `guest` with a 30 s network timeout and a 1 s run timeout against a server that does not
/// answer in time, and checks the run ended as timed out, well before the network timeout.
pub fn assert_run_timeout_cuts_the_wait(guest: Guest) {
    let start = std::time::Instant::now();
    let run = guest
        .network(|n| n.timeout = std::time::Duration::from_secs(30))
        .limits(|l| l.timeout = Some(std::time::Duration::from_secs(1)))
        .run();
    assert!(
        matches!(run.termination(), tern::Termination::TimedOut(_)),
        "{:?}\n{}",
        run.termination(),
        run.log
    );
    let waited = start.elapsed();
    assert!(waited < std::time::Duration::from_secs(15), "{waited:?}");
}

/// A guest that opens the URL at 0, writes the 11 bytes at 512, then reads until it has 11 bytes
/// back (or the stream ends) and prints them.
pub fn echo_guest(url: &str) -> Guest {
    let body = format!(
        "(local.set $h (call $resource_open (i32.const 0) (i32.const {})))
         (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (i32.sub (i32.const {OPEN}) (local.get $h)))))
         (if (i32.ne (call $resource_write (local.get $h) (i32.const 512) (i32.const 11)) (i32.const 11))
           (then (return (i32.const 90))))
         (drop (call $resource_flush (local.get $h)))
         (local.set $i (i32.const 0))
         (block $done (loop $more
           (br_if $done (i32.ge_u (local.get $i) (i32.const 11)))
           (local.set $n (call $resource_read (local.get $h) (i32.add (i32.const 1024) (local.get $i)) (i32.const 64)))
           (br_if $done (i32.eq (local.get $n) (i32.const -5)))
           (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.sub (i32.const {READ}) (local.get $n)))))
           (local.set $i (i32.add (local.get $i) (local.get $n)))
           (br $more)))
         (drop (call $resource_write (i32.const 1) (i32.const 1024) (local.get $i)))
         (call $resource_close (local.get $h))
         (i32.const 0)",
        url.len()
    );
    Guest::main(&body, &[(0, url), (512, "hello, echo")])
}

/// Asserts an [`echo_guest`] run got its message back and exited 0.
pub fn assert_echoed(run: &Run) {
    assert_eq!(
        (run.code(), run.stdout.as_str()),
        (0, "hello, echo"),
        "{}",
        run.log
    );
}
