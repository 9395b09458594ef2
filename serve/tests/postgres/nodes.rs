//! Three real `tern serve --store postgres://…` nodes (target/debug/tern, from
//! `cargo build -p tern-cli`) on one database.

use crate::control::{api, deploy, get, request, responder};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
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
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                eprintln!("[node {shown}] {line}");
            }
        });
        TernNode {
            child,
            http: http.unwrap(),
            api: api.unwrap(),
            id: id.unwrap(),
            _dir: dir,
        }
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
    let url = super::postgres_url()?;
    let db = super::fresh_database(&url);
    let (_, token) = PostgresStore::open(&db)
        .unwrap()
        .create_token("test", Scope::Admin)
        .unwrap();
    // Started together: they race for the schema migration too.
    let starting: Vec<_> = (0..3)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || TernNode::start(&db))
        })
        .collect();
    let nodes = starting.into_iter().map(|t| t.join().unwrap()).collect();
    Some((db, token, nodes))
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
            // Polled: `logs?follow=1` wakes on this node's own record writes only.
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
    let (Ok(stop), Ok(start)) = (
        std::env::var("TERN_TEST_PG_STOP"),
        std::env::var("TERN_TEST_PG_START"),
    ) else {
        eprintln!("skipped: TERN_TEST_PG_STOP/START not set (serve/tests/pg/run.sh sets them)");
        return;
    };
    let Some((_db, token, nodes)) = cluster() else {
        return;
    };
    let r = deploy(nodes[0].api, &token, "hello", &responder("v1"), None);
    assert!(r.status < 300, "{} {}", r.status, r.body);
    served_everywhere(
        &nodes.iter().collect::<Vec<_>>(),
        "/hello/x",
        "v1",
        Duration::from_secs(5),
    );

    shell(&stop);
    let restart = scopeguard(start.clone());
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
