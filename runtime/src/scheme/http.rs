//! `http://` and `https://`: HTTP/1.1 exchanges performed by the host (ABI.md §4.2).
//!
//! The guest writes an HTTP/1.1 request; flush sends it and waits for the response head; reads
//! return the response as HTTP/1.1 text (status line, headers, blank line, then the body, streamed
//! from the socket as the guest reads it). Reading without writing first performs a GET of the
//! opened URL. ureq speaks HTTP; this module decides what may be sent: every request must stay on
//! the opened URL's origin and be granted by the policy, every redirect is re-checked before it is
//! followed, and every address is checked by [`CheckedResolver`] before ureq connects to it.
//!
//! A process's handles share one [`Client`] (one ureq agent, so one connection pool: a second
//! request to an origin reuses the first one's connection), made at the first `http:` open. It is
//! the process's own: its resolver checks and reports through the process's [`Authoriser`], and
//! the run's interrupt shuts it down with its connections. TLS uses the policy's one client
//! configuration ([`Authoriser::tls_config`]), through [`PolicyTls`].

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};
use ureq::config::Config;
use ureq::http::{self, header, HeaderName, HeaderValue, Method, StatusCode};
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, ShutdownHandle,
    Transport, TransportAdapter,
};
use ureq::{Agent, AsSendBody, Body, BodyReader};
use url::{Position, Url};

use super::{net, Budget, Resource, Stdio};
use crate::interrupt::{Interrupt, Wake};
use crate::normalize::normalize;
use crate::process::Authoriser;
use crate::{Error, Result};

/// The most redirects one exchange follows (browsers and curl stop around here too).
const MAX_REDIRECTS: usize = 10;

/// The most headers a guest's request may have.
const MAX_HEADERS: usize = 100;

/// Request headers the host owns: the connection is the host's to manage, and the body is sent
/// with a length the host computes.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "content-length",
    "host",
];

/// Headers that carry credentials: dropped when a redirect leaves the origin.
const CREDENTIALS: &[HeaderName] = &[
    header::AUTHORIZATION,
    header::COOKIE,
    header::PROXY_AUTHORIZATION,
];

/// An `http:` or `https:` handle: a request being written, or a response being read.
pub struct Http {
    /// The URL the handle was opened with; requests stay on its origin.
    url: Url,
    /// The process's authoriser, for checking request targets, redirects and addresses.
    auth: Authoriser,
    /// Where failures are reported.
    stdio: Stdio,
    /// How long each phase of an exchange may wait; an exchange also ends at the run's deadline.
    waits: net::Waits,
    /// The process's client.
    client: Arc<Client>,
    /// Request bytes written since the last exchange.
    request: Vec<u8>,
    /// What the process's handles may hold of unsent requests together; `request` is taken from it.
    budget: Arc<Budget>,
    /// The response of the last exchange.
    reply: Option<Reply>,
    /// Why the last exchange failed: reads repeat it until the next write starts a new exchange.
    failed: Option<Error>,
}

impl Resource for Http {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.reply.is_none() {
            let reply = if self.request.is_empty() {
                self.exchange(Request::get(&self.url))
            } else {
                self.send_written()
            };
            self.reply = Some(self.settle(reply)?);
        }
        let result = match &mut self.reply {
            Some(reply) => reply.read(buf),
            None => Ok(0),
        };
        net::report(&self.stdio, &self.url, result)
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        // Writing after a response starts the next exchange; what is left of the response is dropped.
        self.reply = None;
        self.failed = None;
        let max = self.auth.network().max_request_bytes;
        let e = if self.request.len().saturating_add(buf.len()) > max {
            Error::LimitExceeded(format!(
                "the request is larger than the policy's limit of {max} bytes"
            ))
        } else if !self.budget.take(buf.len()) {
            Error::LimitExceeded(format!(
                "the guest's unsent HTTP requests would hold more than {} bytes",
                self.budget.max()
            ))
        } else {
            self.request.extend_from_slice(buf);
            return Ok(buf.len());
        };
        self.discard_request();
        net::report(&self.stdio, &self.url, Err(e))
    }

    fn flush(&mut self) -> Result<()> {
        if self.request.is_empty() {
            return Ok(());
        }
        let reply = self.send_written();
        self.reply = Some(self.settle(reply)?);
        Ok(())
    }
}

