//! tern serve against real sockets on 127.0.0.1: the CGI contract, routing, limits, overload,
//! shutdown, --watch and slow clients. The test handler (tests/guest, Rust std for wasm32-wasip1) is
//! built once; its behaviour is chosen by the first segment of PATH_INFO.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tern_serve::{InvocationRecord, Options, RecordSink, Running};

// The control plane (store, API, crash tests): serve/tests/control/, owned by the control-plane work.
mod control;

// ---------- helpers ----------

fn guest() -> &'static Path {
    static GUEST: OnceLock<PathBuf> = OnceLock::new();
    GUEST.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = root.join("../target/serve-guests");
        let status = std::process::Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "--release",
                "--target",
                "wasm32-wasip1",
                "--manifest-path",
            ])
            .arg(root.join("tests/guest/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .status()
            .expect("running cargo to build the test guest");
        assert!(
            status.success(),
            "building tests/guest (needs `rustup target add wasm32-wasip1`)"
        );
        target.join("wasm32-wasip1/release/serve-test-guest.wasm")
    })
}

/// A cwa module that answers `text` with status 200.
fn responder(text: &str) -> String {
    let body = format!("Content-Type: text/plain\n\n{text}");
    format!(
        r#"(module
  (import "cwa" "io_get_stdout" (func $stdout (result i32)))
  (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{}")
  (func (export "_start") (drop (call $write (call $stdout) (i32.const 0) (i32.const {})))))"#,
        body.replace('\n', "\\n"),
        body.len()
    )
}

/// Records, as they are written.
struct Channel(Mutex<mpsc::Sender<InvocationRecord>>);

impl RecordSink for Channel {
    fn record(&self, record: &InvocationRecord) {
        let _ = self.0.lock().unwrap().send(record.clone());
    }
}

struct Server {
    running: Running,
    records: mpsc::Receiver<InvocationRecord>,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(toml: &str) -> Server {
        Server::start_with(toml, Options::default(), |_| {})
    }

    fn start_with(toml: &str, options: Options, prepare: impl FnOnce(&Path)) -> Server {
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path());
        let text = toml.replace("GUEST", &guest().display().to_string());
        let text = format!("[server]\nlisten = \"127.0.0.1:0\"\n{text}");
        let path = dir.path().join("tern.toml");
        std::fs::write(&path, text).unwrap();
        let config = tern_serve::config::load(&path).unwrap();
        let running = tern_serve::start(config, options).unwrap();
        let (tx, rx) = mpsc::channel();
        running.add_sink(Arc::new(Channel(Mutex::new(tx))));
        Server {
            running,
            records: rx,
            _dir: dir,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.running.addr()
    }

    fn get(&self, path: &str) -> Response {
        request(
            self.addr(),
            &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"),
        )
    }

    fn record(&self) -> InvocationRecord {
        self.records
            .recv_timeout(Duration::from_secs(30))
            .expect("an invocation record")
    }

    /// The next record of a request to `path` (records of earlier requests may still be arriving).
    fn record_for(&self, path: &str) -> InvocationRecord {
        loop {
            let r = self.record();
            if r.path == path {
                return r;
            }
        }
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// `NAME=value` lines of the env handler.
    fn var(&self, name: &str) -> Option<String> {
        self.text()
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }
}

/// Sends `raw` (adding `Connection: close`) and reads the whole response.
fn request(addr: SocketAddr, raw: &str) -> Response {
    let raw = raw.replacen("\r\n", "\r\nConnection: close\r\n", 1);
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes).unwrap();
    parse(&bytes, raw.starts_with("HEAD"))
}

fn parse(bytes: &[u8], head_only: bool) -> Response {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    let mut body = bytes[end..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v == "chunked");
    if chunked && !head_only {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(nl) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..nl]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[nl + 2..nl + 2 + size]);
        data = &data[nl + 2 + size + 2..];
    }
}

const TEST_HANDLER: &str = r#"
[handlers.t]
module = "GUEST"
routes = ["/t/..."]
timeout = "2s"
max-request-body = 1000
max-response-body = "200KiB"

[handlers.users]
module = "GUEST"
env = { WHO = "users" }
pass-authorization = true
[[handlers.users.route]]
path = "/users/:id/..."
"#;

