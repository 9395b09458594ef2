//! The policy: which URLs a guest may open, and the limits it runs under.
//!
//! Every rule works on URLs already put in canonical form by [`crate::normalize::normalize`].
//! Rules come from three places: the schemes in [`tern_abi::scheme::GRANTED_BY_DEFAULT`], the
//! `--allow`/`--deny` flags ([`Policy::allow`], [`Policy::deny`]) and Olin policy files
//! ([`Policy::add_olin`]). A URL is granted when some grant matches it and no denial does: **deny
//! always wins**, and everything not granted is denied.
//!
//! # Grants and denials from URLs
//!
//! `--allow https://api.example.com/v1` matches a URL when
//! - the scheme is equal;
//! - the host is equal, exactly (no suffix matching: `api.example.com.evil.net` is another host);
//! - the port is equal, comparing `port_or_known_default()`: a grant without a port means the
//!   scheme's default port only. For schemes without a known default port (`tcp`, `tls`, `dns`,
//!   …) a grant without a port means *any* port;
//! - the grant's path is a prefix of the URL's path on segment boundaries, comparing
//!   percent-decoded, non-empty segments: `/srv/data` covers `/srv/data` and `/srv/data/x` but not
//!   `/srv/database`; a path of `/` or nothing covers everything on the host.
//!
//! Query strings in grants are ignored. A grant without a host and path (`null:`, `null://`,
//! `log:`, `https:`) covers every URL of that scheme.
//!
//! # The network: address checks
//!
//! A network URL names a host; the grant decides whether the guest may use that name. What the
//! name resolves to is checked separately, by [`Policy::check_address`], for every address the
//! host is about to connect to (the schemes resolve once, check each address and connect only to
//! a checked one, so a DNS answer that changes between check and connect cannot slip through).
//! Addresses in special ranges — unspecified, loopback, private, shared (carrier-grade NAT),
//! link-local, multicast, reserved; see [`special_address`] — are refused unless
//! - the URL's host *is* that address, written literally, and a grant naming that host explicitly
//!   covers the URL (`--allow http://127.0.0.1:8080`; a scheme-wide grant such as `--allow http:`
//!   is not explicit), or
//! - the address lies in a range granted with `--allow-private` (`--allow-private 10.0.0.0/8`,
//!   `--allow-private 127.0.0.1`; an Olin file says `allow-private RANGE`).
//!
//! So `--allow http://localhost:8080` alone does not reach 127.0.0.1: the name is granted, the
//! address it resolves to is not. [`Network`] holds the ranges, the extra trusted CA
//! certificates (`--ca-file`, Olin `ca-file PATH`), the timeouts and the size limits.
//!
//! # Olin policy files
//!
//! The format is Olin's: `##` comment lines, blank lines, `allow (` … `)` and `disallow (` … `)`
//! blocks with one regular expression per line (or `allow PATTERN` on one line, as confyg allows),
//! `ram-page-limit N` (→ [`Limits::max_memory_pages`]) and `gas-limit N` (→ [`Limits::fuel`]).
//! tern adds two directives for the network: `ca-file PATH` (trust the CA certificates in a PEM
//! file, read when the policy is loaded; a relative path is relative to the current directory)
//! and `allow-private RANGE` (see above).
//! Limits that a file does not mention are left as they are (Olin filled in defaults of 128 pages
//! and 32 Mi instructions).
//!
//! tern changes two things, because Olin's behaviour left holes:
//! - Olin matched a pattern anywhere in the URL, so `https://api\.example\.com` also matched
//!   `https://api.example.com.evil.net/` and `https://evil.net/?https://api.example.com`. tern
//!   compiles each pattern as `^(?:PATTERN)(?:[/?#].*)?$` and matches it against the normalised
//!   URL: it must match from the start and end at the end of the URL or before a `/`, `?` or `#`.
//!   A pattern ending in `/` therefore covers only that exact URL; leave the slash off
//!   (`https://host/api/webhooks`) to cover everything below.
//! - In Olin an allow won over a disallow; in tern a disallow wins, like `--deny`. Olin's habit of
//!   ending a file with `disallow ( .* )` as "deny the rest" would deny everything in tern, and is
//!   not needed: tern denies what is not granted.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use regex_lite::Regex;
use url::{Host, Position, Url};

use crate::normalize::{decoded_segments, normalize};
use crate::{Error, Result};

/// Resource limits a guest runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Instructions (wasmi fuel) the guest may execute; `None` is unlimited.
    pub fuel: Option<u64>,
    /// 64 KiB pages of linear memory the guest may grow to; `None` is the module's own maximum.
    pub max_memory_pages: Option<u32>,
    /// Wall-clock time the guest may run; `None` is unlimited.
    pub timeout: Option<Duration>,
    /// Handles the guest may hold open at once.
    pub max_handles: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: None,
            max_memory_pages: None,
            timeout: None,
            max_handles: 1024,
        }
    }
}

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
    /// Special address ranges granted with `--allow-private` (see [`Policy::check_address`]).
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

/// An address range granted with `--allow-private`: `10.0.0.0/8`, `fe80::/10`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrRange {
    /// The first address of the range (host bits cleared).
    base: IpAddr,
    /// The prefix length in bits.
    prefix: u8,
}

impl AddrRange {
    /// Parses `ADDR` or `ADDR/PREFIX`; host bits below the prefix must be zero.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid(format!("address range {text:?}: {why}"));
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let base: IpAddr = addr
            .parse()
            .map_err(|_| bad("expected an IPv4 or IPv6 address such as 10.0.0.0/8 or fe80::/10"))?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| bad(&format!("the prefix must be a number from 0 to {max}")))?,
        };
        let range = AddrRange { base, prefix };
        if range.masked(base) != bits(base) {
            return Err(bad("bits are set below the prefix length"));
        }
        Ok(range)
    }

    /// Whether `addr` lies in the range; an IPv4-mapped IPv6 address counts as its IPv4 address.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        addr.is_ipv4() == self.base.is_ipv4() && self.masked(addr) == bits(self.base)
    }

    /// `addr`'s bits with everything below the prefix cleared.
    fn masked(&self, addr: IpAddr) -> u128 {
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let host_bits = u32::from(width - self.prefix);
        let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
        bits(addr) & mask
    }
}

