//! CGI (RFC 3875) for HTTP handlers run by `tern serve`.
//!
//! `tern serve` runs a handler module once per HTTP request, CGI-style: the request's meta-variables
//! are in the environment, its body is on stdin, and the handler writes a CGI response to stdout —
//! a `Status:` line, header lines, a blank line, then the body.
//!
//! [`Request::from_env`] reads
//!
//! | variable | field |
//! |---|---|
//! | `REQUEST_METHOD` (required) | [`Request::method`] |
//! | `PATH_INFO` | [`Request::path_info`] (empty if unset) |
//! | `QUERY_STRING` | [`Request::query_string`] (empty if unset) |
//! | `CONTENT_TYPE` | [`Request::content_type`] |
//! | `CONTENT_LENGTH` | [`Request::content_length`] |
//! | `HTTP_*` listed in `TERN_HTTP_HEADERS` | [`Request::headers`] (`HTTP_X_FOO` → `x-foo`) |
//!
//! and the body from stdin: exactly `CONTENT_LENGTH` bytes, or everything up to the end of stdin when
//! `CONTENT_LENGTH` is not set.
//!
//! ## `TERN_HTTP_HEADERS`
//!
//! A guest can only look environment variables up by name (`env_get`); it cannot list them, so it
//! cannot discover which `HTTP_*` variables exist. The host therefore also sets
//! **`TERN_HTTP_HEADERS`** to a comma-separated list of the names of the `HTTP_*` variables it set for
//! the request, e.g. `HTTP_HOST,HTTP_USER_AGENT,HTTP_X_REQUEST_ID`, and [`Request::from_env`] reads
//! exactly those. When `TERN_HTTP_HEADERS` is not set (an older or foreign host), it probes a fixed
//! list of common headers instead ([`COMMON_HEADER_VARS`]).
//!
//! ```no_run
//! use tern_guest::cgi::{Request, Response};
//! use tern_guest::Error;
//!
//! fn handle() -> Result<(), Error> {
//!     let req = Request::from_env()?;
//!     let name = req.query("name").unwrap_or_else(|| "world".into());
//!     let agent = req.header("user-agent").unwrap_or("unknown");
//!     Response::ok()
//!         .header("Cache-Control", "no-store")
//!         .text(format!("hello, {name} ({} {}, {agent})\n", req.method, req.path_info))
//!         .send()
//! }
//!
//! tern_guest::main!(handle);
//! ```

use crate::{io, resource, Error, Resource};
use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

/// The environment variable in which the host lists the `HTTP_*` variables it set (comma-separated).
pub const HEADERS_VAR: &str = "TERN_HTTP_HEADERS";

/// The `HTTP_*` variables probed when the host does not set [`HEADERS_VAR`].
pub const COMMON_HEADER_VARS: &[&str] = &[
    "HTTP_ACCEPT",
    "HTTP_ACCEPT_ENCODING",
    "HTTP_ACCEPT_LANGUAGE",
    "HTTP_AUTHORIZATION",
    "HTTP_CACHE_CONTROL",
    "HTTP_COOKIE",
    "HTTP_HOST",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_NONE_MATCH",
    "HTTP_ORIGIN",
    "HTTP_REFERER",
    "HTTP_USER_AGENT",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_REQUEST_ID",
];

/// Read the body in pieces of at most this size (so a huge `CONTENT_LENGTH` is not allocated up front).
const BODY_CHUNK: usize = 64 * 1024;

/// An HTTP request as a CGI handler sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `REQUEST_METHOD`: `GET`, `POST`, …
    pub method: String,
    /// `PATH_INFO`: the request path below the handler's mount point (empty if unset).
    pub path_info: String,
    /// `QUERY_STRING`: the raw query, without the `?` (empty if unset). See [`Request::query`].
    pub query_string: String,
    /// `CONTENT_TYPE`, if set and not empty.
    pub content_type: Option<String>,
    /// `CONTENT_LENGTH`, if set and not empty.
    pub content_length: Option<usize>,
    /// The `HTTP_*` variables as header names and values, in the order the host listed them:
    /// `HTTP_X_FOO` becomes `x-foo`.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
}

