//! Tests of the policy as a whole: grants, denials, read-only grants, moves, address checks.

use super::*;

/// Normalises `raw` and checks it, so tests read like `Process::open`.
pub(crate) fn check(policy: &Policy, raw: &str) -> std::result::Result<(), String> {
    let url = normalize(raw).map_err(|e| format!("normalize: {e}"))?;
    policy.check(&url).map_err(|d| d.to_string())
}

/// Asserts that `raw` is granted.
pub(crate) fn granted(policy: &Policy, raw: &str) {
    if let Err(e) = check(policy, raw) {
        panic!("{raw} should be granted: {e}");
    }
}

/// Asserts that `raw` is not granted (denied by the policy or rejected by `normalize`).
pub(crate) fn refused(policy: &Policy, raw: &str) -> String {
    match check(policy, raw) {
        Ok(()) => panic!("{raw} should not be granted"),
        Err(e) => e,
    }
}

/// Asserts that `raw` is denied by the policy itself, returning the denial's message.
pub(crate) fn denied(policy: &Policy, raw: &str) -> String {
    let e = refused(policy, raw);
    assert!(!e.starts_with("normalize:"), "{raw}: {e}");
    e
}

pub(crate) fn with_allow(grants: &[&str]) -> Policy {
    let mut p = Policy::new();
    for g in grants {
        p.allow(g).unwrap();
    }
    p
}

pub(crate) fn olin(text: &str) -> Policy {
    let mut p = Policy::new();
    p.add_olin(text).unwrap();
    p
}

/// The policy and the settings of an Olin file.
pub(crate) fn olin_with_settings(text: &str) -> (Policy, OlinSettings) {
    let mut p = Policy::new();
    let settings = p.add_olin(text).unwrap();
    (p, settings)
}

pub(crate) fn olin_error(text: &str) -> String {
    match Policy::new().add_olin(text) {
        Ok(_) => panic!("{text:?} was accepted"),
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
            network: Network::default(),
            defaults: Default::default(),
            #[cfg(feature = "net")]
            tls: Default::default(),
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
    assert_eq!(Limits::default().max_handles, 1024);
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
fn special_addresses_need_an_explicit_grant() {
    let url = |raw: &str| normalize(raw).unwrap();
    let addr = |text: &str| -> IpAddr { text.parse().unwrap() };
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
fn read_only_grants_refuse_writing_and_say_how_to_grant_it() {
    let url = |raw: &str| normalize(raw).unwrap();
    let mut p = Policy::new();
    p.allow_read("file:///ro").unwrap();
    p.allow("file:///data?mode=r").unwrap();
    p.allow("file:///rw?mode=rw").unwrap();
    for raw in ["file:///ro/x", "file:///data/y"] {
        assert_eq!(p.check(&url(raw)), Ok(()), "{raw}");
        let d = p.check_write(&url(raw)).unwrap_err();
        assert!(d.read_only(), "{raw}");
        assert!(d.to_string().contains("is granted read-only"), "{d}");
        assert!(
            d.to_string()
                .contains(&format!("writing needs --allow {raw}")),
            "{d}"
        );
        assert!(p.check_movable(&url(raw)).is_err());
    }
    assert_eq!(p.check_write(&url("file:///rw/z")), Ok(()));
    // A read-write grant anywhere over the URL makes it writable; a denial still wins.
    p.allow("file:///ro/sub").unwrap();
    assert_eq!(p.check_write(&url("file:///ro/sub/x")), Ok(()));
    let d = p.check_write(&url("file:///elsewhere")).unwrap_err();
    assert!(!d.read_only() && d.suggestion().is_some());
    // Defaults are read-write; another mode is refused.
    assert_eq!(p.check_write(&url("log://")), Ok(()));
    assert!(matches!(
        p.allow("file:///x?mode=w"),
        Err(Error::InvalidArgument(_))
    ));
    let g = p.grants();
    assert!(
        g.contains(&"allow-read file:///ro (--allow-read)".to_owned()),
        "{g:?}"
    );
}

#[test]
fn a_denial_below_makes_a_directory_immovable() {
    let url = |raw: &str| normalize(raw).unwrap();
    let mut p = with_allow(&["file:///d"]);
    p.deny("file:///d/sub/private").unwrap();
    assert_eq!(p.check_movable(&url("file:///d/other")), Ok(()));
    assert_eq!(p.check_movable(&url("file:///d/sub/public")), Ok(()));
    for raw in [
        "file:///d/sub",
        "file:///d",
        "file:///d/sub/private",
        "file:///d/sub/private/x",
    ] {
        assert!(p.check_movable(&url(raw)).is_err(), "{raw}");
    }
    let e = p
        .check_movable(&url("file:///d/sub"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "file:///d/sub cannot be renamed or linked: a denied path lies below it \
         (deny file:///d/sub/private (--deny))"
    );
    let p = olin("allow file:///d\ndisallow file:///d/sub/priv.*\\.key\n");
    assert!(p.check_movable(&url("file:///d/sub")).is_err());
    assert!(p.check_movable(&url("file:///d/sub/priv")).is_err());
    assert_eq!(p.check_movable(&url("file:///d/other")), Ok(()));
    assert_eq!(literal_start("file:///d/a\\.b?c"), "file:///d/a.");
    assert_eq!(literal_start("a|b"), "");
    assert_eq!(literal_start("(?i)x"), "");
}
