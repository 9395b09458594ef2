#!/usr/bin/env bash
# Tests tern's cross-built binaries under qemu-user, on the host: the examples, the endianness checks
# (guest memory is little-endian on every host), policy denials, fuel and timeout traps, instruction
# dispatch that must not grow the host stack, WASI, an https fetch from a loopback test server,
# `tern serve` answering CGI requests from a WAT and a WASI handler, and the conformance suite.
#
#   cross/test.sh                                         # all six targets, release profile
#   cross/test.sh aarch64-unknown-linux-gnu powerpc-unknown-linux-gnu
#   cross/test.sh --profile NAME ...                      # binaries of another Cargo profile
#   cross/test.sh --full-only aarch64-unknown-linux-gnu   # skip the minimal binary
#
# It first runs cross/build.sh for the same targets (a no-op when they are up to date), then tests,
# per target, the full binary (tern) and the minimal one (tern-minimal, .wasm modules only).
# Each check prints `ok` or `FAIL`; each target ends with `TARGET: N passed, N failed, N skipped`.
# The exit status is 1 if any check failed.
set -euo pipefail
cd "$(dirname "$0")/.."
. cross/targets.sh

cross_parse_args "$0" "$@"

cross/build.sh --profile "$profile" $full_only "${targets[@]}"