impl Http {
    /// Reports a failed exchange and remembers it for the reads that follow.
    fn settle(&mut self, reply: Result<Reply>) -> Result<Reply> {
        let reply = net::report(&self.stdio, &self.url, reply);
        if let Err(e) = &reply {
            self.failed = Some(e.clone());
        }
        reply
    }

    /// Drops the unsent request, giving its bytes back to the budget.
    fn discard_request(&mut self) {
        self.budget.give(self.request.len());
        self.request = Vec::new();
    }

    /// Parses and sends what the guest wrote; the written bytes are used up either way.
    fn send_written(&mut self) -> Result<Reply> {
        let raw = std::mem::take(&mut self.request);
        self.budget.give(raw.len());
        let request = parse_request(&raw, &self.url, &self.auth)?;
        self.exchange(request)
    }

    /// Sends `request`, following redirects the policy grants.
    fn exchange(&mut self, mut request: Request) -> Result<Reply> {
        let agent = &self.client.agent;
        let settings = self.auth.network();
        for hop in 0..=MAX_REDIRECTS {
            let response = send(agent, &request, &self.waits)?;
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok());
            let status = response.status().as_u16();
            let (Some(location), 301 | 302 | 303 | 307 | 308) = (location, status) else {
                return Reply::new(response, settings.max_response_bytes);
            };
            let next = match self.redirect_target(&request.url, location) {
                Ok(next) if hop < MAX_REDIRECTS => next,
                Ok(_) => {
                    self.stdio.diagnostic(&format!(
                        "{}: more than {MAX_REDIRECTS} redirects; the last one is returned as it is",
                        self.url
                    ));
                    return Reply::new(response, settings.max_response_bytes);
                }
                Err(why) => {
                    self.stdio.diagnostic(&format!(
                        "{}: redirect to {location} not followed: {why}",
                        request.url
                    ));
                    return Reply::new(response, settings.max_response_bytes);
                }
            };
            request.redirect(status, next);
        }
        unreachable!("the loop returns by its last iteration")
    }

    /// The URL a redirect from `from` to `location` leads to, if the policy grants it.
    fn redirect_target(&self, from: &Url, location: &str) -> Result<Url> {
        let joined = from
            .join(location)
            .map_err(|e| Error::invalid(format!("bad Location: {e}")))?;
        let next = normalize(joined.as_str())?;
        if !matches!(next.scheme(), "http" | "https") {
            let e =
                Error::PermissionDenied(format!("{next}: redirects lead only to http and https"));
            return Err(self.auth.refused(&next, e));
        }
        self.auth.url(&next)?;
        Ok(next)
    }
}

/// Opens an `http:` or `https:` URL with the process's client (made at its first open, in
/// `client`); nothing is sent until the first flush or read.
pub(super) fn open(
    url: &Url,
    stdio: &Stdio,
    auth: &Authoriser,
    waits: net::Waits,
    budget: &Arc<Budget>,
    client: &OnceLock<Arc<Client>>,
) -> Result<Box<dyn Resource>> {
    let client = Arc::clone(client.get_or_init(|| Client::new(auth, waits.interrupt())));
    Ok(Box::new(Http {
        url: url.clone(),
        auth: auth.clone(),
        budget: Arc::clone(budget),
        stdio: stdio.clone(),
        waits,
        client,
        request: Vec::new(),
        reply: None,
        failed: None,
    }))
}

impl Drop for Http {
    fn drop(&mut self) {
        self.discard_request();
    }
}

/// A request ready to send.
#[derive(Debug)]
struct Request {
    /// The method.
    method: Method,
    /// The absolute, normalised, granted URL.
    url: Url,
    /// Headers other than the host-owned ones.
    headers: Vec<(HeaderName, HeaderValue)>,
    /// The body.
    body: Vec<u8>,
}

