//! The seam between the control plane and the handler server: what the API asks of the server
//! (compile and check a deploy, make it live, run a handler now). The server implements it; the
//! control plane holds the durable state and calls it.

use crate::store::{RunKind, RunRecord, VersionInfo};
use std::any::Any;

/// A deploy that compiled and passed its checks, ready to become live (the server's own type).
pub type Prepared = Box<dyn Any + Send>;

/// What a handler's run returned, as its CGI response and its record.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The HTTP status the handler gave (or the server gave for it: 500 trap, 504 timeout).
    pub status: u16,
    /// Response headers the handler wrote.
    pub headers: Vec<(String, String)>,
    /// The response body (bounded by the handler's `max_response_body`).
    pub body: Vec<u8>,
    /// The invocation record (id, version, how it ended, logs, figures).
    pub record: RunRecord,
}

/// An invocation request for [`Backend::invoke`].
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    /// Run id, chosen by the control plane (an async run's id is known before it runs).
    pub run_id: String,
    /// Handler name.
    pub handler: String,
    /// Why it runs.
    pub kind: RunKind,
    /// Body given on stdin.
    pub input: Vec<u8>,
    /// `CONTENT_TYPE` for the guest.
    pub content_type: Option<String>,
}

/// Why an invocation did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeError {
    /// The handler is not live (deleted, or never loaded).
    NotLive(String),
    /// Its queue is full (a sync invoke is refused; an async one waited and gave up).
    Busy(String),
    /// The server is stopping: an async run goes back to the queue for the next start.
    Stopping,
}

impl std::fmt::Display for InvokeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InvokeError::NotLive(m) | InvokeError::Busy(m) => f.write_str(m),
            InvokeError::Stopping => f.write_str("the server is shutting down"),
        }
    }
}

/// The handler server as the control plane drives it. Synchronous: `prepare` and `invoke` block
/// (the API calls them from blocking threads).
pub trait Backend: Send + Sync {
    /// Compiles `module` and checks `config` (routes, limits, grants) for handler `name`, against
    /// the routes of every other live handler. `Err` is the reason, for the client.
    fn prepare(
        &self,
        name: &str,
        module: &[u8],
        config: &serde_json::Value,
    ) -> Result<Prepared, String>;

    /// Makes a prepared version live at once: requests in flight finish on the old version,
    /// new ones get this one.
    fn activate(&self, name: &str, version: &VersionInfo, prepared: Prepared);

    /// Stops serving a handler.
    fn deactivate(&self, name: &str);

    /// Runs the live version of a handler now, with its limits, and waits for it.
    fn invoke(&self, request: InvokeRequest) -> Result<Invocation, InvokeError>;

    /// What the server reports about itself for `GET /v1/server` (workers busy, queue depths).
    fn status(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}
