//! Every function of the `cwa` stream ABI, through real .wat guests, including every error path.

use crate::common;

use common::{eval, Guest};
use tern_abi::errno;

#[test]
fn env_get_found_small_buffer_and_missing() {
    // Found and fits: returns the length and writes the value.
    let run = Guest::main(
        "(local.set $n (call $env_get (i32.const 0) (i32.const 4) (i32.const 100) (i32.const 64)))
         (drop (call $resource_write (i32.const 1) (i32.const 100) (local.get $n)))
         (local.get $n)",
        &[(0, "USER")],
    )
    .env("USER", "ada lovelace")
    .run();
    assert_eq!(run.code(), 12);
    assert_eq!(run.stdout, "ada lovelace");

    // Too small: returns the needed length and writes nothing (the buffer keeps its "zzzz").
    let run = Guest::main(
        "(local.set $n (call $env_get (i32.const 0) (i32.const 4) (i32.const 100) (i32.const 4)))
         (drop (call $resource_write (i32.const 1) (i32.const 100) (i32.const 4)))
         (local.get $n)",
        &[(0, "USER"), (100, "zzzz")],
    )
    .env("USER", "ada lovelace")
    .run();
    assert_eq!(run.code(), 12);
    assert_eq!(run.stdout, "zzzz");

    // Missing: not found.
    assert_eq!(
        eval(
            "(call $env_get (i32.const 0) (i32.const 4) (i32.const 100) (i32.const 64))",
            &[(0, "NOPE")]
        ),
        errno::NOT_FOUND
    );
}

/// Exit statuses are truncated like a process's; compare negative results through a comparison.
fn is(value_expr: &str, expected: i32) -> String {
    format!("(i32.eq {value_expr} (i32.const {expected}))")
}

#[test]
fn env_get_out_of_bounds_buffers_are_invalid_arguments() {
    for call in [
        "(call $env_get (i32.const 65534) (i32.const 4) (i32.const 100) (i32.const 8))",
        "(call $env_get (i32.const 0) (i32.const 4) (i32.const 65530) (i32.const 8))",
        "(call $env_get (i32.const -1) (i32.const 4) (i32.const 100) (i32.const 8))",
        "(call $env_get (i32.const 0) (i32.const -1) (i32.const 100) (i32.const 8))",
        "(call $env_get (i32.const 0) (i32.const 4) (i32.const 100) (i32.const -2147483648))",
    ] {
        let run = Guest::main(&is(call, errno::INVALID_ARGUMENT), &[(0, "HOME")])
            .env("HOME", "/root")
            .run();
        assert_eq!(run.code(), 1, "{call}");
    }
}

#[test]
fn runtime_exit_ends_the_guest_with_its_status() {
    let run = Guest::main(
        "(call $runtime_exit (i32.const 42)) (drop (call $resource_write (i32.const 1) (i32.const 0) (i32.const 5))) (i32.const 0)",
        &[(0, "after")],
    )
    .run();
    assert_eq!(run.code(), 42);
    assert_eq!(run.stdout, "", "nothing runs after runtime_exit");
}

#[test]
fn spec_version_and_name() {
    assert_eq!(
        eval("(call $runtime_spec_major)", &[]),
        tern_abi::SPEC_MAJOR
    );
    assert_eq!(
        eval("(call $runtime_spec_minor)", &[]),
        tern_abi::SPEC_MINOR
    );
    let run = Guest::main(
        "(local.set $n (call $runtime_name (i32.const 0) (i32.const 16)))
         (drop (call $resource_write (i32.const 1) (i32.const 0) (local.get $n)))
         (local.get $n)",
        &[],
    )
    .run();
    assert_eq!(run.stdout, "tern");
    assert_eq!(run.code(), 4);
    // Too small: invalid argument, nothing written.
    let run = Guest::main(
        &format!(
            "(local.set $n {}) (drop (call $resource_write (i32.const 1) (i32.const 0) (i32.const 3))) (local.get $n)",
            is("(call $runtime_name (i32.const 0) (i32.const 3))", errno::INVALID_ARGUMENT)
        ),
        &[(0, "xyz")],
    )
    .run();
    assert_eq!((run.code(), run.stdout.as_str()), (1, "xyz"));
    assert_eq!(
        eval(
            &is(
                "(call $runtime_name (i32.const 65535) (i32.const 16))",
                errno::INVALID_ARGUMENT
            ),
            &[]
        ),
        1
    );
}

