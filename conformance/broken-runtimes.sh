#!/usr/bin/env bash
# Proves that the harness notices a broken runtime: each wrapper below runs the real tern but breaks
# one behaviour on the way (stdin, --env, --allow, --deny, --ca-file, empty arguments), and the
# harness must fail the case that names that behaviour — and must not pass the run as a whole.
#
# Usage: conformance/broken-runtimes.sh HARNESS TERN MODULE
#   HARNESS  the tern-conformance binary
#   TERN     a working tern binary (what the wrappers run)
#   MODULE   the suite module (.wasm)
# Exits non-zero if a wrapper's named case did not fail. test.sh runs it; README.md shows its output.
set -euo pipefail

harness=$1
tern=$(realpath "$2")
module=$3
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

# expect WRAPPER WHAT CASE...: the harness must exit 1 and report every CASE as `not ok`.
status=0
expect() {
    local name=$1 what=$2
    shift 2
    local out code=0
    out=$("$harness" --runtime "$work/$name" "$module") || code=$?
    echo "--- $name: a runtime that $what"
    if [ "$code" != 1 ]; then
        echo "FAIL: the harness exited $code, expected 1 (some case failed)"
        status=1
    fi
    for id in "$@"; do
        if ! grep -q "^not ok $id - " <<<"$out"; then
            echo "FAIL: case $id did not fail"
            status=1
        fi
    done
    # The failed cases with their first reason, and the summary line.
    awk '/^not ok / { print; getline; print }' <<<"$out"
    tail -n 1 <<<"$out"
}

expect no-stdin "runs tern with </dev/null" 12 13
expect no-env "drops every --env KEY=VALUE" 22 28 29
expect no-allow "drops every --allow URL" 57 85 91
expect no-deny "drops every --deny URL" 59
expect no-ca-file "drops --ca-file" 131 138
expect no-empty-args "drops empty arguments" 33 35
if [ "$status" = 0 ]; then
    echo "--- every broken runtime failed its named cases"
fi
exit "$status"
