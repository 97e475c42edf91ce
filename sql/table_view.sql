-- Table views: a table kept equal to a query by differential refresh.
\set SHOW_CONTEXT never
CREATE SCHEMA tv;
SET search_path = tv, public;
CREATE TABLE src (id int PRIMARY KEY, grp int, val numeric, note text);
INSERT INTO src SELECT g, g % 5, g, 'n' || g FROM generate_series(1, 50) g;
-- differing rows between a relation and a query: 0 means equal as multisets
CREATE FUNCTION differing(rel regclass, query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((TABLE %s EXCEPT ALL %s) UNION ALL (%s EXCEPT ALL TABLE %s)) d',
                 rel, query, query, rel) INTO n;
  RETURN n;
END $$;

-- with a unique key, and without (rows compared whole, duplicates kept)
SELECT pgview_create('per_grp', 'SELECT grp, count(*) AS n, sum(val) AS total FROM src GROUP BY grp',
                     kind => 'table view', unique_key => ARRAY['grp']);
SELECT pgview_create('tv.notes', 'SELECT grp, left(note, 2) AS prefix FROM src WHERE id <= 12',
                     kind => 'table view', options => ARRAY['fillfactor=80']);
SELECT relation, definition, unique_key FROM pgview_auto.table_view ORDER BY relation::text;
SELECT relkind, reloptions, relreplident FROM pg_class WHERE oid = 'notes'::regclass;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'per_grp'::regclass;
SELECT differing('per_grp', 'SELECT grp, count(*), sum(val) FROM src GROUP BY grp'),
       differing('notes', 'SELECT grp, left(note, 2) FROM src WHERE id <= 12');

-- a refresh writes only what changed: row triggers on the table view show it
-- (a refresh runs with search_path = pg_catalog, pg_temp: the function sets its own)
CREATE TABLE changes (op text, grp int);
CREATE FUNCTION log_change() RETURNS trigger LANGUAGE plpgsql SET search_path = tv AS $$
BEGIN INSERT INTO changes VALUES (TG_OP, coalesce(NEW.grp, OLD.grp)); RETURN NULL; END $$;
CREATE TRIGGER per_grp_changes AFTER INSERT OR UPDATE OR DELETE ON per_grp
  FOR EACH ROW EXECUTE FUNCTION log_change();
CREATE TRIGGER notes_changes AFTER INSERT OR UPDATE OR DELETE ON notes
  FOR EACH ROW EXECUTE FUNCTION log_change();
UPDATE src SET val = val + 1 WHERE id = 1;        -- grp 1 changes
DELETE FROM src WHERE grp = 4;                   -- grp 4 goes
INSERT INTO src VALUES (100, 7, 1, 'new');       -- grp 7 comes
SELECT pgview_refresh('per_grp');
SELECT * FROM changes ORDER BY op, grp;
SELECT differing('per_grp', 'SELECT grp, count(*), sum(val) FROM src GROUP BY grp');
-- nothing changed: nothing written
TRUNCATE changes;
SELECT pgview_refresh('per_grp');
SELECT count(*) FROM changes;
-- without a key: a changed row is a DELETE and an INSERT; the rows of grp 4
-- deleted above go; duplicate rows (ids 1 and 11 both give (1, 'n1')) stay two
INSERT INTO src VALUES (101, 1, 0, 'n1');   -- not in the query (id > 12)
UPDATE src SET note = 'x2' WHERE id = 2;
SELECT pgview_refresh('notes');
SELECT * FROM changes ORDER BY op, grp;
SELECT differing('notes', 'SELECT grp, left(note, 2) FROM src WHERE id <= 12');
SELECT grp, prefix, count(*) FROM notes GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 1, 2;

