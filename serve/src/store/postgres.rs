//! The shared store: one PostgreSQL database behind several `tern serve` nodes
//! (`tern serve --store postgres://user@host/db`). The same tables as [`SqliteStore`]
//! (super::SqliteStore), module blobs as `bytea` rows (their sha256 checked when loaded), a
//! `revision` counter bumped — and announced with `NOTIFY tern_handlers` — by every change of a
//! handler, new invocation records announced with `NOTIFY tern_runs`, and leases on running
//! async jobs so a node that dies mid-run loses them to another.
//!
//! One connection per node, on a thread of its own ([`postgres_conn`](super::postgres_conn)),
//! reopened by itself after the database went away (each call tries once; the caller sees
//! [`StoreError::Db`] while it is down). Every call is bounded: connecting by
//! [`CONNECT_TIMEOUT`], a call by its caller's deadline (5 s; blobs 30 s) even when the database
//! hangs without closing the connection, and each statement on the server by `statement_timeout`.

use super::blobs::{check_address, check_content};
use super::postgres_conn::{Connection, Queries, Session, Tx, CALL_TIMEOUT};
use super::postgres_schema;
use super::rows::{
    handler_info, handlers_of, job, job_state, oldest_kept, retention, run_record, stored_version,
    token_and_hash, version_info, wall_ms_column, FailedJob, HANDLER_COLUMNS, JOB_COLUMNS,
    JOB_STATE_COLUMNS, RETENTION_COLUMNS, RUN_COLUMNS, TOKEN_COLUMNS, VERSION_COLUMNS,
};
use super::token::{self, Scope, TokenInfo};
use super::{
    check_queue_room, new_run_id, now_ms, random_hex, sha256_hex, validate_name, HandlerInfo, Job,
    Millis, NewVersion, Retention, RunRecord, RunState, Store, StoreError, VersionInfo,
    MAX_ATTEMPTS,
};
use postgres::error::SqlState;
use postgres::{Client, Config, NoTls};
use std::sync::mpsc;
use std::time::Duration;

/// The channel a handler change is announced on (payload: the new revision).
pub const HANDLERS_CHANNEL: &str = "tern_handlers";
/// The channel an enqueued async run is announced on.
pub const JOBS_CHANNEL: &str = "tern_jobs";
/// The channel new invocation records are announced on (payload: the handler's name), so
/// `logs?follow=1` on every node shows runs served by any node.
pub const RUNS_CHANNEL: &str = "tern_runs";

/// How long connecting to the database may take (TCP connect and, through the call deadline,
/// the start-up exchange).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a call moving a module blob may take (a 32 MiB module at about 1 MB/s).
const BLOB_TIMEOUT: Duration = Duration::from_secs(30);

/// How long opening the store may wait for the schema migration (another node may hold its lock).
const MIGRATE_TIMEOUT: Duration = Duration::from_secs(60);

/// Server-side bounds for the store's session, set when it connects (with SET rather than the
/// start-up `options`, which connection poolers refuse): a statement is cancelled after the
/// longest a caller waits, and a transaction left open by a node that hung (holding a handler's
/// row lock) is ended rather than blocking the other nodes' deploys.
const SESSION_SETUP: &str =
    "SET statement_timeout = '60s'; SET idle_in_transaction_session_timeout = '60s'";

/// How long a node holds a running job without renewing its lease ([`PostgresStore::renew_leases`]).
pub const LEASE_MS: i64 = 5_000;

