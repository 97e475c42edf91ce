-- A new user's path through pgview_create and the dependency catalog (issue 14):
-- every argument checked before anything is created, table views whose columns
-- cannot drift, clear errors for relations the catalog leaves out.
\set SHOW_CONTEXT never
CREATE SCHEMA upc;
SET search_path = upc, public;
CREATE TABLE orders (id serial PRIMARY KEY, day date NOT NULL, amount numeric(10,2) NOT NULL);
INSERT INTO orders (day, amount) SELECT DATE '2025-01-01' + g % 3, g FROM generate_series(1, 9) g;
CREATE VIEW relations AS
  SELECT relname, relkind FROM pg_class WHERE relnamespace = 'upc'::regnamespace AND relkind IN ('r', 'v', 'm', 'i')
  ORDER BY relname;

-- 5. unique_key names a column the query does not give: 42703 before anything
--    is created (no matview created and filled, then an error from CREATE INDEX)
SELECT pgview_create('daily', 'SELECT day, sum(amount) AS total FROM orders GROUP BY day',
                     kind => 'materialized view', unique_key => ARRAY['zz']);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('daily_tv', 'SELECT day, sum(amount) AS total FROM orders GROUP BY day',
                     kind => 'table view', unique_key => ARRAY['day', 'Total']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM relations;
-- names are matched as they are given (quoted identifiers keep their case)
SELECT pgview_create('daily', 'SELECT day AS "Day", sum(amount) AS total FROM orders GROUP BY day',
                     kind => 'materialized view', unique_key => ARRAY['Day']);
-- or_replace checks the key before the old matview is dropped
SELECT pgview_create('daily', 'SELECT day, sum(amount) AS total FROM orders GROUP BY day',
                     kind => 'materialized view', or_replace => true, unique_key => ARRAY['Day']);
\echo :LAST_ERROR_SQLSTATE
SELECT attname FROM pg_attribute WHERE attrelid = 'daily'::regclass AND attnum > 0 ORDER BY attnum;

-- 3. a table view's new query must give the table's columns, names and types
--    in order: refused (42P16) before anything changes, the old query stays
SELECT pgview_create('per_day', 'SELECT day, sum(amount) AS total FROM orders GROUP BY day',
                     kind => 'table view', unique_key => ARRAY['day']);
SELECT pgview_create('per_day', 'SELECT day, sum(amount) AS total, count(*) AS n FROM orders GROUP BY day',
                     kind => 'table view', or_replace => true);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('per_day', 'SELECT day, count(*) AS total FROM orders GROUP BY day',
                     kind => 'table view', or_replace => true);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('per_day', 'SELECT day, sum(amount) AS sum FROM orders GROUP BY day',
                     kind => 'table view', or_replace => true);
\echo :LAST_ERROR_SQLSTATE
SELECT pg_get_viewdef('pgview_query.per_day');
-- the same columns: accepted, applied by a refresh
SELECT pgview_create('per_day', 'SELECT day, sum(amount) AS total FROM orders WHERE amount > 3 GROUP BY day',
                     kind => 'table view', or_replace => true);
SELECT * FROM per_day ORDER BY day;

-- 12. a table view created without data is not populated until its first refresh
SELECT pgview_create('per_day_empty', 'SELECT day, count(*) AS n FROM orders GROUP BY day',
                     kind => 'table view', with_data => false);
SELECT view, kind, populated FROM pgview_views('upc') ORDER BY view::text;
SELECT pgview_refresh('per_day_empty');
SELECT view, populated FROM pgview_views('upc') WHERE view = 'per_day_empty'::regclass;
-- or_replace without data keeps it as it was; a watched one is populated by the
-- refresh at its source's next commit
SELECT pgview_create('per_day_later', 'SELECT day, count(*) AS n FROM orders GROUP BY day',
                     kind => 'table view', with_data => false);
SELECT pgview_create('per_day_later', 'SELECT day, count(*) AS n FROM orders WHERE day > DATE ''2025-01-01'' GROUP BY day',
                     kind => 'table view', or_replace => true, with_data => false);
SELECT populated FROM pgview_views('upc') WHERE view = 'per_day_later'::regclass;
SELECT pgview_watch('per_day_later');
INSERT INTO orders (day, amount) VALUES ('2025-01-03', 1);
SELECT populated FROM pgview_views('upc') WHERE view = 'per_day_later'::regclass;
SELECT * FROM per_day_later ORDER BY day;
SELECT pgview_unwatch('per_day_later');

-- 4. relations the dependency catalog leaves out: a clear error naming them
--    (a table view's definition view; the extension's own tables and views)
SELECT * FROM pgview_dependencies('pgview_query.per_day');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgview_dependents('pgview_query.per_day');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_watch('daily', 'pgview_query.per_day');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgview_dependents('pgview_auto.watch');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgview_dependencies('pgview_watches');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgview_refresh_order(ARRAY['pgview_auto.schedule'::regclass]);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_watch('daily', 'pgview_auto.watched');
\echo :LAST_ERROR_SQLSTATE
-- the table view itself stands for its definition
SELECT relation, kind, depth FROM pgview_dependencies('per_day');

-- 6. the catalog as the caller's transaction sees it: its own new view is there
BEGIN;
CREATE VIEW big AS SELECT * FROM orders WHERE amount > 5;
SELECT relation, kind, depth FROM pgview_dependents('orders') ORDER BY relation::text;
ROLLBACK;
SELECT relation, kind, depth FROM pgview_dependents('orders') ORDER BY relation::text;
SELECT count(*) AS watches FROM pgview_watches;

RESET search_path;
DROP SCHEMA upc CASCADE;
DELETE FROM pgview_auto.refresh_stats;
