#!/usr/bin/env bash
# Runs the pg_regress suites against a server running under valgrind, with
# the library preloaded (so that usage counting and its worker run too),
# under memcheck, then reports every valgrind error whose stack passes through
# influx_tokens.so.  Exits non-zero if there is any.
#
#   bash test/valgrind.sh          # as root on Debian 12; takes several minutes
#
# Debian's PostgreSQL is not built with USE_VALGRIND, so valgrind sees
# palloc chunks only as parts of larger malloc'd blocks: it catches reads of
# uninitialized memory, invalid reads and writes outside those blocks, and
# invalid frees, not overruns inside a memory context block.  Errors that
# stay inside PostgreSQL itself (there are some, without suppressions) are
# counted but not held against the extension.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash test/install-deps.sh
command -v valgrind >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
make -s WERROR=1 >/dev/null
make -s install >/dev/null

bindir=$(pg_config --bindir)
work=$(mktemp -d /tmp/influx_tokens_valgrind.XXXXXX)
chmod 755 "$work"
cat >"$work/postgres" <<WRAP
#!/bin/sh
exec valgrind --quiet --trace-children=yes --num-callers=30 --log-file=$work/vg.%p.log $bindir/postgres "\$@"
WRAP
chmod 755 "$work/postgres"
chown -R postgres "$work"

runuser -u postgres -- "$bindir/initdb" -D "$work/data" -A trust >/dev/null
runuser -u postgres -- "$bindir/pg_ctl" -D "$work/data" -p "$work/postgres" -w -t 300 -l "$work/server.log" \
	-o "-p 54399 -k $work -c max_connections=10 -c shared_buffers=64MB -c shared_preload_libraries=influx_tokens" start >/dev/null
trap 'runuser -u postgres -- "$bindir/pg_ctl" -D "$work/data" -m fast -w -t 300 stop >/dev/null || true' EXIT

PGHOST=$work PGPORT=54399 PGUSER=postgres make installcheck || true

runuser -u postgres -- "$bindir/pg_ctl" -D "$work/data" -m fast -w -t 300 stop >/dev/null
trap - EXIT

total=$(cat "$work"/vg.*.log | grep -cE '^==[0-9]+== [A-Z].*(Invalid|uninitialised|Mismatched|overlap|Syscall param)' || true)
ours=$(awk '/^==[0-9]+== [A-Z]/ { block = $0; inblock = 1; next }
            inblock && /influx_tokens\.so/ { print block; inblock = 0 }
            /^==[0-9]+== $/ { inblock = 0 }' "$work"/vg.*.log | wc -l)
echo "valgrind: $total errors in all, $ours in influx_tokens code (logs: $work)"
if [ "$ours" -gt 0 ]; then
	grep -l influx_tokens.so "$work"/vg.*.log | head -3 | xargs cat
	exit 1
fi
