//! TCP and TLS streams and name lookups, made by the host (ABI.md §4.2).
//!
//! [`TcpStream`] and [`TlsStream`] are byte streams to `host:port` that the host connects (and, for
//! TLS, verifies: certificate and host name); [`lookup`] asks the host's resolver. Each needs a grant
//! in the host's policy (`tern run --allow tcp://db.internal:5432`); an address on a loopback, private
//! or link-local network also needs that address granted (`--allow-private 10.0.0.0/8`).
//!
//! ```no_run
//! use tern_guest::net::TcpStream;
//!
//! let conn = TcpStream::connect("127.0.0.1", 6379)?;
//! conn.write_all(b"PING\r\n")?;
//! let mut reply = [0u8; 7];
//! conn.read_exact(&mut reply)?;
//! # Ok::<(), tern_guest::Error>(())
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;

use crate::{Error, Resource};

/// The URL for `scheme://host:port`, with an IPv6 address in brackets.
fn url(scheme: &str, host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("{scheme}://[{host}]:{port}")
    } else {
        format!("{scheme}://{host}:{port}")
    }
}

macro_rules! stream {
    ($name:ident, $scheme:literal, $what:literal) => {
        #[doc = concat!("A ", $what, " connection (`", $scheme, "://host:port`); closed when dropped.")]
        ///
        /// With the `std` feature it also implements `std::io::Read` and `std::io::Write`.
        #[derive(Debug)]
        pub struct $name(Resource);

        impl $name {
            #[doc = concat!("Connects to `host` (a name or an IP address) at `port` (`", $scheme, "://host:port`).")]
            pub fn connect(host: &str, port: u16) -> Result<Self, Error> {
                Resource::open(&url($scheme, host, port)).map($name)
            }

            /// Reads up to `buf.len()` bytes; `Ok(0)` when the peer has closed its side.
            pub fn read(&self, buf: &mut [u8]) -> Result<usize, Error> {
                self.0.read(buf)
            }

            /// Fills `buf`, or fails with [`Error::Eof`] if the peer closes first.
            pub fn read_exact(&self, buf: &mut [u8]) -> Result<(), Error> {
                self.0.read_exact(buf)
            }

            /// Reads until the peer closes, appending to `buf`; returns how many bytes were read.
            pub fn read_to_end(&self, buf: &mut Vec<u8>) -> Result<usize, Error> {
                self.0.read_to_end(buf)
            }

            /// Sends `buf`; returns how many bytes were sent (all of them).
            pub fn write(&self, buf: &[u8]) -> Result<usize, Error> {
                self.0.write(buf)
            }

            /// Sends all of `buf`.
            pub fn write_all(&self, buf: &[u8]) -> Result<(), Error> {
                self.0.write_all(buf)
            }

            /// Flushes (the host sends each write at once, so this only reports errors).
            pub fn flush(&self) -> Result<(), Error> {
                self.0.flush()
            }

            /// The handle behind the stream.
            pub fn resource(&self) -> &Resource {
                &self.0
            }

            /// Closes the connection.
            pub fn close(self) {
                self.0.close()
            }
        }

        #[cfg(feature = "std")]
        impl std::io::Read for $name {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                Ok($name::read(self, buf)?)
            }
        }

        #[cfg(feature = "std")]
        impl std::io::Write for $name {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                Ok($name::write(self, buf)?)
            }

            fn flush(&mut self) -> std::io::Result<()> {
                Ok($name::flush(self)?)
            }
        }
    };
}

stream!(TcpStream, "tcp", "TCP");
stream!(TlsStream, "tls", "TLS");

/// The addresses `name` resolves to, in the host resolver's order (`dns://name`).
///
/// ```no_run
/// for addr in tern_guest::net::lookup("example.com")? {
///     tern_guest::println!("{addr}");
/// }
/// # Ok::<(), tern_guest::Error>(())
/// ```
pub fn lookup(name: &str) -> Result<Vec<IpAddr>, Error> {
    let text = Resource::open(&format!("dns://{name}"))?.read_string()?;
    parse_addresses(&text)
}

/// One address per line, as `dns://` returns them.
fn parse_addresses(text: &str) -> Result<Vec<IpAddr>, Error> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.parse().map_err(|_| Error::InvalidArgument))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_bracket_ipv6() {
        assert_eq!(url("tcp", "db", 5432), "tcp://db:5432");
        assert_eq!(url("tls", "::1", 443), "tls://[::1]:443");
        assert_eq!(url("tls", "[::1]", 443), "tls://[::1]:443");
    }

    #[test]
    fn addresses_parse() {
        let addrs = parse_addresses("127.0.0.1\n::1\n").unwrap();
        assert_eq!(addrs.len(), 2);
        assert!(addrs.iter().all(IpAddr::is_loopback));
        assert_eq!(
            parse_addresses("not an address\n"),
            Err(Error::InvalidArgument)
        );
        assert_eq!(parse_addresses(""), Ok(Vec::new()));
    }

    #[test]
    fn off_wasm32_connects_are_unsupported() {
        #[cfg(not(target_arch = "wasm32"))]
        assert_eq!(
            TcpStream::connect("h", 1).map(|_| ()),
            Err(Error::Unsupported)
        );
    }
}