#[test]
fn msleep_sleeps() {
    let run = Guest::main(
        "(call $runtime_msleep (i32.const 50)) (call $runtime_msleep (i32.const -5)) (i32.const 0)",
        &[],
    )
    .run();
    assert_eq!(run.code(), 0);
    assert!(
        run.outcome.wall >= std::time::Duration::from_millis(50),
        "{:?}",
        run.outcome.wall
    );
}

#[test]
fn startup_args_count_the_program_name() {
    let guest = || {
        Guest::main("(call $startup_arg_len)", &[])
            .arg("one")
            .arg("--two")
    };
    assert_eq!(guest().run().code(), 3);
    let run = Guest::main(
        "(local.set $n (call $startup_arg_at (i32.const 2) (i32.const 0) (i32.const 64)))
         (drop (call $resource_write (i32.const 1) (i32.const 0) (local.get $n)))
         (local.get $n)",
        &[],
    )
    .arg("one")
    .arg("--two")
    .run();
    assert_eq!((run.code(), run.stdout.as_str()), (5, "--two"));
    // Program name is argument 0.
    let run = Guest::main(
        "(local.set $n (call $startup_arg_at (i32.const 0) (i32.const 0) (i32.const 64)))
         (drop (call $resource_write (i32.const 1) (i32.const 0) (local.get $n)))
         (local.get $n)",
        &[],
    )
    .run();
    assert_eq!(run.stdout, "guest");
    // Buffer too small: needed length, nothing written. Out of range: -2 (the CommonWA spec's
    // invalid argument). Bad buffer: -2.
    let run = Guest::main(
        "(local.set $n (call $startup_arg_at (i32.const 1) (i32.const 0) (i32.const 2)))
         (drop (call $resource_write (i32.const 1) (i32.const 0) (i32.const 2)))
         (local.get $n)",
        &[(0, "zz")],
    )
    .arg("three")
    .run();
    assert_eq!((run.code(), run.stdout.as_str()), (5, "zz"));
    assert_eq!(
        eval(
            &is(
                "(call $startup_arg_at (i32.const 1) (i32.const 0) (i32.const 8))",
                errno::INVALID_ARGUMENT
            ),
            &[]
        ),
        1
    );
    assert_eq!(
        eval(
            &is(
                "(call $startup_arg_at (i32.const -1) (i32.const 0) (i32.const 8))",
                errno::INVALID_ARGUMENT
            ),
            &[]
        ),
        1
    );
    assert_eq!(
        eval(
            &is(
                "(call $startup_arg_at (i32.const 0) (i32.const 65530) (i32.const 8))",
                errno::INVALID_ARGUMENT
            ),
            &[]
        ),
        1
    );
}

#[test]
fn clocks_tell_the_time() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    // time_now within a minute of the host clock (the guest returns 1 when it is).
    let secs = now.as_secs() as i64;
    let body = format!(
        "(i32.and (i64.ge_s (call $time_now) (i64.const {})) (i64.le_s (call $time_now) (i64.const {})))",
        secs - 60,
        secs + 60
    );
    assert_eq!(eval(&body, &[]), 1);
    let ns = now.as_nanos() as i64;
    let body = format!(
        "(i64.ge_s (call $time_now_ns) (i64.const {}))",
        ns - 60_000_000_000
    );
    assert_eq!(eval(&body, &[]), 1);
    // Monotonic time moves forward across a sleep.
    let body = "(local $t i64) (local.set $t (call $time_monotonic_ns)) (call $runtime_msleep (i32.const 5))
                (i64.ge_s (i64.sub (call $time_monotonic_ns) (local.get $t)) (i64.const 5000000))";
    let run = Guest::module(
        common::cwa_module("", &[])
            .replace("(local $h i32) (local $n i32) (local $i i32)\n    ", body),
    )
    .run();
    assert_eq!(run.code(), 1);
}