// ---------- the CGI contract ----------

#[test]
fn cgi_request_variables() {
    let s = Server::start(TEST_HANDLER);
    let r = request(
        s.addr(),
        "POST /t/env/a%20b/./c?x=1&y=%20 HTTP/1.1\r\nHost: Example.COM:99\r\nContent-Type: text/x-test; q=1\r\n\
         Content-Length: 4\r\nCookie: a=1\r\nCookie: b=2\r\nX-Multi: 1\r\nX-Multi: 2\r\nProxy: http://evil\r\n\
         Authorization: Bearer secret\r\nX_Under: spoof\r\n\r\nbody",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let run_id = r.header("x-tern-run-id").expect("X-Tern-Run-Id").to_owned();
    let expect = [
        ("REQUEST_METHOD", "POST"),
        ("SCRIPT_NAME", "/t"),
        ("PATH_INFO", "/env/a b/c"),
        ("X_RAW_PATH_INFO", "/env/a%20b/c"),
        ("X_RELATIVE_PATH", "env/a b/c"),
        ("X_MATCHED_ROUTE", "/t/..."),
        ("QUERY_STRING", "x=1&y=%20"),
        ("CONTENT_TYPE", "text/x-test; q=1"),
        ("CONTENT_LENGTH", "4"),
        ("SERVER_NAME", "127.0.0.1"),
        ("SERVER_PORT", &s.addr().port().to_string()),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("REMOTE_ADDR", "127.0.0.1"),
        ("HTTP_HOST", "Example.COM:99"),
        ("HTTP_COOKIE", "a=1; b=2"),
        ("HTTP_X_MULTI", "1, 2"),
        ("X_RUN_ID", &run_id),
    ];
    for (name, value) in expect {
        assert_eq!(
            r.var(name).as_deref(),
            Some(value),
            "{name} in\n{}",
            r.text()
        );
    }
    assert!(r.var("SERVER_SOFTWARE").unwrap().starts_with("tern/"));
    assert!(r
        .var("X_FULL_URL")
        .unwrap()
        .ends_with("/t/env/a%20b/./c?x=1&y=%20"));
    for absent in [
        "HTTP_PROXY",
        "HTTP_AUTHORIZATION",
        "HTTP_X_UNDER",
        "HTTP_CONTENT_LENGTH",
        "HTTP_CONNECTION",
    ] {
        assert_eq!(r.var(absent), None, "{absent} must not be passed");
    }
    let listed = r.var("TERN_HTTP_HEADERS").unwrap();
    assert!(
        listed.contains("HTTP_COOKIE")
            && listed.contains("HTTP_X_MULTI")
            && !listed.contains("PROXY")
    );

    // A GET has no CONTENT_LENGTH; a route that opts in gets Authorization; path parameters.
    let r = request(
        s.addr(),
        "GET /users/42/env HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\n\r\n",
    );
    assert_eq!(r.var("CONTENT_LENGTH"), None);
    assert_eq!(r.var("HTTP_AUTHORIZATION").as_deref(), Some("Bearer ok"));
    assert_eq!(r.var("PATH_PARAM_ID").as_deref(), Some("42"));
    assert_eq!(r.var("TERN_PATH_PARAMS").as_deref(), Some("PATH_PARAM_ID"));
    assert_eq!(r.var("SCRIPT_NAME").as_deref(), Some("/users/42"));
    assert_eq!(r.var("WHO").as_deref(), Some("users"));
}

#[test]
fn cgi_response_rules() {
    let s = Server::start(TEST_HANDLER);
    let r = s.get("/t/cookies");
    assert_eq!(r.status, 201);
    assert_eq!(
        r.all("set-cookie"),
        ["a=1", "b=2"],
        "repeated headers are kept"
    );
    let r = s.get("/t/location");
    assert_eq!((r.status, r.header("location")), (302, Some("/elsewhere")));
    for (path, status) in [
        ("/t/badheader", 502),
        ("/t/nocolon", 502),
        ("/t/nohead", 502),
        ("/t/exit3", 500),
        ("/t/trap", 500),
        ("/t/loop", 504),
    ] {
        let r = s.get(path);
        assert_eq!(r.status, status, "{path}: {}", r.text());
        assert!(r.header("x-tern-run-id").is_some(), "{path} has a run id");
    }
    // Streamed out (chunked, no length), and HEAD discards the body.
    let r = s.get("/t/stream");
    assert_eq!(r.body.len(), 100 * 1024);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    let r = request(s.addr(), "HEAD /t/stream HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!((r.status, r.body.len()), (200, 0));
    // Bodies in: with a length, chunked, and too large (413 before the run, or when it arrives).
    let r = request(
        s.addr(),
        "POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Type: a/b\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(
        (r.status, r.text().as_str(), r.header("content-type")),
        (200, "hello", Some("a/b"))
    );
    let r = request(s.addr(), "POST /t/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    assert_eq!(r.text(), "abcde");
    let r = request(
        s.addr(),
        "POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n",
    );
    assert_eq!(r.status, 413);
    let big = format!("{:x}\r\n{}\r\n0\r\n\r\n", 2000, "x".repeat(2000));
    let r = request(
        s.addr(),
        &format!("POST /t/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{big}"),
    );
    assert_eq!(r.status, 413);
    // A response over max-response-body is cut off, and the record says why.
    let r = s.get("/t/big");
    assert!(r.body.len() < 1024 * 1024);
    let rec = s.record_for("/t/big");
    assert!(rec.detail.contains("max-response-body"), "{rec:?}");
    // The guest's stderr is in its record.
    s.get("/t/log");
    let rec = s.record_for("/t/log");
    assert!(rec.log.contains("a line on stderr"), "{rec:?}");
    assert_eq!(rec.version.len(), 64);
    let line = serde_json::to_string(&rec).unwrap();
    assert!(
        line.contains("\"run_id\"") && line.contains("\"handler\":\"t\""),
        "{line}"
    );
}

// ---------- routing ----------

#[test]
fn routing_precedence_405_404_and_normalisation() {
    let toml = r#"
[handlers.exact]
module = "A"
[[handlers.exact.route]]
host = "api.example.com"
path = "/users/:id"
methods = ["GET"]
[handlers.wild]
module = "B"
[[handlers.wild.route]]
host = "*.example.com"
path = "/users/:id"
[handlers.any]
module = "C"
routes = ["/users/:id"]
[handlers.me]
module = "D"
routes = ["/users/me"]
[handlers.files]
module = "E"
routes = ["/static/..."]
[handlers.post]
module = "F"
[[handlers.post.route]]
path = "/only-post"
methods = ["POST"]
"#;
    let s = Server::start_with(toml, Options::default(), |dir| {
        for (name, text) in [
            ("A", "exact"),
            ("B", "wild"),
            ("C", "any"),
            ("D", "me"),
            ("E", "files"),
            ("F", "post"),
        ] {
            std::fs::write(dir.join(name), responder(text)).unwrap();
        }
    });
    let on = |host: &str, method: &str, path: &str| {
        request(
            s.addr(),
            &format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n"),
        )
    };
    assert_eq!(on("api.example.com", "GET", "/users/1").text(), "exact");
    assert_eq!(
        on("API.example.com:8080", "GET", "/users/1").text(),
        "exact"
    );
    let r = on("api.example.com", "POST", "/users/1");
    assert_eq!(
        (r.status, r.header("allow")),
        (405, Some("GET")),
        "the best path decides; no fallback"
    );
    assert_eq!(on("x.example.com", "POST", "/users/1").text(), "wild");
    assert_eq!(on("example.org", "GET", "/users/1").text(), "any");
    assert_eq!(
        on("example.org", "GET", "/users/me").text(),
        "me",
        "more literals win"
    );
    assert_eq!(on("h", "GET", "/static").text(), "files");
    assert_eq!(on("h", "GET", "/static/a/b").text(), "files");
    assert_eq!(
        on("h", "GET", "//static/./x/../y").text(),
        "files",
        "normalised before matching"
    );
    assert_eq!(on("h", "GET", "/staticfoo").status, 404, "segment-aware");
    assert_eq!(on("h", "GET", "/nothing").status, 404);
    let r = on("h", "GET", "/only-post");
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    assert_eq!(on("h", "POST", "/only-post").text(), "post");
    assert_eq!(on("h", "GET", "/healthz").text(), "ok\n");
    assert_eq!(on("h", "GET", "/readyz").status, 200);
    let metrics = on("h", "GET", "/metrics").text();
    assert!(
        metrics.contains("tern_requests_total{handler=\"post\",status=\"200\"} 1"),
        "{metrics}"
    );
}

#[test]
fn configuration_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let load = |text: &str| {
        let path = dir.path().join("tern.toml");
        std::fs::write(&path, text).unwrap();
        tern_serve::config::load(&path).and_then(|c| tern_serve::check(&c))
    };
    let e = load(
        "[handlers.a]\nmodule = \"x.wat\"\nroutes = [\"/\"]\ntimeout = \"1s\"\nmax_fuel = 3\n",
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("line 5") && e.to_string().contains("max_fuel"),
        "{e}"
    );
    std::fs::write(dir.path().join("a.wat"), responder("a")).unwrap();
    let e = load("[handlers.a]\nmodule = \"a.wat\"\nroutes = [\"/x/:id\"]\n[handlers.b]\nmodule = \"a.wat\"\nroutes = [\"/x/:name\"]\n").unwrap_err();
    assert!(e.to_string().contains("overlapping routes"), "{e}");
    std::fs::write(
        dir.path().join("bad.wat"),
        "(module (import \"nope\" \"f\" (func)))",
    )
    .unwrap();
    let e = load("[handlers.a]\nmodule = \"bad.wat\"\nroutes = [\"/\"]\n").unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
    let out =
        load("[handlers.a]\nmodule = \"a.wat\"\nroutes = [\"/x/...\", \"/y\"]\ntimeout = \"2s\"\n")
            .unwrap();
    assert!(
        out.contains("/x/...") && out.contains("timeout 2s") && out.contains("queue-depth 128"),
        "{out}"
    );
}

// ---------- limits and overload ----------

const BUSY: &str = r#"
[handlers.t]
module = "GUEST"
routes = ["/t/..."]
max-concurrency = 1
queue-depth = 0
"#;

/// Starts a /t/drip request and returns its connection once the run is writing.
fn start_drip(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /t/drip HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 64];
    let n = s.read(&mut first).unwrap();
    assert!(first[..n].starts_with(b"HTTP/1.1 200"));
    s
}

#[test]
fn full_queue_is_503_with_retry_after_and_a_disconnect_stops_the_run() {
    let s = Server::start(BUSY);
    let drip = start_drip(s.addr());
    let r = s.get("/t/hello");
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(s.record().end, "rejected");
    // The client goes away: the run stops at its next write, long before its 30 s timeout.
    let gone = Instant::now();
    drop(drip);
    let rec = s.record();
    assert!(rec.client_gone, "{rec:?}");
    assert!(gone.elapsed() < Duration::from_secs(10));
    // The record is written just before the worker is handed back: retry until it is.
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.get("/t/hello").status != 200 {
        assert!(Instant::now() < deadline, "the worker never came back");
    }
}

#[test]
fn queue_timeout_is_503() {
    let s = Server::start(&BUSY.replace(
        "queue-depth = 0",
        "queue-depth = 4\nqueue-timeout = \"100ms\"",
    ));
    let _drip = start_drip(s.addr());
    let r = s.get("/t/hello");
    assert_eq!((r.status, r.header("retry-after")), (503, Some("1")));
}

#[test]
fn mixed_load_every_good_request_gets_200() {
    let toml = r#"
[server]
workers = 2
[handlers.good]
module = "GUEST"
routes = ["/good/..."]
[handlers.bad]
module = "GUEST"
routes = ["/bad/..."]
timeout = "200ms"
"#
    .replace("[server]\n", "");
    let s = Server::start(&toml);
    let addr = s.addr();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                let mut statuses = Vec::new();
                for i in 0..20 {
                    let n = t * 20 + i;
                    let path = match n % 10 {
                        0 if n % 20 == 0 => "/bad/loop",
                        0 => "/bad/trap",
                        _ => "/good/hello",
                    };
                    let r = request(addr, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"));
                    statuses.push((path, r.status));
                }
                statuses
            })
        })
        .collect();
    let mut good = 0;
    for t in threads {
        for (path, status) in t.join().unwrap() {
            if path.starts_with("/good") {
                assert_eq!(status, 200, "a good request failed");
                good += 1;
            } else {
                assert!(matches!(status, 500 | 503 | 504), "{path}: {status}");
            }
        }
    }
    assert_eq!(good, 144);
}

