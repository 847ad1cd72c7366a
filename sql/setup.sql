-- The installation itself: pg_regress created the extension (--load-extension, see the Makefile).
\i test/regress_preamble.psql
SELECT extname, extversion FROM pg_extension WHERE extname IN ('influx_tokens', 'pgcrypto') ORDER BY 1;
SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'influx_tokens';

-- The tables whose data pg_dump keeps.
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS cfg(oid) JOIN pg_class c ON c.oid = cfg.oid
WHERE e.extname = 'influx_tokens' ORDER BY 1;
