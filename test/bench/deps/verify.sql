-- Correctness oracle of the dependency-catalog benchmark (test/bench/deps/run.sh).
--
-- Recomputes, in plain SQL over pg_rewrite/pg_depend, the direct edges, the transitive
-- closure with shortest depths, the dependents of one relation and the refresh-order
-- constraints, restricted to what pgview_auto's catalog covers (tables, partitioned
-- tables, views, matviews and foreign tables outside pg_catalog, information_schema and
-- the TOAST schemas), and compares them row for row with the extension's functions.
--
-- psql variable dep_rel: the relation whose dependents are checked (as in
-- deps_dependents_cte.sql).
-- Output: "check|<name>|<value>" lines, then "example|<name>|<text>" lines (at most 5
-- per failing check).
\set ON_ERROR_STOP 1
SET work_mem = '256MB';

-- Relations pgview_auto's graph holds, with the kind names its functions use.
CREATE TEMP TABLE v_scope AS
SELECT c.oid AS rel,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
                      WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                      WHEN 'f' THEN 'foreign table' END AS kind
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
  AND NOT EXISTS (SELECT FROM pg_depend e JOIN pg_extension x ON x.oid = e.refobjid
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid
                    AND e.refclassid = 'pg_extension'::regclass AND e.deptype = 'e'
                    AND x.extname = 'pgview_auto');  -- the extension's own plumbing
ALTER TABLE v_scope ADD PRIMARY KEY (rel);

-- Direct edges: a view's or matview's rewrite rule depends (normal) on a relation.
CREATE TEMP TABLE v_direct AS
SELECT DISTINCT r.ev_class AS dep, d.refobjid AS ref
FROM pg_rewrite r
JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'n'
WHERE d.refobjid <> r.ev_class
  AND r.ev_class IN (SELECT rel FROM v_scope)
  AND d.refobjid IN (SELECT rel FROM v_scope);
ANALYZE v_direct;

-- Transitive closure with the shortest path length.
CREATE TEMP TABLE v_closure AS
WITH RECURSIVE walk(dep, ref, depth) AS (
  SELECT dep, ref, 1 FROM v_direct
  UNION
  SELECT w.dep, d.ref, w.depth + 1 FROM walk w JOIN v_direct d ON d.dep = w.ref
)
SELECT dep, ref, min(depth) AS depth FROM walk GROUP BY dep, ref;
ANALYZE v_closure;

-- What pgview_auto says.
CREATE TEMP TABLE o_direct AS
SELECT dependent::oid AS dep, dependent_kind AS dep_kind,
       referenced::oid AS ref, referenced_kind AS ref_kind, depth
FROM pgview_deps(false);
CREATE TEMP TABLE o_closure AS
SELECT dependent::oid AS dep, dependent_kind AS dep_kind,
       referenced::oid AS ref, referenced_kind AS ref_kind, depth
FROM pgview_deps(true);
CREATE TEMP TABLE o_dependents AS
SELECT relation::oid AS rel, kind, depth FROM pgview_dependents(:'dep_rel');
CREATE TEMP TABLE o_order AS
SELECT "position" AS pos, matview::oid AS rel FROM pgview_refresh_order();
ANALYZE o_direct; ANALYZE o_closure; ANALYZE o_dependents; ANALYZE o_order;

-- The oracle's dependents of dep_rel: the closure read backwards.
CREATE TEMP TABLE v_dependents AS
SELECT dep AS rel, depth FROM v_closure WHERE ref = :'dep_rel'::regclass;

CREATE TEMP TABLE v_matviews AS SELECT rel FROM v_scope WHERE kind = 'materialized view';

-- Edges as readable text, for the examples.
CREATE FUNCTION pg_temp.edge(dep oid, ref oid, extra text DEFAULT '') RETURNS text
LANGUAGE sql STABLE AS $$ SELECT dep::regclass || ' -> ' || ref::regclass || extra $$;

