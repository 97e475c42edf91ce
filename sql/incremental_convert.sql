-- requires: preload
-- A materialized view becomes an incremental table view in one call:
-- pgview_create(..., kind => 'table view', or_replace => true) on its name keeps
-- its owner, grants, comments, storage parameters, indexes that apply, its watch
-- and its schedule; the watch then refreshes incrementally.
-- Needs the background worker (manual mode, schedules): the line "requires:"
-- above has the test command run it on a server with it only.
SET client_min_messages = notice;
CREATE ROLE conv_owner;
CREATE ROLE conv_reader;
CREATE SCHEMA conv;
GRANT USAGE, CREATE ON SCHEMA conv TO conv_owner;
GRANT USAGE ON SCHEMA conv TO conv_reader;
SET search_path = conv, public;
CREATE TABLE orders (id serial PRIMARY KEY, user_id int, total numeric);
CREATE INDEX ON orders (user_id);
INSERT INTO orders (user_id, total) SELECT g % 10, g FROM generate_series(1, 100) g;
GRANT SELECT, TRIGGER ON orders TO conv_owner;
SET ROLE conv_owner;
CREATE MATERIALIZED VIEW user_totals WITH (fillfactor = 70) AS
  SELECT user_id, sum(total) AS total, count(*) AS n FROM orders GROUP BY user_id;
CREATE UNIQUE INDEX user_totals_user ON user_totals (user_id);
CREATE INDEX user_totals_total ON user_totals (total);
COMMENT ON MATERIALIZED VIEW user_totals IS 'per user';
COMMENT ON COLUMN user_totals.n IS 'orders';
GRANT SELECT ON user_totals TO conv_reader;
SELECT pgview_watch('user_totals', mode => 'manual');
SELECT pgview_schedule('user_totals', '10 minutes');
SELECT * FROM pgview_explain('user_totals');
RESET ROLE;
-- Not its owner: refused before anything changes.
CREATE ROLE conv_stranger;
GRANT USAGE, CREATE ON SCHEMA conv TO conv_stranger;
SET ROLE conv_stranger;
SELECT pgview_create('conv.user_totals', 'SELECT user_id, sum(total) AS total FROM conv.orders GROUP BY user_id',
                     kind => 'table view', unique_key => ARRAY['user_id'], or_replace => true);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- A view reading it would be lost: refused.
CREATE VIEW reads_totals AS SELECT * FROM user_totals;
SELECT pgview_create('user_totals', 'SELECT user_id, sum(total) AS total, count(*) AS n FROM orders GROUP BY user_id',
                     kind => 'table view', unique_key => ARRAY['user_id'], or_replace => true);
\echo :LAST_ERROR_SQLSTATE
DROP VIEW reads_totals;
-- Converted (by a superuser, for its owner).
SELECT pgview_create('user_totals', 'SELECT user_id, sum(total) AS total, count(*) AS n FROM orders GROUP BY user_id',
                     kind => 'table view', unique_key => ARRAY['user_id'], or_replace => true);
SELECT relkind, pg_get_userbyid(relowner) AS owner, reloptions, relacl, obj_description(oid, 'pg_class') AS comment
FROM pg_class WHERE oid = 'user_totals'::regclass;
SELECT pg_get_userbyid(relowner) AS definition_owner FROM pg_class WHERE oid = 'pgview_query.user_totals'::regclass;
SELECT col_description('user_totals'::regclass, 3) AS n_comment;
SELECT indexrelid::regclass, pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'user_totals'::regclass ORDER BY indexrelid::regclass::text;
SELECT matview, source, mode, incremental FROM pgview_watches WHERE matview = 'user_totals'::regclass;
SELECT matview, every, only_if_dirty FROM pgview_auto.schedule WHERE matview = 'user_totals'::regclass;
SELECT * FROM pgview_explain('user_totals');
-- The first refresh after the watch came back is full, the next ones keyed.
INSERT INTO orders (user_id, total) VALUES (3, 1000);
SELECT pgview_refresh_pending('user_totals');
INSERT INTO orders (user_id, total) VALUES (4, 1000);
SELECT pgview_refresh_pending('user_totals');
SELECT refresh_count, incremental_refreshes, last_keys FROM pgview_status() WHERE matview = 'user_totals'::regclass;
SELECT count(*) AS differing FROM ((TABLE user_totals EXCEPT ALL TABLE pgview_query.user_totals)
  UNION ALL (TABLE pgview_query.user_totals EXCEPT ALL TABLE user_totals)) d;
-- Keys waiting for pgview_refresh_pending count once however often they change,
-- and all of them are recomputed: pgview_auto.max_keys bounds one transaction's keys.
SET pgview_auto.max_keys = 2;
INSERT INTO orders (user_id, total) VALUES (5, 1), (6, 1);
INSERT INTO orders (user_id, total) VALUES (5, 1), (6, 1);
INSERT INTO orders (user_id, total) VALUES (7, 1), (8, 1);
INSERT INTO orders (user_id, total) VALUES (5, 1);
SELECT pgview_refresh_pending('user_totals');
RESET pgview_auto.max_keys;
SELECT refresh_count, incremental_refreshes, last_keys FROM pgview_status() WHERE matview = 'user_totals'::regclass;
SELECT count(*) AS differing FROM ((TABLE user_totals EXCEPT ALL TABLE pgview_query.user_totals)
  UNION ALL (TABLE pgview_query.user_totals EXCEPT ALL TABLE user_totals)) d;
SET ROLE conv_reader;
SELECT n FROM conv.user_totals WHERE user_id = 4;
RESET ROLE;

SELECT pgview_unwatch('user_totals');
RESET search_path;
DROP SCHEMA conv CASCADE;
DROP ROLE conv_owner;
DROP ROLE conv_reader;
DROP ROLE conv_stranger;
