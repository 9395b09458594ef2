//! What every network scheme shares: resolve a name once, check each address with the policy,
//! connect only to a checked address; the TLS client configuration; error mapping and reporting.
//!
//! The order matters for SSRF: a name is resolved exactly once, each address is put to
//! [`crate::Policy::check_address`], and the socket connects to one of the addresses that passed. Nothing
//! resolves the name again between the check and the connect, so a DNS answer that changes in
//! between (DNS rebinding) cannot make the host connect somewhere the policy did not see.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use url::{Host, Url};

use super::Stdio;
use crate::interrupt::{Interrupt, Wake, WAIT_STEP};
use crate::policy::Network;
use crate::process::Authoriser;
use crate::{Error, Result};

/// The most addresses kept from one lookup (as many as ureq keeps).
pub(crate) const MAX_ADDRS: usize = 16;

/// How long one network operation may wait: the policy's limit, cut to what is left of the run
/// when the run has a deadline, so a guest blocked on the network cannot outlast `--timeout`; and
/// the run's interrupt, which ends any wait at once (see [`crate::Interrupt`]).
#[derive(Clone, Debug)]
pub(crate) struct Waits {
    /// The policy's limit for resolving and connecting (TCP and the TLS handshake).
    connect: Duration,
    /// The policy's limit for one read or write (or one HTTP phase); zero means none.
    io: Duration,
    /// When the run must stop, if it has a timeout.
    deadline: Option<Instant>,
    /// The run's interrupt, if the process is running.
    interrupt: Option<Interrupt>,
}

impl Waits {
    /// The waits `policy` allows in a run that ends at `deadline` or when `interrupt` is triggered.
    pub(crate) fn new(
        network: &Network,
        deadline: Option<Instant>,
        interrupt: Option<&Interrupt>,
    ) -> Self {
        Waits {
            connect: network.connect_timeout,
            io: network.timeout,
            deadline,
            interrupt: interrupt.cloned(),
        }
    }

    /// The run's interrupt, if the process is running.
    pub(crate) fn interrupt(&self) -> Option<&Interrupt> {
        self.interrupt.as_ref()
    }

    /// Has the run's interrupt shut `stream` down when it is triggered, for as long as the
    /// returned handle is kept: a read or write blocked on it then ends at once.
    pub(crate) fn watch(&self, stream: &TcpStream) -> Result<Option<Arc<dyn Wake>>> {
        let Some(interrupt) = &self.interrupt else {
            return Ok(None);
        };
        let waker: Arc<dyn Wake> = Arc::new(SocketWaker(stream.try_clone()?));
        interrupt.on_trigger(Arc::downgrade(&waker));
        Ok(Some(waker))
    }

    /// What is left of the run; [`Error::Timeout`] once its deadline has passed.
    pub(crate) fn left(&self) -> Result<Option<Duration>> {
        match self.deadline {
            None => Ok(None),
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Ok(Some(left)),
                _ => Err(Error::Timeout("the run's timeout has passed".into())),
            },
        }
    }

    /// The wait for resolving and connecting.
    pub(crate) fn connect(&self) -> Result<Duration> {
        Ok(match self.left()? {
            Some(left) => self.connect.min(left),
            None => self.connect,
        })
    }

    /// The wait for one read or write; `None` waits as long as it takes.
    pub(crate) fn io(&self) -> Result<Option<Duration>> {
        let limit = Some(self.io).filter(|t| !t.is_zero());
        Ok(match (limit, self.left()?) {
            (Some(limit), Some(left)) => Some(limit.min(left)),
            (limit, left) => limit.or(left),
        })
    }

    /// Before a read or write on `stream`: in a run with a deadline, cuts the socket's waits to what
    /// is left of it (without one, the waits [`connect`] set stay).
    pub(crate) fn arm(&self, stream: &TcpStream) -> Result<()> {
        if self.deadline.is_some() {
            let wait = self.io()?;
            stream.set_read_timeout(wait)?;
            stream.set_write_timeout(wait)?;
        }
        Ok(())
    }
}

/// A clone of a socket, shut down by the run's interrupt.
struct SocketWaker(TcpStream);

impl Wake for SocketWaker {
    fn wake(&self) {
        let _ = self.0.shutdown(std::net::Shutdown::Both);
    }
}

