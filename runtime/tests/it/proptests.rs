//! Property tests of the parsers that see untrusted input, through the public API: URL normalisation
//! (every URL a guest opens and every grant goes through it before [`Policy::check`]), the policy
//! check, Olin policy files, and the HTTP request a guest writes.
//!
//! The invariants:
//! - two spellings of one URL are never judged differently, whichever of them a grant uses;
//! - a grant covers what lies below it, and a denial below a grant always wins; a read-only grant
//!   (`--allow-read URL`, `--allow URL?mode=r`) never lets anything below it be written;
//! - an Olin `allow` of a URL's escaped text covers that URL and never another host;
//! - opening any text, checking any URL, parsing any policy text or sending any request bytes
//!   ends in `Ok` or an error, never a panic; a policy file that fails to parse changes nothing;
//! - a request whose target names another origin is refused before any connection is made.

use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::select;
use tern::{Policy, Process, Stdio};
use url::Url;

/// A URL as its parts (`kv` stands for a scheme tern does not know, such as an embedder's), spelled canonically by [`Parts::canonical`] and otherwise by [`spelled`].
#[derive(Debug, Clone)]
struct Parts {
    scheme: &'static str,
    /// A domain or an IPv4 address; empty for `file`.
    host: String,
    port: Option<u16>,
    /// Decoded path segments, none of them `.` or `..`.
    segments: Vec<String>,
}

/// Characters a path segment is made of: unreserved ones, and some that are always escaped.
const SEGMENT_CHARS: &[char] = &['a', 'B', 'z', '0', '9', '-', '.', '_', '~', ' ', 'é', '%'];

/// Whether `c` is unreserved (RFC 3986), so `%XX` and the character itself are one spelling.
fn unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

fn segment() -> impl Strategy<Value = String> {
    proptest::collection::vec(select(SEGMENT_CHARS), 1..6)
        .prop_map(|chars| chars.into_iter().collect::<String>())
        .prop_filter("dot segments are refused, not respelled", |s| {
            s != "." && s != ".."
        })
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec("[a-z][a-z0-9]{0,5}", 1..4).prop_map(|labels| labels.join(".")),
        any::<[u8; 4]>().prop_map(|[a, b, c, d]| format!("{a}.{b}.{c}.{d}")),
    ]
}

fn parts() -> impl Strategy<Value = Parts> {
    let scheme = select(&["http", "https", "tcp", "file", "kv"][..]);
    let port = proptest::option::of(prop_oneof![Just(80u16), Just(443), 1u16..]);
    (
        scheme,
        host(),
        port,
        proptest::collection::vec(segment(), 0..4),
    )
        .prop_map(|(scheme, host, port, segments)| {
            let file = scheme == "file";
            Parts {
                scheme,
                host: if file { String::new() } else { host },
                port: if file { None } else { port },
                segments,
            }
        })
}

impl Parts {
    /// The spelling with no choices made: escapes only where needed, upper-case hex.
    fn canonical(&self) -> String {
        spell(self, &Spelling::default())
    }

    /// The same URL truncated to its first `n` segments: a grant that covers this one.
    fn prefix(&self, n: usize) -> Parts {
        let mut parts = self.clone();
        parts.segments.truncate(n);
        parts
    }
}

/// The choices one spelling makes; [`Spelling::default`] is the canonical spelling.
#[derive(Debug, Clone, Default)]
struct Spelling {
    upper_scheme: bool,
    /// Per host character: upper case.
    host_case: Vec<bool>,
    trailing_dot: bool,
    /// An IPv4 host as one decimal number (`2130706433` for `127.0.0.1`).
    numeric_ipv4: bool,
    default_port: bool,
    /// Per path character: escape it even if it need not be.
    escape: Vec<bool>,
    lower_hex: bool,
    /// Per segment: put `./` or `x/../` before it.
    dots: Vec<u8>,
    /// `file://localhost/…` and doubled slashes in `file:` paths.
    file_localhost: bool,
    double_slash: Vec<bool>,
    fragment: bool,
}

