-- Installing the extension; pgcrypto comes along as a declared dependency.
\set SHOW_CONTEXT never
CREATE EXTENSION influx_tokens CASCADE;
SELECT extname, extversion FROM pg_extension WHERE extname = 'influx_tokens';
-- pgcrypto's version is the server's (1.3 in PostgreSQL 15 and 17, 1.4 in 18).
SELECT extname FROM pg_extension WHERE extname = 'pgcrypto';
SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'influx_tokens';

-- The tables whose data pg_dump keeps.
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS cfg(oid) JOIN pg_class c ON c.oid = cfg.oid
WHERE e.extname = 'influx_tokens' ORDER BY 1;

-- Test helper: run a statement, return its SQLSTATE and message instead of failing.
CREATE FUNCTION public.error_of(statement text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
GRANT EXECUTE ON FUNCTION public.error_of(text) TO PUBLIC;
