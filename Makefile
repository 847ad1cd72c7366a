# influx_tokens: build with PGXS against the server that pg_config names.

EXTENSION = influx_tokens
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)
MODULE_big = influx_tokens
OBJS = \
	src/token_format.o \
	src/digest.o \
	src/permission.o \
	src/names.o \
	src/redaction.o \
	src/lookup.o \
	src/shared_cache.o \
	src/cache.o \
	src/usage.o \
	src/check.o \
	src/identity.o \
	src/delegation.o \
	src/authorizer.o \
	src/manage.o \
	src/create.o \
	src/import.o \
	src/commit_check.o \
	src/sql_api.o \
	src/legacy.o

# src/influx_tokens.sql is the whole current schema; it is installed as the
# script of the current version.  The other scripts in src/ are the older
# versions' and the upgrade scripts between them.  sql/ and expected/
# belong to pg_regress.
DATA_built = src/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built), $(wildcard src/$(EXTENSION)--*.sql))

# PostgreSQL's own headers (ilist.h, bufpage.h) have unused parameters, and
# so do callbacks with a fixed signature: that one warning stays off.
# Warnings are errors when the tests and CI ask for it (make WERROR=1), not in
# a user's plain "make install", where a newer compiler or server's headers
# may warn about what the tested ones did not.
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter
ifeq ($(WERROR),1)
PG_CFLAGS += -Werror
endif
SHLIB_LINK = -lcrypto

# Regression suites: every sql/*.sql, in name order, in one database; each
# also runs alone (make installcheck REGRESS=errors).  pg_regress creates the
# extension; each suite includes test/regress_preamble.psql (helpers, psql
# settings) and uses its own organizations and roles.
REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --outputdir=.
REGRESS_OPTS += --load-extension=influx_tokens

PROVE_TESTS = test/t/*.pl

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

src/$(EXTENSION)--$(EXTVERSION).sql: src/$(EXTENSION).sql
	cp $< $@

# Every object depends on the shared headers.
$(OBJS): src/influx_tokens.h src/pg_compat.h

# TAP tests start their own clusters (PostgreSQL::Test::Cluster), so they
# must run as a user initdb accepts; see test/run-all.sh.
.PHONY: prove_installcheck
prove_installcheck:
	rm -rf $(CURDIR)/tmp_check
	cd $(srcdir) && TESTDIR='$(CURDIR)' PATH="$(bindir):$$PATH" PGPORT='6$(DEF_PGPORT)' \
		PG_REGRESS='$(top_builddir)/src/test/regress/pg_regress' \
		$(PROVE) $(PG_PROVE_FLAGS) $(PROVE_FLAGS) $(PROVE_TESTS)
