//! The async queue in SQLite: a job row from the 202 until its record replaces it.

use super::rows::{insert_run, not_found_handler};
use super::{
    new_run_id, now_ms, Job, Millis, RunKind, RunRecord, StoreError, MAX_ATTEMPTS,
    MAX_QUEUED_PER_HANDLER,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

pub(super) fn enqueue(
    conn: &mut Connection,
    handler: &str,
    input: &[u8],
    content_type: Option<&str>,
) -> Result<String, StoreError> {
    let id = new_run_id()?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let exists: Option<String> = tx
        .query_row(
            "SELECT name FROM handlers WHERE name = ?1",
            [handler],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Err(not_found_handler(handler));
    }
    let waiting: i64 = tx.query_row(
        "SELECT COUNT(*) FROM jobs WHERE handler = ?1",
        [handler],
        |r| r.get(0),
    )?;
    if waiting as usize >= MAX_QUEUED_PER_HANDLER {
        return Err(StoreError::QueueFull(format!(
            "{waiting} async runs of {handler:?} are waiting; try again later"
        )));
    }
    tx.execute(
        "INSERT INTO jobs (id, handler, input, content_type, state, attempts, created_at)
         VALUES (?1, ?2, ?3, ?4, 'queued', 0, ?5)",
        params![id, handler, input, content_type, now_ms()],
    )?;
    tx.commit()?;
    Ok(id)
}

pub(super) fn claim(conn: &mut Connection) -> Result<Option<Job>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let job = tx
        .query_row(
            "SELECT id, handler, input, content_type, attempts, created_at FROM jobs
             WHERE state = 'queued' ORDER BY seq LIMIT 1",
            [],
            |r| {
                Ok(Job {
                    id: r.get(0)?,
                    handler: r.get(1)?,
                    input: r.get(2)?,
                    content_type: r.get(3)?,
                    attempts: r.get::<_, i64>(4)? + 1,
                    created_at: r.get(5)?,
                })
            },
        )
        .optional()?;
    let Some(job) = job else {
        return Ok(None);
    };
    tx.execute(
        "UPDATE jobs SET state = 'running', attempts = ?2 WHERE id = ?1",
        params![job.id, job.attempts],
    )?;
    tx.commit()?;
    Ok(Some(job))
}

pub(super) fn finish(conn: &mut Connection, record: &RunRecord) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    insert_run(&tx, record)?;
    tx.execute("DELETE FROM jobs WHERE id = ?1", [&record.id])?;
    tx.commit()?;
    Ok(())
}

pub(super) fn release(conn: &Connection, id: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE jobs SET state = 'queued', attempts = attempts - 1
         WHERE id = ?1 AND state = 'running'",
        [id],
    )?;
    Ok(())
}

pub(super) fn recover(conn: &mut Connection) -> Result<usize, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let stuck: Vec<(String, String, i64, Millis)> = {
        let mut stmt = tx.prepare(
            "SELECT id, handler, attempts, created_at FROM jobs WHERE state = 'running'",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let now = now_ms();
    for (id, handler, attempts, created_at) in &stuck {
        if *attempts >= MAX_ATTEMPTS {
            let version: i64 = tx
                .query_row(
                    "SELECT live_version FROM handlers WHERE name = ?1",
                    [handler],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(0);
            let record = RunRecord {
                seq: 0,
                id: id.clone(),
                handler: handler.clone(),
                version,
                kind: RunKind::Async,
                status: 500,
                ended: format!("failed: the server stopped during each of {attempts} attempts"),
                created_at: *created_at,
                finished_at: now,
                wall_ms: 0,
                logs: String::new(),
                detail: serde_json::Value::Null,
            };
            insert_run(&tx, &record)?;
            tx.execute("DELETE FROM jobs WHERE id = ?1", [id])?;
        } else {
            tx.execute("UPDATE jobs SET state = 'queued' WHERE id = ?1", [id])?;
        }
    }
    tx.commit()?;
    Ok(stuck.len())
}
