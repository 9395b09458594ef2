;; fetch.wat — copies the resource named by argument 1 to stdout (the simple form: open, then read).
;;
;;   tern run --allow file:///tmp/x fetch.wat file:///tmp/x/a.txt
;;   tern run --ca-file ca.pem --allow https://127.0.0.1:8443 fetch.wat https://127.0.0.1:8443/a.txt
;;
;; Exit status 0 when the whole resource was copied, 2 for a missing or oversized argument, and
;; 10 - N when a call returned the error number N (so 13 is permission denied, 19 connection failed).
(module
  (import "cwa" "startup_arg_at" (func $arg_at (param i32 i32 i32) (result i32)))
  (import "cwa" "resource_open" (func $open (param i32 i32) (result i32)))
  (import "cwa" "resource_read" (func $read (param i32 i32 i32) (result i32)))
  (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (import "cwa" "io_get_stdout" (func $stdout (result i32)))
  (memory (export "memory") 2)
  (func (export "cwa_main") (result i32)
    (local $len i32) (local $h i32) (local $n i32) (local $w i32)
    ;; The URL goes to [0, 4096); data is copied through [65536, 131072).
    (local.set $len (call $arg_at (i32.const 1) (i32.const 0) (i32.const 4096)))
    (if (i32.or (i32.le_s (local.get $len) (i32.const 0)) (i32.gt_s (local.get $len) (i32.const 4096)))
      (then (return (i32.const 2))))
    (local.set $h (call $open (i32.const 0) (local.get $len)))
    (if (i32.lt_s (local.get $h) (i32.const 0))
      (then (return (i32.sub (i32.const 10) (local.get $h)))))
    (loop $copy
      (local.set $n (call $read (local.get $h) (i32.const 65536) (i32.const 65536)))
      (if (i32.eq (local.get $n) (i32.const -5)) (then (return (i32.const 0))))
      (if (i32.lt_s (local.get $n) (i32.const 0))
        (then (return (i32.sub (i32.const 10) (local.get $n)))))
      (local.set $w (call $write (call $stdout) (i32.const 65536) (local.get $n)))
      (if (i32.ne (local.get $w) (local.get $n))
        (then (return (i32.sub (i32.const 10) (local.get $w)))))
      (br $copy))
    (i32.const 0)))
