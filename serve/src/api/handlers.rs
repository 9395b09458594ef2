//! Deploys, versions, rollback and delete: check first, store durably, then swap live.

use super::http::{json, query_param, read_body, ApiError, Body};
use super::{namegen, Backend, ControlPlane, MAX_MODULE_BYTES, SERVER_SIDE_KEYS};
use crate::store::{
    validate_name, NewVersion, Retention, Scope, Store, StoreError, TokenInfo, VersionInfo,
};
use hyper::body::Incoming;
use hyper::{HeaderMap, Request, Response, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

/// The header holding a deploy's configuration as JSON.
pub const CONFIG_HEADER: &str = "tern-config";

/// How many recent runs `GET /v1/handlers/{name}` shows.
const RECENT_RUNS: usize = 10;

/// Makes every handler's live version live in the backend (at start-up). Returns what failed.
pub(crate) fn load_live(
    store: &dyn Store,
    backend: &dyn Backend,
) -> Result<Vec<String>, StoreError> {
    let mut problems = Vec::new();
    for h in store.list_handlers()? {
        let loaded = store.version(&h.name, h.live_version).and_then(|v| {
            let module = store.get_blob(&v.module_sha256)?;
            Ok((v, module))
        });
        let result = loaded.map_err(|e| e.to_string()).and_then(|(v, module)| {
            let config = parse_stored_config(&v)?;
            let prepared = backend.prepare(&h.name, &module, &config)?;
            backend.activate(&h.name, &v, prepared);
            Ok(())
        });
        if let Err(why) = result {
            problems.push(format!(
                "handler {:?} version {}: {why}",
                h.name, h.live_version
            ));
        }
    }
    Ok(problems)
}

fn parse_stored_config(v: &VersionInfo) -> Result<Value, String> {
    serde_json::from_str(&v.config).map_err(|e| format!("stored config: {e}"))
}

/// The deploy's configuration from its header (`None` when absent) and its retention.
fn deploy_config(headers: &HeaderMap) -> Result<(Option<Value>, Option<Retention>), ApiError> {
    let Some(raw) = headers.get(CONFIG_HEADER) else {
        return Ok((None, None));
    };
    let text = raw.to_str().map_err(|_| {
        ApiError::bad_request("Tern-Config must be JSON in ASCII (escape others as \\u)")
    })?;
    let mut config: Value = serde_json::from_str(text)
        .map_err(|e| ApiError::bad_request(format!("Tern-Config is not valid JSON: {e}")))?;
    let Some(object) = config.as_object_mut() else {
        return Err(ApiError::bad_request("Tern-Config must be a JSON object"));
    };
    let retention = match object.remove("retention") {
        None => None,
        Some(r) => Some(serde_json::from_value::<Retention>(r).map_err(|e| {
            ApiError::bad_request(format!(
                "retention: {e} (give {{\"keep_runs\": N, \"keep_days\": D}})"
            ))
        })?),
    };
    Ok((Some(config), retention))
}

/// Refuses config keys that reach the server's own files or environment unless the token is admin.
fn check_server_side_keys(config: &Value, token: &TokenInfo) -> Result<(), ApiError> {
    let used: Vec<&str> = SERVER_SIDE_KEYS
        .iter()
        .copied()
        .filter(|k| config.get(*k).is_some())
        .collect();
    if used.is_empty() || token.scope.allows(Scope::Admin) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        format!(
            "{} reach the server's own files or environment: deploying them needs an admin token",
            used.join(", ")
        ),
    ))
}

