//! `tls://host:port`: a byte stream over TLS, with the certificate and the host name verified
//! against the built-in roots and the policy's extra CAs.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};
use url::{Host, Url};

use super::{net, Resource, Stdio};
use crate::interrupt::Wake;
use crate::policy::host_address;
use crate::process::Authoriser;
use crate::{Error, Result};

/// An open, verified TLS connection.
pub struct Tls {
    /// The TLS session over its socket.
    stream: StreamOwned<ClientConnection, TcpStream>,
    /// How long each read or write may wait.
    waits: net::Waits,
    /// The URL it was opened with, for diagnostics.
    url: Url,
    /// Where failures are reported.
    stdio: Stdio,
    /// Registers the connection with the run's interrupt, which shuts it down (while kept).
    _interrupt_watch: Option<Arc<dyn Wake>>,
}

impl Resource for Tls {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let result = self
            .waits
            .arm(&self.stream.sock)
            .and_then(|()| match self.stream.read(buf) {
                // A peer that closes without close_notify has still ended the stream.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
                other => other.map_err(|e| net::io_error(e, "reading")),
            });
        net::report(&self.stdio, &self.url, result)
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        let result = self.waits.arm(&self.stream.sock).and_then(|()| {
            self.stream
                .write_all(buf)
                .and_then(|()| self.stream.flush())
                .map(|()| buf.len())
                .map_err(|e| net::io_error(e, "writing"))
        });
        net::report(&self.stdio, &self.url, result)
    }

    fn close(&mut self) -> Result<()> {
        self.stream.conn.send_close_notify();
        let _ = self.stream.flush();
        let _ = self.stream.sock.shutdown(Shutdown::Both);
        Ok(())
    }
}

/// Connects to `tls://host:port` and completes the handshake, so a bad certificate fails the open.
pub(super) fn open(
    url: &Url,
    stdio: &Stdio,
    auth: &Authoriser,
    waits: net::Waits,
) -> Result<Box<dyn Resource>> {
    let (watch, stream) = net::report(stdio, url, handshake(url, auth, &waits))?;
    Ok(Box::new(Tls {
        stream,
        waits,
        url: url.clone(),
        stdio: stdio.clone(),
        _interrupt_watch: watch,
    }))
}

/// Connects and verifies the server within the connect wait; the socket is watched by the run's
/// interrupt from the connect on, so the handshake is cut short by it too.
#[allow(clippy::type_complexity)]
fn handshake(
    url: &Url,
    auth: &Authoriser,
    waits: &net::Waits,
) -> Result<(
    Option<Arc<dyn Wake>>,
    StreamOwned<ClientConnection, TcpStream>,
)> {
    // An address is verified against the certificate's IP addresses, a name against its names.
    let name = match (host_address(url), url.host()) {
        (Some(ip), _) => ServerName::from(ip),
        (None, Some(Host::Domain(d))) => ServerName::try_from(d.to_owned())
            .map_err(|e| Error::invalid(format!("{d}: not a valid TLS server name: {e}")))?,
        _ => return Err(Error::invalid("no host")),
    };
    let port = net::port_of(url)?;
    let mut sock = net::connect(auth, url, port, waits)?;
    let watch = waits.watch(&sock)?;
    let connect_wait = Some(waits.connect()?).filter(|t| !t.is_zero());
    sock.set_read_timeout(connect_wait)?;
    sock.set_write_timeout(connect_wait)?;
    let mut conn = ClientConnection::new(auth.tls_config()?, name)
        .map_err(|e| Error::ConnectionFailed(format!("TLS: {e}")))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| match e.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                Error::Timeout(format!("TLS handshake: {e}"))
            }
            _ => Error::ConnectionFailed(format!("TLS handshake: {e}")),
        })?;
    }
    let wait = waits.io()?;
    sock.set_read_timeout(wait)?;
    sock.set_write_timeout(wait)?;
    Ok((watch, StreamOwned::new(conn, sock)))
}
