#!/usr/bin/env bash
# ripgrep built for wasm32-wasip1, run under `tern run` over real directory trees and compared byte for
# byte (stdout, stderr, exit status) with the same ripgrep version built natively: a ~4 MB Rust
# program walking directories (fd_readdir, path_open, fd_filestat_get on every entry), reading a 5 MB
# file, following symlinks inside its preopen, reading stdin. Then what only tern decides: no --dir
# means no files, a symlink out of the preopen is refused, a small --fuel ends it as out of fuel.
#
# Both builds are `cargo install` from crates.io, pinned, cached in target/ripgrep-VERSION (or
# $RIPGREP_CACHE); the first run builds them (several minutes on 2 shared cores, hence not in
# test.sh), later runs take seconds. Usage: ripgrep.sh TERN_BINARY
set -euo pipefail
tern=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
version=14.1.1
cache=${RIPGREP_CACHE:-$repo/target/ripgrep-$version}
# ripgrep's release profile keeps line tables (debug = 1): 19 MB of wasm instead of 4, and a slower build.
export CARGO_PROFILE_RELEASE_DEBUG=0
if [ ! -x "$cache/wasi/bin/rg.wasm" ]; then
    rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
    echo "building ripgrep $version for wasm32-wasip1 (cached in $cache)"
    cargo install --quiet --locked ripgrep --version "=$version" --target wasm32-wasip1 \
        --root "$cache/wasi" --target-dir "$cache/build"
fi
if [ ! -x "$cache/native/bin/rg" ]; then
    echo "building ripgrep $version natively, the reference (cached in $cache)"
    cargo install --quiet --locked ripgrep --version "=$version" --root "$cache/native" --target-dir "$cache/build"
fi
wasm=$cache/wasi/bin/rg.wasm
native=$cache/native/bin/rg

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The tree: a copy of runtime/src (real source) plus what exercises the walker and the searcher.
tree=$out/tree
mkdir "$tree"
cp -R "$repo/runtime/src" "$tree/src"
(
    cd "$tree"
    printf 'hidden needle\n' > .hidden.txt
    printf 'ignored.txt\n*.log\n' > .ignore
    printf 'needle in an ignored file\n' > ignored.txt
    printf 'needle in a log\n' > run.log
    printf 'bin\0ary needle\n' > binary.dat
    printf 'naïve needle ünïcödé\n' > 'naïve file.txt'
    : > empty.txt
    printf 'crlf needle\r\nsecond\r\n' > crlf.txt
    mkdir -p deep/a/b/c/d/e/f/g
    printf 'deep needle\n' > deep/a/b/c/d/e/f/g/leaf.txt
    # 5 MB: the searcher reads it in many buffers; the only match is at its end.
    awk 'BEGIN { for (i = 0; i < 100000; i++) printf "line %07d of the big file, nothing to see here\n", i;
                 print "needle at the end" }' > big.txt
    ln -s deep/a/b/c/d/e/f/g/leaf.txt link-to-leaf.txt
    ln -s deep/a dir-link
)
before=$(cd "$tree" && find . -printf '%p %s %T@\n' | sort | md5sum)

