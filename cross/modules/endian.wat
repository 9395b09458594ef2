;; endian.wat — guest memory is little-endian on every host, big-endian powerpc included.
;;
;;   tern run endian.wat   -> "endian ok" and exit 0; exit N names the first check that failed.
;;
;; It loads what a data segment placed, stores and reads back bytes, floats and unaligned values, and
;; writes its verdict through the stream ABI (so the host copies guest bytes out, too).
(module
  (import "cwa" "io_get_stdout" (func $stdout (result i32)))
  (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\01\02\03\04\05\06\07\08")
  (data (i32.const 256) "endian ok\n")
  (func (export "cwa_main") (result i32)
    ;; Loads of bytes placed by the data segment.
    (if (i32.ne (i32.load (i32.const 0)) (i32.const 0x04030201)) (then (return (i32.const 1))))
    (if (i64.ne (i64.load (i32.const 0)) (i64.const 0x0807060504030201)) (then (return (i32.const 2))))
    (if (i32.ne (i32.load16_u (i32.const 2)) (i32.const 0x0403)) (then (return (i32.const 3))))
    (if (i64.ne (i64.load32_u (i32.const 4)) (i64.const 0x08070605)) (then (return (i32.const 4))))
    ;; A stored word reads back byte by byte, lowest byte first: 0x64636261 is "abcd".
    (i32.store (i32.const 16) (i32.const 0x64636261))
    (if (i32.ne (i32.load8_u (i32.const 16)) (i32.const 0x61)) (then (return (i32.const 5))))
    (if (i32.ne (i32.load8_u (i32.const 19)) (i32.const 0x64)) (then (return (i32.const 6))))
    (i64.store (i32.const 24) (i64.const 0x0102030405060708))
    (if (i32.ne (i32.load (i32.const 28)) (i32.const 0x01020304)) (then (return (i32.const 7))))
    ;; Floats are stored as their IEEE bits, little-endian.
    (f32.store (i32.const 32) (f32.const 1.0))
    (if (i32.ne (i32.load (i32.const 32)) (i32.const 0x3f800000)) (then (return (i32.const 8))))
    (f64.store (i32.const 40) (f64.const -2.5))
    (if (i64.ne (i64.load (i32.const 40)) (i64.const 0xc004000000000000)) (then (return (i32.const 9))))
    (if (i32.ne (i32.load8_u (i32.const 47)) (i32.const 0xc0)) (then (return (i32.const 10))))
    ;; Unaligned accesses.
    (i32.store offset=1 (i32.const 48) (i32.const 0x11223344))
    (if (i32.ne (i32.load8_u (i32.const 49)) (i32.const 0x44)) (then (return (i32.const 11))))
    (if (i32.ne (i32.load16_u offset=1 (i32.const 50)) (i32.const 0x1122)) (then (return (i32.const 12))))
    ;; Narrow stores keep the low bytes.
    (i32.store16 (i32.const 64) (i32.const 0xaabbccdd))
    (if (i32.ne (i32.load (i32.const 64)) (i32.const 0xccdd)) (then (return (i32.const 13))))
    (if (i32.lt_s (call $write (call $stdout) (i32.const 256) (i32.const 10)) (i32.const 0))
      (then (return (i32.const 14))))
    (i32.const 0)))
