#!/usr/bin/env bash
# bench/wasmi-stack.sh — does the host stack bound tern keeps with fuel slices matter? Runs guests that
# execute many table.grow / memory.grow / call_indirect under bare wasmi_cli (with and without
# --fuel: wasmi_cli's fuel is one budget, never a slice) and under tern, and prints how each ended and
# its peak RSS. wasmi 2.0's tail-call dispatch keeps a host stack frame for some of these until the
# interpreter returns to its caller (runtime/src/engine/stack_bound.rs); tern returns at every fuel
# slice, wasmi_cli only when the guest's call ends. Run bench/peers.sh with PEERS=wasmi first (it
# installs wasmi_cli into the cache). TERN=path/to/tern (default target/release/tern).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${TERN_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tern-bench}
WASMI=$CACHE/bin/wasmi
TERN=${TERN:-$PWD/target/release/tern}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# A loop of 100,000 iterations of OP written 20 times; exported as "run" (wasmi_cli --invoke) and
# "cwa_main" (tern).
loop() { # name op
    {
        echo '(module (type $nothing (func)) (table 1 funcref) (memory 1)'
        echo '  (elem (i32.const 0) func $nothing) (func $nothing)'
        echo '  (func (export "run") (export "cwa_main") (result i32) (local $i i32) (local $zero i32)'
        echo '    (loop $l'
        for _ in $(seq 20); do echo "      $2"; done
        echo '      (local.set $i (i32.add (local.get $i) (i32.const 1)))'
        echo '      (br_if $l (i32.lt_u (local.get $i) (i32.const 100000))))'
        echo '    (i32.const 0)))'
    } >"$out/$1.wat"
}
loop call_indirect '(call_indirect (type $nothing) (i32.const 0))'
loop table.grow '(drop (table.grow (ref.null func) (local.get $zero)))'
loop memory.grow '(drop (memory.grow (local.get $zero)))'
loop call '(call $nothing)'
# The worst case tern's compile-time bound admits: 128 memory.grow paid on entry, run on the way back
# up a 990-deep recursion (126,720 in one slice).
sed 's/(export "cwa_main")/(export "run") (export "cwa_main")/' \
    runtime/tests/release/deep-prepaid.wat >"$out/deep-prepaid.wat"

printf '%-14s %-34s %-34s %-34s\n' guest "wasmi_cli" "wasmi_cli --fuel" tern
for guest in call call_indirect table.grow memory.grow deep-prepaid; do
    row=()
    for runner in "$WASMI run --invoke run" "$WASMI run --fuel 1000000000000000 --invoke run" "$TERN run"; do
        status=0
        # shellcheck disable=SC2086 # the runner is words
        /usr/bin/time -f %M -o "$out/rss" $runner "$out/$guest.wat" >/dev/null 2>"$out/err" || status=$?
        how="exit $status"
        grep -q "overflowed its stack" "$out/err" && how="STACK OVERFLOW (abort)"
        row+=("$how, $(($(tail -1 "$out/rss") / 1024)) MB peak")
    done
    printf '%-14s %-34s %-34s %-34s\n' "$guest" "${row[@]}"
done
echo "(tern's exit status is the guest's: 0, and 7 for deep-prepaid; wasmi_cli prints the result)"
