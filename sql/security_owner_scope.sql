-- The owner scope (issue 20): whatever runs with a view owner's rights — key
-- expressions at capture, every refresh — runs with search_path = pg_catalog,
-- pg_temp and pinned output settings, whoever writes and whatever they SET,
-- and leaves nothing of itself behind in the writer's session.
-- Roles: the owner of the views (a superuser here: the worst case), a writer
-- with INSERT on the source and a schema of her own.
CREATE ROLE regress_scope_writer;
CREATE SCHEMA scope;
CREATE SCHEMA scope_evil AUTHORIZATION regress_scope_writer;
GRANT USAGE ON SCHEMA scope TO regress_scope_writer;

-------------------------------------------------------------------------------
-- 1. Key expressions run as the owner: never with the writer's search_path.
-- An IMMUTABLE SQL function with an unqualified abs(): its body is parsed when
-- capture first calls it.
CREATE TABLE scope.events (id int, v int, at date, x float8);
CREATE FUNCTION scope.bucket(i int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT abs(i) / 10';
SELECT pgview_create('scope.by_bucket',
  'SELECT scope.bucket(v) AS b, pg_catalog.count(*) AS n FROM scope.events GROUP BY 1',
  kind => 'table view', unique_key => ARRAY['b']);
SELECT pgview_watch('scope.by_bucket');
SELECT pgview_refresh('scope.by_bucket');   -- a new watch's first refresh is full: the next ones are keyed
SELECT source, refresh, key_from FROM pgview_explain('scope.by_bucket');
GRANT INSERT ON scope.events TO regress_scope_writer;

-- The writer plants scope_evil.abs, recording who runs it, and puts her schema first.
SET ROLE regress_scope_writer;
CREATE TABLE scope_evil.loot (who text, superuser boolean);
GRANT INSERT ON scope_evil.loot TO PUBLIC;
CREATE FUNCTION scope_evil.abs(i int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO scope_evil.loot SELECT current_user, rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user;
  RETURN i;
END $$;
SET search_path = scope_evil, pg_catalog;
INSERT INTO scope.events VALUES (1, -25, '2026-12-07', 0.1);
SELECT * FROM scope_evil.loot;          -- empty: capture and refresh used pg_catalog.abs
RESET search_path;
RESET ROLE;
SELECT * FROM scope.by_bucket;          -- abs(-25) / 10 = 2
-- (kept by delta arithmetic: still one full refresh, the watch's first)
SELECT refresh_count AS full_refreshes FROM pgview_status() WHERE matview = 'scope.by_bucket'::regclass;

-------------------------------------------------------------------------------
-- 2. Output settings: a key computed at capture and the same key computed by
-- the refresh agree, whatever the writer SETs: the view is the query as a
-- session with the pinned settings sees it (pg_regress runs this file with
-- DateStyle Postgres and TimeZone PST8PDT: compared after SET DateStyle).
SELECT pgview_create('scope.by_day',
  'SELECT at::text AS day, pg_catalog.count(*) AS n FROM scope.events GROUP BY 1',
  kind => 'table view', unique_key => ARRAY['day']);
SELECT pgview_create('scope.by_third',
  'SELECT (x / 3)::text AS third, pg_catalog.count(*) AS n FROM scope.events GROUP BY 1',
  kind => 'table view', unique_key => ARRAY['third']);
SELECT pgview_watch('scope.by_day'), pgview_watch('scope.by_third');
SET ROLE regress_scope_writer;
SET DateStyle = 'German, DMY';
SET extra_float_digits = -3;
SET TimeZone = 'Pacific/Kiritimati';
INSERT INTO scope.events VALUES (2, 7, '2026-12-08', 0.2), (3, 8, '2026-12-08', 0.1);
SHOW DateStyle;                          -- the writer's own settings are hers again
SHOW extra_float_digits;
SHOW TimeZone;
RESET DateStyle;
RESET extra_float_digits;
RESET TimeZone;
RESET ROLE;
SET DateStyle = 'ISO, MDY';
SELECT * FROM scope.by_day ORDER BY day;
SELECT * FROM scope.by_third ORDER BY third;
SELECT count(*) AS differences FROM (
  (TABLE scope.by_day EXCEPT ALL TABLE pgview_query.by_day)
  UNION ALL (TABLE pgview_query.by_day EXCEPT ALL TABLE scope.by_day)
  UNION ALL (TABLE scope.by_third EXCEPT ALL TABLE pgview_query.by_third)
  UNION ALL (TABLE pgview_query.by_third EXCEPT ALL TABLE scope.by_third)) d;
RESET DateStyle;

-------------------------------------------------------------------------------
-- 3. Nothing the owner's code SETs reaches the writer's session: a function of
-- the view's query changes work_mem and search_path for the rest of the
-- session (is_local => false), during the writer's commit.
CREATE FUNCTION scope.meddle(i int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN i; END $$;
SELECT pgview_create('scope.meddled', 'SELECT scope.meddle(v) AS v FROM scope.events', kind => 'table view');
SELECT pgview_watch('scope.meddled');
CREATE OR REPLACE FUNCTION scope.meddle(i int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_catalog.set_config('work_mem', '77kB', false);
  PERFORM pg_catalog.set_config('search_path', 'scope_evil', false);
  RETURN i;
END $$;
SET ROLE regress_scope_writer;
SET work_mem = '4MB';
INSERT INTO scope.events VALUES (4, 40, '2026-12-09', 0.4);
SHOW work_mem;                           -- still 4MB
SHOW search_path;                        -- still the default
RESET work_mem;
RESET ROLE;
SELECT count(*) AS rows_in_meddled FROM scope.meddled;

-------------------------------------------------------------------------------
-- 4. A key that cannot be computed: a writer who may not read the view learns
-- that, not the value that broke it (which can be data she may not read).
CREATE TABLE scope.codes (id int, code text);
GRANT INSERT ON scope.codes TO regress_scope_writer;
SELECT pgview_create('scope.by_code',
  'SELECT code::int AS c, pg_catalog.count(*) AS n FROM scope.codes GROUP BY 1',
  kind => 'table view', unique_key => ARRAY['c']);
SELECT pgview_watch('scope.by_code');
SET ROLE regress_scope_writer;
\set VERBOSITY default
INSERT INTO scope.codes VALUES (1, 'secret-4711');
\echo :SQLSTATE
RESET ROLE;
GRANT SELECT ON scope.by_code TO regress_scope_writer;
SET ROLE regress_scope_writer;
INSERT INTO scope.codes VALUES (1, 'secret-4711');   -- a reader of the view sees why
RESET ROLE;

-- clean up
SELECT pgview_unwatch(matview) FROM (SELECT DISTINCT matview FROM pgview_watches WHERE matview IS NOT NULL) m
  ORDER BY matview::text;
DROP SCHEMA scope CASCADE;
DROP SCHEMA scope_evil CASCADE;
DROP ROLE regress_scope_writer;
