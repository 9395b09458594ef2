;; dispatch.wat — runs many kinds of instructions in a loop until the run's fuel is used up.
;;
;;   tern run --fuel 20000000 dispatch.wat   -> exit 134 (out of fuel), never a native stack overflow
;;
;; wasmi dispatches each instruction to the next by a tail call where the target supports it; if the
;; compiler did not turn one of those calls into a jump, every execution of that instruction would
;; grow the host's stack until tern crashed. Loads and stores at dynamic addresses, globals, locals,
;; calls (direct, indirect, recursive), branches, tables, selects, conversions and bulk memory each
;; run hundreds of thousands of times here.
(module
  (memory 1)
  (global $sp (mut i32) (i32.const 4096))
  (global $g64 (mut i64) (i64.const 0))
  (global $gf (mut f64) (f64.const 0))
  (table 2 funcref)
  (elem (i32.const 0) $inc $dec)
  (type $unary (func (param i32) (result i32)))
  (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $dec (param i32) (result i32) (i32.sub (local.get 0) (i32.const 1)))
  (func $depth (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $depth (i32.sub (local.get $n) (i32.const 1)))))))
  (func $round (param $i i32)
    (local $p i32) (local $x i64) (local $f f32) (local $d f64)
    (local.set $p (i32.and (i32.mul (local.get $i) (i32.const 8)) (i32.const 0x3ff8)))
    ;; Every width of load and store, at a dynamic address and with an offset.
    (i64.store offset=8 (local.get $p) (i64.extend_i32_u (local.get $i)))
    (local.set $x (i64.load offset=8 (local.get $p)))
    (i32.store offset=4 (global.get $sp) (local.get $i))
    (drop (i32.load offset=4 (global.get $sp)))
    (i32.store8 (local.get $p) (local.get $i))
    (i32.store16 offset=2 (local.get $p) (local.get $i))
    (drop (i32.load8_s (local.get $p)))
    (drop (i32.load8_u offset=1 (local.get $p)))
    (drop (i32.load16_s offset=2 (local.get $p)))
    (drop (i32.load16_u (local.get $p)))
    (i64.store8 (local.get $p) (local.get $x))
    (i64.store16 (local.get $p) (local.get $x))
    (i64.store32 offset=4 (local.get $p) (local.get $x))
    (drop (i64.load8_s (local.get $p)))
    (drop (i64.load8_u (local.get $p)))
    (drop (i64.load16_s (local.get $p)))
    (drop (i64.load16_u (local.get $p)))
    (drop (i64.load32_s offset=4 (local.get $p)))
    (drop (i64.load32_u offset=4 (local.get $p)))
    (f32.store offset=16 (local.get $p) (f32.convert_i32_s (local.get $i)))
    (local.set $f (f32.load offset=16 (local.get $p)))
    (f64.store offset=24 (local.get $p) (f64.promote_f32 (local.get $f)))
    (local.set $d (f64.load offset=24 (local.get $p)))
    ;; Globals of every type, stack-pointer style.
    (global.set $sp (i32.sub (global.get $sp) (i32.const 16)))
    (global.set $sp (i32.add (global.get $sp) (i32.const 16)))
    (global.set $g64 (i64.add (global.get $g64) (local.get $x)))
    (global.set $gf (f64.add (global.get $gf) (local.get $d)))
    ;; Arithmetic, comparisons, conversions, select.
    (local.set $x (i64.rotl (i64.mul (local.get $x) (i64.const 0x9e3779b97f4a7c15)) (i64.const 7)))
    (drop (i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const 3))))
    (drop (i64.div_u (local.get $x) (i64.const 7)))
    (drop (i32.rem_s (local.get $i) (i32.const 5)))
    (drop (f64.sqrt (f64.abs (local.get $d))))
    (drop (i32.trunc_sat_f64_s (local.get $d)))
    (drop (select (local.get $i) (i32.const 0) (i32.and (local.get $i) (i32.const 1))))
    (drop (i32.clz (local.get $i)))
    (drop (i64.popcnt (local.get $x)))
    ;; Calls: direct, indirect, recursive.
    (drop (call $inc (local.get $i)))
    (drop (call_indirect (type $unary) (local.get $i) (i32.and (local.get $i) (i32.const 1))))
    (drop (call $depth (i32.and (local.get $i) (i32.const 7))))
    ;; Branch tables and blocks.
    (block $b2 (block $b1 (block $b0
      (br_table $b0 $b1 $b2 (i32.rem_u (local.get $i) (i32.const 3))))))
    ;; Bulk memory and memory size.
    (memory.copy (i32.const 8192) (local.get $p) (i32.const 16))
    (memory.fill (i32.const 8192) (i32.const 0) (i32.const 16))
    (drop (memory.size)))
  (func (export "_start")
    (local $i i32)
    (loop $forever
      (call $round (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $forever))))
