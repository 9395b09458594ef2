//! Rows to records for both databases. The SQLite and the PostgreSQL store select the same
//! columns in the same order (the `*_COLUMNS` lists), so one function builds each record from a
//! row; only the row type differs, and [`Column`] reads a column of either. Also the records both
//! stores build without a row (a stored version, a job that failed for good).

use super::token::{Scope, TokenInfo};
use super::{
    HandlerInfo, Job, Millis, NewVersion, Retention, RunKind, RunRecord, RunState, StoreError,
    VersionInfo,
};

/// A result row whose column `i` (from 0) reads as a `T`: a `rusqlite::Row` or a `postgres::Row`.
pub(super) trait Column<T> {
    /// Column `i` as a `T`; a NULL (unless `T` is an `Option`) or another type is an error.
    fn column(&self, i: usize) -> Result<T, StoreError>;
}

impl<T: rusqlite::types::FromSql> Column<T> for rusqlite::Row<'_> {
    fn column(&self, i: usize) -> Result<T, StoreError> {
        Ok(self.get(i)?)
    }
}

#[cfg(feature = "postgres")]
impl<T: for<'a> postgres::types::FromSql<'a>> Column<T> for postgres::Row {
    fn column(&self, i: usize) -> Result<T, StoreError> {
        Ok(self.try_get(i)?)
    }
}

/// A row of either store: text, numbers (all `BIGINT` in PostgreSQL, `INTEGER` in SQLite, read as
/// `i64`), bytes, and the nullable ones.
pub(super) trait StoreRow:
    Column<String> + Column<Option<String>> + Column<i64> + Column<Option<i64>> + Column<Vec<u8>>
{
}

impl<R> StoreRow for R where
    R: Column<String>
        + Column<Option<String>>
        + Column<i64>
        + Column<Option<i64>>
        + Column<Vec<u8>>
        + ?Sized
{
}

/// What [`handler_info`] reads.
pub(super) const HANDLER_COLUMNS: &str =
    "name, live_version, keep_runs, keep_days, created_at, updated_at";
/// What [`retention`] reads from column 0.
pub(super) const RETENTION_COLUMNS: &str = "keep_runs, keep_days";
/// What [`version_info`] reads.
pub(super) const VERSION_COLUMNS: &str = "version, module_sha256, config, created_at";
/// What [`run_record`] reads.
pub(super) const RUN_COLUMNS: &str =
    "seq, id, handler, version, kind, status, ended, created_at, finished_at, wall_ms, logs, detail";
/// What [`token_and_hash`] reads.
pub(super) const TOKEN_COLUMNS: &str = "id, name, scope, created_at, revoked_at, secret_sha256";
/// What [`job`] reads.
pub(super) const JOB_COLUMNS: &str = "id, handler, input, content_type, attempts, created_at";
/// What [`job_state`] reads.
pub(super) const JOB_STATE_COLUMNS: &str = "handler, state, attempts, created_at";

const DAY_MS: Millis = 24 * 60 * 60 * 1000;

/// A stored number as the narrower type a record holds; out of range means the row is corrupt.
fn number<T: TryFrom<i64>>(n: i64) -> Result<T, StoreError> {
    T::try_from(n).map_err(|_| StoreError::Corrupt(format!("number {n} out of range")))
}

pub(super) fn handler_info(r: &impl StoreRow) -> Result<HandlerInfo, StoreError> {
    Ok(HandlerInfo {
        name: r.column(0)?,
        live_version: r.column(1)?,
        retention: retention(r, 2)?,
        created_at: r.column(4)?,
        updated_at: r.column(5)?,
    })
}

/// Retention from the row's columns `first` (keep_runs) and `first + 1` (keep_days).
pub(super) fn retention(r: &impl StoreRow, first: usize) -> Result<Retention, StoreError> {
    Ok(Retention {
        keep_runs: number(r.column(first)?)?,
        keep_days: number(r.column(first + 1)?)?,
    })
}

pub(super) fn version_info(r: &impl StoreRow) -> Result<VersionInfo, StoreError> {
    Ok(VersionInfo {
        version: r.column(0)?,
        module_sha256: r.column(1)?,
        config: r.column(2)?,
        created_at: r.column(3)?,
    })
}

