//! The policy: which URLs a guest may open (the grants). The limits a run is held to are a value of
//! their own, [`Limits`].
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
//! Query strings in grants are ignored, except `mode`: `--allow URL?mode=r` (or `--allow-read URL`,
//! [`Policy::allow_read`]) is a read-only grant ([`Access`]): it covers opening to read, while a
//! `file:` open that could change the file needs a read-write grant ([`Policy::check_write`]).
//! `?mode=rw` or no mode is read-write. A grant without a host and path (`null:`, `null://`,
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
//! `ram-page-limit N` (→ [`Limits::max_memory_pages`]) and `gas-limit N` (→ [`Limits::fuel`]);
//! [`Policy::add_olin`] returns those in [`OlinSettings`] beside the rules it merges.
//! tern adds two directives for the network: `ca-file PATH` (trust the CA certificates in a PEM
//! file; the parser returns the path and the caller reads it, a relative path being relative to
//! the current directory)
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

mod addr;
mod denial;
mod limits;
mod olin;
mod rule;
mod settings;

use std::net::IpAddr;

use url::Url;

pub use self::addr::{host_address, special_address, AddrRange};
pub use self::denial::{shortened, Denial};
pub use self::limits::Limits;
pub use self::olin::OlinSettings;
pub use self::settings::Network;

use self::denial::{suggestion, Reason};
pub use self::rule::Access;
use self::rule::{literal_start, Matcher, Rule, Source, UrlRule};
use crate::normalize::{decoded_segments, normalize};
use crate::{Error, Result};

/// The grants and denials for one guest, and its network settings.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Rules that grant, in the order they were added.
    allows: Vec<Rule>,
    /// Rules that deny, in the order they were added; checked first.
    denies: Vec<Rule>,
    /// Network settings: timeouts, size limits, trusted CAs, granted special address ranges.
    pub network: Network,
    /// The verdicts on `random:` and `log:`, which every process needs for its direct calls
    /// (`random_*`, `log_write`): worked out whenever the rules change, so that starting a process
    /// asks nothing of the rules.
    defaults: DefaultVerdicts,
    /// The TLS client configuration built from `network`, shared by every run under the policy.
    #[cfg(feature = "net")]
    pub(crate) tls: crate::scheme::net::TlsCache,
}

/// [`Policy`]'s cached verdicts on the schemes guests use without a handle.
#[derive(Debug, Clone, Default)]
struct DefaultVerdicts {
    random: Option<Denial>,
    log: Option<Denial>,
}

/// A scheme a guest uses through direct calls as well as through handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirectScheme {
    /// `random:` (`random_i32/i64/fill`, WASI `random_get`).
    Random,
    /// `log:` (`log_write`).
    Log,
}

impl Default for Policy {
    fn default() -> Self {
        Self::new()
    }
}

impl Policy {
    /// A policy that grants only [`tern_abi::scheme::GRANTED_BY_DEFAULT`].
    pub fn new() -> Self {
        let allows = tern_abi::scheme::GRANTED_BY_DEFAULT
            .iter()
            .map(|scheme| Rule {
                matcher: Matcher::Url(UrlRule::scheme_only(scheme)),
                source: Source::Default,
                access: Access::ReadWrite,
            })
            .collect();
        let mut policy = Policy {
            allows,
            denies: Vec::new(),
            network: Network::default(),
            defaults: DefaultVerdicts::default(),
            #[cfg(feature = "net")]
            tls: Default::default(),
        };
        policy.rules_changed();
        policy
    }

    /// Works out the cached verdicts again; every method that changes the rules calls it.
    fn rules_changed(&mut self) {
        let verdict = |raw: &str| match normalize(raw) {
            Ok(url) => self.check(&url).err(),
            Err(e) => unreachable!("{raw} is a valid URL: {e}"),
        };
        self.defaults = DefaultVerdicts {
            random: verdict("random://"),
            log: verdict("log://"),
        };
    }

    /// Why the policy denies `scheme`'s direct calls, if it does (cached: see [`DirectScheme`]).
    pub(crate) fn direct_denial(&self, scheme: DirectScheme) -> Option<&Denial> {
        match scheme {
            DirectScheme::Random => self.defaults.random.as_ref(),
            DirectScheme::Log => self.defaults.log.as_ref(),
        }
    }

