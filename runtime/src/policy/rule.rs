//! Rules and how they match URLs: `--allow`/`--deny` URLs (scheme, exact host, port, path prefix on
//! segment boundaries) and Olin's anchored patterns.

use regex_lite::Regex;
use url::{Position, Url};

use crate::normalize::{decoded_segments, normalize};
use crate::Result;

/// What a grant lets the guest do with what it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read only: `--allow-read URL`, `--allow URL?mode=r`, `--dir HOST:ro`. A `file:` open that
    /// could change the file (mode `w`, `a`, `rw`; WASI write, create, truncate, rename, link,
    /// delete, set size or times) is refused. Other schemes have no write mode: for them a
    /// read-only grant is a grant.
    ReadOnly,
    /// Read and write: `--allow URL`, the defaults, Olin `allow` patterns.
    ReadWrite,
}

/// One grant or denial and where it came from.
#[derive(Debug, Clone)]
pub(super) struct Rule {
    /// What it matches.
    pub(super) matcher: Matcher,
    /// Where it came from, for messages.
    pub(super) source: Source,
    /// What a grant allows (denials ignore it).
    pub(super) access: Access,
}

impl Rule {
    /// Whether the rule covers `url`, whose decoded path segments are `segments`.
    pub(super) fn matches(&self, url: &Url, segments: &[Vec<u8>]) -> bool {
        match &self.matcher {
            Matcher::Url(rule) => rule.matches(url, segments),
            Matcher::Pattern { regex, .. } => regex.is_match(url.as_str()),
        }
    }

    /// One line for [`super::Policy::grants`]; a read-only grant's verb is `allow-read`.
    pub(super) fn describe(&self, verb: &str) -> String {
        let verb = match self.access {
            Access::ReadOnly => "allow-read",
            Access::ReadWrite => verb,
        };
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
pub(super) enum Matcher {
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
pub(super) enum Source {
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
pub(super) struct UrlRule {
    /// Scheme, lower case.
    pub(super) scheme: String,
    /// Exact host; `None` matches any host (scheme-only and `file:` rules).
    pub(super) host: Option<String>,
    /// Port; `None` matches any port.
    pub(super) port: Option<u16>,
    /// Decoded, non-empty path segments that must prefix the URL's.
    pub(super) segments: Vec<Vec<u8>>,
    /// The rule as shown to users.
    pub(super) shown: String,
}

impl UrlRule {
    /// A rule covering every URL of `scheme`.
    pub(super) fn scheme_only(scheme: &str) -> Self {
        UrlRule {
            scheme: scheme.to_ascii_lowercase(),
            host: None,
            port: None,
            segments: Vec::new(),
            shown: format!("{}:", scheme.to_ascii_lowercase()),
        }
    }

    /// Parses a `--allow`/`--deny` argument.
    pub(super) fn parse(raw: &str) -> Result<Self> {
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
    pub(super) fn matches(&self, url: &Url, segments: &[Vec<u8>]) -> bool {
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

/// The text every match of Olin pattern `pattern` starts with (its leading literal characters,
/// `\`-escapes decoded); empty when the pattern starts with a construct or holds an alternation.
pub(super) fn literal_start(pattern: &str) -> String {
    if pattern.contains('|') {
        return String::new();
    }
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        let literal = match c {
            '\\' => match chars.next() {
                Some(e) if e.is_ascii_punctuation() => e,
                _ => break,
            },
            '.' | '^' | '$' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' => break,
            c => c,
        };
        // A quantifier after it makes the character optional: it is not part of every match.
        if matches!(chars.peek(), Some('*' | '?' | '{')) {
            break;
        }
        out.push(literal);
    }
    out
}

/// Whether `s` is a valid URL scheme (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`).
pub(super) fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}
