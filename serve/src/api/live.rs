//! The [`Backend`] on a running `tern serve`: deploys become handlers in its live table (swapped
//! whole, so requests in flight finish on the version they started with), invocations run on its
//! worker pool with the handler's limits, and its invocation records reach the store.

use super::{Backend, ControlPlane, Invocation, InvokeError, InvokeRequest, Prepared};
use crate::cgi::{self, RequestMeta};
use crate::config::{self, HandlerSection};
use crate::invoke::{RunEnd, Stopper};
use crate::job;
use crate::pool::Rejected;
use crate::records::{InvocationRecord, RecordSink};
use crate::registry::{Handler, Table};
use crate::router::Match;
use crate::server::State;
use crate::store::{now_ms, RunKind, RunRecord, VersionInfo};
use crate::stream::Reply;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// Config keys that reach the server's own files or environment; a deploy using them needs an
/// admin token (a deploy token must not read the server's secrets).
pub const SERVER_SIDE_KEYS: &[&str] = &["dirs", "env-file", "env-from-host", "ca-file"];

/// How long an async run waits for room in its handler's queue before it fails.
const ASYNC_QUEUE_PATIENCE: Duration = Duration::from_secs(60);

/// The backend of a running server.
pub struct ServerBackend {
    state: Arc<State>,
    /// Relative paths in a deploy's config (env-file, ca-file) are taken from here.
    base: PathBuf,
    /// (handler, module sha256) → version number, for the records of handler-port requests.
    versions: Mutex<HashMap<(String, String), i64>>,
}

impl ServerBackend {
    /// A backend on `state`; `base` resolves relative paths in configs (the data directory).
    pub fn new(state: Arc<State>, base: PathBuf) -> Self {
        ServerBackend {
            state,
            base,
            versions: Mutex::new(HashMap::new()),
        }
    }

    fn lock_versions(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), i64>> {
        self.versions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Builds the table of today's handlers with `name` replaced by `with` (or removed).
    fn table_with(&self, name: &str, with: Option<Arc<Handler>>) -> Result<Table, String> {
        let current = self.state.live.current();
        let mut handlers: Vec<Arc<Handler>> = current
            .handlers
            .iter()
            .filter(|h| h.spec.name != name)
            .cloned()
            .collect();
        handlers.extend(with);
        Table::new(handlers, self.state.pool.workers()).map_err(|e| e.to_string())
    }
}

impl Backend for ServerBackend {
    fn prepare(&self, name: &str, module: &[u8], config: &Value) -> Result<Prepared, String> {
        let from_file = self.state.live.current().handler(name).is_some()
            && !self.lock_versions().keys().any(|(n, _)| n == name);
        if from_file {
            return Err(format!(
                "handler {name:?} comes from the server's --config file; deploy under another name"
            ));
        }
        let mut config = config.clone();
        let object = config
            .as_object_mut()
            .ok_or("the config must be a JSON object")?;
        if object.contains_key("module") {
            return Err(
                "config key `module`: the deploy's body is the module; leave it out".into(),
            );
        }
        object.insert("module".into(), json!(format!("{name}.wasm")));
        let section: HandlerSection =
            serde_json::from_value(config).map_err(|e| format!("config: {e}"))?;
        let spec = config::resolve_handler(name, &section, &self.base, self.state.pool.workers())
            .map_err(|e| e.to_string())?;
        let handler = self
            .state
            .registry
            .load_bytes(spec, module)
            .map_err(|e| e.to_string())?;
        let handler = Arc::new(handler);
        // Checks the routes against every other live handler's (overlaps are refused).
        self.table_with(name, Some(handler.clone()))?;
        Ok(Box::new(handler))
    }

    fn activate(&self, name: &str, version: &VersionInfo, prepared: Prepared) {
        let Ok(handler) = prepared.downcast::<Arc<Handler>>() else {
            return;
        };
        self.lock_versions().insert(
            (name.to_string(), version.module_sha256.clone()),
            version.version,
        );
        // Deploys are serialised by the control plane, so the table checked in `prepare` is the
        // one replaced here.
        match self.table_with(name, Some(*handler)) {
            Ok(table) => {
                self.state.live.swap(table);
                self.state.registry.retain_used(&self.state.live.current());
            }
            Err(e) => eprintln!("tern serve: activating {name}: {e}"),
        }
    }

