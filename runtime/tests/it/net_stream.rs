//! A 10 MiB HTTP body streams through a guest without the host holding it in memory.
//!
//! How streaming is guaranteed: the host serialises only the response head; the body is ureq's
//! reader over the socket, and each `resource_read` pulls at most the guest's buffer length from
//! it (scheme/http.rs, `Reply::read`). Here the guest copies the body in 32 KiB reads to a file,
//! and the test checks the file byte for byte and that the process's peak resident memory grew by
//! much less than the body's size. This test is alone in its binary so no other test's memory
//! counts.
#![cfg(feature = "net")]

use crate::common;
use crate::net_support;

use std::io::Write;

use net_support::fetch_body;
use tern_loopback::{http_server, Request};

const SIZE: usize = 10 << 20;

/// The body's byte at offset `i`: not periodic in any buffer size the host uses.
fn pattern(i: usize) -> u8 {
    (i % 251) as u8 ^ (i >> 16) as u8
}

/// A figure from /proc/self/status, in KiB.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn ten_mib_streams_through_in_chunks() {
    let port = http_server(|req: &Request, out: &mut dyn Write| {
        let size = if req.target == "/big" { SIZE } else { 1024 };
        write!(out, "HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n")?;
        let mut chunk = vec![0u8; 64 << 10];
        for start in (0..size).step_by(chunk.len()) {
            let len = chunk.len().min(size - start);
            for (j, b) in chunk[..len].iter_mut().enumerate() {
                *b = pattern(start + j);
            }
            out.write_all(&chunk[..len])?;
        }
        out.flush()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("body");
    let sink = format!("file://{}?mode=w", out_path.display());
    let guest = |path: &str| {
        let url = format!("http://127.0.0.1:{port}{path}");
        let (body, data) = fetch_body(&url, None, Some(&sink));
        let data: Vec<(u32, &str)> = data.iter().map(|(o, s)| (*o, s.as_str())).collect();
        common::Guest::main(&body, &data)
            .allow(&format!("http://127.0.0.1:{port}"))
            .allow(&format!("file://{}", dir.path().display()))
    };
    // A small exchange first, so one-time costs (threads, lazily built tables, allocator arenas)
    // are not counted against the big one.
    assert_eq!(guest("/small").run().code(), 0);
    let big = guest("/big");

    // Reset the peak-RSS mark (Linux ≥ 4.0) so it measures this run only.
    let before = status_kib("VmRSS:");
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let run = big.run();
    let peak = status_kib("VmHWM:");
    assert_eq!(run.code(), 0, "{}", run.log);

    let written = std::fs::read(&out_path).unwrap();
    let head_end = written
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    let head = String::from_utf8_lossy(&written[..head_end]);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains(&format!("content-length: {SIZE}")), "{head}");
    let body = &written[head_end..];
    assert_eq!(body.len(), SIZE);
    let wrong = body.iter().enumerate().position(|(i, b)| *b != pattern(i));
    assert_eq!(wrong, None, "first wrong byte");
    assert_eq!(
        run.outcome.process.stats.bytes_read,
        (head_end + SIZE) as u64
    );

    match (reset, before, peak) {
        (true, Some(before), Some(peak)) => {
            let grown = peak.saturating_sub(before);
            eprintln!(
                "peak resident memory grew by {grown} KiB while streaming {} KiB",
                SIZE >> 10
            );
            // Holding the body once would add 10 240 KiB; the server thread's 64 KiB chunk, the
            // guest's memory and the engine stay far below that.
            assert!(grown < 4 * 1024, "peak RSS grew by {grown} KiB");
        }
        _ => eprintln!("peak RSS cannot be reset here; only correctness was checked"),
    }
}
