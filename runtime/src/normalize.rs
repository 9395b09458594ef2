//! URL parsing and normalisation: the one step every URL goes through before the policy sees it.
//!
//! [`normalize`] turns a guest's (or a grant's) URL text into one canonical [`Url`], so that two
//! spellings of the same resource can never be judged differently by the policy or opened
//! differently by a scheme. On top of the WHATWG parsing done by the `url` crate it:
//!
//! - rejects empty input, control characters and leading/trailing whitespace (the `url` crate would
//!   silently strip or drop them, so the text a user reads would differ from the URL that is opened);
//! - rejects userinfo (`user:pass@host`), which only exists to confuse host checks;
//! - lower-cases the host for every scheme; for the network schemes `tcp`, `tls` and `dns` the host
//!   is parsed like an `http` host (IDNA, numeric IPv4 forms such as `2130706433` → `127.0.0.1`),
//!   because the resolver would otherwise read those forms differently from the policy;
//! - drops one trailing dot of a domain (`example.com.` is the same host to DNS) and rejects domains
//!   with empty labels;
//! - drops the fragment, which never reaches a host;
//! - rejects path segments that percent-decode to `.` or `..` or contain `/`, `\` or NUL (the
//!   `url` crate already resolves literal `..` and `%2e%2e`; what is left, such as `a%2f..%2f..`,
//!   would escape a path prefix once a scheme decodes it);
//! - canonicalises percent-escapes in the path (unreserved characters decoded, the rest upper-case),
//!   so `/srv/d%61ta` and `/srv/data` are the same string for regex policies;
//! - for `file:` requires an empty host (`localhost` is accepted and becomes empty) and collapses
//!   repeated slashes, which the host file system ignores.
//!
//! The `url` crate already removes a port equal to the scheme's default for the special schemes
//! (`http`, `https`, `ws`, `wss`, `ftp`); other schemes have no known default port.

use url::{Host, Url};

use crate::{Error, Result};

/// Non-special schemes whose host is a network name: parsed like an `http` host so DNS sees what
/// the policy saw.
const NETWORK_SCHEMES: &[&str] = &[
    tern_abi::scheme::TCP,
    tern_abi::scheme::TLS,
    tern_abi::scheme::DNS,
];

/// The longest piece of a URL quoted in an error message, so a hostile URL cannot flood the logs.
const SHOWN_MAX: usize = 200;

/// Parses `raw` and returns its canonical form, or [`Error::InvalidArgument`] saying why it is refused.
pub fn normalize(raw: &str) -> Result<Url> {
    if raw.trim().is_empty() {
        return Err(Error::invalid("empty URL"));
    }
    if raw.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "URL {} contains a control character",
            shown(raw)
        )));
    }
    if raw.trim() != raw {
        return Err(Error::invalid(format!(
            "URL {} has leading or trailing whitespace",
            shown(raw)
        )));
    }
    let mut url =
        Url::parse(raw).map_err(|e| Error::invalid(format!("invalid URL {}: {e}", shown(raw))))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(format!(
            "URL {} contains user info (user:password@), which is not accepted",
            shown(raw)
        )));
    }
    url.set_fragment(None);
    normalize_host(&mut url, raw)?;
    normalize_path(&mut url, raw)?;
    Ok(url)
}

/// Returns the percent-decoded path of `url`, which must be UTF-8: the host path for `file:` URLs.
pub fn decoded_path(url: &Url) -> Result<String> {
    // Re-checked here so a caller that skipped `normalize` still cannot smuggle `%2f..` through.
    for segment in raw_segments(url) {
        check_segment(segment, url.as_str())?;
    }
    String::from_utf8(percent_decode(url.path())).map_err(|_| {
        Error::invalid(format!(
            "path of URL {} is not UTF-8 once decoded",
            shown(url.as_str())
        ))
    })
}

