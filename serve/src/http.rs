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
use crate::router::Routed;
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
    let method = req.method().as_str().to_owned();
    let raw_path = req.uri().path().to_owned();
    let matched = match table.router.route(&host, &method, &raw_path) {
        Routed::Found(m) => m,
        Routed::NotFound => {
            if state.debug {
                eprintln!("tern serve: 404: no route for host {host:?} path {raw_path:?}");
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
    let limits = handler.spec.limits.clone();
    let run_id = state.next_run_id();
    let mut record = InvocationRecord {
        run_id: run_id.clone(),
        started_at: SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
        handler: handler.spec.name.clone(),
        version: handler.module.sha256.clone(),
        route: matched.pattern.clone(),
        method: method.clone(),
        path: raw_path.clone(),
        ..Default::default()
    };
    let reject = |record: &mut InvocationRecord, status: StatusCode, end: &str, detail: String| {
        record.status = status.as_u16();
        record.end = end.into();
        record.detail = detail.clone();
        record.wall_ms = ms(arrived.elapsed());
        state.finish(record);
        let mut r = plain(status, format!("{detail}\n"));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        with_run_id(r, &record.run_id)
    };

    let content_length = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if content_length.is_some_and(|n| n > limits.max_request_body) {
        return reject(
            &mut record,
            StatusCode::PAYLOAD_TOO_LARGE,
            "rejected",
            format!(
                "request body of {} bytes is over this handler's limit of {}",
                content_length.unwrap_or_default(),
                limits.max_request_body
            ),
        );
    }
    let has_body = content_length.map_or_else(
        || req.headers().contains_key(hyper::header::TRANSFER_ENCODING),
        |n| n > 0,
    );
    // The handler's own variables first: a CGI variable of the same name wins.
    let mut env = handler.spec.env.clone();
    env.extend(cgi::environment(&RequestMeta {
        method: &method,
        raw_path: &raw_path,
        query: req.uri().query(),
        protocol: match req.version() {
            hyper::Version::HTTP_10 => "HTTP/1.0",
            _ => "HTTP/1.1",
        },
        headers: req.headers(),
        remote: peer.remote,
        local: peer.local,
        host: &host,
        scheme: if peer.tls { "https" } else { "http" },
        matched: &matched,
        run_id: &run_id,
        pass_authorization: handler.spec.pass_authorization,
        body: has_body.then_some(content_length),
    }));

    // The request body flows to the guest's stdin as it arrives, counted against the limit.
    let too_large = Arc::new(AtomicBool::new(false));
    let stdin_rx = if has_body {
        let (tx, rx) = mpsc::channel::<Chunk>(4);
        let deadline =
            tokio::time::Instant::from_std(arrived + limits.queue_timeout + limits.timeout);
        tokio::spawn(pump(
            req.into_body(),
            tx,
            limits.max_request_body,
            deadline,
            too_large.clone(),
        ));
        Some(rx)
    } else {
        None
    };

    let (reply_tx, reply_rx) = oneshot::channel::<Reply>();
    let client_gone = Arc::new(AtomicBool::new(false));
    let stopper = Stopper::default();
    let head_only = method == "HEAD";
    let job = {
        let state = state.clone();
        let handler = handler.clone();
        let client_gone = client_gone.clone();
        let stopper = stopper.clone();
        let too_large = too_large.clone();
        let mut record = record.clone();
        Box::new(move || {
            let queue_wait = arrived.elapsed();
            let stdin = BodyReader::new(stdin_rx);
            let bytes_in = stdin.read.clone();
            let invocation = Invocation {
                handler,
                env,
                stdin: Box::new(stdin),
                reply: reply_tx,
                client_gone: client_gone.clone(),
                stopper,
                head_only,
                request_too_large: too_large,
            };
            let ran = job::execute(&state, &record.run_id, invocation);
            ran.fill(&mut record);
            record.queue_ms = ms(queue_wait);
            record.wall_ms = ms(arrived.elapsed());
            record.bytes_in = bytes_in.load();
            record.client_gone = client_gone.load(Ordering::Relaxed);
            state.finish(&record);
        })
    };
    let mut ticket =
        match state
            .pool
            .submit(&handler.spec.name, concurrency, limits.queue_depth, job)
        {
            Ok(ticket) => ticket,
            Err(Rejected::QueueFull) => {
                return reject(
                    &mut record,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "rejected",
                    format!("handler {} is busy: its queue is full", handler.spec.name),
                )
            }
            Err(Rejected::Stopping) => {
                return reject(
                    &mut record,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "rejected",
                    "the server is shutting down".into(),
                )
            }
        };
    state
        .metrics
        .set_queued(&handler.spec.name, state.pool.queued(&handler.spec.name));
    // From here on, a dropped request (the client went away) tells the run.
    let mut guard = GoneGuard(Some((client_gone, stopper.clone())));
    let waited = tokio::time::timeout(limits.queue_timeout, &mut ticket.started).await;
    if waited.is_err() && ticket.abandon() {
        guard.0 = None;
        state
            .metrics
            .set_queued(&handler.spec.name, state.pool.queued(&handler.spec.name));
        return reject(
            &mut record,
            StatusCode::SERVICE_UNAVAILABLE,
            "rejected",
            format!(
                "handler {} is busy: waited longer than its queue timeout",
                handler.spec.name
            ),
        );
    }
    state
        .metrics
        .set_queued(&handler.spec.name, state.pool.queued(&handler.spec.name));
    let reply = reply_rx.await;
    guard.0 = None;
    let response = match reply {
        Ok(Reply::Complete(head, body)) => {
            let mut r = Response::new(Body::Full(if head_only || body.is_empty() {
                None
            } else {
                Some(body)
            }));
            apply_head(&mut r, head);
            r
        }
        Ok(Reply::Streaming(head, rx)) => {
            let mut r = Response::new(Body::Channel(rx));
            apply_head(&mut r, head);
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
    with_run_id(response, &run_id)
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
