-- requires: preload
-- Hints that send an application developer the right way (issue 23).
CREATE SCHEMA hi;
SET search_path = hi, public;
CREATE TABLE orders (id int PRIMARY KEY, customer int, amount int, note text);
INSERT INTO orders SELECT g, g % 3, g, 'n' || g FROM generate_series(1, 9) g;

-- or_replace of a matview that views read: keep them with save/restore (not a cascade drop)
SELECT pgview_create('totals', 'SELECT customer, sum(amount) AS total FROM orders GROUP BY customer',
                     kind => 'materialized view');
CREATE VIEW big_totals AS SELECT * FROM totals WHERE total > 10;
SELECT pgview_create('totals', 'SELECT customer, sum(amount) AS total FROM orders WHERE id > 1 GROUP BY customer',
                     kind => 'materialized view', or_replace => true);
\echo :LAST_ERROR_SQLSTATE
-- ... and the way the hint gives works
BEGIN;
SELECT pgview_save_dependents('totals');
SELECT pgview_create('totals', 'SELECT customer, sum(amount) AS total FROM orders WHERE id > 1 GROUP BY customer',
                     kind => 'materialized view', or_replace => true);
SELECT pgview_restore_dependents();
COMMIT;
SELECT * FROM big_totals ORDER BY customer;

-- a query with bind parameters, as SQLAlchemy's str(select(...)) or psycopg2's pyformat write it
SELECT pgview_create('mine', 'SELECT id, amount FROM orders WHERE customer = :customer_1 AND note <> ''a:b''');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('mine', 'SELECT id, amount FROM orders WHERE customer = %(customer_1)s');
\echo :LAST_ERROR_SQLSTATE
-- a cast, a literal or a comment holding a colon is no parameter; a plain syntax error keeps its hint
SELECT pgview_create('mine', 'SELECT id, amount::text FROM orders WHERE note <> '':x'' -- :y
                               WHERE');
\echo :LAST_ERROR_SQLSTATE
SELECT pgview_create('mine', 'SELECT id, amount FROM orders WHERE customer = 1');

-- pgview_wait inside a transaction that holds the view: commit first
SELECT pgview_create('per_customer', 'SELECT customer, count(*) AS n FROM orders GROUP BY customer',
                     kind => 'materialized view');
SELECT pgview_watch('per_customer', mode => 'async');
BEGIN;
SELECT count(*) FROM per_customer;
SELECT pgview_wait('per_customer', '1 second');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT pgview_wait('per_customer', '30 seconds');

SELECT pgview_unwatch('per_customer');
RESET search_path;
-- Leave no watch behind (a dropped view's watch would stay as an orphan).
SELECT count(pgview_unwatch(w.matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'hi'::regnamespace)) w;
DROP SCHEMA hi CASCADE;
