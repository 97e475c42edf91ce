-- requires: preload
-- Delta arithmetic: table views whose columns are group keys and invertible
-- aggregates take each change as a delta (count + d, sum + d) instead of
-- recomputing the group; pgview_explain says which strategy a change of each
-- source gets and why; every refresh is exact (each check compares the view
-- with its query, bytes included) and recorded by strategy.
-- Needs shared memory for the figures per strategy (the line "requires:" above).
SET client_min_messages = warning;
CREATE SCHEMA delta;
SET search_path = delta, public;

-- The view equals its query, row for row and byte for byte (1.0 is not 1.00).
CREATE FUNCTION differing(view regclass, query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((SELECT v::text FROM %s v EXCEPT ALL SELECT q::text FROM (%s) q)
                  UNION ALL (SELECT q::text FROM (%s) q EXCEPT ALL SELECT v::text FROM %s v)) d',
                 view, query, query, view) INTO n;
  RETURN n;
END $$;
CREATE FUNCTION last_strategy(view regclass) RETURNS text LANGUAGE sql AS $$
  SELECT strategy FROM pgview_maintenance() WHERE matview = view ORDER BY last_refresh DESC LIMIT 1 $$;

-- W2's shape: the nullable side of a LEFT JOIN from a unique key.
CREATE TABLE users (id int PRIMARY KEY, name text);
CREATE TABLE orders (id bigserial PRIMARY KEY, user_id int, total numeric(10,2) NOT NULL);
CREATE INDEX ON orders (user_id);
INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 5) g;
INSERT INTO orders (user_id, total) SELECT 1 + g % 4, g * 1.25 FROM generate_series(1, 20) g;
SELECT pgview_create('user_stats',
  $$SELECT u.id AS user_id, u.name, count(o.id) AS order_count, coalesce(sum(o.total), 0) AS total_spent,
           avg(o.total) AS mean, sum(o.total) AS plain_sum
    FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id, u.name$$,
  kind => 'table view', unique_key => ARRAY['user_id']);
SELECT source, strategy, strategy_reason FROM pgview_explain('user_stats');
SELECT pgview_watch('user_stats');
\set w2 'SELECT u.id AS user_id, u.name, count(o.id) AS order_count, coalesce(sum(o.total), 0) AS total_spent, avg(o.total) AS mean, sum(o.total) AS plain_sum FROM delta.users u LEFT JOIN delta.orders o ON o.user_id = u.id GROUP BY u.id, u.name'
INSERT INTO orders (user_id, total) VALUES (1, 9.99);        -- first refresh of a new watch: full
INSERT INTO orders (user_id, total) VALUES (2, 10.01);
SELECT last_strategy('user_stats'), differing('user_stats', :'w2');
UPDATE orders SET total = total + 1 WHERE user_id = 3;       -- old rows out, new rows in
SELECT last_strategy('user_stats'), differing('user_stats', :'w2');
UPDATE orders SET user_id = 5 WHERE id IN (1, 2);            -- rows move between groups
SELECT last_strategy('user_stats'), differing('user_stats', :'w2');
DELETE FROM orders WHERE user_id = 5;                        -- user 5 back to no orders: 0, NULL avg
SELECT last_strategy('user_stats'), differing('user_stats', :'w2');
SELECT total_spent, mean, plain_sum FROM user_stats WHERE user_id = 5;  -- 0 as the query says it, not 0.00
INSERT INTO orders (user_id, total) VALUES (NULL, 5), (99, 5); -- rows in no group
SELECT last_strategy('user_stats'), differing('user_stats', :'w2');
INSERT INTO users VALUES (6, 'u6');                          -- a new group: its key is recomputed
SELECT last_strategy('user_stats'), differing('user_stats', :'w2');
BEGIN;                                                       -- both in one transaction: recompute
INSERT INTO users VALUES (7, 'u7');
INSERT INTO orders (user_id, total) VALUES (7, 1), (6, 2);
COMMIT;
SELECT last_strategy('user_stats'), differing('user_stats', :'w2');
COPY orders (user_id, total) FROM stdin;
1	1.50
2	2.50
7	3.50
\.
SELECT last_strategy('user_stats'), differing('user_stats', :'w2');
-- A savepoint rolled back: its rows are gone, so its deltas are not used.
BEGIN;
INSERT INTO orders (user_id, total) VALUES (1, 100);
SAVEPOINT s;
INSERT INTO orders (user_id, total) VALUES (2, 200);
ROLLBACK TO SAVEPOINT s;
INSERT INTO orders (user_id, total) VALUES (3, 300);
COMMIT;
SELECT last_strategy('user_stats'), differing('user_stats', :'w2');
-- ... a savepoint released keeps them.
BEGIN;
SAVEPOINT s;
INSERT INTO orders (user_id, total) VALUES (2, 7);
RELEASE SAVEPOINT s;
COMMIT;
SELECT last_strategy('user_stats'), differing('user_stats', :'w2');
UPDATE users SET name = 'renamed' WHERE id = 1;              -- the preserved side: recomputed
SELECT last_strategy('user_stats'), differing('user_stats', :'w2');
TRUNCATE orders;                                             -- no rows to take deltas from: in full
SELECT last_strategy('user_stats'), differing('user_stats', :'w2');

