-- Keys found by looking changed values up in the view's own rows (issue 22):
-- FULL JOINs, outer joins whose nullable side holds the key, cross joins and
-- correlated subqueries whose key needs more than the correlation column.
-- A change's effect is bounded by equalities with the changed row (rows made
-- from it carry its columns; a preserved row whose NULL extension it flips
-- equals it through the ON equality); the keys of the view's rows that
-- satisfy them, before (the table view) and after (its query), are
-- recomputed. Every check compares a view with its query, as multisets,
-- after each commit and, in mode immediate, after each statement.
CREATE SCHEMA rl;
SET search_path = rl, public;

CREATE FUNCTION differing(view regclass, query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((SELECT t::text FROM %s t EXCEPT ALL SELECT q::text FROM (%s) q)
                  UNION ALL (SELECT q::text FROM (%s) q EXCEPT ALL SELECT t::text FROM %s t)) d',
                 view, query, query, view) INTO n;
  RETURN n;
END $$;

CREATE TABLE r (i int, x text);
CREATE TABLE s (i int, j int);
CREATE TABLE t (j int);
CREATE TABLE a (i int, j int);
CREATE TABLE c (i int NOT NULL);
INSERT INTO r VALUES (1, 'a'), (2, 'b'), (3, 'c'), (3, 'c'), (NULL, 'n');
INSERT INTO s VALUES (1, 10), (2, 20), (2, 21), (4, 40), (NULL, 50);
INSERT INTO t VALUES (10), (20), (20), (60), (NULL);
INSERT INTO a VALUES (1, 1), (2, 5), (2, 5), (4, 2), (NULL, 3);
INSERT INTO c VALUES (1), (2);

CREATE TABLE shape (name text PRIMARY KEY, query text NOT NULL);
INSERT INTO shape VALUES
  ('full_rs',         'SELECT r.i AS ri, r.x, s.i AS si, s.j AS sj FROM r FULL JOIN s ON r.i = s.i'),
  ('full_full',       'SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM r FULL JOIN s ON r.i = s.i FULL JOIN t ON s.j = t.j'),
  ('full_distinct',   'SELECT DISTINCT r.i AS ri, s.j AS sj FROM r FULL JOIN s ON r.i = s.i'),
  ('full_where',      'SELECT r.i AS ri, s.i AS si, s.j AS sj FROM r FULL JOIN s ON r.i = s.i WHERE s.j > 15 OR s.j IS NULL'),
  ('full_self',       'SELECT r1.x AS x1, r2.x AS x2, r1.i AS i1, r2.i AS i2 FROM r r1 FULL JOIN r r2 ON r1.i = r2.i'),
  ('full_subquery',   'SELECT q.i AS qi, s.i AS si, s.j AS sj FROM (SELECT i FROM r WHERE x <> ''n'') q FULL JOIN s ON q.i = s.i'),
  ('left_nullable',   'SELECT s.j AS sj, r.x FROM r LEFT JOIN s ON r.i = s.i'),
  ('left_then_full',  'SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM r LEFT JOIN s ON r.i = s.i FULL JOIN t ON s.j = t.j'),
  ('cross',           'SELECT a.i AS ai, t.j AS tj FROM a, t'),
  ('cross_filtered',  'SELECT a.i AS ai, a.j AS aj, t.j AS tj FROM a CROSS JOIN t WHERE a.j * 10 < t.j'),
  ('cross_under_left', 'SELECT r.i AS ri, s.i AS si, t.j AS tj FROM r LEFT JOIN (s CROSS JOIN t) ON r.i = s.i'),
  ('exists_distinct', 'SELECT DISTINCT a.i, a.j FROM a WHERE EXISTS (SELECT 1 FROM s WHERE s.i = a.i)'),
  ('in_where',        'SELECT a.i, a.j FROM a WHERE a.i IN (SELECT i FROM c)'),
  ('not_in_nullable', 'SELECT a.i, a.j FROM a WHERE a.i NOT IN (SELECT i FROM c)'),
  ('in_select',       'SELECT a.i, a.j, a.i IN (SELECT i FROM c) AS in_c FROM a'),
  ('full_cycle',      'SELECT r.x, s.j AS sj FROM r FULL JOIN s ON r.i = s.i');