impl Request {
    /// Reads the request from the environment and stdin (see the [module docs](self)).
    ///
    /// Fails with [`Error::NotFound`] when `REQUEST_METHOD` is not set (not running as a CGI handler),
    /// [`Error::InvalidArgument`] when `CONTENT_LENGTH` is not a number, [`Error::Eof`] when stdin
    /// ends before `CONTENT_LENGTH` bytes, or with the error of the failed call.
    ///
    /// ```no_run
    /// let req = tern_guest::cgi::Request::from_env()?;
    /// tern_guest::log::info(&format!("{} {}", req.method, req.path_info));
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn from_env() -> Result<Request, Error> {
        let stdin = io::stdin();
        Request::from_parts(crate::env::get, |buf| stdin.read(buf))
    }

    /// Builds a request from any variable lookup and body reader — what [`Request::from_env`] does
    /// with [`env::get`](crate::env::get) and stdin. Useful to test a handler on the host.
    ///
    /// `var` returns `Ok(None)` for an unset variable; `read` returns `Ok(0)` at the end of the body.
    ///
    /// ```
    /// use tern_guest::cgi::Request;
    ///
    /// let vars = [
    ///     ("REQUEST_METHOD", "POST"),
    ///     ("PATH_INFO", "/items"),
    ///     ("QUERY_STRING", "a=1&b=x%20y"),
    ///     ("CONTENT_LENGTH", "5"),
    ///     ("TERN_HTTP_HEADERS", "HTTP_HOST,HTTP_X_REQUEST_ID"),
    ///     ("HTTP_HOST", "example.com"),
    ///     ("HTTP_X_REQUEST_ID", "42"),
    /// ];
    /// let mut body: &[u8] = b"hello, and more";
    /// let req = Request::from_parts(
    ///     |k| Ok(vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())),
    ///     |buf| {
    ///         let n = buf.len().min(body.len());
    ///         buf[..n].copy_from_slice(&body[..n]);
    ///         body = &body[n..];
    ///         Ok(n)
    ///     },
    /// )?;
    /// assert_eq!(req.method, "POST");
    /// assert_eq!(req.header("X-Request-Id"), Some("42"));
    /// assert_eq!(req.query("b").as_deref(), Some("x y"));
    /// assert_eq!(req.body, b"hello");
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn from_parts(
        mut var: impl FnMut(&str) -> Result<Option<String>, Error>,
        mut read: impl FnMut(&mut [u8]) -> Result<usize, Error>,
    ) -> Result<Request, Error> {
        let method = var("REQUEST_METHOD")?.ok_or(Error::NotFound)?;
        let path_info = var("PATH_INFO")?.unwrap_or_default();
        let query_string = var("QUERY_STRING")?.unwrap_or_default();
        let content_type = var("CONTENT_TYPE")?.filter(|s| !s.is_empty());
        let content_length = match var("CONTENT_LENGTH")? {
            Some(s) if !s.trim().is_empty() => {
                Some(s.trim().parse().map_err(|_| Error::InvalidArgument)?)
            }
            _ => None,
        };

        let mut headers = Vec::new();
        let listed = var(HEADERS_VAR)?;
        let names: Vec<&str> = match &listed {
            Some(list) => list.split(',').map(str::trim).collect(),
            None => COMMON_HEADER_VARS.to_vec(),
        };
        for (i, name) in names.iter().enumerate() {
            let Some(header) = header_name(name) else {
                continue;
            };
            if names[..i].contains(name) {
                continue;
            }
            if let Some(value) = var(name)? {
                headers.push((header, value));
            }
        }

        let mut body = Vec::new();
        match content_length {
            Some(len) => {
                while body.len() < len {
                    let filled = body.len();
                    let chunk = (len - filled).min(BODY_CHUNK);
                    body.resize(filled + chunk, 0);
                    match read(&mut body[filled..])? {
                        0 => return Err(Error::Eof),
                        n => body.truncate(filled + n.min(chunk)),
                    }
                }
            }
            None => {
                resource::read_to_end_with(read, &mut body)?;
            }
        }

        Ok(Request {
            method,
            path_info,
            query_string,
            content_type,
            content_length,
            headers,
            body,
        })
    }