-- statistics, the dependency catalog, pgview_views
SELECT matview, refresh_count, last_concurrently FROM pgview_status() WHERE matview::text IN ('per_grp', 'notes') ORDER BY matview::text;
SELECT dependent, dependent_kind, referenced, referenced_kind FROM pgview_deps() WHERE dependent::text IN ('per_grp', 'notes') ORDER BY dependent::text, referenced::text;
SELECT relation, kind, depth FROM pgview_dependencies('per_grp');
SELECT relation, kind FROM pgview_dependents('src') ORDER BY relation::text;
SELECT view, kind, populated, concurrent_refresh_ok, dependencies FROM pgview_views('tv') ORDER BY view::text;

-- watched: refreshed at commit; a matview over it cascades through its capture trigger
SELECT pgview_watch('per_grp');
CREATE MATERIALIZED VIEW grand_total AS SELECT sum(total) AS total FROM per_grp;
SELECT pgview_watch('grand_total');
SELECT matview, source FROM pgview_watches WHERE matview::text IN ('per_grp', 'grand_total') ORDER BY matview::text, source::text;
INSERT INTO src VALUES (102, 2, 1000, 'big');
SELECT total FROM per_grp WHERE grp = 2;
SELECT total = (SELECT sum(val) FROM src) AS grand_total_fresh FROM grand_total;
BEGIN;
INSERT INTO src VALUES (103, 2, 1, 'rolled back');
ROLLBACK;
SELECT differing('per_grp', 'SELECT grp, count(*), sum(val) FROM src GROUP BY grp');

-- or_replace: a new query for the same columns, applied as a difference
TRUNCATE changes;
SELECT pgview_create('per_grp', 'SELECT grp, count(*) AS n, sum(val) AS total FROM src WHERE grp <> 0 GROUP BY grp',
                     kind => 'table view', or_replace => true);
SELECT * FROM changes ORDER BY op, grp;
SELECT pgview_create('per_grp', 'SELECT grp, count(*) AS n FROM src GROUP BY grp', kind => 'table view', or_replace => true);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('per_grp', 'SELECT grp, 1 AS n, 2 AS total, 3 AS extra FROM src', kind => 'table view', or_replace => true);
\echo :LAST_ERROR_SQLSTATE
-- if_not_exists, and names taken
SELECT pgview_create('per_grp', 'SELECT 1', kind => 'table view', if_not_exists => true);
SELECT pgview_create('src', 'SELECT 1', kind => 'table view', if_not_exists => true);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('src', 'SELECT 1', kind => 'table view', or_replace => true);
\echo :LAST_ERROR_SQLSTATE
-- a table view's query goes to pgview_query under the table's name, or the
-- next free one (a squatter there takes nothing from the user)
CREATE VIEW pgview_query.taken AS SELECT 1;
SELECT pgview_create('taken', 'SELECT 1 AS a', kind => 'table view');
SELECT definition FROM pgview_auto.table_view WHERE relation = 'taken'::regclass;
SELECT pgview_drop('taken');
DROP VIEW pgview_query.taken;
SELECT pgview_create('bad_key', 'SELECT 1 AS a', kind => 'table view', unique_key => ARRAY['b']);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('bad_opt', 'SELECT 1 AS a', kind => 'table view', options => ARRAY['check_option=local']);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM pg_class WHERE relname IN ('taken', 'taken_2', 'bad_key', 'bad_opt');
-- a key the query gives twice is an error, as for REFRESH ... CONCURRENTLY; the table is kept
CREATE TABLE dup (k int, v text, f float8);
INSERT INTO dup VALUES (1, 'a', 0.3), (2, 'b', 0.3);
SELECT pgview_create('dup_tv', 'SELECT k, v FROM dup', kind => 'table view', unique_key => ARRAY['k']);
INSERT INTO dup VALUES (2, 'c', 0.3);
SELECT pgview_refresh('dup_tv');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM dup_tv;
-- rows compare exactly whatever the session's extra_float_digits
SELECT pgview_create('float_tv', 'SELECT k, f FROM dup', kind => 'table view');
SET extra_float_digits = 0;
UPDATE dup SET f = 0.1::float8 + 0.2::float8 WHERE k = 1;
SELECT pgview_refresh('float_tv');
RESET extra_float_digits;
SELECT count(*) FROM float_tv WHERE f = 0.1::float8 + 0.2::float8;

