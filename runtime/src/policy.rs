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
//! # Olin policy files
//!
//! The format is Olin's: `##` comment lines, blank lines, `allow (` … `)` and `disallow (` … `)`
//! blocks with one regular expression per line (or `allow PATTERN` on one line, as confyg allows),
//! `ram-page-limit N` (→ [`Limits::max_memory_pages`]) and `gas-limit N` (→ [`Limits::fuel`]).
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
use std::time::Duration;

use regex_lite::Regex;
use url::{Position, Url};

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

/// The grants, denials and limits for one guest.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Rules that grant, in the order they were added.
    allows: Vec<Rule>,
    /// Rules that deny, in the order they were added; checked first.
    denies: Vec<Rule>,
    /// Resource limits.
    pub limits: Limits,
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

    /// Merges an Olin policy file; on error nothing is merged and the message names the line.
    pub fn add_olin(&mut self, text: &str) -> Result<()> {
        let olin = parse_olin(text)?;
        self.allows.extend(olin.allows);
        self.denies.extend(olin.denies);
        if olin.ram_page_limit.is_some() {
            self.limits.max_memory_pages = olin.ram_page_limit;
        }
        if olin.gas_limit.is_some() {
            self.limits.fuel = olin.gas_limit;
        }
        Ok(())
    }

    /// Decides whether `url` (normalised by [`normalize`]) may be opened.
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
            [")", ..] => return Err(err("`)` without an open block".to_owned())),
            [directive @ ("allow" | "disallow" | "ram-page-limit" | "gas-limit"), ..] => {
                return Err(err(format!(
                    "{directive} takes one argument, found {line:?}"
                )))
            }
            [directive, ..] => {
                return Err(err(format!(
                    "unknown directive {directive:?} (expected allow, disallow, ram-page-limit, \
                     gas-limit or a ## comment)"
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
}
