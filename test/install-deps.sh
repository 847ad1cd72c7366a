#!/usr/bin/env bash
# Installs what building and testing influx_tokens needs on Debian 12:
# the PostgreSQL 15 server and its PGXS/TAP files, pgcrypto (contrib),
# OpenSSL headers for the digest, IPC::Run for the TAP tests, PgBouncer (a
# TAP test runs the current token behind it; its service is not started), clang with
# its libFuzzer and sanitizer runtimes for the fuzz targets, Node.js and npm
# for the front end's end-to-end test (its npm packages come from the
# registry, pinned by package-lock.json, in test/e2e/run.sh), and debootstrap
# for the Debian roots in which test/pg-versions.sh runs PostgreSQL 17 and 18.
set -euo pipefail

packages=(
	make gcc libssl-dev
	postgresql-15 postgresql-server-dev-15 postgresql-contrib
	libipc-run-perl pgbouncer
	clang libclang-rt-14-dev
	debootstrap
)
# Node.js and npm for the front end example and its end-to-end test, unless
# the machine already has them (from Debian or elsewhere).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: need root to install: ${missing[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
