//! Numbered schema migrations. Each runs once, in a transaction, and records its number in
//! `schema_migrations`; a database from a newer tern is refused rather than misread
//! ([`pending`], which PostgreSQL's migrations use too). SQLite's list is here; PostgreSQL has
//! its own (postgres_schema.rs), with the same numbers for the same tables in its own types.

use super::{now_ms, StoreError};
use rusqlite::{params, Connection, TransactionBehavior};

/// A schema migration: its number and its SQL.
pub(super) type Migration = (i64, &'static str);

/// (version, SQL) in order. Never edit a released entry: add the next one.
const MIGRATIONS: &[Migration] = &[(
    1,
    "CREATE TABLE handlers (
        name TEXT PRIMARY KEY,
        live_version INTEGER NOT NULL,
        keep_runs INTEGER NOT NULL,
        keep_days INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    );
    CREATE TABLE versions (
        handler TEXT NOT NULL REFERENCES handlers(name) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        module_sha256 TEXT NOT NULL,
        config TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (handler, version)
    );
    CREATE TABLE runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        handler TEXT NOT NULL,
        version INTEGER NOT NULL,
        kind TEXT NOT NULL,
        status INTEGER NOT NULL,
        ended TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        finished_at BIGINT NOT NULL,
        wall_ms BIGINT NOT NULL,
        logs TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX runs_by_handler ON runs (handler, seq);
    CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        handler TEXT NOT NULL,
        input BLOB NOT NULL,
        content_type TEXT,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE INDEX jobs_by_state ON jobs (state, seq);
    CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        scope TEXT NOT NULL,
        secret_sha256 TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
    );",
)];

/// Brings the database to the newest schema.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // One immediate transaction: a second process (`tern token create` beside a running server)
    // waits instead of applying the same migration twice.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            applied_at BIGINT NOT NULL
        )",
    )?;
    let current: i64 = tx.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    for (version, sql) in pending(MIGRATIONS, current)? {
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            params![version, now_ms()],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The migrations of `migrations` (in order) that a database at schema version `current` still
/// needs. A database past the last one is from a newer tern: refused rather than misread.
pub(super) fn pending(
    migrations: &'static [Migration],
    current: i64,
) -> Result<impl Iterator<Item = &'static Migration>, StoreError> {
    let newest = migrations.last().map_or(0, |m| m.0);
    if current > newest {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {current}, this tern knows up to {newest}: use a newer tern"
        )));
    }
    Ok(migrations.iter().filter(move |m| m.0 > current))
}
