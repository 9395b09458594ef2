//! `http://` through real guests against a loopback HTTP/1.1 server (ABI.md §4.2).
#![cfg(feature = "net")]

use crate::common;
use crate::net_support;

use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use net_support::{fetch, split_response, NetGuest, FLUSH, OPEN, READ};
use tern_abi::errno;
use tern_loopback::{http_server, respond, Request};

/// A server that answers every request with what it received, as text.
fn mirror() -> u16 {
    http_server(|req: &Request, out: &mut dyn Write| {
        let mut text = format!("{} {}\n", req.method, req.target);
        for (n, v) in &req.headers {
            text += &format!("{n}={v}\n");
        }
        text += &format!("body={}", String::from_utf8_lossy(&req.body));
        respond(
            out,
            "200 OK",
            &[("Content-Type", "text/plain"), ("X-Test", "mirror")],
            text.as_bytes(),
        )
    })
    .unwrap()
}

#[test]
fn simple_form_gets_the_url() {
    let port = mirror();
    let url = format!("http://127.0.0.1:{port}/hello?x=1");
    let run = fetch(&url, None)
        .allow(&format!("http://127.0.0.1:{port}"))
        .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    let (head, body) = split_response(&run.stdout);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("\r\ncontent-type: text/plain"), "{head}");
    assert!(head.contains("\r\nx-test: mirror"), "{head}");
    assert!(body.starts_with("GET /hello?x=1\n"), "{body}");
    assert!(body.contains(&format!("host=127.0.0.1:{port}\n")), "{body}");
    assert!(body.ends_with("body="), "{body}");
}

#[test]
fn full_form_post_sends_body_and_headers() {
    let port = mirror();
    let url = format!("http://127.0.0.1:{port}/");
    let request = format!(
        "POST /submit HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Custom: one two\r\nX-Custom: three\r\n\
         Content-Type: application/json\r\nContent-Length: 13\r\n\r\n{{\"a\": [1, 2]}}"
    );
    let run = fetch(&url, Some(request.as_bytes()))
        .allow(&format!("http://127.0.0.1:{port}"))
        .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    let (head, body) = split_response(&run.stdout);
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(body.starts_with("POST /submit\n"), "{body}");
    assert!(
        body.contains("x-custom=one two\nx-custom=three\n"),
        "{body}"
    );
    assert!(body.contains("content-type=application/json\n"), "{body}");
    assert!(body.contains("content-length=13\n"), "{body}");
    assert!(body.ends_with("body={\"a\": [1, 2]}"), "{body}");
}

