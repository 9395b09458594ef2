//! `tcp://`, `dns://` and the address checks (SSRF guard) through real guests.
#![cfg(feature = "net")]

use crate::net_support;

use std::net::TcpListener;

use net_support::{assert_echoed, echo_guest, fetch, NetGuest, OPEN, READ};
use tern_abi::errno;
use tern_loopback::{echo_server, http_server, respond};

#[test]
fn tcp_is_a_bidirectional_stream() {
    let port = echo_server().unwrap();
    let url = format!("tcp://127.0.0.1:{port}");
    let run = echo_guest(&url).allow(&url).run();
    assert_echoed(&run);
    assert_eq!(run.outcome.process.stats.bytes_read, 11);
}

#[test]
fn the_run_timeout_cuts_a_tcp_read_short() {
    // A server that accepts and never writes: the guest's read would wait the network timeout (30 s).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || listener.accept().map(|(conn, _)| conn));
    let url = format!("tcp://127.0.0.1:{port}");
    net_support::assert_run_timeout_cuts_the_wait(echo_guest(&url).allow(&url));
    drop(server.join());
}

#[test]
fn tcp_refused_and_closed_connections() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("tcp://127.0.0.1:{port}");
    let run = echo_guest(&url).allow(&url).run();
    assert_eq!(run.code(), OPEN - errno::CONNECTION_FAILED, "{}", run.log);
    assert!(run.log.contains("connection failed"), "{}", run.log);
    // A server that closes at once: the guest reads the end of the stream.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            drop(stream);
        }
    });
    let url = format!("tcp://127.0.0.1:{port}");
    let run = echo_guest(&url).allow(&url).run();
    assert!(
        run.code() == 0 || run.code() == READ - errno::CONNECTION_FAILED,
        "{}",
        run.log
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn tcp_needs_a_port() {
    let run = echo_guest("tcp://127.0.0.1").allow("tcp://127.0.0.1").run();
    assert_eq!(run.code(), OPEN - errno::INVALID_ARGUMENT, "{}", run.log);
    assert!(run.log.contains("a port is required"), "{}", run.log);
}

#[test]
fn dns_lists_addresses() {
    let run = fetch("dns://localhost", None)
        .allow("dns://localhost")
        .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.contains(&"127.0.0.1"), "{lines:?}");
    for line in &lines {
        assert!(
            line.parse::<std::net::IpAddr>().unwrap().is_loopback(),
            "{line}"
        );
    }
    let run = fetch("dns://127.0.0.1", None).allow("dns:").run();
    assert_eq!(
        (run.code(), run.stdout.as_str()),
        (0, "127.0.0.1\n"),
        "{}",
        run.log
    );
    let run = fetch("dns://no-such-host.invalid", None)
        .allow("dns:")
        .run();
    assert_eq!(run.code(), OPEN - errno::NOT_FOUND, "{}", run.log);
    let run = fetch("dns://localhost", None).run();
    assert_eq!(run.code(), OPEN - errno::PERMISSION_DENIED, "{}", run.log);
}

