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

#[test]
fn append_with_truncate_opens_and_pwrite_works_and_absolute_symlinks_fail() {
    // What wasi-libc's open(name, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND) asks for, then pwrite;
    // then path_symlink with an absolute target, which wasmtime refuses with EPERM (63).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), "old contents").unwrap();
    let grant = format!("file://{}", dir.path().display());
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_pwrite" (func $pwrite (param i32 i32 i32 i64 i32) (result i32)))
        (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (data (i32.const 0) "f")
        (data (i32.const 300) "\90\01\00\00\05\00\00\00")
        (data (i32.const 400) "hello")
        (data (i32.const 600) "/etc/passwd")
        (data (i32.const 700) "abs")
        (func (export "cwa_main") (result i32)
          (if (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 9)
                (i64.const 68) (i64.const 0) (i32.const 1) (i32.const 200))
            (then (return (i32.const 1))))
          (if (call $pwrite (i32.load (i32.const 200)) (i32.const 300) (i32.const 1) (i64.const 0) (i32.const 500))
            (then (return (i32.const 2))))
          (if (i32.ne (i32.load (i32.const 500)) (i32.const 5)) (then (return (i32.const 3))))
          (if (i32.ne (call $symlink (i32.const 600) (i32.const 11) (i32.const 3) (i32.const 700) (i32.const 3))
                      (i32.const 63))
            (then (return (i32.const 4))))
          (i32.const 0)))"#;
    let run = Guest::module(wat)
        .allow(&grant)
        .preopen(dir.path(), "/d")
        .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("f")).unwrap(),
        "hello"
    );
    assert!(std::fs::symlink_metadata(dir.path().join("abs")).is_err());
}

#[test]
fn rights_are_what_was_asked_within_the_directory_and_only_shrink() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/inner.txt"), "inner\n").unwrap();
    let grant = format!("file://{}", dir.path().display());
    // sub: PATH_OPEN | PATH_FILESTAT_SET_SIZE, passing on FD_READ | FD_WRITE | FD_SEEK.
    // inner.txt through it: asks FD_READ | FD_WRITE | FD_TELL | FD_FILESTAT_GET, gets the first two.
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $stat (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_fdstat_set_rights" (func $set (param i32 i64 i64) (result i32)))
        (memory (export "memory") 1)
        (data (i32.const 0) "sub")
        (data (i32.const 16) "inner.txt")
        (func (export "cwa_main") (result i32)
          (if (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 3) (i32.const 2)
                (i64.const 532480) (i64.const 70) (i32.const 0) (i32.const 200))
            (then (return (i32.const 1))))
          (drop (call $stat (i32.load (i32.const 200)) (i32.const 300)))
          (if (i64.ne (i64.load (i32.const 308)) (i64.const 532480)) (then (return (i32.const 2))))
          (if (i64.ne (i64.load (i32.const 316)) (i64.const 70)) (then (return (i32.const 3))))
          (if (call $open (i32.load (i32.const 200)) (i32.const 0) (i32.const 16) (i32.const 9) (i32.const 0)
                (i64.const 2097250) (i64.const 0) (i32.const 0) (i32.const 204))
            (then (return (i32.const 4))))
          (drop (call $stat (i32.load (i32.const 204)) (i32.const 400)))
          (if (i64.ne (i64.load (i32.const 408)) (i64.const 66)) (then (return (i32.const 5))))
          ;; Adding a right is ENOTCAPABLE (76); dropping PATH_FILESTAT_SET_SIZE works, and then a
          ;; truncating open through sub is ENOTCAPABLE and leaves the file alone.
          (if (i32.ne (call $set (i32.load (i32.const 200)) (i64.const 532484) (i64.const 70)) (i32.const 76))
            (then (return (i32.const 6))))
          (if (call $set (i32.load (i32.const 200)) (i64.const 8192) (i64.const 70))
            (then (return (i32.const 7))))
          (if (i32.ne (call $open (i32.load (i32.const 200)) (i32.const 0) (i32.const 16) (i32.const 9) (i32.const 8)
                (i64.const 66) (i64.const 0) (i32.const 0) (i32.const 208)) (i32.const 76))
            (then (return (i32.const 8))))
          (i32.const 0)))"#;
    let run = Guest::module(wat)
        .allow(&grant)
        .preopen(dir.path(), "/d")
        .run();
    assert_eq!(run.code(), 0, "{}", run.log);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sub/inner.txt")).unwrap(),
        "inner\n"
    );
}

#[test]
fn dotdot_after_a_missing_name_or_a_file_fails_as_the_kernel_has_it() {
    // path_filestat_get through "missing/../f" is ENOENT (44) and "f/../f" ENOTDIR (54), as Linux
    // and wasmtime say; resolving `..` by text alone would have found f.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), "x").unwrap();
    let grant = format!("file://{}", dir.path().display());
    let stat = |path: &str| {
        let wat = format!(
            r#"(module
            (import "wasi_snapshot_preview1" "path_filestat_get" (func $stat (param i32 i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 0) "{path}")
            (func (export "cwa_main") (result i32)
              (call $stat (i32.const 3) (i32.const 1) (i32.const 0) (i32.const {}) (i32.const 100))))"#,
            path.len()
        );
        Guest::module(wat)
            .allow(&grant)
            .preopen(dir.path(), "/d")
            .run()
            .code()
    };
    assert_eq!(stat("f"), 0);
    assert_eq!(stat("missing/../f"), 44);
    assert_eq!(stat("f/../f"), 54);
    assert_eq!(stat("./f"), 0);
}
