//! WASI preview1 in-process, through .wat guests: the handle table shared with the stream ABI,
//! deadlines in blocking calls, and the exact set of linked functions. The real wasm32-wasip1
//! programs (runtime/tests/wasi) run under the `tern` binary in cli/tests/it/wasi.rs.

use crate::common;

use std::time::{Duration, Instant};

use common::Guest;

/// A module importing both ABIs: `cwa_main`'s body runs with `$fd_write`, `$fd_close`, `$fd_renumber`
/// from WASI and `$resource_*` from the stream ABI.
fn mixed(body: &str, data: &[(u32, &str)]) -> String {
    let mut wat = String::from("(module\n");
    wat += r#"(import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
(import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
(import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
(import "cwa" "resource_open" (func $resource_open (param i32 i32) (result i32)))
(import "cwa" "resource_write" (func $resource_write (param i32 i32 i32) (result i32)))
(memory (export "memory") 1)
"#;
    for (at, text) in data {
        wat += &format!("(data (i32.const {at}) \"{text}\")\n");
    }
    wat + &format!("(func (export \"cwa_main\") (result i32) (local $h i32) {body}))")
}

#[test]
fn one_handle_table_and_one_stdout_for_both_abis() {
    // iovec at 0 → "wasi\n" at 100; "cwa\n" at 200; "null://" at 300; nwritten at 400.
    let run = Guest::module(mixed(
        "(drop (call $resource_write (i32.const 1) (i32.const 200) (i32.const 4)))
         (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 400)))
         (drop (call $resource_write (i32.const 1) (i32.const 200) (i32.const 4)))
         (local.set $h (call $resource_open (i32.const 300) (i32.const 7)))
         ;; the stream handle is a WASI fd: fd_write to it works, then fd_close frees it for both ABIs
         (if (i32.ne (call $fd_write (local.get $h) (i32.const 0) (i32.const 1) (i32.const 400)) (i32.const 0))
           (then (return (i32.const 101))))
         (if (i32.ne (call $fd_close (local.get $h)) (i32.const 0)) (then (return (i32.const 102))))
         (if (i32.ne (call $resource_write (local.get $h) (i32.const 200) (i32.const 4)) (i32.const -2))
           (then (return (i32.const 103))))
         (local.get $h)",
        &[(0, "\\64\\00\\00\\00\\05\\00\\00\\00"), (100, "wasi\\n"), (200, "cwa\\n"), (300, "null://")],
    ))
    .run();
    assert_eq!(run.code(), 3, "the first free handle, shared by both ABIs");
    assert_eq!(run.stdout, "cwa\nwasi\ncwa\n");
    assert_eq!(run.outcome.process.stats.bytes_written, 4 + 5 + 4 + 5);
}