/// Looks `host` up with the host's resolver, giving up after `timeout`, or at once when `interrupt`
/// is triggered; IP literals need no lookup.
///
/// An unknown name is [`Error::NotFound`]; a lookup that takes too long is [`Error::Timeout`].
pub(crate) fn resolve(
    host: &Host<&str>,
    port: u16,
    timeout: Duration,
    interrupt: Option<&Interrupt>,
) -> Result<Vec<SocketAddr>> {
    let name = match host {
        Host::Ipv4(a) => return Ok(vec![SocketAddr::new(IpAddr::V4(*a), port)]),
        Host::Ipv6(a) => return Ok(vec![SocketAddr::new(IpAddr::V6(*a), port)]),
        Host::Domain(d) => match d.parse::<IpAddr>() {
            // tcp, tls and dns URLs keep an IPv4 host as text (see `policy::host_address`).
            Ok(ip) => return Ok(vec![SocketAddr::new(ip, port)]),
            Err(_) => (*d).to_owned(),
        },
    };
    // getaddrinfo cannot be cancelled: it runs on its own thread, which is abandoned (and ends
    // on its own) if it outlives the timeout.
    let (tx, rx) = mpsc::sync_channel(1);
    let lookup = name.clone();
    std::thread::Builder::new()
        .name("tern-resolve".into())
        .spawn(move || {
            let result = (lookup.as_str(), port)
                .to_socket_addrs()
                .map(|addrs| addrs.take(MAX_ADDRS).collect::<Vec<_>>());
            let _ = tx.send(result);
        })
        .map_err(|e| Error::Unknown(format!("cannot start a resolver thread: {e}")))?;
    // Waited for in steps that see the interrupt (a lookup has nothing to shut down).
    let until = Instant::now() + timeout;
    let answer = loop {
        if interrupt.is_some_and(Interrupt::is_triggered) {
            return Err(Error::Interrupted);
        }
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left.min(WAIT_STEP)) {
            Err(mpsc::RecvTimeoutError::Timeout) if !left.is_zero() => continue,
            other => break other,
        }
    };
    let addrs = match answer {
        Ok(Ok(addrs)) => addrs,
        Ok(Err(e)) => return Err(Error::NotFound(format!("cannot resolve {name}: {e}"))),
        Err(_) => {
            return Err(Error::Timeout(format!(
                "resolving {name} took longer than {timeout:?}"
            )))
        }
    };
    if addrs.is_empty() {
        return Err(Error::NotFound(format!("{name} has no addresses")));
    }
    Ok(addrs)
}

/// Resolves `url`'s host and keeps the addresses the policy lets the host connect to.
///
/// None left is [`Error::PermissionDenied`] with the first denial, which names the grant needed
/// (recorded through `auth` like every denial).
pub(crate) fn checked_addrs(
    auth: &Authoriser,
    url: &Url,
    port: u16,
    timeout: Duration,
    interrupt: Option<&Interrupt>,
) -> Result<Vec<SocketAddr>> {
    let host = url
        .host()
        .ok_or_else(|| Error::invalid(format!("{url}: no host")))?;
    let mut first_denial = None;
    let mut allowed = Vec::new();
    for addr in resolve(&host, port, timeout, interrupt)? {
        match auth.address(url, addr.ip()) {
            Ok(()) => allowed.push(addr),
            Err(denial) => {
                first_denial.get_or_insert(denial);
            }
        }
    }
    match first_denial {
        Some(denial) if allowed.is_empty() => Err(auth.refuse(url, denial)),
        _ => Ok(allowed),
    }
}

