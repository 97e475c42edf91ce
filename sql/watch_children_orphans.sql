-- Writers missed and orphans misplaced (issue 11, item 9).
CREATE ROLE regress_wr_owner;
CREATE ROLE regress_wr_watcher;
CREATE SCHEMA wr AUTHORIZATION regress_wr_owner;
GRANT USAGE, CREATE ON SCHEMA wr TO regress_wr_watcher;
SET search_path = wr, public;

-------------------------------------------------------------------------------
-- Inheritance children (INHERITS) of a watched table are captured: writes
-- into a child show in the parent's rows, so they refresh its watchers.
SET ROLE regress_wr_owner;
CREATE TABLE events (n int);
CREATE TABLE events_a () INHERITS (events);
CREATE MATERIALIZED VIEW event_sum AS SELECT coalesce(sum(n), 0) AS total FROM events;
SELECT pgview_watch('event_sum');
INSERT INTO events_a VALUES (1);                 -- straight into the child
SELECT total FROM event_sum;
-- a child created later, or attached with ALTER TABLE ... INHERIT, is captured too
CREATE TABLE events_b () INHERITS (events);
INSERT INTO events_b VALUES (10);
CREATE TABLE events_c (n int);
ALTER TABLE events_c INHERIT events;
INSERT INTO events_c VALUES (100);
SELECT total FROM event_sum;
SELECT tgrelid::regclass AS captured FROM pg_trigger WHERE tgname = 'pgview_auto_capture' ORDER BY tgrelid::regclass::text;
-- NO INHERIT: no longer captured (its trigger goes, the lock being free)
ALTER TABLE events_c NO INHERIT events;
SELECT tgrelid::regclass AS captured FROM pg_trigger WHERE tgname = 'pgview_auto_capture' ORDER BY tgrelid::regclass::text;
INSERT INTO events_c VALUES (1000);              -- not under events any more: no refresh needed
SELECT total, refresh_count FROM event_sum, pgview_status() WHERE matview = 'event_sum'::regclass;
-- PostgreSQL clones a parent's row triggers onto partitions, never onto
-- inheritance children: a child is captured for another role's watch only if
-- that role may put a trigger on the child too.
GRANT SELECT, TRIGGER ON events TO regress_wr_watcher;
SET ROLE regress_wr_watcher;
CREATE MATERIALIZED VIEW her_sum AS SELECT coalesce(sum(n), 0) AS total FROM events;
SELECT pgview_watch('her_sum');                  -- events_a, events_b: no TRIGGER for her
\echo :SQLSTATE
SET ROLE regress_wr_owner;
GRANT TRIGGER ON events_a, events_b TO regress_wr_watcher;
SET ROLE regress_wr_watcher;
SELECT pgview_watch('her_sum');
SET ROLE regress_wr_owner;
INSERT INTO events_a VALUES (2);                 -- a child she may trigger: both are refreshed
CREATE TABLE events_d () INHERITS (events);      -- the owner's new child: she may not trigger it
INSERT INTO events_d VALUES (5);                 -- refreshes his event_sum, not her her_sum
RESET ROLE;
SELECT (SELECT total FROM event_sum) AS his, (SELECT total FROM her_sum) AS hers;
SELECT matview, refresh_count FROM pgview_status() WHERE matview IN ('event_sum'::regclass, 'her_sum'::regclass) ORDER BY 1;
SELECT pgview_unwatch('her_sum'), pgview_unwatch('event_sum');
SELECT count(*) AS capture_triggers FROM pg_trigger WHERE tgname = 'pgview_auto_capture';

-------------------------------------------------------------------------------
-- ALTER SCHEMA ... RENAME: orphaned watches (and the sources they asked for
-- by name) follow the schema's new name, and come back under it.
SET ROLE regress_wr_owner;
CREATE TABLE orders (amount int);
CREATE MATERIALIZED VIEW order_sum AS SELECT coalesce(sum(amount), 0) AS total FROM orders;
SELECT pgview_watch('order_sum', 'orders');
DROP MATERIALIZED VIEW order_sum;
RESET ROLE;
ALTER SCHEMA wr RENAME TO wr2;
SET search_path = wr2, public;
SELECT orphaned FROM pgview_watches WHERE orphaned IS NOT NULL;
SELECT matview_name, requested_names FROM pgview_auto.watched WHERE matview IS NULL;
SET ROLE regress_wr_owner;
CREATE MATERIALIZED VIEW order_sum AS SELECT coalesce(sum(amount), 0) AS total FROM orders;
INSERT INTO orders VALUES (7);
SELECT total FROM order_sum;
SELECT matview, source FROM pgview_watches WHERE matview IS NOT NULL;
RESET ROLE;
ALTER SCHEMA wr2 RENAME TO wr;
SET search_path = wr, public;

