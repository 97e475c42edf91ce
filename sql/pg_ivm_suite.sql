-- pg_ivm's regression suite, replayed on table views (issue 22). Every query
-- that pg_ivm 1.15 maintains as an IMMV (its create_immv succeeds in
-- expected/pg_ivm.out, expected/outer_join.out and expected/create_immv.out)
-- is a table view here, created without unique_key, over pg_ivm's own tables
-- and data, and then written with pg_ivm's DML: inserts, updates, deletes,
-- duplicates, NULLs, rows moving between join partners, data-modifying CTEs,
-- savepoints, TRUNCATE, foreign key cascades, row level security. Queries
-- pg_ivm refuses are left out. The target: every source of every view is
-- refreshed 'incremental' (pgview_explain), and every view equals its query
-- after every commit and, in mode 'immediate', after every statement.
--
-- Differences from pg_ivm's files, and why:
-- - pg_ivm runs each IMMV in its own transaction, rolled back; here all live
--   in one schema at once, so every change is checked against every view.
-- - Names: outer_join.sql's base_r, base_s, base_t, base_u are oj_base_r, ...
--   (pg_ivm.sql has other tables of those names); pg_ivm.sql's one-column
--   base_t (i) is base_t_i; its several base_t (i, v) are one table holding
--   all their rows. An IMMV name repeated in pg_ivm (mv, mv_cte, mv_ivm_agg)
--   gets a name of its own; its column list ('mv(v1, v2)') becomes column
--   aliases in the query (a table view takes its columns from its query).
-- - A query that pg_ivm creates twice, identical (mv_ivm_agg with COUNT(*),
--   mv_ivm_group, outer_join's last FULL JOIN; refresh_immv's mv is
--   create_immv's), is here once.
-- - pg_ivm rolls back after each group of changes; here changes commit (mode
--   commit) and are undone by later changes, or are rolled back to a
--   savepoint (mode immediate), which also checks that a rollback takes the
--   views' changes back.
-- - pg_ivm's suite has no COPY; one here, since COPY is captured as INSERT.
CREATE SCHEMA ivm;
SET search_path = ivm, public;
-- pg_ivm's tables are never analyzed: the planner's default sizes put the
-- outer joins' comparisons past jit_above_cost, and compiling them took
-- far longer than running them (the suite ran for minutes).
SET jit = off;

-- The view equals its query: compared as multisets of rows (duplicates
-- count), both ways. The rows' aliases are no column's name (outer_join.sql's
-- views have columns r, s, t and u: "t::text" would be such a column, not the row).
CREATE FUNCTION differing(view regclass, query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((SELECT view_row::text FROM %s view_row
                                         EXCEPT ALL SELECT query_row::text FROM (%s) query_row)
                  UNION ALL (SELECT query_row::text FROM (%s) query_row
                             EXCEPT ALL SELECT view_row::text FROM %s view_row)) d',
                 view, query, query, view) INTO n;
  RETURN n;
END $$;

-- Roles for pg_ivm's row level security test (its views see the rows of
-- their owner: checked as that owner).
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_ivm_admin;
DROP ROLE IF EXISTS regress_ivm_user;
RESET client_min_messages;
CREATE ROLE regress_ivm_admin;
CREATE ROLE regress_ivm_user;
GRANT USAGE, CREATE ON SCHEMA ivm TO regress_ivm_admin, regress_ivm_user;