/// Connects to one of `url`'s checked addresses within the connect wait, trying them in the
/// resolver's order; reads and writes then wait at most the network timeout (both cut by `waits`).
pub(crate) fn connect(auth: &Authoriser, url: &Url, port: u16, waits: &Waits) -> Result<TcpStream> {
    let start = Instant::now();
    let budget = waits.connect()?;
    let addrs = checked_addrs(auth, url, port, budget, waits.interrupt())?;
    let mut last = None;
    for addr in addrs {
        let left = budget.saturating_sub(start.elapsed());
        if left.is_zero() {
            break;
        }
        match connect_one(&addr, left, waits.interrupt()) {
            Ok(stream) => {
                let wait = waits.io()?;
                stream.set_read_timeout(wait)?;
                stream.set_write_timeout(wait)?;
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = Some((addr, e)),
        }
    }
    Err(match last {
        Some((addr, e)) => io_error(e, &format!("connecting to {addr}")),
        None => Error::Timeout(format!("connecting took longer than {budget:?}")),
    })
}

/// Connects to `addr` within `timeout`. With an interrupt (on Linux) the connect is made
/// non-blocking and waited for in steps that check it: a connect to a host that drops the SYN
/// otherwise waits the whole connect timeout.
pub(crate) fn connect_one(
    addr: &SocketAddr,
    timeout: Duration,
    interrupt: Option<&Interrupt>,
) -> io::Result<TcpStream> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(interrupt) = interrupt {
        return connect_interruptibly(addr, timeout, interrupt);
    }
    let _ = interrupt;
    TcpStream::connect_timeout(addr, timeout)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn connect_interruptibly(
    addr: &SocketAddr,
    timeout: Duration,
    interrupt: &Interrupt,
) -> io::Result<TcpStream> {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    use rustix::io::Errno;
    use rustix::net::{AddressFamily, SocketFlags, SocketType};
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    };
    let flags = SocketFlags::CLOEXEC | SocketFlags::NONBLOCK;
    let socket = rustix::net::socket_with(family, SocketType::STREAM, flags, None)?;
    match rustix::net::connect(&socket, addr) {
        Ok(()) => {}
        Err(Errno::INPROGRESS | Errno::INTR) => {
            let until = Instant::now() + timeout;
            loop {
                if interrupt.is_triggered() {
                    return Err(io::Error::other(Error::Interrupted));
                }
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(io::ErrorKind::TimedOut.into());
                }
                let step = Timespec::try_from(left.min(WAIT_STEP)).ok();
                let mut fds = [PollFd::new(&socket, PollFlags::OUT)];
                match poll(&mut fds, step.as_ref()) {
                    Ok(0) | Err(Errno::INTR) => continue,
                    Ok(_) => break,
                    Err(e) => return Err(e.into()),
                }
            }
            rustix::net::sockopt::socket_error(&socket)?.map_err(io::Error::from)?;
        }
        Err(e) => return Err(e.into()),
    }
    rustix::io::ioctl_fionbio(&socket, false)?;
    Ok(TcpStream::from(socket))
}

/// Maps an I/O error on a network stream: a timeout is [`Error::Timeout`], every other failure
/// (refused, reset, closed early, …) is [`Error::ConnectionFailed`].
pub(crate) fn io_error(e: io::Error, doing: &str) -> Error {
    match e.kind() {
        // A socket timeout surfaces as EAGAIN on Linux, whose text ("Resource temporarily
        // unavailable") reads like a different failure.
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Error::Timeout(format!(
            "{doing}: no progress before the time limit (network timeout or --timeout)"
        )),
        io::ErrorKind::PermissionDenied => Error::PermissionDenied(e.to_string()),
        _ => Error::ConnectionFailed(format!("{doing}: {e}")),
    }
}

/// The crypto provider every TLS connection uses (ring: it builds for every board tern targets).
pub(crate) fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The built-in roots, parsed once per process: parsing ~150 certificates is the costly part.
fn web_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut store = RootCertStore::empty();
        store.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
        store
    })
}

/// A policy's TLS client configuration, built at its first use and then shared by every TLS
/// connection made under the policy, `tls:` and `https:` alike, in every run: parsing the ~150
/// built-in roots is the costly part, and one configuration also means one session cache (a
/// second connection to a server resumes the first one's session).
#[derive(Default)]
pub(crate) struct TlsCache(OnceLock<(Vec<Vec<u8>>, Arc<ClientConfig>)>);

impl TlsCache {
    /// The configuration for `network`: the cached one if it was built for the same CAs (a policy
    /// changed after its first use gets a fresh one, uncached).
    pub(crate) fn get(&self, network: &Network) -> Result<Arc<ClientConfig>> {
        if let Some((cas, config)) = self.0.get() {
            return if *cas == network.ca_certs {
                Ok(Arc::clone(config))
            } else {
                tls_config(network)
            };
        }
        let config = tls_config(network)?;
        // Two first uses at once may both build; one of them is kept.
        let (_, kept) = self.0.get_or_init(|| (network.ca_certs.clone(), config));
        Ok(Arc::clone(kept))
    }
}

impl Clone for TlsCache {
    /// A copy of a policy may be changed: it builds its own configuration.
    fn clone(&self) -> Self {
        TlsCache::default()
    }
}

impl std::fmt::Debug for TlsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "TlsCache(built)"
        } else {
            "TlsCache(empty)"
        })
    }
}

