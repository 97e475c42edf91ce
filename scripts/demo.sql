-- pgview_auto demo: a small shop, its views, and what the extension knows about them.
CREATE EXTENSION pgview_auto;

CREATE TABLE users  (id int PRIMARY KEY, name text);
CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users, total numeric(10,2));
INSERT INTO users  SELECT g, 'user ' || g FROM generate_series(1, 5) g;
INSERT INTO orders (user_id, total) SELECT 1 + g % 5, g * 1.5 FROM generate_series(1, 20) g;

-- a view, a materialized view over it, and a materialized view over that
CREATE VIEW paid_orders AS SELECT * FROM orders WHERE total > 5;
CREATE MATERIALIZED VIEW user_stats AS
  SELECT u.id AS user_id, u.name, count(o.id) AS order_count, coalesce(sum(o.total), 0) AS total_spent
  FROM users u LEFT JOIN paid_orders o ON o.user_id = u.id GROUP BY u.id, u.name;
CREATE UNIQUE INDEX ON user_stats (user_id);
-- (the same with pgview_create, from SQL text, with its unique key)
SELECT pgview_create('top_spenders', 'SELECT * FROM user_stats ORDER BY total_spent DESC LIMIT 3',
                     kind => 'materialized view', unique_key => ARRAY['user_id']);

-- Who reads whom (direct edges), and everything reachable (transitive, shortest depth)
SELECT * FROM pgview_deps();
SELECT * FROM pgview_deps(true) ORDER BY dependent::text, depth;

-- What breaks if orders changes? Who must be refreshed, in which order?
SELECT * FROM pgview_dependents('orders');
SELECT * FROM pgview_refresh_order();

-- The views at a glance (can user_stats be refreshed CONCURRENTLY? yes: unique index)
SELECT view, kind, owner, populated, concurrent_refresh_ok, size_bytes, dependencies, dependents
FROM pgview_views();

-- Keep user_stats fresh: watch every table under it (found through the view paid_orders),
-- and top_spenders, which reads user_stats (refreshed right after it, in the same commit)
SELECT pgview_watch('user_stats');
SELECT pgview_watch('top_spenders');
SELECT * FROM pgview_watches;

-- Any writer, any client: the views are fresh when the transaction commits
SELECT * FROM top_spenders;
BEGIN;
INSERT INTO orders (user_id, total) VALUES (2, 500);
INSERT INTO orders (user_id, total) VALUES (2, 250);
COMMIT;
SELECT * FROM top_spenders;

-- One refresh per transaction, CONCURRENTLY where a unique index allows it
SELECT matview, mode, sources, refresh_count, last_concurrently, failures FROM pgview_status();

-- A table view: a table kept equal to its query, refreshed by key (only the rows
-- of the users whose orders changed), here by the background worker after commit
CREATE INDEX ON orders (user_id);
SELECT pgview_create('user_totals',
  'SELECT u.id AS user_id, count(o.id) AS orders, coalesce(sum(o.total), 0) AS spent
   FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id',
  kind => 'table view', unique_key => ARRAY['user_id']);
SELECT pgview_watch('user_totals', mode => 'async');
SELECT source, refresh, key_from FROM pgview_explain('user_totals');

-- The whole picture: Graphviz DOT (scripts/demo.sh draws it with dot -Tsvg into
-- doc/images/demo_graph.svg) or a Mermaid flowchart (for Markdown), whole or
-- around one relation; watched arrows say mode and strategy
\pset format unaligned
\pset tuples_only on
SELECT pgview_graph();
SELECT pgview_graph('mermaid', root => 'paid_orders');
\pset format aligned
\pset tuples_only off

-- Errors come with a SQLSTATE, the object's name and a hint
\set VERBOSITY verbose
SELECT * FROM pgview_refresh_order(ARRAY['orders'::regclass]);
SELECT pgview_watch('paid_orders');