#[test]
fn error_statuses_are_responses() {
    let port = http_server(|_, out| respond(out, "404 Not Found", &[], b"nope")).unwrap();
    let run = fetch(&format!("http://127.0.0.1:{port}/missing"), None)
        .allow(&format!("http://127.0.0.1:{port}"))
        .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    assert!(
        run.stdout.starts_with("HTTP/1.1 404 Not Found\r\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.ends_with("\r\n\r\nnope"));
}

#[test]
fn chunked_responses_are_decoded() {
    let port = http_server(|_, out| {
        out.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n")?;
        for chunk in ["hello, ", "chunked ", "world"] {
            write!(out, "{:x}\r\n{chunk}\r\n", chunk.len())?;
            out.flush()?;
        }
        out.write_all(b"0\r\n\r\n")?;
        out.flush()
    })
    .unwrap();
    let run = fetch(&format!("http://127.0.0.1:{port}/"), None)
        .allow(&format!("http://127.0.0.1:{port}"))
        .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    let (head, body) = split_response(&run.stdout);
    assert!(
        !head.to_ascii_lowercase().contains("transfer-encoding"),
        "{head}"
    );
    assert!(head.contains("x-a: b"), "{head}");
    assert_eq!(body, "hello, chunked world");
}

#[test]
fn a_server_closing_early_is_a_connection_failure() {
    // Promises 100 bytes, sends 5, hangs up.
    let port = http_server(|_, out| {
        out.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")?;
        out.flush()?;
        Err(std::io::Error::other("hang up"))
    })
    .unwrap();
    let run = fetch(&format!("http://127.0.0.1:{port}/"), None)
        .allow(&format!("http://127.0.0.1:{port}"))
        .run();
    assert_eq!(run.code(), READ - errno::CONNECTION_FAILED, "{}", run.log);
    assert!(run.stdout.ends_with("short"), "{}", run.stdout);
    assert!(run.log.contains("connection failed"), "{}", run.log);
    // Hanging up before any response fails the flush.
    let port = http_server(|_, _| Err(std::io::Error::other("hang up"))).unwrap();
    let request = b"GET / HTTP/1.1\r\n\r\n";
    let run = fetch(&format!("http://127.0.0.1:{port}/"), Some(request))
        .allow(&format!("http://127.0.0.1:{port}"))
        .run();
    assert_eq!(run.code(), FLUSH - errno::CONNECTION_FAILED, "{}", run.log);
}

#[test]
fn connection_refused_fails_the_exchange() {
    // A port that was just free and is closed again.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = fetch(&format!("http://127.0.0.1:{port}/"), None)
        .allow(&format!("http://127.0.0.1:{port}"))
        .run();
    assert_eq!(run.code(), READ - errno::CONNECTION_FAILED, "{}", run.log);
    assert!(
        run.log.contains(&format!(
            "tern: http://127.0.0.1:{port}/: connection failed"
        )),
        "{}",
        run.log
    );
}

#[test]
fn unknown_hosts_are_not_found() {
    let run = fetch("http://no-such-host.invalid/", None)
        .allow("http://no-such-host.invalid")
        .run();
    assert_eq!(run.code(), READ - errno::NOT_FOUND, "{}", run.log);
}

#[test]
fn a_slow_server_hits_the_timeout() {
    let port = http_server(|_, out| {
        std::thread::sleep(Duration::from_secs(3));
        respond(out, "200 OK", &[], b"late")
    })
    .unwrap();
    let start = Instant::now();
    let run = fetch(&format!("http://127.0.0.1:{port}/"), None)
        .allow(&format!("http://127.0.0.1:{port}"))
        .network(|n| n.timeout = Duration::from_millis(300))
        .run();
    assert_eq!(run.code(), READ - errno::TIMEOUT, "{}", run.log);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert!(run.log.contains("timeout"), "{}", run.log);
}

#[test]
fn the_run_timeout_cuts_a_network_wait_short() {
    // The network timeout (30 s) would let the guest wait; the run's 1 s timeout must not.
    let port = http_server(|_, out| {
        std::thread::sleep(Duration::from_secs(20));
        respond(out, "200 OK", &[], b"late")
    })
    .unwrap();
    net_support::assert_run_timeout_cuts_the_wait(
        fetch(&format!("http://127.0.0.1:{port}/"), None)
            .allow(&format!("http://127.0.0.1:{port}")),
    );
}

#[test]
fn a_slow_body_hits_the_timeout() {
    let port = http_server(|_, out| {
        out.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfirst")?;
        out.flush()?;
        std::thread::sleep(Duration::from_secs(3));
        out.write_all(b"later")
    })
    .unwrap();
    let run = fetch(&format!("http://127.0.0.1:{port}/"), None)
        .allow(&format!("http://127.0.0.1:{port}"))
        .network(|n| n.timeout = Duration::from_millis(400))
        .run();
    assert_eq!(run.code(), READ - errno::TIMEOUT, "{}", run.log);
    assert!(run.stdout.ends_with("first"), "{}", run.stdout);
}

#[test]
fn responses_over_the_size_limit_fail() {
    let port = http_server(|req, out| {
        if req.target == "/declared" {
            respond(out, "200 OK", &[], &[b'x'; 2000])
        } else {
            out.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")?;
            for _ in 0..4 {
                out.write_all(b"1f4\r\n")?;
                out.write_all(&[b'y'; 500])?;
                out.write_all(b"\r\n")?;
            }
            out.write_all(b"0\r\n\r\n")?;
            out.flush()
        }
    })
    .unwrap();
    for (path, code) in [
        ("/declared", READ - errno::LIMIT_EXCEEDED),
        ("/chunked", READ - errno::LIMIT_EXCEEDED),
    ] {
        let run = fetch(&format!("http://127.0.0.1:{port}{path}"), None)
            .allow(&format!("http://127.0.0.1:{port}"))
            .network(|n| n.max_response_bytes = 1000)
            .run();
        assert_eq!(run.code(), code, "{path}: {}", run.log);
        assert!(run.log.contains("limit exceeded"), "{}", run.log);
        let body = run.stdout.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        assert!(
            body.len() <= 1000,
            "{path}: {} body bytes delivered",
            body.len()
        );
    }
}

#[test]
fn requests_may_not_leave_the_opened_origin() {
    let port = mirror();
    let other = mirror();
    let url = format!("http://127.0.0.1:{port}/");
    for request in [
        format!("GET http://127.0.0.1:{other}/ HTTP/1.1\r\n\r\n"),
        format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{other}\r\n\r\n"),
        "GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n".to_owned(),
    ] {
        let run = fetch(&url, Some(request.as_bytes()))
            .allow(&format!("http://127.0.0.1:{port}"))
            .allow(&format!("http://127.0.0.1:{other}"))
            .run();
        assert_eq!(
            run.code(),
            FLUSH - errno::PERMISSION_DENIED,
            "{request}: {}",
            run.log
        );
        // Reported and counted like every denial.
        assert!(run.log.contains("tern: guest: denied: "), "{}", run.log);
        assert_eq!(run.outcome.process.stats.denied.len(), 1, "{}", run.log);
    }
    // A path outside the grant is refused even on the same origin.
    let run = fetch(
        &format!("http://127.0.0.1:{port}/api"),
        Some(b"GET /admin HTTP/1.1\r\n\r\n"),
    )
    .allow(&format!("http://127.0.0.1:{port}/api"))
    .run();
    assert_eq!(run.code(), FLUSH - errno::PERMISSION_DENIED, "{}", run.log);
    // A malformed request is an invalid argument.
    let run = fetch(&url, Some(b"GET / HTTP/1.1\r\nno blank line"))
        .allow(&format!("http://127.0.0.1:{port}"))
        .run();
    assert_eq!(run.code(), FLUSH - errno::INVALID_ARGUMENT, "{}", run.log);
}

#[test]
fn redirects_are_followed_only_within_the_grant() {
    let target = mirror();
    let port = http_server(move |req, out| match req.target.as_str() {
        "/inside" => respond(out, "302 Found", &[("Location", "/api/landed")], b""),
        "/api/landed" => respond(out, "200 OK", &[], b"landed"),
        "/other-port" => {
            let location = format!("http://127.0.0.1:{target}/x");
            respond(
                out,
                "307 Temporary Redirect",
                &[("Location", &location)],
                b"",
            )
        }
        "/loop" => respond(out, "302 Found", &[("Location", "/loop")], b""),
        _ => respond(out, "302 Found", &[("Location", "/forbidden")], b"moved"),
    })
    .unwrap();
    let grant = format!("http://127.0.0.1:{port}");
    let run = fetch(&format!("{grant}/inside"), None).allow(&grant).run();
    assert_eq!(run.code(), 0, "{}", run.log);
    assert!(
        run.stdout.starts_with("HTTP/1.1 200 OK") && run.stdout.ends_with("landed"),
        "{}",
        run.stdout
    );
    // Another port of the same host is not granted: the redirect itself is delivered.
    let run = fetch(&format!("{grant}/other-port"), None)
        .allow(&grant)
        .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    assert!(
        run.stdout.starts_with("HTTP/1.1 307 Temporary Redirect"),
        "{}",
        run.stdout
    );
    assert!(run.log.contains("not followed"), "{}", run.log);
    // A path outside a path grant is not followed either.
    let run = fetch(&format!("{grant}/api/start"), None)
        .allow(&format!("{grant}/api"))
        .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    assert!(
        run.stdout.starts_with("HTTP/1.1 302 Found") && run.stdout.ends_with("moved"),
        "{}",
        run.stdout
    );
    assert!(run.log.contains(&format!("redirect to /forbidden not followed: permission denied: {grant}/forbidden is not granted")), "{}", run.log);
    // A redirect loop ends with the last redirect.
    let run = fetch(&format!("{grant}/loop"), None).allow(&grant).run();
    assert_eq!(run.code(), 0, "{}", run.log);
    assert!(
        run.stdout.starts_with("HTTP/1.1 302 Found"),
        "{}",
        run.stdout
    );
    assert!(run.log.contains("more than 10 redirects"), "{}", run.log);
}

#[test]
fn one_handle_carries_several_exchanges() {
    let port = mirror();
    let url = format!("http://127.0.0.1:{port}/");
    // Copies the handle's response to stdout until the end of the stream.
    let drain = "(block $done (loop $more
           (local.set $n (call $resource_read (local.get $h) (i32.const 1000) (i32.const 4000)))
           (br_if $done (i32.lt_s (local.get $n) (i32.const 0)))
           (drop (call $resource_write (i32.const 1) (i32.const 1000) (local.get $n)))
           (br $more)))";
    let body = format!(
        "(local.set $h (call $resource_open (i32.const 0) (i32.const {len})))
         (drop (call $resource_write (local.get $h) (i32.const 100) (i32.const 21)))
         (drop (call $resource_flush (local.get $h)))
         {drain}
         (drop (call $resource_write (local.get $h) (i32.const 200) (i32.const 22)))
         (drop (call $resource_flush (local.get $h)))
         {drain}
         (i32.const 0)",
        len = url.len()
    );
    let run = common::Guest::main(
        &body,
        &[
            (0, &url),
            (100, "GET /one HTTP/1.1\\0d\\0a\\0d\\0a"),
            (200, "HEAD /two HTTP/1.1\\0d\\0a\\0d\\0a"),
        ],
    )
    .allow(&format!("http://127.0.0.1:{port}"))
    .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    assert!(run.stdout.contains("GET /one\n"), "{}", run.stdout);
    assert!(
        run.stdout.ends_with("\r\n\r\n"),
        "HEAD has no body: {}",
        run.stdout
    );
    assert_eq!(
        run.stdout.matches("HTTP/1.1 200 OK").count(),
        2,
        "{}",
        run.stdout
    );
}

