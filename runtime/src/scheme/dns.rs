//! `dns://name`: reading returns the addresses the host's resolver gives for the name, one per
//! line. Nothing connects to them, so no address check applies; the grant is for the name.

use std::collections::BTreeSet;
use std::io::{Cursor, Read};
use std::net::IpAddr;

use url::Url;

use super::{net, Resource, Stdio};
use crate::{Error, Result};

/// The answer to one lookup, read like a small file.
pub struct Dns(Cursor<Vec<u8>>);

impl Resource for Dns {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        Ok(self.0.read(buf)?)
    }
}

/// Resolves `dns://name` at open: an unknown name fails the open with not-found.
pub(super) fn open(url: &Url, stdio: &Stdio, waits: net::Waits) -> Result<Box<dyn Resource>> {
    let lookup = || -> Result<Vec<u8>> {
        let host = url
            .host()
            .ok_or_else(|| Error::invalid("dns: needs a name (dns://example.com)"))?;
        let addrs = net::resolve(&host, 0, waits.connect()?, waits.interrupt())?;
        // getaddrinfo repeats an address once per socket type; each is listed once, in order.
        let mut seen = BTreeSet::<IpAddr>::new();
        let mut text = String::new();
        for addr in addrs {
            if seen.insert(addr.ip()) {
                text += &format!("{}\n", addr.ip());
            }
        }
        Ok(text.into_bytes())
    };
    let text = net::report(stdio, url, lookup())?;
    Ok(Box::new(Dns(Cursor::new(text))))
}
