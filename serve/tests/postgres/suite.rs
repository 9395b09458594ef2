//! The store suite: what every [`Store`] must do, run on SQLite and on PostgreSQL alike.

use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tern_serve::store::{
    now_ms, sha256_hex, NewVersion, RecordBatcher, Retention, RunKind, RunRecord, RunState, Scope,
    SqliteStore, Store, StoreError, MAX_QUEUED_PER_HANDLER,
};

fn version(store: &dyn Store, module: &[u8], config: &str) -> NewVersion {
    NewVersion {
        module_sha256: store.put_blob(module).unwrap(),
        config: config.to_string(),
        retention: None,
    }
}

fn record(id: &str, handler: &str, finished_at: i64) -> RunRecord {
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
        detail: json!({"path": "/"}),
    }
}

/// Every check of the suite, each on a fresh store from `fresh`.
pub fn run_suite(fresh: &dyn Fn() -> Box<dyn Store>) {
    blobs_are_content_addressed(&*fresh());
    versions_rollback_and_delete(&*fresh());
    bad_names_are_refused(&*fresh());
    records_are_kept_by_count_and_age(&*fresh());
    async_queue_claims_releases_and_finishes(&*fresh());
    queue_is_bounded(&*fresh());
    tokens_authenticate_until_revoked(&*fresh());
    batcher_writes_on_flush_and_drop(fresh().into());
}

fn blobs_are_content_addressed(store: &dyn Store) {
    let sha = store.put_blob(b"\0asm module").unwrap();
    assert_eq!(sha, sha256_hex(b"\0asm module"));
    assert_eq!(store.put_blob(b"\0asm module").unwrap(), sha);
    assert_eq!(store.get_blob(&sha).unwrap(), b"\0asm module");
    assert!(matches!(
        store.get_blob(&"0".repeat(64)),
        Err(StoreError::NotFound(_))
    ));
    // Every store refuses a bad address before it names a file or a row, in the same words.
    match store.get_blob("../../etc/passwd") {
        Err(StoreError::Invalid(m)) => assert_eq!(
            m,
            "blob address \"../../etc/passwd\": not a sha256 in lower-case hex"
        ),
        other => panic!("{other:?}"),
    }
}

fn versions_rollback_and_delete(store: &dyn Store) {
    let v1 = store
        .create_handler("hello", version(store, b"one", "{\"v\":1}"))
        .unwrap();
    assert_eq!(v1.version, 1);
    assert!(matches!(
        store.create_handler("hello", version(store, b"one", "{}")),
        Err(StoreError::Conflict(_))
    ));
    let v2 = store
        .add_version("hello", version(store, b"two", "{\"v\":2}"))
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
    assert!(store.verify_blobs().unwrap().is_empty());
    assert!(matches!(
        store.add_version("nope", version(store, b"x", "{}")),
        Err(StoreError::NotFound(_))
    ));
    let names: Vec<_> = store
        .list_handlers()
        .unwrap()
        .into_iter()
        .map(|h| h.name)
        .collect();
    assert_eq!(names, ["hello"]);
    store.delete_handler("hello").unwrap();
    assert!(store.list_handlers().unwrap().is_empty());
    assert!(matches!(
        store.delete_handler("hello"),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.versions("hello"),
        Err(StoreError::NotFound(_))
    ));
}

fn bad_names_are_refused(store: &dyn Store) {
    for name in ["", "Hello", "-x", "a/b", &"x".repeat(64)] {
        assert!(matches!(
            store.create_handler(name, version(store, b"m", "{}")),
            Err(StoreError::Invalid(_))
        ));
    }
}

fn records_are_kept_by_count_and_age(store: &dyn Store) {
    let mut v = version(store, b"m", "{}");
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
    assert_eq!(kept[0].detail, json!({"path": "/"}));
    assert_eq!(kept[0].logs, "log of r2\n");
    assert_eq!(store.runs("h", kept[1].seq, None, 100).unwrap().len(), 1);
    assert_eq!(store.runs("h", 0, Some("r3"), 100).unwrap()[0].id, "r3");
    let recent: Vec<_> = store
        .recent_runs("h", 2)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(recent, ["r4", "r3"]);
    match store.run_state("r4").unwrap() {
        RunState::Finished(r) => assert_eq!(r.status, 200),
        other => panic!("expected finished, got {other:?}"),
    }
    assert_eq!(store.prune_runs(now + 2 * 86_400_000).unwrap(), 3);
    assert!(store.runs("h", 0, None, 100).unwrap().is_empty());
}

