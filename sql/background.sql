-- requires: preload
-- Background refresh: modes async and manual, schedules, pgview_wait,
-- pgview_refresh_pending, pgview_reset_stats, and their errors. (The server runs
-- the worker; results here do not depend on its timing.)
CREATE SCHEMA bg;
SET search_path = bg, public;
CREATE TABLE sales (id serial PRIMARY KEY, amount int NOT NULL);
CREATE MATERIALIZED VIEW sales_total AS SELECT count(*) AS n, coalesce(sum(amount), 0) AS total FROM sales;
CREATE UNIQUE INDEX ON sales_total (n);
CREATE VIEW fresh AS
  SELECT (SELECT (n, total) FROM sales_total) = (SELECT (count(*), coalesce(sum(amount), 0)) FROM sales) AS fresh;

-- manual: writers only mark it dirty; pgview_refresh_pending() refreshes
SELECT pgview_watch('sales_total', mode => 'manual');
SELECT matview, source, mode FROM pgview_watches;
INSERT INTO sales (amount) VALUES (10), (20);
SELECT * FROM fresh;
SELECT matview, mode, pending, pending_since IS NOT NULL AS since FROM pgview_status();
SELECT pgview_wait('sales_total', '100 ms');           -- nobody refreshes a manual matview
SELECT pgview_refresh_pending('sales_total');
SELECT * FROM fresh;
SELECT matview, pending, pending_since FROM pgview_status();
SELECT pgview_wait('sales_total', '100 ms');           -- every committed change is in
SELECT pgview_refresh_pending();                       -- nothing left
-- a rolled-back refresh leaves the changes pending
INSERT INTO sales (amount) VALUES (5);
BEGIN;
SELECT pgview_refresh_pending();
ROLLBACK;
SELECT matview, pending FROM pgview_status();
SELECT pgview_refresh_pending();

-- async: the worker refreshes after commit; pgview_wait waits for it
SELECT pgview_watch('sales_total', mode => 'async');
INSERT INTO sales (amount) VALUES (100);
SELECT pgview_wait('sales_total');
SELECT * FROM fresh;
SELECT pgview_watch('sales_total', mode => 'async', debounce => '50 ms', max_delay => '1 second');
SELECT mode, debounce, max_delay FROM pgview_auto.watched;
INSERT INTO sales (amount) VALUES (1);
INSERT INTO sales (amount) VALUES (2);
SELECT pgview_wait('sales_total', '30 seconds');
SELECT * FROM fresh;

-- commit mode, or no watch: nothing to wait for
CREATE MATERIALIZED VIEW sales_max AS SELECT max(amount) AS m FROM sales;
SELECT pgview_wait('sales_max');
SELECT pgview_watch('sales_max');
SELECT pgview_wait('sales_max', '0');

-- schedules
SELECT pgview_schedule('sales_max', '1 hour');
SELECT pgview_schedule('sales_max', '2 hours', only_if_dirty => true);  -- updated
SELECT * FROM pgview_auto.schedule;
SELECT matview, mode, schedule FROM pgview_status() ORDER BY matview::text;
SELECT pgview_unschedule('sales_max');
SELECT pgview_unschedule('sales_max');                  -- NOTICE, false

-- statistics
SELECT refresh_count > 0 AS refreshed FROM pgview_status() WHERE matview = 'sales_total'::regclass;
SELECT pgview_reset_stats('sales_total');
SELECT refresh_count, last_refresh, failures FROM pgview_status() WHERE matview = 'sales_total'::regclass;
SELECT pgview_reset_stats();
SELECT count(*) FROM pgview_auto.refresh_stats;

-- Errors
-- waiting inside a query that also reads the view (no unique index: plain refresh)
CREATE MATERIALIZED VIEW sales_count AS SELECT count(*) AS n FROM sales;
SELECT pgview_watch('sales_count', mode => 'async');
SELECT pgview_wait('sales_count'), (SELECT n FROM sales_count);
\echo :SQLSTATE
SELECT pgview_unwatch('sales_count');
SELECT pgview_watch('sales_total', mode => 'async', debounce => '-1 second');
\echo :SQLSTATE
SELECT pgview_watch('sales_total', mode => 'async', max_delay => '0');
\echo :SQLSTATE
SELECT pgview_watch('sales_total', debounce => '1 second');   -- commit mode has no debounce
\echo :SQLSTATE
SELECT pgview_watch('sales_total', mode => 'manual', max_delay => '1 minute');
\echo :SQLSTATE
SELECT pgview_watch('sales_total', mode => 'async', debounce => NULL);
\echo :SQLSTATE
SELECT pgview_schedule(NULL, '1 hour');
\echo :SQLSTATE
SELECT pgview_schedule('sales_total', NULL);
\echo :SQLSTATE
SELECT pgview_schedule('sales_total', '0');
\echo :SQLSTATE
SELECT pgview_schedule('sales_total', '-5 minutes');
\echo :SQLSTATE
SELECT pgview_schedule('sales', '1 hour');
\echo :SQLSTATE
SELECT pgview_unschedule('fresh');
\echo :SQLSTATE
SELECT pgview_wait(NULL);
\echo :SQLSTATE
SELECT pgview_wait('sales');
\echo :SQLSTATE
SELECT pgview_wait('sales_total', NULL);
\echo :SQLSTATE
SELECT pgview_refresh_pending('sales');
\echo :SQLSTATE
SELECT pgview_reset_stats('sales');
\echo :SQLSTATE
CREATE ROLE regress_pgview_outsider;
GRANT USAGE ON SCHEMA bg TO regress_pgview_outsider;
SET ROLE regress_pgview_outsider;
SELECT pgview_schedule('sales_total', '1 hour');
\echo :SQLSTATE
SELECT pgview_refresh_pending('sales_total');
\echo :SQLSTATE
SELECT pgview_reset_stats('sales_total');
\echo :SQLSTATE
SELECT pgview_refresh_pending();                        -- only its own matviews: none
RESET ROLE;
-- nothing above changed the registry
SELECT matview, mode, "concurrently", on_error FROM pgview_watches ORDER BY matview::text, source::text;

-- clean up
SELECT pgview_unwatch('sales_total'), pgview_unwatch('sales_max');
RESET search_path;
DROP SCHEMA bg CASCADE;
DROP ROLE regress_pgview_outsider;
DELETE FROM pgview_auto.refresh_stats;
