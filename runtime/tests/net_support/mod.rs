//! Loopback servers and guests for the network tests: a plain HTTP/1.1 server, the same over TLS
//! with a certificate from a test CA made by rcgen, TCP and TLS echo servers, and a .wat guest that
//! fetches a URL. Every server listens on 127.0.0.1 only and lives as long as the test process.
#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::common::Guest;

/// A request as the test server saw it.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub target: String,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a handler does with a request: writes a response (or not) to the connection.
pub type Handler = Arc<dyn Fn(&Req, &mut dyn Write) -> io::Result<()> + Send + Sync>;

/// Writes a complete response with a Content-Length.
pub fn respond(
    out: &mut dyn Write,
    status: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (n, v) in headers {
        head += &format!("{n}: {v}\r\n");
    }
    head += "\r\n";
    out.write_all(head.as_bytes())?;
    out.write_all(body)?;
    out.flush()
}

/// Reads one request; `None` at a clean end of the connection.
fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Req>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let len = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    Ok(Some(Req {
        method,
        target,
        headers,
        body,
    }))
}

/// Serves requests on one connection until it ends or a handler fails.
fn serve_connection<S: Read + Write>(stream: S, handler: &Handler) {
    let mut reader = BufReader::new(stream);
    while let Ok(Some(req)) = read_request(&mut reader) {
        let close = req.header("connection") == Some("close");
        if handler(&req, reader.get_mut()).is_err() || close {
            break;
        }
    }
}

/// Accepts connections on a new loopback listener, each on its own thread; returns the port.
fn listen(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().unwrap().port();
    let serve = Arc::new(serve);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let serve = Arc::clone(&serve);
            thread::spawn(move || serve(stream));
        }
    });
    port
}

/// A plain HTTP/1.1 server on 127.0.0.1; returns its port.
pub fn http_server(
    handler: impl Fn(&Req, &mut dyn Write) -> io::Result<()> + Send + Sync + 'static,
) -> u16 {
    let handler: Handler = Arc::new(handler);
    listen(move |stream| serve_connection(stream, &handler))
}

/// An HTTPS server on 127.0.0.1 presenting `cert`; returns its port.
pub fn https_server(
    cert: &Leaf,
    handler: impl Fn(&Req, &mut dyn Write) -> io::Result<()> + Send + Sync + 'static,
) -> u16 {
    let handler: Handler = Arc::new(handler);
    let config = cert.server_config();
    listen(move |stream| {
        let Ok(conn) = ServerConnection::new(Arc::clone(&config)) else {
            return;
        };
        serve_connection(StreamOwned::new(conn, stream), &handler)
    })
}

/// A TCP server that echoes every byte back; returns its port.
pub fn echo_server() -> u16 {
    listen(|mut stream| {
        let mut reader = stream.try_clone().unwrap();
        let _ = io::copy(&mut reader, &mut stream);
    })
}

/// A TLS server presenting `cert` that echoes every byte back; returns its port.
pub fn tls_echo_server(cert: &Leaf) -> u16 {
    let config = cert.server_config();
    listen(move |stream| {
        let Ok(conn) = ServerConnection::new(Arc::clone(&config)) else {
            return;
        };
        let mut tls = StreamOwned::new(conn, stream);
        let mut buf = [0u8; 4096];
        loop {
            match tls.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tls.write_all(&buf[..n]).and_then(|()| tls.flush()).is_err() {
                        break;
                    }
                }
            }
        }
    })
}

/// A certificate authority for tests.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate and its key.
pub struct Leaf {
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

impl Leaf {
    fn server_config(&self) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), key)
            .expect("test certificate is usable");
        Arc::new(config)
    }
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        TestCa {
            issuer: CertifiedIssuer::self_signed(params, key).unwrap(),
        }
    }

    /// A certificate for `names` (DNS names or IP addresses) signed by this CA.
    pub fn leaf(&self, names: &[&str]) -> Leaf {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let params = CertificateParams::new(names).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            chain: vec![cert.der().clone()],
            key: key.serialize_der(),
        }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// Writes the CA certificate as PEM into `dir`.
    pub fn write_pem(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, self.pem()).unwrap();
        path
    }
}

/// Escapes bytes for a WebAssembly text string literal.
pub fn wat_escape(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b':' | b'.' | b'-' | b'?' | b'=' => {
                (*b as char).to_string()
            }
            _ => format!("\\{b:02x}"),
        })
        .collect()
}

/// Exit-code bases of [`fetch_body`]: the failing step's base minus the error number.
pub const OPEN: i32 = 0;
pub const WRITE: i32 = 20;
pub const FLUSH: i32 = 40;
pub const READ: i32 = 60;

