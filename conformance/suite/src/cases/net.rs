//! The network schemes (ABI.md §4.2) against the loopback servers the harness starts for run `net`.

use super::{open_fails, opened, read_to_eof, write_whole, Handle, Outcome};
use crate::check::{ensure, expect_eq};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use tern_guest::abi::errno;
use tern_guest::sys;

/// A server address (`127.0.0.1:PORT`) the harness passes as `$NET_…`.
fn server(var: &str) -> Result<String, String> {
    match tern_guest::env::get(var) {
        Ok(Some(addr)) if !addr.is_empty() => Ok(addr),
        other => Err(format!(
            "{var} is not set (the harness passes it in run net): {other:?}"
        )),
    }
}

/// `http://$NET_HTTP` + `path`.
fn http(path: &str) -> Result<String, String> {
    Ok(format!("http://{}{path}", server("NET_HTTP")?))
}

/// Writes each part with one resource_write, which must accept all of it.
fn send(h: &Handle, parts: &[&[u8]]) -> Outcome {
    parts.iter().try_for_each(|part| write_whole(h.0, part))
}

/// A response as the guest reads it: the head's lines and the body.
struct Response {
    status: String,
    headers: Vec<String>,
    body: String,
}

impl Response {
    /// Whether the head has exactly this header line (`name: value`, name in lower case).
    fn has(&self, line: &str) -> bool {
        self.headers.iter().any(|h| h == line)
    }
}

/// Reads `h` until -5 and splits the HTTP/1.1 response text.
fn response(h: &Handle) -> Result<Response, String> {
    let bytes = read_to_eof(h.0)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return Err(format!("no blank line after the response head: {text:?}"));
    };
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default().to_string();
    Ok(Response {
        status,
        headers: lines.map(ToString::to_string).collect(),
        body: body.into(),
    })
}

/// Checks a response's status line and body.
fn expect_response(r: &Response, status: &str, body: &str) -> Outcome {
    expect_eq!(r.status, status, "status line");
    expect_eq!(r.body, body, "body");
    Ok(())
}

/// Opens `url`, writes `request`, and checks that the flush returns `want`.
fn flush_fails(url: &str, request: &str, want: i32) -> Outcome {
    let h = opened(url)?;
    send(&h, &[request.as_bytes()])?;
    expect_eq!(
        sys::resource_flush(h.0),
        want,
        "resource_flush after {request:?}"
    );
    Ok(())
}

/// Case 116.
pub fn simple_form() -> Outcome {
    let h = opened(&http("/pub/hello")?)?;
    let r = response(&h)?;
    expect_response(&r, "HTTP/1.1 200 OK", "hello, http\n")?;
    ensure!(
        r.has("content-length: 12"),
        "no \"content-length: 12\" line in {:?}",
        r.headers
    );
    Ok(())
}

/// Case 117.
pub fn full_form() -> Outcome {
    let h = opened(&http("/pub/echo")?)?;
    send(
        &h,
        &[
            b"POST /pub/echo HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
            b"hello",
        ],
    )?;
    expect_eq!(sys::resource_flush(h.0), 0, "resource_flush");
    let r = response(&h)?;
    expect_response(&r, "HTTP/1.1 200 OK", "hello")?;
    ensure!(
        r.has("x-method: POST"),
        "no \"x-method: POST\" line in {:?}",
        r.headers
    );
    Ok(())
}

/// Case 118.
pub fn host_header() -> Outcome {
    let url = http("/pub/hello")?;
    let other = "GET /pub/hello HTTP/1.1\r\nHost: example.com\r\n\r\n";
    flush_fails(&url, other, errno::PERMISSION_DENIED)?;
    let h = opened(&url)?;
    let own = format!(
        "GET /pub/hello HTTP/1.1\r\nHost: {}\r\n\r\n",
        server("NET_HTTP")?
    );
    send(&h, &[own.as_bytes()])?;
    expect_eq!(
        sys::resource_flush(h.0),
        0,
        "resource_flush with the opened Host"
    );
    expect_response(&response(&h)?, "HTTP/1.1 200 OK", "hello, http\n")
}

/// Case 119.
pub fn target_not_granted() -> Outcome {
    let url = http("/pub/hello")?;
    flush_fails(
        &url,
        "GET /secret/data HTTP/1.1\r\n\r\n",
        errno::PERMISSION_DENIED,
    )?;
    flush_fails(
        &url,
        "GET http://example.com/ HTTP/1.1\r\n\r\n",
        errno::PERMISSION_DENIED,
    )
}

