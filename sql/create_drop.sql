-- pgview_create and pgview_drop: views and materialized views from SQL text.
-- (Each error's SQLSTATE is echoed after it.)
\set SHOW_CONTEXT never
CREATE SCHEMA c;
SET search_path = c, public;
CREATE TABLE orders (id int PRIMARY KEY, user_id int, amount numeric);
INSERT INTO orders SELECT g, g % 3, g FROM generate_series(1, 30) g;
CREATE VIEW kinds AS
  SELECT relname, relkind, reloptions FROM pg_class
  WHERE relnamespace = 'c'::regnamespace AND relkind IN ('v', 'm') ORDER BY relname;

-- A view; the trailing semicolon and comment are not part of it
SELECT pgview_create('big_orders', 'SELECT id, amount FROM orders WHERE amount > 20;  -- big ones');
SELECT count(*) FROM big_orders;
-- view options
SELECT pgview_create('c.secure', 'SELECT id FROM orders', options => ARRAY['security_barrier=true', 'check_option = local']);
-- a materialized view with storage parameters and a unique key; quoted names keep their case
SELECT pgview_create('c."User Stats"', 'SELECT user_id, count(*) AS n, sum(amount) AS total FROM orders GROUP BY user_id',
                     kind => 'materialized view', options => ARRAY['fillfactor=70'], unique_key => ARRAY['user_id']);
SELECT * FROM "User Stats" ORDER BY user_id;
SELECT indexrelid::regclass, indisunique FROM pg_index WHERE indrelid = '"User Stats"'::regclass;
-- without data
SELECT pgview_create('empty_mv', 'SELECT 1 AS x', kind => 'materialized view', with_data => false);
SELECT relispopulated FROM pg_class WHERE oid = 'empty_mv'::regclass;
SELECT * FROM kinds;

-- if_not_exists: the existing one is returned
SELECT pgview_create('big_orders', 'SELECT 1', if_not_exists => true);
SELECT pgview_create('c.big_orders', 'SELECT 1', kind => 'materialized view', if_not_exists => true);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('orders', 'SELECT 1', if_not_exists => true);
\echo :LAST_ERROR_SQLSTATE
-- taken, without or_replace / if_not_exists
SELECT pgview_create('big_orders', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE

-- or_replace on a view: CREATE OR REPLACE VIEW rules (columns may be added, not dropped)
SELECT pgview_create('big_orders', 'SELECT id, amount, user_id FROM orders WHERE amount > 25', or_replace => true);
SELECT count(*) FROM big_orders;
SELECT pgview_create('big_orders', 'SELECT id FROM orders', or_replace => true);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('big_orders', 'SELECT 1', kind => 'materialized view', or_replace => true);
\echo :LAST_ERROR_SQLSTATE

-- or_replace on a materialized view keeps owner, grants, comments, indexes that
-- still apply, storage parameters, and its watch
CREATE ROLE pgview_create_owner;
CREATE ROLE pgview_create_reader;
GRANT USAGE, CREATE ON SCHEMA c TO pgview_create_owner;
GRANT USAGE ON SCHEMA c TO pgview_create_reader;
GRANT SELECT ON orders TO pgview_create_owner;
ALTER MATERIALIZED VIEW "User Stats" OWNER TO pgview_create_owner;
GRANT SELECT ON "User Stats" TO pgview_create_reader;
COMMENT ON MATERIALIZED VIEW "User Stats" IS 'per user';
COMMENT ON COLUMN "User Stats".n IS 'how many orders';
COMMENT ON COLUMN "User Stats".total IS 'their sum';
CREATE INDEX by_total ON "User Stats" (total);
CREATE INDEX by_n ON "User Stats" (n);
SELECT pgview_watch('"User Stats"', 'orders');
SELECT pgview_create('"User Stats"', 'SELECT user_id, count(*) AS n, max(amount) AS biggest FROM orders GROUP BY user_id',
                     kind => 'materialized view', or_replace => true);
SELECT * FROM "User Stats" ORDER BY user_id;
SELECT relowner::regrole, relacl, reloptions, obj_description(oid, 'pg_class') FROM pg_class WHERE oid = '"User Stats"'::regclass;
SELECT attname, col_description(attrelid, attnum) FROM pg_attribute WHERE attrelid = '"User Stats"'::regclass AND attnum > 0 ORDER BY attnum;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = '"User Stats"'::regclass ORDER BY indexrelid::regclass::text;
SELECT matview, source, mode, orphaned FROM pgview_watches WHERE matview = '"User Stats"'::regclass;
INSERT INTO orders VALUES (100, 1, 1000);
SELECT * FROM "User Stats" WHERE user_id = 1;
-- a view reading it would be lost: refused, nothing changes
CREATE VIEW reads_stats AS SELECT * FROM "User Stats";
SELECT pgview_create('"User Stats"', 'SELECT 1 AS user_id', kind => 'materialized view', or_replace => true);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM "User Stats";
-- only the owner may replace it
SET ROLE pgview_create_reader;
SELECT pgview_create('empty_mv', 'SELECT 2 AS x', kind => 'materialized view', or_replace => true);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- Bad input: a clear error, nothing created
SELECT pgview_create('x', 'SELECT 1; DROP TABLE orders');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'DELETE FROM orders RETURNING id');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1 INTO new_table');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', '  ');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', '-- nothing');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELEC 1');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('a.b.c', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('"unterminated', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x; DROP TABLE orders', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('no_such_schema.x', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1', kind => 'index');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1', kind => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1', options => ARRAY['fillfactor=70']);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1', options => ARRAY['security_barrier']);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1', options => ARRAY['security_barrier=true', 'security_barrier=false']);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1', options => ARRAY['security_barrier=maybe']);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1', options => ARRAY['x) WITH (y=1']);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1', options => ARRAY[NULL]);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1', kind => 'materialized view', options => ARRAY['security_barrier=true']);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1', kind => 'materialized view', options => ARRAY['bogus=1']);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1 AS a', kind => 'materialized view', unique_key => ARRAY['nope']);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1 AS a', kind => 'materialized view', unique_key => ARRAY['a', 'a']);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1 AS a', unique_key => ARRAY['a']);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1 AS a', with_data => false);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT 1', or_replace => true, if_not_exists => true);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('x', 'SELECT no_such_column FROM orders');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kinds;

-- pgview_drop: views and materialized views only
SELECT pgview_drop('orders');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_drop('orders_pkey');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_drop('nope');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_drop('nope', if_exists => true);
SELECT pgview_drop(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_drop('"User Stats"');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_drop('c."User Stats"', cascade => true);
SELECT pgview_drop('secure');
SELECT pgview_drop('empty_mv');
SELECT * FROM kinds;
-- the dropped watched matview took its watch with it (pgview_drop; DROP MATERIALIZED VIEW keeps an orphan)
SELECT matview, source, orphaned FROM pgview_watches WHERE orphaned::text LIKE 'c.%';

DROP SCHEMA c CASCADE;
DROP ROLE pgview_create_reader;
DROP OWNED BY pgview_create_owner;
DROP ROLE pgview_create_owner;