#[test]
fn open_is_checked_before_anything_is_sent() {
    let run = fetch("http://127.0.0.1:9/", None).run();
    assert_eq!(run.code(), OPEN - errno::PERMISSION_DENIED);
    assert!(
        run.log.contains("--allow http://127.0.0.1:9"),
        "{}",
        run.log
    );
}

#[test]
fn unsent_requests_of_all_handles_share_one_bound() {
    // Three handles with 30,000 unsent bytes each under a 64 KiB budget: the third write is -7.
    // Nothing is sent (no flush), so no server is needed; closing a handle gives its bytes back.
    let url = "http://127.0.0.1:9/";
    let open = format!(
        "(call $resource_open (i32.const 0) (i32.const {}))",
        url.len()
    );
    let write = |h: &str| format!("(call $resource_write {h} (i32.const 1024) (i32.const 30000))");
    let body = format!(
        "(local.set $h {open}) (local.set $n {open}) (local.set $i {open})
         (if (i32.ne {w1} (i32.const 30000)) (then (return (i32.const 1))))
         (if (i32.ne {w2} (i32.const 30000)) (then (return (i32.const 2))))
         (if (i32.ne {w3} (i32.const {limit})) (then (return (i32.const 3))))
         (call $resource_close (local.get $h))
         (if (i32.ne {w3} (i32.const 30000)) (then (return (i32.const 4))))
         (i32.const 0)",
        w1 = write("(local.get $h)"),
        w2 = write("(local.get $n)"),
        w3 = write("(local.get $i)"),
        limit = errno::LIMIT_EXCEEDED,
    );
    let run = common::Guest::main(&body, &[(0, url)])
        .allow(url)
        .limits(|l| l.max_request_buffer_bytes = 64 << 10)
        .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    assert!(
        run.log
            .contains("unsent HTTP requests would hold more than 65536 bytes"),
        "{}",
        run.log
    );
}