/// A TLS client configuration verifying certificates and host names against the built-in roots
/// and the policy's extra CAs.
pub(crate) fn tls_config(network: &Network) -> Result<Arc<ClientConfig>> {
    let mut roots = web_roots().clone();
    for der in &network.ca_certs {
        roots
            .add(CertificateDer::from(der.as_slice()))
            .map_err(|e| Error::invalid(format!("a trusted CA certificate is unusable: {e}")))?;
    }
    let config = ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Unknown(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The port `url` names, or its scheme's default; a network URL without either is invalid.
pub(crate) fn port_of(url: &Url) -> Result<u16> {
    url.port_or_known_default().ok_or_else(|| {
        Error::invalid(format!(
            "{url}: a port is required (such as {}://host:443)",
            url.scheme()
        ))
    })
}

/// Passes `result` through, writing a failure to the guest's log as a host diagnostic first:
/// the guest gets only an error number, so the reason goes to whoever runs it.
pub(crate) fn report<T>(stdio: &Stdio, url: &Url, result: Result<T>) -> Result<T> {
    if let Err(e) = &result {
        // A denial was reported already, by the authoriser, in the one format every denial has.
        if *e != Error::Eof && !matches!(e, Error::PermissionDenied(_)) {
            stdio.diagnostic(&format!("{url}: {e}"));
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;
    use crate::Policy;

    fn url(raw: &str) -> Url {
        normalize(raw).unwrap()
    }

    /// Private and link-local literals are refused before any connection is attempted (these
    /// tests must never send a packet to such an address, so they stop at the check).
    #[test]
    fn special_literals_are_refused_before_connecting() {
        let mut policy = Policy::new();
        policy.allow("tcp:").unwrap();
        policy.allow("http:").unwrap();
        for raw in [
            "tcp://10.0.0.1:22",
            "tcp://192.168.1.1:80",
            "tcp://172.16.0.1:80",
            "tcp://169.254.169.254:80",
            "tcp://[fe80::1]:80",
            "tcp://[fd00::1]:80",
            "tcp://0.0.0.0:80",
            "tcp://127.0.0.1:80",
            "tcp://[::ffff:10.0.0.1]:80",
            "tcp://2130706433:80",
            "http://169.254.169.254/latest/meta-data",
        ] {
            let u = url(raw);
            let port = port_of(&u).unwrap();
            let auth = Authoriser::detached(policy.clone());
            let e = checked_addrs(&auth, &u, port, Duration::from_secs(1), None).unwrap_err();
            assert!(matches!(e, Error::PermissionDenied(_)), "{raw}: {e}");
            let waits = Waits::new(&policy.network, None, None);
            let e = connect(&auth, &u, port, &waits).unwrap_err();
            assert!(e.to_string().contains("--allow-private"), "{raw}: {e}");
        }
    }

    #[test]
    fn localhost_resolves_to_loopback_and_is_refused() {
        let mut policy = Policy::new();
        policy.allow("tcp://localhost").unwrap();
        let u = url("tcp://localhost:9");
        let auth = Authoriser::detached(policy.clone());
        let e = checked_addrs(&auth, &u, 9, Duration::from_secs(5), None).unwrap_err();
        assert!(e.to_string().contains("resolves to"), "{e}");
        policy.allow_private("127.0.0.0/8").unwrap();
        policy.allow_private("::1").unwrap();
        let auth = Authoriser::detached(policy);
        let addrs = checked_addrs(&auth, &u, 9, Duration::from_secs(5), None).unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }

    #[test]
    fn unknown_names_are_not_found() {
        let host = Host::Domain("no-such-host.invalid");
        let e = resolve(&host, 80, Duration::from_secs(10), None).unwrap_err();
        assert!(matches!(e, Error::NotFound(_) | Error::Timeout(_)), "{e}");
    }

    #[test]
    fn ports_are_required_without_a_default() {
        assert_eq!(port_of(&url("https://h/")).unwrap(), 443);
        assert_eq!(port_of(&url("tcp://h:5432")).unwrap(), 5432);
        assert!(port_of(&url("tcp://h")).is_err());
    }

    #[test]
    fn tls_config_takes_extra_roots() {
        let mut policy = Policy::new();
        assert!(tls_config(&policy.network).is_ok());
        policy.network.ca_certs.push(b"not a certificate".to_vec());
        assert!(tls_config(&policy.network).is_err());
    }

    #[test]
    fn a_policy_builds_one_tls_config_for_all_its_runs() {
        let policy = Arc::new(Policy::new());
        let first = Authoriser::detached_shared(Arc::clone(&policy));
        let second = Authoriser::detached_shared(Arc::clone(&policy));
        let a = first.tls_config().unwrap();
        assert!(Arc::ptr_eq(&a, &second.tls_config().unwrap()));
        // A changed copy of the policy has its own.
        let mut copy = (*policy).clone();
        copy.network.ca_certs.push(b"not a certificate".to_vec());
        assert!(Authoriser::detached(copy).tls_config().is_err());
        assert!(Arc::ptr_eq(&a, &first.tls_config().unwrap()));
    }
}
