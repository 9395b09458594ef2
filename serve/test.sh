#!/usr/bin/env bash
# serve/test.sh — tern serve's CI step: each
# example handler in examples/handlers/ built and served, answering a real request.
# Needs the wasm32-wasip1 and wasm32-unknown-unknown targets, clang and wasm-ld (test.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

# The integration tests (tests/serve.rs) run with the workspace's `cargo test`; here, the examples.
cargo build --quiet -p tern-cli
guests=target/serve-guests
cargo build --quiet --release --target wasm32-wasip1 --target-dir "$guests" \
    --manifest-path examples/handlers/rust-std/Cargo.toml
cargo build --quiet --release --target wasm32-unknown-unknown --target-dir "$guests" \
    --manifest-path examples/handlers/guest-cgi/Cargo.toml
clang --target=wasm32 -O2 -Wall -Werror -nostdlib -Wl,--no-entry -Wl,--export=cwa_main -I guest-sdk/c \
    -o "$guests/hello_c.wasm" examples/handlers/hello.c

pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; true' EXIT
check() { # module expected-text
    local port log
    log=$(mktemp)
    ./target/debug/tern serve --listen 127.0.0.1:0 --log-format text "$1" 2>"$log" &
    pid=$!
    for _ in $(seq 100); do port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$log"); [ -n "$port" ] && break; sleep 0.1; done
    [ -n "$port" ] || { cat "$log"; echo "serve/test.sh: $1 did not start" >&2; exit 1; }
    got=$(curl -s "http://127.0.0.1:$port/you?name=Ada")
    kill -TERM "$pid"; wait "$pid" || true; pid=
    grep -q "GET /you -> 200" "$log" || { cat "$log"; echo "serve/test.sh: no record for $1" >&2; exit 1; }
    [[ "$got" == *"$2"* ]] || { echo "serve/test.sh: $1 answered '$got', expected '$2'" >&2; exit 1; }
    rm -f "$log"
}
check examples/handlers/hello.wat "Hello from tern! You asked for /you"
check "$guests/hello_c.wasm" "Hello from C! You asked for /you"
check "$guests/wasm32-wasip1/release/hello-rust-std.wasm" "Hello from Rust std! GET /you?name=Ada"
check "$guests/wasm32-unknown-unknown/release/hello-guest-cgi.wasm" "Hello, Ada! (GET /you"
# The example route table loads, and --check prints it.
./target/debug/tern serve --config examples/handlers/tern.toml --check | grep -q '\*.example.com .*/users/:id'
echo "serve ok"
