//! The embedded store: `DATA/tern.db` (SQLite: WAL, `synchronous=FULL`) and `DATA/blobs/`.

use super::jobs;
use super::rows::{
    handler_info, handlers_of, job_state, oldest_kept, retention, run_record, stored_version,
    token_and_hash, version_info, wall_ms_column, HANDLER_COLUMNS, JOB_STATE_COLUMNS,
    RETENTION_COLUMNS, RUN_COLUMNS, TOKEN_COLUMNS, VERSION_COLUMNS,
};
use super::token::{self, Scope, TokenInfo};
use super::{
    now_ms, schema, validate_name, BlobDir, HandlerInfo, Job, Millis, NewVersion, Retention,
    RunRecord, RunState, Store, StoreError, VersionInfo,
};
use rusqlite::{params, Connection, OptionalExtension, Params, Row, TransactionBehavior};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The embedded [`Store`]: one SQLite connection (writes are serialised anyway) and a blob directory.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    blobs: BlobDir,
    dir: PathBuf,
}

impl SqliteStore {
    /// Opens the data directory (creating it with mode 0700), migrates the database, and removes
    /// temp files a crash left behind.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        create_private_dir(dir)?;
        let blobs = BlobDir::open(&dir.join("blobs"))?;
        let mut conn = Connection::open(dir.join("tern.db"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Db(format!(
                "could not switch the database to WAL (got {mode})"
            )));
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
        schema::migrate(&mut conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            blobs,
            dir: dir.to_path_buf(),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Deletes blobs no version refers to. Call at start-up, before deploys are accepted.
    pub fn collect_garbage(&self) -> Result<usize, StoreError> {
        let keep = self.referenced_blobs()?;
        self.blobs.remove_unreferenced(&keep)
    }

    fn referenced_blobs(&self) -> Result<HashSet<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT DISTINCT module_sha256 FROM versions")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half transaction (rusqlite rolls back on drop).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Every row `sql` selects, each made a record by `record`.
fn select_all<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    record: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(record(row)?);
    }
    Ok(out)
}

/// The row `sql` selects, if any, made a record by `record`.
pub(super) fn select_one<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    record: impl FnOnce(&Row) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    conn.query_row(sql, params, |r| Ok(record(r)))
        .optional()?
        .transpose()
}

/// Adds version `version` of `name` and returns it.
fn insert_version(
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
    Ok(stored_version(v, version, now))
}

/// Version `version` of `name`.
fn select_version(conn: &Connection, name: &str, version: i64) -> Result<VersionInfo, StoreError> {
    select_one(
        conn,
        &format!("SELECT {VERSION_COLUMNS} FROM versions WHERE handler = ?1 AND version = ?2"),
        params![name, version],
        |r| version_info(r),
    )?
    .ok_or_else(|| StoreError::version_not_found(name, version))
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
            wall_ms_column(rec),
            rec.logs,
            rec.detail.to_string(),
        ],
    )?;
    Ok(())
}

/// Deletes the records of `handler` beyond its retention.
fn prune_handler(
    tx: &rusqlite::Transaction,
    handler: &str,
    keep: Retention,
    now: Millis,
) -> Result<usize, StoreError> {
    let by_age = tx.execute(
        "DELETE FROM runs WHERE handler = ?1 AND finished_at < ?2",
        params![handler, oldest_kept(keep, now)],
    )?;
    let by_count = tx.execute(
        "DELETE FROM runs WHERE handler = ?1 AND seq <= (
             SELECT seq FROM runs WHERE handler = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)",
        params![handler, i64::from(keep.keep_runs)],
    )?;
    Ok(by_age + by_count)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| StoreError::Io(format!("creating {}: {e}", dir.display())))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| StoreError::Io(format!("creating {}: {e}", dir.display())))
}

impl Store for SqliteStore {
    fn put_blob(&self, bytes: &[u8]) -> Result<String, StoreError> {
        self.blobs.put(bytes)
    }

    fn get_blob(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        self.blobs.get(sha256)
    }

