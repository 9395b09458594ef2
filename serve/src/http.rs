//! One request, from its head to its response: built-in endpoints, routing, limits, queueing, and the
//! hand-off to a worker that runs the guest.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HOST, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::{mpsc, oneshot};

use crate::cgi::{self, RequestMeta};
use crate::invoke::Stopper;
use crate::job::{self, Invocation};
use crate::pool::Rejected;
use crate::records::InvocationRecord;
use crate::registry::Handler;
use crate::router::{Match, Routed};
use crate::server::State;
use crate::stream::{Body, BodyReader, Chunk, Reply};

/// The response header carrying the run id.
pub const RUN_ID_HEADER: &str = "x-tern-run-id";

/// Where a connection came from and arrived.
#[derive(Clone, Copy)]
pub struct Peer {
    /// The client.
    pub remote: SocketAddr,
    /// The listener.
    pub local: SocketAddr,
    /// Whether the connection is TLS.
    pub tls: bool,
}

fn plain(status: StatusCode, text: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Body::text(text));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// When the request's future is dropped before its head is answered (the client went away), marks
/// the run's client gone and stops the run.
struct GoneGuard(Option<(Arc<AtomicBool>, Stopper)>);

impl Drop for GoneGuard {
    fn drop(&mut self) {
        if let Some((flag, stopper)) = self.0.take() {
            flag.store(true, Ordering::Relaxed);
            stopper.stop();
        }
    }
}

/// The parts of a request its run needs, moved to the worker: the CGI environment is built there,
/// so its few dozen strings are made and freed on one thread, off the I/O thread.
struct RequestHead {
    parts: hyper::http::request::Parts,
    host: String,
    matched: Match,
    peer: Peer,
    run_id: String,
    /// Whether the request has a body, and its length when known.
    body: Option<Option<u64>>,
    /// Arrival, as seconds since the Unix epoch.
    started_at: f64,
}

impl RequestHead {
    /// The handler's own variables first: a CGI variable of the same name wins.
    fn environment(&self, handler: &Handler) -> Vec<(String, String)> {
        let mut env = handler.spec.env.clone();
        env.extend(cgi::environment(&RequestMeta {
            method: self.parts.method.as_str(),
            raw_path: self.parts.uri.path(),
            query: self.parts.uri.query(),
            protocol: match self.parts.version {
                hyper::Version::HTTP_10 => "HTTP/1.0",
                _ => "HTTP/1.1",
            },
            headers: &self.parts.headers,
            remote: self.peer.remote,
            local: self.peer.local,
            host: &self.host,
            scheme: if self.peer.tls { "https" } else { "http" },
            matched: &self.matched,
            run_id: &self.run_id,
            pass_authorization: handler.spec.pass_authorization,
            body: self.body,
        }));
        env
    }

    /// The invocation record as it stands before the outcome.
    fn record(&self, handler: &Handler) -> InvocationRecord {
        InvocationRecord {
            run_id: self.run_id.clone(),
            started_at: self.started_at,
            handler: handler.spec.name.clone(),
            version: handler.module.sha256.clone(),
            route: self.matched.pattern.clone(),
            method: self.parts.method.as_str().to_owned(),
            path: self.parts.uri.path().to_owned(),
            ..Default::default()
        }
    }
}

