-- requires: preload
-- pgview_drop of a watched view takes its watch, schedule and statistics with it
-- (issue 23): nothing is left orphaned, and a view made again under that name
-- is not watched. A plain DROP still keeps the watch as an orphan (a migration
-- that drops and recreates a view gets its watch back).
CREATE SCHEMA dw;
SET search_path = dw, public;
CREATE TABLE orders (id int PRIMARY KEY, customer int, amount int);
INSERT INTO orders SELECT g, g % 4, g FROM generate_series(1, 20) g;
SELECT pgview_create('per_customer', 'SELECT customer, sum(amount) AS total FROM orders GROUP BY customer',
                     kind => 'materialized view', unique_key => ARRAY['customer']);
SELECT pgview_watch('per_customer');
SELECT pgview_schedule('per_customer', '1 hour');
SELECT pgview_refresh('per_customer');
SELECT matview, source, orphaned FROM pgview_watches WHERE source = 'orders'::regclass OR orphaned LIKE 'dw.%';
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND tgname LIKE 'pgview_auto%';

SELECT pgview_drop('per_customer');
SELECT count(*) FROM pgview_watches WHERE source = 'orders'::regclass OR orphaned LIKE 'dw.%';
SELECT count(*) FROM pgview_auto.schedule s WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = s.matview);
SELECT count(*) FROM pgview_auto.refresh_stats s WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = s.matview);
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND tgname LIKE 'pgview_auto%';
-- made again: not watched
SELECT pgview_create('per_customer', 'SELECT customer, sum(amount) AS total FROM orders GROUP BY customer',
                     kind => 'materialized view');
SELECT count(*) FROM pgview_watches WHERE matview = 'per_customer'::regclass;

-- a table view, and what CASCADE drops with the view it names
SELECT pgview_create('big', 'SELECT * FROM orders WHERE amount > 10', kind => 'view');
SELECT pgview_create('big_count', 'SELECT count(*) AS n FROM orders WHERE amount > 10', kind => 'table view');
SELECT pgview_create('big_sum', 'SELECT sum(amount) AS s FROM big', kind => 'materialized view');
SELECT pgview_watch('big_count');
SELECT pgview_watch('big_sum');
SELECT pgview_watch('per_customer');
SELECT pgview_drop('big_count');
SELECT pgview_drop('big', "cascade" => true);
SELECT matview, source, orphaned FROM pgview_watches WHERE source = 'orders'::regclass OR orphaned LIKE 'dw.%';

-- a plain DROP keeps the orphan, as before
DROP MATERIALIZED VIEW per_customer;
SELECT matview, source, orphaned FROM pgview_watches WHERE source = 'orders'::regclass OR orphaned LIKE 'dw.%';
SELECT pgview_unwatch('dw.per_customer');

-- pgview_drop's own errors are unchanged
SELECT pgview_drop('orders');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_drop('no_such_view');
\echo :LAST_ERROR_SQLSTATE

RESET search_path;
-- Leave no watch behind (a dropped view's watch would stay as an orphan).
SELECT count(pgview_unwatch(w.matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'dw'::regnamespace)) w;
DROP SCHEMA dw CASCADE;
