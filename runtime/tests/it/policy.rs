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

/// A temp dir holding `sandbox/` (granted) and `outside/` (not), for symlink escapes.
fn sandbox_and_outside() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let sandbox = root.path().join("sandbox");
    let outside = root.path().join("outside");
    std::fs::create_dir(&sandbox).unwrap();
    std::fs::create_dir(&outside).unwrap();
    (root, sandbox, outside)
}

#[test]
fn a_dangling_symlink_cannot_create_a_file_outside_the_grant() {
    let (_root, sandbox, outside) = sandbox_and_outside();
    let canary = outside.join("canary");
    std::os::unix::fs::symlink(&canary, sandbox.join("link")).unwrap();
    let grant = format!("file://{}", sandbox.display());
    for mode in ["w", "a", "rw"] {
        let url = format!("file://{}/link?mode={mode}", sandbox.display());
        let (code, run) = open_result(&url, &[&grant], &[]);
        assert_eq!(code, errno::PERMISSION_DENIED, "mode {mode}: {}", run.log);
        assert!(
            !canary.exists(),
            "mode {mode} created the canary outside the grant"
        );
        assert!(
            run.log.contains(&canary.display().to_string()),
            "{}",
            run.log
        );
    }
    // Past a --deny inside the grant, too.
    std::fs::create_dir(sandbox.join("private")).unwrap();
    std::os::unix::fs::symlink(sandbox.join("private/new"), sandbox.join("to_private")).unwrap();
    let url = format!("file://{}/to_private?mode=w", sandbox.display());
    let deny = format!("file://{}/private", sandbox.display());
    let (code, _) = open_result(&url, &[&grant], &[&deny]);
    assert_eq!(code, errno::PERMISSION_DENIED);
    assert!(!sandbox.join("private/new").exists());
    // A dangling link that stays inside the grant still creates its target.
    std::os::unix::fs::symlink("made", sandbox.join("inside")).unwrap();
    let url = format!("file://{}/inside?mode=w", sandbox.display());
    let (code, run) = open_result(&url, &[&grant], &[]);
    assert!(code >= 3, "{code}: {}", run.log);
    assert!(sandbox.join("made").is_file());
}

#[test]
fn a_read_only_grant_refuses_file_writes_through_the_stream_abi() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keep.txt");
    std::fs::write(&file, "kept").unwrap();
    let root = format!("file://{}", dir.path().display());
    for mode in ["w", "a", "rw"] {
        let url = format!("file://{}?mode={mode}", file.display());
        let mut guest = Guest::main(
            &format!(
                "(call $resource_open (i32.const 0) (i32.const {}))",
                url.len()
            ),
            &[(0, &url)],
        );
        guest.policy.allow_read(&root).unwrap();
        let run = guest.run();
        assert_eq!(
            run.code(),
            errno::PERMISSION_DENIED,
            "mode {mode}: {}",
            run.log
        );
        assert!(run.log.contains("is granted read-only"), "{}", run.log);
        assert_eq!(run.outcome.process.stats.denied.len(), 1);
        // The same grant spelled --allow URL?mode=r.
        let (code, _) = open_result(&url, &[&format!("{root}?mode=r")], &[]);
        assert_eq!(code, errno::PERMISSION_DENIED, "mode {mode}");
    }
    // Reading works, and without a mode the handle is read-only: a write is refused.
    let url = format!("file://{}", file.display());
    let mut guest = Guest::main(
        &format!(
            "(local.set $h (call $resource_open (i32.const 0) (i32.const {})))
             (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (local.get $h))))
             (call $resource_write (local.get $h) (i32.const 0) (i32.const 1))",
            url.len()
        ),
        &[(0, &url)],
    );
    guest.policy.allow_read(&root).unwrap();
    let run = guest.run();
    assert!(
        run.code() < 0,
        "a write through a read-only grant gave {}",
        run.code()
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "kept");
}

