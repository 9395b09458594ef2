#!/usr/bin/env bash
# Runs the conformance suite of every guest SDK (Rust, C, Zig) under the harness against one tern,
# prints each report, proves with broken-runtimes.sh that a broken runtime fails named cases in all
# three, and prints the table of SDKs and their conformance (the one conformance/README.md shows).
#
# Usage: conformance/run-sdks.sh TERN HARNESS [--update-readme]
#   TERN     the tern binary to test (e.g. target/release/tern)
#   HARNESS  the tern-conformance binary (e.g. target/debug/tern-conformance)
#   --update-readme  also write the table into README.md and conformance/README.md (between their
#                    sdk-table markers)
#
# It installs what is missing: clang and lld (Debian), Zig from PyPI (pinned below), the
# wasm32-unknown-unknown Rust target. The Rust and C suites implement every case, so they run with
# --require-all (a skip fails); the Zig suite may skip cases, which are reported. Reports are left in
# target/conformance-sdks/NAME.{log,json}. Exits non-zero if a suite fails or a broken runtime passes.
set -euo pipefail

# The Zig release the Zig SDK and suite are written for (`pip install ziglang==...`).
ZIG_VERSION=0.14.1

tern=$(realpath "$1")
harness=$(realpath "$2")
update_readme=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=target/conformance-sdks
mkdir -p "$out"

# --- toolchains
if ! command -v clang >/dev/null || ! command -v wasm-ld >/dev/null; then
    echo "installing clang and lld (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends clang lld >/dev/null
fi
if [ "$(python3 -m ziglang version 2>/dev/null)" != "$ZIG_VERSION" ]; then
    echo "installing Zig $ZIG_VERSION (PyPI package ziglang)"
    python3 -m pip install --quiet --disable-pip-version-check "ziglang==$ZIG_VERSION"
fi
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# --- the suite modules
cargo build --release --quiet --target wasm32-unknown-unknown --target-dir target/conformance-suite \
    --manifest-path conformance/suite/Cargo.toml
cp target/conformance-suite/wasm32-unknown-unknown/release/tern_conformance_suite.wasm "$out/rust.wasm"
conformance/suite-c/build.sh "$out/c.wasm"
conformance/suite-zig/build.sh "$out/zig.wasm"
# The SDKs' examples must keep building too.
clang --target=wasm32 -O2 -std=c11 -Wall -Wextra -Werror -ffreestanding -nostdlib -Iguest-sdk/c \
    -Wl,--no-entry -Wl,--export=cwa_main -o "$out/hello_cgi_c.wasm" \
    guest-sdk/c/hello_cgi.c guest-sdk/c/tern_sdk.c guest-sdk/c/tern_cgi.c
# The Zig package's own build (build.zig) makes its examples.
(cd guest-sdk/zig && python3 -m ziglang build --prefix "$root/$out/zig" --cache-dir "$root/$out/zig-cache")
cp "$out/zig/bin/hello.wasm" "$out/hello_zig.wasm"
cp "$out/zig/bin/cgi.wasm" "$out/cgi_zig.wasm"
[ "$("$tern" run "$out/hello_zig.wasm" Ada 2>/dev/null)" = "Hello, Ada!" ]

# The CGI helpers of both SDKs, through their example handlers (which print
# "hello, NAME (METHOD PATH, N bytes)"): the whole response, form decoding, and bad requests.
cgi() { # cgi MODULE BODY ENV...: the handler's stdout, CRs shown as \r
    local module=$1 body=$2
    shift 2
    local env=()
    for kv in "$@"; do env+=(--env "$kv"); done
    printf '%s' "$body" | "$tern" run "${env[@]}" "$module" 2>/dev/null | sed 's/\r/\\r/g'
}
for handler in "$out/hello_cgi_c.wasm" "$out/cgi_zig.wasm"; do
    got=$(cgi "$handler" abc REQUEST_METHOD=POST PATH_INFO=/p 'QUERY_STRING=x=1&name=A%20d+a' CONTENT_LENGTH=3)
    want=$'Status: 200 OK\\r\nContent-Type: text/plain; charset=utf-8\\r\n\\r\nhello, A d a (POST /p, 3 bytes)'
    [ "$got" = "$want" ] || { echo "FAIL: $handler answered"; echo "$got"; exit 1; }
    got=$(cgi "$handler" "" QUERY_STRING=name=Ada | head -n 1)
    [ "$got" = 'Status: 400 Bad Request\r' ] || { echo "FAIL: $handler without REQUEST_METHOD: $got"; exit 1; }
    got=$(cgi "$handler" abc REQUEST_METHOD=POST CONTENT_LENGTH=10 | head -n 1)
    [ "$got" = 'Status: 400 Bad Request\r' ] || { echo "FAIL: $handler with a short body: $got"; exit 1; }
done
echo "--- SDK examples: hello and CGI handlers (C, Zig) ok"

# --- the suites under the harness
status=0
suite() {
    local name=$1 flags=$2 code=0
    # shellcheck disable=SC2086 # $flags is empty or one option
    "$harness" --runtime "$tern" $flags --json "$out/$name.json" "$out/$name.wasm" >"$out/$name.log" || code=$?
    echo "--- $name suite: $(grep -m1 '^# sdk: ' "$out/$name.log" | cut -c8-)"
    # The report, less the passing cases: failures with their reasons, skips, and the summary.
    grep -E '^(not ok |#   |ok .* # SKIP)' "$out/$name.log" || true
    tail -n 1 "$out/$name.log"
    if [ "$code" != 0 ]; then
        echo "FAIL: the $name suite (exit status $code; full report in $out/$name.log)"
        status=1
    fi
}
suite rust --require-all
suite c --require-all
suite zig ""

# --- a runtime broken on purpose must fail named cases in every suite
if conformance/broken-runtimes.sh "$harness" "$tern" "$out/rust.wasm" "$out/c.wasm" "$out/zig.wasm" \
    >"$out/broken.log"; then
    grep -E '^--- ' "$out/broken.log"
else
    cat "$out/broken.log"
    status=1
fi

# --- the table (conformance/README.md shows it)
python3 - "$out" "$update_readme" <<'EOF'
import json, sys
out, update = sys.argv[1], sys.argv[2] == "--update-readme"
rows = []
for lang, name in [("Rust", "rust"), ("C", "c"), ("Zig", "zig")]:
    with open(f"{out}/{name}.json") as f:
        r = json.load(f)
    total = r["passed"] + r["failed"] + r["skipped"]
    sdk = r.get("sdk") or {}
    package = f'{sdk.get("name", "?")} {sdk.get("version", "?")}'
    rows.append((lang, package, r["passed"], r["failed"], r["skipped"], total))
lines = ["| SDK | package | passed | failed | skipped |", "|---|---|---|---|---|"]
lines += [f"| {lang} | {package} | {p}/{total} | {f} | {s} |" for lang, package, p, f, s, total in rows]
lines += ["", "conformance: " + ", ".join(f"{lang} {p}/{total}" for lang, _, p, _, _, total in rows)]
table = "\n".join(lines)
print()
print(table)
if update:
    start = "<!-- sdk-table: written by conformance/run-sdks.sh --update-readme -->"
    end = "<!-- end sdk-table -->"
    for path in ["README.md", "conformance/README.md"]:
        with open(path) as f:
            text = f.read()
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        with open(path, "w") as f:
            f.write(f"{head}{start}\n```\n{table}\n```\n{end}{tail}")
        print(f"(written to {path})")
EOF
exit "$status"