CREATE TEMP TABLE checks(ord serial, name text, value bigint);
INSERT INTO checks(name, value) VALUES
 ('direct_rows',            (SELECT count(*) FROM o_direct)),
 ('direct_oracle_rows',     (SELECT count(*) FROM v_direct)),
 ('direct_duplicates',      (SELECT count(*) - count(DISTINCT (dep, ref)) FROM o_direct)),
 ('direct_only_ours',       (SELECT count(*) FROM (SELECT dep, ref FROM o_direct EXCEPT SELECT dep, ref FROM v_direct) s)),
 ('direct_only_sql',        (SELECT count(*) FROM (SELECT dep, ref FROM v_direct EXCEPT SELECT dep, ref FROM o_direct) s)),
 ('direct_bad_depth',       (SELECT count(*) FROM o_direct WHERE depth IS DISTINCT FROM 1)),
 ('direct_bad_kind',        (SELECT count(*) FROM o_direct o
                               LEFT JOIN v_scope a ON a.rel = o.dep LEFT JOIN v_scope b ON b.rel = o.ref
                              WHERE o.dep_kind IS DISTINCT FROM a.kind OR o.ref_kind IS DISTINCT FROM b.kind)),
 ('closure_rows',           (SELECT count(*) FROM o_closure)),
 ('closure_oracle_rows',    (SELECT count(*) FROM v_closure)),
 ('closure_duplicates',     (SELECT count(*) - count(DISTINCT (dep, ref)) FROM o_closure)),
 ('closure_only_ours',      (SELECT count(*) FROM (SELECT dep, ref FROM o_closure EXCEPT SELECT dep, ref FROM v_closure) s)),
 ('closure_only_sql',       (SELECT count(*) FROM (SELECT dep, ref FROM v_closure EXCEPT SELECT dep, ref FROM o_closure) s)),
 ('closure_depth_differs',  (SELECT count(*) FROM o_closure o JOIN v_closure v USING (dep, ref) WHERE o.depth <> v.depth)),
 ('closure_bad_kind',       (SELECT count(*) FROM o_closure o
                               LEFT JOIN v_scope a ON a.rel = o.dep LEFT JOIN v_scope b ON b.rel = o.ref
                              WHERE o.dep_kind IS DISTINCT FROM a.kind OR o.ref_kind IS DISTINCT FROM b.kind)),
 ('dependents_rows',        (SELECT count(*) FROM o_dependents)),
 ('dependents_oracle_rows', (SELECT count(*) FROM v_dependents)),
 ('dependents_only_ours',   (SELECT count(*) FROM (SELECT rel FROM o_dependents EXCEPT SELECT rel FROM v_dependents) s)),
 ('dependents_only_sql',    (SELECT count(*) FROM (SELECT rel FROM v_dependents EXCEPT SELECT rel FROM o_dependents) s)),
 ('dependents_depth_differs', (SELECT count(*) FROM o_dependents o JOIN v_dependents v USING (rel) WHERE o.depth <> v.depth)),
 ('dependents_bad_kind',    (SELECT count(*) FROM o_dependents o LEFT JOIN v_scope s USING (rel)
                              WHERE o.kind IS DISTINCT FROM s.kind)),
 ('order_rows',             (SELECT count(*) FROM o_order)),
 ('order_oracle_matviews',  (SELECT count(*) FROM v_matviews)),
 ('order_not_a_matview',    (SELECT count(*) FROM (SELECT rel FROM o_order EXCEPT SELECT rel FROM v_matviews) s)),
 ('order_missing',          (SELECT count(*) FROM (SELECT rel FROM v_matviews EXCEPT SELECT rel FROM o_order) s)),
 ('order_bad_positions',    (SELECT count(*) FROM (SELECT pos, row_number() OVER (ORDER BY pos) AS rn FROM o_order) s
                              WHERE pos IS DISTINCT FROM rn)
                          + (SELECT count(*) - count(DISTINCT rel) FROM o_order)),
 -- A matview that reads another one (directly or through views) must come after it.
 ('order_violations',       (SELECT count(*) FROM v_closure c
                               JOIN o_order a ON a.rel = c.dep JOIN o_order b ON b.rel = c.ref
                              WHERE a.pos <= b.pos));
SELECT 'check', name, value FROM checks ORDER BY ord;

-- Examples of whatever differs (nothing is printed when everything agrees).
(SELECT 'example', 'direct_only_ours', pg_temp.edge(dep, ref) FROM (SELECT dep, ref FROM o_direct EXCEPT SELECT dep, ref FROM v_direct) s LIMIT 5)
UNION ALL
(SELECT 'example', 'direct_only_sql', pg_temp.edge(dep, ref) FROM (SELECT dep, ref FROM v_direct EXCEPT SELECT dep, ref FROM o_direct) s LIMIT 5)
UNION ALL
(SELECT 'example', 'closure_only_ours', pg_temp.edge(dep, ref, ' depth ' || depth) FROM (SELECT dep, ref, depth FROM o_closure o WHERE NOT EXISTS (SELECT 1 FROM v_closure v WHERE v.dep = o.dep AND v.ref = o.ref)) s LIMIT 5)
UNION ALL
(SELECT 'example', 'closure_only_sql', pg_temp.edge(dep, ref, ' depth ' || depth) FROM (SELECT dep, ref, depth FROM v_closure v WHERE NOT EXISTS (SELECT 1 FROM o_closure o WHERE v.dep = o.dep AND v.ref = o.ref)) s LIMIT 5)
UNION ALL
(SELECT 'example', 'closure_depth_differs', pg_temp.edge(dep, ref, format(' depth %s, SQL says %s', o.depth, v.depth)) FROM o_closure o JOIN v_closure v USING (dep, ref) WHERE o.depth <> v.depth LIMIT 5)
UNION ALL
(SELECT 'example', 'dependents_only_ours', rel::regclass::text FROM (SELECT rel FROM o_dependents EXCEPT SELECT rel FROM v_dependents) s LIMIT 5)
UNION ALL
(SELECT 'example', 'dependents_only_sql', rel::regclass::text FROM (SELECT rel FROM v_dependents EXCEPT SELECT rel FROM o_dependents) s LIMIT 5)
UNION ALL
(SELECT 'example', 'dependents_depth_differs', format('%s depth %s, SQL says %s', rel::regclass, o.depth, v.depth) FROM o_dependents o JOIN v_dependents v USING (rel) WHERE o.depth <> v.depth LIMIT 5)
UNION ALL
(SELECT 'example', 'order_violations', format('%s (position %s) reads %s (position %s)', c.dep::regclass, a.pos, c.ref::regclass, b.pos)
   FROM v_closure c JOIN o_order a ON a.rel = c.dep JOIN o_order b ON b.rel = c.ref WHERE a.pos <= b.pos LIMIT 5)
UNION ALL
(SELECT 'example', 'order_missing', rel::regclass::text FROM (SELECT rel FROM v_matviews EXCEPT SELECT rel FROM o_order) s LIMIT 5);
