-- requires: preload
-- pgview_activity (issue 24): the refreshes running now, seen from shared
-- memory. A materialized view that reads pgview_activity sees its own refresh
-- running (any backend's is there alike: test/t/018_activity.pl shows one from
-- another session); every role may read it.
CREATE ROLE regress_act_owner;
CREATE ROLE regress_act_reader;
CREATE ROLE regress_act_other;
CREATE SCHEMA act AUTHORIZATION regress_act_owner;
GRANT USAGE ON SCHEMA act TO regress_act_reader;
SET ROLE regress_act_owner;
CREATE TABLE act.t (k int PRIMARY KEY, v int);
CREATE MATERIALIZED VIEW act.me AS
  SELECT a.kind, a.matview::text AS matview, a.mode, a.origin, a.strategy, a.state, a.pid = pg_backend_pid() AS mine,
         a.started <= clock_timestamp() AS started
  FROM public.pgview_activity a WHERE a.kind = 'refresh' AND a.matview::text = 'act.me' WITH NO DATA;
GRANT SELECT ON act.me TO regress_act_reader;
SELECT pgview_watch('act.me', 'act.t');
INSERT INTO act.t VALUES (1, 1);
SELECT * FROM act.me;
SELECT pgview_refresh('act.me');
SELECT * FROM act.me;
RESET ROLE;
-- Nothing runs now; each role reads the view alike.
SET ROLE regress_act_owner;
SELECT count(*) FROM pgview_activity WHERE kind = 'refresh';
SET ROLE regress_act_reader;
SELECT count(*) FROM pgview_activity WHERE kind = 'refresh';
SET ROLE regress_act_other;
SELECT count(*) FROM pgview_activity WHERE kind = 'refresh';
SELECT count(*) FROM pgview_auto.running_refreshes();
RESET ROLE;
-- Columns.
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'pgview_activity'::regclass AND attnum > 0 ORDER BY attnum;
-- Leave no watch behind (a dropped view's watch would stay as an orphan).
SELECT count(pgview_unwatch(w.matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'act'::regnamespace)) w;
DROP SCHEMA act CASCADE;
DROP ROLE regress_act_owner, regress_act_reader, regress_act_other;
