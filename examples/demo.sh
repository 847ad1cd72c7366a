#!/usr/bin/env bash
# Installs what is needed, builds and installs influx_tokens, and runs a
# short demonstration (examples/demo.sql) in a throwaway PostgreSQL 15
# cluster that pg_virtualenv creates and removes (-t: a private one in a
# temporary directory, never the shared 15/regress one).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash test/install-deps.sh
make -s >/dev/null
make -s install >/dev/null
pg_virtualenv -t psql -X -q -f examples/demo.sql
