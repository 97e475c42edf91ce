-- requires: preload
-- A new user's path through watches (issue 14): no dead ends after DDL, and
-- pgview_unwatch removes exactly what pgview_watch added.
-- Needs the background worker (manual mode, schedules): the line "requires:"
-- above has the test command run it on a server with it only.
\set SHOW_CONTEXT never
CREATE SCHEMA up;
SET search_path = up, public;
CREATE TABLE orders (id serial PRIMARY KEY, day date NOT NULL, amount numeric NOT NULL);
CREATE TABLE users (id int PRIMARY KEY, name text);
INSERT INTO orders (day, amount) SELECT DATE '2025-01-01' + g % 3, g FROM generate_series(1, 9) g;
CREATE VIEW v_orders AS SELECT * FROM orders;

-- 1. A table view whose definition is dropped alone is a plain table: its watch
--    and schedule go with the definition (NOTICE), and writes to its sources work.
SELECT pgview_create('per_day', 'SELECT day, sum(amount) AS total FROM orders GROUP BY day',
                     kind => 'table view', unique_key => ARRAY['day']);
SELECT pgview_watch('per_day');
SELECT pgview_schedule('per_day', '1 hour');
DROP VIEW pgview_query.per_day;
SELECT count(*) AS watches FROM pgview_watches WHERE matview = 'per_day'::regclass;
SELECT count(*) AS schedules FROM pgview_auto.schedule;
SELECT count(*) AS status_rows FROM pgview_status() WHERE matview = 'per_day'::regclass;
SELECT tgrelid::regclass FROM pg_trigger WHERE tgname = 'pgview_auto_capture';
INSERT INTO orders (day, amount) VALUES ('2025-01-01', 1);    -- commit mode: nothing to refresh, no error
SELECT pgview_unwatch('per_day');                              -- a plain table: nothing to unwatch
\echo :LAST_ERROR_SQLSTATE
-- in manual mode, with a change pending when the definition goes
SELECT pgview_create('per_day_m', 'SELECT day, count(*) AS n FROM orders GROUP BY day', kind => 'table view');
SELECT pgview_watch('per_day_m', mode => 'manual');
INSERT INTO orders (day, amount) VALUES ('2025-01-02', 2);
DROP VIEW pgview_query.per_day_m;
INSERT INTO orders (day, amount) VALUES ('2025-01-02', 3);
SELECT pgview_refresh_pending();                               -- nothing left to refresh, no error
SELECT count(*) AS watches FROM pgview_watches WHERE matview::text LIKE 'per_day%';
-- and by CASCADE from a table the definition reads
CREATE TABLE extra (day date, note text);
SELECT pgview_create('notes', 'SELECT day, count(*) AS n FROM extra GROUP BY day', kind => 'table view');
SELECT pgview_watch('notes');
DROP TABLE extra CASCADE;
SELECT count(*) AS watches FROM pgview_watches WHERE matview = 'notes'::regclass;
DROP TABLE per_day, per_day_m, notes;

-- 2. pgview_unwatch(mv, source) removes what pgview_watch(mv, source) added, no
--    more, and counts the pgview_watches rows that disappear.
CREATE MATERIALIZED VIEW mv AS SELECT u.id, count(o.id) AS n FROM users u, v_orders o GROUP BY u.id;
SELECT pgview_watch('mv');
SELECT pgview_watch('mv', 'v_orders');
SELECT source, via FROM pgview_watches WHERE matview = 'mv'::regclass ORDER BY source::text, via::text;
-- the request for v_orders goes; its rows duplicated the watch of everything: 0 rows vanish
SELECT pgview_unwatch('mv', 'v_orders');
SELECT source, via FROM pgview_watches WHERE matview = 'mv'::regclass ORDER BY source::text, via::text;
-- a source only the watch of everything covers: nothing removed, NOTICE says how
SELECT pgview_unwatch('mv', 'users');
SELECT pgview_unwatch('mv', 'v_orders');
-- a relation mv does not watch at all
SELECT pgview_unwatch('mv', 'mv');
-- named requests: each goes alone, with the pgview_watches rows only it held
SELECT pgview_unwatch('mv');
SELECT pgview_watch('mv', 'orders');
SELECT pgview_watch('mv', 'v_orders');
SELECT pgview_watch('mv', 'users');
SELECT source, via FROM pgview_watches WHERE matview = 'mv'::regclass ORDER BY source::text, via::text;
SELECT pgview_unwatch('mv', 'v_orders');
SELECT source, via FROM pgview_watches WHERE matview = 'mv'::regclass ORDER BY source::text, via::text;
SELECT pgview_unwatch('mv', 'users');
SELECT tgrelid::regclass FROM pg_trigger WHERE tgname = 'pgview_auto_capture' ORDER BY tgrelid::text;
SELECT pgview_unwatch('mv');
SELECT count(*) AS options_rows FROM pgview_auto.watched;

-- 12. A watch whose last source is dropped goes too (NOTICE): pgview_status shows
--     no matview watching nothing.
CREATE TABLE side (x int);
SELECT pgview_watch('mv', 'side');
DROP TABLE side;
SELECT count(*) AS status_rows FROM pgview_status() WHERE matview = 'mv'::regclass;
SELECT count(*) AS options_rows FROM pgview_auto.watched;
-- with another source left, the watch stays
CREATE TABLE side (x int);
SELECT pgview_watch('mv', 'side');
SELECT pgview_watch('mv', 'orders');
DROP TABLE side;
SELECT matview, mode, sources FROM pgview_status() WHERE matview = 'mv'::regclass;
SELECT pgview_unwatch('mv');

-- 9. Hints fit the function: a table given to pgview_unwatch
SELECT pgview_unwatch('orders');
\echo :LAST_ERROR_SQLSTATE

RESET search_path;
DROP SCHEMA up CASCADE;
DELETE FROM pgview_auto.refresh_stats;