impl Request {
    /// A plain GET of `url`: the simple form.
    fn get(url: &Url) -> Self {
        Request {
            method: Method::GET,
            url: url.clone(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Turns the request into the one a redirect with `status` to `next` asks for.
    fn redirect(&mut self, status: u16, next: Url) {
        let to_get = status == 303 && self.method != Method::HEAD
            || matches!(status, 301 | 302) && self.method == Method::POST;
        if to_get {
            self.method = Method::GET;
            self.body.clear();
            self.headers.retain(|(name, _)| {
                !name.as_str().starts_with("content-") && *name != header::TRANSFER_ENCODING
            });
        }
        if next[..Position::BeforePath] != self.url[..Position::BeforePath] {
            self.headers.retain(|(name, _)| !CREDENTIALS.contains(name));
        }
        self.url = next;
    }
}

/// Parses the request a guest wrote against the handle's `origin` and checks its target.
///
/// The target may be in origin form (`/path?q`) or absolute form; either way it must stay on the
/// origin (scheme, host and port) and the policy must grant it. A `Host` header must name the
/// origin's host. The body is what follows the head: exactly `Content-Length` bytes if the header
/// is given, else everything written.
fn parse_request(raw: &[u8], origin: &Url, auth: &Authoriser) -> Result<Request> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut slots);
    let head_len = match parsed.parse(raw) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return Err(Error::invalid(
                "the request head is incomplete (it ends with an empty line: \\r\\n\\r\\n)",
            ))
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Error::LimitExceeded(format!(
                "the request has more than {MAX_HEADERS} headers"
            )))
        }
        Err(e) => return Err(Error::invalid(format!("malformed HTTP request: {e}"))),
    };
    let (Some(method), Some(target)) = (parsed.method, parsed.path) else {
        return Err(Error::invalid("malformed HTTP request line"));
    };
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|e| Error::invalid(format!("bad method {method:?}: {e}")))?;
    if method == Method::CONNECT {
        return Err(Error::unsupported("CONNECT requests are not supported"));
    }
    let url = request_target(target, origin).map_err(|e| auth.refused(origin, e))?;
    auth.url(&url)?;

    let mut headers = Vec::new();
    let mut content_length = None;
    for h in parsed.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        match name.as_str() {
            "host" => check_host(h.value, origin).map_err(|e| auth.refused(origin, e))?,
            "content-length" => {
                let text = std::str::from_utf8(h.value).unwrap_or_default().trim();
                let n = text.parse::<usize>().map_err(|_| {
                    Error::invalid(format!(
                        "bad Content-Length {:?}",
                        String::from_utf8_lossy(h.value)
                    ))
                })?;
                if content_length.is_some_and(|m| m != n) {
                    return Err(Error::invalid("conflicting Content-Length headers"));
                }
                content_length = Some(n);
            }
            "transfer-encoding" => {
                return Err(Error::unsupported(
                    "Transfer-Encoding in a request is not supported: write the whole body \
                     (with or without Content-Length) before flushing",
                ))
            }
            _ if HOP_BY_HOP.contains(&name.as_str()) => {}
            _ => {
                let header_name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|e| Error::invalid(format!("bad header name {name:?}: {e}")))?;
                let value = HeaderValue::from_bytes(h.value)
                    .map_err(|e| Error::invalid(format!("bad value of header {name}: {e}")))?;
                headers.push((header_name, value));
            }
        }
    }
    let body = raw.get(head_len..).unwrap_or_default();
    match content_length {
        Some(n) if body.len() < n => {
            return Err(Error::invalid(format!(
                "the body is {} bytes but Content-Length says {n}: write all of it before flushing",
                body.len()
            )))
        }
        Some(n) if body.len() > n => {
            return Err(Error::invalid(format!(
                "{} bytes follow the {n}-byte body: send one request per flush",
                body.len() - n
            )))
        }
        _ => {}
    }
    Ok(Request {
        method,
        url,
        headers,
        body: body.to_vec(),
    })
}

