//! Settings of the network schemes that come with a policy: timeouts, sizes, trusted CAs, and the
//! special address ranges granted with `--allow-private`.

use std::time::Duration;

use super::AddrRange;
use crate::{Error, Result};

/// Settings of the network schemes (`http`, `https`, `tcp`, `tls`, `dns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// How long resolving a name and connecting (TCP and TLS handshake) may take.
    pub connect_timeout: Duration,
    /// How long each phase of an HTTP exchange may take (sending the request, waiting for the
    /// response head, receiving the whole body); for `tcp` and `tls`, one read or write.
    pub timeout: Duration,
    /// The largest HTTP response body a guest may receive, in bytes.
    pub max_response_bytes: u64,
    /// The largest HTTP request (head and body) a guest may write before sending it, in bytes.
    pub max_request_bytes: usize,
    /// Trusted CA certificates (DER) in addition to the built-in web roots.
    pub ca_certs: Vec<Vec<u8>>,
    /// Special address ranges granted with `--allow-private` (see [`super::Policy::check_address`]).
    pub private_ranges: Vec<AddrRange>,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_response_bytes: 64 << 20,
            max_request_bytes: 16 << 20,
            ca_certs: Vec::new(),
            private_ranges: Vec::new(),
        }
    }
}

impl Network {
    /// Trusts every certificate in a PEM text; returns how many. No certificate at all is an error.
    #[cfg(feature = "net")]
    pub fn trust_pem(&mut self, pem: &[u8]) -> Result<usize> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::CertificateDer;
        let mut certs = Vec::new();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| Error::invalid(format!("bad PEM: {e}")))?;
            certs.push(cert.to_vec());
        }
        if certs.is_empty() {
            return Err(Error::invalid("no CERTIFICATE block in the PEM text"));
        }
        let n = certs.len();
        self.ca_certs.extend(certs);
        Ok(n)
    }

    /// Without network support there is nothing to trust: always an error.
    #[cfg(not(feature = "net"))]
    pub fn trust_pem(&mut self, _pem: &[u8]) -> Result<usize> {
        Err(Error::unsupported(
            "this tern was built without network support (feature `net`)",
        ))
    }
}