    /// The value of a header, by case-insensitive name (`"user-agent"`, `"X-Request-Id"`). The first
    /// one if the host gave several. `content-type` is answered from [`Request::content_type`] (CGI
    /// passes it as `CONTENT_TYPE`, not as an `HTTP_*` variable).
    ///
    /// ```
    /// let req = tern_guest::cgi::Request {
    ///     headers: vec![("user-agent".into(), "curl/8".into())],
    ///     ..Default::default()
    /// };
    /// assert_eq!(req.header("User-Agent"), Some("curl/8"));
    /// assert_eq!(req.header("accept"), None);
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        if name.eq_ignore_ascii_case("content-type") {
            return self.content_type.as_deref();
        }
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query string as decoded `(name, value)` pairs (`application/x-www-form-urlencoded`: `+` is
    /// a space, `%XX` a byte; a pair without `=` has an empty value).
    ///
    /// ```
    /// let req = tern_guest::cgi::Request { query_string: "q=a+b&flag&x=%E2%9C%93".into(), ..Default::default() };
    /// let pairs = req.query_pairs();
    /// assert_eq!(pairs[0], ("q".to_string(), "a b".to_string()));
    /// assert_eq!(pairs[1], ("flag".to_string(), String::new()));
    /// assert_eq!(pairs[2].1, "✓");
    /// ```
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        form_pairs(&self.query_string)
    }

    /// The decoded value of the first query parameter called `name`.
    ///
    /// ```
    /// let req = tern_guest::cgi::Request { query_string: "page=2&sort=name".into(), ..Default::default() };
    /// assert_eq!(req.query("page").as_deref(), Some("2"));
    /// assert_eq!(req.query("missing"), None);
    /// ```
    pub fn query(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The body as UTF-8 text; [`Error::InvalidArgument`] if it is not.
    ///
    /// ```
    /// let req = tern_guest::cgi::Request { body: b"{}".to_vec(), ..Default::default() };
    /// assert_eq!(req.body_str()?, "{}");
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn body_str(&self) -> Result<&str, Error> {
        core::str::from_utf8(&self.body).map_err(|_| Error::InvalidArgument)
    }
}

/// The HTTP header name for a CGI `HTTP_*` variable name: `HTTP_X_FOO` → `x-foo`. `None` for a name
/// that does not start with `HTTP_` or has nothing after it.
///
/// ```
/// use tern_guest::cgi::header_name;
/// assert_eq!(header_name("HTTP_USER_AGENT").as_deref(), Some("user-agent"));
/// assert_eq!(header_name("CONTENT_TYPE"), None);
/// ```
pub fn header_name(var: &str) -> Option<String> {
    let rest = var.strip_prefix("HTTP_").filter(|r| !r.is_empty())?;
    Some(
        rest.chars()
            .map(|c| match c {
                '_' => '-',
                c => c.to_ascii_lowercase(),
            })
            .collect(),
    )
}

/// Splits and decodes `application/x-www-form-urlencoded` text into pairs.
///
/// ```
/// let pairs = tern_guest::cgi::form_pairs("a=1&b=two+words");
/// assert_eq!(pairs, [("a".into(), "1".into()), ("b".into(), "two words".into())]);
/// ```
pub fn form_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            (form_decode(n), form_decode(v))
        })
        .collect()
}