impl fmt::Display for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// The address `url`'s host names literally, if it is an IP address rather than a name.
///
/// The `url` crate keeps the host of a non-special scheme (`tcp`, `tls`, `dns`) as text even when it
/// is an IPv4 address, so the text is parsed here as well.
pub fn host_address(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(a) => Some(IpAddr::V4(a)),
        Host::Ipv6(a) => Some(IpAddr::V6(a)),
        Host::Domain(d) => d
            .strip_prefix('[')
            .and_then(|d| d.strip_suffix(']'))
            .unwrap_or(d)
            .parse()
            .ok(),
    }
}

/// An address as a number (IPv4 in the low 32 bits).
fn bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) as the IPv4 address it reaches.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// The kind of special range `addr` lies in, or `None` for an ordinary (public) address.
///
/// IPv4: 0.0.0.0/8 unspecified, 127.0.0.0/8 loopback, 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16
/// private, 100.64.0.0/10 shared (carrier-grade NAT), 169.254.0.0/16 link-local, 224.0.0.0/4
/// multicast, 240.0.0.0/4 reserved (with the broadcast address). IPv6: `::` unspecified, `::1`
/// loopback, fc00::/7 and fec0::/10 private, fe80::/10 link-local, ff00::/8 multicast, the rest of
/// ::/96 reserved; an IPv4 address embedded in ::ffff:0:0/96 (mapped), 64:ff9b::/96 (NAT64) or
/// 2002::/16 (6to4) is judged as that IPv4 address.
pub fn special_address(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(a) => special_v4(a),
        IpAddr::V6(a) => special_v6(a),
    }
}

/// [`special_address`] for IPv4.
fn special_v4(a: Ipv4Addr) -> Option<&'static str> {
    let [b0, b1, ..] = a.octets();
    match (b0, b1) {
        (0, _) => Some("unspecified"),
        (127, _) => Some("loopback"),
        (10, _) | (192, 168) => Some("private"),
        (172, 16..=31) => Some("private"),
        (100, 64..=127) => Some("shared (carrier-grade NAT)"),
        (169, 254) => Some("link-local"),
        (224..=239, _) => Some("multicast"),
        (240..=255, _) => Some("reserved"),
        _ => None,
    }
}

/// [`special_address`] for IPv6.
fn special_v6(a: Ipv6Addr) -> Option<&'static str> {
    let s = a.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if a.is_unspecified() {
        Some("unspecified")
    } else if a.is_loopback() {
        Some("loopback")
    } else if let Some(v4) = a.to_ipv4_mapped() {
        special_v4(v4)
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        special_v4(embedded(s[6], s[7]))
    } else if s[0] == 0x2002 {
        special_v4(embedded(s[1], s[2]))
    } else if s[..6] == [0; 6] {
        Some("reserved")
    } else if s[0] & 0xfe00 == 0xfc00 || s[0] & 0xffc0 == 0xfec0 {
        Some("private")
    } else if s[0] & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if s[0] & 0xff00 == 0xff00 {
        Some("multicast")
    } else {
        None
    }
}

/// The grants, denials and limits for one guest.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Rules that grant, in the order they were added.
    allows: Vec<Rule>,
    /// Rules that deny, in the order they were added; checked first.
    denies: Vec<Rule>,
    /// Resource limits.
    pub limits: Limits,
    /// Network settings: timeouts, size limits, trusted CAs, granted special address ranges.
    pub network: Network,
}

impl Default for Policy {
    fn default() -> Self {
        Self::new()
    }
}

impl Policy {
    /// A policy that grants only [`tern_abi::scheme::GRANTED_BY_DEFAULT`], with default limits.
    pub fn new() -> Self {
        let allows = tern_abi::scheme::GRANTED_BY_DEFAULT
            .iter()
            .map(|scheme| Rule {
                matcher: Matcher::Url(UrlRule::scheme_only(scheme)),
                source: Source::Default,
            })
            .collect();
        Policy {
            allows,
            denies: Vec::new(),
            limits: Limits::default(),
            network: Network::default(),
        }
    }

    /// Adds a grant (`--allow URL`); a URL that does not parse is an [`Error::InvalidArgument`].
    pub fn allow(&mut self, url: &str) -> Result<()> {
        let rule = UrlRule::parse(url)?;
        self.allows.push(Rule {
            matcher: Matcher::Url(rule),
            source: Source::Flag,
        });
        Ok(())
    }

    /// Adds a denial (`--deny URL`), which wins over every grant.
    pub fn deny(&mut self, url: &str) -> Result<()> {
        let rule = UrlRule::parse(url)?;
        self.denies.push(Rule {
            matcher: Matcher::Url(rule),
            source: Source::Flag,
        });
        Ok(())
    }

    /// Grants connections to a special address range (`--allow-private 10.0.0.0/8`).
    pub fn allow_private(&mut self, range: &str) -> Result<()> {
        self.network.private_ranges.push(AddrRange::parse(range)?);
        Ok(())
    }

    /// Decides whether the host may connect to `addr`, which `url`'s host resolved to: `url` must
    /// be granted ([`Policy::check`]) and `addr` must be ordinary or granted (module documentation).
    pub fn check_address(&self, url: &Url, addr: IpAddr) -> Result<(), Denial> {
        self.check(url)?;
        let Some(kind) = special_address(addr) else {
            return Ok(());
        };
        if self.network.private_ranges.iter().any(|r| r.contains(addr)) {
            return Ok(());
        }
        let literal = host_address(url);
        if literal == Some(addr) {
            let segments = decoded_segments(url);
            let explicit = self.allows.iter().any(|r| match &r.matcher {
                Matcher::Url(u) => u.host.is_some() && u.matches(url, &segments),
                Matcher::Pattern { .. } => false,
            });
            if explicit {
                return Ok(());
            }
        }
        Err(Denial {
            url: url.to_string(),
            reason: Reason::SpecialAddress {
                addr,
                kind,
                literal: literal.is_some(),
            },
        })
    }

