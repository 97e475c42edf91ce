-- Watches follow DDL: CREATE OR REPLACE VIEW, RENAME, SET SCHEMA, partitions,
-- DROP (orphaned watches) and CREATE again, DROP EXTENSION; a user's objects on
-- search_path cannot hijack the extension's own SQL.
CREATE SCHEMA ddl;
SET search_path = ddl, public;
CREATE TABLE a (x int);
CREATE TABLE b (x int);
CREATE VIEW v AS SELECT x FROM a;
CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM v;
CREATE VIEW mv_fresh AS SELECT (SELECT n FROM mv) = (SELECT count(*) FROM v) AS fresh;
SELECT pgview_watch('mv', on_error => 'warn');
SELECT matview, source, via FROM pgview_watches;

-- CREATE OR REPLACE VIEW: the sources follow (b gains capture, a loses it)
CREATE OR REPLACE VIEW v AS SELECT x FROM b;
SELECT matview, source, via FROM pgview_watches;
SELECT tgrelid::regclass FROM pg_trigger WHERE tgname = 'pgview_auto_capture' ORDER BY tgrelid::text;
INSERT INTO b VALUES (1);
SELECT * FROM mv_fresh;
INSERT INTO a VALUES (1);   -- no longer under mv: no refresh
SELECT matview, refresh_count FROM pgview_status();

-- RENAME and SET SCHEMA of the matview and of the table: still watched, still refreshed
ALTER MATERIALIZED VIEW mv RENAME TO mv_renamed;
ALTER TABLE b RENAME TO b_renamed;
CREATE SCHEMA ddl2;
ALTER MATERIALIZED VIEW mv_renamed SET SCHEMA ddl2;
SELECT matview, source, via FROM pgview_watches;
SELECT matview_name FROM pgview_auto.watched;
INSERT INTO b_renamed VALUES (2);
SELECT n FROM ddl2.mv_renamed;
ALTER MATERIALIZED VIEW ddl2.mv_renamed SET SCHEMA ddl;
ALTER MATERIALIZED VIEW mv_renamed RENAME TO mv;
ALTER TABLE b_renamed RENAME TO b;
SELECT matview_name FROM pgview_auto.watched;

-- DROP MATERIALIZED VIEW, then CREATE of the same name: the watch and its options come back
DROP MATERIALIZED VIEW mv CASCADE;
SELECT matview, source, mode, on_error, orphaned FROM pgview_watches;
SELECT count(*) FROM pg_trigger WHERE tgname = 'pgview_auto_capture';
INSERT INTO b VALUES (3);                 -- nothing to refresh, nothing fails
CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM v;
SELECT matview, source, via, mode, on_error, orphaned FROM pgview_watches;
INSERT INTO b VALUES (4);
SELECT n FROM mv;
-- ... in one transaction too
BEGIN;
DROP MATERIALIZED VIEW mv;
CREATE MATERIALIZED VIEW mv AS SELECT count(*) + 0 AS n FROM v;
COMMIT;
SELECT matview, source, on_error, orphaned FROM pgview_watches;
INSERT INTO b VALUES (5);
SELECT n FROM mv;

-- an orphan can be removed by name (its matview is gone, so by text)
DROP MATERIALIZED VIEW mv;
SELECT pgview_unwatch('ddl.mv');
SELECT count(*) FROM pgview_watches;
SELECT pgview_unwatch('ddl.mv');          -- neither a matview nor an orphan
\echo :SQLSTATE
CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM v;   -- nothing comes back now
SELECT count(*) FROM pgview_watches;

-- dropping a source table removes the watches on it (and schedules go with a dropped matview)
CREATE TABLE c (x int);
CREATE MATERIALIZED VIEW mc AS SELECT count(*) AS n FROM c, b;
SELECT pgview_watch('mc');
-- (written directly: pgview_schedule needs the background worker, this DDL does not)
INSERT INTO pgview_auto.schedule VALUES ('mc', '1 hour');
DROP TABLE c CASCADE;
SELECT count(*) AS watches, (SELECT count(*) FROM pgview_auto.schedule) AS schedules FROM pgview_watches WHERE orphaned IS NULL;
SELECT tgrelid::regclass FROM pg_trigger WHERE tgname = 'pgview_auto_capture' ORDER BY tgrelid::text;
SELECT pgview_unwatch('mc');

