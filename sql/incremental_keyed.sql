-- Incremental refresh of table views: which changes can be keyed (pgview_explain),
-- keyed refreshes at commit, and the cases refreshed in full.
SET client_min_messages = warning;
-- Keyed recompute throughout (delta arithmetic, which would take some of these
-- views, has sql/delta_arithmetic; its figures need shared memory).
SET pgview_auto.delta = off;
CREATE SCHEMA inc;
SET search_path = inc, public;

CREATE TABLE regions (name text PRIMARY KEY, zone text);
CREATE TABLE accounts (id int PRIMARY KEY, region text, kind text);
CREATE INDEX ON accounts (region);
CREATE TABLE ledger (id int PRIMARY KEY, account_id int, amount numeric, day timestamp);
CREATE INDEX ON ledger (account_id);
INSERT INTO regions VALUES ('north', 'z1'), ('south', 'z1'), ('east', 'z2'), ('west', NULL);
INSERT INTO accounts VALUES (1, 'north', 'a'), (2, 'south', 'b'), (3, 'east', 'a'), (4, NULL, 'b'), (5, 'west', 'a');
INSERT INTO ledger SELECT g, 1 + g % 5, g * 1.5, timestamp '2026-01-01' + g * interval '7 hours' FROM generate_series(1, 40) g;
INSERT INTO ledger VALUES (41, NULL, 100, NULL);

-- How a change finds the keys it touches.
-- The key is a column of the changed table, directly or through an inner join's equality.
SELECT pgview_create('by_account',
  $$SELECT l.account_id, a.kind, count(*) AS n, sum(l.amount) AS total
    FROM ledger l JOIN accounts a ON a.id = l.account_id GROUP BY l.account_id, a.kind$$,
  kind => 'table view', unique_key => ARRAY['account_id']);
SELECT * FROM pgview_explain('by_account');
-- ... through joins to another table's column (accounts.region through ledger.account_id).
SELECT pgview_create('by_region',
  $$SELECT a.region, count(*) AS n, sum(l.amount) AS total, min(l.amount) AS lo, max(l.amount) AS hi,
           avg(l.amount) AS mean, count(DISTINCT l.account_id) AS accounts,
           string_agg(l.id::text, ',' ORDER BY l.id) AS ids
    FROM ledger l JOIN accounts a ON a.id = l.account_id GROUP BY a.region HAVING count(*) > 1$$,
  kind => 'table view', unique_key => ARRAY['region']);
SELECT * FROM pgview_explain('by_region');
-- ... an immutable expression of the changed row (a time bucket); the missing index is named.
SELECT pgview_create('by_day',
  $$SELECT date_trunc('day', day) AS d, count(*) AS n FROM ledger WHERE amount > 3 GROUP BY 1$$,
  kind => 'table view', unique_key => ARRAY['d']);
SELECT * FROM pgview_explain('by_day');
-- ... the preserved side of a LEFT JOIN (users/orders of W2), a nested view, a subquery in FROM.
CREATE VIEW account_totals AS SELECT account_id, sum(amount) AS total FROM ledger GROUP BY account_id;
SELECT pgview_create('accounts_left',
  $$SELECT a.id, a.kind, t.total, w.n FROM accounts a LEFT JOIN account_totals t ON t.account_id = a.id
    LEFT JOIN (SELECT account_id, count(*) AS n FROM ledger GROUP BY account_id) w ON w.account_id = a.id$$,
  kind => 'table view', unique_key => ARRAY['id']);
SELECT * FROM pgview_explain('accounts_left');
-- ... UNION ALL of branches keyed alike, a multi-column key, a window partitioned by the key.
SELECT pgview_create('two_kinds',
  $$SELECT 'account' AS src, region AS name, count(*) AS n,
           rank() OVER (PARTITION BY 'account', region ORDER BY count(*)) AS r
    FROM accounts GROUP BY region
    UNION ALL SELECT 'zone', zone, count(*), 1 FROM regions GROUP BY zone$$,
  kind => 'table view', unique_key => ARRAY['src', 'name']);
SELECT * FROM pgview_explain('two_kinds');

-- Refreshed in full, and why.
SELECT pgview_create('ranked',
  $$SELECT account_id, sum(amount) AS total, rank() OVER (ORDER BY sum(amount)) AS r
    FROM ledger GROUP BY account_id$$,
  kind => 'table view', unique_key => ARRAY['account_id']);