/// Decodes one form-urlencoded component: `+` → space, `%XX` → the byte, anything else as is; invalid
/// UTF-8 in the result is replaced with U+FFFD.
fn form_decode(s: &str) -> String {
    fn hex(b: Option<&u8>) -> Option<u8> {
        b.and_then(|&b| (b as char).to_digit(16)).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// A CGI response: a status, headers and a body, written to stdout by [`Response::send`].
///
/// The output is `Status: 200 OK\r\n`, one `Name: value\r\n` line per header, `\r\n`, then the body.
/// CR and LF are removed from header names and values (no header injection); a `Status` header is
/// ignored (the status comes from [`Response::status`]). If there is a body and no `Content-Type`,
/// `Content-Type: application/octet-stream` is added, as RFC 3875 requires a content type with a body.
///
/// ```
/// use tern_guest::cgi::Response;
///
/// let r = Response::new(404).text("no such thing\n");
/// assert_eq!(
///     r.to_bytes(),
///     b"Status: 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nno such thing\n"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Default for Response {
    fn default() -> Self {
        Response::ok()
    }
}

impl Response {
    /// An empty response with status `status`.
    ///
    /// ```
    /// let r = tern_guest::cgi::Response::new(204);
    /// assert_eq!(r.to_bytes(), b"Status: 204 No Content\r\n\r\n");
    /// ```
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// An empty `200 OK` response.
    ///
    /// ```
    /// assert_eq!(tern_guest::cgi::Response::ok().status_code(), 200);
    /// ```
    pub fn ok() -> Response {
        Response::new(200)
    }

    /// Sets the status code.
    ///
    /// ```
    /// let r = tern_guest::cgi::Response::ok().status(201);
    /// assert_eq!(r.status_code(), 201);
    /// ```
    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Adds a header line (several with the same name are all sent, e.g. `Set-Cookie`).
    ///
    /// ```
    /// let r = tern_guest::cgi::Response::ok().header("Set-Cookie", "a=1").header("Set-Cookie", "b=2");
    /// assert_eq!(r.headers().len(), 2);
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets a header, replacing any others of the same (case-insensitive) name.
    ///
    /// ```
    /// let r = tern_guest::cgi::Response::ok().header("X-A", "1").set_header("x-a", "2");
    /// assert_eq!(r.headers(), [("x-a".to_string(), "2".to_string())]);
    /// ```
    pub fn set_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        self.headers.push((name, value.into()));
        self
    }

    /// Sets the `Content-Type`.
    ///
    /// ```
    /// let r = tern_guest::cgi::Response::ok().content_type("image/png").body(vec![0x89, b'P']);
    /// ```
    pub fn content_type(self, value: impl Into<String>) -> Self {
        self.set_header("Content-Type", value)
    }

    /// Sets the body (bytes or text; the content type is left alone).
    ///
    /// ```
    /// let r = tern_guest::cgi::Response::ok().body("raw");
    /// assert_eq!(r.body_bytes(), b"raw");
    /// ```
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a text body with `Content-Type: text/plain; charset=utf-8`.
    ///
    /// ```
    /// let r = tern_guest::cgi::Response::ok().text("hi\n");
    /// ```
    pub fn text(self, body: impl Into<String>) -> Self {
        self.content_type("text/plain; charset=utf-8")
            .body(body.into())
    }

    /// Sets an HTML body with `Content-Type: text/html; charset=utf-8`.
    ///
    /// ```
    /// let r = tern_guest::cgi::Response::ok().html("<h1>hi</h1>");
    /// ```
    pub fn html(self, body: impl Into<String>) -> Self {
        self.content_type("text/html; charset=utf-8")
            .body(body.into())
    }

    /// Sets an already-serialised JSON body with `Content-Type: application/json`.
    ///
    /// ```
    /// let r = tern_guest::cgi::Response::new(201).json(r#"{"id":7}"#);
    /// ```
    pub fn json(self, body: impl Into<String>) -> Self {
        self.content_type("application/json").body(body.into())
    }

    /// The status code.
    pub fn status_code(&self) -> u16 {
        self.status
    }

    /// The headers, in the order they were added.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body.
    pub fn body_bytes(&self) -> &[u8] {
        &self.body
    }

    /// The status line, header lines and blank line, without the body. Write these, then stream the
    /// body to stdout yourself, for a body too large to hold in memory.
    ///
    /// ```no_run
    /// use tern_guest::{cgi::Response, io};
    ///
    /// let out = io::stdout();
    /// out.write_all(&Response::ok().content_type("text/csv").head_bytes())?;
    /// for i in 0..1000 {
    ///     writeln!(out, "{i},{}", i * i)?;
    /// }
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn head_bytes(&self) -> Vec<u8> {
        let mut head = Vec::with_capacity(128);
        push_line(
            &mut head,
            &[
                "Status: ",
                &alloc::format!("{}", self.status),
                " ",
                reason_phrase(self.status),
            ],
        );
        let mut has_type = false;
        for (name, value) in &self.headers {
            if name.eq_ignore_ascii_case("status") {
                continue;
            }
            has_type |= name.eq_ignore_ascii_case("content-type");
            push_line(&mut head, &[&clean(name, true), ": ", &clean(value, false)]);
        }
        if !has_type && !self.body.is_empty() {
            push_line(&mut head, &["Content-Type: application/octet-stream"]);
        }
        head.extend_from_slice(b"\r\n");
        head
    }

    /// The whole response as bytes: [`Response::head_bytes`] and the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.head_bytes();
        out.extend_from_slice(&self.body);
        out
    }

    /// Writes the response to `out`.
    ///
    /// ```no_run
    /// let log = tern_guest::Resource::open("log://?prefix=response")?;
    /// tern_guest::cgi::Response::ok().text("debug copy\n").write_to(&log)?;
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn write_to(&self, out: &Resource) -> Result<(), Error> {
        out.write_all(&self.head_bytes())?;
        out.write_all(&self.body)?;
        out.flush()
    }

    /// Writes the response to stdout (the HTTP response, in `tern serve`) and flushes it.
    ///
    /// ```no_run
    /// tern_guest::cgi::Response::ok().json(r#"{"ok":true}"#).send()?;
    /// # Ok::<(), tern_guest::Error>(())
    /// ```
    pub fn send(&self) -> Result<(), Error> {
        self.write_to(io::stdout())
    }
}

