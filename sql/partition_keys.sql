-- Keys that only partition a table view's rows (issue 22): a table view whose
-- query gives no unique key (a bag, joins without the tables' keys in the
-- select list, outer joins, subqueries and CTEs in FROM) is keyed by plain
-- columns of one thing it reads, chosen so that the most sources' changes map
-- to key values. A key value may repeat: a keyed refresh compares the rows of
-- the changed values whole, as multisets, so bags stay exact. The shapes are
-- those of pg_ivm's regression suite (mv_base_a, mv_base_b) with its kinds of
-- DML; every check compares a view with its query, duplicates included.
CREATE SCHEMA pk;
SET search_path = pk, public;

CREATE FUNCTION differing(view regclass, query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((SELECT t::text FROM %s t EXCEPT ALL SELECT q::text FROM (%s) q)
                  UNION ALL (SELECT q::text FROM (%s) q EXCEPT ALL SELECT t::text FROM %s t)) d',
                 view, query, query, view) INTO n;
  RETURN n;
END $$;

CREATE TABLE mv_base_a (i int, j int);
CREATE TABLE mv_base_b (i int, k int);
CREATE INDEX ON mv_base_a (i);
CREATE INDEX ON mv_base_b (i);
INSERT INTO mv_base_a VALUES (1, 10), (2, 20), (3, 30), (3, 30), (4, 40), (NULL, 50);
INSERT INTO mv_base_b VALUES (1, 101), (2, 102), (2, 102), (3, 103), (5, 105), (NULL, 106);
CREATE VIEW b_view AS SELECT i, k FROM mv_base_b WHERE k > 100;
CREATE TABLE mv_base_c (i int NOT NULL, m int);
INSERT INTO mv_base_c VALUES (1, 1), (2, 9), (3, 3), (3, 4);

-- The shapes, by name.
CREATE TABLE shape (name text PRIMARY KEY, query text NOT NULL);
INSERT INTO shape VALUES
  ('bag',        'SELECT i, j FROM mv_base_a'),
  ('filtered',   'SELECT i, j * 2 AS jj FROM mv_base_a WHERE j > 15'),
  ('inner_on',   'SELECT a.i, a.j, b.k FROM mv_base_a a JOIN mv_base_b b ON a.i = b.i'),
  ('inner_using', 'SELECT i, j, k FROM mv_base_a JOIN mv_base_b USING (i)'),
  ('self_join',  'SELECT x.i, x.j, y.j AS j2 FROM mv_base_a x JOIN mv_base_a y ON x.i = y.i'),
  ('left_join',  'SELECT a.i, a.j, b.k FROM mv_base_a a LEFT JOIN mv_base_b b ON a.i = b.i'),
  ('right_join', 'SELECT a.j, b.i, b.k FROM mv_base_a a RIGHT JOIN mv_base_b b ON a.i = b.i'),
  ('subquery',   'SELECT a.i, a.j FROM mv_base_a a, (SELECT * FROM mv_base_b) b WHERE a.i = b.i'),
  ('cte',        'WITH b AS (SELECT * FROM mv_base_b) SELECT a.i, a.j FROM mv_base_a a, b WHERE a.i = b.i'),
  ('over_view',  'SELECT a.i, a.j, v.k FROM mv_base_a a JOIN b_view v ON v.i = a.i'),
  ('exists_sub', 'SELECT a.i, a.j FROM mv_base_a a WHERE EXISTS (SELECT 1 FROM mv_base_b b WHERE a.i = b.i)'),
  ('not_exists',  'SELECT a.i, a.j FROM mv_base_a a WHERE NOT EXISTS (SELECT 1 FROM mv_base_b b WHERE b.i = a.i AND b.k > 101)'),
  ('in_not_null', 'SELECT i, j FROM mv_base_a WHERE i IN (SELECT i FROM mv_base_c WHERE m < 5)'),
  ('not_in_nullable', 'SELECT i, j FROM mv_base_a WHERE i NOT IN (SELECT i FROM mv_base_b)'),
  ('in_limit',    'SELECT i, j FROM mv_base_a WHERE i IN (SELECT i FROM mv_base_c ORDER BY m, i LIMIT 2)'),
  ('scalar_sub',  'SELECT a.i, a.j, (SELECT max(k) FROM mv_base_b b WHERE b.i = a.i) AS top FROM mv_base_a a'),
  ('full_join',  'SELECT a.j, b.k FROM mv_base_a a FULL JOIN mv_base_b b ON a.i = b.i');

-- Each is created without unique_key; a NOTICE says the key and why it is not unique.
SELECT pgview_create('bag', 'SELECT i, j FROM mv_base_a', kind => 'table view');
SET client_min_messages = warning;
SELECT count(pgview_create(name, query, kind => 'table view')) FROM shape WHERE name <> 'bag';
RESET client_min_messages;
-- The key's index is not unique (a value may repeat).
SELECT indexdef FROM pg_indexes WHERE schemaname = 'pk' AND tablename = 'bag';
-- Which sources are refreshed by key (pgview_explain): all but one side of a
-- FULL JOIN whose rows each side finds only through the other's (row_lookups
-- tests FULL JOINs), the table of NOT IN over a nullable column (one NULL there
-- changes every row) and that of IN over a LIMIT (one row pushes another out
-- of the set); a subquery correlated by an equality (EXISTS, NOT
-- EXISTS, IN over a NOT NULL column, a scalar subquery) maps its table's
-- changes to the key through that equality.
SELECT s.name, e.source, e.refresh, e.strategy, e.view_key
  FROM shape s, LATERAL pgview_explain(s.name::regclass) e ORDER BY 1, 2;