target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
work=$(mktemp -d)
server_pid=
tern_serve_pid=
cleanup() {
    [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
    [ -z "$tern_serve_pid" ] || kill "$tern_serve_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# --- Host-side fixtures, shared by every target.

# The minimal build reads only .wasm: translate the test modules with wabt's wat2wasm.
command -v wat2wasm >/dev/null || cross_apt_install wabt
mkdir -p "$work/wasm"
for wat in examples/hello.wat examples/cat.wat examples/denied.wat cross/modules/*.wat; do
    wat2wasm "$wat" -o "$work/wasm/$(basename "${wat%.wat}").wasm"
done

# Files for the policy checks: one granted, one denied under the same grant.
mkdir -p "$work/files"
echo "granted content" >"$work/files/ok.txt"
echo "secret content" >"$work/files/secret.txt"

# A WASI handler for `tern serve`: Rust std for wasm32-wasip1, built where serve/test.sh builds it (so
# a no-op after test.sh's serve step; a few seconds otherwise).
serve_wasi_handler=$target_dir/serve-guests/wasm32-wasip1/release/hello-rust-std.wasm
rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
cargo build --quiet --release --target wasm32-wasip1 --target-dir "$target_dir/serve-guests" \
    --manifest-path examples/handlers/rust-std/Cargo.toml

# An HTTPS server on 127.0.0.1 with a certificate from a throwaway CA, for runtimes that have --ca-file.
https_port=
start_https_server() {
    command -v openssl >/dev/null && command -v python3 >/dev/null || return 1
    local d=$work/tls
    mkdir -p "$d/www"
    head -c 3000 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$d/www/body.txt"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=tern cross test CA" \
        -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$d/leaf.key" -out "$d/leaf.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$d/ext"
    openssl x509 -req -in "$d/leaf.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
        -extfile "$d/ext" -out "$d/leaf.pem" 2>/dev/null
    python3 - "$d" <<'EOF' &
import http.server, os, ssl, sys
d = sys.argv[1]
os.chdir(os.path.join(d, "www"))
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(d, "leaf.pem"), os.path.join(d, "leaf.key"))
server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
server.serve_forever()
EOF
    server_pid=$!
    for _ in $(seq 50); do
        [ -f "$d/port" ] && break
        sleep 0.1
    done
    https_port=$(cat "$d/port" 2>/dev/null) || return 1
}

# Suite module and harness, when the conformance suite exists (test.sh builds them in an earlier step,
# so these builds are no-ops there).
suite=
harness=
if [ -f conformance/suite/Cargo.toml ]; then
    echo "--- building the conformance suite module and harness"
    rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
    cargo build --release --quiet --target wasm32-unknown-unknown --target-dir "$target_dir/conformance-suite" \
        --manifest-path conformance/suite/Cargo.toml
    cargo build --quiet -p tern-conformance
    suite=$target_dir/conformance-suite/wasm32-unknown-unknown/release/tern_conformance_suite.wasm
    harness=$target_dir/debug/tern-conformance
fi

# --- Checks.

# serve_check NAME MODULE WANT CURL_ARGS...: `tern serve MODULE` (under qemu) listens on a port of its
# choosing, answers the request CURL_ARGS make (a path on that port, e.g. /you) with status 200 and a
# body that contains WANT, writes the invocation record, and exits 0 on SIGTERM.
serve_check() {
    local name=$1 module=$2 want=$3 path=$4 log=$work/serve.log port= status=0 code
    shift 4
    : >"$work/err"
    "${tern[@]}" serve --listen 127.0.0.1:0 --log-format text --workers 2 "$module" 2>"$log" </dev/null &
    tern_serve_pid=$!
    # Up to 60 s for qemu to start the server and the interpreter to compile the module.
    for _ in $(seq 600); do
        port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$log")
        [ -n "$port" ] || ! kill -0 "$tern_serve_pid" 2>/dev/null || { sleep 0.1; continue; }
        break
    done
    if [ -z "$port" ]; then
        kill "$tern_serve_pid" 2>/dev/null || true
        wait "$tern_serve_pid" 2>/dev/null || true
        tern_serve_pid=
        cat "$log" >"$work/err"
        fail "$name: the server printed no listening address"
        return
    fi
    code=$(curl -s --max-time 60 -o "$work/out" -w '%{http_code}' "$@" "http://127.0.0.1:$port$path") || true
    kill -TERM "$tern_serve_pid"
    wait "$tern_serve_pid" || status=$?
    tern_serve_pid=
    if [ "$code" = 200 ] && grep -qF -- "$want" "$work/out" && [ "$status" = 0 ] \
        && grep -qF " ${path%%\?*} -> 200 exited" "$log"; then
        ok "$name"
    else
        { echo "HTTP status $code (expected 200), body: $(head -c 300 "$work/out")"
          echo "server exit status $status after SIGTERM (expected 0; a record for $path expected); its log:"
          cat "$log"; } >"$work/err"
        fail "$name"
    fi
}

passed=0 failed=0 skipped=0 summaries=()
ok() { passed=$((passed + 1)); echo "ok      $label $1"; }
fail() { failed=$((failed + 1)); echo "FAIL    $label $1"; sed -n '1,20s/^/        | /p' "$work/err" 2>/dev/null || true; }
skip() { skipped=$((skipped + 1)); echo "skip    $label $1"; }

# expect NAME STATUS PATTERN CMD...: CMD exits with STATUS and its stdout contains PATTERN (fixed string).
expect() { expect_on out "$@"; }
# expect_err NAME STATUS PATTERN CMD...: like expect, with PATTERN on stderr.
expect_err() { expect_on err "$@"; }
# expect_on out|err NAME STATUS PATTERN CMD...: the two above.
expect_on() {
    local stream=$1 name=$2 want=$3 pattern=$4 status=0
    shift 4
    "$@" >"$work/out" 2>"$work/err" </dev/null || status=$?
    if [ "$status" = "$want" ] && grep -qF -- "$pattern" "$work/$stream"; then
        ok "$name"
    else
        echo "exit status $status (expected $want; std$stream should contain \"$pattern\"); stdout: $(head -c 300 "$work/out")" >>"$work/err"
        fail "$name"
    fi
}

w=$work/wasm m=cross/modules f=$work/files
for triple in "${targets[@]}"; do
    echo
    echo "=== $triple ($profile)"
    p=$target_dir/cross/$triple/$profile
    passed=0 failed=0 skipped=0
    # A wrapper with tern's command line, for tools that take a runtime path (the conformance harness,
    # the WASI C programs' run.sh).
    wrapper=$p/tern-qemu
    runner=$(cross_runner "$triple")
    printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$runner" "$p/tern" >"$wrapper"
    chmod +x "$wrapper"
    read -r -a qemu <<<"$runner"
    tern=("${qemu[@]}" "$p/tern")
    mini=("${qemu[@]}" "$p/tern-minimal")

    label="$triple tern:"
    expect "hello.wat" 0 "Hello from tern!" "${tern[@]}" run examples/hello.wat
    expect "hello.wat with an argument" 0 "Hello, Ada!" "${tern[@]}" run examples/hello.wat Ada
    status=0
    head -c 200000 /dev/urandom >"$work/stdin"
    "${tern[@]}" run examples/cat.wat <"$work/stdin" >"$work/out" 2>"$work/err" || status=$?
    if [ "$status" = 0 ] && cmp -s "$work/stdin" "$work/out"; then ok "cat.wat copies 200 kB of stdin"; else fail "cat.wat copies 200 kB of stdin (exit $status)"; fi
    expect_err "denied.wat is denied" 3 "is not granted" "${tern[@]}" run examples/denied.wat
    expect "endianness of guest memory" 0 "endian ok" "${tern[@]}" run $m/endian.wat
    expect "granted file is read" 0 "granted content" "${tern[@]}" run --allow "file://$f" $m/fetch.wat "file://$f/ok.txt"
    expect_err "deny wins over a grant" 13 "denied" \
        "${tern[@]}" run --allow "file://$f" --deny "file://$f/secret.txt" $m/fetch.wat "file://$f/secret.txt"
    expect_err "fuel trap" 134 "fuel" "${tern[@]}" run --fuel 100000 $m/spin.wat
    # A native stack overflow also exits 134 (SIGABRT): the message tells them apart.
    expect_err "instruction dispatch does not grow the host stack" 134 "out of fuel" \
        "${tern[@]}" run --fuel 20000000 $m/dispatch.wat
    start=$SECONDS
    expect_err "timeout trap" 124 "timeout" "${tern[@]}" run --timeout 500ms $m/spin.wat
    ((SECONDS - start < 20)) || { fail "timeout trap took $((SECONDS - start)) s"; }
    if "${tern[@]}" run --help | grep -q -- '--dir'; then
        expect "WASI reads and writes guest memory little-endian" 0 "le:xyz" "${tern[@]}" run $m/wasi-le.wat xyz
        wasi_cat=$target_dir/wasi-guests/wasm32-wasip1/release/wasi-cat.wasm
        if [ -f "$wasi_cat" ]; then
            expect "wasi-cat (Rust, wasm32-wasip1)" 0 "Hello from tern!" \
                "${tern[@]}" run --dir examples::/ex "$wasi_cat" /ex/hello.wat
        else
            skip "wasi-cat: not built (test.sh's WASI step builds it)"
        fi
        if command -v clang >/dev/null && [ -f /usr/lib/wasm32-wasi/libc.a ] && [ -x runtime/tests/wasi/c/run.sh ]; then
            if runtime/tests/wasi/c/run.sh "$wrapper" >"$work/err" 2>&1; then ok "WASI C programs"; else fail "WASI C programs"; fi
        else
            skip "WASI C programs: clang and wasi-libc are not installed (test.sh's WASI step installs them)"
        fi
    else
        skip "WASI: this tern has no WASI front-end yet"
    fi
    if "${tern[@]}" run --help | grep -q -- '--ca-file'; then
        if [ -n "$https_port" ] || start_https_server; then
            url=https://127.0.0.1:$https_port
            status=0
            # A literal loopback address is reachable when a grant names it (ABI.md §4.2).
            "${tern[@]}" run --ca-file "$work/tls/ca.pem" --allow "$url" \
                $m/fetch.wat "$url/body.txt" >"$work/out" 2>"$work/err" </dev/null || status=$?
            # Reads return the response as HTTP/1.1 text: status line, headers, blank line, body.
            body_size=$(stat -c %s "$work/tls/www/body.txt")
            if [ "$status" = 0 ] && [ "$(head -n 1 "$work/out")" = $'HTTP/1.1 200 OK\r' ] \
                && tail -c "$body_size" "$work/out" | cmp -s "$work/tls/www/body.txt" -; then
                ok "https fetch from a loopback server trusted with --ca-file"
            else
                echo "exit status $status" >>"$work/err"
                fail "https fetch from a loopback server trusted with --ca-file"
            fi
            status=0
            "${tern[@]}" run --allow "$url" $m/fetch.wat "$url/body.txt" \
                >"$work/out" 2>"$work/err" </dev/null || status=$?
            # -9 (connection failed) is exit status 19 for fetch.wat.
            if [ "$status" = 19 ] && [ ! -s "$work/out" ] && grep -q "certificate" "$work/err"; then
                ok "https fetch without --ca-file fails (untrusted certificate)"
            else
                echo "exit status $status; stdout: $(head -c 100 "$work/out")" >>"$work/err"
                fail "https fetch without --ca-file fails (untrusted certificate)"
            fi
        else
            skip "https: needs openssl and python3 for the test server"
        fi
    else
        skip "https: this tern has no --ca-file yet"
    fi
    if "${tern[@]}" serve --help >/dev/null 2>&1; then
        # The handler server is in the board build; its control plane is not (README: boards).
        serve_check "tern serve: a WAT handler answers a CGI request" examples/handlers/hello.wat \
            "Hello from tern! You asked for /you" "/you?name=Ada"
        head -c 5000 /dev/zero | tr '\0' x >"$work/body"
        serve_check "tern serve: a WASI handler (Rust std) reads a POST body" "$serve_wasi_handler" \
            "Hello from Rust std! POST /you?name=Ada (5000 body bytes)" "/you?name=Ada" --data-binary "@$work/body"
        expect_err "tern serve refuses --data: no control plane in a board build" 125 "no control plane" \
            "${tern[@]}" serve --data "$work/tern-data" examples/handlers/hello.wat
    else
        skip "tern serve: this tern was built without it"
    fi
    if [ -n "$suite" ]; then
        status=0
        "$harness" --runtime "$wrapper" --json "$p/conformance.json" "$suite" >"$p/conformance.log" 2>&1 || status=$?
        conformance=$(tail -n 1 "$p/conformance.log")
        echo "        conformance: $conformance"
        if [ "$status" = 0 ]; then
            ok "conformance suite"
        else
            grep -E '^(not ok|#   )' "$p/conformance.log" | head -n 40 >"$work/err" || true
            fail "conformance suite (see $p/conformance.log)"
        fi
        summaries+=("$triple: conformance: $conformance")
    else
        skip "conformance: no conformance/ suite yet"
    fi

    if [ -z "$full_only" ]; then
        label="$triple tern-minimal:"
        expect "hello.wasm" 0 "Hello from tern!" "${mini[@]}" run $w/hello.wasm
        expect "endianness of guest memory" 0 "endian ok" "${mini[@]}" run $w/endian.wasm
        expect_err "denied.wasm is denied" 3 "is not granted" "${mini[@]}" run $w/denied.wasm
        expect "granted file is read" 0 "granted content" "${mini[@]}" run --allow "file://$f" $w/fetch.wasm "file://$f/ok.txt"
        expect_err "fuel trap" 134 "fuel" "${mini[@]}" run --fuel 100000 $w/spin.wasm
        expect_err "instruction dispatch does not grow the host stack" 134 "out of fuel" \
            "${mini[@]}" run --fuel 20000000 $w/dispatch.wasm
        expect_err "timeout trap" 124 "timeout" "${mini[@]}" run --timeout 500ms $w/spin.wasm
        expect_err ".wat is refused with a reason" 125 ".wat" "${mini[@]}" run examples/hello.wat
        expect_err "has no network" 125 "ca-file" "${mini[@]}" run --ca-file /dev/null $w/hello.wasm
    fi

    summaries+=("$triple: $passed passed, $failed failed, $skipped skipped")
    total_failed=$((${total_failed:-0} + failed))
done

echo
printf '%s\n' "${summaries[@]}"
[ "${total_failed:-0}" = 0 ]
