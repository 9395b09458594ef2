#!/usr/bin/env bash
# Fuzzes tern: N seeds of the ABI fuzzer and N of the module fuzzer, against the release binary.
#
#   fuzz/run.sh N [TERN] [-- tern-fuzz options]   e.g. fuzz/run.sh 2000; CI runs fuzz/run.sh 1000
#
# TERN defaults to target/release/tern, built (or brought up to date) here. Prints runs, host calls
# and findings; exits 1 if anything was found. Findings (with the module to reproduce them) go to
# target/fuzz-findings/; `target/debug/tern-fuzz replay --tern TERN DIR` runs one again.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=${1:?usage: fuzz/run.sh N [TERN] [-- tern-fuzz options]}
shift
target=${CARGO_TARGET_DIR:-target}
if [[ $# -gt 0 && $1 != -- ]]; then
    tern=$1
    shift
else
    # The release binary of this checkout (a no-op when it is up to date).
    tern=$target/release/tern
    cargo build --release --quiet -p tern-cli
fi
[[ ${1:-} == -- ]] && shift

cargo build --quiet -p tern-fuzz
exec "$target/debug/tern-fuzz" run --tern "$tern" --seeds "$seeds" \
    --work "$target/fuzz-work" --findings "$target/fuzz-findings" "$@"