/// Each case names a URL the policy grants but whose address is special and not granted: the
/// open (tcp) or the exchange (http) fails with permission denied, nothing connects, and the log
/// names the flag that would grant it.
#[test]
fn special_addresses_are_refused_unless_granted() {
    let echo = echo_server().unwrap();
    let web = http_server(|_, out| respond(out, "200 OK", &[], b"reached")).unwrap();
    let tcp_cases = [
        // Loopback reached through a scheme-wide grant: not explicit about the address.
        (format!("tcp://127.0.0.1:{echo}"), "tcp:".to_owned()),
        // A name that resolves to 127.0.0.1: the name is granted, the address is not.
        (
            format!("tcp://localhost:{echo}"),
            format!("tcp://localhost:{echo}"),
        ),
        // The unspecified address, which Linux connects to the local host.
        (format!("tcp://0.0.0.0:{echo}"), "tcp:".to_owned()),
        // Numeric spellings normalise to the same address.
        (format!("tcp://2130706433:{echo}"), "tcp:".to_owned()),
        (format!("tcp://0x7f.1:{echo}"), "tcp:".to_owned()),
        // IPv4-mapped IPv6 loopback.
        (
            format!("tcp://[::ffff:127.0.0.1]:{echo}"),
            "tcp:".to_owned(),
        ),
    ];
    for (url, grant) in &tcp_cases {
        let run = echo_guest(url).allow(grant).run();
        assert_eq!(
            run.code(),
            OPEN - errno::PERMISSION_DENIED,
            "{url}: {}",
            run.log
        );
        assert!(run.log.contains("--allow-private"), "{url}: {}", run.log);
        assert_eq!(run.stdout, "", "{url}");
    }
    let http_cases = [
        (
            format!("http://localhost:{web}/"),
            format!("http://localhost:{web}"),
        ),
        (format!("http://127.0.0.1:{web}/"), "http:".to_owned()),
        (format!("http://[::ffff:7f00:1]:{web}/"), "http:".to_owned()),
    ];
    for (url, grant) in &http_cases {
        let run = fetch(url, None).allow(grant).run();
        assert_eq!(
            run.code(),
            READ - errno::PERMISSION_DENIED,
            "{url}: {}",
            run.log
        );
        assert!(run.log.contains("--allow-private"), "{url}: {}", run.log);
        assert!(!run.stdout.contains("reached"), "{url}");
    }
    // Granting the range (or the literal address) lets each through.
    let url = format!("tcp://localhost:{echo}");
    let run = echo_guest(&url)
        .allow(&url)
        .allow_private("127.0.0.1")
        .run();
    assert_echoed(&run);
    let url = format!("http://localhost:{web}/");
    let run = fetch(&url, None)
        .allow(&format!("http://localhost:{web}"))
        .allow_private("127.0.0.0/8")
        .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    assert!(run.stdout.ends_with("reached"));
    let url = format!("tcp://0.0.0.0:{echo}");
    let run = echo_guest(&url)
        .allow("tcp:")
        .allow_private("0.0.0.0")
        .run();
    assert_echoed(&run);
    let url = format!("tcp://127.0.0.1:{echo}");
    let run = echo_guest(&url).allow(&url).run();
    assert_echoed(&run);
}

/// A redirect to a loopback address that the policy grants by name only is stopped at the
/// connect, because every hop's address is checked.
#[test]
fn redirects_to_special_addresses_are_checked_too() {
    let inner = http_server(|_, out| respond(out, "200 OK", &[], b"internal")).unwrap();
    let outer = http_server(move |_, out| {
        let location = format!("http://localhost:{inner}/secret");
        respond(out, "302 Found", &[("Location", &location)], b"")
    })
    .unwrap();
    let run = fetch(&format!("http://127.0.0.1:{outer}/"), None)
        .allow(&format!("http://127.0.0.1:{outer}"))
        .allow(&format!("http://localhost:{inner}"))
        .run();
    assert_eq!(run.code(), READ - errno::PERMISSION_DENIED, "{}", run.log);
    assert!(!run.stdout.contains("internal"));
    assert!(run.log.contains("resolves to 127.0.0.1"), "{}", run.log);
}

#[test]
fn the_run_timeout_cuts_a_wasi_fd_read_of_a_stream_short() {
    // The same wait through WASI's fd_read: it goes through the process like resource_read, so a
    // wait cut by the run's deadline ends the run as timed out whatever the guest does next.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || listener.accept().map(|(conn, _)| conn));
    let url = format!("tcp://127.0.0.1:{port}");
    let wat = format!(
        r#"(module
        (import "cwa" "resource_open" (func $open (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (data (i32.const 0) "{url}")
        (data (i32.const 200) "\00\01\00\00\10\00\00\00")
        (func (export "cwa_main") (result i32)
          (drop (call $fd_read (call $open (i32.const 0) (i32.const {})) (i32.const 200) (i32.const 1) (i32.const 300)))
          (i32.const 0)))"#,
        url.len()
    );
    net_support::assert_run_timeout_cuts_the_wait(crate::common::Guest::module(wat).allow(&url));
    drop(server.join());
}
