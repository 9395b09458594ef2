//! WASI preview1 behaviour the WebAssembly wasi-testsuite (github.com/WebAssembly/wasi-testsuite,
//! run by hand against `tern run`: CI cannot reach GitHub) found wrong in tern, each pinned by a .wat
//! guest here.

use crate::common::Guest;

/// `path_open` with every right but FD_WRITE, of a directory (with and without `O_DIRECTORY`) and of a file, then
/// `fd_fdstat_get`: a directory has no file rights (FD_READ, FD_SEEK, FD_TELL, FD_WRITE) and a file
/// no directory rights (PATH_OPEN, FD_READDIR), as in wasmtime; before, tern reported whatever the
/// open asked for within the preopen's inheriting set (wasi-testsuite's directory_seek failed).
#[test]
fn opened_directories_have_no_file_rights_and_files_no_directory_rights() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("f"), "x").unwrap();
    let grant = format!("file://{}", dir.path().display());
    // Every right but FD_WRITE (which opens for writing, EISDIR for a directory): 0x1fffffbf.
    // File rights: FD_READ|FD_SEEK|FD_TELL = 0x26. Directory rights: PATH_OPEN|FD_READDIR = 0x6000.
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $stat (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_fdstat_set_rights" (func $set (param i32 i64 i64) (result i32)))
        (import "wasi_snapshot_preview1" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (data (i32.const 0) "sub")
        (data (i32.const 16) "f")
        ;; fdstat of the handle opened at `path`, `len` with `oflags` and those rights: its base rights.
        (func $base_of (param $path i32) (param $len i32) (param $oflags i32) (result i64)
          (if (call $open (i32.const 3) (i32.const 0) (local.get $path) (local.get $len) (local.get $oflags)
                (i64.const 0x1fffffbf) (i64.const 0x1fffffbf) (i32.const 0) (i32.const 200))
            (then (unreachable)))
          (if (call $stat (i32.load (i32.const 200)) (i32.const 300)) (then (unreachable)))
          (i64.load (i32.const 308)))
        (func (export "cwa_main") (result i32) (local $base i64) (local $seek i32)
          ;; sub with O_DIRECTORY (2): directory rights, no file rights.
          (local.set $base (call $base_of (i32.const 0) (i32.const 3) (i32.const 2)))
          (if (i64.ne (i64.and (local.get $base) (i64.const 0x26)) (i64.const 0)) (then (return (i32.const 1))))
          (if (i64.ne (i64.and (local.get $base) (i64.const 0x6000)) (i64.const 0x6000)) (then (return (i32.const 2))))
          ;; seeking it fails (EBADF, 8), and the seek right cannot be added back (ENOTCAPABLE, 76).
          (local.set $seek (call $seek (i32.load (i32.const 200)) (i64.const 0) (i32.const 1) (i32.const 400)))
          (if (i32.ne (local.get $seek) (i32.const 8)) (then (return (i32.const 3))))
          (if (i32.ne (call $set (i32.load (i32.const 200)) (i64.or (local.get $base) (i64.const 4)) (i64.const 0))
                      (i32.const 76))
            (then (return (i32.const 4))))
          ;; sub without O_DIRECTORY, as opendir() in wasi-libc may: the same.
          (local.set $base (call $base_of (i32.const 0) (i32.const 3) (i32.const 0)))
          (if (i64.ne (i64.and (local.get $base) (i64.const 0x26)) (i64.const 0)) (then (return (i32.const 5))))
          (if (i64.ne (i64.and (local.get $base) (i64.const 0x6000)) (i64.const 0x6000)) (then (return (i32.const 6))))
          ;; the file f: file rights, no directory rights.
          (local.set $base (call $base_of (i32.const 16) (i32.const 1) (i32.const 0)))
          (if (i64.ne (i64.and (local.get $base) (i64.const 0x26)) (i64.const 0x26)) (then (return (i32.const 7))))
          (if (i64.ne (i64.and (local.get $base) (i64.const 0x6000)) (i64.const 0)) (then (return (i32.const 8))))
          (i32.const 0)))"#;
    let run = Guest::module(wat)
        .allow(&grant)
        .preopen(dir.path(), "/d")
        .run();
    assert_eq!(run.code(), 0, "{}", run.log);
}