SELECT * FROM pgview_explain('ranked');
SELECT pgview_create('top3', $$SELECT id, amount FROM ledger ORDER BY amount DESC LIMIT 3$$,
  kind => 'table view', unique_key => ARRAY['id']);
SELECT * FROM pgview_explain('top3');
SELECT pgview_create('above_avg',
  $$SELECT id, amount FROM ledger WHERE amount > (SELECT avg(amount) FROM ledger l2 WHERE l2.account_id = 3)$$,
  kind => 'table view', unique_key => ARRAY['id']);
SELECT * FROM pgview_explain('above_avg');
SELECT pgview_create('noisy', $$SELECT id, amount * random() AS x FROM ledger$$,
  kind => 'table view', unique_key => ARRAY['id']);
SELECT * FROM pgview_explain('noisy');
SELECT pgview_create('nullable_key',
  $$SELECT l.account_id, count(*) AS n FROM accounts a LEFT JOIN ledger l ON l.account_id = a.id
    GROUP BY l.account_id$$,
  kind => 'table view', unique_key => ARRAY['account_id']);
SELECT * FROM pgview_explain('nullable_key');
SELECT pgview_create('total', $$SELECT 1 AS k, sum(amount) AS total FROM ledger$$,
  kind => 'table view', unique_key => ARRAY['k']);
SELECT * FROM pgview_explain('total');
-- (no key, as unique_key => '{}' asks: rows compared whole)
SELECT pgview_create('keyless', $$SELECT kind FROM accounts$$, kind => 'table view', unique_key => '{}');
SELECT * FROM pgview_explain('keyless');
CREATE MATERIALIZED VIEW mv_regions AS SELECT region, count(*) FROM accounts GROUP BY region;
SELECT * FROM pgview_explain('mv_regions');

-- pgview_watch(..., incremental): NULL where possible, true required, false never.
SELECT pgview_watch('by_region', incremental => true);
SELECT pgview_watch('ranked', incremental => true);
SELECT pgview_watch('mv_regions', incremental => true);
SELECT pgview_watch('keyless', incremental => true);
SELECT pgview_watch('by_account', incremental => false);
SELECT * FROM pgview_explain('by_account');
SELECT matview, source, incremental FROM pgview_watches WHERE matview::text IN ('by_region', 'by_account') ORDER BY 1, 2;
SELECT pgview_explain(NULL);
SELECT * FROM pgview_explain('accounts');

-- Keyed refreshes at commit: one per transaction, only the changed keys.
SELECT pgview_watch('by_account', incremental => NULL);
SELECT pgview_watch('by_day');
SELECT pgview_watch('accounts_left');
SELECT pgview_watch('two_kinds');
CREATE VIEW stats AS
  SELECT matview::text, refresh_count AS full, incremental_refreshes AS keyed, last_keys FROM pgview_status()
  WHERE matview::text IN ('by_account', 'by_region', 'by_day', 'accounts_left', 'two_kinds') ORDER BY 1;
-- The table views equal their queries (0 rows differ, both ways).
CREATE FUNCTION differing(tv regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((TABLE %s EXCEPT ALL TABLE %s) UNION ALL (TABLE %2$s EXCEPT ALL TABLE %1$s)) d',
                 tv, (SELECT definition FROM pgview_auto.table_view WHERE relation = tv)) INTO n;
  RETURN n;
END $$;
CREATE VIEW fresh AS
  SELECT differing('by_account') + differing('by_region') + differing('by_day') + differing('accounts_left')
         + differing('two_kinds') AS differing_rows;