/// Case 120.
pub fn chunked() -> Outcome {
    let h = opened(&http("/pub/chunked")?)?;
    let r = response(&h)?;
    expect_response(&r, "HTTP/1.1 200 OK", "chunk one\nchunk two\n")?;
    ensure!(
        !r.headers.iter().any(|h| h.starts_with("transfer-encoding")),
        "the head still has transfer-encoding: {:?}",
        r.headers
    );
    Ok(())
}

/// Case 121.
pub fn error_status() -> Outcome {
    let h = opened(&http("/pub/missing")?)?;
    expect_response(&response(&h)?, "HTTP/1.1 404 Not Found", "no such page\n")
}

/// Case 122.
pub fn redirect() -> Outcome {
    let h = opened(&http("/pub/redirect")?)?;
    expect_response(&response(&h)?, "HTTP/1.1 200 OK", "hello, http\n")
}

/// Case 123.
pub fn redirect_not_granted() -> Outcome {
    let h = opened(&http("/pub/redirect-out")?)?;
    let r = response(&h)?;
    expect_eq!(r.status, "HTTP/1.1 302 Found", "status line");
    ensure!(
        r.has("location: /secret/data"),
        "no \"location: /secret/data\" in {:?}",
        r.headers
    );
    Ok(())
}

/// Case 124.
pub fn unsupported_requests() -> Outcome {
    let url = http("/pub/echo")?;
    let chunked =
        "POST /pub/echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    flush_fails(&url, chunked, errno::UNSUPPORTED)?;
    let connect = format!("CONNECT {} HTTP/1.1\r\n\r\n", server("NET_HTTP")?);
    flush_fails(&url, &connect, errno::UNSUPPORTED)
}

/// Case 125.
pub fn short_body() -> Outcome {
    let request = "POST /pub/echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nhello";
    flush_fails(&http("/pub/echo")?, request, errno::INVALID_ARGUMENT)
}

/// Reads `h` until an error number; returns it and how many bytes came before.
fn read_until_error(h: &Handle) -> (i32, usize) {
    let mut buf = [0u8; 512];
    let mut total = 0;
    loop {
        match sys::resource_read(h.0, &mut buf) {
            n if n > 0 => total += n as usize,
            0 => return (0, total),
            e => return (e, total),
        }
    }
}

/// Case 126.
pub fn response_too_large() -> Outcome {
    let h = opened(&http("/pub/big")?)?;
    let (e, total) = read_until_error(&h);
    ensure!(
        e == errno::LIMIT_EXCEEDED,
        "reading a 4096-byte body under --max-response-size 1K ended with {e} after {total} bytes, not -7"
    );
    Ok(())
}

/// Case 127.
pub fn no_response() -> Outcome {
    let h = opened(&http("/pub/slow")?)?;
    let (e, total) = read_until_error(&h);
    ensure!(
        e == errno::TIMEOUT,
        "reading /pub/slow ended with {e} after {total} bytes, not -8"
    );
    Ok(())
}

/// Case 128.
pub fn two_exchanges() -> Outcome {
    let h = opened(&http("/pub/hello")?)?;
    for i in 1..=2 {
        send(&h, &[b"GET /pub/hello HTTP/1.1\r\n\r\n"])?;
        expect_eq!(
            sys::resource_flush(h.0),
            0,
            "resource_flush of exchange {i}"
        );
        expect_response(&response(&h)?, "HTTP/1.1 200 OK", "hello, http\n")?;
    }
    Ok(())
}

/// Case 129.
pub fn read_sends() -> Outcome {
    let h = opened(&http("/pub/echo")?)?;
    send(&h, &[b"GET /pub/echo HTTP/1.1\r\n\r\n"])?;
    let r = response(&h)?;
    expect_response(&r, "HTTP/1.1 200 OK", "")?;
    ensure!(
        r.has("x-method: GET"),
        "no \"x-method: GET\" line in {:?}",
        r.headers
    );
    Ok(())
}

/// Case 130.
pub fn http_not_granted() -> Outcome {
    open_fails(&http("/secret/data")?, errno::PERMISSION_DENIED)
}