-- only the owner refreshes or replaces a table view
CREATE ROLE pgview_tv_stranger;
GRANT USAGE ON SCHEMA tv TO pgview_tv_stranger;
SET ROLE pgview_tv_stranger;
SELECT pgview_refresh('float_tv');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('float_tv', 'SELECT k, f FROM dup', kind => 'table view', or_replace => true);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP OWNED BY pgview_tv_stranger;
DROP ROLE pgview_tv_stranger;

-- a plain table is not a table view
SELECT pgview_refresh('src');
\echo :LAST_ERROR_SQLSTATE

-- concurrently: a table view's refresh never blocks readers, so true is accepted
-- (a matview without a unique index refuses it); messages name the table view
SELECT pgview_create('tv_conc', 'SELECT k, v FROM dup', kind => 'table view');
SELECT pgview_watch('tv_conc', concurrently => true);
SELECT matview, mode, "concurrently" FROM pgview_watches WHERE matview::text = 'tv_conc';
SELECT pgview_refresh('tv_conc', concurrently => true);
SELECT pgview_unwatch('tv_conc');
SELECT pgview_unwatch('tv_conc');
SELECT pgview_unschedule('tv_conc');
-- a watched table view dropped and created again (a migration) gets its watch back,
-- options and all; its schedule goes with it
SELECT pgview_watch('tv_conc', concurrently => false, on_error => 'warn');
-- (written directly: pgview_schedule needs the background worker, this DDL does not)
INSERT INTO pgview_auto.schedule VALUES ('tv_conc', '1 hour');
DROP TABLE tv_conc;  -- (pgview_drop would take the watch with it)
SELECT orphaned, mode, "concurrently", on_error FROM pgview_watches WHERE orphaned::text = 'tv.tv_conc';
SELECT pgview_create('tv_conc', 'SELECT k, v || ''!'' AS v FROM dup', kind => 'table view');
SELECT matview, source, mode, "concurrently", on_error, orphaned FROM pgview_watches WHERE matview::text = 'tv_conc';
INSERT INTO dup VALUES (3, 'd', 0.5);
SELECT * FROM tv_conc ORDER BY k, v;
SELECT count(*) AS schedules FROM pgview_auto.schedule WHERE matview::text = 'tv_conc';
-- and a watched matview replaced by a table view of its name keeps its watch too
CREATE MATERIALIZED VIEW mv_to_tv AS SELECT k FROM dup;
SELECT pgview_watch('mv_to_tv');
DROP MATERIALIZED VIEW mv_to_tv;
SELECT pgview_create('mv_to_tv', 'SELECT k, v FROM dup', kind => 'table view');
INSERT INTO dup VALUES (4, 'e', 0.5);
SELECT differing('mv_to_tv', 'SELECT k, v FROM dup');
SELECT pgview_unwatch('tv_conc');
SELECT pgview_unwatch('mv_to_tv');
SELECT pgview_drop('tv_conc'), pgview_drop('mv_to_tv');

-- pgview_drop takes the definition with the table; dropping the definition alone
-- leaves a plain table
SELECT pgview_drop('notes');
SELECT relname FROM pg_class WHERE relname LIKE 'notes%';
SELECT pgview_unwatch('per_grp');
DROP VIEW pgview_query.per_grp CASCADE;
SELECT count(*) FROM pgview_auto.table_view;
SELECT pgview_refresh('per_grp');
\echo :LAST_ERROR_SQLSTATE

DROP SCHEMA tv CASCADE;
SELECT pgview_unwatch(orphaned) FROM pgview_watches WHERE orphaned::text LIKE 'tv.%' ORDER BY 1;
