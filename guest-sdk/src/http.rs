//! HTTP and HTTPS requests, made by the host (ABI.md §4.2).
//!
//! The guest opens the URL, writes an HTTP/1.1 request and flushes; the host checks it against its
//! policy, sends it (following only the redirects the policy grants), and the guest reads the response
//! back as HTTP/1.1 text. This module writes the request and parses the response head; the body is
//! read from the host as you read it, so a large body never has to fit in memory.
//!
//! ```no_run
//! use tern_guest::{http, println, Error};
//!
//! fn run() -> Result<(), Error> {
//!     let mut response = http::get("https://api.example.com/v1/items")?;
//!     println!("{} {}", response.status(), response.header("content-type").unwrap_or("?"));
//!     let text = response.text()?;
//!
//!     let created = http::request("PUT", "https://api.example.com/v1/items/7")
//!         .header("Content-Type", "application/json")
//!         .body(br#"{"name": "seven"}"#)
//!         .send()?;
//!     assert!(created.is_success());
//!     Ok(())
//! }
//! ```
//!
//! Error statuses (404, 500, …) are responses, not errors; errors are the host's: the URL is not
//! granted ([`Error::PermissionDenied`]), the name does not resolve ([`Error::NotFound`]), the server
//! cannot be reached or its certificate is not trusted ([`Error::ConnectionFailed`]), the exchange took
//! too long ([`Error::Timeout`]), the body is larger than the host allows ([`Error::LimitExceeded`]).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::resource::{read_exact_with, read_to_end_with};
use crate::{Error, Resource};

/// The largest response head (status line and headers) this module accepts.
const MAX_HEAD: usize = 64 * 1024;

/// Sends `GET url`.
///
/// ```no_run
/// let body = tern_guest::http::get("https://example.com/")?.text()?;
/// # Ok::<(), tern_guest::Error>(())
/// ```
pub fn get(url: &str) -> Result<Response, Error> {
    request("GET", url).send()
}

/// Sends `POST url` with `body` as `content_type`.
///
/// ```no_run
/// let r = tern_guest::http::post("https://example.com/api", "application/json", b"{}")?;
/// # Ok::<(), tern_guest::Error>(())
/// ```
pub fn post(url: &str, content_type: &str, body: &[u8]) -> Result<Response, Error> {
    request("POST", url)
        .header("Content-Type", content_type)
        .body(body)
        .send()
}

/// Starts a request with any method; add headers and a body, then [`RequestBuilder::send`] it.
///
/// ```no_run
/// let r = tern_guest::http::request("DELETE", "https://example.com/items/3")
///     .header("Authorization", "Bearer t0ken")
///     .send()?;
/// # Ok::<(), tern_guest::Error>(())
/// ```
pub fn request<'a>(method: &'a str, url: &'a str) -> RequestBuilder<'a> {
    RequestBuilder {
        method,
        url,
        headers: Vec::new(),
        body: &[],
    }
}

/// A request being put together by [`request`].
#[derive(Debug, Clone)]
pub struct RequestBuilder<'a> {
    method: &'a str,
    url: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
}

impl<'a> RequestBuilder<'a> {
    /// Adds a header (a repeated name is sent once per call). `Host`, `Content-Length` and the
    /// connection headers are the host's to set and are ignored by it.
    pub fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Sets the body (sent with a `Content-Length`).
    pub fn body(mut self, body: &'a [u8]) -> Self {
        self.body = body;
        self
    }

    /// The request as HTTP/1.1 text, as it is written to the host. A method, URL, header name or
    /// value that would break the request's framing (spaces in the method or URL, line breaks
    /// anywhere, `:` in a name) is [`Error::InvalidArgument`].
    ///
    /// ```
    /// let bytes = tern_guest::http::request("POST", "https://h/x?y=1")
    ///     .header("Accept", "text/plain")
    ///     .body(b"hi")
    ///     .encode()?;
    /// assert_eq!(
    ///     bytes,
    ///     b"POST https://h/x?y=1 HTTP/1.1\r\nAccept: text/plain\r\nContent-Length: 2\r\n\r\nhi"
    /// );
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        if !token(self.method) || self.url.is_empty() || self.url.bytes().any(|b| b <= b' ') {
            return Err(Error::InvalidArgument);
        }
        let mut out = Vec::with_capacity(64 + self.body.len());
        // The absolute URL as the target: the host checks it is the opened URL's origin.
        for part in [self.method, " ", self.url, " HTTP/1.1\r\n"] {
            out.extend_from_slice(part.as_bytes());
        }
        for (name, value) in &self.headers {
            if !token(name) || value.bytes().any(|b| b == b'\r' || b == b'\n') {
                return Err(Error::InvalidArgument);
            }
            for part in [*name, ": ", value.trim(), "\r\n"] {
                out.extend_from_slice(part.as_bytes());
            }
        }
        let sends_body = !self.body.is_empty() || matches!(self.method, "POST" | "PUT" | "PATCH");
        if sends_body {
            out.extend_from_slice(b"Content-Length: ");
            out.extend_from_slice(self.body.len().to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(self.body);
        Ok(out)
    }

    /// Opens the URL, sends the request and reads the response head; the body is read later.
    pub fn send(self) -> Result<Response, Error> {
        let request = self.encode()?;
        let resource = Resource::open(self.url)?;
        resource.write_all(&request)?;
        resource.flush()?;
        Response::read_from(resource)
    }
}

/// A response: status, headers, and the body still to be read from the host.
#[derive(Debug)]
pub struct Response {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Body,
}

impl Response {
    /// Reads the response head from `resource` (a handle whose request was sent).
    fn read_from(resource: Resource) -> Result<Response, Error> {
        let mut head = Vec::new();
        let mut chunk = [0u8; 1024];
        let end = loop {
            if let Some(end) = find_head_end(&head) {
                break end;
            }
            if head.len() > MAX_HEAD {
                return Err(Error::LimitExceeded);
            }
            match resource.read(&mut chunk)? {
                0 => return Err(Error::ConnectionFailed),
                n => head.extend_from_slice(&chunk[..n]),
            }
        };
        let pending = head.split_off(end);
        let (status, reason, headers) = parse_head(&head)?;
        Ok(Response {
            status,
            reason,
            headers,
            body: Body {
                resource,
                pending,
                pos: 0,
            },
        })
    }

