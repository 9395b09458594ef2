#!/usr/bin/env bash
# ripgrep built for wasm32-wasip1 under `tern run`: a ~4 MB Rust program walking directory trees
# (fd_readdir, path_open, fd_filestat_get on every entry), reading a 5 MB file, following symlinks
# inside its preopen, reading stdin. Its stdout, stderr and exit status for 26 searches are compared
# byte for byte with ripgrep.expected.txt, what the same ripgrep version built natively prints. The
# tree searched: ripgrep's own source (the crate cargo downloaded, pinned) plus files for the walker
# and the searcher. Then what only tern decides: no --dir means no files, a symlink out of the preopen
# is refused, a small --fuel ends it as out of fuel.
#
# The WASI build is `cargo install` from crates.io, cached in target/ripgrep-VERSION (or
# $RIPGREP_CACHE): about 2.5 minutes on 2 busy shared cores, seconds once cached.
# RIPGREP_NATIVE=1 also builds ripgrep natively (as long again) and checks ripgrep.expected.txt is
# what it prints, then compares both on this repository's runtime/ live; with --update it rewrites
# ripgrep.expected.txt from the native build. Usage: ripgrep.sh TERN_BINARY [--update]
set -euo pipefail
tern=$(realpath "$1")
update=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
expected=$here/ripgrep.expected.txt
version=14.1.1
cache=${RIPGREP_CACHE:-$repo/target/ripgrep-$version}
registry=${CARGO_HOME:-$HOME/.cargo}/registry/src
[ "$update" != --update ] || RIPGREP_NATIVE=1
# ripgrep's release profile keeps line tables (debug = 1): 19 MB of wasm instead of 4, a slower build.
export CARGO_PROFILE_RELEASE_DEBUG=0
source=$(ls -d "$registry"/*/ripgrep-$version 2>/dev/null | head -1 || true)
if [ ! -x "$cache/wasi/bin/rg.wasm" ] || [ -z "$source" ]; then
    rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
    echo "building ripgrep $version for wasm32-wasip1 (cached in $cache)"
    cargo install --quiet --locked --force ripgrep --version "=$version" --target wasm32-wasip1 \
        --root "$cache/wasi" --target-dir "$cache/build"
    source=$(ls -d "$registry"/*/ripgrep-$version | head -1)
