//! kill -9 of a node at random points during deploys, async runs and request load, round after
//! round on one data directory: after each, the store opens, every blob verifies, the handler is at
//! an acknowledged version, and no acknowledged deploy or accepted async run is lost.
//!
//! The node is this test binary run again as a child process (`node_process`), so SIGKILL hits a
//! real process holding the real files.

use super::{api, data_dir, deploy, echo, get, record_of, request, responder, Node};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tern_serve::store::{RunState, SqliteStore, Store, StoreError};

const ROUNDS: usize = 20;
const NODE_ENV: &str = "TERN_CONTROL_NODE_DATA";
const READY: &str = "tern-control-node-ready";

/// In the child: serve the data directory until killed. In a normal test run: nothing.
#[test]
fn node_process() {
    let Some(data) = std::env::var_os(NODE_ENV) else {
        return;
    };
    let node = Node::start(Path::new(&data));
    println!("{READY} {} {}", node.http, node.api);
    loop {
        std::thread::park();
    }
}

struct NodeProcess {
    child: Child,
    http: SocketAddr,
    api: SocketAddr,
}

fn spawn_node(data: &Path) -> NodeProcess {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "control::crash::node_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(NODE_ENV, data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the node process");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = loop {
        let line = lines
            .next()
            .expect("the node exited before it was ready")
            .unwrap();
        // libtest prints "test … ... " on the same line first.
        if let Some(at) = line.find(READY) {
            break line[at + READY.len()..].to_string();
        }
    };
    let mut parts = line.split_whitespace();
    let http = parts.next().unwrap().parse().unwrap();
    let api = parts.next().unwrap().parse().unwrap();
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    NodeProcess { child, http, api }
}

