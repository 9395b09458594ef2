//! Module `dagger`: Olin's first ABI on the same handles.

use crate::common;

use common::Guest;
use tern_abi::errno;

const IMPORTS: &str = r#"
  (import "dagger" "open" (func $open (param i32 i32) (result i32)))
  (import "dagger" "close" (func $close (param i32) (result i32)))
  (import "dagger" "read" (func $read (param i32 i32 i32) (result i32)))
  (import "dagger" "write" (func $write (param i32 i32 i32) (result i32)))
  (import "dagger" "sync" (func $sync (param i32) (result i32)))
  (memory (export "memory") 1)"#;

fn dagger(body: &str, data: &str) -> Guest {
    Guest::module(format!(
        "(module {IMPORTS} {data} (func (export \"main\") (result i32) (local $fd i32) (local $n i32) {body}))"
    ))
}

#[test]
fn dagger_echoes_stdin_to_stdout_with_posix_eof() {
    let run = dagger(
        "(local.set $fd (call $open (i32.const 0) (i32.const 0)))
         (local.set $n (call $read (local.get $fd) (i32.const 100) (i32.const 64)))
         (drop (call $write (call $open (i32.const 8) (i32.const 0)) (i32.const 100) (local.get $n)))
         (if (i32.ne (call $sync (i32.const 1)) (i32.const 0)) (then (return (i32.const 50))))
         ;; the end of the stream is 0, not -5
         (if (i32.ne (call $read (local.get $fd) (i32.const 100) (i32.const 64)) (i32.const 0)) (then (return (i32.const 51))))
         (call $close (local.get $fd))",
        r#"(data (i32.const 0) "fd://0\00") (data (i32.const 8) "fd://1\00")"#,
    )
    .stdin(b"dagger")
    .run();
    assert_eq!(run.code(), 0);
    assert_eq!(run.stdout, "dagger");
}

#[test]
fn dagger_errors_use_the_same_numbers() {
    let run = dagger("(call $close (i32.const 99))", "").run();
    assert_eq!(run.code(), errno::INVALID_ARGUMENT);
    // fd:// is the guest's own stdio only: fd://3 is not a host descriptor.
    let run = dagger(
        "(call $open (i32.const 0) (i32.const 0))",
        r#"(data (i32.const 0) "fd://3\00")"#,
    )
    .run();
    assert_eq!(run.code(), errno::NOT_FOUND);
    // Policy applies: file:///etc/passwd is denied.
    let run = dagger(
        "(call $open (i32.const 0) (i32.const 0))",
        r#"(data (i32.const 0) "file:///etc/passwd\00")"#,
    )
    .run();
    assert_eq!(run.code(), errno::PERMISSION_DENIED);
    // No NUL within 4096 bytes, or a pointer past memory: invalid argument.
    let run = dagger("(memory.fill (i32.const 0) (i32.const 65) (i32.const 8000)) (call $open (i32.const 0) (i32.const 0))", "").run();
    assert_eq!(run.code(), errno::INVALID_ARGUMENT);
    let run = dagger("(call $open (i32.const 70000) (i32.const 0))", "").run();
    assert_eq!(run.code(), errno::INVALID_ARGUMENT);
}
