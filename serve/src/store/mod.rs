//! The control plane's durable state: handlers and their versions, module blobs, tokens,
//! invocation records with their logs, and the async queue.
//!
//! Everything goes through the [`Store`] trait so that a shared database can back several nodes
//! later (PostgreSQL); [`SqliteStore`] is the embedded default: module code as content-addressed
//! files under `DATA/blobs/sha256/`, everything else in `DATA/tern.db` (SQLite, WAL,
//! `synchronous=FULL`, numbered migrations).
//!
//! The trait is synchronous (rusqlite is) and object-safe; async callers use `spawn_blocking`.
//!
//! Retention (per handler, set with a deploy): the newest [`Retention::DEFAULT_KEEP_RUNS`] (1000)
//! invocation records, none older than [`Retention::DEFAULT_KEEP_DAYS`] (7) days. Queued async runs
//! are never pruned; at most [`MAX_QUEUED_PER_HANDLER`] wait per handler.

mod backlog;
mod batch;
mod blobs;
mod error;
mod jobs;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
mod postgres_conn;
#[cfg(feature = "postgres")]
mod postgres_schema;
mod rows;
mod schema;
mod sqlite;
mod token;

#[cfg(feature = "postgres")]
pub use self::postgres::{
    PostgresStore, CONNECT_TIMEOUT, HANDLERS_CHANNEL, JOBS_CHANNEL, LEASE_MS, RUNS_CHANNEL,
};
pub use batch::RecordBatcher;
pub use blobs::{sha256_hex, BlobDir};
pub use error::StoreError;
pub use sqlite::SqliteStore;
pub use token::{Scope, TokenInfo};

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch: every timestamp in the store.
pub type Millis = i64;

/// The current time as [`Millis`].
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// How many async runs may wait per handler; one more is refused (the queue never grows unbounded).
pub const MAX_QUEUED_PER_HANDLER: usize = 1000;

/// Refuses one more async run of `handler` when `waiting` of its runs are queued already.
fn check_queue_room(handler: &str, waiting: i64) -> Result<(), StoreError> {
    if usize::try_from(waiting).is_ok_and(|n| n < MAX_QUEUED_PER_HANDLER) {
        return Ok(());
    }
    Err(StoreError::QueueFull(format!(
        "{waiting} async runs of {handler:?} are waiting; try again later"
    )))
}

/// How many times an async run is started again after the server stopped during it.
pub const MAX_ATTEMPTS: i64 = 3;

/// How many invocation records of a handler are kept, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Newest records kept.
    pub keep_runs: u32,
    /// Records older than this many days are deleted.
    pub keep_days: u32,
}

impl Retention {
    /// Default count of records kept per handler.
    pub const DEFAULT_KEEP_RUNS: u32 = 1000;
    /// Default age limit of records, in days.
    pub const DEFAULT_KEEP_DAYS: u32 = 7;
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            keep_runs: Self::DEFAULT_KEEP_RUNS,
            keep_days: Self::DEFAULT_KEEP_DAYS,
        }
    }
}

/// A handler: a name and its live version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerInfo {
    /// Unique name (lower-case letters, digits and `-`).
    pub name: String,
    /// The version serving requests.
    pub live_version: i64,
    /// Records kept for this handler.
    pub retention: Retention,
    /// When the handler was first deployed.
    pub created_at: Millis,
    /// When its live version last changed.
    pub updated_at: Millis,
}

/// One deployed version of a handler: its module and its configuration (routes, limits, grants,
/// environment, entry point) as a JSON document the server interprets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// 1, 2, 3, … per handler.
    pub version: i64,
    /// The module blob's address.
    pub module_sha256: String,
    /// The handler configuration of this version (JSON).
    pub config: String,
    /// When it was deployed.
    pub created_at: Millis,
}

/// What a deploy adds: a module already stored with [`Store::put_blob`] and its configuration.
#[derive(Clone, Debug)]
pub struct NewVersion {
    /// The module blob's address.
    pub module_sha256: String,
    /// The handler configuration (JSON).
    pub config: String,
    /// Retention for the handler; `None` keeps what it had (or the default).
    pub retention: Option<Retention>,
}

/// How an invocation came about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    /// A request on the handler port.
    Http,
    /// `POST /v1/handlers/{name}/invoke`.
    Invoke,
    /// An async invocation from the queue.
    Async,
}

impl RunKind {
    fn as_str(self) -> &'static str {
        match self {
            RunKind::Http => "http",
            RunKind::Invoke => "invoke",
            RunKind::Async => "async",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "http" => Ok(RunKind::Http),
            "invoke" => Ok(RunKind::Invoke),
            "async" => Ok(RunKind::Async),
            other => Err(StoreError::Corrupt(format!("unknown run kind {other:?}"))),
        }
    }
}

/// The record of one finished invocation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Position in the store's record sequence (0 until stored); `logs?since=` takes it.
    #[serde(default)]
    pub seq: i64,
    /// Run id (the guest saw it as `X_RUN_ID`).
    pub id: String,
    /// Handler name.
    pub handler: String,
    /// Handler version that ran.
    pub version: i64,
    /// How it came about.
    pub kind: RunKind,
    /// HTTP status returned (or that would have been).
    pub status: u16,
    /// How it ended: `exited(0)`, `trapped: …`, `timed out`, `interrupted`, `failed: …`.
    pub ended: String,
    /// When it was accepted (queued, or the request arrived).
    pub created_at: Millis,
    /// When it finished.
    pub finished_at: Millis,
    /// Wall time of the run in milliseconds.
    pub wall_ms: u64,
    /// The guest's log and stderr lines (bounded by the server).
    pub logs: String,
    /// The server's other figures (route, method, path, fuel, memory, bytes…) as JSON.
    pub detail: serde_json::Value,
}

