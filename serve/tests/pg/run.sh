#!/usr/bin/env bash
# The PostgreSQL tests of tern serve (issue 15), against a real, throwaway PostgreSQL
# (cluster.sh: installed if missing, run as a non-root user, stopped on exit):
#   serve/tests/pg/run.sh            (CI runs it as root; extra arguments go to the test binary)
# Builds target/debug/tern, then runs the store suite and the tests with several nodes.
set -euo pipefail
cd "$(dirname "$0")/../../.."

. serve/tests/pg/cluster.sh

cargo build -p tern-cli
# The store connection's own tests (a server that never answers) need the feature, not the cluster.
cargo test -p tern-serve --features postgres --lib -- store::postgres_conn
# One at a time: the database-loss test stops the cluster the others use.
cargo test -p tern-serve --features postgres --test serve -- postgres --test-threads=1 "$@"
