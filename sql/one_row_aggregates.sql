-- requires: preload
-- Aggregates without GROUP BY (issue 22): a table view of one row, keyed by
-- the empty key (every change is to that row). Its count(*), count(x), sums of
-- integers and numeric(p, s), averages beside them and insert-only min/max
-- follow each change by delta arithmetic (an UPDATE of the one row); what
-- delta cannot keep exactly (float sums, min/max after a delete, joins, HAVING)
-- is recomputed. Every check compares a view with its query. Needs shared
-- memory for the figures per strategy (the line "requires:" above).
CREATE SCHEMA one;
SET search_path = one, public;

CREATE FUNCTION differing(view regclass, query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((SELECT t::text FROM %s t EXCEPT ALL SELECT q::text FROM (%s) q)
                  UNION ALL (SELECT q::text FROM (%s) q EXCEPT ALL SELECT t::text FROM %s t)) d',
                 view, query, query, view) INTO n;
  RETURN n;
END $$;

CREATE TABLE t (id int PRIMARY KEY, g int, x int NOT NULL, y numeric(10,2), f float8);
CREATE TABLE s (id int PRIMARY KEY, t_id int, v int NOT NULL);
INSERT INTO t SELECT i, i % 3, i, CASE WHEN i % 4 = 0 THEN NULL ELSE i * 1.5 END, i / 10.0
  FROM generate_series(1, 20) i;
INSERT INTO s SELECT i, i % 20 + 1, i FROM generate_series(1, 10) i;

CREATE TABLE shape (name text PRIMARY KEY, query text NOT NULL);
INSERT INTO shape VALUES
  ('totals',       'SELECT count(*) AS n, sum(x) AS sx, count(y) AS cy, sum(y) AS sy, avg(y) AS ay FROM t'),
  ('filtered',     'SELECT count(*) AS n, coalesce(sum(x), 0) AS sx FROM t WHERE g > 0'),
  ('extremes',     'SELECT min(x) AS lo, max(x) AS hi, count(*) AS n FROM t'),
  ('float_sum',    'SELECT sum(f) AS sf, count(*) AS n FROM t'),
  ('sum_alone',    'SELECT sum(y) AS sy FROM t'),
  ('joined',       'SELECT count(*) AS n, sum(s.v) AS sv FROM t JOIN s ON s.t_id = t.id'),
  ('having',       'SELECT count(*) AS n FROM t HAVING count(*) > 18');

-- Created without unique_key: the NOTICE says the key is empty.
SELECT pgview_create('totals', query, kind => 'table view') FROM shape WHERE name = 'totals';
SET client_min_messages = warning;
SELECT count(pgview_create(name, query, kind => 'table view')) FROM shape WHERE name <> 'totals';
RESET client_min_messages;
SELECT * FROM totals;
-- No index: the table has one row.
SELECT count(*) AS indexes FROM pg_indexes i JOIN shape s ON s.name = i.tablename WHERE i.schemaname = 'one';
SELECT s.name, e.source, e.refresh, e.strategy, e.view_key, e.strategy_reason
  FROM shape s, LATERAL pgview_explain(s.name::regclass) e ORDER BY 1, 2;
SELECT DISTINCT view_key_from FROM pgview_explain('totals');

-- Watched at commit: inserts, updates, deletes, a rolled back savepoint, COPY.
SELECT count(*) AS watches FROM (SELECT pgview_watch(name) FROM shape) w;
INSERT INTO t VALUES (21, 1, 21, 3.25, 0.1);   -- a watch's first refresh is full
INSERT INTO t VALUES (22, 2, 22, NULL, 0.2), (23, 0, 23, 7.50, 0.3);
UPDATE t SET x = x + 100, y = y * 2 WHERE id % 5 = 0;
UPDATE t SET g = 0 WHERE id = 4;
DELETE FROM t WHERE id IN (1, 2);
BEGIN;
INSERT INTO t VALUES (24, 1, 1000, 1.00, 1.5);
SAVEPOINT sp;
DELETE FROM t WHERE id > 10;
ROLLBACK TO SAVEPOINT sp;
COMMIT;
COPY t FROM stdin;
25	2	-5	-2.50	2.5
26	1	6	\N	\N
\.
INSERT INTO s VALUES (11, 3, 11);
SELECT name, differing(name::regclass, query) FROM shape ORDER BY 1;
-- The one row's arithmetic: delta refreshes for the shapes that keep deltas
-- (each watch's first refresh is a full difference, as are the others').
SELECT s.name, m.strategy FROM shape s JOIN pgview_maintenance() m ON m.matview = s.name::regclass
  WHERE m.refreshes > 0 ORDER BY 1, 2;
SELECT * FROM totals;

-- Every row goes: counts 0, sums NULL (coalesce's 0), avg NULL; then back.
DELETE FROM t;
SELECT name, differing(name::regclass, query) FROM shape ORDER BY 1;
SELECT * FROM totals;
SELECT * FROM filtered;
INSERT INTO t VALUES (1, 1, 5, 2.50, 0.5);
SELECT * FROM totals;
TRUNCATE t;
INSERT INTO t VALUES (2, 2, 7, NULL, NULL);
SELECT name, differing(name::regclass, query) FROM shape ORDER BY 1;

-- Mode 'immediate': the row follows each statement inside the transaction.
SELECT pgview_unwatch('totals');
SELECT pgview_watch('totals', mode => 'immediate');
BEGIN;
INSERT INTO t SELECT i, i % 3, i, i * 0.25, NULL FROM generate_series(10, 14) i;
SELECT n, sx, cy, sy FROM totals;
SAVEPOINT sp;
DELETE FROM t WHERE id >= 12;
SELECT n, sx, cy, sy FROM totals;
ROLLBACK TO SAVEPOINT sp;
SELECT n, sx, cy, sy FROM totals;
COMMIT;
SELECT differing('totals', query) FROM shape WHERE name = 'totals';

RESET search_path;
SET client_min_messages = warning;
SELECT count(pgview_unwatch(w.matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'one'::regnamespace)) w;
DROP SCHEMA one CASCADE;