    /// Merges an Olin policy file; on error nothing is merged and the message names the line.
    pub fn add_olin(&mut self, text: &str) -> Result<()> {
        let olin = parse_olin(text)?;
        self.allows.extend(olin.allows);
        self.denies.extend(olin.denies);
        self.network.ca_certs.extend(olin.network.ca_certs);
        self.network
            .private_ranges
            .extend(olin.network.private_ranges);
        if olin.ram_page_limit.is_some() {
            self.limits.max_memory_pages = olin.ram_page_limit;
        }
        if olin.gas_limit.is_some() {
            self.limits.fuel = olin.gas_limit;
        }
        Ok(())
    }

    /// Decides whether `url` (normalised, as [`crate::Process::open`] does) may be opened.
    pub fn check(&self, url: &Url) -> Result<(), Denial> {
        // Normalising again is cheap and keeps a caller that skipped it from slipping past a rule.
        let url = match normalize(url.as_str()) {
            Ok(u) => u,
            Err(e) => {
                let message = match e {
                    Error::InvalidArgument(m) => m,
                    other => other.to_string(),
                };
                return Err(Denial {
                    url: url.to_string(),
                    reason: Reason::Invalid { message },
                });
            }
        };
        let segments = decoded_segments(&url);
        if let Some(rule) = self.denies.iter().find(|r| r.matches(&url, &segments)) {
            let reason = match (&rule.matcher, rule.source) {
                (Matcher::Url(u), Source::Default | Source::Flag) => Reason::Denied {
                    rule: u.shown.clone(),
                },
                (_, Source::Olin { line }) => Reason::DisallowPattern { line },
                (Matcher::Pattern { text, .. }, _) => Reason::Denied { rule: text.clone() },
            };
            return Err(Denial {
                url: url.to_string(),
                reason,
            });
        }
        if self.allows.iter().any(|r| r.matches(&url, &segments)) {
            return Ok(());
        }
        Err(Denial {
            reason: Reason::NotGranted {
                suggestion: suggestion(&url),
            },
            url: url.into(),
        })
    }

    /// A human-readable line per grant and denial, in the order they are considered.
    pub fn grants(&self) -> Vec<String> {
        let denies = self.denies.iter().map(|r| r.describe("deny"));
        denies
            .chain(self.allows.iter().map(|r| r.describe("allow")))
            .collect()
    }
}

/// Why a URL may not be opened: names the URL and the grant or rule that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The URL that was refused, in normalised form when it could be normalised.
    pub url: String,
    /// What decided it.
    reason: Reason,
}

impl Denial {
    /// The `--allow` argument that would grant the URL, if it was refused only for lack of a grant.
    pub fn suggestion(&self) -> Option<&str> {
        match &self.reason {
            Reason::NotGranted { suggestion } => Some(suggestion),
            _ => None,
        }
    }
}

/// What decided a [`Denial`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reason {
    /// No grant matched.
    NotGranted {
        /// The `--allow` argument that would grant the URL.
        suggestion: String,
    },
    /// A `--deny` rule matched.
    Denied {
        /// The rule as shown to users.
        rule: String,
    },
    /// A `disallow` pattern in an Olin policy file matched.
    DisallowPattern {
        /// The pattern's line in its file.
        line: usize,
    },
    /// The URL could not be normalised, so no rule can vouch for it.
    Invalid {
        /// Why normalisation failed.
        message: String,
    },
    /// The host is, or resolves to, a special address that is not granted.
    SpecialAddress {
        /// The address.
        addr: IpAddr,
        /// Its kind, from [`special_address`].
        kind: &'static str,
        /// Whether the URL names the address literally (rather than a name resolving to it).
        literal: bool,
    },
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = &self.url;
        match &self.reason {
            Reason::NotGranted { suggestion } => {
                write!(
                    f,
                    "{url} is not granted (grant it with --allow {suggestion})"
                )
            }
            Reason::Denied { rule } => write!(f, "{url} is denied by --deny {rule}"),
            Reason::DisallowPattern { line } => write!(
                f,
                "{url} is denied by disallow pattern on line {line} of the policy"
            ),
            Reason::Invalid { message } => write!(f, "{url} is not granted ({message})"),
            Reason::SpecialAddress {
                addr,
                kind,
                literal: true,
            } => write!(
                f,
                "{url}: {addr} is a {kind} address, reachable only through a grant naming it \
                 (--allow with this host) or --allow-private {addr}"
            ),
            Reason::SpecialAddress { addr, kind, .. } => write!(
                f,
                "{url}: the host resolves to {addr}, a {kind} address, which is not granted \
                 (grant it with --allow-private {addr})"
            ),
        }
    }
}

impl std::error::Error for Denial {}

impl From<Denial> for Error {
    fn from(denial: Denial) -> Self {
        Error::PermissionDenied(denial.to_string())
    }
}

/// The narrowest `--allow` argument that grants `url`: host and port for network URLs, the full
/// path for `file:`, the scheme alone for host-less schemes.
fn suggestion(url: &Url) -> String {
    if url.scheme() == tern_abi::scheme::FILE {
        url[..Position::AfterPath].to_owned()
    } else if url.host_str().is_some_and(|h| !h.is_empty()) {
        url[..Position::AfterPort].to_owned()
    } else {
        format!("{}:", url.scheme())
    }
}

/// One grant or denial and where it came from.
#[derive(Debug, Clone)]
struct Rule {
    /// What it matches.
    matcher: Matcher,
    /// Where it came from, for messages.
    source: Source,
}

impl Rule {
    /// Whether the rule covers `url`, whose decoded path segments are `segments`.
    fn matches(&self, url: &Url, segments: &[Vec<u8>]) -> bool {
        match &self.matcher {
            Matcher::Url(rule) => rule.matches(url, segments),
            Matcher::Pattern { regex, .. } => regex.is_match(url.as_str()),
        }
    }

    /// One line for [`Policy::grants`].
    fn describe(&self, verb: &str) -> String {
        let what = match &self.matcher {
            Matcher::Url(rule) if rule.any_port() => format!("{} (any port)", rule.shown),
            Matcher::Url(rule) => rule.shown.clone(),
            Matcher::Pattern { text, .. } => format!("pattern {text}"),
        };
        let source = match self.source {
            Source::Default => "default".to_owned(),
            Source::Flag => format!("--{verb}"),
            Source::Olin { line } => format!("policy line {line}"),
        };
        format!("{verb} {what} ({source})")
    }
}