#[test]
#[cfg(feature = "wasi")]
fn deny_random_stops_the_direct_calls_too() {
    // random_fill has room for an error number.
    let run = Guest::main("(call $random_fill (i32.const 0) (i32.const 16))", &[])
        .deny("random:")
        .run();
    assert_eq!(run.code(), errno::PERMISSION_DENIED);
    assert!(
        run.log
            .contains("denied: random:// is denied by --deny random:"),
        "{}",
        run.log
    );
    assert_eq!(run.outcome.process.stats.denied, ["random://"]);
    // random_i32 and random_i64 return a bare number: the guest traps, and the trap names why.
    for call in ["random_i32", "random_i64"] {
        let body = format!("(drop (call ${call})) (i32.const 0)");
        let run = Guest::main(&body, &[]).deny("random:").run();
        run.assert_trapped(&format!("{call}: "));
        run.assert_trapped("--deny random:");
    }
    // WASI random_get: EACCES (2).
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "random_get" (func $get (param i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "cwa_main") (result i32) (call $get (i32.const 0) (i32.const 8))))"#;
    let run = Guest::module(wat).deny("random:").run();
    assert_eq!(run.code(), 2);
    let run = Guest::module(wat).run();
    assert_eq!(run.code(), 0);
}

#[test]
fn deny_log_silences_log_write_and_reports_once() {
    let body = "(call $log_write (i32.const 6) (i32.const 0) (i32.const 5))
                (call $log_write (i32.const 6) (i32.const 0) (i32.const 5))
                (call $log_write (i32.const 1) (i32.const 0) (i32.const 5))
                (i32.const 0)";
    let run = Guest::main(body, &[(0, "hello")]).run();
    assert_eq!(run.log.matches("hello").count(), 3, "{}", run.log);
    let run = Guest::main(body, &[(0, "hello")]).deny("log:").run();
    assert_eq!(run.code(), 0);
    assert!(!run.log.contains("hello"), "{}", run.log);
    assert_eq!(run.log.matches("tern: ").count(), 1, "{}", run.log);
    assert_eq!(run.outcome.process.stats.denials, 3);
}

#[test]
#[cfg(feature = "net")]
fn network_denials_are_counted_and_name_the_flag() {
    // The name is granted; the loopback address it resolves to is not.
    let (code, run) = open_result("tcp://localhost:9", &["tcp://localhost:9"], &[]);
    assert_eq!(code, errno::PERMISSION_DENIED, "{}", run.log);
    assert!(run.log.contains("denied: tcp://localhost:9"), "{}", run.log);
    assert!(run.log.contains("--allow-private"), "{}", run.log);
    assert_eq!(run.outcome.process.stats.denied, ["tcp://localhost:9"]);
    assert_eq!(
        run.log.lines().count(),
        1,
        "one line per denial: {}",
        run.log
    );
    // An HTTP request target outside the grant: refused at the flush, before anything is sent.
    let url = "http://127.0.0.1:9/api";
    let request = "GET /admin HTTP/1.1\\r\\n\\r\\n";
    let body = format!(
        "(local.set $h (call $resource_open (i32.const 0) (i32.const {})))
         (drop (call $resource_write (local.get $h) (i32.const 100) (i32.const 23)))
         (call $resource_flush (local.get $h))",
        url.len()
    );
    let run = Guest::main(&body, &[(0, url), (100, request)])
        .allow(url)
        .run();
    assert_eq!(run.code(), errno::PERMISSION_DENIED, "{}", run.log);
    assert_eq!(
        run.outcome.process.stats.denied,
        ["http://127.0.0.1:9/admin"]
    );
    assert!(
        run.log
            .contains("is not granted (grant it with --allow http://127.0.0.1:9)"),
        "{}",
        run.log
    );
}

#[test]
fn denials_kept_are_bounded_and_long_urls_cut() {
    let long = format!("https://evil.example/{}", "a".repeat(5000));
    let body = format!(
        "(loop $again
           (drop (call $resource_open (i32.const 0) (i32.const {})))
           (local.set $i (i32.add (local.get $i) (i32.const 1)))
           (br_if $again (i32.lt_u (local.get $i) (i32.const 500))))
         (i32.const 0)",
        long.len()
    );
    let run = Guest::main(&body, &[(0, &long)])
        .limits(|l| l.max_denials_recorded = 10)
        .run();
    let stats = &run.outcome.process.stats;
    assert_eq!(stats.denials, 500);
    assert_eq!(stats.denied.len(), 10);
    assert!(
        stats.denied.iter().all(|u| u.len() < 300),
        "{}",
        stats.denied[0].len()
    );
    // Ten denial lines and one saying the rest are only counted; each line is cut too.
    assert_eq!(run.log.lines().count(), 11, "{}", run.log.len());
    assert!(
        run.log.lines().all(|l| l.len() < 1200),
        "a line of {}",
        run.log.len()
    );
}