fn push_line(out: &mut Vec<u8>, parts: &[&str]) {
    for p in parts {
        out.extend_from_slice(p.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// Removes CR and LF (and, in a name, `:` and whitespace) so a header stays one well-formed line.
fn clean(s: &str, name: bool) -> String {
    s.chars()
        .filter(|&c| c != '\r' && c != '\n' && !(name && (c == ':' || c.is_whitespace())))
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The standard reason phrase of an HTTP status code (empty for codes without one).
///
/// ```
/// assert_eq!(tern_guest::cgi::reason_phrase(418), "I'm a teapot");
/// assert_eq!(tern_guest::cgi::reason_phrase(299), "");
/// ```
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn vars<'a>(
        list: &'a [(&'a str, &'a str)],
    ) -> impl FnMut(&str) -> Result<Option<String>, Error> + 'a {
        |k| {
            Ok(list
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string()))
        }
    }

    fn body(mut data: &[u8]) -> impl FnMut(&mut [u8]) -> Result<usize, Error> + '_ {
        move |buf| {
            let n = buf.len().min(data.len()).min(3);
            buf[..n].copy_from_slice(&data[..n]);
            data = &data[n..];
            Ok(n)
        }
    }

    #[test]
    fn reads_the_rfc3875_variables() {
        let env = [
            ("REQUEST_METHOD", "PUT"),
            ("PATH_INFO", "/a/b"),
            ("QUERY_STRING", "x=1"),
            ("CONTENT_TYPE", "text/plain"),
            ("CONTENT_LENGTH", " 4 "),
            (
                HEADERS_VAR,
                "HTTP_HOST, HTTP_X_FOO_BAR,,HTTP_MISSING,CONTENT_TYPE,HTTP_HOST",
            ),
            ("HTTP_HOST", "h.example"),
            ("HTTP_X_FOO_BAR", "baz"),
            ("HTTP_USER_AGENT", "not listed"),
        ];
        let req = Request::from_parts(vars(&env), body(b"abcdefgh")).unwrap();
        assert_eq!(req.method, "PUT");
        assert_eq!(req.path_info, "/a/b");
        assert_eq!(req.query_string, "x=1");
        assert_eq!(req.content_type.as_deref(), Some("text/plain"));
        assert_eq!(req.content_length, Some(4));
        assert_eq!(
            req.headers,
            [
                ("host".to_string(), "h.example".to_string()),
                ("x-foo-bar".to_string(), "baz".to_string())
            ]
        );
        assert_eq!(req.header("content-type"), Some("text/plain"));
        assert_eq!(req.header("User-Agent"), None);
        assert_eq!(req.body, b"abcd");
    }

    #[test]
    fn without_content_length_the_body_is_read_to_eof() {
        let env = [("REQUEST_METHOD", "POST"), ("CONTENT_LENGTH", "")];
        let data = vec![b'z'; 10_000];
        let req = Request::from_parts(vars(&env), body(&data)).unwrap();
        assert_eq!(req.content_length, None);
        assert_eq!(req.body, data);
        assert_eq!(req.path_info, "");
    }

    #[test]
    fn without_the_header_list_common_headers_are_probed() {
        let env = [
            ("REQUEST_METHOD", "GET"),
            ("HTTP_USER_AGENT", "curl"),
            ("HTTP_X_CUSTOM", "invisible"),
        ];
        let req = Request::from_parts(vars(&env), body(b"")).unwrap();
        assert_eq!(
            req.headers,
            [("user-agent".to_string(), "curl".to_string())]
        );
    }

    #[test]
    fn errors() {
        let r = Request::from_parts(vars(&[]), body(b""));
        assert_eq!(r, Err(Error::NotFound));
        let env = [("REQUEST_METHOD", "POST"), ("CONTENT_LENGTH", "ten")];
        assert_eq!(
            Request::from_parts(vars(&env), body(b"")),
            Err(Error::InvalidArgument)
        );
        let env = [("REQUEST_METHOD", "POST"), ("CONTENT_LENGTH", "10")];
        assert_eq!(
            Request::from_parts(vars(&env), body(b"short")),
            Err(Error::Eof)
        );
        let failing = |_: &str| Err(Error::Unsupported);
        assert_eq!(
            Request::from_parts(failing, body(b"")),
            Err(Error::Unsupported)
        );
    }

    #[test]
    fn header_names() {
        assert_eq!(header_name("HTTP_X_FOO").as_deref(), Some("x-foo"));
        assert_eq!(header_name("HTTP_"), None);
        assert_eq!(header_name("REMOTE_ADDR"), None);
    }

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("a+b%20c%2b"), "a b c+");
        assert_eq!(form_decode("100%"), "100%");
        assert_eq!(form_decode("%zz%4"), "%zz%4");
        assert_eq!(form_decode("%ff"), "\u{fffd}");
        assert_eq!(
            form_pairs("&a=&=b&c=d=e"),
            [
                ("a".to_string(), String::new()),
                (String::new(), "b".to_string()),
                ("c".to_string(), "d=e".to_string())
            ]
        );
    }

    #[test]
    fn response_format() {
        let r = Response::ok()
            .header("X-Evil\r\nInjected", "a\r\nb")
            .header("Status", "500 ignored")
            .body("hi");
        assert_eq!(
            r.to_bytes(),
            b"Status: 200 OK\r\nX-EvilInjected: ab\r\nContent-Type: application/octet-stream\r\n\r\nhi"
        );
        let r = Response::new(299)
            .json("{}")
            .set_header("content-type", "application/x");
        assert_eq!(
            r.to_bytes(),
            b"Status: 299 \r\ncontent-type: application/x\r\n\r\n{}"
        );
        assert_eq!(Response::default(), Response::ok());
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn off_wasm32() {
        assert_eq!(Request::from_env(), Err(Error::Unsupported));
        assert_eq!(Response::ok().send(), Err(Error::Unsupported));
    }
}
