-- requires: preload
-- What a NOTICE tells is also in pgview_events (issue 23): most drivers drop
-- NOTICEs. Events belong to their transaction; a role sees those of the
-- commands it ran and of the views it owns; the newest 1000 are kept.
CREATE ROLE regress_ev_app;
CREATE ROLE regress_ev_other;
CREATE SCHEMA ev;
GRANT USAGE, CREATE ON SCHEMA ev TO regress_ev_app, regress_ev_other;
SET search_path = ev, public;
CREATE TABLE orders (id int PRIMARY KEY, customer int, amount int);
INSERT INTO orders SELECT g, g % 3, g FROM generate_series(1, 9) g;
GRANT SELECT, TRIGGER ON orders TO regress_ev_app;
CREATE VIEW events AS
  SELECT event, relation, message, detail IS NOT NULL AS has_detail, hint IS NOT NULL AS has_hint, role, owner
  FROM pgview_events WHERE relation LIKE 'ev.%' ORDER BY id;
GRANT SELECT ON events TO PUBLIC;

-- a watched matview dropped (orphaned), made again (restored), a schedule, pgview_drop
SET ROLE regress_ev_app;
SELECT pgview_create('ev.totals', 'SELECT customer, sum(amount) AS total FROM ev.orders GROUP BY customer',
                     kind => 'materialized view');
SELECT pgview_watch('ev.totals');
SELECT pgview_schedule('ev.totals', '1 hour');
DROP MATERIALIZED VIEW ev.totals;
CREATE MATERIALIZED VIEW ev.totals AS SELECT customer, sum(amount) AS total FROM ev.orders GROUP BY customer;
CREATE UNIQUE INDEX totals_customer ON ev.totals (customer);
COMMENT ON INDEX ev.totals_customer IS 'one row per customer';
-- or_replace that cannot keep an index (its column is gone)
SELECT pgview_create('ev.totals', 'SELECT sum(amount) AS total FROM ev.orders', kind => 'materialized view',
                     or_replace => true);
SELECT pgview_drop('ev.totals');
RESET ROLE;
SELECT * FROM events;

-- a source dropped: the watch on it goes
CREATE VIEW big AS SELECT * FROM orders WHERE amount > 3;
SELECT pgview_create('big_total', 'SELECT sum(amount) AS total FROM big', kind => 'materialized view');
ALTER MATERIALIZED VIEW big_total OWNER TO regress_ev_app;
SELECT pgview_watch('big_total', 'big');
DROP VIEW big CASCADE;

-- the application's role sees what it ran and what it owns; another role neither
SET ROLE regress_ev_app;
SELECT event, relation, role, owner FROM events;
SET ROLE regress_ev_other;
SELECT count(*) FROM events;
RESET ROLE;

-- a rollback takes its events back
BEGIN;
CREATE MATERIALIZED VIEW rolled AS SELECT 1 AS one FROM orders;
SELECT pgview_watch('rolled');
SELECT pgview_drop('rolled');
SELECT count(*) FROM pgview_events WHERE relation = 'ev.rolled';
ROLLBACK;
SELECT count(*) FROM pgview_events WHERE relation = 'ev.rolled';

-- a fallback to a full refresh: pgview_status says why (pgview_maintenance per strategy)
SET pgview_auto.delta = off;
SELECT pgview_create('per_customer', 'SELECT customer, count(*) AS n FROM orders GROUP BY customer',
                     kind => 'table view', unique_key => ARRAY['customer']);
SELECT pgview_watch('per_customer');
UPDATE orders SET amount = amount + 1 WHERE id = 1;
SELECT last_strategy, last_strategy_reason FROM pgview_status() WHERE matview = 'per_customer'::regclass;
UPDATE orders SET amount = amount + 1 WHERE id = 1;
SELECT last_strategy, last_strategy_reason FROM pgview_status() WHERE matview = 'per_customer'::regclass;
SET pgview_auto.max_keys = 1;
UPDATE orders SET customer = customer + 1 WHERE id IN (1, 2);
SELECT last_strategy, last_strategy_reason FROM pgview_status() WHERE matview = 'per_customer'::regclass;
SELECT strategy, refreshes, last_reason IS NOT NULL AS has_reason FROM pgview_maintenance()
WHERE matview = 'per_customer'::regclass ORDER BY strategy;
RESET pgview_auto.max_keys;
RESET pgview_auto.delta;
SELECT pgview_unwatch('per_customer');

-- bounded: the newest 1000 are kept
CREATE MATERIALIZED VIEW churn AS SELECT 1 AS one FROM orders;
SET client_min_messages = warning;
DO $$
BEGIN
  FOR i IN 1..1100 LOOP
    PERFORM pgview_schedule('ev.churn', '1 hour', only_if_dirty => true);  -- not watched: an idle schedule
    PERFORM pgview_unschedule('ev.churn');
  END LOOP;
END $$;
RESET client_min_messages;
SELECT count(*) AS kept, max(id) - min(id) < 1000 AS newest FROM pgview_auto.event;
SELECT event, count(*) > 0 AS seen FROM pgview_events WHERE relation = 'ev.churn' GROUP BY event;

RESET search_path;
-- Leave no watch behind (a dropped view's watch would stay as an orphan).
SELECT count(pgview_unwatch(w.matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'ev'::regnamespace)) w;
DROP SCHEMA ev CASCADE;
SELECT count(pgview_unwatch(orphaned)) AS orphans_removed FROM pgview_watches WHERE orphaned LIKE 'ev.%';
DROP OWNED BY regress_ev_app, regress_ev_other;
DROP ROLE regress_ev_app;
DROP ROLE regress_ev_other;
