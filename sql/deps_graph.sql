-- requires: preload
-- pgview_graph: the dependency graph as Graphviz DOT or Mermaid, whole or
-- around one relation, watched arrows marked with mode and strategy; its
-- errors; and what a role without any right on some relations sees (what
-- pgview_deps shows it). (The table view is watched in mode async, which needs
-- the worker.)
CREATE SCHEMA pic;
SET search_path = pic, public;
CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users, amount numeric NOT NULL);
CREATE INDEX ON orders (user_id);
CREATE TABLE bonus (pct numeric NOT NULL);
CREATE TABLE lonely (x int);
CREATE SEQUENCE ticket;
-- a view over a view, and a matview over that, watched at commit: orders is
-- one of its sources through the two views
CREATE VIEW paid AS SELECT * FROM orders WHERE amount > 0;
CREATE VIEW big_paid AS SELECT * FROM paid WHERE amount > 100;
CREATE MATERIALIZED VIEW big_spenders AS
  SELECT u.id, u.name, count(p.id) AS big_orders
  FROM users u JOIN big_paid p ON p.user_id = u.id GROUP BY u.id, u.name;
CREATE UNIQUE INDEX ON big_spenders (id);
SELECT pgview_watch('big_spenders');
-- a table view with a unique key, watched async: users and orders are keyed,
-- bonus (read in a subquery) is refreshed in full
SELECT pgview_create('user_totals',
  $$SELECT u.id AS user_id, count(o.id) AS orders,
           coalesce(sum(o.amount), 0) * (1 + (SELECT coalesce(max(pct), 0) FROM bonus)) AS spent
    FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id$$,
  kind => 'table view', unique_key => ARRAY['user_id']);
SELECT pgview_watch('user_totals', mode => 'async');
SELECT source, refresh FROM pgview_explain('user_totals') ORDER BY source::text;
SELECT matview, source, via, mode FROM pgview_watches WHERE matview IS NOT NULL ORDER BY matview::text, source::text;

\pset format unaligned
\pset tuples_only on
-- The whole graph: each arrow goes from a relation to a view that reads it
-- (one pgview_deps row each), a watched one carries "mode, strategy"; the
-- matview's watch of orders (through paid and big_paid) is an arrow of its own.
SELECT pgview_graph();
SELECT pgview_graph('mermaid');
-- Around one relation: it, what it reads and what reads it, transitively.
SELECT pgview_graph('dot', 'paid');
SELECT pgview_graph('mermaid', 'user_totals');
SELECT pgview_graph('mermaid', 'bonus');
SELECT pgview_graph(format => 'mermaid', root => 'lonely');
SELECT pgview_graph(root => 'big_spenders') = pgview_graph('dot', 'big_spenders');
-- The labels follow the watches: a mode changed, keyed refresh turned off.
SELECT pgview_watch('big_spenders', mode => 'manual');
SELECT pgview_watch('user_totals', mode => 'async', incremental => false);
SELECT pgview_graph('mermaid', 'users');
SELECT pgview_unwatch('user_totals');
SELECT pgview_graph('mermaid', 'user_totals');
\pset format aligned
\pset tuples_only off

-- Errors
SELECT pgview_graph(NULL);
\echo :SQLSTATE
SELECT pgview_graph('svg');
\echo :SQLSTATE
SELECT pgview_graph('DOT');
\echo :SQLSTATE
SELECT pgview_graph('dot', 'no_such_relation');
\echo :SQLSTATE
SELECT pgview_graph('dot', 'ticket');
\echo :SQLSTATE
SELECT pgview_graph('dot', 'users_pkey');
\echo :SQLSTATE
SELECT pgview_graph('dot', 'pg_class');
\echo :SQLSTATE
SELECT pgview_graph('dot', 'pgview_query.user_totals');
\echo :SQLSTATE
SELECT pgview_graph('dot', 'pgview_auto.watch');
\echo :SQLSTATE
CREATE TABLE gone (x int);
SELECT 'gone'::regclass::oid AS gone \gset
DROP TABLE gone;
\set VERBOSITY sqlstate
-- relation with OID ... does not exist, as pgview_dependents says
SELECT pgview_graph('dot', :gone::oid::regclass);
SELECT pgview_dependents(:gone::oid::regclass);
\set VERBOSITY default

-- Another role's relations: alice owns a schema bob may not even look up
-- names in, with a table, a view reading it and pic.orders, and a matview
-- watched at commit. pgview_graph shows bob what pgview_deps shows him: every
-- relation and edge of the catalog, and the watches (as pgview_watches does).
CREATE ROLE regress_graph_alice;
CREATE ROLE regress_graph_bob;
GRANT USAGE ON SCHEMA pic TO regress_graph_alice, regress_graph_bob;
GRANT SELECT ON pic.orders TO regress_graph_alice;
CREATE SCHEMA alice AUTHORIZATION regress_graph_alice;
SET ROLE regress_graph_alice;
CREATE TABLE alice.secret (user_id int, note text);
CREATE VIEW alice.noted_orders AS
  SELECT o.id, s.note FROM pic.orders o JOIN alice.secret s USING (user_id);
CREATE MATERIALIZED VIEW alice.notes AS SELECT count(*) AS n FROM alice.secret;
SELECT pgview_watch('alice.notes');
RESET ROLE;
SELECT 'alice.secret'::regclass::oid AS secret \gset
SELECT md5(pgview_graph('dot')) AS dot, md5(pgview_graph('mermaid')) AS mermaid,
       md5(string_agg(d::text, ',' ORDER BY d::text)) AS deps FROM pgview_deps(true) d \gset superuser_
SELECT has_function_privilege('regress_graph_bob', 'pgview_graph(text, regclass)', 'EXECUTE') AS graph,
       has_function_privilege('regress_graph_bob', 'pgview_deps(boolean)', 'EXECUTE') AS deps,
       has_schema_privilege('regress_graph_bob', 'alice', 'USAGE') AS alice_usage,
       has_table_privilege('regress_graph_bob', 'alice.secret', 'SELECT') AS secret_select;
SET ROLE regress_graph_bob;
SELECT * FROM pgview_deps() WHERE dependent::text LIKE 'alice.%' OR referenced::text LIKE 'alice.%'
  ORDER BY dependent::text, referenced::text;
SELECT md5(pgview_graph('dot')) = :'superuser_dot' AS same_dot,
       md5(pgview_graph('mermaid')) = :'superuser_mermaid' AS same_mermaid,
       (SELECT md5(string_agg(d::text, ',' ORDER BY d::text)) FROM pgview_deps(true) d) = :'superuser_deps'
         AS same_deps;
\pset format unaligned
\pset tuples_only on
SELECT pgview_graph('mermaid', 'pic.orders');
SELECT pgview_graph('mermaid', :secret::oid::regclass);
\pset format aligned
\pset tuples_only off
SELECT * FROM pgview_dependents(:secret::oid::regclass) ORDER BY relation::text;
-- by name, regclass itself refuses what bob may not look up, for both alike
SELECT pgview_graph('mermaid', 'alice.secret');
\echo :SQLSTATE
SELECT * FROM pgview_dependents('alice.secret');
\echo :SQLSTATE
RESET ROLE;

SELECT pgview_unwatch('alice.notes');
SELECT pgview_unwatch('big_spenders');
DROP OWNED BY regress_graph_alice, regress_graph_bob;
DROP ROLE regress_graph_alice, regress_graph_bob;
RESET search_path;
SELECT pgview_drop('pic.user_totals');
DROP SCHEMA pic CASCADE;
DELETE FROM pgview_auto.refresh_stats;
