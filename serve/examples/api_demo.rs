//! A stand-in for `tern serve` with its control plane, until the handler server implements
//! [`Backend`]: the real store and `/v1/` API (with the dashboard at `/`), guests run by the tern
//! runtime, and a bare handler port that routes `/{name}` (or a handler's `routes`) to its live
//! version. The dashboard's browser test (serve/tests/browser/run.sh) drives it.
//!
//! ```text
//! api_demo token --data DIR [--scope read|deploy|admin]   # prints a new token
//! api_demo serve --data DIR [--api ADDR] [--http ADDR]     # prints "api URL" and "http URL"
//! ```

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tern_serve::api::{Backend, ControlPlane, Invocation, InvokeRequest, Prepared};
use tern_serve::store::{
    new_run_id, now_ms, RunKind, RunRecord, Scope, SqliteStore, Store, VersionInfo,
};

type Run = dyn Fn(tern::Process) -> Result<tern::Outcome, tern::engine::LoadError> + Send + Sync;

struct Live {
    version: i64,
    routes: Vec<String>,
    timeout: Option<Duration>,
    run: Arc<Run>,
}

/// Guests on the calling thread, one fresh instance per run.
struct RuntimeBackend {
    runtime: Arc<tern::Runtime>,
    live: RwLock<HashMap<String, Arc<Live>>>,
}

impl Backend for RuntimeBackend {
    fn prepare(&self, name: &str, module: &[u8], config: &Value) -> Result<Prepared, String> {
        let module = self.runtime.compile(module).map_err(|e| e.to_string())?;
        let routes = match config.get("routes") {
            None => vec![format!("/{name}")],
            Some(r) => serde_json::from_value(r.clone()).map_err(|e| format!("routes: {e}"))?,
        };
        let timeout = config
            .pointer("/limits/timeout_ms")
            .and_then(Value::as_u64)
            .map(Duration::from_millis);
        let runtime = self.runtime.clone();
        let run: Arc<Run> = Arc::new(move |p| runtime.run(&module, p, None));
        Ok(Box::new((routes, timeout, run)))
    }

    fn activate(&self, name: &str, version: &VersionInfo, prepared: Prepared) {
        let Ok(p) = prepared.downcast::<(Vec<String>, Option<Duration>, Arc<Run>)>() else {
            return;
        };
        let (routes, timeout, run) = *p;
        let live = Live {
            version: version.version,
            routes,
            timeout,
            run,
        };
        self.live
            .write()
            .unwrap()
            .insert(name.to_string(), Arc::new(live));
    }

    fn deactivate(&self, name: &str) {
        self.live.write().unwrap().remove(name);
    }

    fn invoke(&self, request: InvokeRequest) -> Result<Invocation, String> {
        let live = self.live.read().unwrap().get(&request.handler).cloned();
        let live = live.ok_or_else(|| format!("handler {:?} is not live", request.handler))?;
        let (stdout, log) = (tern::Capture::new(), tern::Capture::new());
        let stdio = tern::Stdio::new(
            Box::new(std::io::Cursor::new(request.input)),
            Box::new(stdout.clone()),
            Box::new(log.clone()),
            Box::new(log.clone()),
        );
        let mut policy = tern::Policy::new();
        policy.limits.timeout = live.timeout;
        let mut process = tern::Process::new(
            &request.handler,
            vec![request.handler.clone()],
            Arc::new(policy),
            stdio,
        );
        process.set_env("X_RUN_ID", &request.run_id);
        let started = now_ms();
        let clock = Instant::now();
        let outcome = (live.run)(process).map_err(|e| e.to_string())?;
        let (status, ended) = match &outcome.termination {
            tern::Termination::Exited(0) => (200, "exited(0)".to_string()),
            tern::Termination::Exited(n) => (500, format!("exited({n})")),
            tern::Termination::Trapped(why) => (500, format!("trapped: {why}")),
            tern::Termination::TimedOut(_) => (504, "timed out".to_string()),
        };
        let record = RunRecord {
            seq: 0,
            id: request.run_id,
            handler: request.handler,
            version: live.version,
            kind: request.kind,
            status,
            ended,
            created_at: started,
            finished_at: now_ms(),
            wall_ms: clock.elapsed().as_millis() as u64,
            logs: log.text(),
            detail: json!({
                "fuel": outcome.fuel_used,
                "peak_memory_pages": outcome.peak_memory_pages,
                "denials": outcome.process.stats.denied,
                "host_calls": outcome.process.stats.host_calls,
            }),
        };
        let headers = vec![("content-type".into(), "text/plain".into())];
        Ok(Invocation {
            status,
            headers,
            body: stdout.contents(),
            record,
        })
    }
}

