//! Limits and overload: 503 + Retry-After, queue timeout, disconnects, mixed load, slow clients.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::*;
use std::net::SocketAddr;

const BUSY: &str = r#"
[handlers.t]
module = "GUEST"
routes = ["/t/..."]
max-concurrency = 1
queue-depth = 0
"#;

/// Starts a /t/drip request and returns its connection once the run is writing.
fn start_drip(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /t/drip HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 64];
    let n = s.read(&mut first).unwrap();
    assert!(first[..n].starts_with(b"HTTP/1.1 200"));
    s
}

#[test]
fn full_queue_is_503_with_retry_after_and_a_disconnect_stops_the_run() {
    let s = Server::start(BUSY);
    let drip = start_drip(s.addr());
    let r = s.get("/t/hello");
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(s.record().end, "rejected");
    // The client goes away: the run stops at its next write, long before its 30 s timeout.
    let gone = Instant::now();
    drop(drip);
    let rec = s.record();
    assert!(rec.client_gone, "{rec:?}");
    assert!(gone.elapsed() < Duration::from_secs(10));
    // The record is written just before the worker is handed back: retry until it is.
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.get("/t/hello").status != 200 {
        assert!(Instant::now() < deadline, "the worker never came back");
    }
}

#[test]
fn queue_timeout_is_503() {
    let s = Server::start(&BUSY.replace(
        "queue-depth = 0",
        "queue-depth = 4\nqueue-timeout = \"100ms\"",
    ));
    let _drip = start_drip(s.addr());
    let r = s.get("/t/hello");
    assert_eq!((r.status, r.header("retry-after")), (503, Some("1")));
}

#[test]
fn mixed_load_every_good_request_gets_200() {
    let toml = r#"
[server]
workers = 2
[handlers.good]
module = "GUEST"
routes = ["/good/..."]
[handlers.bad]
module = "GUEST"
routes = ["/bad/..."]
timeout = "200ms"
"#
    .replace("[server]\n", "");
    let s = Server::start(&toml);
    let addr = s.addr();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                let mut statuses = Vec::new();
                for i in 0..20 {
                    let n = t * 20 + i;
                    let path = match n % 10 {
                        0 if n % 20 == 0 => "/bad/loop",
                        0 => "/bad/trap",
                        _ => "/good/hello",
                    };
                    let r = request(addr, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"));
                    statuses.push((path, r.status));
                }
                statuses
            })
        })
        .collect();
    let mut good = 0;
    for t in threads {
        for (path, status) in t.join().unwrap() {
            if path.starts_with("/good") {
                assert_eq!(status, 200, "a good request failed");
                good += 1;
            } else {
                assert!(matches!(status, 500 | 503 | 504), "{path}: {status}");
            }
        }
    }
    assert_eq!(good, 144);
}

#[test]
fn slowloris_does_not_starve_workers() {
    let toml = "[handlers.t]\nmodule = \"GUEST\"\nroutes = [\"/t/...\"]\n"
        .replace("[handlers", "header-read-timeout = \"300ms\"\n[handlers");
    let s = Server::start(&toml);
    let mut slow: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut c = TcpStream::connect(s.addr()).unwrap();
            c.write_all(b"GET /t/hello HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .unwrap();
            c
        })
        .collect();
    let started = Instant::now();
    assert_eq!(s.get("/t/hello").status, 200);
    assert!(started.elapsed() < Duration::from_secs(5));
    // A header block over max-header-bytes (16 KiB by default) is refused, not buffered.
    let big = format!(
        "GET /t/hello HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let mut c = TcpStream::connect(s.addr()).unwrap();
    let _ = c.write_all(big.as_bytes());
    let mut answer = Vec::new();
    let _ = c.read_to_end(&mut answer);
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 431"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // The slow clients are cut off by the header-read timeout (EOF or a 408), never served.
    for c in &mut slow {
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let _ = c.read_to_end(&mut buf);
        assert!(
            buf.is_empty() || buf.starts_with(b"HTTP/1.1 408"),
            "{}",
            String::from_utf8_lossy(&buf)
        );
    }
}

/// Reads one response off a keep-alive connection: its head, then a `Content-Length` or chunked body.
fn read_response(c: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    let mut fill = |buf: &mut Vec<u8>, until: &dyn Fn(&[u8]) -> bool| {
        while !until(buf) {
            assert_eq!(c.read(&mut byte).unwrap(), 1, "closed mid-response");
            buf.push(byte[0]);
        }
    };
    fill(&mut buf, &|b| b.ends_with(b"\r\n\r\n"));
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    if head.contains("transfer-encoding: chunked") {
        fill(&mut buf, &|b| b.ends_with(b"\r\n0\r\n\r\n"));
    } else {
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        let start = buf.len();
        fill(&mut buf, &|b| b.len() == start + len);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[test]
fn idle_keep_alive_connections_close_and_busy_ones_do_not() {
    let s = Server::start(
        r#"keep-alive-timeout = "300ms"
[handlers.t]
module = "GUEST"
routes = ["/t/..."]
"#,
    );
    let mut c = TcpStream::connect(s.addr()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // A run longer than the idle timeout: the connection is busy, not idle, and stays open for the
    // next request.
    c.write_all(b"GET /t/slow?ms=800 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let r = read_response(&mut c);
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("slow done"),
        "{r}"
    );
    c.write_all(b"GET /t/hello HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let r = read_response(&mut c);
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    // Then, idle, the server closes it (well before the read timeout).
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
}
