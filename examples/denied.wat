;; denied.wat — shows a denial: it tries to read /etc/hostname, which nothing grants.
;;
;;   tern run examples/denied.wat                                  -> denied (exit 3)
;;   tern run --allow file:///etc/hostname examples/denied.wat     -> prints the file
;;
;; resource_open returns -3 (permission denied) and tern names the flag that would grant it on stderr.
(module
  (import "cwa" "resource_open" (func $open (param i32 i32) (result i32)))
  (import "cwa" "resource_read" (func $read (param i32 i32 i32) (result i32)))
  (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (import "cwa" "io_get_stdout" (func $stdout (result i32)))
  (import "cwa" "log_write" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "file:///etc/hostname")
  (data (i32.const 32) "open failed: permission denied")
  (func (export "cwa_main") (result i32)
    (local $h i32) (local $n i32)
    (local.set $h (call $open (i32.const 0) (i32.const 20)))
    (if (i32.eq (local.get $h) (i32.const -3))
      (then
        (call $log (i32.const 1) (i32.const 32) (i32.const 30))
        (return (i32.const 3))))
    (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (i32.const 1))))
    (loop $copy
      (local.set $n (call $read (local.get $h) (i32.const 1024) (i32.const 4096)))
      (if (i32.gt_s (local.get $n) (i32.const 0))
        (then
          (drop (call $write (call $stdout) (i32.const 1024) (local.get $n)))
          (br $copy))))
    (i32.const 0)))
