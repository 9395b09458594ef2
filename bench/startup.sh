#!/usr/bin/env bash
# bench/startup.sh — where tern's start-up goes, in instructions (callgrind) and CPU time + page faults
# (perf stat's task-clock, which a loaded machine disturbs less than wall time), and phase by phase
# in-process (bench/probe). Run bench/peers.sh first: it builds the guests and wasm3 into the cache.
#
#   bench/startup.sh            # needs valgrind and perf
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${TERN_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tern-bench}
TERN=${TERN:-$PWD/target/release/tern}
[ -n "${TERN_SKIP_BUILD:-}" ] || cargo build --release --quiet -p tern-cli
cargo build --release --quiet --target wasm32-wasip1 --manifest-path bench/workloads/Cargo.toml \
    --target-dir "$CACHE/guests"
cargo build --release --quiet --manifest-path bench/probe/Cargo.toml --target-dir "$PWD/target/probe"
HELLO=$CACHE/guests/wasm32-wasip1/release/hello.wasm
PROBE=$PWD/target/probe/release/tern-probe

commands=("/bin/true" "$TERN --version" "$TERN run $HELLO")
[ -x "$CACHE/bin/wasm3" ] && commands+=("$CACHE/bin/wasm3 $HELLO")
printf '%-60s %12s %12s %12s\n' command instructions "CPU ms" "page faults"
for c in "${commands[@]}"; do
    # shellcheck disable=SC2086 # the command is words
    # (wasm3 ends with SIGILL under valgrind after its run; the count is still right.)
    ir=$( (valgrind --tool=callgrind --callgrind-out-file=/dev/null $c 2>&1 >/dev/null || true) |
        awk '/Collected/ {print $4}')
    # shellcheck disable=SC2086
    stat=$(perf stat -r 50 -x, -e task-clock,page-faults $c 2>&1 >/dev/null)
    cpu=$(awk -F, '/task-clock/ {printf "%.2f", $1}' <<<"$stat")
    faults=$(awk -F, '/page-faults/ {print $1}' <<<"$stat")
    printf '%-60s %12s %12s %12s\n' "${c/#$PWD\//}" "$ir" "$cpu" "$faults"
done
echo
echo "in-process, per iteration ($PROBE phases):"
"$PROBE" phases "$HELLO" 200
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
