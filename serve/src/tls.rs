//! TLS termination (`--tls-cert`, `--tls-key`): rustls with the ring provider, behind the `tls`
//! feature so the minimal build leaves it out.

use std::path::Path;

use tokio::net::TcpStream;

use crate::Error;

#[cfg(feature = "tls")]
/// A TLS acceptor, cheap to clone.
pub type Acceptor = tokio_rustls::TlsAcceptor;

#[cfg(not(feature = "tls"))]
/// Without the `tls` feature there is no acceptor.
#[derive(Clone)]
pub enum Acceptor {}

/// Loads a certificate chain and key (PEM) into an acceptor.
#[cfg(feature = "tls")]
pub fn acceptor(cert: &Path, key: &Path) -> Result<Acceptor, Error> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| Error::new(format!("--tls-cert {}: {e}", cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| Error::new(format!("--tls-key {}: {e}", key.display())))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::new(format!("TLS certificate and key: {e}")))?;
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}

/// Without the `tls` feature, asking for TLS is an error.
#[cfg(not(feature = "tls"))]
pub fn acceptor(_cert: &Path, _key: &Path) -> Result<Acceptor, Error> {
    Err(Error::new(
        "--tls-cert/--tls-key: this tern was built without TLS serving (feature `tls` of tern-serve)",
    ))
}

/// Completes the TLS handshake.
#[cfg(feature = "tls")]
pub async fn accept(
    acceptor: &Acceptor,
    stream: TcpStream,
) -> std::io::Result<tokio_rustls::server::TlsStream<TcpStream>> {
    acceptor.accept(stream).await
}

/// Without the `tls` feature there is nothing to accept.
#[cfg(not(feature = "tls"))]
pub async fn accept(acceptor: &Acceptor, _stream: TcpStream) -> std::io::Result<TcpStream> {
    match *acceptor {}
}