SET client_min_messages = warning;
SELECT count(pgview_create(name, query, kind => 'table view')) FROM shape;
RESET client_min_messages;
-- How each source is refreshed. By lookup: every source of the FULL JOINs,
-- the cross joins and the subqueries. Where the rows a change flips equal it
-- only through another table (full_distinct: r's row flips s's rows of its i,
-- which the view shows by s.j; left_then_full: r's row brings s's rows into the
-- LEFT JOIN and flips t's rows of their j), the lookup reads that table's
-- values (s.j of s's rows where s.i = r.i); a cross join on an outer join's
-- nullable side (cross_under_left: t emptied flips every r row that some s
-- row matches) reads all of them. In full:
--  * full_cycle's r: its lookup would read s, whose own lookup reads r (each
--    would need the other's rows as they were before its own changes);
--  * not_in_nullable's and in_select's c: for a NULL a.i, NOT IN and a
--    select list tell an empty c from a non-empty one (NULL IN (...) is NULL or
--    false), which no changed value of c names.
SELECT s.name, e.source, e.refresh, e.strategy, e.view_key
  FROM shape s, LATERAL pgview_explain(s.name::regclass) e ORDER BY 1, 2::text;
SELECT DISTINCT source, key_from FROM pgview_explain('full_full') ORDER BY 1;
SELECT DISTINCT source, key_from FROM pgview_explain('left_then_full') ORDER BY 1;
SELECT DISTINCT source, key_from FROM pgview_explain('cross_under_left') WHERE source = 't'::regclass;
SELECT DISTINCT source, reason FROM pgview_explain('full_cycle') WHERE refresh = 'full';
SELECT DISTINCT source, reason FROM pgview_explain('not_in_nullable') WHERE refresh = 'full';

-- Watched at commit; pg_ivm's kinds of DML, duplicates and NULL join values.
CREATE FUNCTION check_all() RETURNS TABLE (name text, differing bigint) LANGUAGE sql AS $$
  SELECT name, rl.differing(name::regclass, query) FROM rl.shape
  WHERE rl.differing(name::regclass, query) <> 0 $$;
SELECT count(*) AS watches FROM (SELECT pgview_watch(name) FROM shape) w;
INSERT INTO r VALUES (4, 'd');                 -- s's 4 loses its NULL extension
SELECT * FROM check_all();
INSERT INTO s VALUES (3, 20), (NULL, 60);       -- r's 3s gain a match; t's 60 too
SELECT * FROM check_all();
UPDATE s SET j = 60 WHERE i = 2 AND j = 20;    -- a join value moves
SELECT * FROM check_all();
UPDATE r SET i = 5 WHERE x = 'c';              -- both copies leave 3 for 5
SELECT * FROM check_all();
DELETE FROM r WHERE i = 1;                     -- s's 1 becomes NULL-extended
SELECT * FROM check_all();
DELETE FROM t WHERE j = 20;
INSERT INTO t VALUES (NULL), (90), (5);
SELECT * FROM check_all();
INSERT INTO a VALUES (3, 0), (NULL, 9);
UPDATE a SET i = 4 WHERE j = 5;
DELETE FROM a WHERE j = 1;
SELECT * FROM check_all();
DELETE FROM c;                                 -- c empty: NOT IN holds for a NULL a.i
SELECT * FROM check_all();
INSERT INTO c VALUES (4);
SELECT * FROM check_all();
BEGIN;
DELETE FROM s WHERE i = 4;
SAVEPOINT sp;
INSERT INTO r VALUES (2, 'z');
ROLLBACK TO SAVEPOINT sp;
INSERT INTO t VALUES (21);
COMMIT;
SELECT * FROM check_all();
COPY s FROM stdin;
5	90
\N	\N
\.
SELECT * FROM check_all();
TRUNCATE t;
INSERT INTO t VALUES (90), (40);
SELECT * FROM check_all();
-- Refreshed by key (keyed recompute), all but those with a source in full.
SELECT s.name, st.incremental_refreshes > 0 AS keyed
  FROM shape s JOIN pgview_status() st ON st.matview = s.name::regclass ORDER BY 1;

-- Mode 'immediate': exact after every statement, and a rollback to a
-- savepoint takes the views' changes back.
SELECT count(pgview_unwatch(matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT name::regclass FROM shape)) w;
SELECT count(*) AS watches FROM (SELECT pgview_watch(name, mode => 'immediate') FROM shape
  WHERE name IN ('full_rs', 'full_full', 'cross', 'exists_distinct')) w;
CREATE FUNCTION check_immediate() RETURNS TABLE (name text, differing bigint) LANGUAGE sql AS $$
  SELECT name, rl.differing(name::regclass, query) FROM rl.shape
  WHERE name IN ('full_rs', 'full_full', 'cross', 'exists_distinct')
    AND rl.differing(name::regclass, query) <> 0 $$;
BEGIN;
INSERT INTO r VALUES (40, 'p'), (NULL, 'q');
SELECT * FROM check_immediate();
INSERT INTO s VALUES (40, 40);
SELECT * FROM check_immediate();
SAVEPOINT sp;
DELETE FROM s WHERE j = 40;
SELECT count(*) AS matched_40 FROM full_rs WHERE ri = 40 AND si = 40;
ROLLBACK TO SAVEPOINT sp;
SELECT count(*) AS matched_40 FROM full_rs WHERE ri = 40 AND si = 40;
SELECT * FROM check_immediate();
UPDATE t SET j = 41 WHERE j = 40;
INSERT INTO a VALUES (40, 4);
COMMIT;
SELECT * FROM check_immediate();

-- Two roles: the view's owner and a writer who may only insert into one of
-- its tables. The writer's commit finds the keys by lookup in the view and its
-- query as the owner (the writer can read neither).
CREATE ROLE regress_rl_owner;
CREATE ROLE regress_rl_writer;
GRANT USAGE, CREATE ON SCHEMA rl TO regress_rl_owner;
GRANT USAGE ON SCHEMA rl TO regress_rl_writer;
SET ROLE regress_rl_owner;
CREATE TABLE left_side (k int, v text);
CREATE TABLE right_side (k int, w text);
INSERT INTO left_side VALUES (1, 'l1'), (2, 'l2');
INSERT INTO right_side VALUES (2, 'r2'), (3, 'r3');
GRANT INSERT ON right_side TO regress_rl_writer;
SET client_min_messages = warning;
SELECT pgview_create('owned_full', 'SELECT l.k AS lk, l.v, r.k AS rk, r.w FROM rl.left_side l FULL JOIN rl.right_side r ON l.k = r.k',
                     kind => 'table view');
RESET client_min_messages;
SELECT count(*) > 0 AS watched FROM pgview_watch('owned_full');
SET ROLE regress_rl_writer;
INSERT INTO right_side VALUES (9, 'first');   -- a watch's first refresh is full
INSERT INTO right_side VALUES (1, 'r1');      -- by lookup: l1 loses its NULL extension
SELECT count(*) FROM owned_full;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT lk, v, rk, w FROM rl.owned_full ORDER BY lk NULLS LAST, rk;
SELECT rl.differing('rl.owned_full', 'SELECT l.k AS lk, l.v, r.k AS rk, r.w FROM rl.left_side l FULL JOIN rl.right_side r ON l.k = r.k');
SELECT pg_get_userbyid(c.relowner) AS owner, s.refresh_count, s.incremental_refreshes
  FROM pgview_status() s JOIN pg_class c ON c.oid = s.matview WHERE s.matview = 'rl.owned_full'::regclass;

RESET search_path;
SET client_min_messages = warning;
SELECT count(pgview_unwatch(w.matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'rl'::regnamespace)) w;
DROP SCHEMA rl CASCADE;
DROP ROLE regress_rl_owner;
DROP ROLE regress_rl_writer;