    /// The status code (200, 404, …).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase (`OK`, `Not Found`, …).
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Every header as `(name, value)`, names in lower case, in the order received.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body, to read from.
    pub fn body(&mut self) -> &mut Body {
        &mut self.body
    }

    /// The body, keeping nothing else.
    pub fn into_body(self) -> Body {
        self.body
    }

    /// Reads the whole body.
    pub fn bytes(&mut self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.body.read_to_end(&mut out)?;
        Ok(out)
    }

    /// Reads the whole body as text; [`Error::InvalidArgument`] if it is not UTF-8.
    pub fn text(&mut self) -> Result<String, Error> {
        String::from_utf8(self.bytes()?).map_err(|_| Error::InvalidArgument)
    }
}

/// A response body, streamed from the host as it is read (with `std`, also `std::io::Read`).
#[derive(Debug)]
pub struct Body {
    resource: Resource,
    /// Body bytes that arrived with the head.
    pending: Vec<u8>,
    pos: usize,
}

impl Body {
    /// Reads up to `buf.len()` bytes; `Ok(0)` at the end of the body.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.pos < self.pending.len() {
            let n = buf.len().min(self.pending.len() - self.pos);
            buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.resource.read(buf)
    }

    /// Fills `buf`, or fails with [`Error::Eof`] if the body ends first.
    pub fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        read_exact_with(|b| self.read(b), buf)
    }

    /// Reads to the end of the body, appending to `buf`; returns how many bytes were read.
    pub fn read_to_end(&mut self, buf: &mut Vec<u8>) -> Result<usize, Error> {
        read_to_end_with(|b| self.read(b), buf)
    }

    /// The handle the body is read from.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }
}

#[cfg(feature = "std")]
impl std::io::Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        Ok(Body::read(self, buf)?)
    }
}

/// Where the head ends (just after the blank line), if it has.
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// A parsed response head: status code, reason phrase, headers (names in lower case).
type Head = (u16, String, Vec<(String, String)>);

/// Parses `HTTP/1.1 CODE REASON` and the header lines (the head includes the blank line).
fn parse_head(head: &[u8]) -> Result<Head, Error> {
    let text = core::str::from_utf8(head).map_err(|_| Error::InvalidArgument)?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().ok_or(Error::InvalidArgument)?;
    let rest = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .ok_or(Error::InvalidArgument)?;
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    let status = code.parse::<u16>().map_err(|_| Error::InvalidArgument)?;
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or(Error::InvalidArgument)?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok((status, reason.to_string(), headers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn requests_encode() {
        let r = request("GET", "https://h/")
            .header("X-A", " b ")
            .encode()
            .unwrap();
        assert_eq!(r, b"GET https://h/ HTTP/1.1\r\nX-A: b\r\n\r\n");
        let r = request("POST", "https://h/").encode().unwrap();
        assert_eq!(r, b"POST https://h/ HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        for bad in [
            request("GE T", "https://h/"),
            request("", "https://h/"),
            request("GET", "https://h/a b"),
            request("GET", "https://h/").header("X", "a\r\nHost: evil"),
            request("GET", "https://h/").header("X:Y", "a"),
            request("GET", "https://h/").header("", "a"),
        ] {
            assert_eq!(bad.encode(), Err(Error::InvalidArgument), "{bad:?}");
        }
    }

    #[test]
    fn heads_parse() {
        let head =
            b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nx-a:  1 \r\nX-A: 2\r\n\r\n";
        assert_eq!(find_head_end(head), Some(head.len()));
        let (status, reason, headers) = parse_head(head).unwrap();
        assert_eq!((status, reason.as_str()), (404, "Not Found"));
        assert_eq!(
            headers,
            vec![
                ("content-type".into(), "text/plain".into()),
                ("x-a".into(), "1".into()),
                ("x-a".into(), "2".into()),
            ]
        );
        assert_eq!(parse_head(b"HTTP/1.1 200\r\n\r\n").unwrap().0, 200);
        assert!(parse_head(b"SPDY 200 OK\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 abc OK\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n").is_err());
        assert_eq!(find_head_end(b"HTTP/1.1 200 OK\r\n"), None);
    }

    #[test]
    fn off_wasm32_requests_are_unsupported() {
        #[cfg(not(target_arch = "wasm32"))]
        assert_eq!(
            get("https://example.com/").map(|_| ()),
            Err(Error::Unsupported)
        );
    }
}