impl RuntimeBackend {
    /// The live handler a handler-port path belongs to.
    fn route(&self, path: &str) -> Option<String> {
        let live = self.live.read().unwrap();
        live.iter()
            .find(|(_, l)| {
                l.routes
                    .iter()
                    .any(|r| r == path || (r.ends_with('/') && path.starts_with(r.as_str())))
            })
            .map(|(name, _)| name.clone())
    }
}

fn arg(args: &[String], flag: &str, default: &str) -> String {
    args.windows(2)
        .find(|w| w[0] == flag)
        .map_or(default.to_string(), |w| w[1].clone())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let data = std::path::PathBuf::from(arg(&args, "--data", "tern-data"));
    let store = Arc::new(SqliteStore::open(&data)?);
    match args.get(1).map(String::as_str) {
        Some("token") => {
            let scope = Scope::parse(&arg(&args, "--scope", "admin"))?;
            let (_, secret) = store.create_token("dashboard-demo", scope)?;
            println!("{secret}");
            Ok(())
        }
        Some("serve") => serve(
            store,
            &arg(&args, "--api", "127.0.0.1:8081"),
            &arg(&args, "--http", "127.0.0.1:8080"),
        ),
        _ => Err(
            "usage: api_demo token|serve --data DIR [--scope S] [--api ADDR] [--http ADDR]".into(),
        ),
    }
}

fn serve(store: Arc<SqliteStore>, api: &str, http: &str) -> Result<(), Box<dyn std::error::Error>> {
    let backend = Arc::new(RuntimeBackend {
        runtime: Arc::new(tern::Runtime::new()),
        live: RwLock::default(),
    });
    let (plane, problems) = ControlPlane::start(store, backend.clone(), 1)?;
    for p in problems {
        eprintln!("api_demo: {p}");
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let api = tokio::net::TcpListener::bind(api).await?;
        let http = tokio::net::TcpListener::bind(http).await?;
        println!("api http://{}", api.local_addr()?);
        println!("http http://{}", http.local_addr()?);
        let plane2 = plane.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = http.accept().await else {
                    continue;
                };
                let (plane, backend) = (plane2.clone(), backend.clone());
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                            let (plane, backend) = (plane.clone(), backend.clone());
                            async move {
                                Ok::<_, std::convert::Infallible>(handle(plane, backend, req).await)
                            }
                        });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        plane.serve(api, std::future::pending()).await;
        Ok(())
    })
}

async fn handle(
    plane: Arc<ControlPlane>,
    backend: Arc<RuntimeBackend>,
    req: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let reply = |status: u16, body: Vec<u8>| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() =
            hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
        r
    };
    let path = req.uri().path().to_string();
    let Some(handler) = backend.route(&path) else {
        return reply(404, b"no handler for this path\n".to_vec());
    };
    let input = match http_body_util::Limited::new(req.into_body(), 1 << 20)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => return reply(413, b"body too large\n".to_vec()),
    };
    let Ok(run_id) = new_run_id() else {
        return reply(500, vec![]);
    };
    let request = InvokeRequest {
        run_id,
        handler,
        kind: RunKind::Http,
        input,
        content_type: None,
    };
    let b = backend.clone();
    match tokio::task::spawn_blocking(move || b.invoke(request)).await {
        Ok(Ok(inv)) => {
            let mut record = inv.record;
            if let Some(d) = record.detail.as_object_mut() {
                d.insert("path".into(), path.into());
            }
            let id = record.id.clone();
            plane.record(record);
            let mut resp = reply(inv.status, inv.body);
            if let Ok(id) = hyper::header::HeaderValue::from_str(&id) {
                resp.headers_mut().insert("x-tern-run-id", id);
            }
            resp
        }
        Ok(Err(why)) => reply(503, why.into_bytes()),
        Err(_) => reply(500, vec![]),
    }
}
