//! The control plane against real sockets on 127.0.0.1 and a real data directory: deploys served by
//! the handler server, versions, rollback, logs, sync and async invocations, tokens, hostile uploads,
//! concurrent deploys, restarts, and kill -9 in the middle of it all (crash.rs).

mod crash;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tern_serve::store::{Scope, SqliteStore, Store};
use tern_serve::{Options, ServeConfig, ServerSettings};

// ---------- guests (CommonWA, in WAT) ----------

/// Writes `data` at offset 0 and `n` bytes of it to the handle `handle_fn` returns.
fn cwa_module(body: &str, extra: &str) -> String {
    format!(
        r#"(module
  (import "cwa" "io_get_stdin" (func $stdin (result i32)))
  (import "cwa" "io_get_stdout" (func $stdout (result i32)))
  (import "cwa" "io_get_stderr" (func $stderr (result i32)))
  (import "cwa" "resource_read" (func $read (param i32 i32 i32) (result i32)))
  (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  {extra}
  (func (export "_start") {body}))"#
    )
}

fn wat_string(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('"', "\\\"")
}

/// Answers 200 with `text`, and logs `served TEXT` on stderr.
pub fn responder(text: &str) -> String {
    let out = format!("Content-Type: text/plain\n\n{text}");
    let log = format!("served {text}\n");
    cwa_module(
        &format!(
            "(drop (call $write (call $stdout) (i32.const 0) (i32.const {})))
             (drop (call $write (call $stderr) (i32.const 4096) (i32.const {})))",
            out.len(),
            log.len()
        ),
        &format!(
            "(data (i32.const 0) \"{}\") (data (i32.const 4096) \"{}\")",
            wat_string(&out),
            wat_string(&log)
        ),
    )
}

/// Answers 200 with its request body (up to 64 KiB).
pub fn echo() -> String {
    let head = "Content-Type: text/plain\n\n";
    cwa_module(
        &format!(
            "(local $n i32)
             (drop (call $write (call $stdout) (i32.const 0) (i32.const {})))
             (block $done (loop $more
               (local.set $n (call $read (call $stdin) (i32.const 1024) (i32.const 65536)))
               (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
               (drop (call $write (call $stdout) (i32.const 1024) (local.get $n)))
               (br $more)))",
            head.len()
        ),
        &format!("(data (i32.const 0) \"{}\")", wat_string(head)),
    )
}

/// Traps at once.
pub fn trapper() -> String {
    cwa_module("unreachable", "")
}

/// Imports a function tern does not provide.
fn bad_import() -> &'static str {
    r#"(module (import "cwa" "no_such_call" (func)) (func (export "_start")))"#
}

// ---------- a node: the server with its control plane ----------

/// `tern serve --data DIR` in this process: the handler server (no handlers of its own) and the API.
pub struct Node {
    running: Option<tern_serve::Running>,
    attached: Option<tern_serve::api::Attached>,
    /// The handler port.
    pub http: SocketAddr,
    /// The API port.
    pub api: SocketAddr,
}

impl Node {
    pub fn start(data: &Path) -> Node {
        Node::start_with(
            data,
            ServeConfig {
                server: ServerSettings::default(),
                handlers: Vec::new(),
            },
        )
    }

    /// A node that also serves the handlers of `config` (a tern.toml's).
    pub fn start_with(data: &Path, mut config: ServeConfig) -> Node {
        config.server.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.server.workers = 2;
        let running = tern_serve::start(config, Options::default()).expect("starting the server");
        let attached =
            tern_serve::api::attach(&running, data, SocketAddr::from(([127, 0, 0, 1], 0)))
                .expect("starting the control plane");
        Node {
            http: running.addr(),
            api: attached.addr(),
            running: Some(running),
            attached: Some(attached),
        }
    }

