//! The embedded store: `DATA/tern.db` (SQLite: WAL, `synchronous=FULL`) and `DATA/blobs/`.

use super::jobs;
use super::rows::{
    finish_run_row, handler_row, insert_run, insert_version, not_found_handler, prune_handler,
    run_row, select_version, token_row, version_row, RUN_COLUMNS,
};
use super::token::{self, Scope, TokenInfo};
use super::{
    now_ms, schema, validate_name, BlobDir, HandlerInfo, Job, Millis, NewVersion, Retention,
    RunRecord, RunState, Store, StoreError, VersionInfo,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
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
            return Err(StoreError::Conflict(format!(
                "handler {name:?} exists: deploy a new version with PUT /v1/handlers/{name}"
            )));
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
            return Err(not_found_handler(name));
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
            return Err(not_found_handler(name));
        }
        tx.execute("DELETE FROM versions WHERE handler = ?1", [name])?;
        tx.execute("DELETE FROM runs WHERE handler = ?1", [name])?;
        tx.execute("DELETE FROM jobs WHERE handler = ?1", [name])?;
        tx.commit()?;
        Ok(())
    }

    fn list_handlers(&self) -> Result<Vec<HandlerInfo>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT name, live_version, keep_runs, keep_days, created_at, updated_at
             FROM handlers ORDER BY name",
        )?;
        let rows = stmt.query_map([], handler_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn handler(&self, name: &str) -> Result<HandlerInfo, StoreError> {
        self.conn()
            .query_row(
                "SELECT name, live_version, keep_runs, keep_days, created_at, updated_at
                 FROM handlers WHERE name = ?1",
                [name],
                handler_row,
            )
            .optional()?
            .ok_or_else(|| not_found_handler(name))
    }

    fn versions(&self, name: &str) -> Result<Vec<VersionInfo>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT version, module_sha256, config, created_at FROM versions
             WHERE handler = ?1 ORDER BY version",
        )?;
        let rows: Vec<VersionInfo> = stmt
            .query_map([name], version_row)?
            .collect::<Result<_, _>>()?;
        if rows.is_empty() {
            return Err(not_found_handler(name));
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
        let mut touched: Vec<&str> = records.iter().map(|r| r.handler.as_str()).collect();
        touched.sort_unstable();
        touched.dedup();
        let now = now_ms();
        for handler in touched {
            let keep = tx
                .query_row(
                    "SELECT keep_runs, keep_days FROM handlers WHERE name = ?1",
                    [handler],
                    |r| {
                        Ok(Retention {
                            keep_runs: r.get(0)?,
                            keep_days: r.get(1)?,
                        })
                    },
                )
                .optional()?
                .unwrap_or_default();
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
        let conn = self.conn();
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE handler = ?1 AND seq > ?2
             AND (?3 IS NULL OR id = ?3) ORDER BY seq LIMIT ?4"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params![handler, since_seq, run, limit as i64], run_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(finish_run_row(row?)?);
        }
        Ok(out)
    }

    fn recent_runs(&self, handler: &str, n: usize) -> Result<Vec<RunRecord>, StoreError> {
        let conn = self.conn();
        let sql =
            format!("SELECT {RUN_COLUMNS} FROM runs WHERE handler = ?1 ORDER BY seq DESC LIMIT ?2");
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params![handler, n as i64], run_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(finish_run_row(row?)?);
        }
        Ok(out)
    }

    fn run_state(&self, id: &str) -> Result<RunState, StoreError> {
        let conn = self.conn();
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1");
        if let Some(row) = conn.query_row(&sql, [id], run_row).optional()? {
            return Ok(RunState::Finished(Box::new(finish_run_row(row)?)));
        }
        let job = conn
            .query_row(
                "SELECT handler, state, attempts, created_at FROM jobs WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Millis>(3)?,
                    ))
                },
            )
            .optional()?;
        match job {
            Some((handler, state, _, created_at)) if state == "queued" => Ok(RunState::Queued {
                handler,
                created_at,
            }),
            Some((handler, _, attempts, created_at)) => Ok(RunState::Running {
                handler,
                created_at,
                attempts,
            }),
            None => Err(StoreError::NotFound(format!("run {id:?}"))),
        }
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
        Ok((
            TokenInfo {
                id: new.id,
                name: name.to_string(),
                scope,
                created_at: now,
                revoked_at: None,
            },
            new.bearer,
        ))
    }

    fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, name, scope, created_at, revoked_at, secret_sha256 FROM tokens
             ORDER BY created_at, id",
        )?;
        let rows = stmt.query_map([], token_row)?;
        Ok(rows
            .map(|r| r.map(|(info, _)| info))
            .collect::<Result<_, _>>()?)
    }

    fn revoke_token(&self, id: &str) -> Result<(), StoreError> {
        let n = self.conn().execute(
            "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, now_ms()],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "token {id:?} (or it is revoked already)"
            )));
        }
        Ok(())
    }

    fn authenticate(&self, presented: &str) -> Result<Option<TokenInfo>, StoreError> {
        let Some((id, secret)) = token::split(presented) else {
            return Ok(None);
        };
        let row = self
            .conn()
            .query_row(
                "SELECT id, name, scope, created_at, revoked_at, secret_sha256 FROM tokens
                 WHERE id = ?1",
                [id],
                token_row,
            )
            .optional()?;
        // Hash and compare even for an unknown id, so the time taken says nothing about which part
        // of the token was wrong.
        let (info, hash) = row.unwrap_or_else(|| {
            (
                TokenInfo {
                    id: String::new(),
                    name: String::new(),
                    scope: Scope::Read,
                    created_at: 0,
                    revoked_at: Some(0),
                },
                "0".repeat(64),
            )
        });
        let matches = token::secret_matches(secret, &hash);
        Ok((matches && info.revoked_at.is_none()).then_some(info))
    }
}
