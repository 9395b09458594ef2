#!/usr/bin/env bash
# bench/peers.sh — tern against other WebAssembly runtimes, whole processes on the same wasm32-wasip1
# modules (bench/workloads: hello, fib, sha, clock, writes), as ratios tern / peer, paired over RUNS
# rounds (each round runs every runtime once, in a shuffled order; the table gives median ratios).
#
#   bench/peers.sh                 # RUNS=10 rounds
#   RUNS=30 PEERS="wasm3 wasmi" bench/peers.sh
#   RUNS=10 PEERS="wasmi wasmi-fuel" WORKLOADS=fib,sha bench/peers.sh   # compute, with and without fuel
#   WORKLOADS=hello RUNS=200 PEERS=wasm3 bench/peers.sh   # start-up only
#
# Peers are built once into a cache outside the repository, TERN_BENCH_CACHE (default
# ~/.cache/tern-bench): wasm3 and WAMR (fast interpreter) from source, cloned from GitHub unless
# WASM3_SRC / WAMR_SRC name local checkouts; wasmi_cli 2.0.0 and wasmtime-cli 48.0.8 with
# `cargo install` (wasmtime takes several minutes to build). Needs cmake, a C compiler and the
# wasm32-wasip1 target. TERN=path/to/tern measures that binary instead of building this checkout.
# Not part of CI (too slow). On a shared machine run it when the load is low and say what it was.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
PEERS=${PEERS:-wasm3 wamr wasmi wasmtime}
CACHE=${TERN_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tern-bench}
mkdir -p "$CACHE/bin" "$CACHE/src"
say() { echo "bench/peers.sh: $*" >&2; }

if [ -z "${TERN:-}" ]; then
    cargo build --release --quiet -p tern-cli
    TERN=$PWD/target/release/tern
fi

# The guests: release, opt-level 3, LTO; built into the cache, never into the repository.
cargo build --release --quiet --target wasm32-wasip1 --manifest-path bench/workloads/Cargo.toml \
    --target-dir "$CACHE/guests"
GUESTS=$CACHE/guests/wasm32-wasip1/release

source_of() { # name git-url override-dir
    if [ -n "$3" ]; then echo "$3"; return; fi
    [ -d "$CACHE/src/$1" ] || git clone --quiet --depth 1 "$2" "$CACHE/src/$1" >&2
    echo "$CACHE/src/$1"
}

build_wasm3() {
    [ -x "$CACHE/bin/wasm3" ] && return
    local src; src=$(source_of wasm3 https://github.com/wasm3/wasm3 "${WASM3_SRC:-}")
    say "building wasm3 from $src"
    cmake -S "$src" -B "$CACHE/build/wasm3" -DBUILD_WASI=simple -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$CACHE/build/wasm3" -j "$(nproc)" >/dev/null
    cp "$CACHE/build/wasm3/wasm3" "$CACHE/bin/wasm3"
}

build_wamr() {
    [ -x "$CACHE/bin/iwasm" ] && return
    local src; src=$(source_of wamr https://github.com/bytecodealliance/wasm-micro-runtime "${WAMR_SRC:-}")
    say "building WAMR (fast interpreter) from $src"
    cmake -S "$src/product-mini/platforms/linux" -B "$CACHE/build/wamr" -DCMAKE_BUILD_TYPE=Release \
        -DWAMR_BUILD_FAST_INTERP=1 -DWAMR_BUILD_JIT=0 -DWAMR_BUILD_AOT=0 -DWAMR_BUILD_SIMD=0 \
        -DWAMR_BUILD_LIB_SIMDE=0 >/dev/null
    cmake --build "$CACHE/build/wamr" -j "$(nproc)" >/dev/null
    cp "$CACHE/build/wamr/iwasm" "$CACHE/bin/iwasm"
}

build_wasmi() {
    [ -x "$CACHE/bin/wasmi" ] && return
    say "cargo install wasmi_cli 2.0.0"
    cargo install --quiet --locked --root "$CACHE" wasmi_cli@2.0.0
}

build_wasmtime() {
    [ -x "$CACHE/bin/wasmtime" ] && return
    say "cargo install wasmtime-cli 48.0.8 (several minutes)"
    cargo install --quiet --locked --root "$CACHE" wasmtime-cli@48.0.8
}

# name=argv before the module, ':'-separated (peers.py splits it). tern first: ratios are tern / peer.
runtimes=("tern=$TERN:run")
for peer in $PEERS; do
    case $peer in
        wasm3) build_wasm3; runtimes+=("wasm3=$CACHE/bin/wasm3") ;;
        wamr) build_wamr; runtimes+=("WAMR fast-interp=$CACHE/bin/iwasm") ;;
        wasmi) build_wasmi; runtimes+=("wasmi_cli=$CACHE/bin/wasmi:run") ;;
        # The same wasmi_cli metering fuel as tern always does (its --fuel is a budget; this one
        # never runs out): tern / this is the cost of tern's own layer, without fuel's.
        wasmi-fuel) build_wasmi; runtimes+=("wasmi_cli --fuel=$CACHE/bin/wasmi:run:--fuel:1000000000000000") ;;
        wasmtime) build_wasmtime; runtimes+=("wasmtime (JIT)=$CACHE/bin/wasmtime:run") ;;
        *) say "unknown peer $peer (wasm3 wamr wasmi wasmi-fuel wasmtime)"; exit 1 ;;
    esac
done

python3 bench/peers.py "$RUNS" "$GUESTS" "${runtimes[@]}"
echo
echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//');" \
    "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); tern $("$TERN" --version | cut -d' ' -f2)"
