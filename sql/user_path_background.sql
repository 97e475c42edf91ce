-- requires: preload
-- A new user's path through schedules, pgview_watches and DROP EXTENSION
-- (issue 14): nothing silent, messages that fit the cause.
-- Needs the background worker (manual mode, schedules): the line "requires:"
-- above has the test command run it on a server with it only.
\set SHOW_CONTEXT never
CREATE SCHEMA upb;
SET search_path = upb, public;
CREATE TABLE sales (id serial PRIMARY KEY, amount int NOT NULL);
CREATE MATERIALIZED VIEW sales_total AS SELECT count(*) AS n, coalesce(sum(amount), 0) AS total FROM sales;
CREATE UNIQUE INDEX ON sales_total (n);
-- polls a condition for up to 20 seconds (the background worker runs on its own time)
CREATE FUNCTION eventually(cond text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE ok boolean;
BEGIN
  FOR i IN 1 .. 200 LOOP
    EXECUTE cond INTO ok;
    IF ok THEN RETURN true; END IF;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN false;
END $$;

-- 8. only_if_dirty (the default) on a matview nothing watches: nothing ever marks
--    it dirty, so the schedule would never refresh it. A NOTICE says so, at
--    pgview_schedule and when pgview_unwatch leaves such a schedule behind.
SELECT pgview_schedule('sales_total', '5 minutes');
SELECT pgview_schedule('sales_total', '5 minutes', only_if_dirty => false);   -- refreshes at every run: fine
SELECT pgview_watch('sales_total', mode => 'manual');
SELECT pgview_schedule('sales_total', '5 minutes');                           -- writes mark it: fine
SELECT pgview_unwatch('sales_total');
SELECT pgview_watch('sales_total', mode => 'manual');

-- 12. pgview_watches shows debounce and max_delay (async only)
SELECT matview, mode, debounce, max_delay FROM pgview_watches;
SELECT pgview_watch('sales_total', mode => 'async', debounce => '2 seconds', max_delay => '1 minute');
SELECT matview, source, mode, debounce, max_delay, orphaned FROM pgview_watches;
SELECT pgview_watch('sales_total', mode => 'manual');

-- 12. pgview_unschedule: no next refresh stays planned
SELECT eventually($$SELECT next_refresh IS NOT NULL FROM pgview_status() WHERE matview = 'sales_total'::regclass$$)
  AS planned;
SELECT pgview_unschedule('sales_total');
SELECT next_refresh, schedule FROM pgview_status() WHERE matview = 'sales_total'::regclass;
SELECT pg_sleep(1.5);   -- a pass of the worker (naptime 1s) plans nothing again
SELECT next_refresh, schedule FROM pgview_status() WHERE matview = 'sales_total'::regclass;
SELECT pgview_unwatch('sales_total');

-- 10. PREPARE TRANSACTION with concurrently => true: the hint fits the cause
--     (the unique index exists; a prepared transaction cannot refresh concurrently)
SELECT pgview_watch('sales_total', concurrently => true);
BEGIN;
INSERT INTO sales (amount) VALUES (1);
PREPARE TRANSACTION 'pgview_user_path';
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS prepared FROM pg_prepared_xacts WHERE gid = 'pgview_user_path';
SELECT count(*) AS rows FROM sales;
SELECT pgview_unwatch('sales_total');

-- 13. DROP EXTENSION says which table views stay behind as plain tables
SELECT pgview_create('sales_by_amount', 'SELECT amount, count(*) AS n FROM sales GROUP BY amount',
                     kind => 'table view', unique_key => ARRAY['amount']);
DROP EXTENSION pgview_auto;
SELECT relnamespace::regnamespace AS schema, relname, relkind FROM pg_class
  WHERE relname LIKE 'sales_by_amount%' ORDER BY relnamespace::regnamespace::text, relname;
CREATE EXTENSION pgview_auto SCHEMA public;
DROP EXTENSION pgview_auto;      -- no table views: nothing to say
CREATE EXTENSION pgview_auto SCHEMA public;

RESET search_path;
DROP SCHEMA upb CASCADE;
-- The definition went with its table; DROP EXTENSION now also takes the
-- schema pgview_query, empty, with it (the next table view makes it again).
SELECT count(*) AS left_in_pgview_query FROM pg_class WHERE relnamespace = 'pgview_query'::regnamespace;
DROP EXTENSION pgview_auto;
SELECT count(*) AS pgview_query_schemas FROM pg_namespace WHERE nspname = 'pgview_query';
CREATE EXTENSION pgview_auto SCHEMA public;
