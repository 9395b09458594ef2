#!/usr/bin/env bash
# A guest must not crash the host in any build profile (issue 11, defect 3): grow-loop.wat's 2.4 million
# memory.grow/table.grow calls aborted the release tern with a host stack overflow (SIGABRT) under
# wasmi's tail-call dispatch. Usage: grow-loop.sh TERN_BINARY
set -euo pipefail
tern=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
set +e
stderr=$("$tern" run "$here/grow-loop.wat" 2>&1 >/dev/null)
status=$?
set -e
if [ "$status" != 254 ]; then
    echo "grow-loop.wat exited $status, expected 254 (-2); stderr: $stderr"
    exit 1
fi
echo "grow loop ok"