-- pg_ivm.sql's tables, with the columns it drops (a base table with dropped
-- columns) and its data.
CREATE TABLE mv_base_a (x int, i int, y int, j int);
CREATE TABLE mv_base_b (x int, i int, y int, k int);
ALTER TABLE mv_base_a DROP COLUMN x;
ALTER TABLE mv_base_a DROP COLUMN y;
ALTER TABLE mv_base_b DROP COLUMN x;
ALTER TABLE mv_base_b DROP COLUMN y;
INSERT INTO mv_base_a VALUES (1,10), (2,20), (3,30), (4,40), (5,50);
INSERT INTO mv_base_b VALUES (1,101), (2,102), (3,103), (4,104);
CREATE FUNCTION ivm_func() RETURNS int LANGUAGE 'sql' AS 'SELECT 1' IMMUTABLE;
-- base_t (i, v): the rows of pg_ivm's self join, NULL and aggregate tests.
CREATE TABLE base_t (i int, v int);
INSERT INTO base_t VALUES (1,10), (2,NULL), (3,30), (1,20), (NULL,1), (NULL,2), (NULL,3), (NULL,4), (NULL,5);
CREATE TABLE base_t_i (i int);
CREATE TABLE base_r (i int, v int);
CREATE TABLE base_s (i int, v int);
INSERT INTO base_r VALUES (1, 10), (2, 20), (3, 30);
INSERT INTO base_s VALUES (1, 100), (2, 200), (3, 300);
CREATE TABLE ri1 (i int PRIMARY KEY);
CREATE TABLE ri2 (i int PRIMARY KEY REFERENCES ri1(i) ON UPDATE CASCADE ON DELETE CASCADE, v int);
INSERT INTO ri1 VALUES (1),(2),(3);
INSERT INTO ri2 VALUES (1),(2),(3);
-- A user defined type (int4's functions) with a btree operator class.
SET client_min_messages = warning;
CREATE TYPE mytype;
CREATE FUNCTION mytype_in(cstring) RETURNS mytype AS 'int4in' LANGUAGE INTERNAL STRICT IMMUTABLE;
CREATE FUNCTION mytype_out(mytype) RETURNS cstring AS 'int4out' LANGUAGE INTERNAL STRICT IMMUTABLE;
RESET client_min_messages;
CREATE TYPE mytype (LIKE = int4, INPUT = mytype_in, OUTPUT = mytype_out);
CREATE FUNCTION mytype_eq(mytype, mytype) RETURNS bool AS 'int4eq' LANGUAGE INTERNAL STRICT IMMUTABLE;
CREATE FUNCTION mytype_lt(mytype, mytype) RETURNS bool AS 'int4lt' LANGUAGE INTERNAL STRICT IMMUTABLE;
CREATE FUNCTION mytype_cmp(mytype, mytype) RETURNS integer AS 'btint4cmp' LANGUAGE INTERNAL STRICT IMMUTABLE;
CREATE OPERATOR = (leftarg = mytype, rightarg = mytype, procedure = mytype_eq);
CREATE OPERATOR < (leftarg = mytype, rightarg = mytype, procedure = mytype_lt);
CREATE OPERATOR CLASS mytype_ops DEFAULT FOR TYPE mytype USING btree AS
  OPERATOR 1 <, OPERATOR 3 =, FUNCTION 1 mytype_cmp(mytype, mytype);
CREATE TABLE t_mytype (x mytype);
-- Row level security: regress_ivm_user sees its own rows of rls_tbl.
SET ROLE regress_ivm_admin;
CREATE TABLE rls_tbl (id int, data text, owner name);
INSERT INTO rls_tbl VALUES (1,'foo','regress_ivm_user'), (2,'bar','postgres');
CREATE TABLE num_tbl (id int, num text);
INSERT INTO num_tbl VALUES (1,'one'), (2,'two'), (3,'three'), (4,'four'), (5,'five'), (6,'six');
CREATE POLICY rls_tbl_policy ON rls_tbl FOR SELECT TO PUBLIC USING (owner = current_user);
ALTER TABLE rls_tbl ENABLE ROW LEVEL SECURITY;
GRANT ALL ON rls_tbl TO PUBLIC;
GRANT ALL ON num_tbl TO PUBLIC;
RESET ROLE;
-- A trigger updating the same table; a self-referential foreign key.
CREATE TABLE tbl_update_same (i int);
CREATE FUNCTION func_update_same() RETURNS TRIGGER AS
 $$ BEGIN UPDATE tbl_update_same SET i = i + 1; RETURN NEW; END; $$ LANGUAGE plpgsql;
CREATE TRIGGER trig_update_same AFTER INSERT ON tbl_update_same FOR EACH ROW
 EXECUTE FUNCTION func_update_same();
CREATE TABLE tbl_self_ref (a int PRIMARY KEY, b int REFERENCES tbl_self_ref(a) ON UPDATE CASCADE);
INSERT INTO tbl_self_ref VALUES (1, NULL), (2, 1), (3, 2);
-- Tables with primary keys (pg_ivm's automatic index tests; empty there).
CREATE TABLE base_a (i int PRIMARY KEY, j int);
CREATE TABLE base_b (i int PRIMARY KEY, j int);
INSERT INTO base_a VALUES (1,10), (2,20), (3,20);
INSERT INTO base_b VALUES (1,100), (2,200);
-- create_immv.sql's table.
CREATE TABLE t (i int PRIMARY KEY);
INSERT INTO t SELECT generate_series(1, 100);
-- outer_join.sql's tables and data.
CREATE TABLE oj_base_r (i int);
CREATE TABLE oj_base_s (i int, j int);
CREATE TABLE oj_base_t (j int);
CREATE TABLE oj_base_u (j int, i int);
INSERT INTO oj_base_r VALUES (1), (2), (3), (3);
INSERT INTO oj_base_s VALUES (2,1), (2,2), (3,1), (4,1), (4,2);
INSERT INTO oj_base_t VALUES (2), (3), (3);
INSERT INTO oj_base_u VALUES (2,2), (2,3), (3,2), (3,3);

-- The shapes, by name. reads_tables: false for the two queries that read no
-- table (nothing can change them, so there is nothing to watch). run_as: the
-- role that creates the view and whose rows it holds (row level security).
CREATE TABLE shape (name text PRIMARY KEY, query text NOT NULL, reads_tables boolean NOT NULL DEFAULT true,
                    run_as name);
GRANT SELECT ON shape TO regress_ivm_user;
INSERT INTO shape (name, query) VALUES
  -- pg_ivm.sql
  ('mv_ivm_1',           'SELECT i,j,k FROM mv_base_a a INNER JOIN mv_base_b b USING(i)'),
  ('mv_ivm_duplicate',   'SELECT j FROM mv_base_a'),
  ('mv_ivm_distinct',    'SELECT DISTINCT j FROM mv_base_a'),
  ('mv_ivm_agg',         'SELECT i, SUM(j), COUNT(i), AVG(j) FROM mv_base_a GROUP BY i'),
  ('mv_ivm_agg_count_star', 'SELECT i, SUM(j), COUNT(*) FROM mv_base_a GROUP BY i'),
  ('mv_ivm_group',       'SELECT SUM(j), COUNT(j), AVG(j) FROM mv_base_a'),
  ('mv_ivm_avg_bug',     'SELECT i, SUM(j), COUNT(j), AVG(j) FROM mv_base_A GROUP BY i'),
  ('mv_ivm_min_max',     'SELECT i, MIN(j) AS min_j, MAX(j) AS max_j FROM mv_base_a GROUP BY i'),
  ('mv_ivm_min_max_all', 'SELECT MIN(j) AS min_j, MAX(j) AS max_j FROM mv_base_a'),
  ('mv_ivm_min',         'SELECT MIN(j) FROM mv_base_a'),
  ('mv_ivm_agg_a',       'SELECT i AS a, SUM(j) FROM mv_base_a GROUP BY i'),
  ('mv_ivm_agg_ab',      'SELECT i AS a, SUM(j) AS b FROM mv_base_a GROUP BY i'),
  ('mv_self',            'SELECT t1.v AS v1, t2.v AS v2 FROM base_t AS t1 JOIN base_t AS t2 ON t1.i = t2.i'),
  ('mv_rs',              'SELECT r.v AS v1, s.v AS v2 FROM base_r AS r JOIN base_s AS s USING(i)'),
  ('mv_ri',              'SELECT ri1.i AS i1, ri2.i AS i2 FROM ri1 JOIN ri2 USING(i)'),
  ('mv_ivm_exists_subquery',
   'SELECT a.i, a.j FROM mv_base_a a WHERE EXISTS(SELECT 1 FROM mv_base_b b WHERE a.i = b.i)'),
  ('mv_ivm_exists_subquery2',
   'SELECT a.i,a.j FROM mv_base_a a WHERE EXISTS(SELECT 1 FROM mv_base_b b WHERE a.i = b.i) AND a.i > 2'),
  ('mv_ivm_exists_subquery_distinct',
   'SELECT DISTINCT a.i, a.j FROM mv_base_a a WHERE EXISTS(SELECT 1 FROM mv_base_b b WHERE a.i = b.i)'),
  ('mv_ivm_subquery',    'SELECT a.i,a.j FROM mv_base_a a,( SELECT * FROM mv_base_b) b WHERE a.i = b.i'),
  ('mv_ivm_join_subquery',
   'SELECT i, j, k FROM ( SELECT i, a.j, b.k FROM mv_base_b b INNER JOIN mv_base_a a USING(i)) tmp'),
  ('mv_ivm_join_subquery_nested',
   'SELECT i, j, k FROM ( SELECT i, a.j, b.k FROM mv_base_b b INNER JOIN (SELECT * FROM mv_base_a) a USING(i)) tmp'),
  ('mv_cte_1', 'WITH b AS ( SELECT * FROM mv_base_b) SELECT a.i,a.j FROM mv_base_a a, b WHERE a.i = b.i'),
  ('mv_cte_2', 'WITH a AS (SELECT * FROM mv_base_a), b AS ( SELECT * FROM mv_base_b) SELECT a.i,a.j FROM a, b WHERE a.i = b.i'),
  ('mv_cte_3', 'WITH b AS ( SELECT * FROM mv_base_b) SELECT v.i,v.j FROM (WITH a AS (SELECT * FROM mv_base_a) SELECT a.i,a.j FROM a, b WHERE a.i = b.i) v'),
  ('mv_cte_4', 'SELECT * FROM (WITH a AS (SELECT * FROM mv_base_a), b AS ( SELECT * FROM mv_base_b) SELECT a.i,a.j FROM a, b WHERE a.i = b.i) v'),
  ('mv_cte_5', 'WITH b AS ( SELECT * FROM (SELECT * FROM mv_base_b) b2) SELECT v.i,v.j FROM (WITH a AS (SELECT * FROM mv_base_a) SELECT a.i,a.j FROM a, b WHERE a.i = b.i) v'),
  ('mv_cte_6', 'WITH x AS ( SELECT i, a.j, b.k FROM mv_base_b b INNER JOIN mv_base_a a USING(i)) SELECT * FROM x'),
  ('mv_ivm_nested_cte',
   'WITH v AS ( WITH a AS (SELECT * FROM mv_base_a) SELECT i, a.j, b.k FROM mv_base_b b INNER JOIN a USING(i)) SELECT * FROM v'),
  ('mv_cte_multi',
   'WITH t AS (SELECT * FROM base_t) SELECT t1.v AS v1, t2.v AS v2 FROM t AS t1 JOIN t AS t2 ON t1.i = t2.i'),
  ('mv_null',            'SELECT * FROM base_t'),
  ('mv_null_i',          'SELECT * FROM base_t_i'),
  ('mv_null_sum',        'SELECT i, sum(v) FROM base_t GROUP BY i'),
  ('mv_null_min_max',    'SELECT i, min(v), max(v) FROM base_t GROUP BY i'),
  ('mv_mytype',          'SELECT * FROM t_mytype'),
  ('mv_update_same',     'SELECT * FROM tbl_update_same'),
  ('mv_self_ref',        'SELECT * FROM tbl_self_ref'),
  ('mv_idx1',            'SELECT i, sum(j) FROM base_a GROUP BY i'),
  ('mv_idx2',            'SELECT DISTINCT j FROM base_a'),
  ('mv_idx3',            'SELECT a.i AS i_a, b.i AS i_b FROM base_a a, base_b b'),
  ('mv_idx4',            'SELECT j FROM base_a'),
  ('mv_idx5',            'SELECT a.i, b.j FROM base_a a, base_b b'),
  ('mv_idx6',            'SELECT a.i AS i_a, b.i AS i_b FROM (SELECT * FROM base_a) a, (SELECT * FROM base_b) b'),
  ('mv_idx7',            'SELECT i FROM base_a, generate_series(1,10)'),
  -- create_immv.sql (and refresh_immv.sql's mv)
  ('mv_t',               'SELECT * FROM t'),
  ('mv2',                'SELECT i AS x FROM t WHERE i%2 = 0'),
  -- outer_join.sql: 3-way joins, each pair of join kinds with one outer join at least
  ('oj_full_full',   'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r FULL JOIN oj_base_s AS s ON r.i=s.i FULL JOIN oj_base_t AS t ON s.j=t.j'),
  ('oj_full_full_distinct', 'SELECT DISTINCT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r FULL JOIN oj_base_s AS s ON r.i=s.i FULL JOIN oj_base_t AS t ON s.j=t.j'),
  ('oj_full_left',   'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r FULL JOIN oj_base_s AS s ON r.i=s.i LEFT JOIN oj_base_t AS t ON s.j=t.j'),
  ('oj_full_right',  'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r FULL JOIN oj_base_s AS s ON r.i=s.i RIGHT JOIN oj_base_t AS t ON s.j=t.j'),
  ('oj_full_inner',  'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r FULL JOIN oj_base_s AS s ON r.i=s.i INNER JOIN oj_base_t AS t ON s.j=t.j'),
  ('oj_left_full',   'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r LEFT JOIN oj_base_s AS s ON r.i=s.i FULL JOIN oj_base_t AS t ON s.j=t.j'),
  ('oj_left_left',   'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r LEFT JOIN oj_base_s AS s ON r.i=s.i LEFT JOIN oj_base_t AS t ON s.j=t.j'),
  ('oj_left_right',  'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r LEFT JOIN oj_base_s AS s ON r.i=s.i RIGHT JOIN oj_base_t AS t ON s.j=t.j'),
  ('oj_left_inner',  'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r LEFT JOIN oj_base_s AS s ON r.i=s.i INNER JOIN oj_base_t AS t ON s.j=t.j'),
  ('oj_right_full',  'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r RIGHT JOIN oj_base_s AS s ON r.i=s.i FULL JOIN oj_base_t AS t ON s.j=t.j'),
  ('oj_right_left',  'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r RIGHT JOIN oj_base_s AS s ON r.i=s.i LEFT JOIN oj_base_t AS t ON s.j=t.j'),
  ('oj_right_right', 'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r RIGHT JOIN oj_base_s AS s ON r.i=s.i RIGHT JOIN oj_base_t AS t ON s.j=t.j'),
  ('oj_right_inner', 'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r RIGHT JOIN oj_base_s AS s ON r.i=s.i INNER JOIN oj_base_t AS t ON s.j=t.j'),
  ('oj_inner_full',  'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r INNER JOIN oj_base_s AS s ON r.i=s.i FULL JOIN oj_base_t AS t ON s.j=t.j'),
  ('oj_inner_left',  'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r INNER JOIN oj_base_s AS s ON r.i=s.i LEFT JOIN oj_base_t AS t ON s.j=t.j'),
  ('oj_inner_right', 'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t FROM oj_base_r AS r INNER JOIN oj_base_s AS s ON r.i=s.i RIGHT JOIN oj_base_t AS t ON s.j=t.j'),
  -- outer_join.sql: 4-way, WHERE, self outer join, cross join, NULL join keys, simultaneous changes
  ('oj_4way', 'SELECT r.i AS r, s.i AS si, s.j AS sj, t.j AS t, u.i AS ui, u.j AS uj FROM (oj_base_r AS r FULL JOIN oj_base_s AS s ON r.i=s.i) FULL JOIN (oj_base_t AS t FULL JOIN oj_base_u AS u ON t.j=u.j) ON r.i=u.i'),
  ('oj_where', 'SELECT r.i AS r, s.i AS s FROM oj_base_r AS r FULL JOIN oj_base_s AS s ON r.i=s.i WHERE s.i > 0'),
  ('oj_self',  'SELECT r.i AS r1, r2.i AS r2 FROM oj_base_r AS r FULL JOIN oj_base_r as r2 ON r.i=r2.i'),
  ('oj_cross', 'SELECT r.i AS r, s.i AS s, t.j AS t, u.j AS u FROM (oj_base_r r LEFT JOIN (oj_base_s s CROSS JOIN (oj_base_t t FULL JOIN oj_base_u u ON ((t.j = u.j)))) ON ((r.i = s.i)))'),
  ('oj_null_keys', 'SELECT r.i AS ri, s.i AS si, s.j AS sj, t.j AS tj FROM oj_base_r r FULL JOIN oj_base_s s ON r.i = s.i FULL JOIN oj_base_t t ON s.j = t.j'),
  ('oj_full_rs', 'SELECT r.i AS r, s.i AS s FROM oj_base_r AS r FULL JOIN oj_base_s AS s ON r.i=s.i');
-- Queries that read no table: pg_ivm maintains them (nothing to do); a table
-- view of them needs no watch (pgview_watch refuses one: no source).
INSERT INTO shape (name, query, reads_tables) VALUES
  ('mv_ivm_func',   'SELECT * FROM ivm_func()', false),
  ('mv_ivm_no_tbl', 'SELECT 1', false);
INSERT INTO shape (name, query, run_as) VALUES
  ('ivm_rls',  'SELECT * FROM rls_tbl', 'regress_ivm_user'),
  ('ivm_rls2', 'SELECT * FROM rls_tbl JOIN num_tbl USING(id)', 'regress_ivm_user');
-- Left out: pg_ivm refuses them (system columns, IN/scalar subqueries, ORDER
-- BY, HAVING, views and materialized views in FROM, LIMIT, DISTINCT ON,
-- windows, aggregate options, UNION, non-simple subqueries and CTEs, IMMVs in
-- FROM, outer joins with non-strict expressions, non-equijoins or aggregates,
-- json without a btree operator class).

-- The views that differ from their queries (checked as each view's owner
-- where rows depend on who reads them); with all => true, every view.
CREATE FUNCTION check_views(all_views boolean DEFAULT false) RETURNS TABLE (name text, differing bigint)
LANGUAGE plpgsql AS $$
DECLARE s record; n bigint;
BEGIN
  FOR s IN SELECT sh.name, sh.query, sh.run_as FROM ivm.shape sh ORDER BY sh.name LOOP
    IF s.run_as IS NOT NULL THEN EXECUTE format('SET ROLE %I', s.run_as); END IF;
    n := ivm.differing(s.name::regclass, s.query);
    IF s.run_as IS NOT NULL THEN RESET ROLE; END IF;
    IF all_views OR n <> 0 THEN
      name := s.name; differing := n; RETURN NEXT;
    END IF;
  END LOOP;
END $$;

-- Each is created without unique_key (the NOTICEs saying which key each gets
-- are left out: pgview_explain's view_key says it).
SET client_min_messages = warning;
SELECT count(pgview_create(name, query, kind => 'table view')) FROM shape WHERE run_as IS NULL;
SET ROLE regress_ivm_user;
SELECT count(pgview_create(name, query, kind => 'table view')) FROM shape WHERE run_as = 'regress_ivm_user';
RESET ROLE;
RESET client_min_messages;
SELECT * FROM check_views();
-- Which sources are refreshed by key: the table the issue is about.
SELECT s.name, e.source, e.refresh, e.strategy, e.view_key
  FROM shape s, LATERAL pgview_explain(s.name::regclass) e ORDER BY 1, 2;
-- The same, counted per shape (the README's comparison with pg_ivm quotes
-- this row, and the test command checks that it does: scripts/check_ivm_comparison.py).
SELECT count(*) AS pg_ivm_maintains,
       count(*) FILTER (WHERE reads_tables AND every_source_incremental) AS every_source_incremental,
       count(*) FILTER (WHERE reads_tables AND NOT every_source_incremental) AS some_source_full,
       count(*) FILTER (WHERE NOT reads_tables) AS reads_no_table
  FROM (SELECT s.name, s.reads_tables,
               (SELECT bool_and(e.refresh = 'incremental') FROM pgview_explain(s.name::regclass) e)
                 AS every_source_incremental
        FROM shape s) x;

-- Mode commit: every view refreshed at each writing transaction's commit;
-- checked after every commit.
SET client_min_messages = warning;
SELECT count(*) AS watches FROM (SELECT pgview_watch(name::regclass) FROM shape WHERE reads_tables) w;
RESET client_min_messages;

-- mv_base_a, mv_base_b in pg_ivm.sql's order: a row without and with a
-- partner, duplicates, groups appearing and vanishing, min/max of a group
-- deleted.
INSERT INTO mv_base_b VALUES (5,105);
SELECT * FROM check_views();
UPDATE mv_base_a SET j = 0 WHERE i = 1;
SELECT * FROM check_views();
DELETE FROM mv_base_b WHERE (i,k) = (5,105);
SELECT * FROM check_views();
INSERT INTO mv_base_a VALUES (6,20);
SELECT * FROM check_views();
DELETE FROM mv_base_a WHERE (i,j) = (2,20);
SELECT * FROM check_views();
INSERT INTO mv_base_a VALUES (2,100);
SELECT * FROM check_views();
UPDATE mv_base_a SET j = 200 WHERE (i,j) = (2,100);
SELECT * FROM check_views();
DELETE FROM mv_base_a WHERE (i,j) = (2,200);
SELECT * FROM check_views();
INSERT INTO mv_base_a VALUES (1,0), (1,0), (2,30), (2,30);
SELECT * FROM check_views();
DELETE FROM mv_base_a WHERE (i,j) = (1,0);
SELECT * FROM check_views();
INSERT INTO mv_base_a VALUES (1,11), (1,12), (2,21), (2,22), (3,31), (3,32), (4,41), (4,42), (5,51), (5,52);
SELECT * FROM check_views();
DELETE FROM mv_base_a WHERE (i,j) IN ((1,10), (2,21), (3,32));
SELECT * FROM check_views();
-- NULLs in the join column and in the aggregated one (pg_ivm has none here).
INSERT INTO mv_base_a VALUES (NULL,70), (7,NULL);
SELECT * FROM check_views();
INSERT INTO mv_base_b VALUES (NULL,107);
SELECT * FROM check_views();
-- TRUNCATE (pg_ivm's is rolled back; here it commits, and the rows come back).
TRUNCATE mv_base_b;
SELECT * FROM check_views();
INSERT INTO mv_base_b VALUES (1,101), (2,102), (3,103), (4,104);
SELECT * FROM check_views();
-- EXISTS: rows gaining and losing their partners, partners moving.
INSERT INTO mv_base_a VALUES (1,10), (6,60), (3,30), (3,300);
SELECT * FROM check_views();
INSERT INTO mv_base_b VALUES (1,101);
SELECT * FROM check_views();
INSERT INTO mv_base_b VALUES (1,111);
SELECT * FROM check_views();
INSERT INTO mv_base_b VALUES (2,102);
SELECT * FROM check_views();
INSERT INTO mv_base_b VALUES (6,106);
SELECT * FROM check_views();
UPDATE mv_base_a SET i = 1 WHERE j = 60;
SELECT * FROM check_views();
UPDATE mv_base_b SET i = 10 WHERE k = 101;
SELECT * FROM check_views();
UPDATE mv_base_b SET k = 1002 WHERE k = 102;
SELECT * FROM check_views();
DELETE FROM mv_base_a WHERE (i,j) = (1,60);
SELECT * FROM check_views();
DELETE FROM mv_base_b WHERE i = 2;
SELECT * FROM check_views();
DELETE FROM mv_base_b WHERE i = 1 OR i = 3;
SELECT * FROM check_views();
INSERT INTO mv_base_b VALUES (1,100), (3,300);
SELECT * FROM check_views();
-- Both tables in one statement.
WITH
 ai AS (INSERT INTO mv_base_a VALUES (1,11),(2,22) RETURNING 0),
 bi AS (INSERT INTO mv_base_b VALUES (1,111),(3,133) RETURNING 0),
 bd AS (DELETE FROM mv_base_b WHERE i = 4 RETURNING 0)
SELECT;
SELECT * FROM check_views();
-- A transaction with a savepoint rolled back.
BEGIN;
INSERT INTO mv_base_b VALUES (5,105);
SAVEPOINT p1;
DELETE FROM mv_base_a;
ROLLBACK TO SAVEPOINT p1;
UPDATE mv_base_b SET i = 4 WHERE k = 105;
COMMIT;
SELECT * FROM check_views();
COPY mv_base_a FROM stdin;
8	80
8	80
\N	\N
\.
SELECT * FROM check_views();
-- Every row goes (aggregates without GROUP BY: counts 0, the rest NULL), then back.
DELETE FROM mv_base_a;
SELECT * FROM check_views();
INSERT INTO mv_base_a VALUES (1,10), (2,20), (3,30), (4,40), (5,50);
SELECT * FROM check_views();

-- base_t: NULL values and NULL groups, a self join, several changes of one
-- table in one statement, a released savepoint.
UPDATE base_t SET v = 20 WHERE i = 2;
SELECT * FROM check_views();
DELETE FROM base_t WHERE v = 1;
SELECT * FROM check_views();
DELETE FROM base_t WHERE v = 3;
SELECT * FROM check_views();
DELETE FROM base_t WHERE v = 5;
SELECT * FROM check_views();
INSERT INTO base_t VALUES (4,40);
SELECT * FROM check_views();
DELETE FROM base_t WHERE i = 1;
SELECT * FROM check_views();
UPDATE base_t SET v = v*10 WHERE i=2;
SELECT * FROM check_views();
WITH
 ins_t1 AS (INSERT INTO base_t VALUES (5,50) RETURNING 1),
 ins_t2 AS (INSERT INTO base_t VALUES (6,60) RETURNING 1),
 upd_t AS (UPDATE base_t SET v = v + 100  RETURNING 1),
 dlt_t AS (DELETE FROM base_t WHERE i IN (4,5)  RETURNING 1)
SELECT NULL;
SELECT * FROM check_views();
BEGIN;
SAVEPOINT p1;
INSERT INTO base_t VALUES (7,70);
RELEASE SAVEPOINT p1;
INSERT INTO base_t VALUES (7,77);
COMMIT;
SELECT * FROM check_views();
UPDATE base_t SET v = v * 10;
SELECT * FROM check_views();
INSERT INTO base_t VALUES (NULL,NULL), (7,NULL);
SELECT * FROM check_views();
INSERT INTO base_t_i VALUES (1), (NULL);
SELECT * FROM check_views();
-- base_r and base_s changed together.
WITH
 ins_r AS (INSERT INTO base_r VALUES (1,11) RETURNING 1),
 ins_r2 AS (INSERT INTO base_r VALUES (3,33) RETURNING 1),
 ins_s AS (INSERT INTO base_s VALUES (2,222) RETURNING 1),
 upd_r AS (UPDATE base_r SET v = v + 1000 WHERE i = 2 RETURNING 1),
 dlt_s AS (DELETE FROM base_s WHERE i = 3 RETURNING 1)
SELECT NULL;
SELECT * FROM check_views();
-- Foreign key cascades (ri2 changes through ri1).
UPDATE ri1 SET i=10 WHERE i=1;
SELECT * FROM check_views();
DELETE FROM ri1 WHERE i=2;
SELECT * FROM check_views();
-- A user defined type.
INSERT INTO t_mytype VALUES ('1'::mytype), ('2'::mytype), ('2'::mytype);
SELECT * FROM check_views();
DELETE FROM t_mytype WHERE x = '2'::mytype;
SELECT * FROM check_views();
-- Row level security: rows of other owners stay out of the views.
INSERT INTO rls_tbl VALUES (3,'baz','regress_ivm_user'), (4,'qux','postgres');
SELECT * FROM check_views();
WITH
 i AS (INSERT INTO rls_tbl VALUES(5,'quux','postgres'), (6,'corge','regress_ivm_user')),
 u AS (UPDATE rls_tbl SET owner = 'postgres' WHERE id = 1),
 u2 AS (UPDATE rls_tbl SET owner = 'regress_ivm_user' WHERE id = 2)
SELECT;
SELECT * FROM check_views();
WITH
 x AS (UPDATE rls_tbl SET data = data || '_2' where id in (3,4)),
 y AS (UPDATE num_tbl SET num = num || '_2' where id in (3,4))
SELECT;
SELECT * FROM check_views();
-- A trigger writing the table its statement writes.
INSERT INTO tbl_update_same VALUES (1);
SELECT * FROM check_views();
INSERT INTO tbl_update_same VALUES (5), (5);
SELECT * FROM check_views();
-- A self-referential foreign key: the cascade rewrites b in the same table.
UPDATE tbl_self_ref SET a = a + 10;
SELECT * FROM check_views();
-- Tables with primary keys, a cross join, a set-returning function.
INSERT INTO base_a VALUES (4,40), (5,20);
SELECT * FROM check_views();
UPDATE base_a SET j = 30 WHERE i = 1;
SELECT * FROM check_views();
UPDATE base_b SET i = 3 WHERE i = 2;
SELECT * FROM check_views();
DELETE FROM base_a WHERE i = 2;
SELECT * FROM check_views();
INSERT INTO base_b VALUES (7,700);
SELECT * FROM check_views();
-- create_immv.sql's t.
INSERT INTO t VALUES (101), (102);
SELECT * FROM check_views();
DELETE FROM t WHERE i % 3 = 0;
SELECT * FROM check_views();
UPDATE t SET i = i + 1000 WHERE i % 10 = 0;
SELECT * FROM check_views();

-- outer_join.sql's changes of each table (pg_ivm rolls each group back;
-- here they accumulate, then the data is loaded again).
INSERT INTO oj_base_r VALUES (1),(2),(3);
SELECT * FROM check_views();
INSERT INTO oj_base_r VALUES (4),(5);
SELECT * FROM check_views();
INSERT INTO oj_base_s VALUES (1,3);
SELECT * FROM check_views();
INSERT INTO oj_base_s VALUES (2,3);
SELECT * FROM check_views();
INSERT INTO oj_base_t VALUES (1),(2);
SELECT * FROM check_views();
INSERT INTO oj_base_t VALUES (3),(4);
SELECT * FROM check_views();
DELETE FROM oj_base_r WHERE i=1;
SELECT * FROM check_views();
DELETE FROM oj_base_r WHERE i=2;
SELECT * FROM check_views();
DELETE FROM oj_base_r WHERE i=3;
SELECT * FROM check_views();
DELETE FROM oj_base_s WHERE i=2;
SELECT * FROM check_views();
DELETE FROM oj_base_s WHERE i=3;
SELECT * FROM check_views();
DELETE FROM oj_base_s WHERE i=4;
SELECT * FROM check_views();
DELETE FROM oj_base_t WHERE j=2;
SELECT * FROM check_views();
DELETE FROM oj_base_t WHERE j=3;
SELECT * FROM check_views();
INSERT INTO oj_base_u VALUES (4,4), (NULL,1);
SELECT * FROM check_views();
TRUNCATE oj_base_r;
SELECT * FROM check_views();
TRUNCATE oj_base_s;
SELECT * FROM check_views();
TRUNCATE oj_base_t;
SELECT * FROM check_views();
TRUNCATE oj_base_u;
SELECT * FROM check_views();
-- "with cross join": one row in three of the four tables.
INSERT INTO oj_base_r VALUES (100);
INSERT INTO oj_base_s VALUES (100);
INSERT INTO oj_base_t VALUES (1);
SELECT * FROM check_views();
BEGIN;
DELETE FROM oj_base_r; DELETE FROM oj_base_s; DELETE FROM oj_base_t;
INSERT INTO oj_base_r VALUES (1), (2), (3), (3);
INSERT INTO oj_base_s VALUES (2,1), (2,2), (3,1), (4,1), (4,2);
INSERT INTO oj_base_t VALUES (2), (3), (3);
INSERT INTO oj_base_u VALUES (2,2), (2,3), (3,2), (3,3);
COMMIT;
SELECT * FROM check_views();
-- "with null on join key columns".
INSERT INTO oj_base_s VALUES (1, null),(null, 2);
SELECT * FROM check_views();
DELETE FROM oj_base_s WHERE j IS NULL;
SELECT * FROM check_views();
DELETE FROM oj_base_t WHERE j = 2;
SELECT * FROM check_views();
INSERT INTO oj_base_t VALUES(2);
SELECT * FROM check_views();
-- Simultaneous changes of two tables, several changes of one.
WITH
 ri AS (INSERT INTO oj_base_r VALUES (1),(2),(3) RETURNING 0),
 si AS (INSERT INTO oj_base_s VALUES (1,3) RETURNING 0)
SELECT;
SELECT * FROM check_views();
WITH
 rd AS (DELETE FROM oj_base_r WHERE i=1 RETURNING 0),
 sd AS (DELETE FROM oj_base_s WHERE i=2 RETURNING 0)
SELECT;
SELECT * FROM check_views();
WITH
 ri1 AS (INSERT INTO oj_base_r VALUES (1),(2),(3) RETURNING 0),
 ri2 AS (INSERT INTO oj_base_r VALUES (4),(5) RETURNING 0),
 rd AS (DELETE FROM oj_base_r WHERE i IN (3,4) RETURNING 0)
SELECT;
SELECT * FROM check_views();
-- Every view, after mode commit.
SELECT * FROM check_views(all_views => true);

-- Mode 'immediate': refreshed at the end of each writing statement, inside the
-- writer's transaction; checked after each statement and after each rollback
-- (to a savepoint or of the transaction).
SET client_min_messages = warning;
SELECT count(pgview_unwatch(name::regclass)) >= 0 AS unwatched FROM shape WHERE reads_tables;
SELECT count(*) AS watches FROM (SELECT pgview_watch(name::regclass, mode => 'immediate') FROM shape
  WHERE reads_tables) w;
RESET client_min_messages;
SELECT DISTINCT mode FROM pgview_watches WHERE matview IN (SELECT name::regclass FROM shape);

-- mv_base_a, mv_base_b: pg_ivm.sql's statements, its TRUNCATEs rolled back
-- to a savepoint, and the whole transaction rolled back.
BEGIN;
INSERT INTO mv_base_b VALUES (5,105);
SELECT * FROM check_views();
UPDATE mv_base_a SET j = 0 WHERE i = 1;
SELECT * FROM check_views();
DELETE FROM mv_base_b WHERE (i,k) = (5,105);
SELECT * FROM check_views();
SAVEPOINT p1;
TRUNCATE mv_base_a;
SELECT * FROM check_views();
ROLLBACK TO SAVEPOINT p1;
SELECT * FROM check_views();
TRUNCATE mv_base_b;
SELECT * FROM check_views();
ROLLBACK TO SAVEPOINT p1;
SELECT * FROM check_views();
INSERT INTO mv_base_a VALUES (6,20);
SELECT * FROM check_views();
DELETE FROM mv_base_a WHERE (i,j) = (2,20);
SELECT * FROM check_views();
INSERT INTO mv_base_a VALUES (2,100);
SELECT * FROM check_views();
UPDATE mv_base_a SET j = 200 WHERE (i,j) = (2,100);
SELECT * FROM check_views();
DELETE FROM mv_base_a WHERE (i,j) = (2,200);
SELECT * FROM check_views();
ROLLBACK;
SELECT * FROM check_views();
-- Renamed columns (pg_ivm's camel style test): its view as the query now reads.
BEGIN;
ALTER TABLE mv_base_a RENAME i TO "I";
ALTER TABLE mv_base_a RENAME j TO "J";
UPDATE mv_base_a SET "J" = 0 WHERE "I" = 1;
SELECT differing('mv_ivm_1', 'SELECT a."I" AS i, a."J" AS j, b.k FROM mv_base_a a JOIN mv_base_b b ON a."I" = b.i');
ROLLBACK;
SELECT * FROM check_views();
-- Groups, min/max and EXISTS, committed.
BEGIN;
INSERT INTO mv_base_a VALUES (1,0), (1,0), (2,30), (2,30);
SELECT * FROM check_views();
DELETE FROM mv_base_a WHERE (i,j) = (1,0);
SELECT * FROM check_views();
DELETE FROM mv_base_a WHERE (i,j) = (2,30);
SELECT * FROM check_views();
INSERT INTO mv_base_a VALUES (1,11), (1,12), (2,21), (2,22), (3,31), (3,32), (4,41), (4,42), (5,51), (5,52);
SELECT * FROM check_views();
DELETE FROM mv_base_a WHERE (i,j) IN ((1,10), (2,21), (3,32));
SELECT * FROM check_views();
SAVEPOINT p1;
DELETE FROM mv_base_a;
SELECT * FROM check_views();
ROLLBACK TO SAVEPOINT p1;
SELECT * FROM check_views();
INSERT INTO mv_base_a VALUES (1,10), (6,60), (3,30), (3,300);
SELECT * FROM check_views();
INSERT INTO mv_base_b VALUES (1,101);
SELECT * FROM check_views();
INSERT INTO mv_base_b VALUES (1,111);
SELECT * FROM check_views();
INSERT INTO mv_base_b VALUES (2,102);
SELECT * FROM check_views();
INSERT INTO mv_base_b VALUES (6,106);
SELECT * FROM check_views();
UPDATE mv_base_a SET i = 1 WHERE j = 60;
SELECT * FROM check_views();
UPDATE mv_base_b SET i = 10 WHERE k = 101;
SELECT * FROM check_views();
UPDATE mv_base_b SET k = 1002 WHERE k = 102;
SELECT * FROM check_views();
DELETE FROM mv_base_a WHERE (i,j) = (1,60);
SELECT * FROM check_views();
DELETE FROM mv_base_b WHERE i = 2;
SELECT * FROM check_views();
DELETE FROM mv_base_b WHERE i = 1 or i = 3;
SELECT * FROM check_views();
INSERT INTO mv_base_b VALUES (1,100), (3,300);
SELECT * FROM check_views();
WITH
 ai AS (INSERT INTO mv_base_a VALUES (1,11),(2,22) RETURNING 0),
 bi AS (INSERT INTO mv_base_b VALUES (1,111),(3,133) RETURNING 0),
 bd AS (DELETE FROM mv_base_b WHERE i = 4 RETURNING 0)
SELECT;
SELECT * FROM check_views();
COPY mv_base_a FROM stdin;
9	90
\N	95
\.
SELECT * FROM check_views();
INSERT INTO mv_base_b VALUES (NULL,108), (9,109);
SELECT * FROM check_views();
COMMIT;
SELECT * FROM check_views();

-- base_t, base_t_i, base_r, base_s, ri1, ri2.
BEGIN;
INSERT INTO base_t VALUES (1,10), (1,20), (NULL,1), (NULL,3);
SELECT * FROM check_views();
DELETE FROM base_t WHERE v = 1;
SELECT * FROM check_views();
UPDATE base_t SET v = NULL WHERE i = 1;
SELECT * FROM check_views();
WITH
 ins_t1 AS (INSERT INTO base_t VALUES (5,50) RETURNING 1),
 ins_t2 AS (INSERT INTO base_t VALUES (6,60) RETURNING 1),
 upd_t AS (UPDATE base_t SET v = v + 100  RETURNING 1),
 dlt_t AS (DELETE FROM base_t WHERE i IN (4,5)  RETURNING 1)
SELECT NULL;
SELECT * FROM check_views();
SAVEPOINT p1;
INSERT INTO base_t VALUES (8,80);
RELEASE SAVEPOINT p1;
SELECT * FROM check_views();
SAVEPOINT p2;
UPDATE base_t SET i = NULL;
SELECT * FROM check_views();
ROLLBACK TO SAVEPOINT p2;
SELECT * FROM check_views();
DELETE FROM base_t_i WHERE i IS NULL;
SELECT * FROM check_views();
WITH
 ins_r AS (INSERT INTO base_r VALUES (1,11) RETURNING 1),
 ins_r2 AS (INSERT INTO base_r VALUES (3,33) RETURNING 1),
 ins_s AS (INSERT INTO base_s VALUES (2,222) RETURNING 1),
 upd_r AS (UPDATE base_r SET v = v + 1000 WHERE i = 2 RETURNING 1),
 dlt_s AS (DELETE FROM base_s WHERE i = 3 RETURNING 1)
SELECT NULL;
SELECT * FROM check_views();
UPDATE base_s SET i = 3 WHERE v = 222;
SELECT * FROM check_views();
INSERT INTO ri1 VALUES (1), (2);
SELECT * FROM check_views();
INSERT INTO ri2 VALUES (1, 1), (2, 2);
SELECT * FROM check_views();
UPDATE ri1 SET i = 20 WHERE i = 2;
SELECT * FROM check_views();
DELETE FROM ri1 WHERE i = 10;
SELECT * FROM check_views();
COMMIT;
SELECT * FROM check_views();

-- The user defined type, row level security, the trigger, the
-- self-referential key, the tables with primary keys, t.
BEGIN;
INSERT INTO t_mytype VALUES ('3'::mytype), ('3'::mytype);
SELECT * FROM check_views();
UPDATE t_mytype SET x = '4'::mytype WHERE x = '1'::mytype;
SELECT * FROM check_views();
INSERT INTO rls_tbl VALUES (7,'grault','regress_ivm_user'), (8,'garply','postgres');
SELECT * FROM check_views();
UPDATE rls_tbl SET owner = 'postgres' WHERE id = 3;
SELECT * FROM check_views();
UPDATE num_tbl SET num = num || '_3' WHERE id IN (2, 6);
SELECT * FROM check_views();
DELETE FROM rls_tbl WHERE id = 6;
SELECT * FROM check_views();
INSERT INTO tbl_update_same VALUES (10);
SELECT * FROM check_views();
UPDATE tbl_self_ref SET a = a + 10;
SELECT * FROM check_views();
DELETE FROM tbl_self_ref WHERE a = 23;
SELECT * FROM check_views();
INSERT INTO base_a VALUES (2,20), (6,60);
SELECT * FROM check_views();
UPDATE base_a SET j = 40 WHERE j = 20;
SELECT * FROM check_views();
DELETE FROM base_b WHERE i = 1;
SELECT * FROM check_views();
INSERT INTO t VALUES (103), (104);
SELECT * FROM check_views();
SAVEPOINT p1;
TRUNCATE t;
SELECT * FROM check_views();
ROLLBACK TO SAVEPOINT p1;
SELECT * FROM check_views();
DELETE FROM t WHERE i > 100;
SELECT * FROM check_views();
COMMIT;
SELECT * FROM check_views();

-- outer_join.sql as it runs: each group of changes rolled back to p1.
BEGIN;
SAVEPOINT p1;
INSERT INTO oj_base_r VALUES (1),(2),(3);
SELECT * FROM check_views();
INSERT INTO oj_base_r VALUES (4),(5);
SELECT * FROM check_views();
ROLLBACK TO p1;
SELECT * FROM check_views();
INSERT INTO oj_base_s VALUES (1,3);
SELECT * FROM check_views();
INSERT INTO oj_base_s VALUES (2,3);
SELECT * FROM check_views();
ROLLBACK TO p1;
SELECT * FROM check_views();
INSERT INTO oj_base_t VALUES (1),(2);
SELECT * FROM check_views();
INSERT INTO oj_base_t VALUES (3),(4);
SELECT * FROM check_views();
ROLLBACK TO p1;
SELECT * FROM check_views();
DELETE FROM oj_base_r WHERE i=1;
SELECT * FROM check_views();
DELETE FROM oj_base_r WHERE i=2;
SELECT * FROM check_views();
DELETE FROM oj_base_r WHERE i=3;
SELECT * FROM check_views();
ROLLBACK TO p1;
SELECT * FROM check_views();
DELETE FROM oj_base_s WHERE i=2;
SELECT * FROM check_views();
DELETE FROM oj_base_s WHERE i=3;
SELECT * FROM check_views();
DELETE FROM oj_base_s WHERE i=4;
SELECT * FROM check_views();
ROLLBACK TO p1;
SELECT * FROM check_views();
DELETE FROM oj_base_t WHERE j=2;
SELECT * FROM check_views();
DELETE FROM oj_base_t WHERE j=3;
SELECT * FROM check_views();
ROLLBACK TO p1;
SELECT * FROM check_views();
TRUNCATE oj_base_r;
SELECT * FROM check_views();
ROLLBACK TO p1;
TRUNCATE oj_base_s;
SELECT * FROM check_views();
ROLLBACK TO p1;
TRUNCATE oj_base_t;
SELECT * FROM check_views();
ROLLBACK TO p1;
TRUNCATE oj_base_u;
SELECT * FROM check_views();
ROLLBACK TO p1;
SELECT * FROM check_views();
-- with cross join
TRUNCATE oj_base_r;
TRUNCATE oj_base_s;
TRUNCATE oj_base_t;
TRUNCATE oj_base_u;
INSERT INTO oj_base_r VALUES (100);
INSERT INTO oj_base_s VALUES (100);
INSERT INTO oj_base_t VALUES (1);
SELECT * FROM check_views();
ROLLBACK TO p1;
SELECT * FROM check_views();
-- with null on join key columns
INSERT INTO oj_base_s VALUES (1, null),(null, 2);
SELECT * FROM check_views();
DELETE FROM oj_base_s WHERE j IS NULL;
SELECT * FROM check_views();
DELETE FROM oj_base_t WHERE j = 2;
SELECT * FROM check_views();
INSERT INTO oj_base_t VALUES(2);
SELECT * FROM check_views();
ROLLBACK TO p1;
SELECT * FROM check_views();
-- simultaneous changes; several changes of one table
WITH
 ri AS (INSERT INTO oj_base_r VALUES (1),(2),(3) RETURNING 0),
 si AS (INSERT INTO oj_base_s VALUES (1,3) RETURNING 0)
SELECT;
SELECT * FROM check_views();
ROLLBACK TO p1;
WITH
 rd AS (DELETE FROM oj_base_r WHERE i=1 RETURNING 0),
 sd AS (DELETE FROM oj_base_s WHERE i=2 RETURNING 0)
SELECT;
SELECT * FROM check_views();
ROLLBACK TO p1;
WITH
 ri1 AS (INSERT INTO oj_base_r VALUES (1),(2),(3) RETURNING 0),
 ri2 AS (INSERT INTO oj_base_r VALUES (4),(5) RETURNING 0),
 rd AS (DELETE FROM oj_base_r WHERE i IN (3,4) RETURNING 0)
SELECT;
SELECT * FROM check_views();
-- kept: committed with the last group's changes.
INSERT INTO oj_base_u VALUES (5,5), (NULL,NULL);
SELECT * FROM check_views();
COMMIT;
SELECT * FROM check_views();
-- Every view, after mode immediate.
SELECT * FROM check_views(all_views => true);

RESET search_path;
RESET jit;
SET client_min_messages = warning;
-- Leave no watch behind (a dropped view's watch would stay as an orphan).
SELECT count(pgview_unwatch(w.matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'ivm'::regnamespace)) w;
DROP SCHEMA ivm CASCADE;
DROP OWNED BY regress_ivm_user, regress_ivm_admin;
DROP ROLE regress_ivm_user, regress_ivm_admin;
