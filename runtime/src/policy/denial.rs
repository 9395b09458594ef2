//! [`Denial`]: why a URL may not be opened, with the flag that would grant it.

use std::fmt;
use std::net::IpAddr;

use url::{Position, Url};

use crate::Error;

/// Why a URL may not be opened: names the URL and the grant or rule that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The URL that was refused, in normalised form when it could be normalised.
    pub url: String,
    /// What decided it.
    pub(super) reason: Reason,
}

impl Denial {
    /// Whether the URL is granted, only not for the writing that was asked (WASI reports this as
    /// `EPERM`, a missing right, rather than `EACCES`).
    pub fn read_only(&self) -> bool {
        matches!(self.reason, Reason::ReadOnly { .. })
    }

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
pub(super) enum Reason {
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
    /// The URL is granted, but only for reading, and the guest asked to change it.
    ReadOnly {
        /// The read-only grant, as [`super::Policy::grants`] shows it.
        grant: String,
        /// The `--allow` argument that would grant writing.
        suggestion: String,
    },
    /// A `disallow` pattern in an Olin policy file matched.
    DisallowPattern {
        /// The pattern's line in its file.
        line: usize,
    },
    /// The URL names a directory holding a denied path, which a rename or link would carry away.
    HoldsDenied {
        /// The denial below it, as [`super::Policy::grants`] shows it.
        rule: String,
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
        /// Its kind, from [`super::special_address`].
        kind: &'static str,
        /// Whether the URL names the address literally (rather than a name resolving to it).
        literal: bool,
    },
}

/// The most bytes of a URL a denial message shows (and [`crate::Stats::denied`] keeps): a guest
/// can name a URL of any length, and every denial is printed.
pub const MAX_URL_SHOWN: usize = 256;

/// `url`, cut to [`MAX_URL_SHOWN`] bytes (on a character boundary) with a note of its length.
pub fn shortened(url: &str) -> std::borrow::Cow<'_, str> {
    if url.len() <= MAX_URL_SHOWN {
        return url.into();
    }
    let mut end = MAX_URL_SHOWN;
    while !url.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &url[..end], url.len()).into()
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = shortened(&self.url);
        match &self.reason {
            Reason::NotGranted { suggestion } => {
                let suggestion = shortened(suggestion);
                write!(
                    f,
                    "{url} is not granted (grant it with --allow {suggestion})"
                )
            }
            Reason::Denied { rule } => write!(f, "{url} is denied by --deny {rule}"),
            Reason::ReadOnly { grant, suggestion } => write!(
                f,
                "{url} is granted read-only ({grant}); writing needs --allow {}",
                shortened(suggestion)
            ),
            Reason::DisallowPattern { line } => write!(
                f,
                "{url} is denied by disallow pattern on line {line} of the policy"
            ),
            Reason::Invalid { message } => write!(f, "{url} is not granted ({message})"),
            Reason::HoldsDenied { rule } => write!(
                f,
                "{url} cannot be renamed or linked: a denied path lies below it ({rule})"
            ),
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
pub(super) fn suggestion(url: &Url) -> String {
    if url.scheme() == tern_abi::scheme::FILE {
        url[..Position::AfterPath].to_owned()
    } else if url.host_str().is_some_and(|h| !h.is_empty()) {
        url[..Position::AfterPort].to_owned()
    } else {
        format!("{}:", url.scheme())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_urls_are_shortened() {
        assert_eq!(shortened("null://"), "null://");
        let long = format!("https://h/{}", "é".repeat(400));
        let short = shortened(&long);
        assert!(short.len() < MAX_URL_SHOWN + 20, "{}", short.len());
        assert!(
            short.ends_with(&format!("… ({} bytes)", long.len())),
            "{short}"
        );
        let denial = Denial {
            url: long.clone(),
            reason: Reason::NotGranted {
                suggestion: long.clone(),
            },
        };
        assert!(denial.to_string().len() < 3 * MAX_URL_SHOWN, "{denial}");
    }
}