#[test]
fn random_numbers_vary() {
    // Two i64 draws being equal has probability 2^-64.
    assert_eq!(
        eval("(i64.ne (call $random_i64) (call $random_i64))", &[]),
        1
    );
    // 32 i32 draws all equal: 2^-992.
    let body = "(local.set $n (call $random_i32)) (local.set $i (i32.const 0))
        (block $done (loop $l
            (br_if $done (i32.ge_u (local.get $i) (i32.const 32)))
            (if (i32.ne (call $random_i32) (local.get $n)) (then (return (i32.const 1))))
            (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))
        (i32.const 0)";
    assert_eq!(eval(body, &[]), 1);
    // random_fill fills the buffer and returns its length; a bad buffer is -2.
    let run = Guest::main(
        "(local.set $n (call $random_fill (i32.const 0) (i32.const 64)))
         (drop (call $resource_write (i32.const 1) (i32.const 0) (i32.const 64)))
         (local.get $n)",
        &[],
    )
    .run();
    assert_eq!(run.code(), 64);
    let bytes = run.outcome.process.stats.bytes_written;
    assert_eq!(bytes, 64);
    assert!(run.stdout.len() >= 64 && run.stdout.bytes().any(|b| b != 0));
    assert_eq!(
        eval(
            &is(
                "(call $random_fill (i32.const 65500) (i32.const 64))",
                errno::INVALID_ARGUMENT
            ),
            &[]
        ),
        1
    );
}

#[test]
fn stdio_handles_are_fixed_and_stdin_reads_to_eof() {
    assert_eq!(eval("(i32.and (i32.eq (call $io_get_stdin) (i32.const 0)) (i32.and (i32.eq (call $io_get_stdout) (i32.const 1)) (i32.eq (call $io_get_stderr) (i32.const 2))))", &[]), 1);
    // The same handle on every call, and no handle leaked.
    let run = Guest::main(
        "(drop (call $io_get_stdout)) (drop (call $io_get_stdout)) (call $io_get_stdout)",
        &[],
    )
    .run();
    assert_eq!(run.code(), 1);
    assert_eq!(run.outcome.process.stats.opened, 0);

    let run = Guest::main(
        "(local.set $n (call $resource_read (call $io_get_stdin) (i32.const 0) (i32.const 100)))
         (drop (call $resource_write (call $io_get_stdout) (i32.const 0) (local.get $n)))
         (drop (call $resource_write (call $io_get_stderr) (i32.const 0) (local.get $n)))
         (call $resource_read (call $io_get_stdin) (i32.const 0) (i32.const 100))",
        &[],
    )
    .stdin(b"from stdin")
    .run();
    assert_eq!(run.stdout, "from stdin");
    assert_eq!(run.stderr, "from stdin");
    assert_eq!(run.code(), errno::EOF);
}

#[test]
fn log_write_marks_guest_lines_with_their_level() {
    let run = Guest::main(
        "(call $log_write (i32.const 1) (i32.const 0) (i32.const 4))
         (call $log_write (i32.const 3) (i32.const 0) (i32.const 4))
         (call $log_write (i32.const 6) (i32.const 0) (i32.const 4))
         (call $log_write (i32.const 99) (i32.const 8) (i32.const 9))
         (call $log_write (i32.const 6) (i32.const 65535) (i32.const 10))
         (i32.const 0)",
        &[(0, "oops"), (8, "fake\\0atern")],
    )
    .run();
    assert_eq!(run.code(), 0);
    assert_eq!(
        run.log,
        "[guest] error: oops\n[guest] warning: oops\n[guest] info: oops\n[guest] info: fake\\ntern\n"
    );
}

#[test]
fn bad_handles_and_buffers_are_invalid_arguments() {
    for call in [
        "(call $resource_read (i32.const 77) (i32.const 0) (i32.const 4))",
        "(call $resource_write (i32.const 77) (i32.const 0) (i32.const 4))",
        "(call $resource_flush (i32.const 77))",
        "(call $resource_read (i32.const -1) (i32.const 0) (i32.const 4))",
        "(call $resource_write (i32.const 1) (i32.const 65535) (i32.const 2))",
        "(call $resource_write (i32.const 1) (i32.const 0) (i32.const 65537))",
        "(call $resource_read (i32.const 0) (i32.const -4) (i32.const 8))",
        "(call $resource_open (i32.const 65530) (i32.const 10))",
    ] {
        assert_eq!(eval(&is(call, errno::INVALID_ARGUMENT), &[]), 1, "{call}");
    }
    // Closing a bad handle does nothing and does not trap.
    assert_eq!(eval("(call $resource_close (i32.const 77)) (call $resource_close (i32.const -1)) (i32.const 0)", &[]), 0);
}

#[test]
fn unknown_scheme_empty_and_malformed_urls() {
    // Not granted: denied like anything else; granted but unknown to this runtime: not found.
    assert_eq!(
        eval(
            &is(
                "(call $resource_open (i32.const 0) (i32.const 12))",
                errno::PERMISSION_DENIED
            ),
            &[(0, "gopher://x/y")]
        ),
        1
    );
    let run = Guest::main(
        &is(
            "(call $resource_open (i32.const 0) (i32.const 12))",
            errno::NOT_FOUND,
        ),
        &[(0, "gopher://x/y")],
    )
    .allow("gopher://x")
    .run();
    assert_eq!(run.code(), 1);
    assert_eq!(
        eval(
            &is(
                "(call $resource_open (i32.const 0) (i32.const 0))",
                errno::INVALID_ARGUMENT
            ),
            &[]
        ),
        1
    );
    assert_eq!(
        eval(
            &is(
                "(call $resource_open (i32.const 0) (i32.const 9))",
                errno::INVALID_ARGUMENT
            ),
            &[(0, "not a url")]
        ),
        1
    );
    assert_eq!(
        eval(
            &is(
                "(call $resource_open (i32.const 0) (i32.const 2))",
                errno::INVALID_ARGUMENT
            ),
            &[(0, "\\ff\\fe")]
        ),
        1
    );
}

#[test]
fn read_and_write_after_close_are_invalid_and_numbers_are_reused() {
    let run = Guest::main(
        &format!(
            "(local.set $h (call $resource_open (i32.const 0) (i32.const 7)))
             (if (i32.ne (local.get $h) (i32.const 3)) (then (return (i32.const 10))))
             (call $resource_close (local.get $h))
             (if (i32.eqz {}) (then (return (i32.const 11))))
             (if (i32.eqz {}) (then (return (i32.const 12))))
             ;; the lowest free number is reused
             (local.set $h (call $resource_open (i32.const 8) (i32.const 7)))
             (if (i32.ne (local.get $h) (i32.const 3)) (then (return (i32.const 13))))
             (i32.const 0)",
            is(
                "(call $resource_read (local.get $h) (i32.const 100) (i32.const 4))",
                errno::INVALID_ARGUMENT
            ),
            is(
                "(call $resource_write (local.get $h) (i32.const 100) (i32.const 4))",
                errno::INVALID_ARGUMENT
            ),
        ),
        &[(0, "zero://"), (8, "null://")],
    )
    .run();
    assert_eq!(run.code(), 0);
}

#[test]
fn closing_stdout_closes_it_for_the_rest_of_the_run() {
    let run = Guest::main(
        &format!(
            "(drop (call $resource_write (i32.const 1) (i32.const 0) (i32.const 3)))
             (call $resource_close (i32.const 1))
             {}",
            is(
                "(call $resource_write (call $io_get_stdout) (i32.const 0) (i32.const 3))",
                errno::INVALID_ARGUMENT
            )
        ),
        &[(0, "abc")],
    )
    .run();
    assert_eq!((run.code(), run.stdout.as_str()), (1, "abc"));
}

#[test]
fn a_zero_length_read_returns_zero_not_eof() {
    assert_eq!(
        eval(
            "(call $resource_read (i32.const 0) (i32.const 0) (i32.const 0))",
            &[]
        ),
        0
    );
}

#[test]
fn log_write_lines_are_cut_at_the_limit() {
    let run = Guest::main(
        "(call $log_write (i32.const 6) (i32.const 0) (i32.const 5000)) (i32.const 0)",
        &[],
    )
    .limits(|l| l.max_log_line_bytes = 100)
    .run();
    let line = run.log.lines().next().unwrap();
    assert_eq!(
        line,
        format!("[guest] info: {} [cut]", "\\0".repeat(100)),
        "{}",
        run.log.len()
    );
}
