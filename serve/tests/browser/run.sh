#!/bin/sh
# The dashboard's browser test. For each browser: starts the server (with its control plane) on
# ephemeral 127.0.0.1 ports with a temp data directory, makes tokens, deploys the example handler
# (two versions) and an XSS handler with curl, then drives the browser headless (dashboard.test.js, Node
# built-ins only: Chromium over the DevTools protocol, Firefox over WebDriver BiDi). Screenshots go
# to target/dashboard-shots/<browser>/.
#
#   serve/tests/browser/run.sh                  # Chromium and Firefox
#   BROWSERS=chromium serve/tests/browser/run.sh
#
# Needs node (20+) and curl; installs Debian's chromium / firefox-esr with apt-get when missing
# (as root). The server is the real `tern serve` (cargo build -p tern-cli).
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
here="$root/serve/tests/browser"
cd "$root"

browser_bin() { # the browser's executable, installed if missing
    case $1 in
        chromium) bin=${CHROMIUM:-/usr/bin/chromium} package=chromium ;;
        firefox) bin=${FIREFOX:-/usr/bin/firefox-esr} package=firefox-esr ;;
        *) echo "run.sh: unknown browser $1 (chromium, firefox)" >&2; exit 2 ;;
    esac
    if [ ! -x "$bin" ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "installing $package with apt-get" >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package" >/dev/null
        else
            echo "run.sh: no $bin; install $package or set ${package%%-*}'s path" >&2
            exit 1
        fi
    fi
    echo "$bin"
}
command -v node >/dev/null || { echo "run.sh: needs node (20 or later)" >&2; exit 1; }

cargo build -q -p tern-cli
target="${CARGO_TARGET_DIR:-$root/target}"
tern="$target/debug/tern"
shots="$target/dashboard-shots"
rm -rf "$shots"

tmp=$(mktemp -d)
pid=
stop_server() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=
    fi
}
trap 'stop_server; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

test_in() { # test_in BROWSER: a fresh server, the handlers, the browser's steps
    bin=$(browser_bin "$1")
    data="$tmp/$1/data"
    mkdir -p "$tmp/$1"
    token=$("$tern" token create --data "$data" --scope deploy --name dashboard 2>/dev/null)
    read_token=$("$tern" token create --data "$data" --scope read --name reader 2>/dev/null)

    # The server says on stderr where it listens; read that through a fifo, then keep draining
    # it into the log (invocation records follow) so the server never blocks on a full pipe.
    mkfifo "$tmp/$1/stderr"
    "$tern" serve --data "$data" --listen 127.0.0.1:0 --api-listen 127.0.0.1:0 2>"$tmp/$1/stderr" &
    pid=$!
    exec 3<"$tmp/$1/stderr"
    api= http=
    while [ -z "$api" ] || [ -z "$http" ]; do
        IFS= read -r line <&3 || { echo "tern serve ended before listening" >&2; return 1; }
        echo "$line" >>"$tmp/$1/server.log"
        case $line in
            "tern serve: listening on "*) http=${line#tern serve: listening on } ;;
            "tern serve: control plane API"*" on "*) api=${line#*API* on }; api=${api%% *} ;;
        esac
    done
    cat <&3 >>"$tmp/$1/server.log" &
    exec 3<&-

    deploy() { # deploy NAME FILE: a new handler, or a new version of one
        if [ "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$api/v1/handlers/$1")" = 200 ]; then
            set -- -X PUT "$api/v1/handlers/$1" "$2"
        else
            set -- -X POST "$api/v1/handlers?name=$1" "$2"
        fi
        curl -sS --fail-with-body -H "Authorization: Bearer $token" "$1" "$2" "$3" --data-binary "@$4" >/dev/null
    }
    # The example handler, then a second version of it (a greeting of the same length).
    sed 's/Hello from tern!/Hello, version 2/' examples/handlers/hello.wat >"$tmp/hello-v2.wat"
    deploy hello examples/handlers/hello.wat
    deploy hello "$tmp/hello-v2.wat"
    deploy xss "$here/xss.wat"
    # Some traffic for the charts: requests on the handler port and an invocation through the API.
    for _ in 1 2 3 4 5 6 7 8; do curl -sS -o /dev/null "$http/hello"; done
    curl -sS -o /dev/null -X POST -H "Authorization: Bearer $token" "$api/v1/handlers/hello/invoke"

    status=0
    API="$api" HTTP="$http" TOKEN="$token" READ_TOKEN="$read_token" SHOTS="$shots" \
        BROWSER="$1" BROWSER_BIN="$bin" node "$here/dashboard.test.js" || status=$?
    stop_server
    if [ "$status" != 0 ]; then
        echo "--- server log ($1)"
        cat "$tmp/$1/server.log"
    fi
    return "$status"
}

failed=
for browser in ${BROWSERS:-chromium firefox}; do
    test_in "$browser" || failed="$failed $browser"
done
if [ -n "$failed" ]; then
    echo "dashboard browser test failed in:$failed"
    exit 1
fi