    fn verify_blobs(&self) -> Result<Vec<String>, StoreError> {
        let mut bad: Vec<String> = self
            .referenced_blobs()?
            .into_iter()
            .filter(|sha| self.blobs.get(sha).is_err())
            .collect();
        bad.sort();
        Ok(bad)
    }

    fn create_handler(&self, name: &str, v: NewVersion) -> Result<VersionInfo, StoreError> {
        validate_name(name)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: Option<String> = tx
            .query_row("SELECT name FROM handlers WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?;
        if exists.is_some() {
            return Err(StoreError::handler_exists(name));
        }
        let now = now_ms();
        let keep = v.retention.unwrap_or_default();
        tx.execute(
            "INSERT INTO handlers (name, live_version, keep_runs, keep_days, created_at, updated_at)
             VALUES (?1, 1, ?2, ?3, ?4, ?4)",
            params![name, keep.keep_runs, keep.keep_days, now],
        )?;
        let info = insert_version(&tx, name, 1, v, now)?;
        tx.commit()?;
        Ok(info)
    }

    fn add_version(&self, name: &str, v: NewVersion) -> Result<VersionInfo, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let newest: Option<i64> = tx
            .query_row(
                "SELECT MAX(version) FROM versions WHERE handler = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let Some(newest) = newest else {
            return Err(StoreError::handler_not_found(name));
        };
        let version = newest + 1;
        let now = now_ms();
        if let Some(keep) = v.retention {
            tx.execute(
                "UPDATE handlers SET keep_runs = ?2, keep_days = ?3 WHERE name = ?1",
                params![name, keep.keep_runs, keep.keep_days],
            )?;
        }
        let info = insert_version(&tx, name, version, v, now)?;
        tx.execute(
            "UPDATE handlers SET live_version = ?2, updated_at = ?3 WHERE name = ?1",
            params![name, version, now],
        )?;
        tx.commit()?;
        Ok(info)
    }