/// Case 131.
pub fn https() -> Outcome {
    let h = opened(&format!("https://{}/pub/hello", server("NET_HTTPS")?))?;
    expect_response(&response(&h)?, "HTTP/1.1 200 OK", "hello, http\n")
}

/// Writes `message` to an echo connection and reads the same bytes back.
fn echo(url: &str, message: &[u8]) -> Outcome {
    let h = opened(url)?;
    send(&h, &[message])?;
    expect_eq!(sys::resource_flush(h.0), 0, "resource_flush({url})");
    let mut back = Vec::new();
    let mut buf = [0u8; 64];
    while back.len() < message.len() {
        let n = sys::resource_read(h.0, &mut buf[..message.len() - back.len()]);
        ensure!(
            n > 0,
            "resource_read({url}) returned {n} after {} bytes",
            back.len()
        );
        back.extend_from_slice(&buf[..n as usize]);
    }
    expect_eq!(back, message, "the echo");
    Ok(())
}

/// Case 132.
pub fn tcp_echo() -> Outcome {
    echo(&format!("tcp://{}", server("NET_TCP_ECHO")?), b"ping\n")
}

/// Case 133.
pub fn tcp_eof() -> Outcome {
    let h = opened(&format!("tcp://{}", server("NET_TCP_HELLO")?))?;
    let bytes = read_to_eof(h.0)?;
    expect_eq!(
        String::from_utf8_lossy(&bytes),
        "hello, tcp\n",
        "what tcp_hello sent"
    );
    Ok(())
}

/// Case 134.
pub fn no_port() -> Outcome {
    open_fails("tls://localhost", errno::INVALID_ARGUMENT)
}

/// Case 135.
pub fn refused() -> Outcome {
    open_fails(
        &format!("tcp://{}", server("NET_TCP_CLOSED")?),
        errno::CONNECTION_FAILED,
    )
}

/// Case 136.
pub fn tcp_timeout() -> Outcome {
    let h = opened(&format!("tcp://{}", server("NET_TCP_SILENT")?))?;
    let mut buf = [0u8; 16];
    expect_eq!(
        sys::resource_read(h.0, &mut buf),
        errno::TIMEOUT,
        "resource_read(tcp_silent)"
    );
    Ok(())
}

/// Case 137.
pub fn loopback_name_refused() -> Outcome {
    let url = format!("tcp://localhost:{}", server("NET_TCP_ECHO_PORT")?);
    open_fails(&url, errno::PERMISSION_DENIED)
}

/// Case 138.
pub fn tls_echo() -> Outcome {
    echo(
        &format!("tls://{}", server("NET_TLS_ECHO")?),
        b"ping over tls\n",
    )
}

/// Case 139.
pub fn tls_untrusted() -> Outcome {
    open_fails(
        &format!("tls://{}", server("NET_TLS_UNTRUSTED")?),
        errno::CONNECTION_FAILED,
    )
}

/// Case 140.
pub fn dns() -> Outcome {
    let h = opened("dns://localhost")?;
    let text = String::from_utf8_lossy(&read_to_eof(h.0)?).into_owned();
    ensure!(
        text.ends_with('\n'),
        "the answer does not end with a newline: {text:?}"
    );
    let lines: Vec<&str> = text.lines().collect();
    for line in &lines {
        ensure!(
            line.parse::<core::net::IpAddr>().is_ok(),
            "{line:?} is not an address (answer {text:?})"
        );
        ensure!(
            lines.iter().filter(|l| *l == line).count() == 1,
            "{line:?} is listed twice"
        );
    }
    ensure!(
        lines.iter().any(|l| *l == "127.0.0.1" || *l == "::1"),
        "localhost did not resolve to 127.0.0.1 or ::1: {text:?}"
    );
    expect_eq!(
        sys::resource_write(h.0, b"x"),
        errno::UNSUPPORTED,
        "resource_write(dns://)"
    );
    Ok(())
}

/// Case 141.
pub fn dns_unknown() -> Outcome {
    open_fails("dns://conformance-test.invalid", errno::NOT_FOUND)
}

/// Case 142.
pub fn not_granted() -> Outcome {
    open_fails("tcp://127.0.0.1:1", errno::PERMISSION_DENIED)?;
    open_fails("dns://example.com", errno::PERMISSION_DENIED)?;
    let url = format!("https://{}/secret/data", server("NET_HTTPS")?);
    open_fails(&url, errno::PERMISSION_DENIED)
}
