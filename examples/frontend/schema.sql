-- The front end's own tables, guarded by row-level security from the
-- request's token (influx_tokens.authenticate): the front end never checks
-- rows itself.  Run as the owner of the tables (not the front end's role,
-- which must neither own them nor bypass row-level security); then give
-- the front end's role what the end of this file says.
CREATE SCHEMA frontend;
CREATE TABLE frontend.points (
    org         text NOT NULL,
    bucket      text NOT NULL,
    line        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ON frontend.points (bucket);
ALTER TABLE frontend.points ENABLE ROW LEVEL SECURITY;
-- A row is readable and writable by the tokens that may read or write its bucket.
CREATE POLICY read_by_token ON frontend.points FOR SELECT
    USING (influx_tokens.current_token_check('read', org, bucket));
CREATE POLICY write_by_token ON frontend.points FOR INSERT
    WITH CHECK (influx_tokens.current_token_check('write', org, bucket));

-- What /api/v3/query_sql runs a client's SQL as: a role that may read the
-- points of the database asked for (the view) and nothing else of the
-- front end's.  security_invoker: the view applies the policies above to
-- whoever queries it.
CREATE SCHEMA frontend_sql;
CREATE VIEW frontend_sql.points WITH (security_invoker = true) AS
    SELECT org, bucket AS db, line, received_at FROM frontend.points
    WHERE bucket = current_setting('frontend.db');
CREATE ROLE frontend_sql_reader NOLOGIN;
GRANT USAGE ON SCHEMA frontend, frontend_sql TO frontend_sql_reader;
GRANT SELECT ON frontend.points, frontend_sql.points TO frontend_sql_reader;

-- The front end's role (here :frontend_role) gets:
--   GRANT USAGE ON SCHEMA frontend TO :frontend_role;
--   GRANT SELECT, INSERT ON frontend.points TO :frontend_role;
--   GRANT frontend_sql_reader TO :frontend_role;