SELECT DISTINCT view_key_from FROM pgview_explain('bag');

-- unique_key => '{}' asks for no key: rows compared whole, refreshed in full.
SELECT pgview_create('bag_whole', 'SELECT i, j FROM mv_base_a', kind => 'table view', unique_key => '{}');
SELECT count(*) AS indexes FROM pg_indexes WHERE schemaname = 'pk' AND tablename = 'bag_whole';
SELECT source, refresh, strategy, view_key FROM pgview_explain('bag_whole');
INSERT INTO shape VALUES ('bag_whole', 'SELECT i, j FROM mv_base_a');

-- Watched at commit: pg_ivm's kinds of DML, duplicates and NULLs included.
SELECT count(*) AS watches FROM (SELECT pgview_watch(name) FROM shape) w;
INSERT INTO mv_base_a VALUES (2, 20), (5, 50), (NULL, 60);          -- a duplicate, a new value, a NULL
INSERT INTO mv_base_b VALUES (4, 104), (1, 111);
UPDATE mv_base_a SET j = j + 1 WHERE i = 3;                           -- both copies
UPDATE mv_base_b SET i = 3 WHERE k = 102;                             -- moves rows between values
DELETE FROM mv_base_a WHERE j = 10;
DELETE FROM mv_base_b WHERE i IS NULL;
BEGIN;
DELETE FROM mv_base_a WHERE i = 2;
SAVEPOINT s;
INSERT INTO mv_base_b VALUES (2, 999);
ROLLBACK TO SAVEPOINT s;
COMMIT;
DELETE FROM mv_base_a WHERE ctid = (SELECT min(ctid) FROM mv_base_a WHERE i = 3);  -- one copy of two
INSERT INTO mv_base_c VALUES (4, 1), (5, 7);
UPDATE mv_base_c SET m = 0 WHERE i = 2;
DELETE FROM mv_base_c WHERE i = 1;
COPY mv_base_b FROM stdin;
3	103
\N	107
\.
SELECT name, differing(name::regclass, query) FROM shape ORDER BY 1;
-- Refreshed by key (keyed recompute), all but those with a source read in full.
SELECT s.name, st.incremental_refreshes > 0 AS keyed
  FROM shape s JOIN pgview_status() st ON st.matview = s.name::regclass ORDER BY 1;
TRUNCATE mv_base_b;
INSERT INTO mv_base_b VALUES (1, 201), (1, 201), (3, 203);
SELECT name, differing(name::regclass, query) FROM shape ORDER BY 1;

-- Mode 'immediate': exact after every statement, inside the writing
-- transaction, and a rollback to a savepoint takes the views' changes back.
SELECT count(pgview_unwatch(matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT name::regclass FROM shape)) w;
SELECT count(*) AS watches FROM (SELECT pgview_watch(name, mode => 'immediate') FROM shape
  WHERE name IN ('bag', 'inner_on', 'left_join', 'subquery', 'self_join')) w;
CREATE FUNCTION check_immediate() RETURNS TABLE (name text, differing bigint) LANGUAGE sql AS $$
  SELECT name, pk.differing(name::regclass, query) FROM pk.shape
  WHERE name IN ('bag', 'inner_on', 'left_join', 'subquery', 'self_join') AND pk.differing(name::regclass, query) <> 0 $$;
BEGIN;
INSERT INTO mv_base_a VALUES (1, 11), (1, 11), (7, 70);
SELECT * FROM check_immediate();
UPDATE mv_base_b SET i = 7 WHERE k = 203;
SELECT * FROM check_immediate();
SAVEPOINT s;
DELETE FROM mv_base_a WHERE i = 1;
SELECT count(*) AS bag_ones FROM bag WHERE i = 1;
ROLLBACK TO SAVEPOINT s;
SELECT count(*) AS bag_ones FROM bag WHERE i = 1;
SELECT * FROM check_immediate();
DELETE FROM mv_base_a WHERE j = 11;
COMMIT;
SELECT * FROM check_immediate();

-- Two roles: the view's owner, and a writer who may only insert into its
-- table. The writer's commit refreshes the partitioned view by key, as the
-- owner (the writer may not read it, nor does the refresh need it to).
CREATE ROLE regress_pk_owner;
CREATE ROLE regress_pk_writer;
GRANT USAGE, CREATE ON SCHEMA pk TO regress_pk_owner;
GRANT USAGE ON SCHEMA pk TO regress_pk_writer;
SET ROLE regress_pk_owner;
CREATE TABLE owned (v int, w int);
GRANT INSERT ON owned TO regress_pk_writer;
SET client_min_messages = warning;
SELECT pgview_create('owned_bag', 'SELECT v, w FROM pk.owned', kind => 'table view');
RESET client_min_messages;
SELECT count(*) > 0 AS watched FROM pgview_watch('owned_bag');
SET ROLE regress_pk_writer;
INSERT INTO owned VALUES (1, 1), (1, 1);   -- a watch's first refresh is full
INSERT INTO owned VALUES (1, 1), (2, 2);   -- by key
SELECT count(*) FROM owned_bag;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT v, w, count(*) AS copies FROM owned_bag GROUP BY v, w ORDER BY v, w;
SELECT pg_get_userbyid(c.relowner) AS owner, s.refresh_count, s.incremental_refreshes
  FROM pgview_status() s JOIN pg_class c ON c.oid = s.matview WHERE s.matview = 'owned_bag'::regclass;

RESET search_path;
SET client_min_messages = warning;
SELECT count(pgview_unwatch(w.matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'pk'::regnamespace)) w;
DROP SCHEMA pk CASCADE;
DROP ROLE regress_pk_owner;
DROP ROLE regress_pk_writer;