/// The absolute URL of a request target, which must be on `origin`.
fn request_target(target: &str, origin: &Url) -> Result<Url> {
    let absolute = if target.starts_with('/') {
        // Concatenated rather than joined: `//evil.net/x` is a path here, not a host.
        format!("{}{target}", &origin[..Position::BeforePath])
    } else if target.contains("://") {
        target.to_owned()
    } else {
        return Err(Error::invalid(format!(
            "request target {target:?}: expected /path or an absolute http(s) URL"
        )));
    };
    let url = normalize(&absolute)?;
    if url[..Position::BeforePath] != origin[..Position::BeforePath] {
        return Err(Error::PermissionDenied(format!(
            "a request for {url} cannot go through a handle opened for {origin}: open that URL \
             instead"
        )));
    }
    Ok(url)
}

/// Accepts a `Host` header only if it names `origin`'s host (and port, if it gives one).
fn check_host(value: &[u8], origin: &Url) -> Result<()> {
    let text = std::str::from_utf8(value).unwrap_or_default().trim();
    let host = &origin[Position::BeforeHost..Position::AfterHost];
    let port = origin.port_or_known_default();
    let ok = match text.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') && !p.contains(']') => {
            h.eq_ignore_ascii_case(host) && p.parse::<u16>().ok() == port
        }
        _ => text.eq_ignore_ascii_case(host),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::PermissionDenied(format!(
            "Host: {text} does not name {host}, which this handle was opened for"
        )))
    }
}

/// Sends one request and waits for the response head.
fn send(agent: &Agent, request: &Request, waits: &net::Waits) -> Result<http::Response<Body>> {
    let left = waits.left()?;
    let mut builder = http::Request::builder()
        .method(request.method.clone())
        .uri(request.url.as_str());
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let build_error = |e: http::Error| Error::invalid(format!("cannot build the request: {e}"));
    let result = if request.body.is_empty() && !needs_body(&request.method) {
        agent.run(until(agent, builder.body(()).map_err(build_error)?, left))
    } else {
        let body = builder.body(request.body.as_slice()).map_err(build_error)?;
        agent.run(until(agent, body, left))
    };
    result.map_err(ureq_error)
}

/// In a run with a deadline, makes the whole exchange (response body included) end when the run
/// does. Only then: ureq's end-to-end timeout costs ~65 µs a request (see [`Client::new`]).
fn until<S: AsSendBody>(
    agent: &Agent,
    request: http::Request<S>,
    left: Option<Duration>,
) -> http::Request<S> {
    match left {
        None => request,
        Some(left) => agent
            .configure_request(request)
            .timeout_global(Some(left))
            .build(),
    }
}

/// Whether a method sends a body (and so a `Content-Length: 0` when it is empty).
fn needs_body(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH)
}

/// Maps a ureq error to the ABI's errors.
fn ureq_error(e: ureq::Error) -> Error {
    match e {
        ureq::Error::Timeout(t) => Error::Timeout(format!("timed out ({t})")),
        ureq::Error::HostNotFound => Error::NotFound("unknown host".into()),
        ureq::Error::Io(io) if io.kind() == io::ErrorKind::NotFound => {
            Error::NotFound(io.to_string())
        }
        ureq::Error::Io(io) => net::io_error(io, "HTTP"),
        ureq::Error::BodyExceedsLimit(n) => {
            Error::LimitExceeded(format!("the body is larger than {n} bytes"))
        }
        ureq::Error::Http(_) | ureq::Error::BadUri(_) => Error::invalid(e.to_string()),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => {
            Error::ConnectionFailed(format!("TLS: {e}"))
        }
        other => Error::ConnectionFailed(other.to_string()),
    }
}

/// A process's HTTP client: one agent for all of its handles (see the module documentation).
pub(crate) struct Client {
    agent: Agent,
}

impl Wake for Client {
    fn wake(&self) {
        // Ends every exchange in flight (its socket is shut down) and refuses new ones.
        self.agent.clone().shutdown();
    }
}

impl Client {
    /// Builds the client: no proxy from the environment, no automatic redirects (they are checked
    /// here), HTTP errors delivered as responses, addresses checked by the policy, TLS with the
    /// policy's configuration; registered with the run's `interrupt`, which shuts it down.
    fn new(auth: &Authoriser, interrupt: Option<&Interrupt>) -> Arc<Client> {
        let client = Arc::new(Client {
            agent: new_agent(auth, interrupt),
        });
        if let Some(interrupt) = interrupt {
            let waker: Arc<dyn Wake> = client.clone();
            interrupt.on_trigger(Arc::downgrade(&waker));
        }
        client
    }
}

