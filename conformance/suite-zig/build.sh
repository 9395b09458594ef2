#!/usr/bin/env bash
# Builds the Zig conformance suite module with Zig from PyPI (`pip install ziglang==VERSION`, run as
# `python3 -m ziglang`): usage build.sh OUT.wasm. ZIG overrides the zig command.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sdk=$here/../../guest-sdk/zig
out=$(realpath -m "$1")
zig=${ZIG:-python3 -m ziglang}
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
cp "$here"/*.zig "$gen/"
python3 "$here/../gen-cases.py" zig "$here/../cases.toml" "$gen/cases.zig"
cd "$gen"
$zig build-exe -target wasm32-freestanding -fno-entry -O ReleaseSmall \
    --export=cwa_main --export=conformance_invoke \
    --dep tern -Mroot="$gen/main.zig" -Mtern="$sdk/tern.zig" -femit-bin="$out"
