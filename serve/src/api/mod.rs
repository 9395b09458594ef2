//! The control plane's JSON API under `/v1/`, on its own listener (`--api-listen`, default
//! 127.0.0.1:8081): deploy, versions, rollback, delete, logs, runs, invoke and async runs.
//! Every request carries `Authorization: Bearer <token>`; the API never serves handlers.
//!
//! | Method and path                         | Scope  | What                                  |
//! |-----------------------------------------|--------|---------------------------------------|
//! | `GET /v1/whoami`                        | read   | the token's id, name and scope        |
//! | `GET /v1/handlers`                      | read   | handlers with their live versions     |
//! | `POST /v1/handlers[?name=N]`            | deploy | a new handler (no name: generated)    |
//! | `GET /v1/handlers/{name}`               | read   | versions, config, recent runs         |
//! | `PUT /v1/handlers/{name}`               | deploy | a new version                         |
//! | `DELETE /v1/handlers/{name}`            | deploy | the handler and its records           |
//! | `POST /v1/handlers/{name}/rollback`     | deploy | `?version=N`, default the previous    |
//! | `GET /v1/handlers/{name}/logs`          | read   | NDJSON records; `since`, `run`, `follow` |
//! | `POST /v1/handlers/{name}/invoke`       | deploy | run now; `?async=1` → 202 and a run id |
//! | `GET /v1/runs/{id}`                     | read   | a run: queued, running or its record  |
//! | `GET /v1/server`                        | read   | version, uptime, what the server reports |
//!
//! A deploy's body is the module (`.wasm`, or `.wat` text); its configuration (routes, limits,
//! grants, environment, entry, retention) is JSON in the `Tern-Config` header.

mod backend;
mod handlers;
mod http;
mod live;
pub mod namegen;
mod queue;
mod runs;
mod service;

pub use backend::{Backend, Invocation, InvokeError, InvokeRequest, Prepared};
#[cfg(feature = "postgres")]
pub(crate) use handlers::load_one;
pub use live::{ServerBackend, StoreSink, SERVER_SIDE_KEYS};
pub use service::{attach, attach_from_args, attach_store, empty_configuration, Attached};

use crate::store::{RecordBatcher, RunRecord, Scope, Store, StoreError, TokenInfo};
use bytes::Bytes;
use http::{json, ApiError, Body};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, StatusCode};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// The default API address: loopback only, so a board's handler port can face the network while
/// the API does not.
pub const DEFAULT_API_LISTEN: &str = "127.0.0.1:8081";

/// Largest module upload (a 100 MB upload is refused with 413 before it is read).
pub const MAX_MODULE_BYTES: usize = 32 << 20;

/// Largest body of an invoke (sync or async; an async body is kept in the queue until it runs).
pub const MAX_INVOKE_BYTES: usize = 8 << 20;

/// Connections the API serves at once; more wait in the kernel's accept queue.
const MAX_CONNECTIONS: usize = 64;

/// How often invocation records are written in one batch.
const RECORD_INTERVAL: Duration = Duration::from_millis(200);

/// The least time the last write of records at shutdown gets to try again when the store is
/// unavailable, however little of the shutdown grace is left.
const MIN_FINAL_FLUSH: Duration = Duration::from_secs(1);

/// Until when the last write of records at shutdown tries again when the store is unavailable: the
/// end of the shutdown `grace` counted from when the shutdown `began`, but at least
/// [`MIN_FINAL_FLUSH`] after `now`.
pub fn final_flush_deadline(began: Instant, grace: Duration, now: Instant) -> Instant {
    (began + grace).max(now + MIN_FINAL_FLUSH)
}

/// The control plane: the store, the server it drives, the record writer and the async workers.
pub struct ControlPlane {
    store: Arc<dyn Store>,
    backend: Arc<dyn Backend>,
    batcher: RecordBatcher,
    /// Bumped whenever records were written; `logs?follow=1` readers wait on it.
    records_written: watch::Sender<u64>,
    /// Deploys, rollbacks and deletes one at a time: route checks see a settled table, and
    /// versions of one handler are numbered in the order they go live.
    deploys: tokio::sync::Mutex<()>,
    queue: queue::Queue,
    /// When the control plane started (`GET /v1/server` reports the uptime).
    started: std::time::Instant,
}