fn new_agent(auth: &Authoriser, interrupt: Option<&Interrupt>) -> Agent {
    let settings = auth.network();
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .max_redirects(0)
        .allow_non_standard_methods(true)
        .user_agent(concat!("tern/", env!("CARGO_PKG_VERSION")))
        .timeout_connect(Some(settings.connect_timeout))
        // Each phase gets the whole network timeout. ureq's end-to-end timeouts (`timeout_global`,
        // `timeout_per_call`) would be closer to "one exchange", but measured at ~65 µs per request
        // on loopback, three times the cost of the request itself.
        .timeout_send_request(Some(settings.timeout))
        .timeout_send_body(Some(settings.timeout))
        .timeout_recv_response(Some(settings.timeout))
        .timeout_recv_body(Some(settings.timeout))
        .build();
    let tcp = InterruptibleTcp {
        interrupt: interrupt.cloned(),
    };
    let tls = PolicyTls { auth: auth.clone() };
    let connector = ().chain(tcp).chain(tls);
    let resolver = CheckedResolver {
        auth: auth.clone(),
        interrupt: interrupt.cloned(),
    };
    Agent::with_parts(config, connector, resolver)
}

/// Connects ureq's exchanges to the addresses [`CheckedResolver`] allowed, in the resolver's order,
/// with [`net::connect_one`]: a connect sees the run's interrupt, as a `tcp:` connect does. The
/// socket is registered for ureq's shutdown (the interrupt's [`Client::wake`]).
#[derive(Debug)]
struct InterruptibleTcp {
    /// The run's interrupt.
    interrupt: Option<Interrupt>,
}

impl<In: Transport> Connector<In> for InterruptibleTcp {
    type Out = Either<In, StreamTransport<Arc<TcpStream>>>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> std::result::Result<Option<Self::Out>, ureq::Error> {
        if let Some(chained) = chained {
            return Ok(Some(Either::A(chained)));
        }
        let timeout = details.timeout;
        let started = std::time::Instant::now();
        let budget = timeout.not_zero().map(|t| *t);
        let mut last = None;
        for addr in details.addrs.iter() {
            let left = budget.map(|b| b.saturating_sub(started.elapsed()));
            if left.is_some_and(|l| l.is_zero()) {
                break;
            }
            // Without a connect timeout, a day: as good as forever.
            let wait = left.unwrap_or(Duration::from_secs(86_400));
            match net::connect_one(addr, wait, self.interrupt.as_ref()) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    let stream = Arc::new(stream);
                    let handle: Arc<dyn ShutdownHandle> = stream.clone();
                    (details.register_shutdown)(Arc::downgrade(&handle))?;
                    let buffers = LazyBuffers::new(
                        details.config.input_buffer_size(),
                        details.config.output_buffer_size(),
                    );
                    return Ok(Some(Either::B(StreamTransport { stream, buffers })));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(e) if e.kind() != io::ErrorKind::TimedOut => ureq::Error::Io(e),
            _ => ureq::Error::Timeout(timeout.reason),
        })
    }
}

/// A byte stream under one of ureq's connections: what a plain and a TLS connection do
/// differently (where a timeout goes, how a pooled connection is known to be open);
/// [`StreamTransport`] does the rest for both.
trait TimedStream: Send + Sync + 'static {
    /// The stream is TLS: ureq does not put it in TLS again.
    const TLS: bool;

    /// Makes the next reads (or, with `write`, writes) give up at `timeout`; returns the reason to
    /// report if they do, or the timeout error if it has passed already.
    fn set_timeout(
        &mut self,
        timeout: NextTimeout,
        write: bool,
    ) -> std::result::Result<ureq::Timeout, ureq::Error>;

    /// Reads what has arrived, waiting until something has (or the timeout).
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;

    /// Writes all of `bytes`.
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// A pooled connection is still open and has nothing unread.
    fn is_open(&mut self) -> bool;
}

/// A plain TCP connection, shared (weakly) with ureq's shutdown, which may shut it down while it
/// is in use. Its timeouts are the socket's.
impl TimedStream for Arc<TcpStream> {
    const TLS: bool = false;