/// A small xorshift generator: random kill points without a dependency.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        eprintln!("crash test seed {seed}");
        Rng(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[derive(Default)]
struct Acknowledged {
    /// version → module sha256, for every deploy answered 200/201.
    deploys: BTreeMap<i64, String>,
    /// Every async run answered 202.
    runs: BTreeSet<String>,
}

#[test]
fn kill_nine_at_random_points_loses_nothing_acknowledged() {
    let data = data_dir();
    let token = data.admin.clone();
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let mut rng = Rng::new();
    let mut text_no = 0u64;
    for round in 0..ROUNDS {
        let mut node = spawn_node(&data.path);
        if round == 0 {
            // Retention would rightly delete the oldest finished runs once the handler has more
            // than the default 1,000 records (a quick machine passes that in 20 rounds); this test
            // asks whether an accepted run is ever lost, so it keeps them all.
            let keep_all = r#"{"retention": {"keep_runs": 1000000, "keep_days": 30}}"#;
            let r = deploy(node.api, &token, "crash", &echo(), Some(keep_all));
            assert_eq!(r.status, 201, "{}", r.body);
            let v = r.json();
            acked.lock().unwrap().deploys.insert(
                v["version"].as_i64().unwrap(),
                v["sha256"].as_str().unwrap().to_string(),
            );
        }
        let stop = Arc::new(AtomicBool::new(false));
        std::thread::scope(|s| {
            // Deploys: each new version is a module with a text of its own.
            let (api_addr, t, a, st) = (node.api, token.clone(), acked.clone(), stop.clone());
            let base = text_no;
            s.spawn(move || {
                let mut n = base;
                while !st.load(Ordering::Relaxed) {
                    n += 1;
                    let wat = if n & 1 == 0 {
                        echo()
                    } else {
                        responder(&format!("t{n}"))
                    };
                    let Ok(r) = request(
                        api_addr,
                        "PUT",
                        "/v1/handlers/crash",
                        Some(&t),
                        &[],
                        wat.as_bytes(),
                    ) else {
                        return;
                    };
                    if r.status == 200 || r.status == 201 {
                        let v = r.json();
                        a.lock().unwrap().deploys.insert(
                            v["version"].as_i64().unwrap(),
                            v["sha256"].as_str().unwrap().to_string(),
                        );
                    }
                }
            });
            // Async runs.
            let (api_addr, t, a, st) = (node.api, token.clone(), acked.clone(), stop.clone());
            s.spawn(move || {
                while !st.load(Ordering::Relaxed) {
                    let Ok(r) = request(
                        api_addr,
                        "POST",
                        "/v1/handlers/crash/invoke?async=1",
                        Some(&t),
                        &[],
                        b"job",
                    ) else {
                        return;
                    };
                    if r.status == 202 {
                        let id = r.json()["run"].as_str().unwrap().to_string();
                        a.lock().unwrap().runs.insert(id);
                    }
                }
            });
            // Request load on the handler port.
            let (http, st) = (node.http, stop.clone());
            s.spawn(move || {
                while !st.load(Ordering::Relaxed) {
                    if super::request(http, "GET", "/crash/", None, &[], b"").is_err() {
                        return;
                    }
                }
            });
            std::thread::sleep(Duration::from_millis(20 + rng.below(300)));
            node.child.kill().expect("kill -9"); // SIGKILL
            let _ = node.child.wait();
            stop.store(true, Ordering::Relaxed);
        });
        text_no += 1000;
        let so_far = acked.lock().unwrap();
        check_store(&data.path, &so_far, round);
        eprintln!(
            "round {round}: {} deploys, {} async runs acknowledged so far",
            so_far.deploys.len(),
            so_far.runs.len()
        );
        drop(so_far);
    }

    // Back up once more: every accepted run finishes (or fails after its attempts), none is lost.
    let node = spawn_node(&data.path);
    let acked = acked.lock().unwrap();
    assert!(
        !acked.runs.is_empty() && acked.deploys.len() > ROUNDS / 2,
        "too little happened"
    );
    eprintln!("final: waiting for {} runs", acked.runs.len());
    for id in &acked.runs {
        let rec = record_of(node.api, &token, "crash", id);
        assert_eq!(rec["kind"], "async", "{rec}");
    }
    let live = api(node.api, "GET", "/v1/handlers/crash", &token, b"").json();
    let newest_acked = *acked.deploys.keys().max().unwrap();
    assert!(
        live["live_version"].as_i64().unwrap() >= newest_acked,
        "{live}"
    );
    let r = get(node.http, "/crash/");
    assert_eq!(r.status, 200, "{}", r.body);
    let mut child = node.child;
    child.kill().unwrap();
    let _ = child.wait();
}

fn check_store(data: &Path, acked: &Acknowledged, round: usize) {
    let store = SqliteStore::open(data)
        .unwrap_or_else(|e| panic!("round {round}: the store does not open: {e}"));
    let bad = store.verify_blobs().unwrap();
    assert!(
        bad.is_empty(),
        "round {round}: blobs fail verification: {bad:?}"
    );
    let versions: BTreeMap<i64, String> = store
        .versions("crash")
        .unwrap()
        .into_iter()
        .map(|v| (v.version, v.module_sha256))
        .collect();
    for (v, sha) in &acked.deploys {
        assert_eq!(
            versions.get(v),
            Some(sha),
            "round {round}: acknowledged version {v} lost"
        );
    }
    let live = store.handler("crash").unwrap().live_version;
    assert!(
        versions.contains_key(&live),
        "round {round}: live version {live} has no row"
    );
    // The live version is the newest: deploys only go forward here.
    assert_eq!(Some(&live), versions.keys().max(), "round {round}");
    for id in &acked.runs {
        match store.run_state(id) {
            Ok(RunState::Queued { .. } | RunState::Running { .. } | RunState::Finished(_)) => {}
            Err(StoreError::NotFound(_)) => panic!("round {round}: accepted run {id} lost"),
            Err(e) => panic!("round {round}: {e}"),
        }
    }
}