/// A queued async run as the worker that takes it sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// Run id, known to the client from the 202.
    pub id: String,
    /// Handler to run (its live version at the time it starts).
    pub handler: String,
    /// Request body given to the guest on stdin.
    pub input: Vec<u8>,
    /// Request content type, if any.
    pub content_type: Option<String>,
    /// 1 on the first start; more after restarts during the run.
    pub attempts: i64,
    /// When it was queued.
    pub created_at: Millis,
}

/// Where a run is: waiting, running, or finished with its record.
#[derive(Clone, Debug, PartialEq)]
pub enum RunState {
    /// In the async queue.
    Queued {
        /// Handler name.
        handler: String,
        /// When it was queued.
        created_at: Millis,
    },
    /// Taken by a worker.
    Running {
        /// Handler name.
        handler: String,
        /// When it was queued.
        created_at: Millis,
        /// Starts so far.
        attempts: i64,
    },
    /// Finished (or failed): its record.
    Finished(Box<RunRecord>),
}

/// The control plane's durable state. Object-safe and synchronous; every method is one
/// transaction, so a crash leaves either the old or the new state.
pub trait Store: Send + Sync {
    /// Stores module bytes under their sha256 (idempotent) and returns the hex address.
    fn put_blob(&self, bytes: &[u8]) -> Result<String, StoreError>;
    /// Loads a module blob, verifying its hash.
    fn get_blob(&self, sha256: &str) -> Result<Vec<u8>, StoreError>;
    /// Verifies every blob a version refers to; returns the addresses that are missing or corrupt.
    fn verify_blobs(&self) -> Result<Vec<String>, StoreError>;

    /// Creates a handler with its first version (live). `Conflict` if the name exists.
    fn create_handler(&self, name: &str, v: NewVersion) -> Result<VersionInfo, StoreError>;
    /// Adds the next version of an existing handler and makes it live.
    fn add_version(&self, name: &str, v: NewVersion) -> Result<VersionInfo, StoreError>;
    /// Makes an existing version live (rollback).
    fn set_live(&self, name: &str, version: i64) -> Result<VersionInfo, StoreError>;
    /// Deletes a handler, its versions, records and queued runs.
    fn delete_handler(&self, name: &str) -> Result<(), StoreError>;
    /// All handlers, by name.
    fn list_handlers(&self) -> Result<Vec<HandlerInfo>, StoreError>;
    /// One handler.
    fn handler(&self, name: &str) -> Result<HandlerInfo, StoreError>;
    /// A handler's versions, oldest first.
    fn versions(&self, name: &str) -> Result<Vec<VersionInfo>, StoreError>;
    /// One version of a handler.
    fn version(&self, name: &str, version: i64) -> Result<VersionInfo, StoreError>;

    /// Stores finished invocation records in one transaction (the batcher's write), then applies
    /// the handlers' retention.
    fn append_runs(&self, records: &[RunRecord]) -> Result<(), StoreError>;
    /// Records of a handler after `since_seq`, oldest first, at most `limit`; only run `run` if given.
    fn runs(
        &self,
        handler: &str,
        since_seq: i64,
        run: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StoreError>;
    /// The newest `n` records of a handler, newest first.
    fn recent_runs(&self, handler: &str, n: usize) -> Result<Vec<RunRecord>, StoreError>;
    /// Where a run is.
    fn run_state(&self, id: &str) -> Result<RunState, StoreError>;
    /// Deletes records beyond each handler's retention at time `now`; returns how many went.
    fn prune_runs(&self, now: Millis) -> Result<usize, StoreError>;

    /// Queues an async run durably (it is on disk when this returns); returns its id.
    fn enqueue(
        &self,
        handler: &str,
        input: &[u8],
        content_type: Option<&str>,
    ) -> Result<String, StoreError>;
    /// Takes the oldest queued run, marking it running.
    fn claim_job(&self) -> Result<Option<Job>, StoreError>;
    /// Replaces a running job by its record, in one transaction.
    fn finish_job(&self, record: &RunRecord) -> Result<(), StoreError>;
    /// Puts a job taken with [`Store::claim_job`] back in the queue, its start not counted (the
    /// server stopped before it could run).
    fn release_job(&self, id: &str) -> Result<(), StoreError>;
    /// After a restart: jobs left running are queued again, or fail after [`MAX_ATTEMPTS`].
    fn recover_jobs(&self) -> Result<usize, StoreError>;

    /// Creates a token; returns its description and the secret (shown once, never stored).
    fn create_token(&self, name: &str, scope: Scope) -> Result<(TokenInfo, String), StoreError>;
    /// All tokens (without secrets).
    fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError>;
    /// Revokes a token by id.
    fn revoke_token(&self, id: &str) -> Result<(), StoreError>;
    /// The token a bearer secret belongs to, if it is valid and not revoked.
    fn authenticate(&self, presented: &str) -> Result<Option<TokenInfo>, StoreError>;
}

/// Checks a handler name: 1–63 of `a-z`, `0-9`, `-`, starting with a letter or digit.
pub fn validate_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "handler name {name:?}: use 1 to 63 lower-case letters, digits and '-', not starting with '-'"
        )))
    }
}

/// A random id: `bytes` random bytes as hex.
pub fn random_hex(bytes: usize) -> Result<String, StoreError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| StoreError::Io(format!("random numbers: {e}")))?;
    Ok(blobs::hex(&buf))
}

/// A new run id (128 random bits).
pub fn new_run_id() -> Result<String, StoreError> {
    random_hex(16)
}

#[cfg(test)]
mod tests;