    fn set_timeout(
        &mut self,
        timeout: NextTimeout,
        write: bool,
    ) -> std::result::Result<ureq::Timeout, ureq::Error> {
        // ureq's per-read and per-write caps apply at the transport that does the I/O: this one.
        let timeout = if write {
            timeout.for_write()
        } else {
            timeout.for_read()
        };
        // `None` never happens; a zero timeout has passed.
        if !timeout.after.is_not_happening() && timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        let after = timeout.not_zero().map(|t| *t);
        if write {
            self.set_write_timeout(after)?;
        } else {
            self.set_read_timeout(after)?;
        }
        Ok(timeout.reason)
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&**self).read(buf)
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        (&**self).write_all(bytes)
    }

    fn is_open(&mut self) -> bool {
        // A pooled connection is reusable if it has nothing to read and has not been closed: a
        // non-blocking peek then has nothing to return yet.
        if self.set_nonblocking(true).is_err() {
            return false;
        }
        let open = matches!(
            self.peek(&mut [0u8; 1]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock
        );
        self.set_nonblocking(false).is_ok() && open
    }
}

/// A connection as ureq's exchanges use it: a [`TimedStream`] and ureq's buffers.
struct StreamTransport<S> {
    stream: S,
    buffers: LazyBuffers,
}

impl<S> std::fmt::Debug for StreamTransport<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamTransport").finish_non_exhaustive()
    }
}

/// An I/O error of a stream as ureq's error: a timeout with `reason` (the socket's timeout, or
/// ureq's own error from below a TLS stream, unwrapped), anything else as it is.
fn stream_error(e: io::Error, reason: ureq::Timeout) -> ureq::Error {
    match ureq::Error::from(e) {
        ureq::Error::Io(e)
            if matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            ureq::Error::Timeout(reason)
        }
        other => other,
    }
}

impl<S: TimedStream> Transport for StreamTransport<S> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(
        &mut self,
        amount: usize,
        timeout: NextTimeout,
    ) -> std::result::Result<(), ureq::Error> {
        let reason = self.stream.set_timeout(timeout, true)?;
        let output = &self.buffers.output()[..amount];
        self.stream
            .write_all(output)
            .map_err(|e| stream_error(e, reason))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        let reason = self.stream.set_timeout(timeout, false)?;
        let input = self.buffers.input_append_buf();
        let n = loop {
            match self.stream.read(input) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other.map_err(|e| stream_error(e, reason))?,
            }
        };
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.is_open()
    }

    fn is_tls(&self) -> bool {
        S::TLS
    }
}

/// Puts ureq's connections to `https` origins in TLS with the policy's client configuration
/// (the certificate and the host name verified against the built-in roots and the policy's CAs).
#[derive(Debug)]
struct PolicyTls {
    /// The process's authoriser, which has the policy's configuration.
    auth: Authoriser,
}

impl<In: Transport> Connector<In> for PolicyTls {
    type Out = Either<In, StreamTransport<StreamOwned<ClientConnection, TransportAdapter>>>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> std::result::Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let tls_error = |e: Error| ureq::Error::Io(io::Error::other(e.to_string()));
        let config = self.auth.tls_config().map_err(tls_error)?;
        // An address is verified against the certificate's IP addresses, a name against its names.
        let host = details.uri.host().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_owned()).map_err(|e| {
            tls_error(Error::invalid(format!(
                "{host}: not a TLS server name: {e}"
            )))
        })?;
        let mut conn = ClientConnection::new(config, name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        conn.complete_io(&mut sock)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(StreamTransport {
            stream: StreamOwned::new(conn, sock),
            buffers,
        })))
    }
}

/// A connection in TLS over ureq's transport below it, whose timeouts are set through the
/// adapter (the transport below applies ureq's per-read and per-write caps).
impl TimedStream for StreamOwned<ClientConnection, TransportAdapter> {
    const TLS: bool = true;