/// How a rule matches URLs.
#[derive(Debug, Clone)]
enum Matcher {
    /// Scheme, host, port and path prefix (from `--allow`/`--deny` and the defaults).
    Url(UrlRule),
    /// An anchored regular expression (from an Olin policy file).
    Pattern {
        /// The pattern as written.
        text: String,
        /// The anchored, compiled pattern.
        regex: Regex,
    },
}

/// Where a rule came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// `GRANTED_BY_DEFAULT`.
    Default,
    /// `--allow` or `--deny`.
    Flag,
    /// A line of an Olin policy file.
    Olin {
        /// 1-based line number.
        line: usize,
    },
}

/// A rule parsed from a URL (see the module documentation for how it matches).
#[derive(Debug, Clone, PartialEq, Eq)]
struct UrlRule {
    /// Scheme, lower case.
    scheme: String,
    /// Exact host; `None` matches any host (scheme-only and `file:` rules).
    host: Option<String>,
    /// Port; `None` matches any port.
    port: Option<u16>,
    /// Decoded, non-empty path segments that must prefix the URL's.
    segments: Vec<Vec<u8>>,
    /// The rule as shown to users.
    shown: String,
}

impl UrlRule {
    /// A rule covering every URL of `scheme`.
    fn scheme_only(scheme: &str) -> Self {
        UrlRule {
            scheme: scheme.to_ascii_lowercase(),
            host: None,
            port: None,
            segments: Vec::new(),
            shown: format!("{}:", scheme.to_ascii_lowercase()),
        }
    }

    /// Parses a `--allow`/`--deny` argument.
    fn parse(raw: &str) -> Result<Self> {
        // `https:` and `https://` do not parse as URLs (special schemes need a host), yet
        // "every https URL" is a reasonable thing to grant or deny.
        let bare = raw.strip_suffix("//").unwrap_or(raw);
        if let Some(scheme) = bare.strip_suffix(':') {
            if is_scheme(scheme) {
                return Ok(UrlRule::scheme_only(scheme));
            }
        }
        let url = normalize(raw)?;
        let host = url.host_str().filter(|h| !h.is_empty()).map(str::to_owned);
        let segments = decoded_segments(&url);
        if host.is_none() && segments.is_empty() {
            return Ok(UrlRule::scheme_only(url.scheme()));
        }
        let port = host.as_ref().and(url.port_or_known_default());
        let mut shown = url[..Position::AfterPath].to_owned();
        if url.path().len() > 1 || host.is_some() {
            // `https://h/` and `file:///srv/` read better without the slash and mean the same.
            if let Some(trimmed) = shown.strip_suffix('/') {
                shown = trimmed.to_owned();
            }
        }
        Ok(UrlRule {
            scheme: url.scheme().to_owned(),
            host,
            port,
            segments,
            shown,
        })
    }

    /// Whether a host without a port in the rule stands for every port.
    fn any_port(&self) -> bool {
        self.host.is_some() && self.port.is_none()
    }

    /// Whether the rule covers `url`, whose decoded path segments are `segments`.
    fn matches(&self, url: &Url, segments: &[Vec<u8>]) -> bool {
        url.scheme() == self.scheme
            && self
                .host
                .as_deref()
                .is_none_or(|h| url.host_str() == Some(h))
            && self
                .port
                .is_none_or(|p| url.port_or_known_default() == Some(p))
            && segments.starts_with(&self.segments)
    }
}

/// Whether `s` is a valid URL scheme (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`).
fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The parsed content of one Olin policy file, merged only once the whole file is valid.
#[derive(Debug, Default)]
struct Olin {
    /// `allow` patterns.
    allows: Vec<Rule>,
    /// `disallow` patterns.
    denies: Vec<Rule>,
    /// `ram-page-limit`.
    ram_page_limit: Option<u32>,
    /// `gas-limit`.
    gas_limit: Option<u64>,
    /// `ca-file` certificates and `allow-private` ranges.
    network: Network,
}

/// Which kind of pattern block is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// `allow (`
    Allow,
    /// `disallow (`
    Disallow,
}

impl Block {
    /// The directive's name.
    fn name(self) -> &'static str {
        match self {
            Block::Allow => "allow",
            Block::Disallow => "disallow",
        }
    }
}

/// An error's message without the name of its kind, to put after a policy line number.
fn message(e: Error) -> String {
    match e {
        Error::InvalidArgument(m) | Error::Unsupported(m) => m,
        other => other.to_string(),
    }
}

