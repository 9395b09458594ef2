//! `tern run` as a user runs it: the real binary, real files, real pipes.
// The guests are .wat files: a build without .wat support (`--no-default-features`) refuses them.
#![cfg(feature = "wat")]

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::tern_bin;

fn examples(name: &str) -> String {
    format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn tern(args: &[&str]) -> std::process::Output {
    Command::new(tern_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("tern runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn hello_greets_and_passes_arguments() {
    let out = tern(&["run", &examples("hello.wat")]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "Hello from tern!\n");
    assert_eq!(text(&out.stderr), "[guest] info: greeted\n");
    // Everything after MODULE goes to the guest, even option-like words.
    let out = tern(&["run", &examples("hello.wat"), "--stats"]);
    assert_eq!(text(&out.stdout), "Hello, --stats!\n");
}

#[test]
fn cat_copies_stdin_to_stdout() {
    let mut child = Command::new(tern_bin())
        .args(["run", &examples("cat.wat")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = {
        let data = data.clone();
        std::thread::spawn(move || stdin.write_all(&data))
    };
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, data);
}

#[test]
fn a_closed_stdout_is_the_guests_error_not_a_host_panic() {
    // The reader goes away at once; the guest's writes fail and cat.wat exits 1, without a panic.
    let mut child = Command::new(tern_bin())
        .args(["run", &examples("cat.wat")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(&vec![b'x'; 1 << 20]);
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn denied_example_is_denied_and_names_the_flag() {
    let out = tern(&["run", &examples("denied.wat")]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains("--allow file:///etc/hostname"), "{err}");
}

#[test]
fn timeout_stops_an_infinite_loop_within_about_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let spin = dir.path().join("spin.wat");
    std::fs::write(&spin, r#"(module (func (export "_start") (loop (br 0))))"#).unwrap();
    let started = Instant::now();
    let out = tern(&["run", "--timeout", "1s", spin.to_str().unwrap()]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(124));
    assert!(text(&out.stderr).starts_with(&format!("error: {}: timeout", spin.display())));
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

/// Runs `tern run --timeout 1s MODULE` with a stdin pipe held open and never written, and checks
/// the process ended as timed out within a few seconds, naming the module.
fn assert_timeout_ends_the_process(module: &std::path::Path) {
    let started = Instant::now();
    let mut child = Command::new(tern_bin())
        .args(["run", "--timeout", "1s", module.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _open_stdin = child.stdin.take();
    let deadline = started + Duration::from_secs(15);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!(
                "{}: --timeout 1s did not end tern within 15 s",
                module.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(124), "{err}");
    assert!(
        err.starts_with(&format!("error: {}: timeout", module.display())),
        "{err}"
    );
}

#[test]
fn timeout_ends_a_guest_blocked_reading_stdin() {
    assert_timeout_ends_the_process(std::path::Path::new(&examples("cat.wat")));
}

#[test]
fn timeout_ends_a_start_function_that_never_returns() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("start.wat");
    std::fs::write(
        &module,
        r#"(module (func $spin (loop (br 0))) (start $spin) (func (export "_start")))"#,
    )
    .unwrap();
    assert_timeout_ends_the_process(&module);
}

#[test]
fn stats_json_is_the_last_stderr_line() {
    let out = tern(&[
        "run",
        "--stats-json",
        "--fuel",
        "1000000",
        &examples("denied.wat"),
    ]);
    let err = text(&out.stderr);
    let last = err.lines().last().unwrap();
    for key in [
        "\"fuel_used\":",
        "\"host_calls\":",
        "\"peak_memory_pages\":1,",
        "\"wall_ms\":",
        "\"exit_code\":3,",
        "\"denied\":[\"file:///etc/hostname\"]",
    ] {
        assert!(last.contains(key), "{key} missing from {last}");
    }
    assert!(last.starts_with('{') && last.ends_with('}'));
}

#[test]
fn olin_policy_files_grant_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy");
    std::fs::write(
        &policy,
        "## grant the hostname file\nallow (\n  file:///etc/hostname\n)\ngas-limit 1000000\n",
    )
    .unwrap();
    let out = tern(&[
        "run",
        "--policy",
        policy.to_str().unwrap(),
        &examples("denied.wat"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // A --deny beats the file's allow.
    let out = tern(&[
        "run",
        "--policy",
        policy.to_str().unwrap(),
        "--deny",
        "file:///etc",
        &examples("denied.wat"),
    ]);
    assert_eq!(out.status.code(), Some(3));
    // A broken policy file is a clear error naming the line.
    std::fs::write(&policy, "allow (\n  [unclosed\n)\n").unwrap();
    let out = tern(&[
        "run",
        "--policy",
        policy.to_str().unwrap(),
        &examples("hello.wat"),
    ]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("line 2"),
        "{}",
        text(&out.stderr)
    );
}

/// `--allow-read` grants reading and refuses writing, naming the flag that would grant it; the same
/// URL under `--allow` may be written.
#[test]
fn allow_read_grants_reading_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "read me").unwrap();
    let base = url::Url::from_directory_path(dir.path()).unwrap();
    let input = base.join("in.txt").unwrap().to_string();
    let output = base.join("out.txt?mode=w").unwrap().to_string();
    // Copies the input to stdout, then exits with the error number of opening the output (0 if it
    // opened).
    let body = format!(
        "(local.set $h (call $resource_open (i32.const 0) (i32.const {})))
         (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (i32.const 100))))
         (local.set $n (call $resource_read (local.get $h) (i32.const 4096) (i32.const 1024)))
         (drop (call $resource_write (i32.const 1) (i32.const 4096) (local.get $n)))
         (local.set $h (call $resource_open (i32.const 2048) (i32.const {})))
         (if (result i32) (i32.lt_s (local.get $h) (i32.const 0))
           (then (i32.sub (i32.const 0) (local.get $h))) (else (i32.const 0)))",
        input.len(),
        output.len()
    );
    let module = dir.path().join("copy.wat");
    let wat = crate::common::cwa_module(&body, &[(0, &input), (2048, &output)]);
    std::fs::write(&module, wat).unwrap();
    let module = module.to_str().unwrap();

    let out = tern(&["run", "--allow-read", base.as_str(), module]);
    let err = text(&out.stderr);
    assert_eq!(text(&out.stdout), "read me", "{err}");
    assert_eq!(
        out.status.code(),
        Some(-tern_abi::errno::PERMISSION_DENIED),
        "{err}"
    );
    assert!(
        err.contains("read-only") && err.contains("--allow "),
        "{err}"
    );
    assert!(!dir.path().join("out.txt").exists());

    let out = tern(&["run", "--allow", base.as_str(), module]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(dir.path().join("out.txt").exists());
}

/// A duration past what a deadline can hold is a usage error (exit 2) naming the option; it used to
/// overflow `Instant + Duration` and abort tern like a guest trap (issue 11, defect 7).
#[test]
fn a_huge_duration_is_a_usage_error_not_a_panic() {
    for option in ["--timeout", "--connect-timeout", "--net-timeout"] {
        let out = tern(&[
            "run",
            option,
            "10000000000000000000",
            &examples("hello.wat"),
        ]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{option}: {err}");
        assert!(err.contains(option) && err.contains("too long"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(out.stdout.is_empty(), "the guest must not run");
    }
}

#[test]
fn bad_input_gets_a_one_line_error_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"\0asm\x01\0\0\0\xff\xff").unwrap();
    let not_wasm = dir.path().join("text.wasm");
    std::fs::write(&not_wasm, b"hello").unwrap();
    let bad_wat = dir.path().join("bad.wat");
    std::fs::write(&bad_wat, b"(module (func (export \"_start\") (i32.add)))").unwrap();
    let no_entry = dir.path().join("lib.wat");
    std::fs::write(&no_entry, b"(module (func (export \"helper\")))").unwrap();
    let unknown_import = dir.path().join("imp.wat");
    std::fs::write(
        &unknown_import,
        b"(module (import \"cwa\" \"teleport\" (func)) (func (export \"_start\")))",
    )
    .unwrap();
    for (args, needle) in [
        (
            vec!["run", "/nonexistent/m.wasm"],
            "cannot read /nonexistent/m.wasm",
        ),
        (vec!["run", garbage.to_str().unwrap()], "invalid module"),
        (
            vec!["run", not_wasm.to_str().unwrap()],
            "not a WebAssembly binary",
        ),
        (vec!["run", bad_wat.to_str().unwrap()], "invalid module"),
        (vec!["run", no_entry.to_str().unwrap()], "no entry point"),
        (vec!["run", unknown_import.to_str().unwrap()], "teleport"),
        (
            vec!["run", "--invoke", "nope", no_entry.to_str().unwrap()],
            "nope",
        ),
        (
            vec!["run", "--env", "NOEQUALS", &examples("hello.wat")],
            "KEY=VALUE",
        ),
        (
            vec!["run", "--allow", "not a url", &examples("hello.wat")],
            "not a url",
        ),
    ] {
        let out = tern(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    let out = tern(&["run", "--timeout", "soon", &examples("hello.wat")]);
    assert_eq!(out.status.code(), Some(2));
}

/// `tern run` validates a function body on its first call (Validation::OnFirstCall): an invalid body
/// that is called ends the run as compile would have refused the module; one never called is never
/// looked at.
#[test]
fn an_invalid_function_body_is_found_when_called() {
    let dir = tempfile::tempdir().unwrap();
    let called = dir.path().join("called.wat");
    std::fs::write(
        &called,
        b"(module (func $bad (result i32) (i32.add)) (func (export \"_start\") (drop (call $bad))))",
    )
    .unwrap();
    let out = tern(&["run", called.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("invalid module: type mismatch"),
        "{err}"
    );
    let uncalled = dir.path().join("uncalled.wat");
    std::fs::write(
        &uncalled,
        b"(module (func $bad (result i32) (i32.add)) (func (export \"_start\")))",
    )
    .unwrap();
    let out = tern(&["run", uncalled.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn invoke_calls_the_named_export() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.wat");
    std::fs::write(&m, r#"(module (func (export "_start") unreachable) (func (export "seven") (result i32) (i32.const 7)))"#).unwrap();
    assert_eq!(
        tern(&["run", "--invoke", "seven", m.to_str().unwrap()])
            .status
            .code(),
        Some(7)
    );
    let out = tern(&["run", m.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(134));
    assert!(
        text(&out.stderr).contains("unreachable"),
        "{}",
        text(&out.stderr)
    );
}