    fn set_timeout(
        &mut self,
        timeout: NextTimeout,
        _write: bool,
    ) -> std::result::Result<ureq::Timeout, ureq::Error> {
        self.sock.set_timeout(timeout);
        Ok(timeout.reason)
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(self, buf)
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        Write::write_all(self, bytes)
    }

    fn is_open(&mut self) -> bool {
        self.sock.get_mut().is_open()
    }
}

/// Resolves with the host's resolver and hands ureq only the addresses the policy allows, so
/// ureq's connector can only connect to checked addresses.
#[derive(Debug)]
struct CheckedResolver {
    /// The process's authoriser, to check each address with.
    auth: Authoriser,
    /// The run's interrupt, which ends a lookup.
    interrupt: Option<Interrupt>,
}

impl Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        _config: &Config,
        timeout: NextTimeout,
    ) -> std::result::Result<ResolvedSocketAddrs, ureq::Error> {
        let to_ureq = |e: Error| {
            let kind = match e {
                Error::PermissionDenied(_) => io::ErrorKind::PermissionDenied,
                Error::NotFound(_) => io::ErrorKind::NotFound,
                Error::Timeout(_) => io::ErrorKind::TimedOut,
                _ => io::ErrorKind::InvalidInput,
            };
            let message = match e {
                Error::PermissionDenied(m) | Error::NotFound(m) | Error::Timeout(m) => m,
                other => other.to_string(),
            };
            ureq::Error::Io(io::Error::new(kind, message))
        };
        let url = normalize(&uri.to_string()).map_err(to_ureq)?;
        let port = net::port_of(&url).map_err(to_ureq)?;
        let wait = self.auth.network().connect_timeout.min(*timeout.after);
        let interrupt = self.interrupt.as_ref();
        let addrs = net::checked_addrs(&self.auth, &url, port, wait, interrupt).map_err(to_ureq)?;
        let mut out = self.empty();
        for addr in addrs.into_iter().take(net::MAX_ADDRS) {
            out.push(addr);
        }
        Ok(out)
    }
}

/// A response being read: the head as HTTP/1.1 text, then the body straight from the socket.
struct Reply {
    /// Status line, headers and the blank line.
    head: Vec<u8>,
    /// How much of `head` the guest has read.
    pos: usize,
    /// The body, decoded from chunked transfer coding, read on demand (never buffered whole).
    body: BodyReader<'static>,
    /// Body bytes delivered so far.
    received: u64,
    /// The most body bytes the policy allows.
    limit: u64,
}

impl Reply {
    /// Serialises the head of `response`; a declared body over `limit` fails at once.
    fn new(response: http::Response<Body>, limit: u64) -> Result<Self> {
        if let Some(len) = response.body().content_length().filter(|n| *n > limit) {
            return Err(Error::LimitExceeded(format!(
                "the response body is {len} bytes; the policy allows {limit}"
            )));
        }
        let status: StatusCode = response.status();
        let mut head = format!(
            "HTTP/1.1 {} {}\r\n",
            status.as_str(),
            status.canonical_reason().unwrap_or("")
        )
        .into_bytes();
        for (name, value) in response.headers() {
            // The body is delivered decoded, so its transfer coding no longer applies.
            if name == header::TRANSFER_ENCODING {
                continue;
            }
            head.extend_from_slice(name.as_str().as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        Ok(Reply {
            head,
            pos: 0,
            body: response.into_body().into_reader(),
            received: 0,
            limit,
        })
    }

    /// Reads the head, then the body; `Ok(0)` at the end.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        if let Some(rest) = self.head.get(self.pos..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.pos += n;
            return Ok(n);
        }
        let n = self
            .body
            .read(buf)
            .map_err(|e| ureq_error(ureq::Error::from(e)))?;
        self.received += n as u64;
        if self.received > self.limit {
            return Err(Error::LimitExceeded(format!(
                "the response body is larger than the policy's limit of {} bytes",
                self.limit
            )));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(grants: &[&str]) -> Authoriser {
        let mut p = crate::Policy::new();
        for g in grants {
            p.allow(g).unwrap();
        }
        Authoriser::detached(p)
    }

    fn origin() -> Url {
        normalize("https://a.example/api").unwrap()
    }

    #[test]
    fn requests_parse() {
        let p = policy(&["https://a.example"]);
        let raw = b"POST /api/x?y=1 HTTP/1.1\r\nHost: a.example\r\nContent-Type: text/plain\r\n\
                    Content-Length: 5\r\nConnection: close\r\n\r\nhello";
        let r = parse_request(raw, &origin(), &p).unwrap();
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.url.as_str(), "https://a.example/api/x?y=1");
        assert_eq!(r.body, b"hello");
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["content-type"]);
        // Without Content-Length the body is everything written; an absolute target is fine too.
        let raw = b"PUT https://a.example:443/z HTTP/1.1\r\nHost: A.EXAMPLE:443\r\n\r\nabc";
        let r = parse_request(raw, &origin(), &p).unwrap();
        assert_eq!(
            (r.url.as_str(), r.body.as_slice()),
            ("https://a.example/z", &b"abc"[..])
        );
    }

