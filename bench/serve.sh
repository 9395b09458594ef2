#!/usr/bin/env bash
# bench/serve.sh — tern serve under a loopback load generator (wrk, keep-alive) at concurrency 1, 16
# and 64: req/s, p50, p99 and the server's peak RSS, for
#   static   the same HTTP stack (hyper 1, one-thread tokio) answering a fixed body, no Wasm: the baseline
#   wat      examples/handlers/hello.wat (cwa), a fresh instance per request
#   rust     examples/handlers/rust-std (Rust std, wasm32-wasip1), a fresh instance per request
#
# and, to show where the time goes, the server's CPU time per request (user + system, all its threads)
# and its context switches per request (voluntary + involuntary, all threads), from /proc.
#
#   bench/serve.sh                  # 5 s per point;  DURATION=10s bench/serve.sh for steadier figures
#   TERN=/tmp/tern-old bench/serve.sh wat   # another tern binary; only the targets named
# Needs wrk (apt-get install wrk) and the wasm32-wasip1 target. Only 127.0.0.1 is loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5s}
TERN=${TERN:-./target/release/tern}
targets=${*:-static wat rust}
command -v wrk >/dev/null || { echo "bench/serve.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }

cargo build --release --quiet -p tern-cli
cargo build --release --quiet -p tern-serve --example static_baseline
cargo build --release --quiet --target wasm32-wasip1 --manifest-path examples/handlers/rust-std/Cargo.toml \
    --target-dir target/serve-guests
rust_wasm=target/serve-guests/wasm32-wasip1/release/hello-rust-std.wasm

port=18470
pid=
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; pid=; }
trap stop EXIT

start() { # command (given the address)
    port=$((port + 1))
    if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
        echo "bench/serve.sh: port $port is already in use" >&2; exit 1
    fi
    "$1" 127.0.0.1:$port >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && return; \
        curl -sf -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && return; sleep 0.1; done
    echo "bench/serve.sh: the server did not start" >&2; exit 1
}

# exec: the background job's pid is the server's own.
serve_static() { exec ./target/release/examples/static_baseline "$1"; }
serve_wat() { exec "$TERN" serve --log-format json --listen "$1" examples/handlers/hello.wat; }
serve_rust() { exec "$TERN" serve --log-format json --listen "$1" "$rust_wasm"; }

# The server's CPU time in clock ticks (utime + stime) and its context switches, all threads.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
switches() { cat /proc/"$pid"/task/*/status | awk '/ctxt_switches/ {n += $2} END {print n}'; }
tick=$(getconf CLK_TCK)

printf '%-7s %5s %11s %9s %9s %8s %9s %8s\n' target conc req/s p50 p99 RSS CPU/req cs/req
for target in $targets; do
    start "serve_$target"
    wrk -t1 -c4 -d1s "http://127.0.0.1:$port/hello" >/dev/null  # warm up
    for c in 1 16 64; do
        threads=$(( c < 2 ? 1 : 2 ))
        ticks=$(cpu_ticks); cs=$(switches)
        out=$(wrk -t$threads -c$c -d"$DURATION" --latency "http://127.0.0.1:$port/hello")
        ticks=$(( $(cpu_ticks) - ticks )); cs=$(( $(switches) - cs ))
        requests=$(awk '/requests in/ {print $1}' <<<"$out")
        cpu=$(awk -v t="$ticks" -v hz="$tick" -v n="$requests" 'BEGIN {printf "%.1fus", t / hz * 1e6 / n}')
        per=$(awk -v s="$cs" -v n="$requests" 'BEGIN {printf "%.2f", s / n}')
        rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
        p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
        p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
        errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
        rss=$(awk '/VmHWM/ {printf "%.1fMB", $2/1024}' "/proc/$pid/status" 2>/dev/null || echo "?")
        printf '%-7s %5s %11s %9s %9s %8s %9s %8s %s\n' "$target" "$c" "$rps" "$p50" "$p99" "$rss" "$cpu" "$per" "$errors"
    done
    stop
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); tern: $TERN"
echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'); wrk on the same cores"
