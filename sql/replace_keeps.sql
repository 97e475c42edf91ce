-- requires: preload
-- What the user made and what was counted survives or_replace, pgview_alter and
-- save/restore (issue 23): index comments, refresh statistics, the counts of
-- incremental refreshes and keys.
CREATE SCHEMA rk;
SET search_path = rk, public;
CREATE TABLE orders (id int PRIMARY KEY, customer int NOT NULL, amount int, note text);
INSERT INTO orders SELECT g, g % 3, g, 'n' FROM generate_series(1, 9) g;
SET pgview_auto.delta = off;  -- keyed recomputes: counted in key_lock
-- a matview: index comment, statistics
SELECT pgview_create('totals', 'SELECT customer, sum(amount) AS total FROM orders GROUP BY customer',
                     kind => 'materialized view', unique_key => ARRAY['customer']);
CREATE INDEX totals_total ON totals (total);
COMMENT ON INDEX totals_total IS 'for the dashboard';
SELECT pgview_watch('totals');
INSERT INTO orders VALUES (10, 1, 10, 'n');
INSERT INTO orders VALUES (11, 2, 11, 'n');
-- a table view: keyed refreshes
SELECT pgview_create('per_customer', 'SELECT customer, count(*) AS n, sum(amount) AS total FROM orders GROUP BY customer',
                     kind => 'table view', unique_key => ARRAY['customer']);
SELECT pgview_watch('per_customer');
UPDATE orders SET amount = amount + 1 WHERE id = 1;
UPDATE orders SET amount = amount + 1 WHERE id IN (2, 3);
CREATE VIEW counts AS
  SELECT matview::text, refresh_count, failures, incremental_refreshes, keys_refreshed, last_refresh IS NOT NULL AS refreshed
  FROM pgview_status() WHERE matview::text IN ('totals', 'per_customer') ORDER BY 1;
SELECT * FROM counts;

SELECT pgview_create('totals', 'SELECT customer, sum(amount) AS total FROM orders WHERE amount > 0 GROUP BY customer',
                     kind => 'materialized view', or_replace => true);
SELECT obj_description('totals_total'::regclass, 'pg_class');
SELECT * FROM counts;

SELECT * FROM pgview_alter('ALTER TABLE orders ALTER COLUMN amount TYPE bigint');
SELECT obj_description('totals_total'::regclass, 'pg_class');
SELECT * FROM counts;

SELECT pgview_save_dependents('orders', ARRAY['amount']);
ALTER TABLE orders ALTER COLUMN amount TYPE numeric;
SELECT pgview_restore_dependents();
SELECT obj_description('totals_total'::regclass, 'pg_class');
SELECT * FROM counts;
UPDATE orders SET amount = amount + 1 WHERE id = 4;
SELECT * FROM counts;

SELECT pgview_unwatch('totals'), pgview_unwatch('per_customer');
RESET pgview_auto.delta;
RESET search_path;
-- Leave no watch behind (a dropped view's watch would stay as an orphan).
SELECT count(pgview_unwatch(w.matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'rk'::regnamespace)) w;
DROP SCHEMA rk CASCADE;
