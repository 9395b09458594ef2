//! Denials through real guests: -3 to the guest, a named grant on the host log, recorded in stats.

use crate::common;

use common::Guest;
use tern_abi::errno;

/// Opens `url` in a guest under the given grants and returns the open's result.
fn open_result(url: &str, allow: &[&str], deny: &[&str]) -> (i32, common::Run) {
    let mut guest = Guest::main(
        &format!(
            "(call $resource_open (i32.const 0) (i32.const {}))",
            url.len()
        ),
        &[(0, url)],
    );
    for a in allow {
        guest = guest.allow(a);
    }
    for d in deny {
        guest = guest.deny(d);
    }
    let run = guest.run();
    (run.code(), run)
}

#[test]
fn https_grant_does_not_leak_to_lookalikes() {
    for url in [
        "https://api.example.com.evil.net/",
        "https://evil.net/?https://api.example.com",
        "https://api.example.com@evil.net/",
        "http://api.example.com/",
        "https://api.example.com:8443/",
    ] {
        let (code, run) = open_result(url, &["https://api.example.com"], &[]);
        assert!(
            code == errno::PERMISSION_DENIED || code == errno::INVALID_ARGUMENT,
            "{url} gave {code}"
        );
        if code == errno::PERMISSION_DENIED {
            assert!(
                run.log.contains("denied") && run.log.contains("--allow"),
                "{}",
                run.log
            );
            assert_eq!(run.outcome.process.stats.denied.len(), 1);
        }
    }
}

#[test]
fn file_grant_does_not_leak_to_siblings_or_parents() {
    for url in [
        "file:///srv/database",
        "file:///srv/data/../etc/passwd",
        "file:///srv/data/%2e%2e/etc/passwd",
        "file:///srv/data/%2E%2E/etc/passwd",
        "file:///srv/data/a%2f..%2f..%2fetc/passwd",
        "file:///srv/data/..%5c..%5cetc",
    ] {
        let (code, _) = open_result(url, &["file:///srv/data"], &[]);
        assert!(
            code == errno::PERMISSION_DENIED || code == errno::INVALID_ARGUMENT,
            "{url} gave {code}"
        );
    }
}

#[test]
fn denial_names_the_url_and_the_flag() {
    let (code, run) = open_result("file:///etc/passwd", &[], &[]);
    assert_eq!(code, errno::PERMISSION_DENIED);
    assert!(run.log.contains("file:///etc/passwd"), "{}", run.log);
    assert!(
        run.log.contains("--allow file:///etc/passwd"),
        "{}",
        run.log
    );
    assert!(
        run.log.starts_with("tern: "),
        "host diagnostics are marked: {}",
        run.log
    );
    assert_eq!(
        run.outcome.process.stats.denied,
        vec!["file:///etc/passwd".to_string()]
    );
}

#[test]
fn deny_wins_over_allow_and_over_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret"), "x").unwrap();
    let url = format!("file://{}/secret", dir.path().display());
    let root = format!("file://{}", dir.path().display());
    let (code, _) = open_result(&url, &[&root], &[&url]);
    assert_eq!(code, errno::PERMISSION_DENIED);
    let (code, _) = open_result(&url, &[&root], &[]);
    assert!(code >= 3, "granted open gives a handle, got {code}");
    let (code, _) = open_result("random://", &[], &["random:"]);
    assert_eq!(code, errno::PERMISSION_DENIED);
    let (code, _) = open_result("random://", &[], &[]);
    assert_eq!(code, 3);
}

#[test]
fn a_denial_never_kills_the_guest() {
    let run = Guest::main(
        "(drop (call $resource_open (i32.const 0) (i32.const 18)))
         (drop (call $resource_open (i32.const 0) (i32.const 18)))
         (i32.const 0)",
        &[(0, "file:///etc/shadow")],
    )
    .run();
    assert_eq!(run.code(), 0);
    assert_eq!(run.outcome.process.stats.denied.len(), 2);
}