-- partitions created, attached and detached later gain and lose capture
CREATE TABLE p (d int, x int) PARTITION BY RANGE (d);
CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);
CREATE MATERIALIZED VIEW pmv AS SELECT count(*) AS n FROM p;
SELECT pgview_watch('pmv');
CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (10) TO (20);
CREATE TABLE p3 (d int, x int);
ALTER TABLE p ATTACH PARTITION p3 FOR VALUES FROM (20) TO (30);
SELECT tgrelid::regclass FROM pg_trigger WHERE tgname = 'pgview_auto_capture' ORDER BY tgrelid::text;
INSERT INTO p2 VALUES (11, 1);
INSERT INTO p3 VALUES (21, 1);
SELECT n FROM pmv;
ALTER TABLE p DETACH PARTITION p3;
SELECT tgrelid::regclass FROM pg_trigger WHERE tgname = 'pgview_auto_capture' ORDER BY tgrelid::text;
INSERT INTO p3 VALUES (22, 1);            -- no longer part of p
SELECT n FROM pmv, (SELECT count(*) AS m FROM p) q WHERE n = m;  -- fresh: the DETACH refreshed it
SELECT pgview_unwatch('pmv');

-- unrelated DDL is untouched
CREATE TABLE unrelated (x int);
ALTER TABLE unrelated ADD COLUMN y int;
DROP TABLE unrelated;

-- A user's own operator and function, ahead of pg_catalog on search_path, are
-- never used by the extension's SQL (registry, event triggers, status).
CREATE SCHEMA evil;
CREATE FUNCTION evil.hijacked(regclass, regclass) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'hijacked: operator'; END $$;
CREATE OPERATOR evil.= (LEFTARG = regclass, RIGHTARG = regclass, FUNCTION = evil.hijacked);
CREATE FUNCTION evil.hijacked_oid(oid, oid) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'hijacked: oid operator'; END $$;
CREATE OPERATOR evil.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = evil.hijacked_oid);
CREATE FUNCTION evil.format(text, name, name) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'hijacked: format'; END $$;
CREATE FUNCTION evil.count(anyelement) RETURNS bigint LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'hijacked: count'; END $$;
SET search_path = evil, pg_catalog, ddl, public;
SELECT pgview_watch('ddl.mv');
INSERT INTO ddl.b VALUES (6);
CREATE OR REPLACE VIEW ddl.v AS SELECT x FROM ddl.b WHERE x > 0;
ALTER MATERIALIZED VIEW ddl.mv RENAME TO mv_x;
DROP MATERIALIZED VIEW ddl.mv_x;
CREATE MATERIALIZED VIEW ddl.mv_x AS SELECT count(*) AS n FROM ddl.v;
INSERT INTO ddl.b VALUES (7);
SELECT matview, refresh_count > 0 AS refreshed FROM pgview_status();
SELECT matview, source FROM pgview_watches;
SELECT pgview_unwatch('ddl.mv_x'::regclass);
ALTER MATERIALIZED VIEW ddl.mv_x RENAME TO mv;
SET search_path = ddl, public;
DROP SCHEMA evil CASCADE;

-- DROP EXTENSION leaves no capture trigger, event trigger or schema behind (no CASCADE needed)
SELECT pgview_watch('mv');
DROP EXTENSION pgview_auto;
SELECT count(*) AS capture_triggers FROM pg_trigger WHERE tgname = 'pgview_auto_capture';
SELECT count(*) AS event_triggers FROM pg_event_trigger WHERE evtname LIKE 'pgview_auto%';
SELECT count(*) AS schemas FROM pg_namespace WHERE nspname = 'pgview_auto';
CREATE EXTENSION pgview_auto SCHEMA public;
SELECT pgview_watch('mv');
INSERT INTO b VALUES (8);
SELECT matview, refresh_count FROM pgview_status();

RESET search_path;
DROP SCHEMA ddl, ddl2 CASCADE;
SELECT pgview_unwatch('ddl.mv');          -- the orphan the DROP SCHEMA left
DELETE FROM pgview_auto.refresh_stats;
