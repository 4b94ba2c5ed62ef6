#!/usr/bin/env bash
# with-cluster.sh CMD... - runs CMD with KEYHOLD_TEST_PG naming a throwaway
# PostgreSQL cluster (cluster.sh), stopped and removed however CMD ends.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/keyhold-pg-XXXXXX)
trap '"$here/cluster.sh" stop "$dir"' EXIT
KEYHOLD_TEST_PG=$("$here/cluster.sh" start "$dir")
export KEYHOLD_TEST_PG KEYHOLD_TEST_PG_DIR="$dir"
echo "PostgreSQL for the tests: $KEYHOLD_TEST_PG" >&2
"$@"
