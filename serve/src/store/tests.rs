//! Store tests on real temp directories.

use super::*;
use std::sync::Arc;

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("data")).unwrap();
    (dir, store)
}

fn version(store: &SqliteStore, module: &[u8], config: &str) -> NewVersion {
    NewVersion {
        module_sha256: store.put_blob(module).unwrap(),
        config: config.to_string(),
        retention: None,
    }
}

fn record(id: &str, handler: &str, finished_at: Millis) -> RunRecord {
    RunRecord {
        seq: 0,
        id: id.to_string(),
        handler: handler.to_string(),
        version: 1,
        kind: RunKind::Http,
        status: 200,
        ended: "exited(0)".into(),
        created_at: finished_at,
        finished_at,
        wall_ms: 1,
        logs: format!("log of {id}\n"),
        detail: serde_json::json!({"path": "/"}),
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

#[test]
fn blobs_are_content_addressed_and_verified() {
    let (dir, store) = open();
    let sha = store.put_blob(b"\0asm module").unwrap();
    assert_eq!(sha, sha256_hex(b"\0asm module"));
    assert_eq!(store.put_blob(b"\0asm module").unwrap(), sha);
    assert_eq!(store.get_blob(&sha).unwrap(), b"\0asm module");
    let path = dir
        .path()
        .join("data/blobs/sha256")
        .join(&sha[..2])
        .join(&sha);
    std::fs::write(&path, b"tampered").unwrap();
    assert!(matches!(store.get_blob(&sha), Err(StoreError::Corrupt(_))));
    assert!(matches!(
        store.get_blob(&"0".repeat(64)),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.get_blob("../../etc/passwd"),
        Err(StoreError::Invalid(_))
    ));
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
fn versions_rollback_and_delete() {
    let (_dir, store) = open();
    let v1 = store
        .create_handler("hello", version(&store, b"one", "{\"v\":1}"))
        .unwrap();
    assert_eq!(v1.version, 1);
    assert!(matches!(
        store.create_handler("hello", version(&store, b"one", "{}")),
        Err(StoreError::Conflict(_))
    ));
    let v2 = store
        .add_version("hello", version(&store, b"two", "{\"v\":2}"))
        .unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(store.handler("hello").unwrap().live_version, 2);
    store.set_live("hello", 1).unwrap();
    assert_eq!(store.handler("hello").unwrap().live_version, 1);
    assert!(matches!(
        store.set_live("hello", 9),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.versions("hello").unwrap().len(), 2);
    assert_eq!(store.version("hello", 2).unwrap().config, "{\"v\":2}");
    assert!(matches!(
        store.add_version("nope", version(&store, b"x", "{}")),
        Err(StoreError::NotFound(_))
    ));
    store.delete_handler("hello").unwrap();
    assert!(store.list_handlers().unwrap().is_empty());
    assert!(matches!(
        store.delete_handler("hello"),
        Err(StoreError::NotFound(_))
    ));
    // "one", "two" and the refused deploy's "x" are now unreferenced.
    assert_eq!(store.collect_garbage().unwrap(), 3);
}

#[test]
fn bad_names_are_refused() {
    let (_dir, store) = open();
    for name in ["", "Hello", "-x", "a/b", &"x".repeat(64)] {
        assert!(matches!(
            store.create_handler(name, version(&store, b"m", "{}")),
            Err(StoreError::Invalid(_))
        ));
    }
}

#[test]
fn state_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = SqliteStore::open(&data).unwrap();
    store
        .create_handler("hello", version(&store, b"one", "{}"))
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

#[test]
fn records_are_kept_by_count_and_age() {
    let (_dir, store) = open();
    let mut v = version(&store, b"m", "{}");
    v.retention = Some(Retention {
        keep_runs: 3,
        keep_days: 1,
    });
    store.create_handler("h", v).unwrap();
    let now = now_ms();
    let records: Vec<_> = (0..5).map(|i| record(&format!("r{i}"), "h", now)).collect();
    store.append_runs(&records).unwrap();
    let kept = store.runs("h", 0, None, 100).unwrap();
    let ids: Vec<_> = kept.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r2", "r3", "r4"]);
    assert_eq!(kept[0].detail, serde_json::json!({"path": "/"}));
    // since= continues after a seq; run= picks one.
    assert_eq!(store.runs("h", kept[1].seq, None, 100).unwrap().len(), 1);
    assert_eq!(store.runs("h", 0, Some("r3"), 100).unwrap()[0].id, "r3");
    let recent: Vec<_> = store
        .recent_runs("h", 2)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(recent, ["r4", "r3"]);
    // Two days later, all are past the age limit.
    assert_eq!(store.prune_runs(now + 2 * 86_400_000).unwrap(), 3);
    assert!(store.runs("h", 0, None, 100).unwrap().is_empty());
}

#[test]
fn async_queue_is_durable_and_recovers_running_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = SqliteStore::open(&data).unwrap();
    store
        .create_handler("h", version(&store, b"m", "{}"))
        .unwrap();
    let a = store.enqueue("h", b"a", None).unwrap();
    let b = store.enqueue("h", b"b", None).unwrap();
    assert!(matches!(
        store.enqueue("missing", b"", None),
        Err(StoreError::NotFound(_))
    ));
    let job = store.claim_job().unwrap().unwrap();
    assert_eq!((job.id.as_str(), job.attempts), (a.as_str(), 1));
    assert!(matches!(
        store.run_state(&a).unwrap(),
        RunState::Running { .. }
    ));
    // The server dies during the run: after reopening, the job is queued again.
    drop(store);
    let store = SqliteStore::open(&data).unwrap();
    assert_eq!(store.recover_jobs().unwrap(), 1);
    let again = store.claim_job().unwrap().unwrap();
    assert_eq!((again.id.as_str(), again.attempts), (a.as_str(), 2));
    // Released by a stopping server: queued again, that start not counted.
    store.release_job(&a).unwrap();
    let again = store.claim_job().unwrap().unwrap();
    assert_eq!((again.id.as_str(), again.attempts), (a.as_str(), 2));
    let mut rec = record(&a, "h", now_ms());
    rec.kind = RunKind::Async;
    rec.status = 500;
    rec.ended = "trapped: unreachable".into();
    store.finish_job(&rec).unwrap();
    match store.run_state(&a).unwrap() {
        RunState::Finished(r) => assert_eq!(r.ended, "trapped: unreachable"),
        other => panic!("expected finished, got {other:?}"),
    }
    // A job that keeps killing the server fails after MAX_ATTEMPTS starts.
    for _ in 0..MAX_ATTEMPTS {
        let j = store.claim_job().unwrap().unwrap();
        assert_eq!(j.id, b);
        store.recover_jobs().unwrap();
    }
    match store.run_state(&b).unwrap() {
        RunState::Finished(r) => assert!(r.ended.starts_with("failed"), "{}", r.ended),
        other => panic!("expected failed, got {other:?}"),
    }
    assert!(store.claim_job().unwrap().is_none());
}

#[test]
fn queue_is_bounded() {
    let (_dir, store) = open();
    store
        .create_handler("h", version(&store, b"m", "{}"))
        .unwrap();
    for _ in 0..MAX_QUEUED_PER_HANDLER {
        store.enqueue("h", b"", None).unwrap();
    }
    assert!(matches!(
        store.enqueue("h", b"", None),
        Err(StoreError::QueueFull(_))
    ));
}

#[test]
fn tokens_authenticate_until_revoked() {
    let (_dir, store) = open();
    let (info, secret) = store.create_token("laptop", Scope::Deploy).unwrap();
    assert!(secret.starts_with("tern_"));
    assert_eq!(secret.len(), "tern_".len() + 16 + 1 + 64);
    let got = store.authenticate(&secret).unwrap().unwrap();
    assert_eq!(
        (got.id.as_str(), got.scope),
        (info.id.as_str(), Scope::Deploy)
    );
    // One changed character of the secret, an unknown id, garbage: all refused alike.
    let mut wrong = secret.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });
    assert!(store.authenticate(&wrong).unwrap().is_none());
    let unknown = format!("tern_{}{}", "0".repeat(16), &secret[21..]);
    assert!(store.authenticate(&unknown).unwrap().is_none());
    assert!(store.authenticate("").unwrap().is_none());
    assert!(store.authenticate("Bearer xyz").unwrap().is_none());
    // Stored as a hash only.
    assert!(store.list_tokens().unwrap().len() == 1);
    store.revoke_token(&info.id).unwrap();
    assert!(store.authenticate(&secret).unwrap().is_none());
    assert!(store.list_tokens().unwrap()[0].revoked_at.is_some());
    assert!(matches!(
        store.revoke_token(&info.id),
        Err(StoreError::NotFound(_))
    ));
    assert!(Scope::Admin.allows(Scope::Deploy) && !Scope::Read.allows(Scope::Deploy));
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
fn batcher_writes_on_flush_and_drop() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<SqliteStore> = Arc::new(SqliteStore::open(&dir.path().join("d")).unwrap());
    store
        .create_handler("h", version(&store, b"m", "{}"))
        .unwrap();
    let written = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let w = written.clone();
    let batcher = RecordBatcher::start(
        store.clone(),
        std::time::Duration::from_secs(3600),
        Box::new(move || {
            w.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }),
    );
    for i in 0..10 {
        batcher.push(record(&format!("r{i}"), "h", now_ms()));
    }
    batcher.flush();
    assert_eq!(store.runs("h", 0, None, 100).unwrap().len(), 10);
    assert_eq!(written.load(std::sync::atomic::Ordering::SeqCst), 1);
    batcher.push(record("last", "h", now_ms()));
    drop(batcher);
    assert_eq!(store.runs("h", 0, None, 100).unwrap().len(), 11);
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