#[test]
fn poll_oneoff_sleeping_ends_at_the_run_deadline() {
    // One relative monotonic clock subscription of 10 s, with a 200 ms run timeout.
    let sub = "\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\01\\00\\00\\00\\00\\00\\00\\00\\00\\e4\\0b\\54\\02\\00\\00\\00";
    let started = Instant::now();
    let run = Guest::module(mixed(
        "(drop (call $poll_oneoff (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200))) (i32.const 0)",
        &[(0, sub)],
    ))
    .limits(|l| l.timeout = Some(Duration::from_millis(200)))
    .run();
    assert_eq!(run.code(), 124, "{}", run.termination());
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Every wasi_snapshot_preview1 function with its core-wasm signature (params, results).
const PREVIEW1: &[(&str, &str, &str)] = &[
    ("args_get", "i32 i32", "i32"),
    ("args_sizes_get", "i32 i32", "i32"),
    ("environ_get", "i32 i32", "i32"),
    ("environ_sizes_get", "i32 i32", "i32"),
    ("clock_res_get", "i32 i32", "i32"),
    ("clock_time_get", "i32 i64 i32", "i32"),
    ("fd_advise", "i32 i64 i64 i32", "i32"),
    ("fd_allocate", "i32 i64 i64", "i32"),
    ("fd_close", "i32", "i32"),
    ("fd_datasync", "i32", "i32"),
    ("fd_fdstat_get", "i32 i32", "i32"),
    ("fd_fdstat_set_flags", "i32 i32", "i32"),
    ("fd_fdstat_set_rights", "i32 i64 i64", "i32"),
    ("fd_filestat_get", "i32 i32", "i32"),
    ("fd_filestat_set_size", "i32 i64", "i32"),
    ("fd_filestat_set_times", "i32 i64 i64 i32", "i32"),
    ("fd_pread", "i32 i32 i32 i64 i32", "i32"),
    ("fd_prestat_get", "i32 i32", "i32"),
    ("fd_prestat_dir_name", "i32 i32 i32", "i32"),
    ("fd_pwrite", "i32 i32 i32 i64 i32", "i32"),
    ("fd_read", "i32 i32 i32 i32", "i32"),
    ("fd_readdir", "i32 i32 i32 i64 i32", "i32"),
    ("fd_renumber", "i32 i32", "i32"),
    ("fd_seek", "i32 i64 i32 i32", "i32"),
    ("fd_sync", "i32", "i32"),
    ("fd_tell", "i32 i32", "i32"),
    ("fd_write", "i32 i32 i32 i32", "i32"),
    ("path_create_directory", "i32 i32 i32", "i32"),
    ("path_filestat_get", "i32 i32 i32 i32 i32", "i32"),
    (
        "path_filestat_set_times",
        "i32 i32 i32 i32 i64 i64 i32",
        "i32",
    ),
    ("path_link", "i32 i32 i32 i32 i32 i32 i32", "i32"),
    ("path_open", "i32 i32 i32 i32 i32 i64 i64 i32 i32", "i32"),
    ("path_readlink", "i32 i32 i32 i32 i32 i32", "i32"),
    ("path_remove_directory", "i32 i32 i32", "i32"),
    ("path_rename", "i32 i32 i32 i32 i32 i32", "i32"),
    ("path_symlink", "i32 i32 i32 i32 i32", "i32"),
    ("path_unlink_file", "i32 i32 i32", "i32"),
    ("poll_oneoff", "i32 i32 i32 i32", "i32"),
    ("proc_exit", "i32", ""),
    ("proc_raise", "i32", "i32"),
    ("sched_yield", "", "i32"),
    ("random_get", "i32 i32", "i32"),
    ("sock_accept", "i32 i32 i32", "i32"),
    ("sock_recv", "i32 i32 i32 i32 i32 i32", "i32"),
    ("sock_send", "i32 i32 i32 i32 i32", "i32"),
    ("sock_shutdown", "i32 i32", "i32"),
];

#[test]
fn every_preview1_function_links_with_its_exact_signature_and_nothing_else() {
    let mut wat = String::from("(module\n");
    for (name, params, results) in PREVIEW1 {
        wat += &format!(
            "(import \"wasi_snapshot_preview1\" \"{name}\" (func (param {params}) (result {results})))\n"
        );
    }
    let run = Guest::module(wat + "(func (export \"_start\")))").run();
    assert_eq!(run.code(), 0, "{}", run.termination());
    let defined: Vec<&str> = tern::Runtime::new()
        .imports()
        .iter()
        .filter(|(m, _)| *m == tern_abi::module::WASI_PREVIEW1)
        .map(|(_, n)| *n)
        .collect();
    let mut listed: Vec<&str> = PREVIEW1.iter().map(|(n, _, _)| *n).collect();
    let mut defined_sorted = defined.clone();
    defined_sorted.sort_unstable();
    listed.sort_unstable();
    assert_eq!(defined_sorted, listed);
}

/// The directory tree the path tests use: hello.txt, sub/inner.txt and sub/private/secret.
fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hello, wasi\n").unwrap();
    std::fs::create_dir_all(dir.path().join("sub/private")).unwrap();
    std::fs::write(dir.path().join("sub/inner.txt"), "inner\n").unwrap();
    std::fs::write(dir.path().join("sub/private/secret"), "s").unwrap();
    dir
}

