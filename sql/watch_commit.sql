-- Watches and refresh at commit.
CREATE SCHEMA w;
SET search_path = w, public;
CREATE TABLE users (id int PRIMARY KEY, name text);
CREATE TABLE orders (id serial PRIMARY KEY, user_id int, total numeric);
INSERT INTO users VALUES (1, 'ann'), (2, 'bob');
CREATE VIEW paid AS SELECT * FROM orders WHERE total > 0;
CREATE MATERIALIZED VIEW user_stats AS
  SELECT u.id, u.name, count(p.id) AS n, coalesce(sum(p.total), 0) AS spent
  FROM users u LEFT JOIN paid p ON p.user_id = u.id GROUP BY u.id, u.name;
CREATE UNIQUE INDEX ON user_stats (id);
CREATE MATERIALIZED VIEW big_spenders AS SELECT id, name FROM user_stats WHERE spent > 100;

-- a view over both: counts refreshes, shows the data
CREATE VIEW refreshes AS
  SELECT matview, refresh_count, last_concurrently, failures FROM pgview_status() ORDER BY matview::text;

-- Watch everything under user_stats: tables found through the view "paid"
SELECT pgview_watch('user_stats');
-- ("concurrently" is a keyword in PostgreSQL's grammar: quote it)
SELECT matview, source, via, mode, "concurrently", on_error FROM pgview_watches ORDER BY source::text;
SELECT tgrelid::regclass, tgname FROM pg_trigger WHERE tgname = 'pgview_auto_capture' ORDER BY tgrelid::text;

-- One statement: one refresh, and the view is fresh at commit
INSERT INTO orders (user_id, total) VALUES (1, 50);
SELECT * FROM user_stats ORDER BY id;
SELECT * FROM refreshes;

-- Ten statements in one transaction: still one refresh
BEGIN;
INSERT INTO orders (user_id, total) VALUES (1, 1);
INSERT INTO orders (user_id, total) VALUES (1, 1);
INSERT INTO orders (user_id, total) VALUES (1, 1);
INSERT INTO orders (user_id, total) VALUES (1, 1);
INSERT INTO orders (user_id, total) VALUES (1, 1);
UPDATE orders SET total = total + 1 WHERE user_id = 1;
DELETE FROM orders WHERE total = 2 AND id = (SELECT max(id) FROM orders);
INSERT INTO orders (user_id, total) VALUES (2, 10);
INSERT INTO orders (user_id, total) VALUES (2, 10);
UPDATE users SET name = 'Ann' WHERE id = 1;
SELECT refresh_count FROM refreshes WHERE matview = 'user_stats'::regclass;  -- not yet: at commit
COMMIT;
SELECT * FROM user_stats ORDER BY id;
SELECT * FROM refreshes;

-- Rollback: no refresh
BEGIN;
INSERT INTO orders (user_id, total) VALUES (2, 1000);
ROLLBACK;
SELECT * FROM refreshes;

-- A savepoint rolled back keeps its dirt: one refresh too many, never one too few
BEGIN;
SAVEPOINT s;
INSERT INTO orders (user_id, total) VALUES (2, 1000);
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT * FROM refreshes;

-- Reading only: no refresh
SELECT count(*) FROM orders;
SELECT * FROM refreshes;

-- TRUNCATE counts
BEGIN;
TRUNCATE orders;
COMMIT;
SELECT * FROM user_stats ORDER BY id;

-- Watching again is idempotent (options updated, one trigger per table)
SELECT pgview_watch('user_stats', concurrently => false, on_error => 'warn');
SELECT count(*) FROM pg_trigger WHERE tgname = 'pgview_auto_capture';
SELECT DISTINCT matview, "concurrently", on_error FROM pgview_watches;
INSERT INTO orders (user_id, total) VALUES (1, 5);
SELECT matview, last_concurrently FROM refreshes;   -- plain refresh now
SELECT pgview_watch('user_stats');                  -- back to the defaults
INSERT INTO orders (user_id, total) VALUES (1, 5);
SELECT matview, last_concurrently FROM refreshes;   -- auto: CONCURRENTLY (unique index)

-- Cascade: big_spenders watches the matview user_stats, and is refreshed after it
SELECT pgview_watch('big_spenders');
SELECT matview, source, via FROM pgview_watches WHERE matview = 'big_spenders'::regclass;
INSERT INTO orders (user_id, total) VALUES (2, 500);
SELECT * FROM big_spenders;
SELECT (SELECT last_refresh FROM pgview_status() WHERE matview = 'user_stats'::regclass)
     < (SELECT last_refresh FROM pgview_status() WHERE matview = 'big_spenders'::regclass) AS dependency_first;
SELECT matview, refresh_count, last_concurrently FROM refreshes;  -- big_spenders: no unique index, plain
SELECT * FROM pgview_refresh_order(ARRAY['user_stats'::regclass]);

-- pgview_refresh: the same refresher, on demand
SELECT pgview_refresh('user_stats');                      -- and big_spenders, which watches it
SELECT pgview_refresh('user_stats', cascade => false);
SELECT pgview_refresh('user_stats', concurrently => false, cascade => false);
SELECT matview, refresh_count, last_concurrently FROM refreshes;

-- pgview_unwatch(mv, source) stops what pgview_watch(mv, source) started, and no
-- more: users is covered by the watch of everything (NOTICE, 0 removed). Then the
-- whole watches go; capture triggers go when nothing needs them
SELECT pgview_unwatch('user_stats', 'users');
SELECT matview, source FROM pgview_watches ORDER BY matview::text, source::text;
SELECT tgrelid::regclass FROM pg_trigger WHERE tgname = 'pgview_auto_capture' ORDER BY tgrelid::text;
SELECT pgview_unwatch('big_spenders');
SELECT pgview_unwatch('user_stats');
SELECT pgview_unwatch('user_stats');                      -- nothing left: NOTICE, 0
SELECT count(*) FROM pg_trigger WHERE tgname = 'pgview_auto_capture';
INSERT INTO orders (user_id, total) VALUES (1, 1);          -- no longer refreshed
SELECT matview, refresh_count FROM refreshes;

-- Named sources: a table, a view (via), a matview
SELECT pgview_watch('user_stats', 'orders');
SELECT pgview_watch('user_stats', 'paid');
SELECT pgview_watch('big_spenders', 'user_stats');
SELECT matview, source, via FROM pgview_watches ORDER BY matview::text, source::text, via::text;
SELECT pgview_unwatch('user_stats', 'paid');                -- removes what was found through paid
SELECT matview, source, via FROM pgview_watches ORDER BY matview::text, source::text, via::text;
SELECT pgview_unwatch('big_spenders'), pgview_unwatch('user_stats');

-- Partitioned tables: DML through the parent and straight into a partition both count
CREATE TABLE events (at date, n int) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')
  PARTITION BY RANGE (at);
CREATE TABLE events_2026h1 PARTITION OF events_2026 FOR VALUES FROM ('2026-01-01') TO ('2026-07-01');
CREATE MATERIALIZED VIEW event_total AS SELECT coalesce(sum(n), 0) AS total FROM events;
SELECT pgview_watch('event_total');
SELECT tgrelid::regclass FROM pg_trigger WHERE tgname = 'pgview_auto_capture' ORDER BY tgrelid::text;
INSERT INTO events VALUES ('2025-05-05', 1);
INSERT INTO events_2025 VALUES ('2025-06-06', 10);
INSERT INTO events_2026h1 VALUES ('2026-02-02', 100);
SELECT * FROM event_total;
SELECT matview, refresh_count FROM refreshes WHERE matview = 'event_total'::regclass;
SELECT pgview_unwatch('event_total');
SELECT count(*) FROM pg_trigger WHERE tgname = 'pgview_auto_capture';

-- A writer who does not own the matview still gets it refreshed, with the owner's
-- rights and without gaining them
CREATE ROLE regress_pgview_writer;
GRANT USAGE ON SCHEMA w TO regress_pgview_writer;
GRANT INSERT ON orders TO regress_pgview_writer;
GRANT USAGE ON SEQUENCE orders_id_seq TO regress_pgview_writer;
SELECT pgview_watch('user_stats');
SET ROLE regress_pgview_writer;
INSERT INTO orders (user_id, total) VALUES (2, 7);
SELECT count(*) FROM user_stats;  -- no right to read it
RESET ROLE;
SELECT * FROM user_stats ORDER BY id;

-- on_error 'warn': the writer's data is kept, a WARNING says why, the failure is recorded
CREATE TABLE ratios (x int);
INSERT INTO ratios VALUES (1);
CREATE MATERIALIZED VIEW inverse AS SELECT 100 / min(x) AS inv FROM ratios;
SELECT pgview_watch('inverse', on_error => 'warn');
INSERT INTO ratios VALUES (0);
SELECT count(*) FROM ratios;     -- kept
SELECT * FROM inverse;           -- stale
SELECT matview, refresh_count, failures FROM refreshes WHERE matview = 'inverse'::regclass;
SELECT last_error, last_error_at IS NOT NULL AS has_time FROM pgview_status() WHERE matview = 'inverse'::regclass;
DELETE FROM ratios WHERE x = 0;  -- fixed: refreshed again
SELECT * FROM inverse;
SELECT matview, refresh_count, failures FROM refreshes WHERE matview = 'inverse'::regclass;
-- on_error 'error': the writer's transaction fails with the refresh, naming the matview
SELECT pgview_watch('inverse', on_error => 'error');
INSERT INTO ratios VALUES (0);
SELECT count(*) FROM ratios;     -- rolled back

-- (PREPARE TRANSACTION: prepared_transactions, which needs max_prepared_transactions > 0)

-- Errors: SQLSTATE, the object's name, a hint; the registry stays as it was
SELECT matview, source FROM pgview_watches ORDER BY matview::text, source::text;
SELECT pgview_watch(NULL);
\echo :SQLSTATE
SELECT pgview_watch('user_stats', mode => 'sometimes');
\echo :SQLSTATE
SELECT pgview_watch('user_stats', mode => NULL);
\echo :SQLSTATE
SELECT pgview_watch('user_stats', on_error => 'ignore');
\echo :SQLSTATE
SELECT pgview_watch('orders');
\echo :SQLSTATE
SELECT pgview_watch('paid');
\echo :SQLSTATE
SELECT pgview_watch('user_stats', 'orders_pkey');
\echo :SQLSTATE
SELECT pgview_watch('user_stats', 'user_stats');
\echo :SQLSTATE
CREATE MATERIALIZED VIEW constant AS SELECT 1 AS one;
SELECT pgview_watch('constant');
\echo :SQLSTATE
SELECT pgview_watch('big_spenders', concurrently => true);
\echo :SQLSTATE
SELECT pgview_watch('big_spenders', 'user_stats');
SELECT pgview_watch('user_stats', 'big_spenders');   -- a cycle of refreshes
\echo :SQLSTATE
SELECT pgview_refresh('big_spenders', concurrently => true);
\echo :SQLSTATE
SELECT pgview_refresh('user_stats', cascade => NULL);
\echo :SQLSTATE
SELECT pgview_refresh('orders');
\echo :SQLSTATE
SELECT pgview_unwatch(NULL);
\echo :SQLSTATE
-- not the owner: 42501
SET ROLE regress_pgview_writer;
SELECT pgview_watch('user_stats');
\echo :SQLSTATE
SELECT pgview_unwatch('user_stats');
\echo :SQLSTATE
SELECT pgview_refresh('user_stats');
\echo :SQLSTATE
RESET ROLE;
-- owner of the matview, but no TRIGGER privilege on the table: 42501
CREATE ROLE regress_pgview_analyst;
GRANT USAGE, CREATE ON SCHEMA w TO regress_pgview_analyst;
GRANT SELECT ON orders TO regress_pgview_analyst;
SET ROLE regress_pgview_analyst;
CREATE MATERIALIZED VIEW my_count AS SELECT count(*) AS n FROM orders;
SELECT pgview_watch('my_count');
\echo :SQLSTATE
RESET ROLE;
GRANT TRIGGER ON orders TO regress_pgview_analyst;
SET ROLE regress_pgview_analyst;
SELECT pgview_watch('my_count');
RESET ROLE;
-- a trigger of that name that is not ours
SELECT pgview_unwatch('inverse');
CREATE FUNCTION not_ours() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER pgview_auto_capture AFTER INSERT ON ratios FOR EACH STATEMENT EXECUTE FUNCTION not_ours();
SELECT pgview_watch('inverse', on_error => 'warn');
\echo :SQLSTATE
DROP TRIGGER pgview_auto_capture ON ratios;
-- the registry is as it was before the errors (plus my_count)
SELECT matview, source FROM pgview_watches ORDER BY matview::text, source::text;

-- clean up
SELECT pgview_unwatch(matview) FROM (SELECT DISTINCT matview FROM pgview_watches) m ORDER BY matview::text;
SELECT count(*) FROM pg_trigger WHERE tgname = 'pgview_auto_capture';
RESET search_path;
DROP SCHEMA w CASCADE;
DROP ROLE regress_pgview_writer;
DROP OWNED BY regress_pgview_analyst;
DROP ROLE regress_pgview_analyst;
DELETE FROM pgview_auto.refresh_stats;