    fn set_live(&self, name: &str, version: i64) -> Result<VersionInfo, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let info = select_version(&tx, name, version)?;
        tx.execute(
            "UPDATE handlers SET live_version = ?2, updated_at = ?3 WHERE name = ?1",
            params![name, version, now_ms()],
        )?;
        tx.commit()?;
        Ok(info)
    }

    fn delete_handler(&self, name: &str) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let gone = tx.execute("DELETE FROM handlers WHERE name = ?1", [name])?;
        if gone == 0 {
            return Err(StoreError::handler_not_found(name));
        }
        tx.execute("DELETE FROM versions WHERE handler = ?1", [name])?;
        tx.execute("DELETE FROM runs WHERE handler = ?1", [name])?;
        tx.execute("DELETE FROM jobs WHERE handler = ?1", [name])?;
        tx.commit()?;
        Ok(())
    }

    fn list_handlers(&self) -> Result<Vec<HandlerInfo>, StoreError> {
        select_all(
            &self.conn(),
            &format!("SELECT {HANDLER_COLUMNS} FROM handlers ORDER BY name"),
            [],
            |r| handler_info(r),
        )
    }

    fn handler(&self, name: &str) -> Result<HandlerInfo, StoreError> {
        select_one(
            &self.conn(),
            &format!("SELECT {HANDLER_COLUMNS} FROM handlers WHERE name = ?1"),
            [name],
            |r| handler_info(r),
        )?
        .ok_or_else(|| StoreError::handler_not_found(name))
    }

    fn versions(&self, name: &str) -> Result<Vec<VersionInfo>, StoreError> {
        let rows = select_all(
            &self.conn(),
            &format!("SELECT {VERSION_COLUMNS} FROM versions WHERE handler = ?1 ORDER BY version"),
            [name],
            |r| version_info(r),
        )?;
        if rows.is_empty() {
            return Err(StoreError::handler_not_found(name));
        }
        Ok(rows)
    }

    fn version(&self, name: &str, version: i64) -> Result<VersionInfo, StoreError> {
        select_version(&self.conn(), name, version)
    }

    fn append_runs(&self, records: &[RunRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for rec in records {
            insert_run(&tx, rec)?;
        }
        let now = now_ms();
        let sql = format!("SELECT {RETENTION_COLUMNS} FROM handlers WHERE name = ?1");
        for handler in handlers_of(records) {
            let keep = select_one(&tx, &sql, [handler], |r| retention(r, 0))?.unwrap_or_default();
            prune_handler(&tx, handler, keep, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn runs(
        &self,
        handler: &str,
        since_seq: i64,
        run: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StoreError> {
        select_all(
            &self.conn(),
            &format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE handler = ?1 AND seq > ?2
                 AND (?3 IS NULL OR id = ?3) ORDER BY seq LIMIT ?4"
            ),
            params![handler, since_seq, run, limit as i64],
            |r| run_record(r),
        )
    }

    fn recent_runs(&self, handler: &str, n: usize) -> Result<Vec<RunRecord>, StoreError> {
        select_all(
            &self.conn(),
            &format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE handler = ?1 ORDER BY seq DESC LIMIT ?2"
            ),
            params![handler, n as i64],
            |r| run_record(r),
        )
    }

    fn run_state(&self, id: &str) -> Result<RunState, StoreError> {
        let conn = self.conn();
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1");
        if let Some(record) = select_one(&conn, &sql, [id], |r| run_record(r))? {
            return Ok(RunState::Finished(Box::new(record)));
        }
        let sql = format!("SELECT {JOB_STATE_COLUMNS} FROM jobs WHERE id = ?1");
        select_one(&conn, &sql, [id], |r| job_state(r))?
            .ok_or_else(|| StoreError::run_not_found(id))
    }

    fn prune_runs(&self, now: Millis) -> Result<usize, StoreError> {
        let handlers = self.list_handlers()?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut gone = 0;
        for h in handlers {
            gone += prune_handler(&tx, &h.name, h.retention, now)?;
        }
        // Records of deleted handlers (a record written just after the delete).
        gone += tx.execute(
            "DELETE FROM runs WHERE handler NOT IN (SELECT name FROM handlers)",
            [],
        )?;
        tx.commit()?;
        Ok(gone)
    }

    fn enqueue(
        &self,
        handler: &str,
        input: &[u8],
        content_type: Option<&str>,
    ) -> Result<String, StoreError> {
        jobs::enqueue(&mut self.conn(), handler, input, content_type)
    }

    fn claim_job(&self) -> Result<Option<Job>, StoreError> {
        jobs::claim(&mut self.conn())
    }

    fn finish_job(&self, record: &RunRecord) -> Result<(), StoreError> {
        jobs::finish(&mut self.conn(), record)
    }

    fn release_job(&self, id: &str) -> Result<(), StoreError> {
        jobs::release(&self.conn(), id)
    }

    fn recover_jobs(&self) -> Result<usize, StoreError> {
        jobs::recover(&mut self.conn())
    }

    fn create_token(&self, name: &str, scope: Scope) -> Result<(TokenInfo, String), StoreError> {
        let new = token::generate()?;
        let now = now_ms();
        self.conn().execute(
            "INSERT INTO tokens (id, name, scope, secret_sha256, created_at, revoked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
            params![new.id, name, scope.as_str(), new.hash, now],
        )?;
        Ok(new.created(name, scope, now))
    }

    fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        select_all(
            &self.conn(),
            &format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id"),
            [],
            |r| token_and_hash(r).map(|(info, _)| info),
        )
    }

    fn revoke_token(&self, id: &str) -> Result<(), StoreError> {
        let n = self.conn().execute(
            "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, now_ms()],
        )?;
        if n == 0 {
            return Err(StoreError::token_not_found(id));
        }
        Ok(())
    }

    fn authenticate(&self, presented: &str) -> Result<Option<TokenInfo>, StoreError> {
        token::authenticate(presented, |id| {
            select_one(
                &self.conn(),
                &format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = ?1"),
                [id],
                |r| token_and_hash(r),
            )
        })
    }
}