-- The first refresh after a watch is full (the table view may be stale from
-- before it, which keyed refreshes would not repair); later ones are keyed.
UPDATE ledger SET amount = amount WHERE id = 1;
UPDATE regions SET zone = zone WHERE name = 'north';
SELECT * FROM stats;
BEGIN;
INSERT INTO ledger VALUES (100, 2, 10, '2026-01-03 10:00');
UPDATE ledger SET amount = amount + 1 WHERE id = 7;
UPDATE ledger SET account_id = 3 WHERE id = 8;   -- the key moves
DELETE FROM ledger WHERE id = 9;
COMMIT;
SELECT * FROM stats;
SELECT * FROM fresh;
-- A change to a joined table moves keys through the join; NULL keys too.
UPDATE accounts SET region = 'south' WHERE id = 1;
UPDATE accounts SET region = NULL WHERE id = 3;
INSERT INTO ledger VALUES (101, 4, 5, '2026-01-05');
SELECT * FROM stats;
SELECT * FROM fresh;
SELECT region, n, total, ids FROM by_region ORDER BY region;
-- COPY, and a rolled-back savepoint (its keys are refreshed too: harmless).
COPY ledger FROM stdin;
200	5	1	2026-01-02
201	5	2	2026-01-02
\.
BEGIN;
INSERT INTO ledger VALUES (300, 1, 1, '2026-01-09');
SAVEPOINT s;
DELETE FROM ledger WHERE account_id = 5;
ROLLBACK TO s;
COMMIT;
SELECT * FROM fresh;
-- Past pgview_auto.max_keys a refresh is full; TRUNCATE is full.
SET pgview_auto.max_keys = 2;
UPDATE ledger SET amount = amount * 2 WHERE id <= 12;
RESET pgview_auto.max_keys;
SELECT * FROM stats;
TRUNCATE regions;
SELECT * FROM stats;
SELECT * FROM fresh;
-- A rolled-back transaction refreshes nothing.
BEGIN;
DELETE FROM ledger;
ROLLBACK;
SELECT * FROM stats;

-- A partitioned source: rows written through the parent and straight into a
-- partition are captured (in the parent's shape, or mapped by column name).
CREATE TABLE sales (region text, amount int, id int) PARTITION BY LIST (region);
CREATE TABLE sales_north PARTITION OF sales FOR VALUES IN ('north');
CREATE TABLE sales_rest (id int, amount int, region text);   -- columns in another order
ALTER TABLE sales ATTACH PARTITION sales_rest DEFAULT;
CREATE INDEX ON sales (region);
INSERT INTO sales VALUES ('north', 1, 1), ('south', 2, 2), ('east', 3, 3);
SELECT pgview_create('sales_by_region', 'SELECT region, sum(amount) AS total, count(*) AS n FROM sales GROUP BY region',
  kind => 'table view', unique_key => ARRAY['region']);
SELECT pgview_watch('sales_by_region');
INSERT INTO sales VALUES ('west', 4, 4);                         -- the first refresh, full
INSERT INTO sales VALUES ('north', 10, 5);                       -- through the parent
INSERT INTO sales_north VALUES ('north', 100, 6);                -- straight into a partition
INSERT INTO sales_rest (id, amount, region) VALUES (7, 1000, 'south');
UPDATE sales SET region = 'east' WHERE id = 1;                   -- moves to another partition
DELETE FROM sales_rest WHERE id = 3;
SELECT region, total, n FROM sales_by_region ORDER BY region;
SELECT differing('sales_by_region') AS differing, refresh_count AS full, incremental_refreshes AS keyed
FROM pgview_status() WHERE matview = 'sales_by_region'::regclass;

-- The keyed refresh runs as the table view's owner, with a safe search_path;
-- a writer needs no rights on the table view, nor on the functions of its key
-- (evaluated on the changed rows with the owner's rights).
CREATE FUNCTION inc.bucket(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 / 2';
REVOKE EXECUTE ON FUNCTION inc.bucket(int) FROM PUBLIC;
SELECT pgview_create('by_bucket', $$SELECT inc.bucket(account_id) AS b, count(*) AS n FROM ledger GROUP BY 1$$,
  kind => 'table view', unique_key => ARRAY['b']);
SELECT source, refresh, key_from FROM pgview_explain('by_bucket');
SELECT pgview_watch('by_bucket');
UPDATE ledger SET amount = amount WHERE id = 2;  -- the first refresh, full
CREATE ROLE inc_writer;
GRANT USAGE ON SCHEMA inc TO inc_writer;
GRANT INSERT, UPDATE ON inc.ledger TO inc_writer;
SET ROLE inc_writer;
INSERT INTO ledger VALUES (400, 1, 7, '2026-01-04');
RESET ROLE;
SELECT * FROM fresh;
SELECT differing('by_bucket') AS by_bucket_differing, incremental_refreshes, last_keys
FROM pgview_status() WHERE matview = 'by_bucket'::regclass;

RESET search_path;
-- Leave no watch behind (a dropped view's watch would stay as an orphan).
SELECT count(pgview_unwatch(w.matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'inc'::regnamespace)) w;
DROP SCHEMA inc CASCADE;
DROP ROLE inc_writer;