/// The database's clock in milliseconds: leases compare times written by different nodes.
const DB_NOW: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// A [`Store`] on a PostgreSQL database shared by every node.
pub struct PostgresStore {
    config: Config,
    conn: Connection,
    /// This process's name in job leases.
    node: String,
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            return StoreError::Conflict(e.to_string());
        }
        // `Display` of a server error is only "db error"; its message says what went wrong.
        match e.as_db_error() {
            Some(db) => StoreError::Db(db.message().to_string()),
            None => StoreError::Db(e.to_string()),
        }
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/db` or key=value form) and
    /// brings the schema up to date.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let mut config: Config = url
            .parse()
            .map_err(|e| StoreError::Invalid(format!("database URL: {e}")))?;
        // A node must notice a dead database quickly (readiness) rather than hang on connect.
        config.connect_timeout(CONNECT_TIMEOUT);
        // …nor wait forever on a database host that vanished without closing the connection.
        config.tcp_user_timeout(Duration::from_secs(10));
        config.keepalives_idle(Duration::from_secs(10));
        config.application_name("tern serve");
        let store = PostgresStore {
            conn: Connection::start(config.clone(), SESSION_SETUP)?,
            config,
            node: random_hex(8)?,
        };
        store
            .conn
            .call(MIGRATE_TIMEOUT, |s| postgres_schema::migrate(s.client()))?;
        Ok(store)
    }

    /// A new connection of its own (the cluster's LISTEN connection), opened on a thread of its
    /// own and prepared with `prepare`; the receiver gets it. A database that hangs keeps that
    /// thread waiting, not the caller: look at the receiver again later rather than asking for
    /// another connection.
    pub fn connect_in_background(
        &self,
        prepare: impl FnOnce(&mut Client) -> Result<(), StoreError> + Send + 'static,
    ) -> mpsc::Receiver<Result<Client, StoreError>> {
        let (tx, rx) = mpsc::sync_channel(1);
        let config = self.config.clone();
        let connecting = std::thread::Builder::new()
            .name("tern-pg-connect".into())
            .spawn(move || {
                let connected = config.connect(NoTls).map_err(StoreError::from);
                let _ = tx.send(connected.and_then(|mut c| prepare(&mut c).map(|()| c)));
            });
        if let Err(e) = connecting {
            let (tx, rx) = mpsc::sync_channel(1);
            let _ = tx.send(Err(StoreError::Db(format!(
                "cannot start a connecting thread: {e}"
            ))));
            return rx;
        }
        rx
    }

    /// This node's name in job leases.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The handler revision: bumped by every create, version, rollback and delete.
    pub fn revision(&self) -> Result<i64, StoreError> {
        self.with(|c| Ok(c.query_one("SELECT value FROM revision", &[])?.get(0)))
    }

    /// Extends the leases of the jobs this node is running; returns how many it holds.
    pub fn renew_leases(&self) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE jobs SET lease_until = {DB_NOW} + $2 WHERE owner = $1 AND state = 'running'"
        );
        let node = self.node.clone();
        self.with(move |c| Ok(c.execute(sql.as_str(), &[&node, &LEASE_MS])?))
    }

    /// Runs `f` on the connection within [`CALL_TIMEOUT`] (see [`Connection::call`]).
    fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.conn.call(CALL_TIMEOUT, f)
    }
}

fn insert_run(tx: &mut impl Queries, rec: &RunRecord) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO runs (id, handler, version, kind, status, ended, created_at, finished_at,
                           wall_ms, logs, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO NOTHING",
        &[
            &rec.id,
            &rec.handler,
            &rec.version,
            &rec.kind.as_str(),
            &i64::from(rec.status),
            &rec.ended,
            &rec.created_at,
            &rec.finished_at,
            &wall_ms_column(rec),
            &rec.logs,
            &rec.detail.to_string(),
        ],
    )?;
    Ok(())
}

/// Tells every node that `handler` has new records (delivered when the transaction commits; one
/// per handler and transaction, PostgreSQL folds repeats).
fn announce_runs(tx: &mut Tx, handler: &str) -> Result<(), StoreError> {
    tx.execute("SELECT pg_notify($1, $2)", &[&RUNS_CHANNEL, &handler])?;
    Ok(())
}

/// Counts a change of the handlers and tells every node (delivered when the transaction commits).
fn bump_revision(tx: &mut Tx) -> Result<(), StoreError> {
    let value: i64 = tx
        .query_one(
            "UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value",
            &[],
        )?
        .get(0);
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&HANDLERS_CHANNEL, &value.to_string()],
    )?;
    Ok(())
}

/// Locks a handler's row for the rest of the transaction (deploys on two nodes take turns).
fn lock_handler(tx: &mut Tx, name: &str) -> Result<(), StoreError> {
    tx.query_opt(
        "SELECT name FROM handlers WHERE name = $1 FOR UPDATE",
        &[&name],
    )?
    .ok_or_else(|| StoreError::handler_not_found(name))?;
    Ok(())
}

fn prune_handler(
    tx: &mut Tx,
    handler: &str,
    keep: Retention,
    now: Millis,
) -> Result<usize, StoreError> {
    let by_age = tx.execute(
        "DELETE FROM runs WHERE handler = $1 AND finished_at < $2",
        &[&handler, &oldest_kept(keep, now)],
    )?;
    let by_count = tx.execute(
        "DELETE FROM runs WHERE handler = $1 AND seq <= (
             SELECT seq FROM runs WHERE handler = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2)",
        &[&handler, &i64::from(keep.keep_runs)],
    )?;
    Ok((by_age + by_count) as usize)
}

/// Running jobs whose lease ran out (their node died or lost the database) go back to the queue,
/// or fail after [`MAX_ATTEMPTS`] starts. Returns how many.
fn reap_expired(tx: &mut Tx) -> Result<usize, StoreError> {
    let expired = tx.query(
        format!(
            "SELECT id, handler, attempts, created_at FROM jobs
             WHERE state = 'running' AND lease_until < {DB_NOW}
             FOR UPDATE SKIP LOCKED"
        )
        .as_str(),
        &[],
    )?;
    let now = now_ms();
    for row in &expired {
        let id: String = row.try_get(0)?;
        let handler: String = row.try_get(1)?;
        let attempts: i64 = row.try_get(2)?;
        if attempts >= MAX_ATTEMPTS {
            let version: i64 = tx
                .query_opt(
                    "SELECT live_version FROM handlers WHERE name = $1",
                    &[&handler],
                )?
                .map_or(0, |r| r.get(0));
            let failed = FailedJob {
                id: &id,
                handler: &handler,
                version,
                attempts,
                created_at: row.try_get(3)?,
                stopper: "the node running it",
            };
            insert_run(tx, &failed.record(now))?;
            tx.execute("DELETE FROM jobs WHERE id = $1", &[&id])?;
            announce_runs(tx, &handler)?;
        } else {
            tx.execute(
                "UPDATE jobs SET state = 'queued', owner = NULL, lease_until = NULL WHERE id = $1",
                &[&id],
            )?;
        }
    }
    Ok(expired.len())
}

impl Store for PostgresStore {
    fn put_blob(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let sha = sha256_hex(bytes);
        let (key, bytes) = (sha.clone(), bytes.to_vec());
        self.conn.call(BLOB_TIMEOUT, move |c| {
            c.execute(
                "INSERT INTO blobs (sha256, bytes, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (sha256) DO NOTHING",
                &[&key, &bytes, &now_ms()],
            )?;
            Ok(())
        })?;
        Ok(sha)
    }

    fn get_blob(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        check_address(sha256)?;
        let key = sha256.to_string();
        let bytes: Vec<u8> = self
            .conn
            .call(BLOB_TIMEOUT, move |c| {
                Ok(c.query_opt("SELECT bytes FROM blobs WHERE sha256 = $1", &[&key])?)
            })?
            .ok_or_else(|| StoreError::NotFound(format!("blob {sha256}")))?
            .try_get(0)?;
        check_content(sha256, &bytes)?;
        Ok(bytes)
    }

    fn verify_blobs(&self) -> Result<Vec<String>, StoreError> {
        let shas: Vec<String> = self.with(|c| {
            Ok(c.query(
                "SELECT DISTINCT module_sha256 FROM versions ORDER BY module_sha256",
                &[],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })?;
        Ok(shas
            .into_iter()
            .filter(|sha| self.get_blob(sha).is_err())
            .collect())
    }

    fn create_handler(&self, name: &str, v: NewVersion) -> Result<VersionInfo, StoreError> {
        validate_name(name)?;
        let now = now_ms();
        let keep = v.retention.unwrap_or_default();
        let (name, sha, config) = (name.to_string(), v.module_sha256.clone(), v.config.clone());
        self.with(move |c| {
            let mut tx = c.transaction()?;
            // Two nodes creating one name at once: the second insert fails on the primary key.
            let inserted = tx.execute(
                "INSERT INTO handlers (name, live_version, keep_runs, keep_days, created_at, updated_at)
                 VALUES ($1, 1, $2, $3, $4, $4) ON CONFLICT (name) DO NOTHING",
                &[&name, &i64::from(keep.keep_runs), &i64::from(keep.keep_days), &now],
            )?;
            if inserted == 0 {
                return Err(StoreError::handler_exists(&name));
            }
            tx.execute(
                "INSERT INTO versions (handler, version, module_sha256, config, created_at)
                 VALUES ($1, 1, $2, $3, $4)",
                &[&name, &sha, &config, &now],
            )?;
            bump_revision(&mut tx)?;
            tx.commit()?;
            Ok(())
        })?;
        Ok(stored_version(v, 1, now))
    }

    fn add_version(&self, name: &str, v: NewVersion) -> Result<VersionInfo, StoreError> {
        let now = now_ms();
        let (name, sha, config, retention) = (
            name.to_string(),
            v.module_sha256.clone(),
            v.config.clone(),
            v.retention,
        );
        let version = self.with(move |c| {
            let mut tx = c.transaction()?;
            lock_handler(&mut tx, &name)?;
            let newest: i64 = tx
                .query_one(
                    "SELECT COALESCE(MAX(version), 0) FROM versions WHERE handler = $1",
                    &[&name],
                )?
                .get(0);
            let version = newest + 1;
            tx.execute(
                "INSERT INTO versions (handler, version, module_sha256, config, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&name, &version, &sha, &config, &now],
            )?;
            tx.execute(
                "UPDATE handlers SET live_version = $2, updated_at = $3 WHERE name = $1",
                &[&name, &version, &now],
            )?;
            if let Some(keep) = retention {
                tx.execute(
                    "UPDATE handlers SET keep_runs = $2, keep_days = $3 WHERE name = $1",
                    &[
                        &name,
                        &i64::from(keep.keep_runs),
                        &i64::from(keep.keep_days),
                    ],
                )?;
            }
            bump_revision(&mut tx)?;
            tx.commit()?;
            Ok(version)
        })?;
        Ok(stored_version(v, version, now))
    }

    fn set_live(&self, name: &str, version: i64) -> Result<VersionInfo, StoreError> {
        let name = name.to_string();
        self.with(move |c| {
            let mut tx = c.transaction()?;
            lock_handler(&mut tx, &name)?;
            let sql = format!(
                "SELECT {VERSION_COLUMNS} FROM versions WHERE handler = $1 AND version = $2"
            );
            let info = tx
                .query_opt(sql.as_str(), &[&name, &version])?
                .ok_or_else(|| StoreError::version_not_found(&name, version))
                .and_then(|r| version_info(&r))?;
            tx.execute(
                "UPDATE handlers SET live_version = $2, updated_at = $3 WHERE name = $1",
                &[&name, &version, &now_ms()],
            )?;
            bump_revision(&mut tx)?;
            tx.commit()?;
            Ok(info)
        })
    }

    fn delete_handler(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_string();
        self.with(move |c| {
            let mut tx = c.transaction()?;
            if tx.execute("DELETE FROM handlers WHERE name = $1", &[&name])? == 0 {
                return Err(StoreError::handler_not_found(&name));
            }
            tx.execute("DELETE FROM versions WHERE handler = $1", &[&name])?;
            tx.execute("DELETE FROM runs WHERE handler = $1", &[&name])?;
            tx.execute("DELETE FROM jobs WHERE handler = $1", &[&name])?;
            bump_revision(&mut tx)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn list_handlers(&self) -> Result<Vec<HandlerInfo>, StoreError> {
        let sql = format!("SELECT {HANDLER_COLUMNS} FROM handlers ORDER BY name");
        self.with(move |c| {
            c.query(sql.as_str(), &[])?
                .iter()
                .map(handler_info)
                .collect()
        })
    }

    fn handler(&self, name: &str) -> Result<HandlerInfo, StoreError> {
        let sql = format!("SELECT {HANDLER_COLUMNS} FROM handlers WHERE name = $1");
        let name = name.to_string();
        self.with(move |c| match c.query_opt(sql.as_str(), &[&name])? {
            Some(r) => handler_info(&r),
            None => Err(StoreError::handler_not_found(&name)),
        })
    }

    fn versions(&self, name: &str) -> Result<Vec<VersionInfo>, StoreError> {
        let sql =
            format!("SELECT {VERSION_COLUMNS} FROM versions WHERE handler = $1 ORDER BY version");
        let handler = name.to_string();
        let rows: Vec<VersionInfo> = self.with(move |c| {
            c.query(sql.as_str(), &[&handler])?
                .iter()
                .map(version_info)
                .collect()
        })?;
        if rows.is_empty() {
            return Err(StoreError::handler_not_found(name));
        }
        Ok(rows)
    }

    fn version(&self, name: &str, version: i64) -> Result<VersionInfo, StoreError> {
        let sql =
            format!("SELECT {VERSION_COLUMNS} FROM versions WHERE handler = $1 AND version = $2");
        let name = name.to_string();
        self.with(
            move |c| match c.query_opt(sql.as_str(), &[&name, &version])? {
                Some(r) => version_info(&r),
                None => Err(StoreError::version_not_found(&name, version)),
            },
        )
    }

    fn append_runs(&self, records: &[RunRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let touched: Vec<String> = handlers_of(records)
            .into_iter()
            .map(str::to_string)
            .collect();
        let sql = format!("SELECT {RETENTION_COLUMNS} FROM handlers WHERE name = $1");
        let records = records.to_vec();
        self.with(move |c| {
            let mut tx = c.transaction()?;
            for rec in &records {
                insert_run(&mut tx, rec)?;
            }
            let now = now_ms();
            for handler in &touched {
                let keep = match tx.query_opt(sql.as_str(), &[handler])? {
                    Some(r) => retention(&r, 0)?,
                    None => Retention::default(),
                };
                prune_handler(&mut tx, handler, keep, now)?;
                announce_runs(&mut tx, handler)?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn runs(
        &self,
        handler: &str,
        since_seq: i64,
        run: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE handler = $1 AND seq > $2
             AND ($3::text IS NULL OR id = $3) ORDER BY seq LIMIT $4"
        );
        let limit = limit.min(i64::MAX as usize) as i64;
        let (handler, run) = (handler.to_string(), run.map(str::to_string));
        self.with(move |c| {
            c.query(sql.as_str(), &[&handler, &since_seq, &run, &limit])?
                .iter()
                .map(run_record)
                .collect()
        })
    }

    fn recent_runs(&self, handler: &str, n: usize) -> Result<Vec<RunRecord>, StoreError> {
        let sql =
            format!("SELECT {RUN_COLUMNS} FROM runs WHERE handler = $1 ORDER BY seq DESC LIMIT $2");
        let n = n.min(i64::MAX as usize) as i64;
        let handler = handler.to_string();
        self.with(move |c| {
            c.query(sql.as_str(), &[&handler, &n])?
                .iter()
                .map(run_record)
                .collect()
        })
    }

    fn run_state(&self, id: &str) -> Result<RunState, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1");
        let id = id.to_string();
        self.with(move |c| {
            if let Some(row) = c.query_opt(sql.as_str(), &[&id])? {
                return Ok(RunState::Finished(Box::new(run_record(&row)?)));
            }
            let sql = format!("SELECT {JOB_STATE_COLUMNS} FROM jobs WHERE id = $1");
            match c.query_opt(sql.as_str(), &[&id])? {
                Some(row) => job_state(&row),
                None => Err(StoreError::run_not_found(&id)),
            }
        })
    }

    fn prune_runs(&self, now: Millis) -> Result<usize, StoreError> {
        let handlers = self.list_handlers()?;
        self.with(move |c| {
            let mut tx = c.transaction()?;
            let mut gone = 0;
            for h in &handlers {
                gone += prune_handler(&mut tx, &h.name, h.retention, now)?;
            }
            gone += tx.execute(
                "DELETE FROM runs WHERE handler NOT IN (SELECT name FROM handlers)",
                &[],
            )? as usize;
            tx.commit()?;
            Ok(gone)
        })
    }

    fn enqueue(
        &self,
        handler: &str,
        input: &[u8],
        content_type: Option<&str>,
    ) -> Result<String, StoreError> {
        let id = new_run_id()?;
        let (run, handler, input, content_type) = (
            id.clone(),
            handler.to_string(),
            input.to_vec(),
            content_type.map(str::to_string),
        );
        self.with(move |c| {
            let mut tx = c.transaction()?;
            // Holding the handler's row keeps a concurrent delete (and the count) consistent.
            lock_handler(&mut tx, &handler)?;
            let waiting: i64 = tx
                .query_one("SELECT COUNT(*) FROM jobs WHERE handler = $1", &[&handler])?
                .get(0);
            check_queue_room(&handler, waiting)?;
            tx.execute(
                "INSERT INTO jobs (id, handler, input, content_type, state, attempts, created_at)
                 VALUES ($1, $2, $3, $4, 'queued', 0, $5)",
                &[&run, &handler, &input, &content_type, &now_ms()],
            )?;
            tx.execute("SELECT pg_notify($1, '')", &[&JOBS_CHANNEL])?;
            tx.commit()?;
            Ok(())
        })?;
        Ok(id)
    }

    fn claim_job(&self) -> Result<Option<Job>, StoreError> {
        // SKIP LOCKED: nodes claiming at once take different jobs instead of waiting on each other.
        let sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, owner = $1,
                             lease_until = {DB_NOW} + $2
             WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY seq LIMIT 1
                         FOR UPDATE SKIP LOCKED)
             RETURNING {JOB_COLUMNS}"
        );
        let node = self.node.clone();
        self.with(move |c| {
            let mut tx = c.transaction()?;
            reap_expired(&mut tx)?;
            let row = tx.query_opt(sql.as_str(), &[&node, &LEASE_MS])?;
            tx.commit()?;
            row.map(|r| job(&r)).transpose()
        })
    }

    fn finish_job(&self, record: &RunRecord) -> Result<(), StoreError> {
        let record = record.clone();
        self.with(move |c| {
            let mut tx = c.transaction()?;
            insert_run(&mut tx, &record)?;
            tx.execute("DELETE FROM jobs WHERE id = $1", &[&record.id])?;
            announce_runs(&mut tx, &record.handler)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn release_job(&self, id: &str) -> Result<(), StoreError> {
        let (id, node) = (id.to_string(), self.node.clone());
        self.with(move |c| {
            c.execute(
                "UPDATE jobs SET state = 'queued', attempts = attempts - 1, owner = NULL,
                                 lease_until = NULL
                 WHERE id = $1 AND state = 'running' AND owner = $2",
                &[&id, &node],
            )?;
            Ok(())
        })
    }

    /// On a shared database other nodes' running jobs are theirs until their leases run out; so
    /// only expired ones are taken back.
    fn recover_jobs(&self) -> Result<usize, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let n = reap_expired(&mut tx)?;
            tx.commit()?;
            Ok(n)
        })
    }

    fn create_token(&self, name: &str, scope: Scope) -> Result<(TokenInfo, String), StoreError> {
        let new = token::generate()?;
        let now = now_ms();
        let (id, owner, hash) = (new.id.clone(), name.to_string(), new.hash.clone());
        self.with(move |c| {
            c.execute(
                "INSERT INTO tokens (id, name, scope, secret_sha256, created_at, revoked_at)
                 VALUES ($1, $2, $3, $4, $5, NULL)",
                &[&id, &owner, &scope.as_str(), &hash, &now],
            )?;
            Ok(())
        })?;
        Ok(new.created(name, scope, now))
    }

    fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id");
        self.with(move |c| {
            c.query(sql.as_str(), &[])?
                .iter()
                .map(|r| token_and_hash(r).map(|(info, _)| info))
                .collect()
        })
    }

    fn revoke_token(&self, id: &str) -> Result<(), StoreError> {
        let token = id.to_string();
        let n = self.with(move |c| {
            Ok(c.execute(
                "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[&token, &now_ms()],
            )?)
        })?;
        if n == 0 {
            return Err(StoreError::token_not_found(id));
        }
        Ok(())
    }

    fn authenticate(&self, presented: &str) -> Result<Option<TokenInfo>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = $1");
        token::authenticate(presented, |id| {
            let id = id.to_string();
            self.with(move |c| {
                c.query_opt(sql.as_str(), &[&id])?
                    .map(|r| token_and_hash(&r))
                    .transpose()
            })
        })
    }
}
