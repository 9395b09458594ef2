#!/usr/bin/env bash
# How fast a deploy reaches the other nodes: three `tern serve --store postgres://…` nodes on a
# throwaway PostgreSQL (cluster.sh); 50 new versions deployed through node A; for each, the time
# from A's answer until B and C both serve it. Prints the median and the maximum.
#   serve/tests/pg/bench.sh                  (builds and uses target/release/tern)
#   TERN_BIN=target/debug/tern serve/tests/pg/bench.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
. serve/tests/pg/cluster.sh

tern="${TERN_BIN:-target/release/tern}"
[ -n "${TERN_BIN:-}" ] || cargo build --release -p tern-cli
rounds="${ROUNDS:-50}"
url="$TERN_TEST_POSTGRES_URL"

pids=()
stop_nodes() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; cleanup; }
trap stop_nodes EXIT

http=() api=()
for i in 0 1 2; do
    "$tern" serve --store "$url" --data "$tmp/node$i" --listen 127.0.0.1:0 \
        --api-listen 127.0.0.1:0 2>"$tmp/node$i.log" &
    pids+=($!)
done
for i in 0 1 2; do
    until grep -q "control plane API" "$tmp/node$i.log"; do sleep 0.1; done
    http+=("$(grep -o 'listening on http://[0-9.:]*' "$tmp/node$i.log" | sed 's|.*http://||')")
    api+=("$(grep -o 'control plane API[^:]*http://[0-9.:]*' "$tmp/node$i.log" | sed 's|.*http://||')")
done
token="$("$tern" token create --name bench --data "$url" 2>/dev/null)"

module() {
    local body="Content-Type: text/plain\n\n$1"
    local len=$((26 + ${#1}))
    cat <<WAT
(module
  (import "cwa" "io_get_stdout" (func \$stdout (result i32)))
  (import "cwa" "resource_write" (func \$write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "$body")
  (func (export "_start") (drop (call \$write (call \$stdout) (i32.const 0) (i32.const $len)))))
WAT
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
times=()
for n in $(seq 1 "$rounds"); do
    module "v$n" >"$tmp/m.wat"
    curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $token" \
        --data-binary @"$tmp/m.wat" "http://${api[0]}/v1/handlers/bench"
    start=$(now_ms)
    for i in 1 2; do
        until [ "$(curl -s "http://${http[$i]}/bench/")" = "v$n" ]; do :; done
    done
    times+=($(($(now_ms) - start)))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "deploy through A served by B and C ($rounds deploys, $tern): median ${sorted[$((rounds / 2))]} ms, max ${sorted[$((rounds - 1))]} ms"
