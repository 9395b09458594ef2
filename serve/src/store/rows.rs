//! Rows to values and back, shared by the SQLite store's methods.

use super::token::{Scope, TokenInfo};
use super::{
    HandlerInfo, Millis, NewVersion, Retention, RunKind, RunRecord, StoreError, VersionInfo,
};
use rusqlite::{params, Connection, OptionalExtension, Row};

const DAY_MS: Millis = 24 * 60 * 60 * 1000;

pub(super) fn handler_row(r: &Row) -> rusqlite::Result<HandlerInfo> {
    Ok(HandlerInfo {
        name: r.get(0)?,
        live_version: r.get(1)?,
        retention: Retention {
            keep_runs: r.get(2)?,
            keep_days: r.get(3)?,
        },
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

pub(super) fn version_row(r: &Row) -> rusqlite::Result<VersionInfo> {
    Ok(VersionInfo {
        version: r.get(0)?,
        module_sha256: r.get(1)?,
        config: r.get(2)?,
        created_at: r.get(3)?,
    })
}

/// Adds version `version` of `name` and returns it.
pub(super) fn insert_version(
    conn: &Connection,
    name: &str,
    version: i64,
    v: NewVersion,
    now: Millis,
) -> Result<VersionInfo, StoreError> {
    conn.execute(
        "INSERT INTO versions (handler, version, module_sha256, config, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, version, v.module_sha256, v.config, now],
    )?;
    Ok(VersionInfo {
        version,
        module_sha256: v.module_sha256,
        config: v.config,
        created_at: now,
    })
}

/// Version `version` of `name`.
pub(super) fn select_version(
    conn: &Connection,
    name: &str,
    version: i64,
) -> Result<VersionInfo, StoreError> {
    conn.query_row(
        "SELECT version, module_sha256, config, created_at FROM versions
         WHERE handler = ?1 AND version = ?2",
        params![name, version],
        version_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("version {version} of handler {name:?}")))
}

pub(super) const RUN_COLUMNS: &str =
    "seq, id, handler, version, kind, status, ended, created_at, finished_at, wall_ms, logs, detail";

pub(super) fn run_row(r: &Row) -> rusqlite::Result<(RunRecord, String, String)> {
    let record = RunRecord {
        seq: r.get(0)?,
        id: r.get(1)?,
        handler: r.get(2)?,
        version: r.get(3)?,
        kind: RunKind::Http, // replaced below from column 4
        status: r.get(5)?,
        ended: r.get(6)?,
        created_at: r.get(7)?,
        finished_at: r.get(8)?,
        wall_ms: r.get::<_, i64>(9)? as u64,
        logs: r.get(10)?,
        detail: serde_json::Value::Null,
    };
    Ok((record, r.get(4)?, r.get(11)?))
}

pub(super) fn finish_run_row(row: (RunRecord, String, String)) -> Result<RunRecord, StoreError> {
    let (mut record, kind, detail) = row;
    record.kind = RunKind::parse(&kind)?;
    record.detail = serde_json::from_str(&detail)
        .map_err(|e| StoreError::Corrupt(format!("run {} detail: {e}", record.id)))?;
    Ok(record)
}

pub(super) fn token_row(r: &Row) -> rusqlite::Result<(TokenInfo, String)> {
    let scope: String = r.get(2)?;
    Ok((
        TokenInfo {
            id: r.get(0)?,
            name: r.get(1)?,
            scope: Scope::parse(&scope).unwrap_or(Scope::Read),
            created_at: r.get(3)?,
            revoked_at: r.get(4)?,
        },
        r.get(5)?,
    ))
}

pub(super) fn not_found_handler(name: &str) -> StoreError {
    StoreError::NotFound(format!("handler {name:?}"))
}

pub(super) fn insert_run(tx: &rusqlite::Transaction, rec: &RunRecord) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO runs (id, handler, version, kind, status, ended, created_at, finished_at,
                           wall_ms, logs, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (id) DO NOTHING",
        params![
            rec.id,
            rec.handler,
            rec.version,
            rec.kind.as_str(),
            rec.status,
            rec.ended,
            rec.created_at,
            rec.finished_at,
            rec.wall_ms as i64,
            rec.logs,
            rec.detail.to_string(),
        ],
    )?;
    Ok(())
}

/// Deletes the records of `handler` beyond its retention.
pub(super) fn prune_handler(
    tx: &rusqlite::Transaction,
    handler: &str,
    keep: Retention,
    now: Millis,
) -> Result<usize, StoreError> {
    let oldest = now - i64::from(keep.keep_days) * DAY_MS;
    let by_age = tx.execute(
        "DELETE FROM runs WHERE handler = ?1 AND finished_at < ?2",
        params![handler, oldest],
    )?;
    let by_count = tx.execute(
        "DELETE FROM runs WHERE handler = ?1 AND seq <= (
             SELECT seq FROM runs WHERE handler = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)",
        params![handler, i64::from(keep.keep_runs)],
    )?;
    Ok(by_age + by_count)
}
