#!/usr/bin/env bash
# Installs the front end's and the test's npm packages (from their lock
# files) and runs the end-to-end test against a throwaway PostgreSQL cluster.
# Prints node's test summary ("# pass N", "# fail N").
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
(cd "$root/examples/frontend" && npm ci --no-audit --no-fund --silent)
(cd "$root/test/e2e" && npm ci --no-audit --no-fund --silent)
# -t: a private cluster, so a leftover 15/regress cluster cannot get in the way.
pg_virtualenv -t node --test --test-reporter=tap "$root/test/e2e/"
