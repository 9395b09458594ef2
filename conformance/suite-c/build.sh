#!/usr/bin/env bash
# Builds the C conformance suite module with clang and wasm-ld (Debian packages clang, lld):
# usage build.sh OUT.wasm. No libc: the suite uses guest-sdk/c (tern.h, tern_sdk.c, tern_cgi.c).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sdk=$here/../../guest-sdk/c
out=$1
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
python3 "$here/../gen-cases.py" c "$here/../cases.toml" "$gen/cases.h"
clang --target=wasm32 -O2 -std=c11 -Wall -Wextra -Werror -ffreestanding -nostdlib \
    -I"$sdk" -I"$gen" -Wl,--no-entry -Wl,--export=cwa_main -Wl,--export=conformance_invoke \
    -o "$out" "$here"/*.c "$sdk/tern_sdk.c" "$sdk/tern_cgi.c"