    /// Adds a grant (`--allow URL`), read-write unless the URL says `?mode=r` (then as
    /// [`Policy::allow_read`]); a URL that does not parse, or another mode, is an
    /// [`Error::InvalidArgument`].
    pub fn allow(&mut self, url: &str) -> Result<()> {
        let access = match url.split_once('?').map(|(_, q)| q) {
            None => Access::ReadWrite,
            Some(query) => {
                let mode = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "mode");
                match mode.as_ref().map(|(_, v)| v.as_ref()) {
                    None | Some("rw") => Access::ReadWrite,
                    Some("r") => Access::ReadOnly,
                    Some(other) => {
                        return Err(Error::invalid(format!(
                            "{url}: a grant's mode is r (read-only) or rw, not {other:?}"
                        )))
                    }
                }
            }
        };
        self.grant(url, access)
    }

    /// Adds a read-only grant (`--allow-read URL`, `--dir HOST:ro`): see [`Access::ReadOnly`].
    pub fn allow_read(&mut self, url: &str) -> Result<()> {
        self.grant(url, Access::ReadOnly)
    }

    fn grant(&mut self, url: &str, access: Access) -> Result<()> {
        let rule = UrlRule::parse(url)?;
        self.allows.push(Rule {
            matcher: Matcher::Url(rule),
            source: Source::Flag,
            access,
        });
        self.rules_changed();
        Ok(())
    }

    /// Adds a denial (`--deny URL`), which wins over every grant.
    pub fn deny(&mut self, url: &str) -> Result<()> {
        let rule = UrlRule::parse(url)?;
        self.denies.push(Rule {
            matcher: Matcher::Url(rule),
            source: Source::Flag,
            access: Access::ReadWrite,
        });
        self.rules_changed();
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

    /// Merges an Olin policy file's rules and `allow-private` ranges; on error nothing is merged and
    /// the message names the line. Returns what else the file says — its limits (for
    /// [`Limits::apply_olin`]) and its `ca-file` paths, which the caller reads: the parser touches
    /// no file.
    pub fn add_olin(&mut self, text: &str) -> Result<OlinSettings> {
        let olin = olin::parse_olin(text)?;
        self.allows.extend(olin.allows);
        self.denies.extend(olin.denies);
        self.network.private_ranges.extend(olin.private_ranges);
        self.rules_changed();
        Ok(olin.settings)
    }

    /// Decides whether `url` (normalised, as [`crate::Process::open`] does) may be opened (read, at
    /// least).
    pub fn check(&self, url: &Url) -> Result<(), Denial> {
        self.judge(url, Access::ReadOnly)
    }

    /// Decides whether `url` may be opened to change it: as [`Policy::check`], and the grant must
    /// be read-write ([`Access`]).
    pub fn check_write(&self, url: &Url) -> Result<(), Denial> {
        self.judge(url, Access::ReadWrite)
    }

    /// Decides whether `url` may be used with `needed` access.
    fn judge(&self, url: &Url, needed: Access) -> Result<(), Denial> {
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
        let mut matching = self.allows.iter().filter(|r| r.matches(&url, &segments));
        let Some(first) = matching.next() else {
            return Err(Denial {
                reason: Reason::NotGranted {
                    suggestion: suggestion(&url),
                },
                url: url.into(),
            });
        };
        let writable = |r: &Rule| r.access == Access::ReadWrite;
        if needed == Access::ReadOnly || writable(first) || matching.any(writable) {
            return Ok(());
        }
        Err(Denial {
            reason: Reason::ReadOnly {
                grant: first.describe("allow"),
                suggestion: suggestion(&url),
            },
            url: url.into(),
        })
    }

    /// Decides whether the file-system object at `url` may be moved or linked (WASI `path_rename`,
    /// `path_link`): it must be granted ([`Policy::check`]) and no denial may lie below it, or the
    /// move would carry the denied path to a name no rule covers. Moving is writing: the grant must
    /// be read-write. A `disallow` pattern counts as
    /// lying below when its literal start and `url` agree as far as both go (patterns are not
    /// analysed further, so this errs on the side of refusing).
    pub fn check_movable(&self, url: &Url) -> Result<(), Denial> {
        self.check_write(url)?;
        let segments = decoded_segments(url);
        let below = self.denies.iter().find(|r| match &r.matcher {
            Matcher::Url(u) => {
                u.scheme == url.scheme()
                    && u.host.as_deref().is_none_or(|h| url.host_str() == Some(h))
                    && u.segments.starts_with(&segments)
            }
            Matcher::Pattern { text, .. } => {
                let start = literal_start(text);
                let url = url.as_str().trim_end_matches('/');
                url.starts_with(start.as_str()) || start.starts_with(url)
            }
        });
        match below {
            None => Ok(()),
            Some(rule) => Err(Denial {
                url: url.to_string(),
                reason: Reason::HoldsDenied {
                    rule: rule.describe("deny"),
                },
            }),
        }
    }

    /// A human-readable line per grant and denial, in the order they are considered.
    pub fn grants(&self) -> Vec<String> {
        let denies = self.denies.iter().map(|r| r.describe("deny"));
        denies
            .chain(self.allows.iter().map(|r| r.describe("allow")))
            .collect()
    }
}

#[cfg(test)]
mod invariants;
#[cfg(test)]
pub(crate) mod tests;
