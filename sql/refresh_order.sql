-- pgview_refresh_order with table views (issue 23): table views are ordered with
-- materialized views, dependencies first; a table or plain view passed in
-- stands for what its change makes stale. Only what is not in the dependency
-- catalog (an index, a sequence, a system relation) is an error.
CREATE SCHEMA ro;
SET search_path = ro, public;
CREATE TABLE items (id int PRIMARY KEY, grp int, price int);
INSERT INTO items SELECT g, g % 3, g FROM generate_series(1, 9) g;
-- items <- per_grp (table view) <- grp_report (matview) <- top_grp (table view)
--       <- cheap (view) <- cheap_count (matview)
SELECT pgview_create('per_grp', 'SELECT grp, sum(price) AS total FROM items GROUP BY grp',
                     kind => 'table view', unique_key => ARRAY['grp']);
SELECT pgview_create('grp_report', 'SELECT grp, total * 2 AS doubled FROM per_grp', kind => 'materialized view');
SELECT pgview_create('top_grp', 'SELECT grp, doubled FROM grp_report ORDER BY doubled DESC LIMIT 1',
                     kind => 'table view');
CREATE VIEW cheap AS SELECT * FROM items WHERE price < 5;
CREATE MATERIALIZED VIEW cheap_count AS SELECT count(*) AS n FROM cheap;

SELECT * FROM pgview_refresh_order();
SELECT * FROM pgview_refresh_order(ARRAY['per_grp'::regclass]);
SELECT * FROM pgview_refresh_order(ARRAY['top_grp'::regclass, 'grp_report'::regclass]);
SELECT * FROM pgview_refresh_order(ARRAY['items'::regclass]);
SELECT * FROM pgview_refresh_order(ARRAY['cheap'::regclass]);
-- the order is one a refresh can follow: refreshing in it leaves every view exact
UPDATE items SET price = price + 10 WHERE grp = 1;
SELECT pgview_refresh(matview, cascade => false) FROM pgview_refresh_order(ARRAY['items'::regclass]) ORDER BY position;
SELECT * FROM top_grp;
SELECT n FROM cheap_count;

-- errors: what the catalog does not hold, with its SQLSTATE
SELECT * FROM pgview_refresh_order(ARRAY['items_pkey'::regclass]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgview_refresh_order(ARRAY['per_grp'::regclass, 'pg_class'::regclass]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgview_refresh_order(ARRAY['per_grp'::regclass, NULL]);
\echo :LAST_ERROR_SQLSTATE

SELECT pgview_drop('top_grp');
SELECT pgview_drop('grp_report');
SELECT pgview_drop('per_grp');
RESET search_path;
-- Leave no watch behind (a dropped view's watch would stay as an orphan).
SELECT count(pgview_unwatch(w.matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'ro'::regnamespace)) w;
DROP SCHEMA ro CASCADE;
