#!/usr/bin/env bash
# Checks on a hot standby while the primary changes tokens.  A standby's
# backends keep the coarse invalidation (replay publishes nothing to the
# ring of changed tokens, src/cache.c): every replayed change to a token
# clears their whole cache.  This measures what that costs, next to the
# same on the primary.
#
#   bash test/bench/standby.sh          # as root on Debian 12, PostgreSQL 15
#
# A throwaway primary (pg_virtualenv -t) with 20,000 tokens and a streaming
# standby made from it with pg_basebackup; one backend checks a working set
# of 10,000 tokens in turn (3,000,000 checks), quiet, while the primary
# creates 100 tokens a second, and while it revokes and reactivates one
# token outside the working set 100 times a second (bench.churn of
# setup.sql); best of 3 each, on the standby and on the primary.  The
# primary commits synchronously (its default), so that each change reaches
# the standby on its own, as it would in production.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ "${1:-}" != --inside ]; then
	bash "$root/test/install-deps.sh"
	make -s -C "$root" clean >/dev/null
	make -s -C "$root" >/dev/null
	make -s -C "$root" install >/dev/null
	exec pg_virtualenv -t -o shared_buffers=512MB -o fsync=off -o ssl=off \
		-o shared_preload_libraries=influx_tokens -o max_wal_senders=4 bash "$0" --inside
fi

work=$(mktemp -d)
chmod 755 "$work"
chown postgres "$work"
standby="$work/standby"
standby_port=$((PGPORT + 2))
bindir=$(pg_config --bindir)
stop_standby() {
	local status=$?
	runuser -u postgres -- "$bindir/pg_ctl" -D "$standby" -m immediate stop >/dev/null 2>&1 || true
	[ "$status" -eq 0 ] || tail -20 "$work/standby.log" 2>/dev/null || true
	rm -rf "$work"
}
trap stop_standby EXIT

q() { psql -XAtq -v ON_ERROR_STOP=1 -d bench -c "$1"; }
. "$here/churn.sh"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

createdb bench
psql -XAtq -v ON_ERROR_STOP=1 -v n=20000 -d bench -f "$here/setup.sql" >/dev/null
q "CREATE TABLE bench.working_set AS SELECT i, token FROM bench.plain WHERE i <= 10000" >/dev/null

# The standby: a base backup, its own configuration (Debian keeps the
# primary's in /etc), streaming from the primary.
mkdir -p "$standby"
chown postgres "$standby"
runuser -u postgres -- env PGPASSWORD="$PGPASSWORD" "$bindir/pg_basebackup" -h localhost -p "$PGPORT" \
	-U postgres -D "$standby" -R -X stream -c fast
cat >"$standby/postgresql.conf" <<CONF
port = $standby_port
listen_addresses = 'localhost'
unix_socket_directories = '$work'
hot_standby = on
# Without feedback, the primary's pruning of the row it toggles conflicts
# with the standby's long checking statement and replay waits for it.
hot_standby_feedback = on
shared_buffers = 512MB
fsync = off
shared_preload_libraries = 'influx_tokens'
CONF
printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' >"$standby/pg_hba.conf"
chown -R postgres "$standby"
chmod 700 "$standby"
runuser -u postgres -- "$bindir/pg_ctl" -D "$standby" -l "$work/standby.log" -w start >/dev/null

# Wait for the standby to have replayed the set-up.
until [ "$(psql -XAtq -h localhost -p "$standby_port" -d bench -c 'SELECT count(*) FROM bench.working_set' 2>/dev/null)" = 10000 ]; do
	sleep 0.2
done

declare -A R
for _ in 1 2 3; do
	for kind in none create toggle; do
		R[standby_$kind]=$(better "${R[standby_$kind]:-}" \
			"$(working_set $kind bench.working_set bench -h localhost -p "$standby_port" -d bench)")
		R[primary_$kind]=$(better "${R[primary_$kind]:-}" "$(working_set $kind bench.working_set bench -d bench)")
	done
done

row() { printf "%-52s %11s %9s %9s %9s\n" "$@"; }
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
echo
echo "influx_tokens on a hot standby while tokens change, $(date -u +%Y-%m-%d), $(nproc) cores ($cpu), PostgreSQL $(q 'SHOW server_version' | cut -d' ' -f1)"
echo
row "10,000-token working set, one backend" "checks/s" "misses" "clears" "vs quiet"
for server in standby primary; do
	for kind in none create toggle; do
		case $kind in
			none) label="$server: quiet" ;;
			create) label="$server: the primary creates 100 tokens/s" ;;
			toggle) label="$server: the primary revokes/reactivates 1 token 100/s" ;;
		esac
		set -- ${R[${server}_$kind]}
		row "$label" "$1" "$2" "$3" "$(ratio "$1" "${R[${server}_none]%% *}")x"
	done
done
echo
echo "misses and clears (whole-cache invalidations) of the checking backend during its 3,000,000 checks."
