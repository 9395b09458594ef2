;; Three million call_indirect, to a wasm function and to a host function through the table, and
;; a million table.grow (by 0, and past the maximum). Each of these instructions keeps a host stack
;; frame until the fuel slice ends under wasmi's tail-call dispatch; with slices of up to 50M fuel
;; that overflowed the host stack. cwa_main returns 3 (the work was done, and the last grow failed).
(module
  (import "cwa" "runtime_name" (func $runtime_name (param i32 i32) (result i32)))
  (type $nothing (func))
  (type $name (func (param i32 i32) (result i32)))
  (memory 1)
  (table 2 4 funcref)
  (elem (i32.const 0) func $nothing $runtime_name)
  (global $calls (mut i32) (i32.const 0))
  (func $nothing (global.set $calls (i32.add (global.get $calls) (i32.const 1))))
  (func (export "cwa_main") (result i32) (local $i i32) (local $zero i32) (local $failed i32)
    (loop $l
      (call_indirect (type $nothing) (i32.const 0))
      (call_indirect (type $nothing) (i32.const 0))
      (drop (call_indirect (type $name) (i32.const 0) (i32.const 8) (i32.const 1)))
      (drop (table.grow (ref.null func) (local.get $zero)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000))))
    (local.set $failed (i32.eq (table.grow (ref.null func) (i32.const 100)) (i32.const -1)))
    (i32.add (local.get $failed)
      (i32.mul (i32.const 2) (i32.eq (global.get $calls) (i32.const 2000000))))))
