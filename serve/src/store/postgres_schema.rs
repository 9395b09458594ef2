//! PostgreSQL's schema migrations: migration 1 is SQLite's migration 1 in PostgreSQL's types
//! (`BIGSERIAL` for the sequences, `BYTEA` for bytes, `BIGINT` for numbers); migration 2 adds what
//! only a shared database needs: module blobs as rows, leases on running jobs, and the revision
//! counter nodes watch. Nodes starting together take an advisory lock, so each migration runs once.

use super::schema::{pending, Migration};
use super::{now_ms, StoreError};
use postgres::Client;

/// (version, SQL) in order. Never edit a released entry: add the next one.
const MIGRATIONS: &[Migration] = &[
    (
        1,
        "CREATE TABLE handlers (
            name TEXT PRIMARY KEY,
            live_version BIGINT NOT NULL,
            keep_runs BIGINT NOT NULL,
            keep_days BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE TABLE versions (
            handler TEXT NOT NULL REFERENCES handlers(name) ON DELETE CASCADE,
            version BIGINT NOT NULL,
            module_sha256 TEXT NOT NULL,
            config TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (handler, version)
        );
        CREATE TABLE runs (
            seq BIGSERIAL PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            handler TEXT NOT NULL,
            version BIGINT NOT NULL,
            kind TEXT NOT NULL,
            status BIGINT NOT NULL,
            ended TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            finished_at BIGINT NOT NULL,
            wall_ms BIGINT NOT NULL,
            logs TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE INDEX runs_by_handler ON runs (handler, seq);
        CREATE TABLE jobs (
            seq BIGSERIAL PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            handler TEXT NOT NULL,
            input BYTEA NOT NULL,
            content_type TEXT,
            state TEXT NOT NULL,
            attempts BIGINT NOT NULL,
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
    ),
    (
        2,
        "CREATE TABLE blobs (
            sha256 TEXT PRIMARY KEY,
            bytes BYTEA NOT NULL,
            created_at BIGINT NOT NULL
        );
        ALTER TABLE jobs ADD COLUMN owner TEXT, ADD COLUMN lease_until BIGINT;
        CREATE TABLE revision (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            value BIGINT NOT NULL
        );
        INSERT INTO revision (id, value) VALUES (1, 0);",
    ),
];

/// Any number; every tern node uses it to take turns migrating.
const MIGRATION_LOCK: i64 = 0x7465_726e; // "tern"

/// Brings the database to the newest schema.
pub(crate) fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            applied_at BIGINT NOT NULL
        )",
    )?;
    let current: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )?
        .get(0);
    for (version, sql) in pending(MIGRATIONS, current)? {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[version, &now_ms()],
        )?;
    }
    tx.commit()?;
    Ok(())
}
