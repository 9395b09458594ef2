//! Three real `tern serve --store postgres://…` nodes (target/debug/tern, from
//! `cargo build -p tern-cli`) on one database.

use crate::control::{api, deploy, get, request, responder};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use tern_serve::store::{PostgresStore, Scope, Store};

/// The issue's promise: a change committed on one node is served by every node within this.
const PROPAGATION: Duration = Duration::from_secs(1);

fn tern_bin() -> PathBuf {
    let bin = std::env::var_os("TERN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/tern"));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p tern-cli` first (serve/tests/pg/run.sh does)",
        bin.display()
    );
    bin
}

/// One `tern serve` process.
struct TernNode {
    child: Child,
    http: SocketAddr,
    api: SocketAddr,
    /// Its name in job leases.
    id: String,
    /// What it wrote on stderr after it started.
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl TernNode {
    fn start(url: &str) -> TernNode {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(tern_bin())
            .args(["serve", "--store", url, "--data"])
            .arg(dir.path())
            .args(["--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting tern serve");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let (mut http, mut api, mut id) = (None, None, None);
        while http.is_none() || api.is_none() || id.is_none() {
            let line = lines
                .next()
                .expect("tern serve exited before it was ready")
                .unwrap();
            let addr = |l: &str| {
                l.rsplit("http://")
                    .next()
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
                    .parse()
                    .ok()
            };
            if line.contains("listening on http://") {
                http = addr(&line);
            } else if line.contains("control plane API") && line.contains("http://") {
                api = addr(&line);
            } else if let Some(rest) = line.strip_prefix("tern serve: cluster node ") {
                id = rest.split(' ').next().map(str::to_string);
            }
        }
        // Keep draining stderr so the node never blocks on a full pipe; shown with --nocapture.
        let shown = http.unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                eprintln!("[node {shown}] {line}");
                kept.lock().unwrap().push(line);
            }
        });
        TernNode {
            child,
            http: http.unwrap(),
            api: api.unwrap(),
            id: id.unwrap(),
            log,
            _dir: dir,
        }
    }

    /// The first line of its stderr containing `text`.
    fn logged(&self, text: &str) -> Option<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains(text))
            .cloned()
    }

    /// Sends SIGTERM and waits up to `limit` for the node to exit; returns how long it took, or
    /// `None` if it was still running (it is killed then).
    fn terminate(&mut self, limit: Duration) -> Option<Duration> {
        shell(&format!("kill -TERM {}", self.child.id()));
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.child.try_wait().unwrap().is_some() {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        None
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for TernNode {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh database, an admin token on it, and three nodes.
fn cluster() -> Option<(String, String, Vec<TernNode>)> {
    cluster_of(3)
}

/// A fresh database, an admin token on it, and `n` nodes.
fn cluster_of(n: usize) -> Option<(String, String, Vec<TernNode>)> {
    let url = super::postgres_url()?;
    let db = super::fresh_database(&url);
    let (_, token) = PostgresStore::open(&db)
        .unwrap()
        .create_token("test", Scope::Admin)
        .unwrap();
    // Started together: they race for the schema migration too.
    let starting: Vec<_> = (0..n)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || TernNode::start(&db))
        })
        .collect();
    let nodes = starting.into_iter().map(|t| t.join().unwrap()).collect();
    Some((db, token, nodes))
}

/// Deploys the `hello` responder answering "v1" through the first node and waits until every node
/// serves it.
fn deploy_hello_v1_everywhere(nodes: &[TernNode], token: &str) {
    let r = deploy(nodes[0].api, token, "hello", &responder("v1"), None);
    assert!(r.status < 300, "{} {}", r.status, r.body);
    served_everywhere(
        &nodes.iter().collect::<Vec<_>>(),
        "/hello/x",
        "v1",
        Duration::from_secs(5),
    );
}

/// Waits until every node in `nodes` answers `path` with `body`; returns how long that took.
fn served_everywhere(nodes: &[&TernNode], path: &str, body: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    for node in nodes {
        loop {
            let r = get(node.http, path);
            if r.status == 200 && r.body == body {
                break;
            }
            assert!(
                start.elapsed() < limit,
                "node {} still answers {} {:?} after {:?}, expected {body:?}",
                node.http,
                r.status,
                r.body,
                start.elapsed()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    start.elapsed()
}

#[test]
fn postgres_a_deploy_through_one_node_is_served_by_all_within_a_second() {
    let Some((_db, token, nodes)) = cluster() else {
        return;
    };
    let [a, b, c] = [&nodes[0], &nodes[1], &nodes[2]];
    let r = deploy(a.api, &token, "hello", &responder("v1"), None);
    assert!(r.status < 300, "{} {}", r.status, r.body);
    let took = served_everywhere(&[a, b, c], "/hello/x", "v1", PROPAGATION);
    eprintln!("first deploy served by 3 nodes after {took:?}");

    let r = deploy(a.api, &token, "hello", &responder("v2"), None);
    assert!(r.status < 300, "{} {}", r.status, r.body);
    let took = served_everywhere(&[b, c], "/hello/x", "v2", PROPAGATION);
    eprintln!("new version served by the other nodes after {took:?}");

    // A rollback through another node, likewise.
    let r = api(b.api, "POST", "/v1/handlers/hello/rollback", &token, b"");
    assert_eq!(r.status, 200, "{}", r.body);
    let took = served_everywhere(&[a, c], "/hello/x", "v1", PROPAGATION);
    eprintln!("rollback served by the other nodes after {took:?}");

    // A delete, likewise: nobody serves it.
    let r = api(c.api, "DELETE", "/v1/handlers/hello", &token, b"");
    assert!(r.status < 300, "{} {}", r.status, r.body);
    let start = Instant::now();
    for node in [a, b] {
        while get(node.http, "/hello/x").status != 404 {
            assert!(start.elapsed() < PROPAGATION, "still served after a delete");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A guest that spins for a while (long enough to be killed during), then answers its input.
fn slow_echo() -> String {
    let head = "Content-Type: text/plain\n\n";
    format!(
        r#"(module
  (import "cwa" "io_get_stdin" (func $stdin (result i32)))
  (import "cwa" "io_get_stdout" (func $stdout (result i32)))
  (import "cwa" "resource_read" (func $read (param i32 i32 i32) (result i32)))
  (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "Content-Type: text/plain\n\n")
  (func (export "_start") (local $i i32) (local $n i32)
    (loop $spin
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $spin (i32.lt_u (local.get $i) (i32.const 500000))))
    (local.set $n (call $read (call $stdin) (i32.const 1024) (i32.const 1024)))
    (drop (call $write (call $stdout) (i32.const 0) (i32.const {})))
    (drop (call $write (call $stdout) (i32.const 1024) (local.get $n)))))"#,
        head.len()
    )
}

#[test]
fn postgres_async_runs_are_executed_once_across_nodes_while_one_is_killed() {
    let Some((db, token, mut nodes)) = cluster() else {
        return;
    };
    let r = deploy(
        nodes[0].api,
        &token,
        "slow",
        &slow_echo(),
        Some(r#"{"timeout":"60s"}"#),
    );
    assert!(r.status < 300, "{} {}", r.status, r.body);
    served_everywhere(
        &[&nodes[1], &nodes[2]],
        "/slow/x",
        "",
        Duration::from_secs(30),
    );
    let ids: Vec<String> = (0..12)
        .map(|i| {
            let r = api(
                nodes[0].api,
                "POST",
                "/v1/handlers/slow/invoke?async=1",
                &token,
                format!("run {i}").as_bytes(),
            );
            assert_eq!(r.status, 202, "{}", r.body);
            r.json()["run"].as_str().expect("a run id").to_string()
        })
        .collect();

    // Kill -9 a node other than A while it holds a run.
    let mut db_client = ::postgres::Client::connect(&db, ::postgres::NoTls).unwrap();
    let start = Instant::now();
    let victim = loop {
        let owners: Vec<String> = db_client
            .query("SELECT owner FROM jobs WHERE state = 'running'", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        if let Some(i) = (1..3).find(|&i| owners.contains(&nodes[i].id)) {
            break i;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no other node took a run"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    nodes[victim].kill();
    eprintln!("killed node {victim} ({}) during a run", nodes[victim].id);
    let survivor = nodes[if victim == 1 { 2 } else { 1 }].api;

    // Every run finishes, once: one record each, with its own output, and only the killed
    // node's run started twice.
    let (done_tx, done_rx) = mpsc::channel();
    for (i, id) in ids.iter().enumerate() {
        let (id, token, done) = (id.clone(), token.clone(), done_tx.clone());
        std::thread::spawn(move || {
            // Polled: one request per check, whichever node wrote the record.
            let record = loop {
                let r = api(survivor, "GET", &format!("/v1/runs/{id}"), &token, b"");
                let v = r.json();
                if v["state"] == "finished" {
                    break v;
                }
                std::thread::sleep(Duration::from_millis(100));
            };
            let _ = done.send((i, record));
        });
    }
    let mut restarted = 0;
    for _ in 0..ids.len() {
        let (i, record) = done_rx
            .recv_timeout(Duration::from_secs(120))
            .expect("every async run finishes");
        assert_eq!(record["status"], 200, "{record}");
        assert_eq!(record["ended"], "exited", "{record}");
        assert_eq!(record["detail"]["output"], format!("run {i}"), "{record}");
        let attempts = record["detail"]["attempts"].as_i64().unwrap();
        assert!(attempts == 1 || attempts == 2, "{record}");
        restarted += usize::from(attempts == 2);
    }
    assert!(
        (1..=2).contains(&restarted),
        "{restarted} runs were started twice"
    );
    let records: i64 = db_client
        .query_one("SELECT COUNT(*) FROM runs WHERE kind = 'async'", &[])
        .unwrap()
        .get(0);
    assert_eq!(records, ids.len() as i64);
    let left: i64 = db_client
        .query_one("SELECT COUNT(*) FROM jobs", &[])
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}

fn readyz(node: &TernNode) -> u16 {
    request(node.http, "GET", "/readyz", None, &[], b"")
        .map(|r| r.status)
        .unwrap_or(0)
}

fn shell(command: &str) {
    let status = Command::new("sh").arg("-c").arg(command).status().unwrap();
    assert!(status.success(), "{command}");
}

#[test]
fn postgres_losing_the_database_keeps_serving_and_reports_not_ready() {
    let Some(pg) = pg_control() else {
        return skipped_without_pg_control();
    };
    let Some((_db, token, nodes)) = cluster() else {
        return;
    };
    deploy_hello_v1_everywhere(&nodes, &token);

    shell(&pg.stop);
    let restart = scopeguard(pg.start.clone());
    let t = Instant::now();
    for node in &nodes {
        while readyz(node) != 503 {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "a node stays ready without its database"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let r = get(node.http, "/hello/x");
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, "v1"),
            "serving without the database"
        );
    }
    // A deploy cannot be stored: refused, not accepted and lost.
    let r = deploy(nodes[1].api, &token, "hello", &responder("v2"), None);
    assert!(r.status >= 500, "{} {}", r.status, r.body);

    drop(restart); // starts PostgreSQL again
    let t = Instant::now();
    for node in &nodes {
        while readyz(node) != 200 {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "a node did not reconnect"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let r = deploy(nodes[1].api, &token, "hello", &responder("v2"), None);
    assert!(r.status < 300, "{} {}", r.status, r.body);
    served_everywhere(
        &nodes.iter().collect::<Vec<_>>(),
        "/hello/x",
        "v2",
        PROPAGATION,
    );
}

/// Runs `command` when dropped: PostgreSQL is started again even if an assertion failed.
struct Restart(String);

fn scopeguard(command: String) -> Restart {
    Restart(command)
}

impl Drop for Restart {
    fn drop(&mut self) {
        let _ = Command::new("sh").arg("-c").arg(&self.0).status();
    }
}

/// The commands that stop, start, freeze and thaw the test cluster (serve/tests/pg/cluster.sh).
struct PgControl {
    stop: String,
    start: String,
    freeze: String,
    thaw: String,
}

fn pg_control() -> Option<PgControl> {
    let var = |name: &str| std::env::var(name).ok();
    let control = PgControl {
        stop: var("TERN_TEST_PG_STOP")?,
        start: var("TERN_TEST_PG_START")?,
        freeze: var("TERN_TEST_PG_FREEZE")?,
        thaw: var("TERN_TEST_PG_THAW")?,
    };
    Some(control)
}

fn skipped_without_pg_control() {
    eprintln!(
        "skipped: TERN_TEST_PG_STOP/START/FREEZE/THAW not set (serve/tests/pg/run.sh sets them)"
    );
}

/// Waits until `node` answers /readyz with `status`.
fn until_ready_is(node: &TernNode, status: u16, limit: Duration) {
    let t = Instant::now();
    while readyz(node) != status {
        assert!(
            t.elapsed() < limit,
            "node {} does not answer /readyz {status} after {limit:?}",
            node.http
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The number in a node's "N invocation record(s) not stored" line.
fn not_stored(node: &TernNode) -> Option<u64> {
    let line = node.logged("not stored")?;
    let (_, rest) = line.split_once("shutting down: ")?;
    rest.split(' ').next()?.parse().ok()
}

/// The default shutdown grace of `tern serve` (no --config here).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// SIGTERM while the database is down, then while it hangs: the node ends within its shutdown
/// grace, in-flight work done, and says how many records it could not store.
#[test]
fn postgres_sigterm_without_the_database_ends_within_the_grace() {
    let Some(pg) = pg_control() else {
        return skipped_without_pg_control();
    };
    let Some((_db, token, mut nodes)) = cluster_of(2) else {
        return;
    };
    deploy_hello_v1_everywhere(&nodes, &token);

    // Stopped: connections are refused.
    shell(&pg.stop);
    let restart = scopeguard(pg.start.clone());
    until_ready_is(&nodes[0], 503, Duration::from_secs(10));
    for _ in 0..5 {
        assert_eq!(get(nodes[0].http, "/hello/x").status, 200);
    }
    let took = nodes[0].terminate(SHUTDOWN_GRACE + Duration::from_secs(5));
    eprintln!("SIGTERM with the database stopped: exited after {took:?}");
    assert!(took.is_some(), "the node did not end after SIGTERM");
    let lost = not_stored(&nodes[0]).expect("a line saying how many records were not stored");
    assert!(
        lost >= 5,
        "{lost} records not stored, expected the 5 served meanwhile"
    );
    drop(restart);

    // Frozen: connections stay open and nothing answers.
    until_ready_is(&nodes[1], 200, Duration::from_secs(20));
    shell(&pg.freeze);
    let _thaw = scopeguard(pg.thaw.clone());
    for _ in 0..3 {
        assert_eq!(get(nodes[1].http, "/hello/x").status, 200);
    }
    until_ready_is(&nodes[1], 503, Duration::from_secs(20));
    let took = nodes[1].terminate(SHUTDOWN_GRACE + Duration::from_secs(5));
    eprintln!("SIGTERM with the database frozen: exited after {took:?}");
    assert!(
        took.is_some(),
        "the node hung after SIGTERM on a frozen database"
    );
    let lost = not_stored(&nodes[1]).expect("a line saying how many records were not stored");
    assert!(
        lost >= 3,
        "{lost} records not stored, expected the 3 served meanwhile"
    );
}

/// Requests served while the database is down are recorded once it is back.
#[test]
fn postgres_records_made_without_the_database_are_stored_when_it_is_back() {
    let Some(pg) = pg_control() else {
        return skipped_without_pg_control();
    };
    let Some((db, token, nodes)) = cluster_of(1) else {
        return;
    };
    let node = &nodes[0];
    let r = deploy(node.api, &token, "hello", &responder("v1"), None);
    assert!(r.status < 300, "{} {}", r.status, r.body);
    served_everywhere(&[node], "/hello/x", "v1", Duration::from_secs(5));

    shell(&pg.stop);
    let restart = scopeguard(pg.start.clone());
    until_ready_is(node, 503, Duration::from_secs(10));
    let ids: Vec<String> = (0..20)
        .map(|_| {
            let r = get(node.http, "/hello/x");
            assert_eq!(r.status, 200);
            r.run_id.expect("X-Tern-Run-Id")
        })
        .collect();
    drop(restart); // starts PostgreSQL again
    until_ready_is(node, 200, Duration::from_secs(20));

    let mut db_client = ::postgres::Client::connect(&db, ::postgres::NoTls).unwrap();
    let t = Instant::now();
    loop {
        let stored: i64 = db_client
            .query_one("SELECT COUNT(*) FROM runs WHERE id = ANY($1)", &[&ids])
            .unwrap()
            .get(0);
        if stored == ids.len() as i64 {
            eprintln!(
                "records stored {:?} after the database came back",
                t.elapsed()
            );
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{stored} of {} records served without the database were stored",
            ids.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `logs?follow=1` on one node shows the runs served by another.
#[test]
fn postgres_a_follow_on_one_node_shows_runs_on_another() {
    let Some((_db, token, nodes)) = cluster_of(2) else {
        return;
    };
    let (a, b) = (&nodes[0], &nodes[1]);
    let r = deploy(a.api, &token, "hello", &responder("v1"), None);
    assert!(r.status < 300, "{} {}", r.status, r.body);
    // Only B serves requests: A writes no records of its own that could wake its followers.
    served_everywhere(&[b], "/hello/x", "v1", Duration::from_secs(5));

    let (lines_tx, lines) = mpsc::channel::<String>();
    let url = format!("http://{}/v1/handlers/hello/logs?follow=1", a.api);
    let follow = crate::control::agent()
        .get(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("logs?follow=1");
    assert_eq!(follow.status(), 200);
    std::thread::spawn(move || {
        let reader = BufReader::new(follow.into_body().into_reader());
        for line in reader.lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    for i in 0..3 {
        let r = get(b.http, "/hello/x");
        assert_eq!(r.status, 200);
        let id = r.run_id.expect("X-Tern-Run-Id");
        let t = Instant::now();
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(10).saturating_sub(t.elapsed()))
                .unwrap_or_else(|_| {
                    panic!("run {i} ({id}) on node B not shown by a follow on node A")
                });
            if line.contains(&id) {
                eprintln!("run {i} on B shown on A's follow after {:?}", t.elapsed());
                break;
            }
        }
    }
}
