#!/usr/bin/env bash
# The whole test suite: what a newcomer runs, and what CI runs (.ci/run calls this).
# It installs what the project needs that a fresh Rust machine lacks (rustup targets, Debian packages).
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n=== %s\n' "$*"; }

step "toolchain: rustup targets"
# wasm32 targets build the guest SDK, the conformance suite and the WASI test programs.
rustup target add wasm32-unknown-unknown wasm32-wasip1 >/dev/null 2>&1 || rustup target add wasm32-unknown-unknown wasm32-wasip1
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "unit and integration tests"
cargo test --workspace --quiet 2>&1 | tee target/test.log | grep -E '^(test result|running|error|failures|---- )|panicked' || true
if grep -qE 'test result: FAILED|error(\[|:)' target/test.log; then
    # The failing tests' own output (assertion messages) — the filter above keeps only headers.
    sed -n '/^failures:$/,/^test result: FAILED/p' target/test.log | head -n 200
    echo "cargo test failed; see target/test.log"; exit 1
fi

step "examples"
cargo build --release --quiet -p tern-cli
./target/release/tern run examples/hello.wat | grep -q "Hello from tern!"
echo "tern example" | ./target/release/tern run examples/cat.wat | grep -q "tern example"
if ./target/release/tern run examples/denied.wat 2>/dev/null; then echo "denied.wat was not denied"; exit 1; fi
# 2.4 million failed memory.grow/table.grow calls end as a guest error, not a host stack overflow.
runtime/tests/release/grow-loop.sh ./target/release/tern
runtime/tests/release/stack-bound.sh ./target/release/tern
echo "examples ok"

# --- WASI preview1 (issue 4): the wasm32-wasip1 test programs (their integration tests,
# cli/tests/it/wasi.rs, ran above) and the wasi-cat example, built with cargo; C programs with
# Debian's clang + lld + wasi-libc, run under tern and compared with expected output.
step "WASI programs"
for manifest in runtime/tests/wasi/Cargo.toml examples/wasi-cat/Cargo.toml; do
    cargo build --release --quiet --target wasm32-wasip1 --target-dir target/wasi-guests --manifest-path "$manifest"
done
./target/release/tern run --dir examples::/ex target/wasi-guests/wasm32-wasip1/release/wasi-cat.wasm /ex/hello.wat \
    | grep "Hello from tern!" >/dev/null  # not -q: an early exit would close the guest's stdout
runtime/tests/wasi/c/run.sh ./target/release/tern
# SQLite's amalgamation built for WASI: functions far larger than a fuel slice, 20,000 rows in memory.
runtime/tests/wasi/c/sqlite.sh ./target/release/tern
# ripgrep 14.1.1 built for WASI (cargo install, ~2.5 min, cached in target/): 26 searches as native ripgrep prints them.
runtime/tests/release/ripgrep.sh ./target/release/tern
echo "wasi ok"
# --- end WASI

# --- C guests on the stream ABI: guest-sdk/c/tern.h, freestanding (clang + wasm-ld, installed by the
# WASI step above), run under tern.
step "C guest (tern.h)"
clang --target=wasm32 -O2 -Wall -Werror -nostdlib -Wl,--no-entry -Wl,--export=cwa_main \
    -o target/hello_c.wasm guest-sdk/c/hello.c
[ "$(./target/release/tern run target/hello_c.wasm Ada 2>/dev/null)" = "Hello, Ada!" ]
echo "C guest ok"
# --- end C guests

# --- conformance (issues 3, 16): the Rust, C and Zig suites under the harness against the release tern
# (Rust and C with --require-all), the C/Zig SDK examples, broken-runtimes.sh over all three suites,
# and the SDK conformance table. See conformance/README.md.
step "conformance suites (Rust, C, Zig)"
cargo build --quiet -p tern-conformance
conformance/run-sdks.sh ./target/release/tern ./target/debug/tern-conformance --update-readme
conformance=$(tail -n 1 target/conformance-sdks/rust.log)
echo "conformance: $conformance"
# --- end conformance

# --- tern serve (issues 12-14): the example handlers (WAT, Rust std, C, tern-guest) served and answering
# curl (their integration tests ran with cargo test above); the dashboard in headless Chromium against
# the real server (sign in, live tail, rollback, XSS as text). Screenshots: target/dashboard-shots/.
step "tern serve: example handlers and the dashboard in a browser"
bash serve/test.sh
BROWSERS=chromium serve/tests/browser/run.sh
# Several nodes on one PostgreSQL (issue 15): a throwaway cluster on 127.0.0.1, run as the postgres
# user; three real `tern serve` nodes; the shared store suite on SQLite and PostgreSQL.
serve/tests/pg/run.sh 2>&1 | tee target/postgres.log | grep -E '^(test result|running|failures|---- )|panicked|skipped'
grep -q 'test result: ok' target/postgres.log || { tail -n 40 target/postgres.log; echo "postgres: failed"; exit 1; }
# --- end serve

# --- fuzzing (issue 11): a CI-sized run of the ABI fuzzer and the module fuzzer; any finding fails.
step "fuzz: ABI and module fuzzers"
fuzz/run.sh 1000 ./target/release/tern
# --- end fuzzing

# --- cross (issue 6): tern built for aarch64 and big-endian powerpc and tested under qemu-user — the
# examples, guest-memory endianness, policy denials, fuel and timeout traps, WASI, an https fetch from a
# loopback server, tern serve answering a WAT and a WASI handler, and the conformance suite (CGI
# cases included), for the full and the minimal release binary (the ones
# that ship: a profile without LTO breaks wasmi's dispatch, see Cargo.toml). README: "Running on a board".
step "cross: aarch64 and powerpc under qemu-user"
# The host's release build dispatches by tail calls too: a loop of every kind of instruction must run
# out of fuel, not overflow the stack (which also exits 134, hence the message check).
dispatch=$(./target/release/tern run --fuel 20000000 cross/modules/dispatch.wat 2>&1 || true)
grep -q "out of fuel" <<<"$dispatch" || { echo "dispatch.wat on the host: $dispatch"; exit 1; }
if ! cross/test.sh aarch64-unknown-linux-gnu powerpc-unknown-linux-gnu >target/cross.log 2>&1; then
    grep -E '^FAIL|^        \|' target/cross.log || tail -n 30 target/cross.log
    echo "cross: failed (see target/cross.log)"; exit 1
fi
grep -E '^[a-z0-9_]+-unknown-linux-[a-z]+: ' target/cross.log
# --- end cross

# Totals for the whole run, in the plain form CI reads.
passed=$(grep -oE 'test result: ok\. [0-9]+ passed' target/test.log | awk '{s+=$4} END {print s+0}')
failed=$(grep -oE '[0-9]+ failed' target/test.log | awk '{s+=$1} END {print s+0}')
# The conformance cases count too ("N passed, N failed" from the harness).
for sdk in rust c zig; do
    line=$(tail -n 1 "target/conformance-sdks/$sdk.log")
    passed=$((passed + $(awk '{print $1}' <<<"$line")))
    failed=$((failed + $(awk '{print $3}' <<<"$line")))
done
echo
echo "$passed passed, $failed failed"