impl ControlPlane {
    /// `POST /v1/handlers` (`name` None) and `PUT /v1/handlers/{name}` (creates it if absent).
    pub(crate) async fn deploy(
        self: Arc<Self>,
        req: Request<Incoming>,
        name: Option<String>,
        token: TokenInfo,
    ) -> Result<Response<Body>, ApiError> {
        let creating = name.is_none();
        let asked = name.or_else(|| query_param(req.uri().query(), "name"));
        let generated = asked.is_none();
        let mut name = asked.unwrap_or_else(namegen::generate);
        validate_name(&name)?;
        let (config, retention) = deploy_config(req.headers())?;
        let module = read_body(req, MAX_MODULE_BYTES).await?;
        if module.is_empty() {
            return Err(ApiError::bad_request(
                "the request body must be the module (.wasm, or .wat text)",
            ));
        }
        let _one_at_a_time = self.deploys.lock().await;
        let mut exists = self.exists(&name).await?;
        while generated && exists {
            name = namegen::generate();
            exists = self.exists(&name).await?;
        }
        if creating && exists {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "handler {name:?} exists: deploy a new version with PUT /v1/handlers/{name}"
                ),
            ));
        }
        // A new version without a config keeps the live version's routes, limits and grants.
        let config = match config {
            Some(c) => c,
            None if exists => {
                let n = name.clone();
                let live = self
                    .blocking(move |s| s.version(&n, s.handler(&n)?.live_version))
                    .await?;
                parse_stored_config(&live)
                    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?
            }
            None => json!({}),
        };
        let config = with_default_route(config, &name);
        check_server_side_keys(&config, &token)?;
        let prepared = self.prepare(&name, module.clone(), config.clone()).await?;
        let version = {
            let name = name.clone();
            let config = config.to_string();
            self.blocking(move |s| {
                let v = NewVersion {
                    module_sha256: s.put_blob(&module)?,
                    config,
                    retention,
                };
                if exists {
                    s.add_version(&name, v)
                } else {
                    s.create_handler(&name, v)
                }
            })
            .await?
        };
        // Durable now: the swap below is what a restart would redo from the store.
        self.backend.activate(&name, &version, prepared);
        let status = if exists {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        Ok(json(status, &version_json(&name, &version, true)))
    }

    async fn exists(&self, name: &str) -> Result<bool, ApiError> {
        let name = name.to_string();
        match self.blocking(move |s| s.handler(&name)).await {
            Ok(_) => Ok(true),
            Err(e) if e.status == StatusCode::NOT_FOUND => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Compiles and checks on a blocking thread; a refusal is 422 with the reason.
    async fn prepare(
        &self,
        name: &str,
        module: Vec<u8>,
        config: Value,
    ) -> Result<super::Prepared, ApiError> {
        let backend = self.backend.clone();
        let name = name.to_string();
        tokio::task::spawn_blocking(move || backend.prepare(&name, &module, &config))
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
            .map_err(|why| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, why))
    }

    /// `POST /v1/handlers/{name}/rollback[?version=N]`: default the version before the live one.
    pub(crate) async fn rollback(
        self: Arc<Self>,
        req: Request<Incoming>,
        name: String,
    ) -> Result<Response<Body>, ApiError> {
        let wanted = match query_param(req.uri().query(), "version") {
            Some(v) => Some(
                v.parse::<i64>()
                    .map_err(|_| ApiError::bad_request(format!("version {v:?} is not a number")))?,
            ),
            None => None,
        };
        let _one_at_a_time = self.deploys.lock().await;
        let (target, module) = {
            let name = name.clone();
            self.blocking(move |s| {
                let live = s.handler(&name)?.live_version;
                let target = match wanted {
                    Some(v) => v,
                    None => s
                        .versions(&name)?
                        .iter()
                        .map(|v| v.version)
                        .filter(|v| *v < live)
                        .max()
                        .ok_or_else(|| {
                            StoreError::Conflict(format!(
                                "version {live} of {name:?} is its first: there is nothing to roll back to"
                            ))
                        })?,
                };
                let v = s.version(&name, target)?;
                let module = s.get_blob(&v.module_sha256)?;
                Ok((v, module))
            })
            .await?
        };
        let config = parse_stored_config(&target)
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
        let prepared = self.prepare(&name, module, config).await?;
        let version = target.version;
        let n = name.clone();
        let live = self.blocking(move |s| s.set_live(&n, version)).await?;
        self.backend.activate(&name, &live, prepared);
        Ok(json(StatusCode::OK, &version_json(&name, &live, true)))
    }

    /// `DELETE /v1/handlers/{name}`.
    pub(crate) async fn delete(self: Arc<Self>, name: String) -> Result<Response<Body>, ApiError> {
        let _one_at_a_time = self.deploys.lock().await;
        let n = name.clone();
        self.blocking(move |s| s.delete_handler(&n)).await?;
        self.backend.deactivate(&name);
        Ok(json(StatusCode::OK, &json!({ "deleted": name })))
    }

    /// `GET /v1/handlers`.
    pub(crate) async fn list(self: Arc<Self>) -> Result<Response<Body>, ApiError> {
        let rows = self
            .blocking(|s| {
                let mut rows = Vec::new();
                for h in s.list_handlers()? {
                    let v = s.version(&h.name, h.live_version)?;
                    rows.push(json!({
                        "name": h.name,
                        "live_version": h.live_version,
                        "sha256": v.module_sha256,
                        "routes": route_summary(&config_of(&v)),
                        "updated_at": h.updated_at,
                    }));
                }
                Ok(rows)
            })
            .await?;
        Ok(json(StatusCode::OK, &json!({ "handlers": rows })))
    }

    /// `GET /v1/handlers/{name}`: versions, the live config, retention, recent runs.
    pub(crate) async fn show(self: Arc<Self>, name: String) -> Result<Response<Body>, ApiError> {
        let body = self
            .blocking(move |s| {
                let h = s.handler(&name)?;
                let versions: Vec<Value> = s
                    .versions(&name)?
                    .iter()
                    .map(|v| version_json(&name, v, v.version == h.live_version))
                    .collect();
                let live = s.version(&name, h.live_version)?;
                let recent: Vec<Value> = s
                    .recent_runs(&name, RECENT_RUNS)?
                    .iter()
                    .map(|r| {
                        json!({"id": r.id, "version": r.version, "kind": r.kind,
                               "status": r.status, "ended": r.ended,
                               "finished_at": r.finished_at, "wall_ms": r.wall_ms})
                    })
                    .collect();
                Ok(json!({
                    "name": h.name,
                    "live_version": h.live_version,
                    "config": config_of(&live),
                    "retention": h.retention,
                    "created_at": h.created_at,
                    "updated_at": h.updated_at,
                    "versions": versions,
                    "recent_runs": recent,
                }))
            })
            .await?;
        Ok(json(StatusCode::OK, &body))
    }
}