-------------------------------------------------------------------------------
-- pgview_unwatch('name') of an orphan resolves the name as a relation name:
-- schema.name, or the first schema of the search_path that has such an orphan
-- (0.5.0 removed every orphan of that name, in every schema).
CREATE SCHEMA wr_other AUTHORIZATION regress_wr_owner;
SET ROLE regress_wr_owner;
CREATE TABLE wr_other.orders (amount int);
CREATE MATERIALIZED VIEW wr_other.order_sum AS SELECT coalesce(sum(amount), 0) AS total FROM wr_other.orders;
SELECT pgview_watch('wr_other.order_sum');
DROP MATERIALIZED VIEW wr_other.order_sum;
DROP MATERIALIZED VIEW order_sum;
SELECT orphaned FROM pgview_watches WHERE orphaned IS NOT NULL ORDER BY 1;
SELECT pgview_unwatch('order_sum');              -- wr is first on the search_path
SELECT orphaned FROM pgview_watches WHERE orphaned IS NOT NULL ORDER BY 1;
SELECT pgview_unwatch('order_sum');              -- none left on the search_path
\echo :SQLSTATE
SELECT pgview_unwatch('wr_other.order_sum');
SELECT count(*) AS orphans FROM pgview_watches WHERE orphaned IS NOT NULL;
RESET ROLE;
DROP SCHEMA wr_other CASCADE;

-------------------------------------------------------------------------------
-- pgview_drop drops nothing in a system schema.
SELECT pgview_drop('pg_catalog.pg_tables');
\echo :SQLSTATE
SELECT pgview_drop('information_schema.tables');
\echo :SQLSTATE
SELECT count(*) AS still_there FROM pg_views WHERE viewname IN ('pg_tables', 'tables');

-- PUBLIC reads the watches and which tables are table views.
SET ROLE regress_wr_watcher;
SELECT count(*) >= 0 AS readable FROM pgview_watches;
SELECT count(*) >= 0 AS readable FROM pgview_auto.table_view;
RESET ROLE;

-------------------------------------------------------------------------------
-- A table view with deferrable constraints is refreshed at commit and by
-- pgview_refresh (0.5.0: "cannot fire deferred trigger within
-- security-restricted operation"): they are checked at the end of the refresh.
SET ROLE regress_wr_owner;
CREATE TABLE parents (id int PRIMARY KEY);
INSERT INTO parents VALUES (1), (2);
CREATE TABLE kids (k int, parent int);
INSERT INTO kids VALUES (1, 1);
SELECT pgview_create('kid_view', 'SELECT k, parent FROM kids', kind => 'table view', unique_key => ARRAY['k']);
ALTER TABLE kid_view ADD CONSTRAINT kid_view_k UNIQUE (k) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE kid_view ADD CONSTRAINT kid_view_parent FOREIGN KEY (parent) REFERENCES parents
  DEFERRABLE INITIALLY DEFERRED;
SELECT pgview_watch('kid_view');
INSERT INTO kids VALUES (2, 2);                  -- at commit
SELECT * FROM kid_view ORDER BY k;
UPDATE kids SET k = 3 WHERE k = 2;
SELECT pgview_refresh('kid_view');               -- on demand
SELECT * FROM kid_view ORDER BY k;
-- a violation is an error of the refresh (at the end of its statement)
INSERT INTO kids VALUES (4, 99);
\echo :SQLSTATE
SELECT * FROM kid_view ORDER BY k;
SELECT pgview_unwatch('kid_view');
RESET ROLE;

-- clean up
RESET search_path;
DROP SCHEMA wr CASCADE;
DROP ROLE regress_wr_owner, regress_wr_watcher;