#[test]
fn slowloris_does_not_starve_workers() {
    let toml = "[handlers.t]\nmodule = \"GUEST\"\nroutes = [\"/t/...\"]\n"
        .replace("[handlers", "header-read-timeout = \"300ms\"\n[handlers");
    let s = Server::start(&toml);
    let mut slow: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut c = TcpStream::connect(s.addr()).unwrap();
            c.write_all(b"GET /t/hello HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .unwrap();
            c
        })
        .collect();
    let started = Instant::now();
    assert_eq!(s.get("/t/hello").status, 200);
    assert!(started.elapsed() < Duration::from_secs(5));
    // The slow clients are cut off by the header-read timeout (EOF or a 408), never served.
    for c in &mut slow {
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let _ = c.read_to_end(&mut buf);
        assert!(
            buf.is_empty() || buf.starts_with(b"HTTP/1.1 408"),
            "{}",
            String::from_utf8_lossy(&buf)
        );
    }
}

// ---------- shutdown and reload ----------

#[test]
fn graceful_shutdown_finishes_in_flight_requests() {
    let s = Server::start("[handlers.t]\nmodule = \"GUEST\"\nroutes = [\"/t/...\"]\n");
    let addr = s.addr();
    let in_flight =
        std::thread::spawn(move || request(addr, "GET /t/slow?ms=400 HTTP/1.1\r\nHost: x\r\n\r\n"));
    // Wait until the run is on a worker (a condition, not a guess at timing).
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.running.state().metrics.in_flight.get() == 0 {
        assert!(Instant::now() < deadline, "the request never started");
        std::thread::yield_now();
    }
    s.running.shutdown();
    let r = in_flight.join().unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "slow done\n"));
    let Server { running, .. } = s;
    running.wait();
    assert!(TcpStream::connect(addr).is_err(), "no longer accepting");
}