fi
wasm=$cache/wasi/bin/rg.wasm
native=
if [ "${RIPGREP_NATIVE:-}" = 1 ]; then
    if [ ! -x "$cache/native/bin/rg" ]; then
        echo "building ripgrep $version natively, the reference (cached in $cache)"
        cargo install --quiet --locked ripgrep --version "=$version" --root "$cache/native" --target-dir "$cache/build"
    fi
    native=$cache/native/bin/rg
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
tree=$out/tree
cp -R "$source" "$tree"
rm -f "$tree/.cargo-ok"  # cargo's extraction marker, not part of the crate
(
    mkdir "$tree/extra"
    cd "$tree/extra"
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

# Native rg searches stdin instead of the working directory when stdin is a file or a pipe; rg built
# for WASI never does (grep-cli cannot tell there), so stdin is /dev/null unless a case reads it.
printf 'one\ntwo needle\nthree\n' > "$out/stdin.txt"
# Timings and the OS's errno numbers (ENOENT is 2 on Linux, 44 in WASI) are the only differences
# allowed; NUL bytes (--null) are shown as \0 to keep the transcript text.
normalise() {
    sed -E 's/"elapsed(_total)?":\{[^}]*\}/"elapsed":{}/g; s/\(os error [0-9]+\)/(os error)/g' "$1" \
        | sed 's/\x0/\\0/g'
}
# One case of a transcript: `rg ARGS` run by RUNNER in DIR (the guest's "/" and working directory,
# so relative paths print the same), stdin from STDIN.
case_of() {
    local runner=$1 dir=$2 stdin=$3
    shift 3
    local status=0 o
    o=$(mktemp -d -p "$out")
    "$runner" "$dir" "$@" < "$stdin" > "$o/out" 2> "$o/err" || status=$?
    printf '### rg %s\n' "$*"
    normalise "$o/out"
    printf -- '--- stderr\n'
    normalise "$o/err"
    printf -- '--- exit %s\n' "$status"
    rm -r "$o"
}
run_tern() { local dir=$1; shift; "$tern" run --dir "$dir::/:ro" "$wasm" "$@"; }
run_native() { local dir=$1; shift; (cd "$dir" && "$native" "$@"); }
# The searches (--sort path: native rg searches with several threads and prints in the order they finish).
transcript() {
    local r=$1 t=$tree n=/dev/null
    case_of "$r" "$t" $n --sort path needle                         # a literal
    case_of "$r" "$t" $n --sort path -n -g '!defs.rs' 'fn [a-z_]+\(' crates  # a regex, line numbers
    case_of "$r" "$t" $n --sort path -c 'impl|struct'               # counting
    case_of "$r" "$t" $n --sort path --count-matches e crates
    case_of "$r" "$t" $n --sort path -l HiArgs                      # file names only
    case_of "$r" "$t" $n --sort path --files                        # the walk itself (.ignore, hidden files)
    case_of "$r" "$t" $n --sort path --null -l needle
    case_of "$r" "$t" $n zzz-not-anywhere                           # nothing found: exit 1
    case_of "$r" "$t" $n 'a('                                       # a bad regex: exit 2 and its message
    case_of "$r" "$t" $n --sort path -F 'a(' crates/core/flags/defs.rs
    case_of "$r" "$t" $n --sort path --json SortMode crates/core/flags  # JSON lines with per-file stats
    case_of "$r" "$t" $n --sort path -uuu needle                    # hidden, ignored and binary files too
    case_of "$r" "$t" $n --sort path -i -w 'PCRE2' crates/core/main.rs
    case_of "$r" "$t" $n --sort path -o -w 'u[0-9]+' crates/core
    case_of "$r" "$t" $n --sort path -C2 -n 'fn supported'
    case_of "$r" "$t" $n --sort path -g '*.txt' -t txt needle
    case_of "$r" "$t" $n --sort path -m1 -n fn crates
    case_of "$r" "$t" $n --sort path --max-filesize 1K -l needle
    case_of "$r" "$t" $n --sort path --vimgrep -e needle -e 'fn main'
    case_of "$r" "$t" $n -j1 -n needle extra/big.txt extra/crlf.txt 'extra/naïve file.txt'
    case_of "$r" "$t" $n --sort path needle extra/link-to-leaf.txt extra/dir-link extra/deep  # symlinks named are followed
    case_of "$r" "$t" $n needle crates/missing.rs                   # a missing file: exit 2, named
    case_of "$r" "$t" $n -j4 --sort path -c fn                      # threads asked for (WASI has none)
    case_of "$r" "$t" $n --sort path -c -i 'unicode|ünïcödé'
    case_of "$r" "$t" $n --sort path --type-list
    case_of "$r" "$t" "$out/stdin.txt" -n needle -                  # stdin
}

failed=0
transcript run_tern > "$out/tern.txt"
if [ -n "$native" ]; then
    transcript run_native > "$out/native.txt"
    if [ "$update" = --update ]; then
        cp "$out/native.txt" "$expected"
        echo "ripgrep.expected.txt: rewritten from native ripgrep"
    fi
    diff -u "$expected" "$out/native.txt" > "$out/diff" \
        && echo "native ripgrep prints ripgrep.expected.txt" \
        || { head -n 40 "$out/diff"; echo "native ripgrep: differs from ripgrep.expected.txt"; failed=1; }
    # A larger real tree, live: this repository's runtime/ (sources, WAT, C, expected outputs).
    for args in "-n -i wasi|fuel runtime" "-c -t rust unsafe|unwrap\\( runtime"; do
        # shellcheck disable=SC2086 # the words of $args are rg's arguments
        diff -u <(case_of run_native "$repo" /dev/null --sort path $args) \
            <(case_of run_tern "$repo" /dev/null --sort path $args) | head -n 20 \
            && echo "runtime/, live: rg --sort path $args: the same" \
            || { echo "runtime/, live: rg --sort path $args differs"; failed=1; }
    done
fi
if diff -u "$expected" "$out/tern.txt" > "$out/diff"; then
    echo "$(grep -c '^### rg' "$expected") searches: tern's ripgrep prints what native ripgrep prints"
else
    head -n 60 "$out/diff"
    echo "ripgrep under tern: differs from ripgrep.expected.txt"
    failed=1
fi

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
