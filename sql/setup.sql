-- The installation itself: pg_regress created the extension (--load-extension, see the Makefile).
\i test/regress_preamble.psql
SELECT extname, extversion FROM pg_extension WHERE extname = 'influx_tokens';
-- No other extension is required (pgcrypto was, until 1.2, and did nothing).
SELECT count(*) AS required_extensions FROM pg_depend d JOIN pg_extension e ON e.oid = d.objid
WHERE d.classid = 'pg_extension'::regclass AND d.refclassid = 'pg_extension'::regclass AND e.extname = 'influx_tokens';
SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'influx_tokens';

-- The tables whose data pg_dump keeps.
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS cfg(oid) JOIN pg_class c ON c.oid = cfg.oid
WHERE e.extname = 'influx_tokens' ORDER BY 1;

-- The tables, views and sequences it installs.
SELECT c.relname, c.relkind FROM pg_class c
WHERE c.relnamespace = 'influx_tokens'::regnamespace AND c.relkind IN ('r', 'v', 'S', 'm', 'f', 'p') ORDER BY 1;
-- Every relation and function in its schema belongs to the extension: nothing else was installed there.
SELECT pg_describe_object(o.classid, o.objid, 0) AS not_a_member FROM (
    SELECT 'pg_class'::regclass AS classid, oid AS objid FROM pg_class
    WHERE relnamespace = 'influx_tokens'::regnamespace AND relkind IN ('r', 'v', 'S', 'm', 'f', 'p')
    UNION ALL
    SELECT 'pg_proc'::regclass, oid FROM pg_proc WHERE pronamespace = 'influx_tokens'::regnamespace) AS o
WHERE NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = o.classid AND d.objid = o.objid AND d.deptype = 'e'
                  AND d.refclassid = 'pg_extension'::regclass
                  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'influx_tokens'))
ORDER BY 1;
