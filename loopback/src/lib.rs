//! Loopback servers for network tests, the one copy shared by the conformance harness
//! (`tern-conformance`) and the runtime's integration tests: a minimal HTTP/1.1 server, the same
//! over TLS, TCP and TLS echo servers, and a test CA made by rcgen that signs their certificates.
//!
//! Every server listens on 127.0.0.1 only, on a port the OS picks, serves each connection on a
//! thread of its own, and lives as long as the process.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// Accepts connections on a new 127.0.0.1 listener, each on a thread of its own; returns the port.
pub fn listen(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let serve = Arc::new(serve);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let serve = Arc::clone(&serve);
            thread::spawn(move || serve(stream));
        }
    });
    Ok(port)
}

/// A request as the HTTP server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method from the request line, as sent.
    pub method: String,
    /// The request target from the request line, as sent.
    pub target: String,
    /// The header fields in the order sent, names lower-cased and values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body, as long as its Content-Length said (empty without one).
    pub body: Vec<u8>,
    /// Which of the server's connections it came on, counting from 1 (requests on one kept-alive
    /// connection share the number).
    pub connection: u64,
}

impl Request {
    /// The value of the first header named `name` (lower case), if there is one.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request that came on connection number `connection`; `None` where the connection ends
/// before a complete head.
fn read_request(reader: &mut impl BufRead, connection: u64) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let target = words.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let mut request = Request {
        method,
        target,
        headers,
        body: Vec::new(),
        connection,
    };
    let length: u64 = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // Only what arrives is stored: a false Content-Length must not size an allocation.
    reader.take(length).read_to_end(&mut request.body)?;
    if request.body.len() as u64 != length {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(Some(request))
}

/// Writes a complete HTTP/1.1 response with a Content-Length and flushes it.
pub fn respond(
    out: &mut dyn Write,
    status: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        head += &format!("{name}: {value}\r\n");
    }
    head += "\r\n";
    out.write_all(head.as_bytes())?;
    out.write_all(body)?;
    out.flush()
}

/// What an HTTP server does with a request: writes a response (or not) to the connection.
type Handler = dyn Fn(&Request, &mut dyn Write) -> io::Result<()> + Send + Sync;

/// Serves requests on one connection (keep-alive) until it ends, a request asks to close it, or
/// the handler fails.
fn serve_http<S: Read + Write>(stream: S, connection: u64, handler: &Handler) {
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = read_request(&mut reader, connection) {
        let close = request.header("connection") == Some("close");
        if handler(&request, reader.get_mut()).is_err() || close {
            break;
        }
    }
}

/// Starts a plain HTTP/1.1 server on 127.0.0.1 that answers with `handler`; returns its port.
pub fn http_server(
    handler: impl Fn(&Request, &mut dyn Write) -> io::Result<()> + Send + Sync + 'static,
) -> io::Result<u16> {
    let connections = AtomicU64::new(0);
    listen(move |stream| {
        let connection = connections.fetch_add(1, Ordering::Relaxed) + 1;
        serve_http(stream, connection, &handler)
    })
}

/// Starts an [`http_server`] that speaks TLS and presents the certificate `leaf`; returns the port.
pub fn https_server(
    leaf: &Leaf,
    handler: impl Fn(&Request, &mut dyn Write) -> io::Result<()> + Send + Sync + 'static,
) -> io::Result<u16> {
    let config = Arc::clone(&leaf.config);
    let connections = AtomicU64::new(0);
    listen(move |stream| {
        let connection = connections.fetch_add(1, Ordering::Relaxed) + 1;
        if let Ok(conn) = ServerConnection::new(Arc::clone(&config)) {
            serve_http(StreamOwned::new(conn, stream), connection, &handler);
        }
    })
}

/// Starts a TCP server on 127.0.0.1 that sends back every byte it receives; returns its port.
pub fn echo_server() -> io::Result<u16> {
    listen(|stream| {
        if let Ok(mut reader) = stream.try_clone() {
            let mut writer = stream;
            let _ = io::copy(&mut reader, &mut writer);
        }
    })
}

/// Starts a TLS server on 127.0.0.1 presenting `leaf` that echoes every byte; returns its port.
pub fn tls_echo_server(leaf: &Leaf) -> io::Result<u16> {
    let config = Arc::clone(&leaf.config);
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

/// A certificate authority made for tests, which signs server certificates.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    /// Makes a self-signed CA whose common name is `name`.
    pub fn new(name: &str) -> io::Result<TestCa> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(io::Error::other)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().map_err(io::Error::other)?;
        let issuer = CertifiedIssuer::self_signed(params, key).map_err(io::Error::other)?;
        Ok(TestCa { issuer })
    }

    /// Makes a server certificate for `names` (DNS names or IP addresses) signed by this CA.
    pub fn leaf(&self, names: &[&str]) -> io::Result<Leaf> {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let params = CertificateParams::new(names).map_err(io::Error::other)?;
        let key = KeyPair::generate().map_err(io::Error::other)?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(io::Error::other)?;
        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
            .map_err(io::Error::other)?;
        Ok(Leaf {
            config: Arc::new(config),
        })
    }

    /// The CA certificate as PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// Writes the CA certificate as PEM to `dir/ca.pem` and returns that path.
    pub fn write_pem(&self, dir: &Path) -> io::Result<PathBuf> {
        let path = dir.join("ca.pem");
        std::fs::write(&path, self.pem())?;
        Ok(path)
    }
}

/// A server certificate signed by a [`TestCa`], ready for the TLS servers to present.
pub struct Leaf {
    config: Arc<ServerConfig>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_read_one_after_another() {
        let mut input: &[u8] = b"POST /a HTTP/1.1\r\nContent-Length: 2\r\nX-Thing:  v \r\n\r\nhi\
                                 GET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n";
        let first = read_request(&mut input, 1).unwrap().unwrap();
        assert_eq!(first.connection, 1);
        assert_eq!(
            (first.method.as_str(), first.target.as_str()),
            ("POST", "/a")
        );
        assert_eq!(first.header("x-thing"), Some("v"));
        assert_eq!(first.body, b"hi");
        let second = read_request(&mut input, 1).unwrap().unwrap();
        assert_eq!((second.target.as_str(), second.body.len()), ("/b", 0));
        // A head the connection cuts short is no request.
        assert!(read_request(&mut input, 1).unwrap().is_none());
        // A body shorter than its Content-Length is an error, whatever length it claims.
        let mut input: &[u8] = b"POST / HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\nhi";
        let e = read_request(&mut input, 1).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