fn spelling() -> impl Strategy<Value = Spelling> {
    let bits = || proptest::collection::vec(any::<bool>(), 0..24);
    (
        (any::<bool>(), bits(), any::<bool>(), any::<bool>()),
        (any::<bool>(), bits(), any::<bool>()),
        (
            proptest::collection::vec(0u8..3, 0..4),
            any::<bool>(),
            bits(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (upper_scheme, host_case, trailing_dot, numeric_ipv4),
                (default_port, escape, lower_hex),
                (dots, file_localhost, double_slash, fragment),
            )| Spelling {
                upper_scheme,
                host_case,
                trailing_dot,
                numeric_ipv4,
                default_port,
                escape,
                lower_hex,
                dots,
                file_localhost,
                double_slash,
                fragment,
            },
        )
}

fn bit(bits: &[bool], i: usize) -> bool {
    bits.get(i).copied().unwrap_or(false)
}

/// Spells `parts` with the choices in `s`.
fn spell(parts: &Parts, s: &Spelling) -> String {
    let scheme = if s.upper_scheme {
        parts.scheme.to_ascii_uppercase()
    } else {
        parts.scheme.to_owned()
    };
    let ipv4: Option<std::net::Ipv4Addr> = parts.host.parse().ok();
    // Only a network host is an address; to another scheme `0` and `0.0.0.0` are two names.
    let network = ["http", "https", "tcp"].contains(&parts.scheme);
    let mut host: String = match ipv4 {
        Some(addr) if s.numeric_ipv4 && network => u32::from(addr).to_string(),
        _ => parts
            .host
            .chars()
            .enumerate()
            .map(|(i, c)| match bit(&s.host_case, i) {
                true => c.to_ascii_uppercase(),
                false => c,
            })
            .collect(),
    };
    if s.trailing_dot && ipv4.is_none() && !host.is_empty() {
        host.push('.');
    }
    if parts.scheme == "file" && s.file_localhost {
        host = "localhost".into();
    }
    let default = match parts.scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    let port = match (parts.port, default) {
        (Some(p), d) if Some(p) != d => format!(":{p}"),
        (None, Some(d)) if s.default_port => format!(":{d}"),
        (Some(p), _) if s.default_port => format!(":{p}"),
        _ => String::new(),
    };
    let mut path = String::new();
    let mut at = 0;
    for (n, segment) in parts.segments.iter().enumerate() {
        path.push('/');
        if parts.scheme == "file" && bit(&s.double_slash, n) {
            path.push('/');
        }
        match s.dots.get(n) {
            Some(1) => path.push_str("./"),
            Some(2) => path.push_str("x/../"),
            _ => {}
        }
        for c in segment.chars() {
            let mut buf = [0; 4];
            for &b in c.encode_utf8(&mut buf).as_bytes() {
                if unreserved(c) && !bit(&s.escape, at) {
                    path.push(c);
                } else if s.lower_hex {
                    path.push_str(&format!("%{b:02x}"));
                } else {
                    path.push_str(&format!("%{b:02X}"));
                }
            }
            at += 1;
        }
    }
    if path.is_empty() && parts.scheme != "tcp" {
        path.push('/');
    }
    let fragment = if s.fragment { "#frag" } else { "" };
    format!("{scheme}://{host}{port}{path}{fragment}")
}

fn parse(text: &str) -> Url {
    Url::parse(text)
        .unwrap_or_else(|e| panic!("the test spelled {text:?}, which does not parse: {e}"))
}

/// A policy with grants (`true`) and denials (`false`) of these URLs, as written.
fn policy(rules: &[(bool, String)]) -> Policy {
    let mut policy = Policy::new();
    for (grant, url) in rules {
        let added = if *grant {
            policy.allow(url)
        } else {
            policy.deny(url)
        };
        added.unwrap_or_else(|e| panic!("rule {url}: {e}"));
    }
    policy
}

/// A URL, and rules mostly about it: prefixes of it (which cover it) and unrelated URLs.
fn case() -> impl Strategy<Value = (Parts, Vec<(bool, Parts)>)> {
    parts().prop_flat_map(|target| {
        let n = target.segments.len();
        let related = (0..=n).prop_map({
            let target = target.clone();
            move |k| target.prefix(k)
        });
        let rule = (any::<bool>(), prop_oneof![3 => related, 1 => parts()]);
        (Just(target), proptest::collection::vec(rule, 0..4))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn two_spellings_of_one_url_are_never_judged_differently(
        (target, rules) in case(),
        a in spelling(),
        b in spelling(),
        rule_spellings in proptest::collection::vec(spelling(), 4),
    ) {
        let canonical: Vec<(bool, String)> =
            rules.iter().map(|(g, p)| (*g, p.canonical())).collect();
        let respelled: Vec<(bool, String)> = rules
            .iter()
            .zip(&rule_spellings)
            .map(|((g, p), s)| (*g, spell(p, s)))
            .collect();
        let (one, other) = (policy(&canonical), policy(&respelled));
        let (a, b) = (spell(&target, &a), spell(&target, &b));
        let judged_a = one.check(&parse(&a));
        // The same policy on the other spelling: the same decision, the same denial.
        prop_assert_eq!(&judged_a, &one.check(&parse(&b)), "{} and {}", a, b);
        // The grants spelled differently: the same decision.
        prop_assert_eq!(judged_a.is_ok(), other.check(&parse(&b)).is_ok(), "{} and {}", a, b);
    }

    #[test]
    fn a_grant_covers_what_is_below_it_and_a_denial_below_it_wins(
        target in parts(),
        cut in any::<prop::sample::Index>(),
        deny_cut in any::<prop::sample::Index>(),
        s in spelling(),
    ) {
        let n = target.segments.len();
        let (granted, denied) = (cut.index(n + 1), deny_cut.index(n + 1).max(cut.index(n + 1)));
        let url = parse(&target.canonical());
        let mut policy = policy(&[(true, spell(&target.prefix(granted), &s))]);
        prop_assert!(policy.check(&url).is_ok(), "{}", url);
        policy.deny(&target.prefix(denied).canonical()).unwrap();
        prop_assert!(policy.check(&url).is_err(), "{}", url);
    }

    #[test]
    fn a_read_only_grant_never_grants_writing_below_it(
        target in parts(),
        cut in any::<prop::sample::Index>(),
        mut s in spelling(),
        as_query in any::<bool>(),
    ) {
        s.fragment = false; // the query goes at the end
        let grant = spell(&target.prefix(cut.index(target.segments.len() + 1)), &s);
        let url = parse(&target.canonical());
        let mut policy = Policy::new();
        let granted = match as_query {
            true => policy.allow(&format!("{grant}?mode=r")),
            false => policy.allow_read(&grant),
        };
        granted.unwrap();
        prop_assert!(policy.check(&url).is_ok(), "{} under {}", url, grant);
        prop_assert!(policy.check_write(&url).is_err(), "{} under {}", url, grant);
        // A read-write grant beside it is what makes it writable.
        policy.allow(&grant).unwrap();
        prop_assert!(policy.check_write(&url).is_ok(), "{} under {}", url, grant);
    }

    #[test]
    fn an_olin_allow_of_a_url_covers_it_and_no_other_host(
        // A URL with a host, so that a longer host is another host.
        target in parts().prop_filter("a host", |p| p.scheme != "file"),
        more in segment(),
    ) {
        let text = target.canonical();
        let escaped: String = text
            .chars()
            .flat_map(|c| match "\\.+*?()|[]{}^$".contains(c) {
                true => vec!['\\', c],
                false => vec![c],
            })
            .collect();
        let mut policy = Policy::new();
        policy.add_olin(&format!("allow (\n  {escaped}\n)\n")).unwrap();
        prop_assert!(policy.check(&parse(&text)).is_ok(), "{}", text);
        // A pattern ending in `/` covers only that URL (see the policy module's documentation).
        if !text.ends_with('/') {
            let mut below = target.clone();
            below.segments.push(more);
            prop_assert!(policy.check(&parse(&below.canonical())).is_ok());
        }
        let mut other = target.clone();
        other.host.push_str(".evil.example");
        prop_assert!(policy.check(&parse(&other.canonical())).is_err());
    }

    #[test]
    fn opening_any_text_is_a_handle_or_an_error(raw in prop_oneof![
        any::<String>(),
        (select(&["file:", "http://", "tcp://", "log:", "null:", "random:", "fd://"][..]),
            any::<String>()).prop_map(|(s, rest)| format!("{s}{rest}")),
        "[a-z]{1,5}://[ -~]{0,40}",
    ]) {
        let mut process = Process::new("prop", vec![], Arc::new(Policy::new()), Stdio::null());
        if let Ok(handle) = process.open(&raw) {
            let _ = process.close(handle);
        }
    }

    #[test]
    fn checking_any_url_is_stable(rest in "[ -~]{0,60}", scheme in select(&["http://", "tcp://", "file://", "x:"][..])) {
        let Ok(url) = Url::parse(&format!("{scheme}{rest}")) else { return Ok(()) };
        let mut policy = Policy::new();
        policy.allow("http://example.com/a").unwrap();
        policy.allow("tcp://example.com").unwrap();
        policy.allow("file:///srv").unwrap();
        policy.deny("file:///srv/private").unwrap();
        // A denial names the URL as judged; judging that again gives the same answer.
        if let Err(denial) = policy.check(&url) {
            let again = Url::parse(&denial.url).map(|u| policy.check(&u));
            if let Ok(again) = again {
                prop_assert_eq!(again.map_err(|d| d.url), Err(denial.url));
            }
        }
    }

    #[test]
    fn any_policy_text_parses_or_changes_nothing(lines in proptest::collection::vec(prop_oneof![
        Just("allow (".to_owned()), Just("disallow (".to_owned()), Just(")".to_owned()),
        Just("## comment".to_owned()), Just(String::new()),
        "(allow|disallow) [ -~]{0,20}", "[ -~]{0,30}", "(ram-page-limit|gas-limit|allow-private) [ -~]{0,12}",
        Just("ca-file /nonexistent/ca.pem".to_owned()),
    ], 0..8)) {
        let mut policy = Policy::new();
        policy.allow("https://example.com").unwrap();
        let before = (policy.grants(), policy.network.clone());
        if policy.add_olin(&lines.join("\n")).is_err() {
            prop_assert_eq!((policy.grants(), policy.network.clone()), before);
        }
    }
}

#[cfg(feature = "net")]
mod http_requests {
    use super::*;

    /// Port 1 on 127.0.0.1: granted, and nothing listens, so a request that gets as far as
    /// connecting fails at once with "connection failed".
    const ORIGIN: &str = "http://127.0.0.1:1";

    /// Another origin, in a request target or a `Host` header.
    const ELSEWHERE: &str = "http://127.0.0.2:1/";
    const OTHER_HOST: &str = "Host: evil.example";

    /// Request bytes, and whether they name another origin as the target or in `Host`.
    fn request() -> impl Strategy<Value = (Vec<u8>, bool)> {
        let method = select(&["GET", "POST", "HEAD", "DELETE", "G T", "", "CONNECT"][..]);
        let target = prop_oneof![
            Just("/".to_owned()),
            "/[ -~]{0,12}",
            Just(format!("{ORIGIN}/x")),
            Just(ELSEWHERE.to_owned()),
            // A path, not a host: concatenated to the origin.
            Just("//evil.example/".to_owned()),
            Just("*".to_owned()),
            "[ -~]{0,16}",
        ];
        let header = prop_oneof![
            Just("Host: 127.0.0.1:1".to_owned()),
            Just(OTHER_HOST.to_owned()),
            "Content-Length: [0-9]{0,20}",
            Just("Transfer-Encoding: chunked".to_owned()),
            "[A-Za-z-]{0,10}: [ -~]{0,20}",
            "[ -~]{0,20}",
        ];
        let structured = (
            method,
            target,
            select(&["HTTP/1.1", "HTTP/1.0", "HTTP/2", ""][..]),
            proptest::collection::vec(header, 0..5),
            proptest::collection::vec(any::<u8>(), 0..64),
        )
            .prop_map(|(m, t, v, headers, body)| {
                // An empty header line ends the head: what follows is body.
                let mut head = headers.iter().take_while(|h| !h.is_empty());
                let elsewhere = t == ELSEWHERE || head.any(|h| h == OTHER_HOST);
                let head = format!("{m} {t} {v}\r\n{}\r\n\r\n", headers.join("\r\n"));
                let mut out = head.into_bytes();
                out.extend(body);
                (out, elsewhere)
            });
        let noise = proptest::collection::vec(any::<u8>(), 0..200).prop_map(|b| (b, false));
        prop_oneof![3 => structured, 1 => noise]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_request_bytes_are_sent_to_the_origin_or_refused((bytes, elsewhere) in request()) {
            let mut policy = Policy::new();
            policy.allow(ORIGIN).unwrap();
            let mut process = Process::new("prop", vec![], Arc::new(policy), Stdio::null());
            let handle = process.open(&format!("{ORIGIN}/")).unwrap();
            let sent = process.write(handle, &bytes).and_then(|_| process.flush(handle));
            let text = String::from_utf8_lossy(&bytes);
            match sent {
                // Flushing nothing sends nothing.
                Ok(()) if bytes.is_empty() => {}
                // Nothing listens on the origin: a request that was sent cannot have succeeded.
                Ok(()) => prop_assert!(false, "a request to a closed port succeeded: {text:?}"),
                Err(tern::Error::ConnectionFailed(m)) => {
                    prop_assert!(!elsewhere, "connected for a request naming another host: {text:?}: {m}")
                }
                Err(_) => {}
            }
        }
    }
}
