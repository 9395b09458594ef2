;; Two million memory.grow calls by 0 pages (a delta the compiler cannot see) and 400,000 memory.grow
;; and table.grow calls past their maximum (all fail); cwa_main returns -2 (the last two failures).
;; Each grow kept a ~190-byte host stack frame under wasmi's tail-call dispatch until the fuel
;; slice ended, so this aborted an optimised tern with a host stack overflow (issue 11, defect 3).
(module
  (memory 1 2)
  (table 0 10 funcref)
  (func (export "cwa_main") (result i32) (local $i i32) (local $zero i32)
    (loop $l
      (drop (memory.grow (local.get $zero)))
      (drop (memory.grow (local.get $zero)))
      (drop (memory.grow (local.get $zero)))
      (drop (memory.grow (local.get $zero)))
      (drop (memory.grow (local.get $zero)))
      (drop (memory.grow (local.get $zero)))
      (drop (memory.grow (local.get $zero)))
      (drop (memory.grow (local.get $zero)))
      (drop (memory.grow (local.get $zero)))
      (drop (memory.grow (local.get $zero)))
      (drop (memory.grow (i32.const 5)))
      (drop (table.grow (ref.null func) (i32.const 100)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 200000))))
    (i32.add (memory.grow (i32.const 5)) (table.grow (ref.null func) (i32.const 100)))))