#[test]
fn watch_swaps_a_changed_module_and_keeps_the_old_one_when_broken() {
    let toml = "[handlers.w]\nmodule = \"w.wat\"\nroutes = [\"/...\"]\n";
    let options = Options {
        watch: true,
        ..Default::default()
    };
    let mut module = PathBuf::new();
    let s = Server::start_with(toml, options, |dir| {
        module = dir.join("w.wat");
        std::fs::write(&module, responder("one")).unwrap();
    });
    assert_eq!(s.get("/").text(), "one");
    let wait_for = |text: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = s.get("/");
            assert_eq!(r.status, 200, "every request is served during a swap");
            if r.text() == text {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the module never changed to {text:?}"
            );
        }
    };
    std::fs::write(&module, responder("two")).unwrap();
    wait_for("two");
    std::fs::write(&module, "(module (this does not compile").unwrap();
    std::fs::write(&module, responder("three")).unwrap();
    wait_for("three");
    std::fs::write(&module, "(module (this does not compile").unwrap();
    for _ in 0..20 {
        assert_eq!(
            s.get("/").text(),
            "three",
            "a broken module keeps the old one"
        );
    }
}

#[test]
fn a_client_that_leaves_interrupts_a_looping_run() {
    let s = Server::start(
        "[handlers.t]\nmodule = \"GUEST\"\nroutes = [\"/t/...\"]\ntimeout = \"60s\"\n",
    );
    let mut c = TcpStream::connect(s.addr()).unwrap();
    c.write_all(b"GET /t/loop HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.running.state().metrics.in_flight.get() == 0 {
        assert!(Instant::now() < deadline, "the run never started");
        std::thread::yield_now();
    }
    let gone = Instant::now();
    drop(c);
    let rec = s.record_for("/t/loop");
    assert_eq!(rec.end, "interrupted", "{rec:?}");
    assert!(rec.client_gone);
    assert!(
        gone.elapsed() < Duration::from_secs(10),
        "stopped long before its 60 s timeout"
    );
}
