-- The dependency catalog: pgview_deps, pgview_dependents, pgview_dependencies,
-- pgview_refresh_order, pgview_views, and their errors.
CREATE SCHEMA shop;
SET search_path = shop, public;

CREATE TABLE users (id int PRIMARY KEY, name text);
CREATE TABLE orders (id int PRIMARY KEY, user_id int, total numeric);
CREATE TABLE events (at date, n int) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE FOREIGN DATA WRAPPER no_fdw;
CREATE SERVER nowhere FOREIGN DATA WRAPPER no_fdw;
CREATE FOREIGN TABLE rates (code text, rate numeric) SERVER nowhere;

-- a chain: table -> view -> matview -> view -> matview; top_report reads users twice
-- (directly, depth 1, and through the chain, depth 3: the shortest wins)
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
CREATE MATERIALIZED VIEW user_totals AS
  SELECT u.id, u.name, sum(o.total) AS total
  FROM users u JOIN big_orders o ON o.user_id = u.id GROUP BY u.id, u.name;
CREATE UNIQUE INDEX ON user_totals (id);
CREATE VIEW top_users AS SELECT * FROM user_totals WHERE total > 1000;
CREATE MATERIALIZED VIEW top_report AS
  SELECT t.id, t.name, t.total, (SELECT count(*) FROM events) AS events
  FROM top_users t JOIN users u USING (id);
CREATE VIEW best_rate AS SELECT max(rate) AS rate FROM rates;  -- a view may read a foreign table
CREATE MATERIALIZED VIEW empty_mv AS SELECT 1 AS one WITH NO DATA;
CREATE VIEW reads_catalog AS SELECT relname FROM pg_class;  -- edges to pg_catalog are not listed
CREATE SEQUENCE order_seq;

-- a rule on a table that reads a view is not a "reads" edge of the table (no false cycle)
CREATE TABLE audit (n bigint);
CREATE RULE count_orders AS ON INSERT TO orders DO ALSO INSERT INTO audit SELECT count(*) FROM big_orders;

-- direct edges
SELECT * FROM pgview_deps() ORDER BY dependent::text, referenced::text;
-- transitive: depth is the shortest path
SELECT * FROM pgview_deps(true) ORDER BY dependent::text, referenced::text;
SELECT count(*) FROM pgview_deps(transitive => true) WHERE depth = 1;  -- same as the direct edges

SELECT * FROM pgview_dependents('orders') ORDER BY depth, relation::text;
SELECT * FROM pgview_dependents('orders', false);
SELECT * FROM pgview_dependents('users') ORDER BY depth, relation::text;
SELECT * FROM pgview_dependents('events_2026');  -- the partition itself is not named by any view
SELECT * FROM pgview_dependencies('top_report') ORDER BY depth, relation::text;
SELECT * FROM pgview_dependencies('top_report', transitive => false) ORDER BY relation::text;
SELECT * FROM pgview_dependencies('orders');     -- a table reads nothing

SELECT * FROM pgview_refresh_order();
SELECT * FROM pgview_refresh_order(ARRAY['user_totals'::regclass]);
SELECT * FROM pgview_refresh_order(ARRAY['top_report'::regclass, 'top_report'::regclass]);
SELECT * FROM pgview_refresh_order('{}');
-- a table or plain view stands for what its change makes stale (itself left out)
SELECT * FROM pgview_refresh_order(ARRAY['orders'::regclass]);
SELECT * FROM pgview_refresh_order(ARRAY['big_orders'::regclass]);
SELECT * FROM pgview_refresh_order(ARRAY['best_rate'::regclass]);  -- nothing reads it

SELECT view, kind, owner = current_user AS owned, populated, concurrent_refresh_ok,
       size_bytes > 0 AS has_size, dependencies, dependents
FROM pgview_views('shop') ORDER BY view::text;
SELECT definition FROM pgview_views() WHERE view = 'big_orders'::regclass;
SELECT count(*) FROM pgview_views('public');

-- concurrent_refresh_ok follows PostgreSQL's rule for REFRESH ... CONCURRENTLY
CREATE MATERIALIZED VIEW idx_test AS SELECT id, name FROM users;
CREATE UNIQUE INDEX idx_test_partial ON idx_test (id) WHERE id > 0;
CREATE UNIQUE INDEX idx_test_expr ON idx_test (lower(name));
SELECT concurrent_refresh_ok FROM pgview_views('shop') WHERE view = 'idx_test'::regclass;
CREATE UNIQUE INDEX idx_test_plain ON idx_test (id, name);
SELECT concurrent_refresh_ok FROM pgview_views('shop') WHERE view = 'idx_test'::regclass;
REFRESH MATERIALIZED VIEW CONCURRENTLY idx_test;  -- PostgreSQL agrees
DROP MATERIALIZED VIEW idx_test;

-- Errors: a SQLSTATE, the object's name, a hint where there is an obvious fix.
-- Each is followed by a query showing the session goes on working.
SELECT * FROM pgview_deps(NULL);
\echo :SQLSTATE
SELECT * FROM pgview_dependents(NULL);
\echo :SQLSTATE
SELECT * FROM pgview_dependents('orders', NULL);
\echo :SQLSTATE
SELECT * FROM pgview_dependents('orders_pkey');
\echo :SQLSTATE
SELECT * FROM pgview_dependencies('order_seq');
\echo :SQLSTATE
SELECT * FROM pgview_dependents('pg_class');
\echo :SQLSTATE
SELECT * FROM pgview_dependents(12345678::oid::regclass);
\echo :SQLSTATE
SELECT * FROM pgview_refresh_order(ARRAY['user_totals'::regclass, 'order_seq'::regclass]);
\echo :SQLSTATE
SELECT * FROM pgview_refresh_order(ARRAY[NULL::regclass]);
\echo :SQLSTATE
-- an error PostgreSQL raises inside our C++ code comes back unchanged
SELECT * FROM pgview_views('no_such_schema');
\echo :SQLSTATE
-- the C++ error path leaves the session, and the same functions, working
SELECT count(*) FROM pgview_deps();
SELECT * FROM pgview_refresh_order(ARRAY['top_report'::regclass]);
-- and an error inside a transaction rolls back only that transaction
BEGIN;
CREATE VIEW doomed AS SELECT 1 AS x FROM orders;
SELECT * FROM pgview_refresh_order(ARRAY['doomed'::regclass]);  -- nothing reads it
SELECT * FROM pgview_refresh_order(ARRAY['doomed'::regclass, 'orders_pkey'::regclass]);
ROLLBACK;
SELECT count(*) FROM pgview_dependents('orders') WHERE relation::text = 'doomed';

RESET search_path;
DROP SCHEMA shop CASCADE;
DROP SERVER nowhere;
DROP FOREIGN DATA WRAPPER no_fdw;