impl ControlPlane {
    /// Opens the control plane on a store: requeues async runs a crash interrupted, makes every
    /// handler's live version live in `backend`, and starts the record writer and the async
    /// workers (`async_workers` threads); the writer counts the records it drops in
    /// `records_dropped`. Returns the handlers that could not be loaded, with why.
    pub fn start(
        store: Arc<dyn Store>,
        backend: Arc<dyn Backend>,
        async_workers: usize,
        records_dropped: crate::metrics::Counter64,
    ) -> Result<(Arc<Self>, Vec<String>), StoreError> {
        store.recover_jobs()?;
        // Age limits apply to handlers that get no new records too.
        store.prune_runs(crate::store::now_ms())?;
        let problems = handlers::load_live(&*store, &*backend)?;
        let (records_written, _) = watch::channel(0u64);
        let notify = records_written.clone();
        let batcher = RecordBatcher::start(
            store.clone(),
            RECORD_INTERVAL,
            Box::new(move || {
                notify.send_modify(|n| *n += 1);
            }),
            records_dropped,
        );
        let plane = Arc::new(ControlPlane {
            queue: queue::Queue::default(),
            store,
            backend,
            batcher,
            records_written,
            deploys: tokio::sync::Mutex::new(()),
            started: std::time::Instant::now(),
        });
        plane
            .queue
            .spawn_workers(Arc::downgrade(&plane), async_workers);
        Ok((plane, problems))
    }

    /// Keeps the record of a handler-port request (written in the next batch).
    pub fn record(&self, record: RunRecord) {
        self.batcher.push(record);
    }

    /// Writes every record received so far.
    pub fn flush_records(&self) {
        self.batcher.flush();
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    #[cfg(feature = "postgres")] // the cluster follower
    /// The server it drives.
    pub(crate) fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    #[cfg(feature = "postgres")] // the cluster follower
    /// Waits for the deploy in progress and holds off the next (the cluster applies another
    /// node's change under it). Blocking: not from async code.
    pub(crate) fn deploy_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.deploys.blocking_lock()
    }

    #[cfg(feature = "postgres")] // the cluster follower
    /// Tells the async workers to look at the queue (another node may have queued a run).
    pub(crate) fn wake_queue(&self) {
        self.queue.wake();
    }

    #[cfg(feature = "postgres")] // the cluster follower
    /// Wakes the `logs?follow=1` readers: another node wrote records.
    pub(crate) fn wake_log_followers(&self) {
        self.records_written.send_modify(|n| *n += 1);
    }

