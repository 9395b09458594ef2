# A throwaway PostgreSQL for the tests and benchmarks of tern serve --store (sourced by run.sh
# and bench.sh): installs Debian's postgresql if it is missing, starts a cluster in a temp
# directory as a non-root user on 127.0.0.1 and an ephemeral port (its unix socket in the temp
# directory too), exports its URL as TERN_TEST_POSTGRES_URL (and TERN_TEST_PG_STOP/START, the
# commands that stop and start it, and TERN_TEST_PG_FREEZE/THAW, which make it hang and answer
# again), and stops it when the shell exits.

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(pg_bin)" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
fi
PGBIN="$(pg_bin)"

tmp="$(mktemp -d /tmp/tern-pg.XXXXXX)"
as_user=()
if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root: the cluster belongs to the postgres user (the package
    # creates it) and the tests stop and start it through runuser.
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$tmp"
    as_user=(runuser -u postgres --)
fi
mkdir -p "$tmp/sock"
if [ ${#as_user[@]} -gt 0 ]; then chown postgres "$tmp/sock"; fi

cleanup() {
    "${as_user[@]}" "$PGBIN/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT  # bench.sh chains its own cleanup before it

"${as_user[@]}" "$PGBIN/initdb" -D "$tmp/data" -U tern -A trust --no-sync >"$tmp/initdb.log" 2>&1 \
    || { cat "$tmp/initdb.log"; exit 1; }

# An ephemeral port: a random one, another if it is taken.
started=
for _ in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 30000))
    # fsync off: a throwaway cluster on a shared CI machine; durability is not what is tested here.
    opts="-h 127.0.0.1 -p $port -k $tmp/sock -c fsync=off -c max_connections=100"
    if "${as_user[@]}" "$PGBIN/pg_ctl" -D "$tmp/data" -o "$opts" -l "$tmp/server.log" -w -t 30 start >/dev/null; then
        started=1
        break
    fi
done
[ -n "$started" ] || { cat "$tmp/server.log"; echo "could not start PostgreSQL" >&2; exit 1; }

export TERN_TEST_POSTGRES_URL="postgres://tern@127.0.0.1:$port/postgres"
# The database-loss test stops and restarts this cluster.
printf -v TERN_TEST_PG_STOP '%q ' "${as_user[@]}" "$PGBIN/pg_ctl" -D "$tmp/data" -m fast -w stop
printf -v TERN_TEST_PG_START '%q ' "${as_user[@]}" "$PGBIN/pg_ctl" -D "$tmp/data" -o "$opts" -l "$tmp/server.log" -w -t 30 start
# The hung-database test freezes it instead: SIGSTOP to the postmaster (first, so it forks no new
# backend) and to its backends. Connections stay open and new ones are accepted by the kernel, but
# nothing answers — what a node sees of a database host that hangs or a network that drops packets.
pm_pid="\$(head -n 1 $tmp/data/postmaster.pid)"
TERN_TEST_PG_FREEZE="pm=$pm_pid; kill -STOP \$pm \$(ps -o pid= --ppid \$pm)"
TERN_TEST_PG_THAW="pm=$pm_pid; kill -CONT \$(ps -o pid= --ppid \$pm) \$pm"
export TERN_TEST_PG_STOP TERN_TEST_PG_START TERN_TEST_PG_FREEZE TERN_TEST_PG_THAW
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $tmp/data)"