-- A view grouped by its own table: groups appear, grow, shrink and vanish.
CREATE TABLE events (id serial PRIMARY KEY, kind text, n int, big bigint);
CREATE INDEX ON events (kind);
INSERT INTO events (kind, n, big) SELECT 'k' || (g % 3), g, g * 1000000000000 FROM generate_series(1, 12) g;
SELECT pgview_create('per_kind',
  $$SELECT kind, count(*) AS rows, count(n) AS ns, sum(n) AS total, avg(n) AS mean, sum(big) AS big_total, count(big) AS bigs
    FROM events WHERE n IS DISTINCT FROM 13 GROUP BY kind$$,
  kind => 'table view', unique_key => ARRAY['kind']);
SELECT source, strategy, strategy_reason FROM pgview_explain('per_kind');
SELECT pgview_watch('per_kind');
\set pk 'SELECT kind, count(*) AS rows, count(n) AS ns, sum(n) AS total, avg(n) AS mean, sum(big) AS big_total, count(big) AS bigs FROM delta.events WHERE n IS DISTINCT FROM 13 GROUP BY kind'
UPDATE events SET n = n WHERE id = 1;                        -- the first refresh: full
INSERT INTO events (kind, n, big) VALUES ('k9', 1, 9);       -- a new group
SELECT last_strategy('per_kind'), differing('per_kind', :'pk');
INSERT INTO events (kind, n, big) VALUES ('k9', NULL, NULL), ('k0', 13, 0);  -- a NULL value; a row the filter drops
SELECT last_strategy('per_kind'), differing('per_kind', :'pk');
DELETE FROM events WHERE kind = 'k9' AND n = 1;              -- k9 left with a NULL n only: sum and avg NULL
SELECT last_strategy('per_kind'), differing('per_kind', :'pk');
SELECT * FROM per_kind WHERE kind = 'k9';
DELETE FROM events WHERE kind = 'k9';                        -- k9 vanishes
SELECT last_strategy('per_kind'), differing('per_kind', :'pk'), count(*) FILTER (WHERE kind = 'k9') AS k9 FROM per_kind;
UPDATE events SET kind = 'k1' WHERE kind = 'k2';             -- a group moves into another whole
SELECT last_strategy('per_kind'), differing('per_kind', :'pk');
UPDATE events SET big = 9223372036854775807 WHERE id IN (1, 4); -- int8 sums past int8: numeric
SELECT last_strategy('per_kind'), differing('per_kind', :'pk');
INSERT INTO events (kind, n) VALUES (NULL, 1);               -- a NULL key: found by recompute
SELECT last_strategy('per_kind'), differing('per_kind', :'pk');

-- min and max take deltas from inserts; a row out recomputes its key.
CREATE TABLE readings (id serial PRIMARY KEY, sensor int NOT NULL, v int, label text COLLATE "C");
INSERT INTO readings (sensor, v, label) SELECT g % 2, g, 'l' || g FROM generate_series(1, 6) g;
SELECT pgview_create('extremes',
  $$SELECT sensor, count(*) AS n, min(v) AS lo, max(v) AS hi, max(label) AS last_label FROM readings GROUP BY sensor$$,
  kind => 'table view', unique_key => ARRAY['sensor']);
SELECT source, strategy, strategy_reason FROM pgview_explain('extremes');
SELECT pgview_watch('extremes');
\set ex 'SELECT sensor, count(*) AS n, min(v) AS lo, max(v) AS hi, max(label) AS last_label FROM delta.readings GROUP BY sensor'
UPDATE readings SET v = v WHERE id = 1;                      -- the first refresh: full
INSERT INTO readings (sensor, v, label) VALUES (0, -5, 'zz'), (1, 100, 'a');
SELECT last_strategy('extremes'), differing('extremes', :'ex');
DELETE FROM readings WHERE v = 100;                          -- the max leaves: recompute
SELECT last_strategy('extremes'), differing('extremes', :'ex');

