-- A view is never silently stale (issue 20): whatever changes a watched view's
-- inputs without passing through capture either refreshes it or shows it stale
-- (pgview_status.uncaptured, a WARNING from pgview_wait); and a table view's
-- rows are its query's: nobody writes them but its refresh.
CREATE SCHEMA ns;
SET search_path = ns, public;
-- Compares a relation with its query (both directions, duplicates counted).
CREATE FUNCTION ns.differs(a regclass, b regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((TABLE %s EXCEPT ALL TABLE %s) UNION ALL (TABLE %s EXCEPT ALL TABLE %s)) d',
                 a, b, b, a) INTO n;
  RETURN n;
END $$;

CREATE TABLE orders (id int PRIMARY KEY, user_id int, amount int);
INSERT INTO orders VALUES (1, 1, 10), (2, 2, 20);
SELECT pgview_create('totals', 'SELECT user_id, sum(amount) AS total FROM ns.orders GROUP BY user_id',
                     kind => 'table view', unique_key => ARRAY['user_id']);
SELECT pgview_watch('totals');

-------------------------------------------------------------------------------
-- 1. Direct writes into a table view are refused (42809); its refresh writes it.
\set VERBOSITY default
INSERT INTO totals VALUES (99, 1);
UPDATE totals SET total = 0;
DELETE FROM totals;
TRUNCATE totals;
\set VERBOSITY terse
INSERT INTO orders VALUES (3, 1, 5);
SELECT * FROM totals ORDER BY user_id;
SELECT pgview_refresh('totals');
SELECT differs('totals', 'pgview_query.totals');

-------------------------------------------------------------------------------
-- 2. ATTACH and DETACH PARTITION change a table's rows without a row passing
-- through capture: what watches it is refreshed (in full) at commit.
CREATE TABLE events (id int, d int, v int) PARTITION BY RANGE (d);
CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (10);
INSERT INTO events VALUES (1, 1, 1), (2, 2, 1);
SELECT pgview_create('per_d', 'SELECT d, count(*) AS n FROM ns.events GROUP BY d',
                     kind => 'table view', unique_key => ARRAY['d']);
SELECT pgview_watch('per_d');
SELECT pgview_refresh('per_d');                -- a watch's first refresh is full: keyed from here
CREATE TABLE events_2 (id int, d int, v int);
INSERT INTO events_2 VALUES (3, 15, 1), (4, 16, 1), (5, 16, 2);
ALTER TABLE events ATTACH PARTITION events_2 FOR VALUES FROM (10) TO (20);
SELECT * FROM per_d ORDER BY d;
SELECT differs('per_d', 'pgview_query.per_d');
ALTER TABLE events DETACH PARTITION events_1;
SELECT * FROM per_d ORDER BY d;
SELECT differs('per_d', 'pgview_query.per_d');

-------------------------------------------------------------------------------
-- 3. REFRESH MATERIALIZED VIEW by hand: what watches the matview follows it.
CREATE MATERIALIZED VIEW per_user AS SELECT user_id, count(*) AS n FROM orders GROUP BY user_id;
SELECT pgview_create('by_count', 'SELECT n, count(*) AS users FROM ns.per_user GROUP BY n',
                     kind => 'table view', unique_key => ARRAY['n']);
SELECT pgview_watch('by_count');
INSERT INTO orders VALUES (4, 2, 1), (5, 3, 1);   -- per_user is not watched: it lags
REFRESH MATERIALIZED VIEW per_user;                -- by hand
SELECT * FROM by_count ORDER BY n;
SELECT differs('by_count', 'pgview_query.by_count');
REFRESH MATERIALIZED VIEW per_user WITH NO DATA;   -- nothing to read: nothing refreshed
REFRESH MATERIALIZED VIEW per_user;

-------------------------------------------------------------------------------
-- 4. A capture trigger dropped by the table's owner, or a watcher who lost
-- TRIGGER: the view shows the table as uncaptured; pgview_wait says so;
-- sync_capture_triggers (not for PUBLIC) puts it back only where the right is
-- held.
CREATE ROLE regress_ns_owner;
CREATE ROLE regress_ns_watcher;
GRANT USAGE, CREATE ON SCHEMA ns TO regress_ns_owner, regress_ns_watcher;
SET ROLE regress_ns_owner;
CREATE TABLE ledger (id int, amount int);
GRANT SELECT, TRIGGER ON ledger TO regress_ns_watcher;
SET ROLE regress_ns_watcher;
CREATE MATERIALIZED VIEW ledger_sum AS SELECT sum(amount) AS total FROM ns.ledger;
SELECT pgview_watch('ledger_sum');
SET ROLE regress_ns_owner;
DROP TRIGGER pgview_auto_capture ON ledger;
RESET ROLE;
SELECT matview, uncaptured FROM pgview_status() WHERE matview = 'ledger_sum'::regclass;
SELECT pgview_wait('ledger_sum', '0');
SET ROLE regress_ns_watcher;
SELECT pgview_auto.sync_capture_triggers();          -- not hers to run
RESET ROLE;
SET ROLE regress_ns_owner;
REVOKE TRIGGER ON ledger FROM regress_ns_watcher;
RESET ROLE;
SELECT pgview_auto.sync_capture_triggers() > 0 AS synced;
SELECT count(*) AS capture_triggers FROM pg_trigger
  WHERE tgrelid = 'ledger'::regclass AND tgname = 'pgview_auto_capture';   -- not put back: she lost the right
