#!/usr/bin/env bash
# Runs the pg_regress suites and the TAP tests (test/run-suites.sh) on each
# PostgreSQL major version influx_tokens supports:
#   15  on this machine: Debian 12's packages (test/install-deps.sh)
#   17  in a Debian trixie root: Debian's postgresql-17
#   18  in a Debian sid root: Debian's postgresql-18
#
#   bash test/pg-versions.sh [15|17|18|all]...      # as root; default all
#   bash test/pg-versions.sh --exec 17 COMMAND...    # COMMAND in 17's root
#
# A root is made once (debootstrap --variant=minbase, then apt-get install,
# about 2 minutes each) from the Debian archive that this machine's apt
# sources name, into $INFLUX_TOKENS_PG_CACHE/pgNN (default
# /var/cache/influx_tokens/pgNN), and reused while it is healthy: its stamp
# matches, it is at most INFLUX_TOKENS_PG_MAX_AGE days old (default 7, so that
# sid follows its PostgreSQL), and that version's pg_config runs in it.  Each
# run copies the working tree into the root, mounts /proc and a /dev/shm
# there, and unmounts them on every way out.  INFLUX_TOKENS_DEBIAN_MIRROR
# names another archive.  Logs go to LOGDIR (default a new directory in /tmp).
#
# Prints each version's suites, a line "pgNN: N ok, N failed" per version,
# and ends with "N passed, N failed" over all of them.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${INFLUX_TOKENS_PG_CACHE:-/var/cache/influx_tokens}
max_age=${INFLUX_TOKENS_PG_MAX_AGE:-7}
logdir=${LOGDIR:-$(mktemp -d /tmp/influx_tokens_test.XXXXXX)}
mkdir -p "$logdir"
chmod 755 "$logdir"

declare -A suite_of=([17]=trixie [18]=sid)
chroot_env=(/usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive)

# --exec 17|18 COMMAND...: runs a command in that version's root instead of
# the suites (test/bench/bench.sh --pg 17 does).
exec_command=()
if [ "${1:-}" = --exec ]; then
	if [ $# -lt 3 ] || { [ "$2" != 17 ] && [ "$2" != 18 ]; }; then
		echo "usage: $0 --exec 17|18 COMMAND..." >&2
		exit 2
	fi
	exec_command=("${@:3}")
	set -- "$2"
fi

versions=()
for arg in "${@:-all}"; do
	case $arg in
		all) versions+=(15 17 18) ;;
		15 | 17 | 18) versions+=("$arg") ;;
		*) echo "usage: $0 [15|17|18|all]..." >&2; exit 2 ;;
	esac
done

# The URI of the Debian archive that apt uses here for this release, from the
# one-line sources (sources.list, *.list) or the deb822 ones (*.sources).
apt_archive_uri() {
	local codename f
	# shellcheck disable=SC1091
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || return 0
	{
		cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			sed -E 's/\[[^]]*\]//' |
			awk -v c="$codename" '$1 == "deb" && $3 == c { print $2 }'
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk -v c="$codename" '
				BEGIN { RS = ""; FS = "\n" }
				{
					split("", field); key = ""
					for (i = 1; i <= NF; i++) {
						line = $i
						if (line ~ /^#/) continue
						if (line ~ /^[ \t]/ && key != "") { field[key] = field[key] " " line; continue }
						key = tolower(substr(line, 1, index(line, ":") - 1))
						field[key] = substr(line, index(line, ":") + 1)
					}
					for (k in field) { gsub(/[ \t]+/, " ", field[k]); field[k] = " " field[k] " " }
					if (tolower(field["enabled"]) ~ / no /) next
					if (field["types"] !~ / deb / || field["suites"] !~ (" " c " ")) next
					split(field["uris"], uri, " ")
					print uri[1]
				}' "$f"
		done
	} | head -1
}

# Processes started inside root $1 (a server left behind by a failed test).
processes_in() {
	local p pids=()
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$1" ] && pids+=("${p#/proc/}")
	done
	echo "${pids[@]}"
}

mounts=()
mount_in() {
	local type=$1 target=$2
	shift 2
	mount -t "$type" "$@" "$type" "$target" && mounts+=("$target")
}

# Stops what still runs in root $1 and unmounts what this script mounted.
leave_root() {
	local dir=$1 pids i
	pids=$(processes_in "$dir")
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		kill -TERM $pids 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			[ -z "$(processes_in "$dir")" ] && break
			sleep 0.5
		done
		pids=$(processes_in "$dir")
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	fi
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}"
	done
	mounts=()
}

# Unmounts anything under $1 (what an interrupted run may have left).
unmount_under() {
	local m
	awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
}

# Whether root $1 for version $2 can be reused as it is.
root_is_healthy() {
	local dir=$1 v=$2
	[ -f "$dir/.influx_tokens-root" ] &&
		[ "$(cat "$dir/.influx_tokens-root")" = "$(root_stamp "$v")" ] &&
		[ -z "$(find "$dir/.influx_tokens-root" -mtime +"$max_age")" ] &&
		[ -x "$dir/usr/bin/pg_virtualenv" ] &&
		chroot "$dir" "${chroot_env[@]}" "/usr/lib/postgresql/$v/bin/pg_config" --version 2>/dev/null |
		grep -q "^PostgreSQL $v\."
}

root_packages() {
	echo "postgresql-$1 postgresql-server-dev-$1 make gcc libssl-dev libipc-run-perl pgbouncer"
}

root_stamp() {
	echo "suite=${suite_of[$1]} packages=$(root_packages "$1")"
}

# Makes root $1 for version $2 from nothing; /proc is mounted when it returns.
make_root() {
	local dir=$1 v=$2 mirror
	mirror=${INFLUX_TOKENS_DEBIAN_MIRROR:-$(apt_archive_uri)}
	if [ -z "$mirror" ]; then
		echo "no Debian archive found in the apt sources; set INFLUX_TOKENS_DEBIAN_MIRROR" >&2
		return 1
	fi
	unmount_under "$dir"
	rm -rf --one-file-system "$dir"
	echo "making a Debian ${suite_of[$v]} root for PostgreSQL $v in $dir"
	debootstrap --variant=minbase "${suite_of[$v]}" "$dir" "$mirror" >"$logdir/pg$v-debootstrap.log" 2>&1 || {
		tail -20 "$logdir/pg$v-debootstrap.log"
		return 1
	}
	# No service starts in the root, and no cluster is made by the packages.
	printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
	chmod 755 "$dir/usr/sbin/policy-rc.d"
	mkdir -p "$dir/etc/postgresql-common/createcluster.d"
	echo "create_main_cluster = false" >"$dir/etc/postgresql-common/createcluster.d/influx_tokens.conf"
	# The archive served here may be behind sid's Valid-Until.
	echo 'Acquire::Check-Valid-Until "false";' >"$dir/etc/apt/apt.conf.d/99influx-tokens"
	cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null
	mount_in proc "$dir/proc" || return 1
	chroot "$dir" "${chroot_env[@]}" sh -c "apt-get update -qq &&
		apt-get install -y -qq --no-install-recommends $(root_packages "$v")" \
		>"$logdir/pg$v-apt.log" 2>&1 || {
		tail -20 "$logdir/pg$v-apt.log"
		return 1
	}
	chroot "$dir" "${chroot_env[@]}" apt-get clean
	root_stamp "$v" >"$dir/.influx_tokens-root"
}

