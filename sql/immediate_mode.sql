-- Mode 'immediate' (issue 22): a table view maintained at the end of each
-- writing statement, inside the writer's transaction: the writer reads its own
-- writes, and a rollback (of the transaction or of a savepoint) takes the
-- view's changes with the statement's. Every check compares the view with its
-- query, inside the writing transaction and after it.
CREATE SCHEMA im;
SET search_path = im, public;

CREATE FUNCTION differing(view regclass, query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((SELECT t::text FROM %s t EXCEPT ALL SELECT q::text FROM (%s) q)
                  UNION ALL (SELECT q::text FROM (%s) q EXCEPT ALL SELECT t::text FROM %s t)) d',
                 view, query, query, view) INTO n;
  RETURN n;
END $$;

CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders (id serial PRIMARY KEY, user_id int NOT NULL, total numeric(10,2) NOT NULL);
CREATE INDEX ON orders (user_id);
INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 5) g;
INSERT INTO orders (user_id, total) SELECT 1 + g % 5, g FROM generate_series(1, 20) g;
-- Delta arithmetic (group keys and invertible aggregates over one table).
SELECT pgview_create('per_user', 'SELECT user_id, count(*) AS n, sum(total) AS total FROM orders GROUP BY user_id',
                     kind => 'table view', unique_key => ARRAY['user_id']);
-- Keyed recompute (max has no inverse; a join).
SELECT pgview_create('largest', $$SELECT u.name, max(o.total) AS largest FROM orders o JOIN users u ON u.id = o.user_id
                     GROUP BY u.name$$, kind => 'table view', unique_key => ARRAY['name']);
-- Full (no key, as unique_key => '{}' asks; sql/partition_keys has the key
-- such a bag gets by default): a bag.
SELECT pgview_create('totals', 'SELECT total FROM orders WHERE total > 15', kind => 'table view',
                     unique_key => '{}');
SELECT pgview_watch('per_user', mode => 'immediate'), pgview_watch('largest', mode => 'immediate'),
       pgview_watch('totals', mode => 'immediate');
SELECT matview, mode FROM pgview_status() ORDER BY 1;

CREATE FUNCTION check_all() RETURNS TABLE (per_user bigint, largest bigint, totals bigint) LANGUAGE sql AS $$
  SELECT differing('im.per_user', 'SELECT user_id, count(*) AS n, sum(total) AS total FROM im.orders GROUP BY user_id'),
         differing('im.largest', 'SELECT u.name, max(o.total) AS largest FROM im.orders o JOIN im.users u ON u.id = o.user_id GROUP BY u.name'),
         differing('im.totals', 'SELECT total FROM im.orders WHERE total > 15') $$;

-- Inside the writing transaction, after each statement.
BEGIN;
INSERT INTO orders (user_id, total) VALUES (1, 100), (6 - 5, 1.5);
SELECT n, total FROM per_user WHERE user_id = 1;
SELECT * FROM check_all();
UPDATE orders SET total = total + 50 WHERE id % 4 = 0;
SELECT * FROM check_all();
DELETE FROM orders WHERE user_id = 2;
SELECT * FROM check_all();
SAVEPOINT s;
INSERT INTO orders (user_id, total) VALUES (3, 999);
SELECT largest FROM largest WHERE name = 'u3';
ROLLBACK TO SAVEPOINT s;
SELECT largest FROM largest WHERE name = 'u3';
SELECT * FROM check_all();
UPDATE users SET name = 'renamed' WHERE id = 4;
SELECT * FROM check_all();
COMMIT;
SELECT * FROM check_all();
-- A rolled-back transaction leaves the view as it was.
BEGIN;
DELETE FROM orders;
SELECT count(*) FROM per_user;
ROLLBACK;
SELECT count(*) FROM per_user;
SELECT * FROM check_all();
-- COPY and TRUNCATE end statements too.
COPY orders (user_id, total) FROM stdin;
5	20.5
5	30
\.
SELECT * FROM check_all();
BEGIN;
TRUNCATE orders;
SELECT count(*) AS per_user_rows FROM per_user;
SELECT * FROM check_all();
ROLLBACK;
-- A function writing in a loop: each of its statements ends with the view exact.
DO $$
BEGIN
  FOR i IN 1..3 LOOP
    INSERT INTO im.orders (user_id, total) VALUES (i, i * 10);
    IF (SELECT n FROM im.per_user WHERE user_id = i) IS DISTINCT FROM
       (SELECT count(*) FROM im.orders WHERE user_id = i) THEN
      RAISE EXCEPTION 'per_user is behind for user %', i;
    END IF;
  END LOOP;
END $$;
SELECT * FROM check_all();
-- Recorded as refreshes (pgview_maintenance() has them by strategy, with shared_preload_libraries).
SELECT matview, refresh_count > 0 AS refreshed FROM pgview_status() ORDER BY 1;

-- A materialized view cannot be immediate: convert it into a table view.
CREATE MATERIALIZED VIEW mv AS SELECT user_id, count(*) AS n FROM orders GROUP BY user_id;
SELECT pgview_watch('mv', mode => 'immediate');
\echo :SQLSTATE
SELECT pgview_watch('per_user', mode => 'sometimes');
\echo :SQLSTATE
SELECT count(*) AS mv_watches FROM pgview_status() WHERE matview = 'im.mv'::regclass;

RESET search_path;
SET client_min_messages = warning;
SELECT pgview_unwatch(v) FROM unnest(ARRAY['im.per_user', 'im.largest', 'im.totals']::regclass[]) v;
-- Leave no watch behind (a dropped view's watch would stay as an orphan).
SELECT count(pgview_unwatch(w.matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'im'::regnamespace)) w;
DROP SCHEMA im CASCADE;