/// A config without routes gets `/NAME/...`, stored as such (so `handler show` tells the truth).
fn with_default_route(mut config: Value, name: &str) -> Value {
    if let Some(object) = config.as_object_mut() {
        if !object.contains_key("routes") && !object.contains_key("route") {
            object.insert("routes".into(), json!([format!("/{name}/...")]));
        }
    }
    config
}

/// Every route of a config as one line each: `routes` paths, then `route` tables as
/// `[METHODS ][host]path`.
fn route_summary(config: &Value) -> Vec<String> {
    let mut out: Vec<String> = config["routes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_string))
        .collect();
    for r in config["route"].as_array().into_iter().flatten() {
        let methods = r["methods"]
            .as_array()
            .map(|m| {
                let names: Vec<&str> = m.iter().filter_map(Value::as_str).collect();
                format!("{} ", names.join(","))
            })
            .unwrap_or_default();
        let host = r["host"].as_str().unwrap_or("");
        out.push(format!(
            "{methods}{host}{}",
            r["path"].as_str().unwrap_or("")
        ));
    }
    out
}

fn config_of(v: &VersionInfo) -> Value {
    serde_json::from_str(&v.config).unwrap_or(Value::Null)
}

fn version_json(name: &str, v: &VersionInfo, live: bool) -> Value {
    json!({
        "name": name,
        "version": v.version,
        "sha256": v.module_sha256,
        "created_at": v.created_at,
        "live": live,
    })
}
