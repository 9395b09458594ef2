#!/usr/bin/env bash
# Builds the C test programs with Debian's clang + lld + wasi-libc (installing them if missing) and
# runs them under tern, comparing with expected output: usage run.sh TERN_BINARY.
set -euo pipefail
tern=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
# Debian installs wasi-libc multiarch-style: /usr/include/wasm32-wasi, /usr/lib/wasm32-wasi.
sysroot=/usr
if ! command -v clang >/dev/null || ! command -v wasm-ld >/dev/null || [ ! -f /usr/lib/wasm32-wasi/libc.a ] \
    || ! ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1; then
    echo "installing clang, lld, wasi-libc and the wasm32 compiler runtime (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        clang lld wasi-libc libclang-rt-dev-wasm32 >/dev/null
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
clang --target=wasm32-wasi --sysroot="$sysroot" -O2 -Wall -Werror -o "$out/files.wasm" "$here/files.c"
mkdir "$out/data"
printf 'some input\n' > "$out/data/in.txt"
set +e
echo piped | "$tern" run --dir "$out/data::/data" --env GREETING=hi "$out/files.wasm" one "two words" > "$out/stdout"
status=$?
set -e
diff -u "$here/expected.txt" "$out/stdout"
[ "$status" = 5 ] || { echo "files.wasm exited $status, expected 5"; exit 1; }
[ "$(ls "$out/data")" = "in.txt" ] || { echo "files.wasm left files behind"; exit 1; }
echo "C programs ok"