SET ROLE regress_ns_owner;
GRANT TRIGGER ON ledger TO regress_ns_watcher;
RESET ROLE;
SELECT pgview_auto.sync_capture_triggers() > 0 AS synced;
SELECT count(*) AS capture_triggers FROM pg_trigger
  WHERE tgrelid = 'ledger'::regclass AND tgname = 'pgview_auto_capture';
SELECT matview, uncaptured FROM pgview_status() WHERE matview = 'ledger_sum'::regclass;
-- disabled counts as missing
SET ROLE regress_ns_owner;
ALTER TABLE ledger DISABLE TRIGGER pgview_auto_capture;
RESET ROLE;
SELECT matview, uncaptured FROM pgview_status() WHERE matview = 'ledger_sum'::regclass;
SET ROLE regress_ns_owner;
ALTER TABLE ledger ENABLE TRIGGER pgview_auto_capture;
RESET ROLE;

-------------------------------------------------------------------------------
-- 5. A user's "no DDL here" event trigger never makes a write fail: REFRESH
-- ... CONCURRENTLY runs DDL (a temporary table), so refreshes at write time are
-- plain while such a trigger exists; concurrently => true is refused naming it.
CREATE VIEW user_counts_q AS SELECT user_id, count(*) AS n FROM orders GROUP BY user_id;
CREATE MATERIALIZED VIEW user_counts AS SELECT * FROM user_counts_q;
CREATE UNIQUE INDEX ON user_counts (user_id);
SELECT pgview_watch('user_counts');
INSERT INTO orders VALUES (6, 1, 1);
SELECT last_concurrently FROM pgview_status() WHERE matview = 'user_counts'::regclass;
CREATE FUNCTION ns.no_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  IF pg_catalog.current_setting('app.migrating', true) IS DISTINCT FROM 'on' THEN
    RAISE EXCEPTION 'no DDL outside migrations (%)', tg_tag;
  END IF;
END $$;
CREATE EVENT TRIGGER regress_no_ddl ON ddl_command_start EXECUTE FUNCTION ns.no_ddl();
INSERT INTO orders VALUES (7, 1, 1), (8, 4, 2);      -- refreshed plainly
UPDATE orders SET amount = amount + 1 WHERE id = 1;
SELECT last_concurrently FROM pgview_status() WHERE matview = 'user_counts'::regclass;
SELECT differs('user_counts', 'user_counts_q');
SET app.migrating = on;
\set VERBOSITY default
SELECT pgview_watch('user_counts', "concurrently" => true);
\set VERBOSITY terse
RESET app.migrating;
DROP EVENT TRIGGER regress_no_ddl;

-------------------------------------------------------------------------------
-- 6. Shapes pgview_create accepts are refreshed: a key whose type's = lives
-- outside pg_catalog (citext) is compared with that type's own equality; a
-- table view without columns, and a key without equality, are refused at
-- create (0.6.0 accepted them, and every refresh failed).
CREATE EXTENSION citext SCHEMA ns;
CREATE TABLE people (id int PRIMARY KEY, name ns.citext);
INSERT INTO people VALUES (1, 'Alice'), (2, 'bob');
SELECT pgview_create('per_name', 'SELECT name, count(*) AS n FROM ns.people GROUP BY name',
                     kind => 'table view', unique_key => ARRAY['name']);
SELECT pgview_watch('per_name');
SELECT pgview_refresh('per_name');
INSERT INTO people VALUES (3, 'ALICE'), (4, 'Bob');        -- keyed: the same keys, by citext's =
UPDATE people SET name = 'carol' WHERE id = 4;
SELECT n FROM per_name ORDER BY name;
SELECT differs('per_name', 'pgview_query.per_name');
SELECT incremental_refreshes > 0 AS keyed FROM pgview_status() WHERE matview = 'per_name'::regclass;
\set VERBOSITY default
SELECT pgview_create('nothing', 'SELECT FROM ns.people WHERE id > 1', kind => 'table view');
SELECT pgview_create('by_point', 'SELECT point(id, id) AS p, count(*) AS n FROM ns.people GROUP BY id',
                     kind => 'table view', unique_key => ARRAY['p']);
\set VERBOSITY terse

-- clean up
RESET search_path;
SELECT pgview_unwatch(matview) FROM (SELECT DISTINCT matview FROM pgview_watches WHERE matview IS NOT NULL) m
  ORDER BY matview::text;
DROP SCHEMA ns CASCADE;
DROP ROLE regress_ns_owner, regress_ns_watcher;
