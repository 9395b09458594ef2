#!/usr/bin/env bash
# bench/control.sh — the control plane's two figures (issue 13 §5), with the release tern:
#   deploy-to-live   upload a 1 MB module (a new one each time) through the API, then the first 200
#                    from the new version on the handler port: median and p90 of 20 deploys
#   records          req/s at concurrency 16 (wrk, keep-alive, 5 s) of examples/handlers/hello.wat
#                    served from a module file (records only in the log) vs deployed through the
#                    control plane (each request's record also written to the store, in batches)
# Needs wrk and curl; only 127.0.0.1 is used.   DURATION=10s bench/control.sh for steadier figures.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5s}
command -v wrk >/dev/null || { echo "bench/control.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet -p tern-cli
tern=$PWD/target/release/tern
work=$(mktemp -d)
pid=
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; pid=; }
trap 'stop; rm -rf "$work"' EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return; sleep 0.1; done; echo "bench/control.sh: no server at $1" >&2; exit 1; }

# A 1 MB binary module (cwa): answers "version NNNNNN"; the rest of its data segment is padding.
module() { # version file
    python3 - "$1" "$2" <<'EOF'
import sys
version, path = int(sys.argv[1]), sys.argv[2]
def leb(n):
    out = bytearray()
    while True:
        b = n & 0x7f; n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n: return bytes(out)
def sec(i, body): return bytes([i]) + leb(len(body)) + body
def name(s): return leb(len(s)) + s.encode()
head = b"Content-Type: text/plain\n\nversion %06d\n" % version
data = head + b"\0" * (1_000_000 - len(head))
types = leb(3) + b"\x60\x00\x01\x7f" + b"\x60\x03\x7f\x7f\x7f\x01\x7f" + b"\x60\x00\x00"
imports = leb(2) + name("cwa") + name("io_get_stdout") + b"\x00\x00" \
        + name("cwa") + name("resource_write") + b"\x00\x01"
body = b"\x00" + b"\x10\x00" + b"\x41\x00" + b"\x41" + leb(len(head)) + b"\x10\x01\x1a\x0b"
code = leb(1) + leb(len(body)) + body
exports = leb(2) + name("_start") + b"\x00\x02" + name("memory") + b"\x02\x00"
seg = leb(1) + b"\x00\x41\x00\x0b" + leb(len(data)) + data
wasm = (b"\0asm\x01\0\0\0" + sec(1, types) + sec(2, imports) + sec(3, leb(1) + b"\x02")
        + sec(5, leb(1) + b"\x00" + leb(17)) + sec(7, exports) + sec(10, code) + sec(11, seg))
open(path, "wb").write(wasm)
EOF
}

http=$(port); api=$(port)
"$tern" token create --data "$work/data" --name bench > "$work/token" 2>/dev/null
"$tern" serve --data "$work/data" --listen 127.0.0.1:$http --api-listen 127.0.0.1:$api >/dev/null 2>&1 &
pid=$!
wait_up "http://127.0.0.1:$api/v1/whoami"
auth="Authorization: Bearer $(cat "$work/token")"

times=()
for v in $(seq 1 21); do
    module "$v" "$work/m.wasm"
    start=$(date +%s%N)
    curl -sf -o /dev/null -X PUT -H "$auth" --data-binary @"$work/m.wasm" "http://127.0.0.1:$api/v1/handlers/big"
    until curl -s "http://127.0.0.1:$http/big/" | grep -q "version $(printf %06d "$v")"; do :; done
    end=$(date +%s%N)
    [ "$v" -gt 1 ] && times+=($(( (end - start) / 1000 )))   # the first deploy creates the handler
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "deploy-to-live, 1 MB module: median %.1f ms, p90 %.1f ms (%d deploys)\n", a[int(NR/2)+1]/1000, a[int(NR*0.9)]/1000, NR}'

# Records on: hello.wat deployed through the control plane, routed at every path.
curl -sf -o /dev/null -X PUT -H "$auth" -H 'Tern-Config: {"routes": ["/..."]}' \
    --data-binary @examples/handlers/hello.wat "http://127.0.0.1:$api/v1/handlers/hello"
curl -sf -o /dev/null -X DELETE -H "$auth" "http://127.0.0.1:$api/v1/handlers/big"
rps() { wrk -t2 -c16 -d"$DURATION" "$1" | awk '/^Requests\/sec/ {print $2}'; }
wrk -t1 -c4 -d1s "http://127.0.0.1:$http/hello" >/dev/null
on=$(rps "http://127.0.0.1:$http/hello")
stop

# Records off: the same module from its file, no store.
http=$(port)
"$tern" serve --listen 127.0.0.1:$http examples/handlers/hello.wat >/dev/null 2>&1 &
pid=$!
wait_up "http://127.0.0.1:$http/healthz"
wrk -t1 -c4 -d1s "http://127.0.0.1:$http/hello" >/dev/null
off=$(rps "http://127.0.0.1:$http/hello")
stop
echo "records (hello.wat, concurrency 16): $off req/s without the store, $on req/s with each record stored"
echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'); wrk on the same cores"