-- What delta arithmetic does not keep, and why (keyed recompute then).
CREATE TABLE m (g int, f float8, x numeric, y int);
SELECT pgview_create('m_float', $$SELECT g, count(*) AS n, sum(f) AS s FROM m GROUP BY g$$,
  kind => 'table view', unique_key => ARRAY['g']);
SELECT pgview_create('m_scale', $$SELECT g, count(*) AS n, sum(x) AS s FROM m GROUP BY g$$,
  kind => 'table view', unique_key => ARRAY['g']);
SELECT pgview_create('m_no_count', $$SELECT g, count(*) AS n, sum(y) AS s FROM m GROUP BY g$$,
  kind => 'table view', unique_key => ARRAY['g']);
SELECT pgview_create('m_no_rows', $$SELECT g, sum(y) AS s, count(y) AS c FROM m GROUP BY g$$,
  kind => 'table view', unique_key => ARRAY['g']);
SELECT pgview_create('m_having', $$SELECT g, count(*) AS n FROM m GROUP BY g HAVING count(*) > 1$$,
  kind => 'table view', unique_key => ARRAY['g']);
SELECT pgview_create('m_string', $$SELECT g, count(*) AS n, string_agg(x::text, ',') AS xs FROM m GROUP BY g$$,
  kind => 'table view', unique_key => ARRAY['g']);
SELECT pgview_create('m_numeric_key', $$SELECT x, count(*) AS n FROM m GROUP BY x$$,
  kind => 'table view', unique_key => ARRAY['x']);
SELECT v.v, e.strategy, e.strategy_reason
  FROM unnest(ARRAY['m_float', 'm_scale', 'm_no_count', 'm_no_rows', 'm_having', 'm_string', 'm_numeric_key']) v(v),
       pgview_explain(v.v::regclass) e ORDER BY v.v;

-- Writers who may not read the view: the deltas are applied as its owner.
CREATE ROLE delta_owner;
CREATE ROLE delta_writer;
CREATE TABLE shared_log (id serial PRIMARY KEY, who int NOT NULL, amount int NOT NULL);
ALTER TABLE shared_log OWNER TO delta_owner;
GRANT USAGE ON SCHEMA delta TO delta_owner, delta_writer;
GRANT CREATE ON SCHEMA delta TO delta_owner;
GRANT INSERT, UPDATE, DELETE, SELECT ON shared_log TO delta_writer;
GRANT USAGE ON SEQUENCE shared_log_id_seq TO delta_writer;
SET ROLE delta_owner;
SELECT pgview_create('per_who', $$SELECT who, count(*) AS n, sum(amount) AS total FROM delta.shared_log GROUP BY who$$,
  kind => 'table view', unique_key => ARRAY['who']);
SELECT pgview_watch('per_who');
INSERT INTO shared_log (who, amount) VALUES (1, 1);           -- the first refresh: full
RESET ROLE;
SET ROLE delta_writer;
SET search_path = public;                                    -- the writer's search_path plays no part
INSERT INTO delta.shared_log (who, amount) VALUES (1, 10), (2, 20);
SELECT count(*) FROM delta.per_who;                          -- (may not read it)
RESET ROLE;
SET search_path = delta, public;
SELECT last_strategy('per_who'), differing('per_who', 'SELECT who, count(*) AS n, sum(amount) AS total FROM delta.shared_log GROUP BY who');

-- What each view's maintenance cost, by strategy.
SELECT matview, strategy, refreshes > 0 AS refreshed,
       CASE WHEN strategy LIKE 'full%' THEN keys = 0 ELSE keys > 0 END AS keys_counted
  FROM pgview_maintenance() WHERE matview::text IN ('user_stats', 'per_kind', 'extremes', 'per_who')
  ORDER BY matview::text, strategy;
SELECT matview, last_strategy, incremental_refreshes > 0 AS incremental, delta_refreshes > 0 AS delta,
       rows_changed > 0 AS wrote
  FROM pgview_status() WHERE matview::text IN ('user_stats', 'per_kind', 'extremes', 'per_who') ORDER BY matview::text;

RESET search_path;
SELECT pgview_unwatch(v) FROM unnest(ARRAY['delta.user_stats', 'delta.per_kind', 'delta.extremes', 'delta.per_who']::regclass[]) v;
DROP SCHEMA delta CASCADE;
DROP ROLE delta_owner;
DROP ROLE delta_writer;
