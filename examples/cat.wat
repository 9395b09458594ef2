;; cat.wat — copies stdin to stdout through the stream ABI.
;;
;;   echo hi | tern run examples/cat.wat
;;
;; resource_read returns -5 (end of file) at the end of stdin; any other negative number is an error
;; and becomes exit status 1.
(module
  (import "cwa" "io_get_stdin" (func $stdin (result i32)))
  (import "cwa" "io_get_stdout" (func $stdout (result i32)))
  (import "cwa" "resource_read" (func $read (param i32 i32 i32) (result i32)))
  (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "cwa_main") (result i32)
    (local $n i32)
    (loop $copy
      (local.set $n (call $read (call $stdin) (i32.const 0) (i32.const 65536)))
      (if (i32.eq (local.get $n) (i32.const -5)) (then (return (i32.const 0))))
      (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.const 1))))
      (if (i32.lt_s (call $write (call $stdout) (i32.const 0) (local.get $n)) (i32.const 0))
        (then (return (i32.const 1))))
      (br $copy))
    (i32.const 0)))
