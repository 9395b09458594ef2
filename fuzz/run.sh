#!/usr/bin/env bash
# Fuzzes tern: N seeds of the ABI fuzzer and N of the module fuzzer, against the release binary.
#
#   fuzz/run.sh N [TERN] [-- tern-fuzz options]   e.g. fuzz/run.sh 2000, or fuzz/run.sh 300 for CI
#
# TERN defaults to target/release/tern, built here if missing. Prints runs, host calls and findings;
# exits 1 if anything was found. Findings (with the module to reproduce them) go to
# target/fuzz-findings/; `target/debug/tern-fuzz replay --tern TERN DIR` runs one again.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=${1:?usage: fuzz/run.sh N [TERN] [-- tern-fuzz options]}
shift
target=${CARGO_TARGET_DIR:-target}
tern=$target/release/tern
if [[ $# -gt 0 && $1 != -- ]]; then
    tern=$1
    shift
fi
[[ ${1:-} == -- ]] && shift

if [[ ! -x $tern ]]; then
    # The CLI moves to the tern-cli package; build whichever this checkout has.
    package=tern
    [[ -f cli/Cargo.toml ]] && package=tern-cli
    cargo build --release --quiet -p "$package"
fi
cargo build --quiet -p tern-fuzz
exec "$target/debug/tern-fuzz" run --tern "$tern" --seeds "$seeds" \
    --work "$target/fuzz-work" --findings "$target/fuzz-findings" "$@"