    fn status(&self) -> Value {
        let pool = &self.state.pool;
        let live = self.state.live.current();
        let queued: serde_json::Map<String, Value> = live
            .handlers
            .iter()
            .map(|h| (h.spec.name.clone(), pool.queued(&h.spec.name).into()))
            .collect();
        json!({
            "workers": pool.workers(),
            "workers_busy": pool.busy(),
            "queued": queued,
            "store_bytes": crate::dashboard::dir_size(&self.base),
        })
    }

    fn deactivate(&self, name: &str) {
        self.lock_versions().retain(|(n, _), _| n != name);
        if let Ok(table) = self.table_with(name, None) {
            self.state.live.swap(table);
            self.state.registry.retain_used(&self.state.live.current());
        }
    }

    fn invoke(&self, request: InvokeRequest) -> Result<Invocation, InvokeError> {
        let arrived = Instant::now();
        let created_at = now_ms();
        let table = self.state.live.current();
        let index = table
            .handlers
            .iter()
            .position(|h| h.spec.name == request.handler)
            .ok_or_else(|| {
                InvokeError::NotLive(format!("handler {:?} is not live", request.handler))
            })?;
        let handler = table.handlers[index].clone();
        let version = self
            .lock_versions()
            .get(&(handler.spec.name.clone(), handler.module.sha256.clone()))
            .copied()
            .unwrap_or(0);
        // The handler's own variables first: a CGI variable of the same name wins.
        let mut env = handler.spec.env.clone();
        env.extend(invoke_environment(index, &request));
        let bytes_in = request.input.len();
        let (reply_tx, reply_rx) = tokio::sync::oneshot::channel::<Reply>();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let invocation = job::Invocation {
            handler: handler.clone(),
            env,
            stdin: Box::new(std::io::Cursor::new(request.input)),
            reply: reply_tx,
            client_gone: Arc::new(AtomicBool::new(false)),
            stopper: Stopper::default(),
            head_only: false,
            request_too_large: Arc::new(AtomicBool::new(false)),
        };
        let state = self.state.clone();
        let run_id = request.run_id.clone();
        let work = move || {
            let _ = done_tx.send(job::execute(&state, &run_id, invocation));
        };
        self.submit(&table, index, request.kind, Box::new(work))?;
        let (status, headers, body) = collect_reply(reply_rx);
        let ran = done_rx.recv().map_err(|_| InvokeError::Stopping)?;
        // Nobody waits on an async run, so only a stopping server interrupts one: run it again.
        if request.kind == RunKind::Async && ran.end == RunEnd::Interrupted {
            return Err(InvokeError::Stopping);
        }
        let status = status.unwrap_or(ran.status.as_u16());
        let ended = if ran.detail.is_empty() {
            ran.end_kind().to_string()
        } else {
            format!("{}: {}", ran.end_kind(), ran.detail)
        };
        let stats = ran.stats;
        let logs = ran.log;
        let record = RunRecord {
            seq: 0,
            id: request.run_id,
            handler: handler.spec.name.clone(),
            version,
            kind: request.kind,
            status,
            ended,
            created_at,
            finished_at: now_ms(),
            wall_ms: arrived.elapsed().as_millis() as u64,
            logs,
            detail: json!({
                "sha256": handler.module.sha256,
                "fuel": stats.fuel,
                "peak_memory_pages": stats.peak_memory_pages,
                "host_calls": stats.host_calls,
                "denials": stats.denials,
                "bytes_in": bytes_in,
                "bytes_out": body.len(),
            }),
        };
        Ok(Invocation {
            status,
            headers,
            body,
            record,
        })
    }
}

impl ServerBackend {
    /// Queues a run on the worker pool under the handler's concurrency; an async run waits for room
    /// (it was accepted already), a sync one is refused when the handler is busy.
    fn submit(
        &self,
        table: &Table,
        index: usize,
        kind: RunKind,
        job: Box<dyn FnOnce() + Send>,
    ) -> Result<(), InvokeError> {
        let name = &table.handlers[index].spec.name;
        let limits = &table.handlers[index].spec.limits;
        let give_up = Instant::now() + ASYNC_QUEUE_PATIENCE;
        // `Pool::submit` drops a job it refuses; the job sits in a slot so a retry can take it back.
        let slot = Arc::new(Mutex::new(Some(job)));
        let mut pause = Duration::from_millis(10);
        loop {
            let taken = slot.clone();
            let work = Box::new(move || {
                let job = taken.lock().unwrap_or_else(|p| p.into_inner()).take();
                if let Some(job) = job {
                    job();
                }
            });
            match self
                .state
                .pool
                .submit(name, table.concurrency[index], limits.queue_depth, work)
            {
                Ok(_started) => return Ok(()),
                Err(Rejected::Stopping) => return Err(InvokeError::Stopping),
                Err(Rejected::QueueFull) => {
                    if kind != RunKind::Async || Instant::now() >= give_up {
                        return Err(InvokeError::Busy(format!(
                            "handler {name} is busy: its queue is full"
                        )));
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
}

/// The CGI environment of an API invocation: a `POST` to the handler's own root with the body.
fn invoke_environment(index: usize, request: &InvokeRequest) -> Vec<(String, String)> {
    let mut headers = HeaderMap::new();
    if let Some(ct) = request
        .content_type
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
    {
        headers.insert(CONTENT_TYPE, ct);
    }
    headers.insert(CONTENT_LENGTH, HeaderValue::from(request.input.len()));
    let matched = Match {
        handler: index,
        pattern: "/".into(),
        host_pattern: "*".into(),
        params: Vec::new(),
        script_segments: 0,
    };
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let mut env = cgi::environment(&RequestMeta {
        method: "POST",
        raw_path: "/",
        query: None,
        protocol: "HTTP/1.1",
        headers: &headers,
        remote: loopback,
        local: loopback,
        host: "localhost",
        scheme: "http",
        matched: &matched,
        run_id: &request.run_id,
        pass_authorization: false,
        body: Some(Some(request.input.len() as u64)),
    });
    env.push((
        "TERN_INVOKE".into(),
        match request.kind {
            RunKind::Async => "async".into(),
            _ => "api".into(),
        },
    ));
    env
}

/// Waits for the run's answer and gathers a streamed body whole.
fn collect_reply(
    reply: tokio::sync::oneshot::Receiver<Reply>,
) -> (Option<u16>, Vec<(String, String)>, Vec<u8>) {
    let headers_of = |head: &cgi::Head| {
        head.headers
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
            .collect::<Vec<_>>()
    };
    match reply.blocking_recv() {
        Ok(Reply::Complete(head, body)) => {
            (Some(head.status.as_u16()), headers_of(&head), body.to_vec())
        }
        Ok(Reply::Streaming(head, mut rx)) => {
            let mut body = Vec::new();
            while let Some(Ok(chunk)) = rx.blocking_recv() {
                body.extend_from_slice(&chunk);
            }
            (Some(head.status.as_u16()), headers_of(&head), body)
        }
        Ok(Reply::Error(status, detail)) => (
            Some(status.as_u16()),
            Vec::new(),
            format!("{detail}\n").into_bytes(),
        ),
        Err(_) => (None, Vec::new(), Vec::new()),
    }
}

/// Persists the records of handler-port requests to handlers the control plane deployed.
pub struct StoreSink {
    plane: Weak<ControlPlane>,
    backend: Weak<ServerBackend>,
}

impl StoreSink {
    /// A sink writing through `plane`'s batcher.
    pub fn new(plane: &Arc<ControlPlane>, backend: &Arc<ServerBackend>) -> Self {
        StoreSink {
            plane: Arc::downgrade(plane),
            backend: Arc::downgrade(backend),
        }
    }
}

impl RecordSink for StoreSink {
    fn record(&self, r: &InvocationRecord) {
        let (Some(plane), Some(backend)) = (self.plane.upgrade(), self.backend.upgrade()) else {
            return;
        };
        // Handlers from a --config file are not the control plane's: their records stay in the log.
        let Some(version) = backend
            .lock_versions()
            .get(&(r.handler.clone(), r.version.clone()))
            .copied()
        else {
            return;
        };
        let ended = if r.detail.is_empty() {
            r.end.clone()
        } else {
            format!("{}: {}", r.end, r.detail)
        };
        plane.record(RunRecord {
            seq: 0,
            id: r.run_id.clone(),
            handler: r.handler.clone(),
            version,
            kind: RunKind::Http,
            status: r.status,
            ended,
            created_at: (r.started_at * 1000.0) as i64,
            finished_at: now_ms(),
            wall_ms: r.wall_ms as u64,
            logs: r.log.clone(),
            detail: json!({
                "sha256": r.version,
                "route": r.route,
                "method": r.method,
                "path": r.path,
                "queue_ms": r.queue_ms,
                "fuel": r.fuel,
                "peak_memory_pages": r.peak_memory_pages,
                "host_calls": r.host_calls,
                "bytes_in": r.bytes_in,
                "bytes_out": r.bytes_out,
                "denials": r.denials,
                "client_gone": r.client_gone,
            }),
        });
    }
}
