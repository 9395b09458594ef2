//! tern serve against real sockets on 127.0.0.1: the CGI contract, routing, limits, overload,
//! shutdown, --watch and slow clients. The test handler (tests/guest, Rust std for wasm32-wasip1) is
//! built once; its behaviour is chosen by the first segment of PATH_INFO.

// The tests, by topic, in tests/serve/ (one binary: the guest is built once).
#[path = "serve/cgi.rs"]
mod cgi;
#[path = "serve/lifecycle.rs"]
mod lifecycle;
#[path = "serve/limits.rs"]
mod limits;
#[path = "serve/routing.rs"]
mod routing;
// The control plane (store, API, crash tests): tests/control/, owned by the control-plane work.
#[cfg(feature = "control")]
mod control;
// Several nodes on a shared PostgreSQL, and the store suite both backends pass: tests/postgres/.
#[cfg(feature = "control")]
mod postgres;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tern_serve::{InvocationRecord, Options, RecordSink, Running};

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
# Generous: a debug build under a loaded CI machine writes 200 KiB slowly; only /t/loop waits it out.
timeout = "10s"
max-request-body = 1000
max-response-body = "200KiB"

[handlers.users]
module = "GUEST"
env = { WHO = "users" }
pass-authorization = true
[[handlers.users.route]]
path = "/users/:id/..."
"#;