/// Answers one request.
pub async fn handle(state: Arc<State>, req: Request<Incoming>, peer: Peer) -> Response<Body> {
    let arrived = Instant::now();
    match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/healthz") => return plain(StatusCode::OK, "ok\n"),
        (&Method::GET | &Method::HEAD, "/readyz") => {
            return if state.ready.load(Ordering::Acquire) {
                plain(StatusCode::OK, "ready\n")
            } else {
                plain(StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
            };
        }
        (&Method::GET, "/metrics") => {
            // The queue gauges are set here, when read, rather than on every request.
            for (handler, n) in state.pool.queue_lengths() {
                state.metrics.set_queued(&handler, n);
            }
            let mut r = plain(StatusCode::OK, state.metrics.render());
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            );
            return r;
        }
        _ => {}
    }
    let host = request_host(&req);
    let table = state.live.current();
    let matched = match table
        .router
        .route(&host, req.method().as_str(), req.uri().path())
    {
        Routed::Found(m) => m,
        Routed::NotFound => {
            if state.debug {
                eprintln!(
                    "tern serve: 404: no route for host {host:?} path {:?}",
                    req.uri().path()
                );
            }
            return plain(StatusCode::NOT_FOUND, "no route for this path\n");
        }
        Routed::MethodNotAllowed(allowed) => {
            let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
                r.headers_mut().insert(ALLOW, v);
            }
            return r;
        }
    };
    let handler = table.handlers[matched.handler].clone();
    let concurrency = table.concurrency[matched.handler];
    let limits = &handler.spec.limits;
    let content_length = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let has_body = content_length.map_or_else(
        || req.headers().contains_key(hyper::header::TRANSFER_ENCODING),
        |n| n > 0,
    );
    let (parts, body) = req.into_parts();
    let head = Arc::new(RequestHead {
        parts,
        host,
        matched,
        peer,
        run_id: state.next_run_id(),
        body: has_body.then_some(content_length),
        started_at: SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
    });
    let reject = |status: StatusCode, detail: String| {
        let mut record = head.record(&handler);
        record.status = status.as_u16();
        record.end = "rejected".into();
        record.detail = detail.clone();
        record.wall_ms = ms(arrived.elapsed());
        state.finish(&record);
        let mut r = plain(status, format!("{detail}\n"));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        with_run_id(r, &head.run_id)
    };

    if content_length.is_some_and(|n| n > limits.max_request_body) {
        return reject(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "request body of {} bytes is over this handler's limit of {}",
                content_length.unwrap_or_default(),
                limits.max_request_body
            ),
        );
    }

    // The request body flows to the guest's stdin as it arrives, counted against the limit.
    let too_large = Arc::new(AtomicBool::new(false));
    let stdin_rx = if has_body {
        let (tx, rx) = mpsc::channel::<Chunk>(4);
        let deadline =
            tokio::time::Instant::from_std(arrived + limits.queue_timeout + limits.timeout);
        tokio::spawn(pump(
            body,
            tx,
            limits.max_request_body,
            deadline,
            too_large.clone(),
        ));
        Some(rx)
    } else {
        drop(body);
        None
    };

    // The run answers once, on this channel: the whole response when it is small and quick (the
    // usual case: one wake of this thread per request), else the head and a stream.
    let (reply_tx, mut reply_rx) = oneshot::channel::<Reply>();
    let client_gone = Arc::new(AtomicBool::new(false));
    let stopper = Stopper::default();
    let head_only = head.parts.method == Method::HEAD;
    let job = {
        let state = state.clone();
        let handler = handler.clone();
        let client_gone = client_gone.clone();
        let stopper = stopper.clone();
        let too_large = too_large.clone();
        let head = head.clone();
        Box::new(move || {
            let queue_wait = arrived.elapsed();
            let stdin = BodyReader::new(stdin_rx);
            let bytes_in = stdin.read.clone();
            let mut record = head.record(&handler);
            let invocation = Invocation {
                env: head.environment(&handler),
                handler,
                stdin: Box::new(stdin),
                reply: reply_tx,
                client_gone: client_gone.clone(),
                stopper,
                head_only,
                request_too_large: too_large,
            };
            drop(head);
            let ran = job::execute(&state, &record.run_id, invocation);
            ran.fill(&mut record);
            record.queue_ms = ms(queue_wait);
            record.wall_ms = ms(arrived.elapsed());
            record.bytes_in = bytes_in.load();
            record.client_gone = client_gone.load(Ordering::Relaxed);
            state.finish(&record);
        })
    };
    let ticket = match state
        .pool
        .submit(&handler.spec.name, concurrency, limits.queue_depth, job)
    {
        Ok(ticket) => ticket,
        Err(Rejected::QueueFull) => {
            return reject(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("handler {} is busy: its queue is full", handler.spec.name),
            )
        }
        Err(Rejected::Stopping) => {
            return reject(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is shutting down".into(),
            )
        }
    };
    // From here on, a dropped request (the client went away) tells the run.
    let mut guard = GoneGuard(Some((client_gone, stopper.clone())));
    // The queue timeout: a job no worker has started by then is taken back and answered 503; one
    // that has started runs on under its own timeout.
    let reply = match tokio::time::timeout(limits.queue_timeout, &mut reply_rx).await {
        Ok(reply) => reply,
        Err(_) if ticket.abandon() => {
            guard.0 = None;
            return reject(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "handler {} is busy: waited longer than its queue timeout",
                    handler.spec.name
                ),
            );
        }
        Err(_) => reply_rx.await,
    };
    guard.0 = None;
    let response = match reply {
        Ok(Reply::Complete(cgi_head, body)) => {
            let mut r = Response::new(Body::Full(if head_only || body.is_empty() {
                None
            } else {
                Some(body)
            }));
            apply_head(&mut r, cgi_head);
            r
        }
        Ok(Reply::Streaming(cgi_head, rx)) => {
            let mut r = Response::new(Body::Channel(rx));
            apply_head(&mut r, cgi_head);
            r
        }
        Ok(Reply::Error(status, detail)) => {
            let _ = detail; // in the record and the log; the client gets the status only
            plain(
                status,
                format!("{}\n", status.canonical_reason().unwrap_or("error")),
            )
        }
        Err(_) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the run ended without an answer\n",
        ),
    };
    with_run_id(response, &head.run_id)
}

fn apply_head(r: &mut Response<Body>, head: cgi::Head) {
    *r.status_mut() = head.status;
    let headers = r.headers_mut();
    for (name, value) in head.headers {
        headers.append(name, value);
    }
}

fn with_run_id(mut r: Response<Body>, run_id: &str) -> Response<Body> {
    if let Ok(v) = HeaderValue::from_str(run_id) {
        r.headers_mut().insert(RUN_ID_HEADER, v);
    }
    r
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The request's host, lower case and without its port: `Host`, else the URI's authority.
fn request_host(req: &Request<Incoming>) -> String {
    let raw = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host())
        .unwrap_or_default();
    let host = if raw.starts_with('[') {
        raw.split_inclusive(']').next().unwrap_or(raw)
    } else {
        raw.split(':').next().unwrap_or(raw)
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Copies the request body into the run's stdin, up to `max` bytes and until `deadline`.
async fn pump(
    mut body: Incoming,
    tx: mpsc::Sender<Chunk>,
    max: u64,
    deadline: tokio::time::Instant,
    too_large: Arc<AtomicBool>,
) {
    let mut total: u64 = 0;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                let _ = tx
                    .send(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the request body did not arrive in time",
                    )))
                    .await;
                return;
            }
            Ok(None) => return,
            Ok(Some(Err(e))) => {
                let _ = tx.send(Err(std::io::Error::other(e))).await;
                return;
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len() as u64;
        if total > max {
            too_large.store(true, Ordering::Relaxed);
            let _ = tx
                .send(Err(std::io::Error::other(
                    "the request body is larger than max-request-body",
                )))
                .await;
            return;
        }
        if tx.send(Ok(data)).await.is_err() {
            return;
        }
    }
}