/// The non-empty path segments of a normalised `url`, percent-decoded: what path prefixes compare.
pub(crate) fn decoded_segments(url: &Url) -> Vec<Vec<u8>> {
    raw_segments(url)
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect()
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits is kept as it is (as WHATWG does).
pub(crate) fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            if let Some(v) = escape_at(bytes, i) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// The byte encoded by a valid `%XX` escape starting at `i`, if there is one.
fn escape_at(bytes: &[u8], i: usize) -> Option<u8> {
    let hi = hex_value(*bytes.get(i + 1)?)?;
    let lo = hex_value(*bytes.get(i + 2)?)?;
    Some(hi * 16 + lo)
}

/// The value of one hex digit.
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The path split into segments, without the leading `/` of a hierarchical path.
fn raw_segments(url: &Url) -> std::str::Split<'_, char> {
    let path = url.path();
    path.strip_prefix('/').unwrap_or(path).split('/')
}

/// Quotes (at most [`SHOWN_MAX`] characters of) a URL for an error message.
fn shown(raw: &str) -> String {
    match raw.char_indices().nth(SHOWN_MAX) {
        Some((end, _)) => format!("{:?}…", raw.get(..end).unwrap_or_default()),
        None => format!("{raw:?}"),
    }
}

/// Applies the host rules (see the module documentation).
fn normalize_host(url: &mut Url, raw: &str) -> Result<()> {
    let bad_host = |e: &dyn std::fmt::Display| {
        Error::invalid(format!("invalid host in URL {}: {e}", shown(raw)))
    };
    let Some(host) = url.host_str().map(str::to_owned) else {
        return Ok(());
    };
    if url.scheme() == tern_abi::scheme::FILE {
        // `url` has already turned `localhost` into the empty host.
        if host.is_empty() {
            return Ok(());
        }
        return Err(Error::invalid(format!(
            "file URL {} names host {host:?}; only an empty host or localhost is accepted",
            shown(raw)
        )));
    }
    let mut canonical = if NETWORK_SCHEMES.contains(&url.scheme()) {
        Host::parse(&host).map_err(|e| bad_host(&e))?.to_string()
    } else {
        host.to_ascii_lowercase()
    };
    if matches!(url.host(), Some(Host::Domain(_))) {
        if let Some(stripped) = canonical.strip_suffix('.') {
            canonical = stripped.to_owned();
        }
        if canonical.is_empty() || canonical.split('.').any(str::is_empty) {
            return Err(bad_host(&"empty label in domain name"));
        }
    }
    if canonical != host {
        url.set_host(Some(&canonical)).map_err(|e| bad_host(&e))?;
    }
    Ok(())
}

/// Applies the path rules (see the module documentation).
fn normalize_path(url: &mut Url, raw: &str) -> Result<()> {
    let is_file = url.scheme() == tern_abi::scheme::FILE;
    let path = url.path();
    let mut canonical = String::with_capacity(path.len());
    if path.starts_with('/') {
        canonical.push('/');
    }
    let mut first = true;
    for segment in raw_segments(url) {
        check_segment(segment, raw)?;
        if is_file && segment.is_empty() {
            continue;
        }
        if !first {
            canonical.push('/');
        }
        first = false;
        canonicalize_escapes(segment, &mut canonical);
    }
    if is_file && path.len() > 1 && path.ends_with('/') {
        canonical.push('/');
    }
    if canonical != url.path() {
        url.set_path(&canonical);
    }
    Ok(())
}

/// Rejects a path segment that would mean something else once a scheme percent-decodes it.
fn check_segment(segment: &str, raw: &str) -> Result<()> {
    let decoded = percent_decode(segment);
    let why = if decoded == b"." || decoded == b".." {
        "is a dot segment"
    } else if decoded.contains(&b'/') {
        "contains an encoded `/`"
    } else if decoded.contains(&b'\\') {
        "contains `\\`"
    } else if decoded.contains(&0) {
        "contains NUL"
    } else {
        return Ok(());
    };
    Err(Error::invalid(format!(
        "path segment {segment:?} of URL {} {why}",
        shown(raw)
    )))
}

