-- requires: preload
-- pgview_save_dependents / pgview_restore_dependents: for migration tools that
-- run their own DDL in between. Saved as SQL, by name, in an extension table;
-- made again in this or a later transaction with everything they had.
-- (Each error's SQLSTATE is echoed after it.)
-- Needs the background worker (manual mode, schedules): the line "requires:"
-- above has the test command run it on a server with it only.
\set SHOW_CONTEXT never
CREATE ROLE regress_saved_owner;
CREATE ROLE regress_saved_reader;
CREATE SCHEMA sav;
GRANT USAGE, CREATE ON SCHEMA sav TO regress_saved_owner;
GRANT USAGE ON SCHEMA sav TO regress_saved_reader;
SET search_path = sav, public;
CREATE TABLE sav.items (id int PRIMARY KEY, price int NOT NULL, label text);
INSERT INTO sav.items SELECT g, g * 10, 'item ' || g FROM generate_series(1, 5) g;
GRANT SELECT, TRIGGER ON sav.items TO regress_saved_owner;

SET ROLE regress_saved_owner;
CREATE VIEW priced AS SELECT id, price, label FROM items WHERE price > 10;
COMMENT ON VIEW priced IS 'priced items';
GRANT SELECT ON priced TO regress_saved_reader;
CREATE VIEW "Price List" AS SELECT label, price * 2 AS doubled FROM priced;
CREATE MATERIALIZED VIEW price_sum AS SELECT sum(price) AS total, count(*) AS n FROM items;
CREATE UNIQUE INDEX price_sum_n ON price_sum (n);
SELECT pgview_watch('price_sum');
SELECT pgview_schedule('price_sum', '10 minutes', only_if_dirty => false);
SELECT pgview_refresh('price_sum');
SELECT pgview_create('by_label', 'SELECT label, price FROM items', kind => 'table view', unique_key => ARRAY['label']);
SELECT pgview_watch('by_label');
CREATE VIEW labels AS SELECT id, label FROM items;   -- does not read price
RESET ROLE;

CREATE SCHEMA chk;
CREATE FUNCTION chk.name(rel regclass) RETURNS text LANGUAGE sql AS
  $$ SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = rel $$;
CREATE VIEW chk.catalog AS
  WITH rels AS (SELECT c.relname AS rel, c.* FROM pg_class c WHERE c.relnamespace = 'sav'::regnamespace)
  SELECT rel, 'class' AS what, concat_ws(' | ', relkind, pg_get_userbyid(relowner), relacl::text, relispopulated,
                                         obj_description(oid, 'pg_class')) AS item FROM rels
  UNION ALL
  SELECT rel, 'column ' || a.attname, format_type(a.atttypid, a.atttypmod)
  FROM rels JOIN pg_attribute a ON a.attrelid = rels.oid AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT rel, 'definition', pg_get_viewdef(oid) FROM rels WHERE relkind IN ('v', 'm')
  UNION ALL
  SELECT rel, 'index', pg_get_indexdef(x.indexrelid) FROM rels JOIN pg_index x ON x.indrelid = rels.oid
  UNION ALL
  SELECT chk.name(matview), 'watch', concat_ws(' | ', chk.name(source), chk.name(via), mode, orphaned)
  FROM pgview_watches WHERE orphaned LIKE 'sav.%' OR chk.name(matview) LIKE 'sav.%'
  UNION ALL
  SELECT chk.name(matview), 'schedule', concat_ws(' | ', every, only_if_dirty) FROM pgview_auto.schedule
  UNION ALL
  SELECT chk.name(relation), 'table view', concat_ws(' | ', chk.name(definition), unique_key) FROM pgview_auto.table_view;
CREATE TABLE chk.before AS SELECT * FROM chk.catalog;
CREATE FUNCTION chk.changes() RETURNS TABLE (side text, rel text, what text, item text) LANGUAGE sql AS $$
  SELECT * FROM (SELECT '+', * FROM (SELECT * FROM chk.catalog EXCEPT ALL SELECT * FROM chk.before) n
                 UNION ALL
                 SELECT '-', * FROM (SELECT * FROM chk.before EXCEPT ALL SELECT * FROM chk.catalog) b) d
  ORDER BY 2, 3, 1 $$;
CREATE TABLE chk.refreshes AS SELECT matview::text, refresh_count FROM pgview_status();

-- Save what reads price (not labels), then change the column by hand.
SELECT pgview_save_dependents('sav.items', ARRAY['price']);
SELECT relation, kind, owner, table_view, populated, saved_by, batch, "position" FROM pgview_saved_dependents;
SELECT definition FROM pgview_saved_dependents WHERE relation = 'sav."Price List"';
-- They are gone; their watches are kept as orphans (by name), the table view's table stays.
SELECT relname, relkind FROM pg_class WHERE relnamespace = 'sav'::regnamespace AND relkind IN ('v', 'm', 'r') ORDER BY 1;
SELECT matview, source, via, mode, orphaned FROM pgview_watches WHERE orphaned LIKE 'sav.%';
ALTER TABLE sav.items ALTER COLUMN price TYPE bigint;
-- Nothing saved here or elsewhere blocks it; the same relation cannot be saved twice.
SET ROLE regress_saved_owner;
CREATE VIEW priced AS SELECT id, price FROM items;
SELECT pgview_save_dependents('sav.items', ARRAY['price']);
\echo :LAST_ERROR_SQLSTATE
DROP VIEW priced;
RESET ROLE;

-- Made again in a later transaction, with everything they had.
SELECT pgview_restore_dependents();
SELECT * FROM chk.changes();
SELECT count(*) AS still_saved FROM pgview_saved_dependents;
SELECT s.matview, s.refresh_count - b.refresh_count AS more_refreshes
FROM pgview_status() s JOIN chk.refreshes b ON b.matview = s.matview::text ORDER BY s.matview::text COLLATE "C";
INSERT INTO sav.items VALUES (6, 9000000000, 'big');
SELECT * FROM price_sum;
SELECT * FROM by_label WHERE label = 'big';
SET ROLE regress_saved_reader;
SELECT count(*) FROM priced;
RESET ROLE;
-- Nothing saved: nothing to do.
SELECT pgview_restore_dependents();

-- Save and restore in one transaction; everything reading the table (NULL columns).
BEGIN;
SELECT pgview_save_dependents('sav.items');
ALTER TABLE sav.items ALTER COLUMN label TYPE varchar(20);
SELECT pgview_restore_dependents();
COMMIT;
SELECT side, rel, what, item FROM chk.changes() WHERE what LIKE 'column%' ORDER BY rel, what, side;

-- Failures leave the saved state and the database as they were.
TRUNCATE chk.before;
INSERT INTO chk.before SELECT * FROM chk.catalog;
SELECT pgview_save_dependents('sav.items', ARRAY['nope']);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_save_dependents('sav.items', ARRAY[NULL]::name[]);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_save_dependents('sav.items_pkey');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_save_dependents(NULL);
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_saved_reader;
SELECT pgview_save_dependents('sav.items', ARRAY['price']);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- a relation that took a saved one's name: the restore fails, naming it; all stays saved
SELECT pgview_save_dependents('sav.items', ARRAY['price']);
CREATE TABLE sav."Price List" (x int);
SELECT pgview_restore_dependents();
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS still_saved FROM pgview_saved_dependents;
-- a saved view that no longer type-checks after the change
DROP TABLE sav."Price List";
ALTER TABLE sav.items ALTER COLUMN price TYPE text;
SELECT pgview_restore_dependents();
\echo :LAST_ERROR_SQLSTATE
-- restoring another role's views needs membership in it
ALTER TABLE sav.items ALTER COLUMN price TYPE bigint USING price::bigint;
SET ROLE regress_saved_reader;
SELECT pgview_restore_dependents();
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(*) AS still_saved FROM pgview_saved_dependents;
SELECT pgview_restore_dependents();
SELECT * FROM chk.changes();

-- A saved view whose owner role was dropped since: the restore names the role;
-- pgview_discard_saved_dependents gives it up (by its saved name; a superuser, as
-- the role is gone).
CREATE ROLE regress_saved_gone;
CREATE TABLE sav.other (x int);
GRANT USAGE, CREATE ON SCHEMA sav TO regress_saved_gone;
GRANT SELECT ON sav.other TO regress_saved_gone;
SET ROLE regress_saved_gone;
CREATE VIEW sav.gone AS SELECT x FROM sav.other;
RESET ROLE;
SELECT pgview_save_dependents('sav.other', ARRAY['x']);
REVOKE ALL ON SCHEMA sav FROM regress_saved_gone;
REVOKE ALL ON sav.other FROM regress_saved_gone;
DROP ROLE regress_saved_gone;
SELECT pgview_restore_dependents();
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_saved_reader;
SELECT pgview_discard_saved_dependents('sav.gone');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT pgview_discard_saved_dependents('sav.nope');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_discard_saved_dependents('sav.gone');
SELECT pgview_restore_dependents();

DROP SCHEMA sav, chk CASCADE;
SELECT pgview_unwatch(orphaned) FROM pgview_watches WHERE orphaned LIKE 'sav.%' ORDER BY 1;
DROP ROLE regress_saved_owner, regress_saved_reader;
