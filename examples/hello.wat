;; hello.wat — greets through the stream ABI.
;;
;;   tern run examples/hello.wat            -> Hello from tern!
;;   tern run examples/hello.wat Ada        -> Hello, Ada!
;;
;; It writes to stdout (handle from io_get_stdout) and logs one line through log_write.
(module
  (import "cwa" "io_get_stdout" (func $stdout (result i32)))
  (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (import "cwa" "startup_arg_len" (func $argc (result i32)))
  (import "cwa" "startup_arg_at" (func $arg_at (param i32 i32 i32) (result i32)))
  (import "cwa" "log_write" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "Hello from tern!\n")
  (data (i32.const 32) "Hello, ")
  (data (i32.const 48) "!\n")
  (data (i32.const 64) "greeted")
  (func (export "_start")
    (local $n i32)
    (if (i32.ge_s (call $argc) (i32.const 2))
      (then
        ;; Argument 1 goes to offset 256; a name longer than 256 bytes gets the default greeting.
        (local.set $n (call $arg_at (i32.const 1) (i32.const 256) (i32.const 256)))
        (if (i32.and (i32.gt_s (local.get $n) (i32.const 0)) (i32.le_s (local.get $n) (i32.const 256)))
          (then
            (drop (call $write (call $stdout) (i32.const 32) (i32.const 7)))
            (drop (call $write (call $stdout) (i32.const 256) (local.get $n)))
            (drop (call $write (call $stdout) (i32.const 48) (i32.const 2)))
            (call $log (i32.const 6) (i32.const 64) (i32.const 7))
            (return)))))
    (drop (call $write (call $stdout) (i32.const 0) (i32.const 17)))
    (call $log (i32.const 6) (i32.const 64) (i32.const 7))))