    /// Stops the server, then the API (pending records are written).
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// The server first: its runs finish and hand over their records, which the control plane's
    /// stop then writes (as `tern serve` does on SIGTERM).
    fn shutdown(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown();
            r.wait();
        }
        if let Some(a) = self.attached.take() {
            a.stop();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A data directory with an admin token.
pub struct Data {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub admin: String,
}

pub fn data_dir() -> Data {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tern-data");
    let store = SqliteStore::open(&path).unwrap();
    let (_, admin) = store.create_token("test", Scope::Admin).unwrap();
    Data {
        _dir: dir,
        path,
        admin,
    }
}

// ---------- HTTP ----------

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// A response: status, headers we look at, body.
pub struct Reply {
    pub status: u16,
    pub run_id: Option<String>,
    pub www_authenticate: Option<String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Reply, ureq::Error> {
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = agent().run(req.body(body.to_vec()).unwrap())?;
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (run_id, www_authenticate) = (header("x-tern-run-id"), header("www-authenticate"));
    Ok(Reply {
        status: resp.status().as_u16(),
        run_id,
        www_authenticate,
        body: resp.body_mut().read_to_string()?,
    })
}

/// An API call with the token; panics if the node cannot be reached.
pub fn api(node_api: SocketAddr, method: &str, path: &str, token: &str, body: &[u8]) -> Reply {
    request(node_api, method, path, Some(token), &[], body).expect("API request")
}

/// Deploys `wat` as `name` (PUT) with an optional config; returns the reply.
pub fn deploy(
    node_api: SocketAddr,
    token: &str,
    name: &str,
    wat: &str,
    config: Option<&str>,
) -> Reply {
    let headers: Vec<(&str, &str)> = config.map(|c| ("Tern-Config", c)).into_iter().collect();
    request(
        node_api,
        "PUT",
        &format!("/v1/handlers/{name}"),
        Some(token),
        &headers,
        wat.as_bytes(),
    )
    .expect("deploy request")
}

/// GET on the handler port.
pub fn get(node_http: SocketAddr, path: &str) -> Reply {
    request(node_http, "GET", path, None, &[], b"").expect("handler request")
}

/// The record of run `id`, waiting for it with `follow` (the server answers when it is written).
pub fn record_of(node_api: SocketAddr, token: &str, handler: &str, id: &str) -> Value {
    let mut resp = agent()
        .get(format!(
            "http://{node_api}/v1/handlers/{handler}/logs?run={id}&follow=1"
        ))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .expect("logs request");
    assert_eq!(resp.status().as_u16(), 200);
    let reader = BufReader::new(resp.body_mut().as_reader());
    let line = reader
        .lines()
        .next()
        .expect("a record")
        .expect("reading the record");
    serde_json::from_str(&line).unwrap()
}

// ---------- the tests ----------

#[test]
fn deploy_serve_new_version_rollback_logs_delete() {
    let data = data_dir();
    let node = Node::start(&data.path);
    let t = &data.admin;
    let routes = r#"{"routes": ["/hello/..."]}"#;
    let v1 = deploy(node.api, t, "hello", &responder("v1"), Some(routes));
    assert_eq!(v1.status, 201, "{}", v1.body);
    assert_eq!(v1.json()["version"], 1);
    let r = get(node.http, "/hello/x");
    assert_eq!((r.status, r.body.as_str()), (200, "v1"));
    let first_run = r.run_id.expect("a run id");
    // The node's metrics count the invocation records its writer dropped (none here).
    let metrics = get(node.http, "/metrics").body;
    assert!(
        metrics.contains("\ntern_records_dropped_total 0\n"),
        "{metrics}"
    );

    // A new version without a config keeps the routes.
    let v2 = deploy(node.api, t, "hello", &responder("v2"), None);
    assert_eq!(
        (v2.status, v2.json()["version"].clone()),
        (200, 2.into()),
        "{}",
        v2.body
    );
    assert_eq!(get(node.http, "/hello/x").body, "v2");

    let back = api(node.api, "POST", "/v1/handlers/hello/rollback", t, b"");
    assert_eq!(
        (back.status, back.json()["version"].clone()),
        (200, 1.into()),
        "{}",
        back.body
    );
    assert_eq!(get(node.http, "/hello/x").body, "v1");
    let fwd = api(
        node.api,
        "POST",
        "/v1/handlers/hello/rollback?version=2",
        t,
        b"",
    );
    assert_eq!(fwd.json()["version"], 2);
    let last = get(node.http, "/hello/y");
    assert_eq!(last.body, "v2");

    let list = api(node.api, "GET", "/v1/handlers", t, b"").json();
    assert_eq!(list["handlers"][0]["name"], "hello");
    assert_eq!(list["handlers"][0]["live_version"], 2);
    let show = api(node.api, "GET", "/v1/handlers/hello", t, b"").json();
    assert_eq!(show["versions"].as_array().unwrap().len(), 2);
    assert_eq!(show["config"]["routes"][0], "/hello/...");

    // The records of handler-port requests, with the guest's log lines.
    let rec = record_of(node.api, t, "hello", last.run_id.as_deref().unwrap());
    assert_eq!(
        (rec["status"].clone(), rec["version"].clone()),
        (200.into(), 2.into())
    );
    assert_eq!(rec["kind"], "http");
    assert!(rec["logs"].as_str().unwrap().contains("served v2"), "{rec}");
    assert_eq!(rec["detail"]["path"], "/hello/y");
    let all = api(node.api, "GET", "/v1/handlers/hello/logs", t, b"");
    let ids: Vec<String> = all
        .body
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(ids.contains(&first_run), "{ids:?}");

    let gone = api(node.api, "DELETE", "/v1/handlers/hello", t, b"");
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert_eq!(get(node.http, "/hello/x").status, 404);
    assert_eq!(
        api(node.api, "GET", "/v1/handlers/hello", t, b"").status,
        404
    );
    node.stop();
}

#[test]
fn a_deploy_config_is_a_tern_toml_handler_section() {
    let data = data_dir();
    let node = Node::start(&data.path);
    let config = r#"{"route": [{"path": "/hi/:name", "methods": ["GET"]}],
                     "env": {"GREETING": "hi"}, "timeout": "2s", "max-request-body": "1KiB"}"#;
    let config = config.replace('\n', " ");
    let r = deploy(node.api, &data.admin, "greet", &echo(), Some(&config));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(get(node.http, "/hi/bob").status, 200);
    let post = request(node.http, "POST", "/hi/bob", None, &[], b"x").unwrap();
    assert_eq!(post.status, 405);
    let big = request(node.http, "GET", "/hi/bob", None, &[], &[b'x'; 4096]).unwrap();
    assert_eq!(big.status, 413, "the config's max-request-body applies");
    let list = api(node.api, "GET", "/v1/handlers", &data.admin, b"").json();
    assert_eq!(
        list["handlers"][0]["routes"],
        serde_json::json!(["GET /hi/:name"])
    );
}

#[test]
fn unnamed_deploys_get_a_generated_name_and_a_default_route() {
    let data = data_dir();
    let node = Node::start(&data.path);
    let r = request(
        node.api,
        "POST",
        "/v1/handlers",
        Some(&data.admin),
        &[],
        responder("hi").as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let name = r.json()["name"].as_str().unwrap().to_string();
    assert_eq!(name.split('-').count(), 3, "{name}");
    assert_eq!(get(node.http, &format!("/{name}/")).body, "hi");
    // POST to a name that exists is a conflict, not a silent new version.
    let again = request(
        node.api,
        "POST",
        &format!("/v1/handlers?name={name}"),
        Some(&data.admin),
        &[],
        responder("x").as_bytes(),
    )
    .unwrap();
    assert_eq!(again.status, 409, "{}", again.body);
}

#[test]
fn invoke_now_and_async_with_outcomes_failure_included() {
    let data = data_dir();
    let node = Node::start(&data.path);
    let t = &data.admin;
    assert_eq!(deploy(node.api, t, "echo", &echo(), None).status, 201);
    assert_eq!(deploy(node.api, t, "boom", &trapper(), None).status, 201);

    let now = api(node.api, "POST", "/v1/handlers/echo/invoke", t, b"ping");
    assert_eq!((now.status, now.body.as_str()), (200, "ping"));
    let id = now.run_id.expect("run id");
    let run = api(node.api, "GET", &format!("/v1/runs/{id}"), t, b"").json();
    assert_eq!(
        (run["state"].clone(), run["kind"].clone()),
        ("finished".into(), "invoke".into())
    );

    let queued = api(
        node.api,
        "POST",
        "/v1/handlers/echo/invoke?async=1",
        t,
        b"later",
    );
    assert_eq!(queued.status, 202, "{}", queued.body);
    let id = queued.json()["run"].as_str().unwrap().to_string();
    let rec = record_of(node.api, t, "echo", &id);
    assert_eq!(
        (rec["status"].clone(), rec["kind"].clone()),
        (200.into(), "async".into())
    );
    assert_eq!(rec["detail"]["output"], "later");

    let failing = api(node.api, "POST", "/v1/handlers/boom/invoke?async=1", t, b"");
    let id = failing.json()["run"].as_str().unwrap().to_string();
    let rec = record_of(node.api, t, "boom", &id);
    assert_eq!(rec["status"], 500, "{rec}");
    assert!(rec["ended"].as_str().unwrap().starts_with("trap"), "{rec}");
    let run = api(node.api, "GET", &format!("/v1/runs/{id}"), t, b"").json();
    assert_eq!(run["state"], "finished");

    assert_eq!(
        api(node.api, "POST", "/v1/handlers/nope/invoke?async=1", t, b"").status,
        404
    );
    assert_eq!(api(node.api, "GET", "/v1/runs/0123", t, b"").status, 404);

    // Retention set with a deploy: the newest two records are kept.
    let keep_two = r#"{"retention": {"keep_runs": 2, "keep_days": 1}}"#;
    assert_eq!(
        deploy(node.api, t, "echo", &echo(), Some(keep_two)).status,
        200
    );
    for i in 0..4 {
        api(
            node.api,
            "POST",
            "/v1/handlers/echo/invoke",
            t,
            format!("{i}").as_bytes(),
        );
    }
    let kept = api(node.api, "GET", "/v1/handlers/echo/logs", t, b"");
    assert_eq!(kept.body.lines().count(), 2, "{}", kept.body);
    let show = api(node.api, "GET", "/v1/handlers/echo", t, b"").json();
    assert_eq!(show["retention"]["keep_runs"], 2);
}

#[test]
fn tokens_wrong_missing_revoked_or_too_weak_are_refused() {
    let data = data_dir();
    let store = SqliteStore::open(&data.path).unwrap();
    let (_, read) = store.create_token("reader", Scope::Read).unwrap();
    let (_, deployer) = store.create_token("ci", Scope::Deploy).unwrap();
    let (revoked_info, revoked) = store.create_token("old", Scope::Admin).unwrap();
    store.revoke_token(&revoked_info.id).unwrap();
    let node = Node::start(&data.path);

    let mut wrong = data.admin.clone();
    wrong.replace_range(wrong.len() - 4.., "0000");
    let refused: Vec<Reply> = [
        None,
        Some(wrong.as_str()),
        Some("tern_x_y"),
        Some(revoked.as_str()),
    ]
    .into_iter()
    .map(|t| request(node.api, "GET", "/v1/handlers", t, &[], b"").unwrap())
    .collect();
    for r in &refused {
        assert_eq!(r.status, 401);
        assert_eq!(r.www_authenticate.as_deref(), Some("Bearer"));
        // One answer for every way of being wrong: no hint which part was.
        assert_eq!(r.body, refused[0].body);
    }
    assert_eq!(api(node.api, "GET", "/v1/handlers", &read, b"").status, 200);
    let r = deploy(node.api, &read, "x", &responder("x"), None);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        deploy(node.api, &deployer, "x", &responder("x"), None).status,
        201
    );
    // A deploy token cannot grant a handler the server's files or environment.
    let r = deploy(
        node.api,
        &deployer,
        "x",
        &responder("x"),
        Some(r#"{"dirs": ["/etc"]}"#),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let who = api(node.api, "GET", "/v1/whoami", &deployer, b"").json();
    assert_eq!(
        (who["name"].clone(), who["scope"].clone()),
        ("ci".into(), "deploy".into())
    );
    // The API does not serve handlers, and the handler port does not serve the API.
    assert_eq!(api(node.api, "GET", "/x/", &data.admin, b"").status, 404);
    assert_eq!(get(node.http, "/v1/handlers").status, 404);
}

#[test]
fn hostile_uploads_are_refused_and_change_nothing() {
    let data = data_dir();
    let node = Node::start(&data.path);
    let t = &data.admin;
    assert_eq!(
        deploy(
            node.api,
            t,
            "keep",
            &responder("kept"),
            Some(r#"{"routes": ["/keep/..."]}"#)
        )
        .status,
        201
    );

    let not_wasm = deploy(node.api, t, "keep", "this is not a module", None);
    assert_eq!(not_wasm.status, 422, "{}", not_wasm.body);
    let missing = deploy(node.api, t, "other", bad_import(), None);
    assert_eq!(missing.status, 422);
    assert!(missing.body.contains("no_such_call"), "{}", missing.body);
    let overlap = deploy(
        node.api,
        t,
        "other",
        &responder("o"),
        Some(r#"{"routes": ["/keep/..."]}"#),
    );
    assert_eq!(overlap.status, 422);
    assert!(overlap.body.contains("overlap"), "{}", overlap.body);
    let bad_config = deploy(
        node.api,
        t,
        "other",
        &responder("o"),
        Some(r#"{"routes": 7}"#),
    );
    assert_eq!(bad_config.status, 422, "{}", bad_config.body);
    let unknown_key = deploy(
        node.api,
        t,
        "other",
        &responder("o"),
        Some(r#"{"rootes": ["/o"]}"#),
    );
    assert_eq!(unknown_key.status, 422, "{}", unknown_key.body);
    let bad_name = deploy(node.api, t, "Bad..Name", &responder("o"), None);
    assert_eq!(bad_name.status, 400, "{}", bad_name.body);

    // 100 MB announced: refused before a byte of the body is read.
    let mut s = TcpStream::connect(node.api).unwrap();
    write!(
        s,
        "PUT /v1/handlers/keep HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\nContent-Length: 100000000\r\n\r\n"
    )
    .unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 413");

    // No length announced: cut off at the limit as the body arrives.
    let mut s = TcpStream::connect(node.api).unwrap();
    write!(
        s,
        "PUT /v1/handlers/keep HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..40 {
        let sent = write!(s, "{:x}\r\n", chunk.len())
            .and_then(|_| s.write_all(&chunk))
            .and_then(|_| s.write_all(b"\r\n"));
        if sent.is_err() {
            break; // the server answered and closed
        }
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 413");

    let list = api(node.api, "GET", "/v1/handlers", t, b"").json();
    assert_eq!(list["handlers"].as_array().unwrap().len(), 1);
    assert_eq!(list["handlers"][0]["live_version"], 1);
    assert_eq!(get(node.http, "/keep/").body, "kept");
    // Refused modules were never stored.
    let blobs = walk_files(&data.path.join("blobs/sha256"));
    assert_eq!(blobs.len(), 1, "{blobs:?}");
}

#[test]
fn handlers_from_the_config_file_are_served_beside_but_not_replaced() {
    let data = data_dir();
    let module = data.path.parent().unwrap().join("site.wat");
    std::fs::write(&module, responder("from the file")).unwrap();
    let config = tern_serve::single(&module, Default::default()).unwrap();
    let node = Node::start_with(&data.path, config);
    let t = &data.admin;
    let taken = deploy(node.api, t, "site", &responder("x"), None);
    assert_eq!(taken.status, 422, "{}", taken.body);
    assert!(taken.body.contains("--config"), "{}", taken.body);
    assert_eq!(
        deploy(node.api, t, "api-app", &responder("deployed"), None).status,
        201
    );
    assert_eq!(get(node.http, "/api-app/").body, "deployed");
    assert_eq!(get(node.http, "/anything").body, "from the file");
    // The file's handler is not the control plane's: no records of it in the store.
    assert_eq!(
        api(node.api, "GET", "/v1/handlers/site/logs", t, b"").status,
        404
    );
}

#[test]
fn concurrent_deploys_of_one_handler_are_serialised() {
    let data = data_dir();
    let node = Node::start(&data.path);
    let replies: Vec<(usize, Value)> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..6)
            .map(|i| {
                let (api_addr, t) = (node.api, data.admin.clone());
                s.spawn(move || {
                    let r = deploy(api_addr, &t, "busy", &responder(&format!("d{i}")), None);
                    assert!(r.status == 200 || r.status == 201, "{}", r.body);
                    (i, r.json())
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let mut versions: Vec<i64> = replies
        .iter()
        .map(|(_, v)| v["version"].as_i64().unwrap())
        .collect();
    versions.sort();
    assert_eq!(versions, (1..=6).collect::<Vec<_>>());
    let (last, _) = replies.iter().find(|(_, v)| v["version"] == 6).unwrap();
    assert_eq!(get(node.http, "/busy/").body, format!("d{last}"));
    let show = api(node.api, "GET", "/v1/handlers/busy", &data.admin, b"").json();
    assert_eq!(show["versions"].as_array().unwrap().len(), 6);
}

#[test]
fn everything_is_still_there_after_a_restart() {
    let data = data_dir();
    let t = &data.admin;
    let node = Node::start(&data.path);
    deploy(node.api, t, "app", &responder("one"), None);
    deploy(node.api, t, "app", &responder("two"), None);
    api(node.api, "POST", "/v1/handlers/app/rollback", t, b"");
    let served = get(node.http, "/app/");
    node.stop();

    // A run queued while the server is down (as a crash after the 202 would leave it).
    let queued = SqliteStore::open(&data.path)
        .unwrap()
        .enqueue("app", b"", None)
        .unwrap();

    let node = Node::start(&data.path);
    assert_eq!(get(node.http, "/app/").body, "one");
    let show = api(node.api, "GET", "/v1/handlers/app", t, b"").json();
    assert_eq!(
        (
            show["live_version"].clone(),
            show["versions"].as_array().unwrap().len()
        ),
        (1.into(), 2)
    );
    let rec = record_of(node.api, t, "app", served.run_id.as_deref().unwrap());
    assert_eq!(rec["status"], 200);
    let rec = record_of(node.api, t, "app", &queued);
    assert_eq!(
        (rec["status"].clone(), rec["kind"].clone()),
        (200.into(), "async".into())
    );
}

pub fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.path().is_dir() {
                out.extend(walk_files(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}
