//! Property tests of the parsers of untrusted input (URL normalisation, [`Policy::check`], the Olin
//! parser), driven by a small seeded generator so they run on stable Rust with no extra crate:
//!
//! - parsing never panics: any text through `normalize`, `Policy::check`, `Policy::allow`/`deny`
//!   and the Olin parser gives a value or an error;
//! - two spellings of one URL are never judged differently: upper-case scheme and host, an explicit
//!   default port, a percent-escaped unreserved character, `./` and `x/../` segments, a doubled
//!   slash in a `file:` path, a trailing dot on the host — each variant of a URL normalises to the
//!   same URL and gets the same verdict as the URL itself.

use super::Policy;
use crate::normalize::normalize;

/// A xorshift generator: reproducible from its seed, good enough to vary test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const SCHEMES: &[&str] = &[
    "http", "https", "file", "tcp", "tls", "log", "null", "random",
];
const HOSTS: &[&str] = &["api.example.com", "evil.net", "127.0.0.1", "db", "h"];
const SEGMENTS: &[&str] = &["srv", "data", "api", "v1", "admin", "secret", "a", "x.csv"];
const NOISE: &[&str] = &[
    "%2e",
    "%2E%2e",
    "..",
    ".",
    "%2f",
    "%5c",
    "%00",
    "%",
    "%zz",
    "@",
    ":",
    "?",
    "#",
    "//",
    "\\",
    "é",
    "%C3%A9",
    " ",
    "\u{0}",
    "\n",
    "[",
    "]",
    "::1",
    "0x7f.1",
    "2130706433",
    "xn--",
];

/// A policy with grants and denials of every kind the generator's URLs can meet.
fn policy() -> Policy {
    let mut p = Policy::new();
    for g in [
        "https://api.example.com/v1",
        "http://127.0.0.1:8080",
        "file:///srv/data",
        "tcp://db",
        "tls://h:443",
    ] {
        p.allow(g).unwrap();
    }
    p.allow_read("file:///srv").unwrap();
    for d in [
        "file:///srv/data/secret",
        "https://api.example.com/v1/admin",
        "random:",
    ] {
        p.deny(d).unwrap();
    }
    p
}

/// A well-formed URL: scheme, host (where the scheme has one), a port sometimes, a path.
fn url(rng: &mut Rng) -> (String, String, Option<u16>, Vec<String>) {
    let scheme = rng.pick(SCHEMES).to_owned();
    let host = match scheme.as_str() {
        "file" | "log" | "null" | "random" => String::new(),
        _ => rng.pick(HOSTS).to_owned(),
    };
    let port = match scheme.as_str() {
        "tcp" | "tls" => Some([443, 5432, 9][rng.below(3)]),
        "http" if rng.below(2) == 0 => Some(8080),
        _ => None,
    };
    let path = (0..rng.below(4))
        .map(|_| rng.pick(SEGMENTS).to_owned())
        .collect();
    (scheme, host, port, path)
}

fn spell(scheme: &str, host: &str, port: Option<u16>, path: &[String]) -> String {
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    format!("{scheme}://{host}{port}/{}", path.join("/"))
}

/// A different spelling of the same URL.
fn variant(rng: &mut Rng, scheme: &str, host: &str, port: Option<u16>, path: &[String]) -> String {
    let mut path = path.to_vec();
    let (mut scheme, mut host, mut port) = (scheme.to_owned(), host.to_owned(), port);
    match rng.below(8) {
        0 => scheme = scheme.to_ascii_uppercase(),
        1 => host = host.to_ascii_uppercase(),
        2 if scheme == "https" && port.is_none() => port = Some(443),
        2 if scheme == "http" && port.is_none() => port = Some(80),
        3 if !path.is_empty() => {
            // Percent-escape the first character of a segment (all are unreserved).
            let i = rng.below(path.len());
            let c = path[i].remove(0);
            path[i] = format!("%{:02X}{}", c as u32, path[i]);
        }
        // Not at the end: `a/.` is `a/`, a directory, which is another URL (judged the same).
        4 if !path.is_empty() => path.insert(rng.below(path.len()), ".".to_owned()),
        5 if !path.is_empty() => {
            let at = rng.below(path.len());
            path.insert(at, "..".to_owned());
            path.insert(at, "zz".to_owned());
        }
        6 if scheme == "file" && path.len() > 1 => path[0].push('/'),
        7 if host.parse::<std::net::IpAddr>().is_err() && !host.is_empty() => host.push('.'),
        _ => {}
    }
    spell(&scheme, &host, port, &path)
}

#[test]
fn two_spellings_of_one_url_are_never_judged_differently() {
    let p = policy();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..5000 {
        let (scheme, host, port, path) = url(&mut rng);
        let plain = spell(&scheme, &host, port, &path);
        let other = variant(&mut rng, &scheme, &host, port, &path);
        let (Ok(a), Ok(b)) = (normalize(&plain), normalize(&other)) else {
            panic!("{plain} or {other} does not normalise");
        };
        assert_eq!(a, b, "{plain} and {other} normalise differently");
        assert_eq!(
            p.check(&a).is_ok(),
            p.check(&b).is_ok(),
            "{plain} / {other}"
        );
        assert_eq!(
            p.check_write(&a).is_ok(),
            p.check_write(&b).is_ok(),
            "{plain} / {other}"
        );
    }
}

#[test]
fn parsing_hostile_text_never_panics() {
    let p = policy();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..20000 {
        let (scheme, host, port, path) = url(&mut rng);
        let mut text = spell(&scheme, &host, port, &path);
        for _ in 0..rng.below(4) {
            let at = rng.below(text.len() + 1);
            if text.is_char_boundary(at) {
                text.insert_str(at, rng.pick(NOISE));
            }
        }
        if let Ok(u) = normalize(&text) {
            // What normalises is stable, and the policy answers.
            assert_eq!(normalize(u.as_str()).as_ref(), Ok(&u), "{text}");
            let _ = (p.check(&u), p.check_write(&u), p.check_movable(&u));
        }
        let mut q = Policy::new();
        let _ = (q.allow(&text), q.deny(&text), q.allow_read(&text));
    }
}

#[test]
fn olin_parsing_never_panics() {
    let words = [
        "allow",
        "disallow",
        "(",
        ")",
        "##",
        "ram-page-limit",
        "gas-limit",
        "ca-file",
        "allow-private",
        "10.0.0.0/8",
        "https://h",
        ".*",
        "(",
        "[",
        "\\",
        "99999999999999999999",
        "-1",
        "\r",
        "\t",
        "a)|(b",
        "file:///x",
    ];
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..5000 {
        let mut text = String::new();
        for _ in 0..rng.below(12) {
            text += rng.pick(&words);
            text += if rng.below(3) == 0 { "\n" } else { " " };
        }
        let _ = Policy::new().add_olin(&text);
    }
}