/// Appends `segment` with unreserved characters decoded and other escapes in upper case (RFC 3986
/// section 6.2.2), so one resource has one spelling.
fn canonicalize_escapes(segment: &str, out: &mut String) {
    let bytes = segment.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            i += 1;
            continue;
        }
        let Some(v) = escape_at(bytes, i) else {
            i += 1;
            continue;
        };
        out.push_str(segment.get(start..i).unwrap_or_default());
        if v.is_ascii_alphanumeric() || matches!(v, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(v));
        } else {
            out.push('%');
            let digits = segment.get(i + 1..i + 3).unwrap_or_default();
            out.extend(digits.chars().map(|d| d.to_ascii_uppercase()));
        }
        i += 3;
        start = i;
    }
    out.push_str(segment.get(start..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Normalises and returns the string form, panicking with the error for the test's message.
    fn ok(raw: &str) -> String {
        match normalize(raw) {
            Ok(u) => u.to_string(),
            Err(e) => panic!("{raw:?} was rejected: {e}"),
        }
    }

    /// Asserts that `raw` is rejected with an invalid-argument error mentioning `needle`.
    fn rejected(raw: &str, needle: &str) {
        match normalize(raw) {
            Ok(u) => panic!("{raw:?} was accepted as {u}"),
            Err(Error::InvalidArgument(m)) => {
                assert!(
                    m.contains(needle),
                    "{raw:?}: {m:?} does not mention {needle:?}"
                )
            }
            Err(e) => panic!("{raw:?}: wrong error kind {e:?}"),
        }
    }

    #[test]
    fn empty_and_whitespace_are_rejected() {
        rejected("", "empty URL");
        rejected("   ", "empty URL");
        rejected("\t\n", "empty URL");
        rejected(" https://example.com", "whitespace");
        rejected("https://example.com ", "whitespace");
        rejected("https://example.com\u{a0}", "whitespace");
    }

    #[test]
    fn control_characters_are_rejected() {
        rejected("https://exa\tmple.com/", "control character");
        rejected("https://example.com/a\nb", "control character");
        rejected("https://example.com/\u{0}", "control character");
        rejected("https://example.com/\u{7f}", "control character");
        rejected("https://example.com/\u{85}", "control character");
    }

    #[test]
    fn unparseable_urls_name_the_url() {
        rejected("not a url", "\"not a url\"");
        rejected("https://", "invalid URL \"https://\"");
        rejected("tcp://:5432", "invalid URL");
        rejected("https://[::1/", "invalid URL");
    }

    #[test]
    fn long_urls_are_shortened_in_messages() {
        let long = format!("nope{}", "x".repeat(10_000));
        let Err(Error::InvalidArgument(m)) = normalize(&long) else {
            panic!("accepted")
        };
        assert!(m.len() < 400, "{}", m.len());
        assert!(m.contains('…'));
    }

    #[test]
    fn userinfo_is_rejected_for_every_scheme() {
        rejected("https://api.example.com@evil.net/", "user info");
        rejected("http://user:pass@example.com/", "user info");
        rejected("https://:pass@example.com/", "user info");
        rejected("tcp://user@db:5432", "user info");
        // File URLs have no userinfo in WHATWG: the parser itself refuses it.
        rejected("file://user@localhost/etc/passwd", "invalid URL");
        // An empty userinfo is dropped by the parser: nothing left to confuse.
        assert_eq!(ok("https://@example.com/"), "https://example.com/");
    }

    #[test]
    fn hosts_are_lower_cased_for_every_scheme() {
        assert_eq!(ok("HTTPS://API.Example.COM/X"), "https://api.example.com/X");
        assert_eq!(ok("tcp://DB:5432"), "tcp://db:5432");
        assert_eq!(
            ok("tls://Mail.Example.com:993"),
            "tls://mail.example.com:993"
        );
        assert_eq!(ok("dns://Example.COM"), "dns://example.com");
        assert_eq!(ok("fd://ABC"), "fd://abc");
        assert_eq!(ok("gopher://Host/"), "gopher://host/");
    }

    #[test]
    fn network_hosts_are_parsed_like_http_hosts() {
        assert_eq!(ok("tcp://2130706433:22"), "tcp://127.0.0.1:22");
        assert_eq!(ok("tcp://0x7f.1:22"), "tcp://127.0.0.1:22");
        assert_eq!(ok("tcp://d%62:5432"), "tcp://db:5432");
        assert_eq!(ok("tls://bücher.de:443"), "tls://xn--bcher-kva.de:443");
        assert_eq!(ok("tcp://[::1]:80"), "tcp://[::1]:80");
        assert_eq!(ok("https://2130706433/"), "https://127.0.0.1/");
        // Other schemes keep their opaque host: `fd://1` is not an address.
        assert_eq!(ok("fd://1"), "fd://1");
    }

    #[test]
    fn trailing_dot_is_dropped_and_empty_labels_rejected() {
        assert_eq!(ok("https://example.com./x"), "https://example.com/x");
        assert_eq!(ok("tcp://db.:1"), "tcp://db:1");
        rejected("https://a..b/", "empty label");
        rejected("https://.a/", "empty label");
        rejected("https://a../", "empty label");
        rejected("tcp://a..b:1", "empty label");
    }

    #[test]
    fn ports_are_kept_unless_default() {
        assert_eq!(ok("https://example.com:443/"), "https://example.com/");
        assert_eq!(ok("http://example.com:80/"), "http://example.com/");
        assert_eq!(ok("https://example.com:8443/"), "https://example.com:8443/");
        assert_eq!(ok("tcp://db:5432"), "tcp://db:5432");
        assert_eq!(ok("tcp://db"), "tcp://db");
    }

    #[test]
    fn fragment_is_dropped() {
        assert_eq!(
            ok("https://example.com/a?b=1#frag"),
            "https://example.com/a?b=1"
        );
        assert_eq!(ok("https://example.com/#"), "https://example.com/");
        assert_eq!(ok("log://?prefix=job#x"), "log://?prefix=job");
    }

    #[test]
    fn dot_segments_are_resolved_by_the_parser() {
        assert_eq!(ok("file:///srv/data/../etc"), "file:///srv/etc");
        assert_eq!(ok("file:///srv/data/./x"), "file:///srv/data/x");
        // WHATWG treats every case mix of `%2e` as a dot: these never survive as segments.
        assert_eq!(ok("file:///srv/data/%2e%2e/etc"), "file:///srv/etc");
        assert_eq!(ok("file:///srv/data/%2E%2E/etc"), "file:///srv/etc");
        assert_eq!(ok("file:///srv/data/%2E./x"), "file:///srv/x");
        assert_eq!(ok("file:///srv/data/.%2e/x"), "file:///srv/x");
        assert_eq!(ok("file:///srv/data/%2e/x"), "file:///srv/data/x");
        assert_eq!(ok("https://h/a/b/../../../../c"), "https://h/c");
        assert_eq!(ok("tcp://h/a/../b"), "tcp://h/b");
    }

    #[test]
    fn encoded_separators_and_dots_in_segments_are_rejected() {
        rejected("file:///srv/data/a%2f..%2f..%2fetc", "encoded `/`");
        rejected("file:///srv/data/a%2F..%2F..%2Fetc", "encoded `/`");
        rejected("https://h/a%2fb", "encoded `/`");
        rejected("https://h/a%5cb", "`\\`");
        rejected("https://h/a%5C..%5Cb", "`\\`");
        rejected("tcp://h/a\\b", "`\\`");
        rejected("file:///srv/a%00b", "NUL");
        // Opaque paths are not dot-resolved by the parser, so the check catches them here.
        rejected("null:%2e%2e", "dot segment");
        rejected("zero:x/../y", "dot segment");
        rejected("zero:./y", "dot segment");
        rejected("null:a%2Fb", "encoded `/`");
    }

    #[test]
    fn escapes_are_canonical() {
        assert_eq!(ok("https://h/%41%2d%7e%7A"), "https://h/A-~z");
        assert_eq!(ok("file:///srv/d%61ta/a%3fb"), "file:///srv/data/a%3Fb");
        assert_eq!(ok("https://h/a%e2%82%acb"), "https://h/a%E2%82%ACb");
        assert_eq!(ok("https://h/a%2eb"), "https://h/a.b");
        assert_eq!(ok("https://h/100%"), "https://h/100%");
        assert_eq!(ok("https://h/%zz"), "https://h/%zz");
        assert_eq!(ok("https://h/a b"), "https://h/a%20b");
    }

    #[test]
    fn file_hosts_must_be_empty_or_localhost() {
        assert_eq!(ok("file:///etc/hosts"), "file:///etc/hosts");
        assert_eq!(ok("file://localhost/etc/hosts"), "file:///etc/hosts");
        assert_eq!(ok("file://LOCALHOST/etc/hosts"), "file:///etc/hosts");
        rejected("file://server/share/x", "only an empty host or localhost");
        rejected(
            "file://127.0.0.1/etc/hosts",
            "only an empty host or localhost",
        );
    }

    #[test]
    fn file_paths_collapse_repeated_slashes() {
        assert_eq!(ok("file:///etc//passwd"), "file:///etc/passwd");
        assert_eq!(ok("file:////etc"), "file:///etc");
        assert_eq!(ok("file:///srv/data/"), "file:///srv/data/");
        assert_eq!(ok("file:///srv//data//"), "file:///srv/data/");
        assert_eq!(ok("file:"), "file:///");
        // Other schemes keep them: an HTTP server may give `//` a meaning.
        assert_eq!(ok("https://h/a//b"), "https://h/a//b");
    }

    #[test]
    fn scheme_only_urls_are_accepted() {
        assert_eq!(ok("null://"), "null://");
        assert_eq!(ok("null:"), "null:");
        assert_eq!(ok("log:"), "log:");
        assert_eq!(ok("random://"), "random://");
        assert_eq!(ok("log://?prefix=job"), "log://?prefix=job");
    }

    #[test]
    fn normalize_is_idempotent() {
        for raw in [
            "HTTPS://API.Example.COM:443/v1/%7Ex?y=%41#f",
            "tcp://2130706433:22",
            "file://localhost/srv//d%61ta/",
            "tls://bücher.de.:993",
            "null:",
            "log://?prefix=job",
            "https://h/a%e2%82%acb",
            "https://h/%zz%",
        ] {
            let once = ok(raw);
            assert_eq!(ok(&once), once, "{raw}");
        }
    }

    #[test]
    fn decoded_path_decodes_and_requires_utf8() {
        let u = normalize("file:///srv/my%20data/r%C3%A9sum%C3%A9.txt").unwrap();
        assert_eq!(decoded_path(&u).unwrap(), "/srv/my data/résumé.txt");
        let u = normalize("file:///srv/%FF").unwrap();
        assert!(matches!(decoded_path(&u), Err(Error::InvalidArgument(m)) if m.contains("UTF-8")));
        // A URL that skipped `normalize` is still refused.
        let u = Url::parse("file:///srv/data/a%2f..%2f..%2fetc").unwrap();
        assert!(matches!(decoded_path(&u), Err(Error::InvalidArgument(_))));
    }

    #[test]
    fn decoded_segments_skip_empty_ones() {
        let u = normalize("https://h/a//b%20c/").unwrap();
        assert_eq!(decoded_segments(&u), vec![b"a".to_vec(), b"b c".to_vec()]);
        assert!(decoded_segments(&normalize("null:").unwrap()).is_empty());
    }

    #[test]
    fn percent_decode_keeps_invalid_escapes() {
        assert_eq!(percent_decode("a%41%4"), b"aA%4");
        assert_eq!(percent_decode("%"), b"%");
        assert_eq!(percent_decode("%g1%2F"), b"%g1/");
    }
}
