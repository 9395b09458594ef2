//! CGI (RFC 3875) both ways: the request's meta-variables for the guest's environment, and the
//! guest's response header block turned into an HTTP status and headers. abi/ABI.md ("CGI") is the
//! contract; this file is its one implementation.

use std::borrow::Cow;
use std::net::SocketAddr;

use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::StatusCode;

use crate::router::{percent_decode, Match};

/// `GATEWAY_INTERFACE`.
pub const GATEWAY_INTERFACE: &str = "CGI/1.1";
/// `SERVER_SOFTWARE`.
pub const SERVER_SOFTWARE: &str = concat!("tern/", env!("CARGO_PKG_VERSION"));
/// The largest response header block a guest may write.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Request headers never passed to the guest: hop-by-hop ones, `Proxy` (httpoxy), and the two that
/// CGI passes as `CONTENT_TYPE` / `CONTENT_LENGTH`.
const NOT_PASSED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-type",
    "content-length",
];

/// What the server knows about one request, for its meta-variables.
pub struct RequestMeta<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// The raw request path (percent-encoded, as received).
    pub raw_path: &'a str,
    /// The raw query, without `?`.
    pub query: Option<&'a str>,
    /// `HTTP/1.1` etc.
    pub protocol: &'a str,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// The client's address.
    pub remote: SocketAddr,
    /// The listener's address.
    pub local: SocketAddr,
    /// The request's host (from `Host`, lower case, no port), already matched against the route.
    pub host: &'a str,
    /// `http` or `https`.
    pub scheme: &'a str,
    /// What the router matched.
    pub matched: &'a Match,
    /// The run's id.
    pub run_id: &'a str,
    /// Whether the route passes `Authorization`.
    pub pass_authorization: bool,
    /// Whether the request has a body, and its length when known.
    pub body: Option<Option<u64>>,
}

/// The CGI environment for one request, in a stable order.
pub fn environment(m: &RequestMeta<'_>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::with_capacity(32);
    let mut set = |k: &str, v: String| env.push((k.to_owned(), v));
    let raw = raw_segments(m.raw_path);
    let (script, rest) = raw.split_at(m.matched.script_segments.min(raw.len()));
    let join = |segs: &[&str], decode: bool| -> String {
        let mut out = String::with_capacity(segs.iter().map(|s| s.len() + 1).sum());
        for s in segs {
            out.push('/');
            out.push_str(&if decode {
                decode_segment(s)
            } else {
                (*s).into()
            });
        }
        out
    };
    let path_info = join(rest, true);
    // SERVER_NAME comes from the route: an exact host as written; for a wildcard or any-host route
    // the Host the route matched, else the listener's address; never a raw, unmatched Host header.
    let server_name = if m.matched.host_pattern == "*" {
        m.local.ip().to_string()
    } else {
        m.host.to_owned()
    };
    set("GATEWAY_INTERFACE", GATEWAY_INTERFACE.into());
    set("SERVER_SOFTWARE", SERVER_SOFTWARE.into());
    set("SERVER_PROTOCOL", m.protocol.into());
    set("SERVER_NAME", server_name.clone());
    set("SERVER_PORT", m.local.port().to_string());
    set("REQUEST_METHOD", m.method.into());
    set("SCRIPT_NAME", join(script, true));
    set("PATH_INFO", path_info.clone());
    set("QUERY_STRING", m.query.unwrap_or_default().into());
    set("REMOTE_ADDR", m.remote.ip().to_string());
    set("REMOTE_PORT", m.remote.port().to_string());
    if let Some(ct) = m.headers.get(hyper::header::CONTENT_TYPE) {
        set(
            "CONTENT_TYPE",
            String::from_utf8_lossy(ct.as_bytes()).into_owned(),
        );
    }
    if let Some(Some(len)) = m.body {
        set("CONTENT_LENGTH", len.to_string());
    }
    // WAGI's extra variables.
    set("X_MATCHED_ROUTE", m.matched.pattern.clone());
    set("X_RAW_PATH_INFO", join(rest, false));
    set(
        "X_RELATIVE_PATH",
        path_info.strip_prefix('/').unwrap_or_default().into(),
    );
    let query = m.query.map(|q| format!("?{q}")).unwrap_or_default();
    set(
        "X_FULL_URL",
        format!(
            "{}://{}:{}{}{query}",
            m.scheme,
            server_name,
            m.local.port(),
            m.raw_path
        ),
    );
    set("X_RUN_ID", m.run_id.into());
    let mut names = Vec::new();
    for (name, value) in &m.matched.params {
        let var = format!("PATH_PARAM_{}", name.to_ascii_uppercase());
        set(&var, value.clone());
        names.push(var);
    }
    set("TERN_PATH_PARAMS", names.join(","));
    let headers = header_variables(m.headers, m.pass_authorization);
    let listed = joined(headers.iter().map(|(k, _)| k), ",");
    env.extend(headers);
    env.push(("TERN_HTTP_HEADERS".into(), listed));
    env
}

