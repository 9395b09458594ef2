#!/usr/bin/env bash
# bench/startup.sh — where tern's start-up goes, in instructions (callgrind) and CPU time + page faults
# (perf stat's task-clock, which a loaded machine disturbs less than wall time), peak RSS (GNU time),
# phase by phase in-process (bench/probe), and hello paired against wasm3. Run bench/peers.sh first
# (PEERS=wasm3 is enough): it builds the guests and wasm3 into the cache.
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
[ -x "$CACHE/bin/wasm3" ] && commands+=("$CACHE/bin/wasm3 --version" "$CACHE/bin/wasm3 $HELLO")
printf '%-60s %12s %12s %12s %12s\n' command instructions "CPU ms" "page faults" "peak RSS KB"
for c in "${commands[@]}"; do
    # A wasm3 built with -march=native on a machine with AVX-512 dies under valgrind (SIGILL) at its
    # first AVX-512 instruction, before it loads the module: its count then means nothing and is
    # printed as "-" (build one without -march=native to count it).
    # shellcheck disable=SC2086 # the command is words
    ir=$( (valgrind --tool=callgrind --callgrind-out-file=/dev/null $c 2>&1 >/dev/null || true) |
        awk '/unhandled instruction/ {bad = 1} /Collected/ {n = $4} END {print bad ? "-" : n}')
    # shellcheck disable=SC2086
    stat=$(perf stat -r 50 -x, -e task-clock,page-faults $c 2>&1 >/dev/null)
    cpu=$(awk -F, '/task-clock/ {printf "%.2f", $1}' <<<"$stat")
    faults=$(awk -F, '/page-faults/ {print $1}' <<<"$stat")
    # Peak RSS: the median of 11 runs of GNU time's %M.
    # shellcheck disable=SC2086
    rss=$(for _ in $(seq 11); do /usr/bin/time -f %M $c 2>&1 >/dev/null | tail -1; done | sort -n | sed -n 6p)
    printf '%-60s %12s %12s %12s %12s\n' "${c/#$PWD\//}" "$ir" "$cpu" "$faults" "$rss"
done
echo
echo "in-process, per iteration ($PROBE phases):"
"$PROBE" phases "$HELLO" 200
if [ -x "$CACHE/bin/wasm3" ]; then
    echo
    echo "paired against wasm3 (200 shuffled rounds, wall time):"
    WORKLOADS=hello python3 bench/peers.py 200 "$CACHE/guests/wasm32-wasip1/release" "tern=$TERN:run" \
        "wasm3=$CACHE/bin/wasm3" 2>/dev/null | grep -E '^\|'
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