/// The body of a guest that opens the URL at offset 0, writes `request` (if any) and flushes, then
/// copies everything it reads (in 32 KiB reads) to its stdout, or to the URL at offset 1024 if
/// `sink` is given. Exit status 0, or a step's base ([`OPEN`], …) minus the error number.
pub fn fetch_body(
    url: &str,
    request: Option<&[u8]>,
    sink: Option<&str>,
) -> (String, Vec<(u32, String)>) {
    assert!(url.len() < 1024 && request.is_none_or(|r| r.len() <= 12 * 1024));
    let mut data = vec![(0, wat_escape(url.as_bytes()))];
    let mut body = format!(
        "(local.set $h (call $resource_open (i32.const 0) (i32.const {})))
         (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (i32.sub (i32.const {OPEN}) (local.get $h)))))
         (local.set $i (i32.const 1))",
        url.len()
    );
    if let Some(sink) = sink {
        data.push((1024, wat_escape(sink.as_bytes())));
        body += &format!(
            "(local.set $i (call $resource_open (i32.const 1024) (i32.const {})))
             (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const 99))))",
            sink.len()
        );
    }
    if let Some(request) = request {
        data.push((4096, wat_escape(request)));
        body += &format!(
            "(local.set $n (call $resource_write (local.get $h) (i32.const 4096) (i32.const {})))
             (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.sub (i32.const {WRITE}) (local.get $n)))))
             (local.set $n (call $resource_flush (local.get $h)))
             (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.sub (i32.const {FLUSH}) (local.get $n)))))",
            request.len()
        );
    }
    body += &format!(
        "(block $done (loop $more
           (local.set $n (call $resource_read (local.get $h) (i32.const 16384) (i32.const 32768)))
           (br_if $done (i32.eq (local.get $n) (i32.const -5)))
           (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.sub (i32.const {READ}) (local.get $n)))))
           (if (i32.ne (call $resource_write (local.get $i) (i32.const 16384) (local.get $n)) (local.get $n))
             (then (return (i32.const 98))))
           (br $more)))
         (call $resource_close (local.get $i))
         (i32.const 0)"
    );
    (body, data)
}

/// A guest running [`fetch_body`].
pub fn fetch(url: &str, request: Option<&[u8]>) -> Guest {
    let (body, data) = fetch_body(url, request, None);
    let data: Vec<(u32, &str)> = data.iter().map(|(o, s)| (*o, s.as_str())).collect();
    Guest::main(&body, &data)
}

/// Network settings and grants for a test guest.
pub trait NetGuest {
    /// Changes the guest's network settings.
    fn network(self, f: impl FnOnce(&mut tern::policy::Network)) -> Self;
    /// Grants a special address range (`--allow-private`).
    fn allow_private(self, range: &str) -> Self;
}

impl NetGuest for Guest {
    fn network(mut self, f: impl FnOnce(&mut tern::policy::Network)) -> Self {
        f(&mut self.policy.network);
        self
    }

    fn allow_private(mut self, range: &str) -> Self {
        self.policy.allow_private(range).expect("test range parses");
        self
    }
}

/// Splits an HTTP/1.1 response into its head and body.
pub fn split_response(text: &str) -> (&str, &str) {
    text.split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no blank line after the head in {text:?}"))
}

/// Runs `guest` with a 30 s network timeout and a 1 s run timeout against a server that does not
/// answer in time, and checks the run ended as timed out, well before the network timeout.
pub fn assert_run_timeout_cuts_the_wait(guest: Guest) {
    let start = std::time::Instant::now();
    let run = guest
        .network(|n| n.timeout = std::time::Duration::from_secs(30))
        .limits(|l| l.timeout = Some(std::time::Duration::from_secs(1)))
        .run();
    assert!(
        matches!(run.termination(), tern::Termination::TimedOut(_)),
        "{:?}\n{}",
        run.termination(),
        run.log
    );
    let waited = start.elapsed();
    assert!(waited < std::time::Duration::from_secs(15), "{waited:?}");
}

/// A guest that opens the URL at 0, writes the 11 bytes at 512, then reads until it has 11 bytes
/// back (or the stream ends) and prints them.
pub fn echo_guest(url: &str) -> Guest {
    let body = format!(
        "(local.set $h (call $resource_open (i32.const 0) (i32.const {})))
         (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (i32.sub (i32.const {OPEN}) (local.get $h)))))
         (if (i32.ne (call $resource_write (local.get $h) (i32.const 512) (i32.const 11)) (i32.const 11))
           (then (return (i32.const 90))))
         (drop (call $resource_flush (local.get $h)))
         (local.set $i (i32.const 0))
         (block $done (loop $more
           (br_if $done (i32.ge_u (local.get $i) (i32.const 11)))
           (local.set $n (call $resource_read (local.get $h) (i32.add (i32.const 1024) (local.get $i)) (i32.const 64)))
           (br_if $done (i32.eq (local.get $n) (i32.const -5)))
           (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.sub (i32.const {READ}) (local.get $n)))))
           (local.set $i (i32.add (local.get $i) (local.get $n)))
           (br $more)))
         (drop (call $resource_write (i32.const 1) (i32.const 1024) (local.get $i)))
         (call $resource_close (local.get $h))
         (i32.const 0)",
        url.len()
    );
    Guest::main(&body, &[(0, url), (512, "hello, echo")])
}
