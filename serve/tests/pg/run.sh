#!/usr/bin/env bash
# The PostgreSQL tests of tern serve (issue 15), against a real, throwaway PostgreSQL
# (cluster.sh: installed if missing, run as a non-root user, stopped on exit):
#   serve/tests/pg/run.sh            (CI runs it as root; extra arguments go to the test binary)
# Builds target/debug/tern, then runs the store suite and the three-node tests.
set -euo pipefail
cd "$(dirname "$0")/../../.."

. serve/tests/pg/cluster.sh

cargo build -p tern-cli
# One at a time: the database-loss test stops the cluster the others use.
cargo test -p tern-serve --features postgres --test serve -- postgres --test-threads=1 "$@"
