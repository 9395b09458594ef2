//! The async queue in SQLite: a job row from the 202 until its record replaces it.

use super::rows::{self, FailedJob, JOB_COLUMNS};
use super::sqlite::{insert_run, select_one};
use super::{
    check_queue_room, new_run_id, now_ms, Job, Millis, RunRecord, StoreError, MAX_ATTEMPTS,
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
        return Err(StoreError::handler_not_found(handler));
    }
    let waiting: i64 = tx.query_row(
        "SELECT COUNT(*) FROM jobs WHERE handler = ?1",
        [handler],
        |r| r.get(0),
    )?;
    check_queue_room(handler, waiting)?;
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
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'queued' ORDER BY seq LIMIT 1");
    let Some(mut job) = select_one(&tx, &sql, [], |r| rows::job(r))? else {
        return Ok(None);
    };
    // The start it is taken for.
    job.attempts += 1;
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
            let failed = FailedJob {
                id,
                handler,
                version,
                attempts: *attempts,
                created_at: *created_at,
                stopper: "the server",
            };
            insert_run(&tx, &failed.record(now))?;
            tx.execute("DELETE FROM jobs WHERE id = ?1", [id])?;
        } else {
            tx.execute("UPDATE jobs SET state = 'queued' WHERE id = ?1", [id])?;
        }
    }
    tx.commit()?;
    Ok(stuck.len())
}
