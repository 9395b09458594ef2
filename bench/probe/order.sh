#!/usr/bin/env bash
# bench/probe/order.sh — regenerates cli/startup.order: the functions tern runs at start-up, which
# cli/build.rs has lld lay out together (x86_64 Linux release builds). Rerun it when dependencies,
# features, the release profile or rustc change (symbol names carry hashes of those) and commit the
# file; bench/startup.sh's peak RSS for hello shows whether it is stale (about 2 MB more).
#
#   bench/probe/order.sh        # needs valgrind; relinks target/release/tern twice (a few minutes)
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=${TERN_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tern-bench}
cargo build --release --quiet --target wasm32-wasip1 --manifest-path bench/workloads/Cargo.toml \
    --target-dir "$CACHE/guests"
# The release build linked with its symbols kept (stripping does not change the names).
cargo rustc --release --quiet -p tern-cli --bin tern -- -C strip=none
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp target/release/tern "$work/tern"
n=0
for args in "--version" "run $CACHE/guests/wasm32-wasip1/release/hello.wasm" \
    "run examples/hello.wat" "run --stats $CACHE/guests/wasm32-wasip1/release/hello.wasm"; do
    n=$((n + 1))
    # shellcheck disable=SC2086 # the arguments are words
    valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/$n.out" "$work/tern" $args \
        >/dev/null 2>&1
done
python3 bench/probe/order.py "$work/tern" "$work"/*.out >cli/startup.order
# Back to the stripped binary, now laid out by the new file.
cargo build --release --quiet -p tern-cli
