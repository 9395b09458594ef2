//! Tests of what only the SQLite store has: its data directory, blob files, reopening and
//! recovery after a restart, and its migrations. What every store must do is the shared suite in
//! tests/postgres/suite.rs, run on SQLite by plain `cargo test -p tern-serve` and on PostgreSQL by
//! serve/tests/pg/run.sh.

use super::*;
use std::sync::Arc;
use std::time::Duration;

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("data")).unwrap();
    (dir, store)
}

fn version(store: &SqliteStore, module: &[u8]) -> NewVersion {
    NewVersion {
        module_sha256: store.put_blob(module).unwrap(),
        config: "{}".to_string(),
        retention: None,
    }
}

#[cfg(unix)]
#[test]
fn data_dir_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, _store) = open();
    let mode = std::fs::metadata(dir.path().join("data"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

/// Records the store keeps refusing wait in the backlog up to its bound; the writer counts the
/// ones past it in the server's `tern_records_dropped_total`.
#[test]
fn records_dropped_past_the_backlog_are_counted_in_the_metrics() {
    let (dir, store) = open();
    // Every write of records is refused, as by a store that is down.
    rusqlite::Connection::open(dir.path().join("data/tern.db"))
        .unwrap()
        .execute_batch("DROP TABLE runs")
        .unwrap();
    let metrics = crate::metrics::Metrics::default();
    assert!(metrics
        .render()
        .contains("\ntern_records_dropped_total 0\n"));
    let batcher = RecordBatcher::start(
        Arc::new(store),
        Duration::from_secs(3600),
        Box::new(|| {}),
        metrics.records_dropped().clone(),
    );
    // The channel holds RecordBatcher::CAPACITY records, the backlog Backlog::MAX_RECORDS (as
    // many): whichever drops them, the records past that many are counted, once each.
    assert_eq!(
        RecordBatcher::CAPACITY,
        super::backlog::Backlog::MAX_RECORDS
    );
    let past = 10;
    (0..super::backlog::Backlog::MAX_RECORDS + past)
        .for_each(|i| batcher.push(super::backlog::tests::record(i, 0)));
    batcher.flush();
    let text = metrics.render();
    assert!(
        text.contains(&format!("\ntern_records_dropped_total {past}\n")),
        "{text}"
    );
    assert_eq!(batcher.dropped(), past as u64);
}

#[test]
fn a_changed_blob_file_is_refused() {
    let (dir, store) = open();
    let sha = store.put_blob(b"\0asm module").unwrap();
    let path = dir
        .path()
        .join("data/blobs/sha256")
        .join(&sha[..2])
        .join(&sha);
    std::fs::write(&path, b"tampered").unwrap();
    assert!(matches!(store.get_blob(&sha), Err(StoreError::Corrupt(_))));
    assert_eq!(store.verify_blobs().unwrap(), Vec::<String>::new());
    store
        .create_handler(
            "h",
            NewVersion {
                module_sha256: sha.clone(),
                config: "{}".into(),
                retention: None,
            },
        )
        .unwrap();
    assert_eq!(store.verify_blobs().unwrap(), [sha]);
}

#[test]
fn leftover_temp_files_are_removed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(SqliteStore::open(&data).unwrap());
    std::fs::write(data.join("blobs/tmp/half-written"), b"x").unwrap();
    drop(SqliteStore::open(&data).unwrap());
    assert_eq!(
        std::fs::read_dir(data.join("blobs/tmp")).unwrap().count(),
        0
    );
}

#[test]
fn garbage_collection_removes_unreferenced_blobs() {
    let (_dir, store) = open();
    store
        .create_handler("hello", version(&store, b"one"))
        .unwrap();
    store.add_version("hello", version(&store, b"two")).unwrap();
    // A refused deploy leaves its blob behind.
    assert!(store.add_version("nope", version(&store, b"x")).is_err());
    store
        .create_handler("kept", version(&store, b"kept"))
        .unwrap();
    assert_eq!(store.collect_garbage().unwrap(), 1);
    store.delete_handler("hello").unwrap();
    // "one" and "two" are now unreferenced; "kept" stays.
    assert_eq!(store.collect_garbage().unwrap(), 2);
    assert_eq!(store.get_blob(&sha256_hex(b"kept")).unwrap(), b"kept");
}

#[test]
fn state_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = SqliteStore::open(&data).unwrap();
    store
        .create_handler("hello", version(&store, b"one"))
        .unwrap();
    let job = store
        .enqueue("hello", b"input", Some("text/plain"))
        .unwrap();
    let (token, secret) = store.create_token("ci", Scope::Deploy).unwrap();
    drop(store);
    let store = SqliteStore::open(&data).unwrap();
    assert_eq!(store.handler("hello").unwrap().live_version, 1);
    assert!(matches!(
        store.run_state(&job).unwrap(),
        RunState::Queued { .. }
    ));
    assert_eq!(store.authenticate(&secret).unwrap().unwrap().id, token.id);
    assert!(store.verify_blobs().unwrap().is_empty());
}

/// The server died during a run: after reopening, the job is queued again, its starts counted;
/// a job that keeps killing the server fails after MAX_ATTEMPTS starts.
#[test]
fn running_jobs_are_recovered_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = SqliteStore::open(&data).unwrap();
    store.create_handler("h", version(&store, b"m")).unwrap();
    let id = store.enqueue("h", b"a", None).unwrap();
    let job = store.claim_job().unwrap().unwrap();
    assert_eq!((job.id.as_str(), job.attempts), (id.as_str(), 1));
    drop(store);
    let store = SqliteStore::open(&data).unwrap();
    assert_eq!(store.recover_jobs().unwrap(), 1);
    for attempt in 2..=MAX_ATTEMPTS {
        let again = store.claim_job().unwrap().unwrap();
        assert_eq!((again.id.as_str(), again.attempts), (id.as_str(), attempt));
        assert_eq!(store.recover_jobs().unwrap(), 1);
    }
    match store.run_state(&id).unwrap() {
        RunState::Finished(r) => assert!(r.ended.starts_with("failed"), "{}", r.ended),
        other => panic!("expected failed, got {other:?}"),
    }
    assert!(store.claim_job().unwrap().is_none());
}

#[test]
fn scopes_include_the_ones_before() {
    assert!(Scope::Admin.allows(Scope::Deploy) && Scope::Deploy.allows(Scope::Read));
    assert!(!Scope::Read.allows(Scope::Deploy) && !Scope::Deploy.allows(Scope::Admin));
}

#[test]
fn the_secret_is_not_in_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = SqliteStore::open(&data).unwrap();
    let (_, secret) = store.create_token("x", Scope::Admin).unwrap();
    drop(store);
    let secret_part = secret.rsplit('_').next().unwrap();
    for entry in std::fs::read_dir(&data).unwrap().flatten() {
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(secret_part), "{:?}", entry.path());
        }
    }
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(SqliteStore::open(&data).unwrap());
    let conn = rusqlite::Connection::open(data.join("tern.db")).unwrap();
    conn.execute(
        "INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)",
        [],
    )
    .unwrap();
    drop(conn);
    let err = SqliteStore::open(&data).err().unwrap();
    assert!(err.to_string().contains("newer tern"), "{err}");
}