    #[test]
    fn requests_stay_on_the_origin() {
        let p = policy(&["https://a.example", "https://b.example"]);
        let denied = |raw: &[u8]| match parse_request(raw, &origin(), &p) {
            Err(Error::PermissionDenied(m)) => m,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(raw)),
        };
        denied(b"GET https://b.example/ HTTP/1.1\r\n\r\n");
        denied(b"GET http://a.example/ HTTP/1.1\r\n\r\n");
        denied(b"GET https://a.example:8443/ HTTP/1.1\r\n\r\n");
        let m = denied(b"GET / HTTP/1.1\r\nHost: b.example\r\n\r\n");
        assert!(m.contains("does not name a.example"), "{m}");
        denied(b"GET / HTTP/1.1\r\nHost: a.example:8443\r\n\r\n");
        denied(b"GET / HTTP/1.1\r\nHost: a.example.b.example\r\n\r\n");
        // `//b.example/x` is a path on the origin, not another host.
        let r = parse_request(b"GET //b.example/x HTTP/1.1\r\n\r\n", &origin(), &p).unwrap();
        assert_eq!(r.url.host_str(), Some("a.example"));
        // The target must be granted, not just on the origin.
        let narrow = policy(&["https://a.example/api"]);
        let e = parse_request(b"GET /admin HTTP/1.1\r\n\r\n", &origin(), &narrow).unwrap_err();
        assert!(matches!(e, Error::PermissionDenied(_)), "{e}");
        assert!(parse_request(b"GET /api/v1 HTTP/1.1\r\n\r\n", &origin(), &narrow).is_ok());
    }

    #[test]
    fn bad_requests_are_invalid() {
        let p = policy(&["https://a.example"]);
        let cases: &[(&[u8], i32)] = &[
            (b"GET / HTTP/1.1\r\nHost: a.example\r\n", -2),
            (b"GET / HTTP/1.1\r\nContent-Length: 9\r\n\r\nshort", -2),
            (b"GET / HTTP/1.1\r\nContent-Length: 1\r\n\r\ntoo long", -2),
            (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", -2),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                -6,
            ),
            (b"CONNECT a.example:443 HTTP/1.1\r\n\r\n", -6),
            (b"GET a.example HTTP/1.1\r\n\r\n", -2),
            (b"\x00\x01 garbage", -2),
        ];
        for (raw, code) in cases {
            let e = parse_request(raw, &origin(), &p).unwrap_err();
            assert_eq!(e.code(), *code, "{:?}: {e}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn redirects_change_method_and_drop_credentials() {
        let mut r = Request {
            method: Method::POST,
            url: origin(),
            headers: vec![
                (header::AUTHORIZATION, HeaderValue::from_static("secret")),
                (header::CONTENT_TYPE, HeaderValue::from_static("text/plain")),
                (header::ACCEPT, HeaderValue::from_static("*/*")),
            ],
            body: b"x".to_vec(),
        };
        r.redirect(307, normalize("https://a.example/other").unwrap());
        assert_eq!(
            (r.method.as_str(), r.body.len(), r.headers.len()),
            ("POST", 1, 3)
        );
        r.redirect(302, normalize("https://b.example/").unwrap());
        assert_eq!((r.method.as_str(), r.body.len()), ("GET", 0));
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["accept"]);
    }
}