/// A WASI guest that calls `path_rename` (or `path_link`) from `from` to `to` below preopen 3 and
/// exits with the call's errno.
fn rename_guest(call: &str, from: &str, to: &str) -> Guest {
    let (params, flags) = match call {
        "path_rename" => ("i32 i32 i32 i32 i32 i32", ""),
        _ => ("i32 i32 i32 i32 i32 i32 i32", "(i32.const 0) "),
    };
    Guest::module(format!(
        "(module
           (import \"wasi_snapshot_preview1\" \"{call}\" (func $op (param {params}) (result i32)))
           (import \"wasi_snapshot_preview1\" \"proc_exit\" (func $exit (param i32)))
           (memory (export \"memory\") 1)
           (data (i32.const 0) \"{from}\") (data (i32.const 100) \"{to}\")
           (func (export \"_start\")
             (call $exit (call $op (i32.const 3) {flags}(i32.const 0) (i32.const {}) (i32.const 3)
                                   (i32.const 100) (i32.const {})))))",
        from.len(),
        to.len()
    ))
}

#[test]
fn a_deny_below_a_preopen_survives_renaming_and_linking() {
    let run = |call: &str, from: &str, to: &str| {
        let dir = sandbox();
        let grant = format!("file://{}", dir.path().display());
        let deny = format!("{grant}/sub/private");
        let run = rename_guest(call, from, to)
            .allow(&grant)
            .deny(&deny)
            .preopen(dir.path(), "/sandbox")
            .run();
        (run, dir)
    };
    // Renaming the parent of a denied path, the denied path itself, or into it is EACCES (2).
    for (from, to) in [
        ("sub", "sub2"),
        ("sub/private", "open"),
        ("hello.txt", "sub/private/x"),
    ] {
        let (run, dir) = run("path_rename", from, to);
        assert_eq!(run.code(), 2, "rename {from} {to}: {}", run.log);
        assert!(run.log.contains("denied"), "{}", run.log);
        assert_eq!(run.outcome.process.stats.denied.len(), 1);
        assert!(dir.path().join("sub/private/secret").is_file());
        assert!(!dir.path().join("sub2").exists() && !dir.path().join("open").exists());
    }
    // Hard-linking into or out of it too.
    for (from, to) in [
        ("sub/private/secret", "copy"),
        ("hello.txt", "sub/private/h"),
    ] {
        let (run, dir) = run("path_link", from, to);
        assert_eq!(run.code(), 2, "link {from} {to}: {}", run.log);
        assert!(!dir.path().join("copy").exists() && !dir.path().join("sub/private/h").exists());
    }
    // What holds no denied path moves as before.
    let (run, dir) = run("path_rename", "sub/inner.txt", "moved.txt");
    assert_eq!(run.code(), 0, "{}", run.log);
    assert!(dir.path().join("moved.txt").is_file());
}

#[test]
fn a_read_only_preopen_is_read_only_through_the_stream_abi_too() {
    // What `--dir HOST:ro` does: a read-only grant and the preopen.
    let dir = sandbox();
    let file = dir.path().join("hello.txt");
    let url = format!("file://{}?mode=w", file.display());
    let mut guest = Guest::main(
        &format!(
            "(call $resource_open (i32.const 0) (i32.const {}))",
            url.len()
        ),
        &[(0, &url)],
    );
    guest
        .policy
        .allow_read(&format!("file://{}", dir.path().display()))
        .unwrap();
    let run = guest.preopen(dir.path(), "/sandbox").run();
    assert_eq!(
        run.code(),
        tern_abi::errno::PERMISSION_DENIED,
        "{}",
        run.log
    );
    assert!(run.log.contains("is granted read-only"), "{}", run.log);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "hello, wasi\n");
}
