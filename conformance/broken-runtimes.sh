#!/usr/bin/env bash
# Proves that the harness notices a broken runtime: each wrapper below runs the real tern but breaks
# one behaviour on the way (stdin, --env, --allow, --deny, --ca-file, empty arguments), and the
# harness must fail the case that names that behaviour — and must not pass the run as a whole — with
# every suite module given (the Rust, C and Zig suites: each SDK's suite must catch it).
#
# Usage: conformance/broken-runtimes.sh HARNESS TERN MODULE...
#   HARNESS  the tern-conformance binary
#   TERN     a working tern binary (what the wrappers run)
#   MODULE   suite modules (.wasm)
# Only the run a wrapper breaks is run (--run). A named case that a suite skips (# SKIP) is not
# required to fail, but every wrapper must fail at least one named case in every suite.
# Exits non-zero if a wrapper's named case did not fail. run-sdks.sh runs it; README.md shows its output.
set -euo pipefail

harness=$1
tern=$(realpath "$2")
shift 2
modules=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A POSIX sh filter for "$@" that drops FLAG and the value after it (`--env K=V` → nothing).
drop_pair() {
    cat <<EOF
for a in "\$@"; do
    shift
    if [ -n "\${skip:-}" ]; then skip=; continue; fi
    if [ "\$a" = "$1" ]; then skip=1; continue; fi
    set -- "\$@" "\$a"
done
EOF
}

# wrapper NAME BODY: an executable sh script that ends by running tern with what is left of "$@".
wrapper() {
    { echo '#!/bin/sh'; printf '%s\n' "$2"; } >"$work/$1"
    chmod +x "$work/$1"
}

wrapper no-stdin "exec '$tern' \"\$@\" </dev/null"
wrapper no-env "$(drop_pair --env)
exec '$tern' \"\$@\""
wrapper no-allow "$(drop_pair --allow)
exec '$tern' \"\$@\""
wrapper no-deny "$(drop_pair --deny)
exec '$tern' \"\$@\""
wrapper no-ca-file "$(drop_pair --ca-file)
exec '$tern' \"\$@\""
wrapper no-empty-args "for a in \"\$@\"; do shift; [ -n \"\$a\" ] && set -- \"\$@\" \"\$a\"; done
exec '$tern' \"\$@\""

# expect WRAPPER RUN WHAT CASE...: with every module, the harness must exit 1 and report every CASE
# the module implements as `not ok`.
status=0
expect() {
    local name=$1 run=$2 what=$3
    shift 3
    echo "--- $name: a runtime that $what"
    local module
    for module in "${modules[@]}"; do
        local out code=0 failed=0
        out=$("$harness" --runtime "$work/$name" --run "$run" "$module") || code=$?
        local sdk
        sdk=$(grep -m1 '^# sdk: ' <<<"$out" | cut -c8-)
        echo "  with ${sdk:-$module}: $(tail -n 1 <<<"$out" | sed 's/ (sdk: .*//')"
        if [ "$code" != 1 ]; then
            echo "FAIL: the harness exited $code, expected 1 (some case failed)"
            status=1
        fi
        for id in "$@"; do
            if grep -q "^not ok $id - " <<<"$out"; then
                failed=$((failed + 1))
                # The failed case with its first reason.
                awk -v id="$id" '$0 ~ "^not ok " id " - " { print "  " $0; getline; print "  " $0 }' <<<"$out"
            elif grep -q "^ok $id - .* # SKIP" <<<"$out"; then
                echo "  (case $id is skipped by this suite)"
            else
                echo "FAIL: case $id did not fail"
                status=1
            fi
        done
        if [ "$failed" = 0 ]; then
            echo "FAIL: no named case failed"
            status=1
        fi
    done
}

expect no-stdin main "runs tern with </dev/null" 12 13
expect no-env main "drops every --env KEY=VALUE" 22 28 29
expect no-allow main "drops every --allow URL" 57 85 91
expect no-deny main "drops every --deny URL" 59
expect no-ca-file net "drops --ca-file" 131 138
expect no-empty-args main "drops empty arguments" 33 35
if [ "$status" = 0 ]; then
    echo "--- every broken runtime failed its named cases in every suite"
fi
exit "$status"
