#!/usr/bin/env bash
# Guests that keep host stack frames under wasmi's tail-call dispatch (runtime/src/engine/stack_bound.rs)
# must not crash the host: loops of call_indirect and table.grow, and the worst case the compile-time
# bound lets through, run to their exit status; a function with 250,000 memory.grow in one block is
# refused at compile time. Usage: stack-bound.sh TERN_BINARY
set -euo pipefail
tern=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

expect() { # module expected-status
    local status=0
    "$tern" run "$1" >/dev/null 2>"$out/stderr" || status=$?
    if [ "$status" != "$2" ]; then
        echo "$(basename "$1") exited $status, expected $2; stderr: $(tail -c 400 "$out/stderr")"
        exit 1
    fi
}
expect "$here/call-indirect-loop.wat" 3
expect "$here/deep-prepaid.wat" 7

# One block of 250,000 memory.grow (a ~9 MB .wat): refused, naming the function and the count.
{
    echo '(module (memory 1) (func (export "cwa_main") (result i32) (local $zero i32)'
    awk 'BEGIN { for (i = 0; i < 250000; i++) print "(drop (memory.grow (local.get $zero)))" }'
    echo '(i32.const 0)))'
} >"$out/huge.wat"
expect "$out/huge.wat" 125
grep -q "module refused: function 0 can run 250000 memory.grow" "$out/stderr" \
    || { echo "huge.wat: unexpected refusal: $(cat "$out/stderr")"; exit 1; }
echo "stack bound ok"