/// Parses an Olin policy file (see the module documentation).
fn parse_olin(text: &str) -> Result<Olin> {
    let mut olin = Olin::default();
    // The open block and the line that opened it.
    let mut open: Option<(Block, usize)> = None;
    for (index, line) in text.lines().enumerate() {
        let n = index + 1;
        let err = |msg: String| Error::invalid(format!("policy line {n}: {msg}"));
        let line = line.trim();
        if line.is_empty() || line.starts_with("##") {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some((block, _)) = open {
            match words.as_slice() {
                [")"] => open = None,
                [pattern] => olin.push(block, pattern, n)?,
                _ => {
                    return Err(err(format!(
                        "expected one pattern or `)` inside the {} block, found {line:?}",
                        block.name()
                    )))
                }
            }
            continue;
        }
        match words.as_slice() {
            [kind @ ("allow" | "disallow"), "("] => {
                let block = if *kind == "allow" {
                    Block::Allow
                } else {
                    Block::Disallow
                };
                open = Some((block, n));
            }
            ["allow", pattern] => olin.push(Block::Allow, pattern, n)?,
            ["disallow", pattern] => olin.push(Block::Disallow, pattern, n)?,
            ["ram-page-limit", value] => {
                if olin.ram_page_limit.is_some() {
                    return Err(err("ram-page-limit is given twice".to_owned()));
                }
                let pages = value.parse::<u32>().map_err(|e| {
                    err(format!(
                        "ram-page-limit needs a number of pages, not {value:?}: {e}"
                    ))
                })?;
                olin.ram_page_limit = Some(pages);
            }
            ["gas-limit", value] => {
                if olin.gas_limit.is_some() {
                    return Err(err("gas-limit is given twice".to_owned()));
                }
                let gas = value.parse::<u64>().map_err(|e| {
                    err(format!(
                        "gas-limit needs a number of instructions, not {value:?}: {e}"
                    ))
                })?;
                olin.gas_limit = Some(gas);
            }
            ["allow-private", range] => {
                let range = AddrRange::parse(range).map_err(|e| err(message(e)))?;
                olin.network.private_ranges.push(range);
            }
            ["ca-file", path] => {
                let pem = std::fs::read(path)
                    .map_err(|e| err(format!("ca-file {path}: cannot read it: {e}")))?;
                olin.network
                    .trust_pem(&pem)
                    .map_err(|e| err(format!("ca-file {path}: {}", message(e))))?;
            }
            [")", ..] => return Err(err("`)` without an open block".to_owned())),
            [directive @ ("allow" | "disallow" | "ram-page-limit" | "gas-limit"
            | "allow-private" | "ca-file"), ..] => {
                return Err(err(format!(
                    "{directive} takes one argument, found {line:?}"
                )))
            }
            [directive, ..] => {
                return Err(err(format!(
                    "unknown directive {directive:?} (expected allow, disallow, ram-page-limit, \
                     gas-limit, allow-private, ca-file or a ## comment)"
                )))
            }
            [] => {}
        }
    }
    if let Some((block, line)) = open {
        return Err(Error::invalid(format!(
            "policy line {line}: the {} block opened here is never closed with `)`",
            block.name()
        )));
    }
    Ok(olin)
}

impl Olin {
    /// Compiles `pattern` from line `n` and adds it to the block's rules.
    fn push(&mut self, block: Block, pattern: &str, n: usize) -> Result<()> {
        let bad = |e: regex_lite::Error| {
            Error::invalid(format!("policy line {n}: bad pattern {pattern:?}: {e}"))
        };
        // Compiled alone first, so a pattern like `a)|(b` cannot break out of the anchoring group.
        Regex::new(pattern).map_err(bad)?;
        let regex = Regex::new(&format!("^(?:{pattern})(?:[/?#].*)?$")).map_err(bad)?;
        let rule = Rule {
            matcher: Matcher::Pattern {
                text: pattern.to_owned(),
                regex,
            },
            source: Source::Olin { line: n },
        };
        match block {
            Block::Allow => self.allows.push(rule),
            Block::Disallow => self.denies.push(rule),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Normalises `raw` and checks it, so tests read like `Process::open`.
    fn check(policy: &Policy, raw: &str) -> std::result::Result<(), String> {
        let url = normalize(raw).map_err(|e| format!("normalize: {e}"))?;
        policy.check(&url).map_err(|d| d.to_string())
    }

    /// Asserts that `raw` is granted.
    fn granted(policy: &Policy, raw: &str) {
        if let Err(e) = check(policy, raw) {
            panic!("{raw} should be granted: {e}");
        }
    }

    /// Asserts that `raw` is not granted (denied by the policy or rejected by `normalize`).
    fn refused(policy: &Policy, raw: &str) -> String {
        match check(policy, raw) {
            Ok(()) => panic!("{raw} should not be granted"),
            Err(e) => e,
        }
    }

    /// Asserts that `raw` is denied by the policy itself, returning the denial's message.
    fn denied(policy: &Policy, raw: &str) -> String {
        let e = refused(policy, raw);
        assert!(!e.starts_with("normalize:"), "{raw}: {e}");
        e
    }

    fn with_allow(grants: &[&str]) -> Policy {
        let mut p = Policy::new();
        for g in grants {
            p.allow(g).unwrap();
        }
        p
    }

    fn olin(text: &str) -> Policy {
        let mut p = Policy::new();
        p.add_olin(text).unwrap();
        p
    }

    fn olin_error(text: &str) -> String {
        match Policy::new().add_olin(text) {
            Ok(()) => panic!("{text:?} was accepted"),
            Err(Error::InvalidArgument(m)) => m,
            Err(e) => panic!("wrong error kind {e:?}"),
        }
    }

    #[test]
    fn https_host_grant_is_exact() {
        let p = with_allow(&["https://api.example.com"]);
        denied(&p, "https://api.example.com.evil.net/");
        denied(&p, "https://evil.net/?https://api.example.com");
        let e = refused(&p, "https://api.example.com@evil.net/");
        assert!(e.contains("user info"), "{e}");
        denied(&p, "http://api.example.com/");
        denied(&p, "https://api.example.com:8443/");
        denied(&p, "https://example.com/");
        denied(&p, "https://sub.api.example.com/");
        granted(&p, "https://api.example.com/v1/x?y=1");
        granted(&p, "https://API.example.com:443/");
        granted(&p, "https://api.example.com./x");
    }

    #[test]
    fn file_grant_is_a_segment_prefix() {
        let p = with_allow(&["file:///srv/data"]);
        denied(&p, "file:///srv/database");
        denied(&p, "file:///srv/data/../etc/passwd");
        denied(&p, "file:///srv/data/%2e%2e/etc/passwd");
        denied(&p, "file:///srv/data/%2E./etc/passwd");
        denied(&p, "file:///srv/data/.%2e/etc/passwd");
        refused(&p, "file:///srv/data/a%2f..%2f..%2fetc");
        denied(&p, "file:///srv");
        denied(&p, "file:///");
        granted(&p, "file:///srv/data/in.csv");
        granted(&p, "file:///srv/data");
        granted(&p, "file:///srv/data/");
        granted(&p, "file://localhost/srv/data/sub/x");
        granted(&p, "file:///srv//data/x");
        granted(&p, "file:///srv/d%61ta/x");
    }

    #[test]
    fn grant_path_of_slash_covers_the_host() {
        let p = with_allow(&["https://h/", "file:///"]);
        granted(&p, "https://h/anything/at/all");
        granted(&p, "file:///etc/passwd");
        let p = with_allow(&["https://h/api/"]);
        granted(&p, "https://h/api/v1");
        granted(&p, "https://h/api");
        denied(&p, "https://h/apiary");
        denied(&p, "https://h/");
    }

    #[test]
    fn grant_queries_are_ignored() {
        let p = with_allow(&["https://h/a?only=this"]);
        granted(&p, "https://h/a?other=1");
        granted(&p, "https://h/a/b");
    }

    #[test]
    fn ports_without_a_known_default_mean_any_port() {
        let p = with_allow(&["tcp://db"]);
        granted(&p, "tcp://db:5432");
        granted(&p, "tcp://DB:1");
        denied(&p, "tcp://db2:5432");
        let p = with_allow(&["tcp://db:5432"]);
        granted(&p, "tcp://db:5432");
        denied(&p, "tcp://db:5433");
        denied(&p, "tcp://db");
        let p = with_allow(&["https://h:8443"]);
        granted(&p, "https://h:8443/x");
        denied(&p, "https://h/x");
    }

    #[test]
    fn scheme_only_grants_cover_the_scheme() {
        for grant in ["null://", "null:", "NULL:"] {
            // No defaults, so the grant itself is what is tested.
            let mut p = Policy {
                allows: Vec::new(),
                denies: Vec::new(),
                limits: Limits::default(),
                network: Network::default(),
            };
            p.allow(grant).unwrap();
            granted(&p, "null://");
            granted(&p, "null:");
            granted(&p, "null://whatever/x?y");
            denied(&p, "zero://");
        }
        let p = with_allow(&["https:", "tcp://"]);
        granted(&p, "https://anything.example/x");
        granted(&p, "tcp://db:5432");
        denied(&p, "http://anything.example/");
    }

    #[test]
    fn bad_grants_are_invalid_arguments() {
        let mut p = Policy::new();
        for bad in [
            "",
            " https://x",
            "https:///",
            "not a url",
            "https://u@h/",
            "file://h/x",
        ] {
            assert!(
                matches!(p.allow(bad), Err(Error::InvalidArgument(_))),
                "{bad:?}"
            );
            assert!(
                matches!(p.deny(bad), Err(Error::InvalidArgument(_))),
                "{bad:?}"
            );
        }
        assert_eq!(p.grants().len(), tern_abi::scheme::GRANTED_BY_DEFAULT.len());
    }

    #[test]
    fn deny_wins_over_allow() {
        let mut p = with_allow(&["file:///srv", "https://h"]);
        p.deny("file:///srv/secret").unwrap();
        p.deny("https://h/admin").unwrap();
        granted(&p, "file:///srv/public/x");
        let e = denied(&p, "file:///srv/secret/key");
        assert_eq!(
            e,
            "file:///srv/secret/key is denied by --deny file:///srv/secret"
        );
        denied(&p, "file:///srv//secret/key");
        denied(&p, "file:///srv/s%65cret/key");
        denied(&p, "https://h/admin?x=1");
        denied(&p, "https://h//admin");
        granted(&p, "https://h/administrator");
        // Allowing again after the deny changes nothing.
        p.allow("file:///srv/secret").unwrap();
        denied(&p, "file:///srv/secret");
    }

    #[test]
    fn deny_wins_over_defaults() {
        let mut p = Policy::new();
        granted(&p, "random://");
        p.deny("random:").unwrap();
        let e = denied(&p, "random://");
        assert_eq!(e, "random:// is denied by --deny random:");
        granted(&p, "zero://");
    }

    #[test]
    fn defaults_are_granted() {
        let p = Policy::new();
        for raw in [
            "log://?prefix=job",
            "null://",
            "zero://",
            "random://",
            "fd://0",
            "fd://2",
        ] {
            granted(&p, raw);
        }
        assert_eq!(Policy::default().grants(), p.grants());
        assert_eq!(p.limits, Limits::default());
        assert_eq!(p.limits.max_handles, 1024);
    }

    #[test]
    fn everything_else_is_denied() {
        let p = Policy::new();
        for raw in [
            "file:///etc/passwd",
            "https://example.com/",
            "http://example.com/",
            "tcp://db:5432",
            "tls://h:443",
            "dns://example.com",
            "gopher://h/",
            "mailto:x@example.com",
        ] {
            denied(&p, raw);
        }
    }

    #[test]
    fn denials_suggest_the_grant() {
        let p = Policy::new();
        let cases = [
            ("https://evil.net/x", "https://evil.net"),
            ("https://evil.net:8443/x?q", "https://evil.net:8443"),
            ("tcp://db:5432", "tcp://db:5432"),
            ("file:///etc/passwd", "file:///etc/passwd"),
            ("mailto:x@example.com", "mailto:"),
        ];
        for (raw, grant) in cases {
            let url = normalize(raw).unwrap();
            let d = p.check(&url).unwrap_err();
            assert_eq!(d.suggestion(), Some(grant), "{raw}");
            assert_eq!(d.url, url.as_str());
            assert_eq!(
                d.to_string(),
                format!("{url} is not granted (grant it with --allow {grant})")
            );
            // The suggestion really grants it.
            let mut fixed = Policy::new();
            fixed.allow(grant).unwrap();
            assert_eq!(fixed.check(&url), Ok(()), "{raw}");
        }
    }

    #[test]
    fn denial_converts_to_permission_denied() {
        let d = Policy::new()
            .check(&normalize("https://evil.net/x").unwrap())
            .unwrap_err();
        let e: Error = d.clone().into();
        assert_eq!(e, Error::PermissionDenied(d.to_string()));
        assert_eq!(e.code(), tern_abi::errno::PERMISSION_DENIED);
    }

    #[test]
    fn check_renormalises_its_input() {
        let p = with_allow(&["file:///srv/data"]);
        let raw = Url::parse("file:///srv/data/a%2f..%2f..%2fetc").unwrap();
        let d = p.check(&raw).unwrap_err();
        assert!(d.to_string().contains("encoded `/`"), "{d}");
        assert_eq!(d.suggestion(), None);
        let mut p = with_allow(&["tcp:"]);
        p.deny("tcp://127.0.0.1").unwrap();
        assert!(p
            .check(&Url::parse("tcp://2130706433:22").unwrap())
            .is_err());
    }

    #[test]
    fn grants_lists_rules() {
        let mut p = Policy::new();
        p.allow("https://api.example.com/v1/").unwrap();
        p.allow("tcp://db").unwrap();
        p.deny("file:///etc").unwrap();
        p.add_olin("allow (\n  https://x\\.y\n)\n").unwrap();
        let g = p.grants();
        assert_eq!(g[0], "deny file:///etc (--deny)");
        assert!(g.contains(&"allow log: (default)".to_owned()), "{g:?}");
        assert!(g.contains(&"allow https://api.example.com/v1 (--allow)".to_owned()));
        assert!(g.contains(&"allow tcp://db (any port) (--allow)".to_owned()));
        assert!(g.contains(&"allow pattern https://x\\.y (policy line 2)".to_owned()));
    }

    #[test]
    fn olin_file_parses() {
        let text = "\
## This is an example policy

## URL patterns this handler can open
allow (
  https://api\\.example\\.com
  ## a comment inside a block
  file:///srv/data/.*\\.csv
)

disallow (
  https://api\\.example\\.com/admin
)
allow https://one\\.example
disallow file:///srv/data/secret\\.csv

ram-page-limit 128
gas-limit 1048576
";
        let p = olin(text);
        assert_eq!(p.limits.max_memory_pages, Some(128));
        assert_eq!(p.limits.fuel, Some(1_048_576));
        assert_eq!(p.limits.timeout, None);
        granted(&p, "https://api.example.com/v1");
        granted(&p, "https://one.example/");
        granted(&p, "file:///srv/data/in.csv");
        denied(&p, "file:///srv/data/in.txt");
        let e = denied(&p, "https://api.example.com/admin/users");
        assert_eq!(
            e,
            "https://api.example.com/admin/users is denied by disallow pattern on line 11 of the policy"
        );
        let e = denied(&p, "file:///srv/data/secret.csv");
        assert!(e.ends_with("on line 14 of the policy"), "{e}");
        // The defaults still hold.
        granted(&p, "null://");
    }

    #[test]
    fn olin_patterns_are_anchored() {
        let p = olin("allow (\n  https://api\\.example\\.com\n)\n");
        denied(&p, "https://api.example.com.evil.net/");
        denied(&p, "https://evil.net/?https://api.example.com");
        denied(&p, "https://evil.net/https://api.example.com");
        denied(&p, "https://api.example.com:8443/");
        granted(&p, "https://api.example.com/v1");
        granted(&p, "https://api.example.com");
        granted(&p, "https://api.example.com?x=1");
        // A pattern cannot break out of the anchoring group.
        let e = olin_error("allow (\n  x)|(.*\n)\n");
        assert!(e.starts_with("policy line 2: bad pattern"), "{e}");
        // Alternations are anchored as a whole.
        let p = olin("allow a://x|https://h\n");
        denied(&p, "https://evil.net/?https://h");
        granted(&p, "https://h/x");
    }

    #[test]
    fn olin_disallow_wins() {
        let p = olin("allow (\n  https://.*\n)\ndisallow (\n  https://evil\\.net\n)\n");
        granted(&p, "https://good.net/");
        denied(&p, "https://evil.net/x");
        // Disallow also wins over the defaults and over --allow.
        let mut p = olin("disallow (\n  random://\n  https://h\n)\n");
        p.allow("https://h").unwrap();
        denied(&p, "random://");
        denied(&p, "https://h/");
    }

    #[test]
    fn olin_merges_and_is_atomic() {
        let mut p = Policy::new();
        p.add_olin("gas-limit 10\n").unwrap();
        p.add_olin("ram-page-limit 2\n").unwrap();
        assert_eq!(p.limits.fuel, Some(10));
        assert_eq!(p.limits.max_memory_pages, Some(2));
        let before = p.grants();
        assert!(p
            .add_olin("allow https://h\ngas-limit 99\nbogus\n")
            .is_err());
        assert_eq!(p.grants(), before);
        assert_eq!(p.limits.fuel, Some(10));
        p.add_olin("").unwrap();
        p.add_olin("## only a comment\n\n").unwrap();
        assert_eq!(p.grants(), before);
    }

    #[test]
    fn olin_errors_name_the_line() {
        let cases = [
            (
                "## ok\nfrobnicate 3\n",
                "policy line 2: unknown directive \"frobnicate\"",
            ),
            ("# single hash\n", "policy line 1: unknown directive \"#\""),
            (
                "allow (\n  https://h\n",
                "policy line 1: the allow block opened here is never closed",
            ),
            (
                "\ndisallow (\n",
                "policy line 2: the disallow block opened here is never closed",
            ),
            (
                "allow (\n)\n)\n",
                "policy line 3: `)` without an open block",
            ),
            (
                "allow (\n  allow (\n)\n",
                "policy line 2: expected one pattern or `)`",
            ),
            ("allow (\n  a b\n)\n", "policy line 2: expected one pattern"),
            (
                "allow (\n  https://(\n)\n",
                "policy line 2: bad pattern \"https://(\"",
            ),
            ("\n\ndisallow [\n", "policy line 3: bad pattern \"[\""),
            (
                "ram-page-limit lots\n",
                "policy line 1: ram-page-limit needs a number",
            ),
            (
                "ram-page-limit -1\n",
                "policy line 1: ram-page-limit needs a number",
            ),
            (
                "ram-page-limit 4294967296\n",
                "policy line 1: ram-page-limit needs a number",
            ),
            ("gas-limit 1.5\n", "policy line 1: gas-limit needs a number"),
            ("gas-limit\n", "policy line 1: gas-limit takes one argument"),
            (
                "gas-limit 1 2\n",
                "policy line 1: gas-limit takes one argument",
            ),
            (
                "gas-limit 1\ngas-limit 2\n",
                "policy line 2: gas-limit is given twice",
            ),
            (
                "ram-page-limit 1\nram-page-limit 2\n",
                "policy line 2: ram-page-limit is given twice",
            ),
            ("allow\n", "policy line 1: allow takes one argument"),
            ("allow ( x\n", "policy line 1: allow takes one argument"),
        ];
        for (text, expected) in cases {
            let e = olin_error(text);
            assert!(e.starts_with(expected), "{text:?}: {e:?}");
        }
    }

    #[test]
    fn olin_handles_crlf_and_indentation() {
        let p = olin("## windows\r\nallow (\r\n\thttps://h\r\n  )\r\ngas-limit 5\r\n");
        granted(&p, "https://h/x");
        assert_eq!(p.limits.fuel, Some(5));
    }

    fn addr(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn special_addresses_are_classified() {
        let cases = [
            ("0.0.0.0", Some("unspecified")),
            ("0.1.2.3", Some("unspecified")),
            ("127.0.0.1", Some("loopback")),
            ("127.255.0.9", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.16.0.1", Some("private")),
            ("172.31.255.255", Some("private")),
            ("172.32.0.1", None),
            ("192.168.1.1", Some("private")),
            ("169.254.169.254", Some("link-local")),
            ("100.64.0.1", Some("shared (carrier-grade NAT)")),
            ("100.128.0.1", None),
            ("224.0.0.1", Some("multicast")),
            ("255.255.255.255", Some("reserved")),
            ("8.8.8.8", None),
            ("::", Some("unspecified")),
            ("::1", Some("loopback")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:10.0.0.1", Some("private")),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::a9fe:a9fe", Some("link-local")),
            ("2002:7f00:1::", Some("loopback")),
            ("::127.0.0.1", Some("reserved")),
            ("fc00::1", Some("private")),
            ("fd12:3456::1", Some("private")),
            ("fec0::1", Some("private")),
            ("fe80::1", Some("link-local")),
            ("febf::1", Some("link-local")),
            ("ff02::1", Some("multicast")),
            ("2001:4860:4860::8888", None),
        ];
        for (text, kind) in cases {
            assert_eq!(special_address(addr(text)), kind, "{text}");
        }
    }

    #[test]
    fn address_ranges_parse_and_match() {
        let r = AddrRange::parse("10.0.0.0/8").unwrap();
        assert!(r.contains(addr("10.255.0.1")));
        assert!(r.contains(addr("::ffff:10.0.0.1")));
        assert!(!r.contains(addr("11.0.0.1")));
        assert!(!r.contains(addr("::a00:1")));
        assert_eq!(r.to_string(), "10.0.0.0/8");
        let one = AddrRange::parse("127.0.0.1").unwrap();
        assert!(one.contains(addr("127.0.0.1")));
        assert!(!one.contains(addr("127.0.0.2")));
        let v6 = AddrRange::parse("fe80::/10").unwrap();
        assert!(v6.contains(addr("fe80::1")));
        assert!(!v6.contains(addr("fec0::1")));
        assert!(AddrRange::parse("0.0.0.0/0")
            .unwrap()
            .contains(addr("1.2.3.4")));
        for bad in [
            "10.0.0.1/8",
            "10.0.0.0/33",
            "::/129",
            "host",
            "10/8",
            "10.0.0.0/x",
            "",
        ] {
            assert!(AddrRange::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn special_addresses_need_an_explicit_grant() {
        let url = |raw: &str| normalize(raw).unwrap();
        // A scheme-wide grant covers the URL but is not explicit about the address.
        let p = with_allow(&["http:", "tcp:"]);
        assert_eq!(
            p.check_address(&url("http://example.com/"), addr("93.184.216.34")),
            Ok(())
        );
        for (raw, a) in [
            ("http://127.0.0.1:8080/", "127.0.0.1"),
            ("http://localhost:8080/", "127.0.0.1"),
            ("tcp://10.0.0.1:22", "10.0.0.1"),
            ("tcp://169.254.169.254:80", "169.254.169.254"),
            ("tcp://0.0.0.0:80", "0.0.0.0"),
            ("tcp://[::1]:80", "::1"),
            ("tcp://[fe80::1]:80", "fe80::1"),
            ("tcp://internal.example:5432", "::ffff:192.168.0.5"),
        ] {
            let d = p.check_address(&url(raw), addr(a)).unwrap_err();
            assert!(
                d.to_string().contains(&format!("--allow-private {a}")),
                "{d}"
            );
        }
        // A grant naming the literal address is explicit; a grant naming a name is not.
        let p = with_allow(&[
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "tcp://[::1]",
        ]);
        assert_eq!(
            p.check_address(&url("http://127.0.0.1:8080/x"), addr("127.0.0.1")),
            Ok(())
        );
        assert_eq!(p.check_address(&url("tcp://[::1]:9"), addr("::1")), Ok(()));
        let d = p
            .check_address(&url("http://localhost:8080/"), addr("127.0.0.1"))
            .unwrap_err();
        assert_eq!(
            d.to_string(),
            "http://localhost:8080/: the host resolves to 127.0.0.1, a loopback address, which is \
             not granted (grant it with --allow-private 127.0.0.1)"
        );
        // The URL itself must still be granted, and a denial still wins.
        assert!(p
            .check_address(&url("http://127.0.0.1:9/"), addr("127.0.0.1"))
            .is_err());
        let mut p = with_allow(&["http://127.0.0.1:8080"]);
        p.deny("http://127.0.0.1:8080/admin").unwrap();
        assert!(p
            .check_address(&url("http://127.0.0.1:8080/admin"), addr("127.0.0.1"))
            .is_err());
        // --allow-private grants the range for names too.
        let mut p = with_allow(&["http://localhost:8080"]);
        p.allow_private("127.0.0.0/8").unwrap();
        assert_eq!(
            p.check_address(&url("http://localhost:8080/"), addr("127.0.0.1")),
            Ok(())
        );
        assert!(p
            .check_address(&url("http://localhost:8080/"), addr("::1"))
            .is_err());
        assert!(p.allow_private("bogus").is_err());
    }

    #[test]
    fn olin_network_directives() {
        let p = olin("allow-private 10.0.0.0/8\nallow-private fe80::/10\n");
        assert_eq!(p.network.private_ranges.len(), 2);
        let e = olin_error("allow-private 10.0.0.1/8\n");
        assert!(e.starts_with("policy line 1: address range"), "{e}");
        let e = olin_error("\nca-file /nonexistent/ca.pem\n");
        assert!(
            e.starts_with("policy line 2: ca-file /nonexistent/ca.pem: cannot read"),
            "{e}"
        );
        let e = olin_error("ca-file\n");
        assert!(
            e.starts_with("policy line 1: ca-file takes one argument"),
            "{e}"
        );
    }
}