    /// Serves the API on `listener` until `shutdown` completes; then stops the async workers
    /// (a run in progress finishes and is recorded) and writes the pending records, trying again
    /// until the instant `flush_until` gives then if the store is unavailable.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
        flush_until: impl FnOnce() -> Instant + Send + 'static,
    ) {
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                _ = &mut shutdown => break,
                permit = slots.clone().acquire_owned() => permit.expect("semaphore never closed"),
            };
            let (stream, _) = tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(_) => continue, // a connection reset before accept, or out of fds
                },
            };
            let plane = self.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let plane = plane.clone();
                    async move { Ok::<_, std::convert::Infallible>(plane.handle(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
                drop(permit);
            });
        }
        let plane = self.clone();
        let _ = tokio::task::spawn_blocking(move || {
            plane.queue.stop();
            plane.batcher.finish(flush_until());
        })
        .await;
    }

    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        finish(match self.route(req).await {
            Ok(resp) => resp,
            Err(e) => e.into_response(),
        })
    }

    async fn route(self: Arc<Self>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
        let path = req.uri().path().to_string();
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        let method = req.method().clone();
        if let Some(page) = crate::dashboard::asset(&method, &path) {
            return Ok(page); // the dashboard's files; their data comes from /v1/ with a token
        }
        let Some(("v1", rest)) = segments.split_first().map(|(a, b)| (*a, b)) else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "the API is under /v1/ (handlers are served on the handler port)",
            ));
        };
        let needed = match (&method, rest) {
            (&Method::GET | &Method::HEAD, _) => Scope::Read,
            _ => Scope::Deploy,
        };
        let token = self.authorize(&req, needed).await?;
        let name = |i: usize| crate::router::percent_decode(rest[i]);
        match (method, rest) {
            (Method::GET, ["whoami"]) => Ok(json(
                StatusCode::OK,
                &serde_json::to_value(&token).unwrap_or_default(),
            )),
            (Method::GET, ["handlers"]) => self.list().await,
            (Method::POST, ["handlers"]) => self.deploy(req, None, token).await,
            (Method::GET, ["handlers", _]) => self.show(name(1)).await,
            (Method::PUT, ["handlers", _]) => self.deploy(req, Some(name(1)), token).await,
            (Method::DELETE, ["handlers", _]) => self.delete(name(1)).await,
            (Method::POST, ["handlers", _, "rollback"]) => self.rollback(req, name(1)).await,
            (Method::GET, ["handlers", _, "logs"]) => self.logs(req, name(1)).await,
            (Method::POST, ["handlers", _, "invoke"]) => self.invoke(req, name(1)).await,
            (Method::GET, ["runs", _]) => self.run(name(1)).await,
            (Method::GET, ["server"]) => {
                let handlers = self.blocking(|s| s.list_handlers()).await?.len();
                let info =
                    crate::dashboard::server_info(self.started, handlers, self.backend.status());
                Ok(json(StatusCode::OK, &info))
            }
            (_, ["whoami" | "handlers" | "runs" | "server", ..]) => Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{} is not supported on {path}", req.method()),
            )),
            _ => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no API endpoint {path}"),
            )),
        }
    }

    /// The token of the request if it is valid and allows `needed`. A missing, malformed, wrong or
    /// revoked token gets one answer, so it gives no hint which part was wrong.
    async fn authorize(
        &self,
        req: &Request<Incoming>,
        needed: Scope,
    ) -> Result<TokenInfo, ApiError> {
        let presented = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|v| v.trim().to_string());
        let token = match presented {
            Some(p) => self.blocking(move |s| s.authenticate(&p)).await?,
            None => None,
        };
        let Some(token) = token else {
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized"));
        };
        if !token.scope.allows(needed) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "this token has scope {}; this needs {} (make one with `tern token create --scope {}`)",
                    token.scope.as_str(),
                    needed.as_str(),
                    needed.as_str()
                ),
            ));
        }
        Ok(token)
    }

    /// Runs a store call on a blocking thread (SQLite calls block, and writes fsync).
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&*store))
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("store task: {e}"),
                )
            })?
            .map_err(ApiError::from)
    }
}

/// Adds `WWW-Authenticate` to 401s (the scheme only; no hint).
pub(crate) fn finish(mut resp: Response<Body>) -> Response<Body> {
    if resp.status() == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}

/// A streamed response body fed from a channel; the sender sees when the client went away.
pub(crate) struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(hyper::body::Frame::data(b))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_flush_gets_what_is_left_of_the_grace_and_at_least_the_minimum() {
        let began = Instant::now();
        let grace = Duration::from_secs(10);
        let after = |secs| began + Duration::from_secs(secs);
        // 3 s into the shutdown, 7 s of the grace are left.
        assert_eq!(final_flush_deadline(began, grace, after(3)), after(10));
        // The grace is (nearly) over: the minimum.
        assert_eq!(
            final_flush_deadline(began, grace, after(12)),
            after(12) + MIN_FINAL_FLUSH
        );
        assert_eq!(
            final_flush_deadline(began, grace, after(10)),
            after(10) + MIN_FINAL_FLUSH
        );
    }
}
