# influx_tokens: build with PGXS against the server that pg_config names.

EXTENSION = influx_tokens
MODULE_big = influx_tokens
OBJS = \
	src/token_format.o \
	src/digest.o \
	src/permission.o \
	src/names.o \
	src/lookup.o \
	src/cache.o \
	src/usage.o \
	src/check.o \
	src/sql_api.o

# The install script and (later) upgrade scripts live in src/ next to the C
# code; sql/ and expected/ belong to pg_regress.
DATA = $(wildcard src/$(EXTENSION)--*.sql)

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

# Regression suites run in this order, in one database: setup creates the
# extension, the rest each use their own organizations.
REGRESS = setup tokens permissions lifecycle expiry transactions cache delegation management migration privileges errors hostile
REGRESS_OPTS = --inputdir=. --outputdir=.

PROVE_TESTS = test/t/*.pl

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Every object depends on the shared header.
$(OBJS): src/influx_tokens.h
src/cache.o: src/pg_compat.h

# TAP tests start their own clusters (PostgreSQL::Test::Cluster), so they
# must run as a user initdb accepts; see test/run-all.sh.
.PHONY: prove_installcheck
prove_installcheck:
	rm -rf $(CURDIR)/tmp_check
	cd $(srcdir) && TESTDIR='$(CURDIR)' PATH="$(bindir):$$PATH" PGPORT='6$(DEF_PGPORT)' \
		PG_REGRESS='$(top_builddir)/src/test/regress/pg_regress' \
		$(PROVE) $(PG_PROVE_FLAGS) $(PROVE_FLAGS) $(PROVE_TESTS)