fn async_queue_claims_releases_and_finishes(store: &dyn Store) {
    store
        .create_handler("h", version(store, b"m", "{}"))
        .unwrap();
    let a = store.enqueue("h", b"a", Some("text/plain")).unwrap();
    let b = store.enqueue("h", b"b", None).unwrap();
    assert!(matches!(
        store.enqueue("missing", b"", None),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.run_state(&a).unwrap(),
        RunState::Queued { .. }
    ));
    let job = store.claim_job().unwrap().unwrap();
    assert_eq!((job.id.as_str(), job.attempts), (a.as_str(), 1));
    assert_eq!(
        (job.input.as_slice(), job.content_type.as_deref()),
        (&b"a"[..], Some("text/plain"))
    );
    assert!(matches!(
        store.run_state(&a).unwrap(),
        RunState::Running { .. }
    ));
    // Released by a stopping server: queued again, that start not counted.
    store.release_job(&a).unwrap();
    let again = store.claim_job().unwrap().unwrap();
    assert_eq!((again.id.as_str(), again.attempts), (a.as_str(), 1));
    let mut rec = record(&a, "h", now_ms());
    rec.kind = RunKind::Async;
    rec.status = 500;
    rec.ended = "trapped: unreachable".into();
    store.finish_job(&rec).unwrap();
    match store.run_state(&a).unwrap() {
        RunState::Finished(r) => assert_eq!(
            (r.ended.as_str(), r.kind),
            ("trapped: unreachable", RunKind::Async)
        ),
        other => panic!("expected finished, got {other:?}"),
    }
    let next = store.claim_job().unwrap().unwrap();
    assert_eq!(next.id, b);
    assert!(store.claim_job().unwrap().is_none());
    assert!(matches!(
        store.run_state("nope"),
        Err(StoreError::NotFound(_))
    ));
}

fn queue_is_bounded(store: &dyn Store) {
    store
        .create_handler("h", version(store, b"m", "{}"))
        .unwrap();
    for _ in 0..MAX_QUEUED_PER_HANDLER {
        store.enqueue("h", b"", None).unwrap();
    }
    assert!(matches!(
        store.enqueue("h", b"", None),
        Err(StoreError::QueueFull(_))
    ));
}

fn tokens_authenticate_until_revoked(store: &dyn Store) {
    let (info, secret) = store.create_token("laptop", Scope::Deploy).unwrap();
    assert!(secret.starts_with("tern_"));
    assert_eq!(secret.len(), "tern_".len() + 16 + 1 + 64);
    let got = store.authenticate(&secret).unwrap().unwrap();
    assert_eq!(
        (got.id.as_str(), got.scope),
        (info.id.as_str(), Scope::Deploy)
    );
    let mut wrong = secret.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });
    assert!(store.authenticate(&wrong).unwrap().is_none());
    // An unknown id and garbage: refused alike.
    let unknown = format!("tern_{}{}", "0".repeat(16), &secret[21..]);
    assert!(store.authenticate(&unknown).unwrap().is_none());
    assert!(store.authenticate("").unwrap().is_none());
    assert!(store.authenticate("Bearer xyz").unwrap().is_none());
    assert_eq!(store.list_tokens().unwrap().len(), 1);
    store.revoke_token(&info.id).unwrap();
    assert!(store.authenticate(&secret).unwrap().is_none());
    assert!(store.list_tokens().unwrap()[0].revoked_at.is_some());
    assert!(matches!(
        store.revoke_token(&info.id),
        Err(StoreError::NotFound(_))
    ));
}

