;; wasi-le.wat — the WASI front-end reads and writes multi-byte values in guest memory little-endian:
;; pointers and lengths it writes (args), iovecs it reads (fd_write), counts and 64-bit times it writes.
;;
;;   tern run wasi-le.wat xyz   -> "le:xyz" and exit 0; exit N names the first check that failed.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 512) "le:")
  (data (i32.const 520) "\n")
  (func $check (param $ok i32) (param $code i32)
    (if (i32.eqz (local.get $ok)) (then (call $exit (local.get $code)))))
  (func (export "_start")
    (local $t i64)
    ;; argc at 0, the size of the argument strings at 4; the strings go to [1024, 4096).
    (call $check (i32.eqz (call $args_sizes_get (i32.const 0) (i32.const 4))) (i32.const 10))
    (call $check (i32.eq (i32.load (i32.const 0)) (i32.const 2)) (i32.const 11))
    (call $check (i32.le_u (i32.load (i32.const 4)) (i32.const 3072)) (i32.const 12))
    ;; argv (two pointers) at 16: argv[0] is the start of the buffer, argv[1] follows its NUL.
    (call $check (i32.eqz (call $args_get (i32.const 16) (i32.const 1024))) (i32.const 13))
    (call $check (i32.eq (i32.load (i32.const 16)) (i32.const 1024)) (i32.const 14))
    (call $check (i32.eq (i32.load8_u (i32.sub (i32.load (i32.const 20)) (i32.const 1))) (i32.const 0))
      (i32.const 15))
    ;; Three iovecs at 64: "le:", argv[1] (3 bytes), "\n"; the count written goes to 96.
    (i32.store (i32.const 64) (i32.const 512))
    (i32.store (i32.const 68) (i32.const 3))
    (i32.store (i32.const 72) (i32.load (i32.const 20)))
    (i32.store (i32.const 76) (i32.const 3))
    (i32.store (i32.const 80) (i32.const 520))
    (i32.store (i32.const 84) (i32.const 1))
    (call $check (i32.eqz (call $fd_write (i32.const 1) (i32.const 64) (i32.const 3) (i32.const 96)))
      (i32.const 16))
    (call $check (i32.eq (i32.load (i32.const 96)) (i32.const 7)) (i32.const 17))
    ;; Two monotonic readings, 8 bytes each: the second is not earlier and less than 10 s later
    ;; (a byte-swapped reading would be wildly off).
    (call $check (i32.eqz (call $clock (i32.const 1) (i64.const 1) (i32.const 128))) (i32.const 18))
    (call $check (i32.eqz (call $clock (i32.const 1) (i64.const 1) (i32.const 136))) (i32.const 19))
    (local.set $t (i64.sub (i64.load (i32.const 136)) (i64.load (i32.const 128))))
    (call $check (i64.ge_s (local.get $t) (i64.const 0)) (i32.const 20))
    (call $check (i64.lt_s (local.get $t) (i64.const 10000000000)) (i32.const 21))
    ;; The realtime clock is between 2020 and 2100, in nanoseconds.
    (call $check (i32.eqz (call $clock (i32.const 0) (i64.const 1) (i32.const 144))) (i32.const 22))
    (call $check (i64.gt_u (i64.load (i32.const 144)) (i64.const 1577836800000000000)) (i32.const 23))
    (call $check (i64.lt_u (i64.load (i32.const 144)) (i64.const 4102444800000000000)) (i32.const 24))))