pub(super) fn run_record(r: &impl StoreRow) -> Result<RunRecord, StoreError> {
    let id: String = r.column(1)?;
    let kind: String = r.column(4)?;
    let detail: String = r.column(11)?;
    Ok(RunRecord {
        seq: r.column(0)?,
        handler: r.column(2)?,
        version: r.column(3)?,
        kind: RunKind::parse(&kind)?,
        status: number(r.column(5)?)?,
        ended: r.column(6)?,
        created_at: r.column(7)?,
        finished_at: r.column(8)?,
        wall_ms: number(r.column(9)?)?,
        logs: r.column(10)?,
        detail: serde_json::from_str(&detail)
            .map_err(|e| StoreError::Corrupt(format!("run {id} detail: {e}")))?,
        id,
    })
}

/// A token and the sha256 of its secret.
pub(super) fn token_and_hash(r: &impl StoreRow) -> Result<(TokenInfo, String), StoreError> {
    let scope: String = r.column(2)?;
    Ok((
        TokenInfo {
            id: r.column(0)?,
            name: r.column(1)?,
            scope: Scope::parse(&scope).unwrap_or(Scope::Read),
            created_at: r.column(3)?,
            revoked_at: r.column(4)?,
        },
        r.column(5)?,
    ))
}

pub(super) fn job(r: &impl StoreRow) -> Result<Job, StoreError> {
    Ok(Job {
        id: r.column(0)?,
        handler: r.column(1)?,
        input: r.column(2)?,
        content_type: r.column(3)?,
        attempts: r.column(4)?,
        created_at: r.column(5)?,
    })
}

/// Where a run in the jobs table is: queued, or running.
pub(super) fn job_state(r: &impl StoreRow) -> Result<RunState, StoreError> {
    let state: String = r.column(1)?;
    let (handler, created_at) = (r.column(0)?, r.column(3)?);
    Ok(if state == "queued" {
        RunState::Queued {
            handler,
            created_at,
        }
    } else {
        RunState::Running {
            handler,
            created_at,
            attempts: r.column(2)?,
        }
    })
}

/// `wall_ms` as stored (a signed 64-bit column; nothing runs for 292 million years).
pub(super) fn wall_ms_column(rec: &RunRecord) -> i64 {
    i64::try_from(rec.wall_ms).unwrap_or(i64::MAX)
}

/// The version a deploy stored.
pub(super) fn stored_version(v: NewVersion, version: i64, now: Millis) -> VersionInfo {
    VersionInfo {
        version,
        module_sha256: v.module_sha256,
        config: v.config,
        created_at: now,
    }
}

/// The handlers of `records`, each once, sorted.
pub(super) fn handlers_of(records: &[RunRecord]) -> Vec<&str> {
    let mut handlers: Vec<&str> = records.iter().map(|r| r.handler.as_str()).collect();
    handlers.sort_unstable();
    handlers.dedup();
    handlers
}

/// Records that finished before this are past `keep`'s age limit at `now`.
pub(super) fn oldest_kept(keep: Retention, now: Millis) -> Millis {
    now - i64::from(keep.keep_days) * DAY_MS
}

/// An async job that was started `attempts` times and stopped by `stopper` each time: its record
/// of failure, replacing it.
pub(super) struct FailedJob<'a> {
    /// The run id.
    pub id: &'a str,
    /// Its handler.
    pub handler: &'a str,
    /// The handler's live version (0 if it is gone).
    pub version: i64,
    /// Starts so far.
    pub attempts: i64,
    /// When it was queued.
    pub created_at: Millis,
    /// What stopped during each start: "the server", "the node running it".
    pub stopper: &'a str,
}

impl FailedJob<'_> {
    /// Its record, finished at `now`.
    pub(super) fn record(&self, now: Millis) -> RunRecord {
        RunRecord {
            seq: 0,
            id: self.id.to_string(),
            handler: self.handler.to_string(),
            version: self.version,
            kind: RunKind::Async,
            status: 500,
            ended: format!(
                "failed: {} stopped during each of {} attempts",
                self.stopper, self.attempts
            ),
            created_at: self.created_at,
            finished_at: now,
            wall_ms: 0,
            logs: String::new(),
            detail: serde_json::Value::Null,
        }
    }
}