# Runs command $2... for version $1: in its root, as root, in a fresh copy of
# the working tree (/build/influx_tokens), with PG_CONFIG set; logs written to
# /build/logs there are copied to $logdir/pgNN.
in_root() {
	local v=$1 dir="$cache/pg$1" rc
	shift
	if [ "$(id -u)" -ne 0 ]; then
		echo "PostgreSQL $v runs in a chroot: run as root"
		return 1
	fi
	mkdir -p "$cache"
	dir=$(realpath -m "$dir")
	# One run at a time per root; held until this one is done.
	exec {lock}>"$cache/pg$v.lock"
	flock "$lock"
	trap 'leave_root "$dir"' EXIT
	trap 'leave_root "$dir"; exit 130' INT TERM HUP
	local started=$SECONDS
	if root_is_healthy "$dir" "$v"; then
		echo "reusing the PostgreSQL $v root in $dir"
		unmount_under "$dir"
		mount_in proc "$dir/proc" || return 1
	else
		make_root "$dir" "$v" || return 1
		echo "root ready in $((SECONDS - started)) s"
	fi
	mount_in tmpfs "$dir/dev/shm" -o mode=1777 || return 1

	# A fresh copy of the working tree, build products and logs left out.
	rm -rf --one-file-system "$dir/build"
	mkdir -p "$dir/build/influx_tokens"
	tar -C "$root" --exclude=./.git --exclude=node_modules --exclude=./tmp_check --exclude=./results \
		--exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - . | tar -C "$dir/build/influx_tokens" -xf -
	chroot "$dir" "${chroot_env[@]}" PG_CONFIG="/usr/lib/postgresql/$v/bin/pg_config" LOGDIR=/build/logs \
		sh -c 'cd /build/influx_tokens && exec "$@"' sh "$@"
	rc=$?
	[ -d "$dir/build/logs" ] && cp -r "$dir/build/logs" "$logdir/pg$v"
	leave_root "$dir"
	trap - EXIT INT TERM HUP
	exec {lock}>&-
	return $rc
}

bash "$root/test/install-deps.sh" || exit 1

if [ ${#exec_command[@]} -gt 0 ]; then
	in_root "${versions[0]}" "${exec_command[@]}"
	exit
fi

passed=0
failed=0
# The suites for version $1, here or in its root.  (A function, not an "if"
# in the pipeline below: bash runs no EXIT trap in a piped compound command.)
run_version() {
	if [ "$1" = 15 ]; then
		LOGDIR="$logdir/pg15" bash "$root/test/run-suites.sh"
	else
		in_root "$1" bash test/run-suites.sh
	fi
}

for v in "${versions[@]}"; do
	echo "=== PostgreSQL $v"
	out="$logdir/pg$v.out"
	run_version "$v" 2>&1 | tee "$out"
	line=$(grep -E "^result: pg$v passed=[0-9]+ failed=[0-9]+$" "$out" | tail -1)
	if [ -n "$line" ]; then
		p=$(echo "$line" | sed -E 's/.*passed=([0-9]+).*/\1/')
		f=$(echo "$line" | sed -E 's/.*failed=([0-9]+).*/\1/')
	else
		p=0
		f=1
	fi
	echo "pg$v: $p ok, $f failed"
	passed=$((passed + p))
	failed=$((failed + f))
done

echo "logs: $logdir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