failed=0
# Timings and the OS's errno numbers (ENOENT is 2 on Linux, 44 in WASI) are the only differences allowed.
normalise() { sed -E 's/"elapsed(_total)?":\{[^}]*\}/"elapsed":{}/g; s/\(os error [0-9]+\)/(os error)/g' "$1"; }
# same DIR GUEST-CWD-MOUNT ARGS...: rg in DIR natively; under tern with DIR preopened read-only as "/",
# which is the guest's working directory, so relative paths print the same.
same() {
    local dir=$1
    shift
    local n=0 w=0
    (cd "$dir" && "$native" "$@" < "$out/stdin" > "$out/n.out" 2> "$out/n.err") || n=$?
    "$tern" run --dir "$dir::/:ro" "$wasm" "$@" < "$out/stdin" > "$out/w.out" 2> "$out/w.err" || w=$?
    local ok=1
    [ "$n" = "$w" ] || { echo "exit status: native $n, tern $w"; ok=0; }
    diff -u <(normalise "$out/n.out") <(normalise "$out/w.out") | head -n 20 || ok=0
    diff -u <(normalise "$out/n.err") <(normalise "$out/w.err") | head -n 20 || ok=0
    if [ $ok = 1 ]; then
        echo "same (exit $n, $(wc -l < "$out/n.out") lines): rg $*"
    else
        echo "DIFFERENT: rg $*"
        failed=1
    fi
}
# Native rg searches stdin instead of the working directory when stdin is a file or a pipe; rg built
# for WASI never does (grep-cli cannot tell there), so stdin is /dev/null unless a test reads it.
ln -s /dev/null "$out/stdin"
# --sort path: native rg searches with several threads and prints in the order they finish.
same "$tree" --sort path needle                                  # a literal
same "$tree" --sort path -n 'fn [a-z_]+\('                       # a regex, line numbers
same "$tree" --sort path -c Policy                               # counting
same "$tree" --sort path --count-matches e src
same "$tree" --sort path -l wasi                                 # file names only
same "$tree" --sort path --files                                 # the walk itself (.ignore, hidden files)
same "$tree" --sort path --null -l needle
same "$tree" zzz-not-anywhere                                    # nothing found: exit 1
same "$tree" 'a('                                                # a bad regex: exit 2 and its message
same "$tree" --sort path -F 'a('
same "$tree" --sort path --json Termination src/engine           # JSON lines, with per-file stats
same "$tree" --sort path -uuu needle                             # hidden, ignored and binary files too
same "$tree" --sort path -i -w POLICY src/process
same "$tree" --sort path -o -w 'u[0-9]+'
same "$tree" --sort path -C2 -n out_of_fuel
same "$tree" --sort path -g '*.txt' -t txt needle
same "$tree" --sort path -m1 -n fn src/abi
same "$tree" --sort path --max-filesize 1K -l needle
same "$tree" --sort path --vimgrep -e needle -e Termination
same "$tree" -j1 -n needle big.txt crlf.txt 'naïve file.txt'
same "$tree" --sort path needle link-to-leaf.txt dir-link deep  # symlinks given as paths are followed
same "$tree" needle src/missing.rs                              # a missing file: exit 2, named
same "$tree" -j4 --sort path -c fn                               # threads asked for (WASI has none)
rm "$out/stdin"
printf 'one\ntwo needle\nthree\n' > "$out/stdin"
same "$tree" -n needle -                                        # stdin
rm "$out/stdin"
ln -s /dev/null "$out/stdin"
# A larger real tree: all of runtime/ (Rust sources, WAT, C, expected outputs), as runtime/.
same "$repo" --sort path -n -i 'wasi|fuel' runtime
same "$repo" --sort path -c -t rust 'unsafe|unwrap\(' runtime

# What tern decides. Nothing preopened: the guest sees no files, says so, exits 2 (no trap).
status=0
"$tern" run "$wasm" needle /tree > "$out/w.out" 2> "$out/w.err" || status=$?
if [ "$status" = 2 ] && grep -q 'No such file or directory' "$out/w.err" && [ ! -s "$out/w.out" ]; then
    echo "no --dir: no files (exit 2)"
else
    echo "no --dir: exit $status"; cat "$out/w.err"; failed=1
fi
# A symlink out of the preopen, followed or named: refused, the file outside is not read.
mkdir "$out/jail"
printf 'secret needle\n' > "$out/secret.txt"
printf 'inside needle\n' > "$out/jail/inside.txt"
ln -s ../secret.txt "$out/jail/out-link.txt"
ln -s "$out" "$out/jail/out-dir"
status=0
"$tern" run --dir "$out/jail::/:ro" "$wasm" needle out-link.txt out-dir/secret.txt ../secret.txt . \
    > "$out/w.out" 2> "$out/w.err" || status=$?
if [ "$status" = 2 ] && [ "$(cat "$out/w.out")" = "./inside.txt:inside needle" ] \
    && [ "$(grep -c 'Operation not permitted' "$out/w.err")" = 3 ]; then
    echo "symlinks out of the preopen: refused"
else
    echo "symlinks out of the preopen: exit $status"; cat "$out/w.out" "$out/w.err"; failed=1
fi
# A small fuel budget: ended as out of fuel (exit 134), tern's one-line reason.
status=0
"$tern" run --fuel 100000 --dir "$tree::/:ro" "$wasm" needle > "$out/w.out" 2> "$out/w.err" || status=$?
if [ "$status" = 134 ] && grep -q 'out of fuel' "$out/w.err"; then
    echo "--fuel 100000: out of fuel (exit 134)"
else
    echo "--fuel 100000: exit $status"; cat "$out/w.err"; failed=1
fi
[ "$(cd "$tree" && find . -printf '%p %s %T@\n' | sort | md5sum)" = "$before" ] || { echo "the tree changed"; failed=1; }

[ $failed = 0 ] || { echo "ripgrep: FAILED"; exit 1; }
echo "ripgrep ok"