#[test]
fn handles_of_one_run_share_one_client_and_its_connections() {
    // Each response's body is the number of the server connection the request came on.
    let port = http_server(|req: &Request, out: &mut dyn Write| {
        respond(out, "200 OK", &[], req.connection.to_string().as_bytes())
    })
    .unwrap();
    let url = format!("http://127.0.0.1:{port}/n");
    // Two handles on the URL, one after the other, each read to its end (so its connection goes
    // back to the pool) and copied to stdout.
    let copy = "(loop $copy
          (local.set $n (call $resource_read (local.get $h) (i32.const 1024) (i32.const 4096)))
          (if (i32.gt_s (local.get $n) (i32.const 0))
            (then (drop (call $resource_write (i32.const 1) (i32.const 1024) (local.get $n)))
                  (br $copy))))
        (drop (call $resource_write (i32.const 1) (i32.const 900) (i32.const 1)))";
    let open = format!(
        "(local.set $h (call $resource_open (i32.const 0) (i32.const {})))
         (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (i32.const 1))))",
        url.len()
    );
    let run = common::Guest::main(
        &format!("{open} {copy} {open} {copy} (i32.const 0)"),
        &[(0, &url), (900, "|")],
    )
    .allow(&format!("http://127.0.0.1:{port}"))
    .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    let bodies: Vec<&str> = run
        .stdout
        .split('|')
        .filter(|r| !r.is_empty())
        .map(|r| split_response(r).1)
        .collect();
    assert_eq!(bodies, ["1", "1"], "{}", run.stdout);
}
