#!/usr/bin/env bash
# Builds SQLite's amalgamation (as bundled by the libsqlite3-sys crate) with sqlite.c for WASI using
# Debian's clang + lld + wasi-libc, and runs a workload under tern: inserts in a transaction, an index,
# queries, an update and a delete, in memory and on a preopened directory; compares with
# sqlite-20000.expected.txt and sqlite.expected.txt (what the same program prints natively). A real C program of ~1.3 MB wasm with functions far larger than one fuel slice
# (issue 11, defect 5). Usage: sqlite.sh TERN_BINARY
set -euo pipefail
tern=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
version=0.35.0
if ! command -v clang >/dev/null || ! command -v wasm-ld >/dev/null || [ ! -f /usr/lib/wasm32-wasi/libc.a ] \
    || ! ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1; then
    echo "installing clang, lld, wasi-libc and the wasm32 compiler runtime (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        clang lld wasi-libc libclang-rt-dev-wasm32 >/dev/null
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The amalgamation comes from crates.io through cargo, like every other dependency.
registry=${CARGO_HOME:-$HOME/.cargo}/registry/src
amalgamation=$(ls -d "$registry"/*/libsqlite3-sys-$version/sqlite3 2>/dev/null | head -1 || true)
if [ -z "$amalgamation" ]; then
    mkdir -p "$out/fetch/src"
    printf '[package]\nname = "fetch-sqlite"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nlibsqlite3-sys = { version = "=%s", features = ["bundled"] }\n' \
        "$version" > "$out/fetch/Cargo.toml"
    touch "$out/fetch/src/lib.rs"
    cargo fetch --quiet --manifest-path "$out/fetch/Cargo.toml"
    amalgamation=$(ls -d "$registry"/*/libsqlite3-sys-$version/sqlite3 | head -1)
fi
# wasi-libc has no threads, no WAL shared memory and no dlopen; temporary tables stay in memory.
clang --target=wasm32-wasi --sysroot=/usr -O2 -w -I"$amalgamation" \
    -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL -DSQLITE_TEMP_STORE=3 \
    -DLONGDOUBLE_TYPE=double -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_SIGNAL \
    -D_WASI_EMULATED_PROCESS_CLOCKS \
    -o "$out/sqlite.wasm" "$amalgamation/sqlite3.c" "$here/sqlite.c" \
    -lwasi-emulated-mman -lwasi-emulated-getpid -lwasi-emulated-signal -lwasi-emulated-process-clocks
mkdir "$out/data"
# 20,000 rows: about 60,000 indirect calls in one fuel slice, which overflowed the host stack
# under wasmi's tail-call dispatch (see runtime/Cargo.toml).
"$tern" run "$out/sqlite.wasm" :memory: 20000 > "$out/memory.txt"
diff -u "$here/sqlite-20000.expected.txt" "$out/memory.txt"
"$tern" run --dir "$out/data::/data" "$out/sqlite.wasm" /data/test.db 5000 > "$out/disk.txt"
diff -u "$here/sqlite.expected.txt" "$out/disk.txt"
[ "$(ls "$out/data")" = "test.db" ] || { echo "sqlite.wasm left $(ls "$out/data") behind"; exit 1; }
echo "SQLite ok"
