-- requires: prepared_transactions
-- PREPARE TRANSACTION with a watched matview: refreshed at PREPARE (never
-- CONCURRENTLY, which needs a temporary table), kept by COMMIT PREPARED, undone
-- with the data by ROLLBACK PREPARED. Needs max_prepared_transactions > 0
-- ("requires:" above).
CREATE SCHEMA prep;
SET search_path = prep, public;
CREATE TABLE orders (id serial PRIMARY KEY, user_id int, total numeric);
INSERT INTO orders (user_id, total) VALUES (1, 10), (2, 7);
CREATE MATERIALIZED VIEW user_totals AS SELECT user_id, sum(total) AS spent FROM orders GROUP BY user_id;
CREATE UNIQUE INDEX ON user_totals (user_id);   -- CONCURRENTLY would be possible
SELECT pgview_watch('user_totals');
BEGIN;
INSERT INTO orders (user_id, total) VALUES (1, 1000);
PREPARE TRANSACTION 'pgview_2pc';
COMMIT PREPARED 'pgview_2pc';
SELECT * FROM user_totals ORDER BY user_id;
SELECT refresh_count, last_concurrently FROM pgview_status() WHERE matview = 'user_totals'::regclass;
BEGIN;
INSERT INTO orders (user_id, total) VALUES (2, 1000);
PREPARE TRANSACTION 'pgview_2pc';
ROLLBACK PREPARED 'pgview_2pc';
SELECT * FROM user_totals ORDER BY user_id;
SELECT refresh_count FROM pgview_status() WHERE matview = 'user_totals'::regclass;
-- clean up
SELECT pgview_unwatch('user_totals');
RESET search_path;
DROP SCHEMA prep CASCADE;
