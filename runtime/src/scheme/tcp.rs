//! `tcp://host:port`: a bidirectional byte stream to a checked address.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;

use url::Url;

use super::{net, Resource, Stdio};
use crate::interrupt::Wake;
use crate::process::Authoriser;
use crate::Result;

/// An open TCP connection.
pub struct Tcp {
    /// The connection.
    stream: TcpStream,
    /// How long each read or write may wait.
    waits: net::Waits,
    /// The URL it was opened with, for diagnostics.
    url: Url,
    /// Where failures are reported.
    stdio: Stdio,
    /// Registers the connection with the run's interrupt, which shuts it down (while kept).
    _interrupt_watch: Option<Arc<dyn Wake>>,
}

impl Resource for Tcp {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let result = self.waits.arm(&self.stream).and_then(|()| {
            self.stream
                .read(buf)
                .map_err(|e| net::io_error(e, "reading"))
        });
        net::report(&self.stdio, &self.url, result)
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        let result = self.waits.arm(&self.stream).and_then(|()| {
            self.stream
                .write_all(buf)
                .map(|()| buf.len())
                .map_err(|e| net::io_error(e, "writing"))
        });
        net::report(&self.stdio, &self.url, result)
    }

    fn close(&mut self) -> Result<()> {
        // The peer sees the end of the stream at once, even if a clone of the socket lingers.
        let _ = self.stream.shutdown(Shutdown::Both);
        Ok(())
    }
}

/// Connects to `tcp://host:port` (the port is required).
pub(super) fn open(
    url: &Url,
    stdio: &Stdio,
    auth: &Authoriser,
    waits: net::Waits,
) -> Result<Box<dyn Resource>> {
    let result = net::port_of(url).and_then(|port| {
        let stream = net::connect(auth, url, port, &waits)?;
        Ok((waits.watch(&stream)?, stream))
    });
    let (watch, stream) = net::report(stdio, url, result)?;
    Ok(Box::new(Tcp {
        stream,
        waits,
        url: url.clone(),
        stdio: stdio.clone(),
        _interrupt_watch: watch,
    }))
}
