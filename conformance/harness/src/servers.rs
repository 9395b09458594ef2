//! Loopback servers for the network cases, started by the harness for a run that lists them in
//! `servers`. Every server listens on 127.0.0.1 only, on a port the OS picks, and lives until the
//! harness exits. A server named `NAME` provides the templates `{NAME}` (`127.0.0.1:PORT`) and
//! `{NAME_port}`; the TLS servers also provide `{ca_file}`, the PEM of the CA that signed them.
//!
//! | name | what it does |
//! |---|---|
//! | `http` | HTTP/1.1 with the routes of [`route`] |
//! | `https` | the same over TLS, certificate for 127.0.0.1 signed by the `{ca_file}` CA |
//! | `tcp_echo` | sends back every byte it receives |
//! | `tcp_hello` | sends `hello, tcp\n` and closes the connection |
//! | `tcp_silent` | accepts connections and never sends anything |
//! | `tcp_closed` | a port nothing listens on (connections are refused) |
//! | `tls_echo` | `tcp_echo` over TLS, certificate for 127.0.0.1 signed by the `{ca_file}` CA |
//! | `tls_untrusted` | `tls_echo` with a certificate from a CA nobody trusts |

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tern_loopback::{
    echo_server, http_server, https_server, listen, respond, tls_echo_server, Request, TestCa,
};

/// The server names a run may list.
pub const KINDS: &[&str] = &[
    "http",
    "https",
    "tcp_echo",
    "tcp_hello",
    "tcp_silent",
    "tcp_closed",
    "tls_echo",
    "tls_untrusted",
];

/// Starts the servers `names` (see [`KINDS`]); writes the CA to `dir/ca.pem` if a TLS server needs
/// it. Returns the templates they provide.
pub fn start(names: &[String], dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut vars = BTreeMap::new();
    // One trusted CA for the run's TLS servers; the run passes its PEM with --ca-file {ca_file}.
    let trusted = if names.iter().any(|n| n == "https" || n == "tls_echo") {
        let ca = TestCa::new("tern conformance test CA")?;
        let path = ca
            .write_pem(dir)
            .with_context(|| format!("writing {}", dir.join("ca.pem").display()))?;
        vars.insert("ca_file".into(), path.display().to_string());
        Some(ca.leaf(&["127.0.0.1"])?)
    } else {
        None
    };
    let trusted = || {
        trusted
            .as_ref()
            .expect("created above for https and tls_echo")
    };
    for name in names {
        let port = match name.as_str() {
            "http" => http_server(route)?,
            "https" => https_server(trusted(), route)?,
            "tcp_echo" => echo_server()?,
            "tcp_hello" => listen(|mut stream| {
                let _ = stream.write_all(b"hello, tcp\n");
            })?,
            "tcp_silent" => {
                // Holds every connection open without a byte, until the harness exits.
                let held = Arc::new(Mutex::new(Vec::new()));
                listen(move |stream| held.lock().unwrap_or_else(|p| p.into_inner()).push(stream))?
            }
            "tcp_closed" => {
                // Bound and dropped at once: nothing listens on the port, so connections are refused.
                let listener = TcpListener::bind("127.0.0.1:0").context("bind 127.0.0.1:0")?;
                listener.local_addr()?.port()
            }
            "tls_echo" => tls_echo_server(trusted())?,
            "tls_untrusted" => {
                tls_echo_server(&TestCa::new("an untrusted CA")?.leaf(&["127.0.0.1"])?)?
            }
            other => bail!("unknown server {other:?} (known: {})", KINDS.join(", ")),
        };
        vars.insert(name.clone(), format!("127.0.0.1:{port}"));
        vars.insert(format!("{name}_port"), port.to_string());
    }
    Ok(vars)
}

/// The routes of the `http` and `https` servers (the network cases of cases.toml use these):
///
/// - `/pub/hello`: 200, `hello, http\n`
/// - `/pub/echo`: 200, the request body, with `x-method: METHOD`
/// - `/pub/chunked`: 200, `chunk one\nchunk two\n` in chunked transfer coding
/// - `/pub/redirect`: 302 to `/pub/hello`
/// - `/pub/redirect-out`: 302 to `/secret/data` (the cases do not grant `/secret`)
/// - `/pub/big`: 200, 4096 bytes of `x`
/// - `/pub/slow`: never answers (holds the connection for a minute)
/// - anything else: 404, `no such page\n`
fn route(request: &Request, out: &mut dyn Write) -> io::Result<()> {
    match request.target.as_str() {
        "/pub/hello" => respond(out, "200 OK", &[], b"hello, http\n"),
        "/pub/echo" => respond(
            out,
            "200 OK",
            &[("X-Method", &request.method)],
            &request.body,
        ),
        "/pub/chunked" => {
            out.write_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                  a\r\nchunk one\n\r\na\r\nchunk two\n\r\n0\r\n\r\n",
            )?;
            out.flush()
        }
        "/pub/redirect" => respond(out, "302 Found", &[("Location", "/pub/hello")], b""),
        "/pub/redirect-out" => respond(out, "302 Found", &[("Location", "/secret/data")], b""),
        "/pub/big" => respond(out, "200 OK", &[], &[b'x'; 4096]),
        "/pub/slow" => {
            thread::sleep(Duration::from_secs(60));
            Err(io::ErrorKind::TimedOut.into())
        }
        _ => respond(out, "404 Not Found", &[], b"no such page\n"),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read};
    use std::net::TcpStream;

    use super::*;

    fn get(addr: &str, target: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        let mut reader = BufReader::new(s);
        // One response: the head, then Content-Length bytes (the server keeps the connection).
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            text += &line;
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        text + &String::from_utf8(body).unwrap()
    }

    #[test]
    fn servers_answer_on_loopback() {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<String> = ["http", "tcp_echo", "tcp_closed", "tls_echo"]
            .map(String::from)
            .to_vec();
        let vars = start(&names, dir.path()).unwrap();
        assert!(vars["http"].starts_with("127.0.0.1:"));
        assert_eq!(vars["http"], format!("127.0.0.1:{}", vars["http_port"]));
        assert!(get(&vars["http"], "/pub/hello").ends_with("\r\n\r\nhello, http\n"));
        assert!(get(&vars["http"], "/nope").starts_with("HTTP/1.1 404"));

        let mut echo = TcpStream::connect(&vars["tcp_echo"]).unwrap();
        echo.write_all(b"ping").unwrap();
        let mut back = [0u8; 4];
        echo.read_exact(&mut back).unwrap();
        assert_eq!(&back, b"ping");

        assert!(TcpStream::connect(&vars["tcp_closed"]).is_err());
        let pem = std::fs::read_to_string(&vars["ca_file"]).unwrap();
        assert!(pem.contains("BEGIN CERTIFICATE"));
    }

    #[test]
    fn unknown_servers_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(start(&["ftp".to_string()], dir.path()).is_err());
    }
}