/// Records pushed to the batcher are written on flush (one batch, one callback), on the last
/// flush (`finish`: nothing left unstored) and on drop.
fn batcher_writes_on_flush_and_drop(store: Arc<dyn Store>) {
    store
        .create_handler("h", version(&*store, b"m", "{}"))
        .unwrap();
    let written = Arc::new(AtomicUsize::new(0));
    let w = written.clone();
    let batcher = RecordBatcher::start(
        store.clone(),
        Duration::from_secs(3600),
        Box::new(move || {
            w.fetch_add(1, Ordering::SeqCst);
        }),
        Default::default(),
    );
    for i in 0..10 {
        batcher.push(record(&format!("r{i}"), "h", now_ms()));
    }
    batcher.flush();
    assert_eq!(store.runs("h", 0, None, 100).unwrap().len(), 10);
    assert_eq!(written.load(Ordering::SeqCst), 1);
    batcher.push(record("finished", "h", now_ms()));
    assert_eq!(batcher.finish(Instant::now() + Duration::from_secs(5)), 0);
    assert_eq!(store.runs("h", 0, None, 100).unwrap().len(), 11);
    batcher.push(record("last", "h", now_ms()));
    drop(batcher);
    assert_eq!(store.runs("h", 0, None, 100).unwrap().len(), 12);
}

#[test]
fn sqlite_passes_the_store_suite() {
    let dir = tempfile::tempdir().unwrap();
    let n = std::cell::Cell::new(0);
    run_suite(&|| {
        n.set(n.get() + 1);
        Box::new(SqliteStore::open(&dir.path().join(n.get().to_string())).unwrap())
    });
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_passes_the_store_suite() {
    use tern_serve::store::PostgresStore;
    let Some(url) = super::postgres_url() else {
        return;
    };
    run_suite(&|| Box::new(PostgresStore::open(&super::fresh_database(&url)).unwrap()));
}

/// Blobs are checked on load: a row whose bytes were changed is refused.
#[cfg(feature = "postgres")]
#[test]
fn postgres_blobs_are_verified_on_load() {
    use tern_serve::store::PostgresStore;
    let Some(url) = super::postgres_url() else {
        return;
    };
    let db = super::fresh_database(&url);
    let store = PostgresStore::open(&db).unwrap();
    let sha = store.put_blob(b"\0asm module").unwrap();
    let mut c = ::postgres::Client::connect(&db, ::postgres::NoTls).unwrap();
    c.execute("UPDATE blobs SET bytes = 'tampered'::bytea", &[])
        .unwrap();
    match store.get_blob(&sha) {
        Err(StoreError::Corrupt(m)) => assert_eq!(
            m,
            format!(
                "module blob {sha} has content hashing to {}",
                sha256_hex(b"tampered")
            )
        ),
        other => panic!("{other:?}"),
    }
}

/// Two nodes on one database: a job is taken by one of them only; when its lease runs out (its
/// node died), the other takes it over, counting the start; after MAX_ATTEMPTS it fails.
#[cfg(feature = "postgres")]
#[test]
fn postgres_jobs_are_taken_once_and_taken_over_after_the_lease() {
    use tern_serve::store::{PostgresStore, MAX_ATTEMPTS};
    let Some(url) = super::postgres_url() else {
        return;
    };
    let db = super::fresh_database(&url);
    let (a, b) = (
        PostgresStore::open(&db).unwrap(),
        PostgresStore::open(&db).unwrap(),
    );
    a.create_handler("h", version(&a, b"m", "{}")).unwrap();
    let id = a.enqueue("h", b"x", None).unwrap();
    let job = a.claim_job().unwrap().unwrap();
    assert_eq!(job.id, id);
    assert!(
        b.claim_job().unwrap().is_none(),
        "a leased job is not taken twice"
    );
    assert_eq!(a.renew_leases().unwrap(), 1);
    let expire = || {
        let mut c = ::postgres::Client::connect(&db, ::postgres::NoTls).unwrap();
        c.execute("UPDATE jobs SET lease_until = 0", &[]).unwrap();
    };
    expire();
    let taken = b.claim_job().unwrap().unwrap();
    assert_eq!((taken.id.as_str(), taken.attempts), (id.as_str(), 2));
    // The first node's late release does not take it back from the second.
    a.release_job(&id).unwrap();
    assert!(matches!(
        b.run_state(&id).unwrap(),
        RunState::Running { attempts: 2, .. }
    ));
    for _ in 2..MAX_ATTEMPTS {
        expire();
        b.claim_job().unwrap().unwrap();
    }
    expire();
    assert!(b.claim_job().unwrap().is_none());
    match a.run_state(&id).unwrap() {
        RunState::Finished(r) => assert!(r.ended.starts_with("failed"), "{}", r.ended),
        other => panic!("expected failed, got {other:?}"),
    }
}
