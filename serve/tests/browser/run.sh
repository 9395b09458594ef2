#!/bin/sh
# The dashboard's browser test: starts the API server on ephemeral 127.0.0.1 ports with a temp data
# directory, makes tokens, deploys a hello handler (two versions) and an XSS handler with curl,
# then drives Chromium headless (dashboard.test.js, Node built-ins only). Screenshots go to
# target/dashboard-shots/.
#
#   serve/tests/browser/run.sh
#
# Needs node (20+), curl and chromium (installed with apt-get when missing and running as root).
# The server is serve/examples/serve_api.rs (the real server and control plane) until the tern CLI has `serve`.
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
here="$root/serve/tests/browser"
cd "$root"

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing chromium with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
    else
        echo "run.sh: no $chromium; install it (apt-get install chromium) or set CHROMIUM" >&2
        exit 1
    fi
fi
command -v node >/dev/null || { echo "run.sh: needs node (20 or later)" >&2; exit 1; }

cargo build -q -p tern-serve --example serve_api
server="${CARGO_TARGET_DIR:-$root/target}/debug/examples/serve_api"
shots="${CARGO_TARGET_DIR:-$root/target}/dashboard-shots"

rm -rf "$shots"
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

data="$tmp/data"
token=$("$server" token --data "$data" --scope deploy)
read_token=$("$server" token --data "$data" --scope read)

# The server prints its two addresses once it listens; read them through a fifo.
mkfifo "$tmp/addresses"
"$server" serve --data "$data" --api 127.0.0.1:0 --http 127.0.0.1:0 >"$tmp/addresses" 2>"$tmp/server.log" &
pid=$!
exec 3<"$tmp/addresses"
read -r _ api <&3
read -r _ http <&3

deploy() { # deploy NAME FILE: a new handler, or a new version of one
    if [ "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$api/v1/handlers/$1")" = 200 ]; then
        set -- -X PUT "$api/v1/handlers/$1" "$2"
    else
        set -- -X POST "$api/v1/handlers?name=$1" "$2"
    fi
    curl -sS --fail-with-body -H "Authorization: Bearer $token" "$1" "$2" "$3" --data-binary "@$4" >/dev/null
}
sed 's/version 1/version 2/' "$here/hello.wat" >"$tmp/hello-v2.wat"
deploy hello "$here/hello.wat"
deploy hello "$tmp/hello-v2.wat"
deploy xss "$here/xss.wat"
# Some traffic for the charts: requests on the handler port and invocations through the API.
for _ in 1 2 3 4 5 6 7 8; do curl -sS -o /dev/null "$http/hello"; done
curl -sS -o /dev/null -X POST -H "Authorization: Bearer $token" "$api/v1/handlers/hello/invoke"

status=0
API="$api" HTTP="$http" TOKEN="$token" READ_TOKEN="$read_token" SHOTS="$shots" CHROMIUM="$chromium" \
    node "$here/dashboard.test.js" || status=$?
if [ "$status" != 0 ]; then
    echo "--- server log"
    cat "$tmp/server.log"
fi
exit "$status"
