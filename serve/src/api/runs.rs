//! Invocation records and runs: `logs` (NDJSON, live with `follow`), `runs/{id}`, `invoke`.

use super::http::{json, query_flag, query_param, read_body, ApiError, Body};
use super::{ChannelBody, ControlPlane, InvokeError, InvokeRequest, MAX_INVOKE_BYTES};
use crate::store::{new_run_id, RunKind, RunRecord, RunState};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use serde_json::json;
use std::sync::Arc;

/// Records sent per query while streaming logs.
const PAGE: usize = 500;

/// The JSON of a finished run.
pub(crate) fn record_json(r: &RunRecord) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    v["state"] = json!("finished");
    v
}

fn ndjson_line(r: &RunRecord) -> Bytes {
    let mut line = record_json(r).to_string();
    line.push('\n');
    Bytes::from(line)
}

impl ControlPlane {
    /// `GET /v1/handlers/{name}/logs?since=SEQ&run=ID&follow=1`.
    pub(crate) async fn logs(
        self: Arc<Self>,
        req: Request<Incoming>,
        name: String,
    ) -> Result<Response<Body>, ApiError> {
        let query = req.uri().query();
        let mut since = match query_param(query, "since") {
            Some(s) => s.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!("since={s:?}: give a record's seq number"))
            })?,
            None => 0,
        };
        let run = query_param(query, "run");
        let follow = query_flag(query, "follow");
        {
            let name = name.clone();
            self.blocking(move |s| s.handler(&name)).await?;
        }
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
        // Subscribe before the first query, so a batch written in between still wakes us.
        let mut written = self.records_written.subscribe();
        let plane = self.clone();
        tokio::spawn(async move {
            loop {
                let (n, r) = (name.clone(), run.clone());
                let Ok(page) = plane
                    .blocking(move |s| s.runs(&n, since, r.as_deref(), PAGE))
                    .await
                else {
                    return;
                };
                let full_page = page.len() == PAGE;
                for record in &page {
                    since = record.seq;
                    if tx.send(ndjson_line(record)).await.is_err() {
                        return;
                    }
                }
                if full_page {
                    continue;
                }
                // One run's record is all `run=` asks for.
                if !follow || (run.is_some() && !page.is_empty()) {
                    return;
                }
                tokio::select! {
                    changed = written.changed() => if changed.is_err() { return },
                    _ = tx.closed() => return,
                }
            }
        });
        let mut resp = Response::new(ChannelBody(rx).boxed());
        resp.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        Ok(resp)
    }

    /// `GET /v1/runs/{id}`.
    pub(crate) async fn run(self: Arc<Self>, id: String) -> Result<Response<Body>, ApiError> {
        let state = self
            .blocking(move |s| s.run_state(&id).map(|st| (id, st)))
            .await?;
        let body = match state {
            (_, RunState::Finished(r)) => record_json(&r),
            (
                id,
                RunState::Queued {
                    handler,
                    created_at,
                },
            ) => {
                json!({"id": id, "handler": handler, "state": "queued", "created_at": created_at})
            }
            (
                id,
                RunState::Running {
                    handler,
                    created_at,
                    attempts,
                },
            ) => json!({
                "id": id, "handler": handler, "state": "running",
                "created_at": created_at, "attempts": attempts
            }),
        };
        Ok(json(StatusCode::OK, &body))
    }

    /// `POST /v1/handlers/{name}/invoke[?async=1]`: the handler's own response, or 202 and a run id.
    pub(crate) async fn invoke(
        self: Arc<Self>,
        req: Request<Incoming>,
        name: String,
    ) -> Result<Response<Body>, ApiError> {
        let run_async = query_flag(req.uri().query(), "async");
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let input = read_body(req, MAX_INVOKE_BYTES).await?;
        if run_async {
            let id = self
                .blocking(move |s| s.enqueue(&name, &input, content_type.as_deref()))
                .await?;
            // On disk now: the 202 is a promise the queue keeps across restarts.
            self.queue.wake();
            return Ok(json(
                StatusCode::ACCEPTED,
                &json!({"run": id, "state": "queued", "url": format!("/v1/runs/{id}")}),
            ));
        }
        {
            let name = name.clone();
            self.blocking(move |s| s.handler(&name)).await?;
        }
        let request = InvokeRequest {
            run_id: new_run_id()?,
            handler: name,
            kind: RunKind::Invoke,
            input,
            content_type,
        };
        let backend = self.backend.clone();
        let invocation = tokio::task::spawn_blocking(move || backend.invoke(request))
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
            .map_err(|why| {
                let status = match why {
                    InvokeError::NotLive(_) => StatusCode::NOT_FOUND,
                    InvokeError::Busy(_) | InvokeError::Stopping => StatusCode::SERVICE_UNAVAILABLE,
                };
                ApiError::new(status, why.to_string())
            })?;
        let record = invocation.record.clone();
        // Written before answering, so `runs/{id}` finds it at once.
        self.blocking(move |s| s.append_runs(std::slice::from_ref(&record)))
            .await?;
        self.records_written.send_modify(|n| *n += 1);
        let mut resp = Response::new(Full::new(Bytes::from(invocation.body)).boxed());
        *resp.status_mut() =
            StatusCode::from_u16(invocation.status).unwrap_or(StatusCode::BAD_GATEWAY);
        for (k, v) in &invocation.headers {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                resp.headers_mut().append(k, v);
            }
        }
        if let Ok(id) = HeaderValue::from_str(&invocation.record.id) {
            resp.headers_mut().insert("x-tern-run-id", id);
        }
        Ok(resp)
    }
}