/// Every passable request header as `HTTP_NAME`; repeated ones joined (`, `; `; ` for Cookie).
fn header_variables(headers: &HeaderMap, pass_authorization: bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for name in headers.keys() {
        let n = name.as_str();
        // A name with `_` would look the same as one with `-` once mapped: drop it so a client cannot
        // forge a variable the proxy in front of us believed it had removed.
        if NOT_PASSED.contains(&n)
            || n.contains('_')
            || (n == "authorization" && !pass_authorization)
        {
            continue;
        }
        let separator = if n == "cookie" { "; " } else { ", " };
        let value = joined(
            headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes())),
            separator,
        );
        let mut var = String::with_capacity(5 + n.len());
        var.push_str("HTTP_");
        var.extend(n.chars().map(|c| match c {
            '-' => '_',
            c => c.to_ascii_uppercase(),
        }));
        out.push((var, value));
    }
    out
}

/// `parts` joined by `separator`, built in one string (no vector of parts first: this runs for every
/// header of every request).
fn joined(parts: impl IntoIterator<Item = impl AsRef<str>>, separator: &str) -> String {
    let mut out = String::new();
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        out.push_str(part.as_ref());
    }
    out
}

/// Splits a raw path into normalised raw (still encoded) segments; `.`/`..` resolved as the router does.
fn raw_segments(path: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for raw in path.split('/') {
        match &*decode_segment(raw) {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            _ => out.push(raw),
        }
    }
    out
}

/// A segment percent-decoded; one without `%` is its own decoding, and is not copied.
fn decode_segment(raw: &str) -> Cow<'_, str> {
    if raw.contains('%') {
        Cow::Owned(percent_decode(raw))
    } else {
        Cow::Borrowed(raw)
    }
}

/// A parsed CGI response head.
#[derive(Debug)]
pub struct Head {
    /// The HTTP status.
    pub status: StatusCode,
    /// Headers in the guest's order, repeats kept.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// Finds the end of a header block: the index just past the blank line, if it has arrived.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(p) = buf[start..].iter().position(|&b| b == b'\n') {
        let line = &buf[start..start + p];
        if line.is_empty() || line == b"\r" {
            return Some(start + p + 1);
        }
        start += p + 1;
    }
    None
}

/// Parses a CGI header block (the bytes before and including the blank line).
pub fn parse_head(block: &[u8]) -> Result<Head, String> {
    let mut status: Option<StatusCode> = None;
    let mut location = false;
    let mut headers = Vec::new();
    for line in block.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let colon = line.iter().position(|&b| b == b':').ok_or_else(|| {
            format!(
                "header line without a colon: {:?}",
                String::from_utf8_lossy(line)
            )
        })?;
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        let name = HeaderName::from_bytes(name)
            .map_err(|_| format!("invalid header name {:?}", String::from_utf8_lossy(name)))?;
        if name.as_str() == "status" {
            let text = std::str::from_utf8(value).map_err(|_| "Status is not text".to_string())?;
            let code = text.split_whitespace().next().unwrap_or_default();
            let code: u16 = code
                .parse()
                .map_err(|_| format!("Status {text:?}: expected a three-digit code"))?;
            status = Some(
                StatusCode::from_u16(code)
                    .ok()
                    .filter(|s| (200..600).contains(&s.as_u16()))
                    .ok_or_else(|| format!("Status {code} is not a final HTTP status"))?,
            );
            continue;
        }
        let value = HeaderValue::from_bytes(value)
            .map_err(|_| format!("header {name}: the value holds control bytes or is invalid"))?;
        // The server frames the body itself; a guest's own framing headers would contradict it.
        if matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection" | "keep-alive"
        ) {
            continue;
        }
        if name == hyper::header::LOCATION {
            location = true;
        }
        headers.push((name, value));
    }
    let status = status.unwrap_or(if location {
        StatusCode::FOUND
    } else {
        StatusCode::OK
    });
    Ok(Head { status, headers })
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_blocks() {
        assert_eq!(head_end(b"A: b\n\nbody"), Some(6));
        assert_eq!(head_end(b"A: b\r\n\r\nbody"), Some(8));
        assert_eq!(head_end(b"\r\nbody"), Some(2));
        assert_eq!(head_end(b"A: b\nC: d"), None);
        let head = parse_head(
            b"Status: 404 Gone\r\nSet-Cookie: a\r\nSet-Cookie: b\r\nContent-Length: 9\r\n\r\n",
        )
        .unwrap();
        assert_eq!(head.status, StatusCode::NOT_FOUND);
        assert_eq!(head.headers.len(), 2, "repeats kept, framing dropped");
        assert_eq!(
            parse_head(b"Location: /x\n\n").unwrap().status,
            StatusCode::FOUND
        );
        assert!(parse_head(b"X: a\x01b\n\n").is_err());
        assert!(parse_head(b"Status: 99\n\n").is_err());
        assert!(parse_head(b"Bad Name: x\n\n").is_err());
    }
}
