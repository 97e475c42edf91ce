-- Keys the engine finds itself (issue 22): a table view created without
-- unique_key is keyed by what its query's shape makes unique (its GROUP BY
-- columns, all its columns under DISTINCT, the primary keys of the tables it
-- reads through inner joins), said in a NOTICE, and then refreshed by key like
-- one given a key; a query whose rows may repeat is keyed by plain columns
-- that only partition its rows (sql/partition_keys), and one without those
-- gets no key (a NOTICE says why): its rows are compared whole, every change
-- refreshes it in full. Every check compares the view with its query,
-- duplicates included.
CREATE SCHEMA dk;
SET search_path = dk, public;

CREATE FUNCTION differing(view regclass, query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((SELECT t::text FROM %s t EXCEPT ALL SELECT q::text FROM (%s) q)
                  UNION ALL (SELECT q::text FROM (%s) q EXCEPT ALL SELECT t::text FROM %s t)) d',
                 view, query, query, view) INTO n;
  RETURN n;
END $$;
-- The unique indexes of a relation, as column lists.
CREATE FUNCTION unique_keys(rel regclass) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT (SELECT string_agg(a.attname, ', ' ORDER BY a.attnum) FROM pg_attribute a
          WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey))
  FROM pg_index i WHERE i.indrelid = rel AND i.indisunique ORDER BY 1 $$;

CREATE TABLE accounts (id int PRIMARY KEY, region text NOT NULL);
CREATE TABLE entries (id int PRIMARY KEY, account int NOT NULL, amount int NOT NULL, tag text);
CREATE TABLE bag (v int, w int); -- no primary key: a bag
INSERT INTO accounts SELECT g, 'r' || (g % 3) FROM generate_series(1, 9) g;
INSERT INTO entries SELECT g, 1 + g % 9, g, CASE WHEN g % 4 = 0 THEN NULL ELSE 't' || (g % 5) END
  FROM generate_series(1, 60) g;
INSERT INTO bag SELECT g % 4, g % 2 FROM generate_series(1, 20) g;

-- GROUP BY: keyed by the group columns (an expression grouped on counts as
-- its output column).
SELECT pgview_create('by_region', $$SELECT a.region, count(*) AS n, sum(e.amount) AS total
  FROM entries e JOIN accounts a ON a.id = e.account GROUP BY a.region$$, kind => 'table view');
SELECT pgview_create('by_tag_len', $$SELECT length(tag) AS len, tag, count(*) AS n
  FROM entries GROUP BY tag, length(tag)$$, kind => 'table view');
-- DISTINCT: keyed by all its columns (a NULL tag is one value, as DISTINCT says).
SELECT pgview_create('tags', $$SELECT DISTINCT tag, account FROM entries$$, kind => 'table view');
-- No aggregate: the primary keys of the tables it joins.
SELECT pgview_create('big_entries', $$SELECT e.id, e.amount, a.id AS account_id, a.region
  FROM entries e JOIN accounts a ON a.id = e.account WHERE e.amount > 30$$, kind => 'table view');
SELECT pgview_create('one_table', $$SELECT id, amount * 2 AS twice FROM entries$$, kind => 'table view');
SELECT unique_keys('by_region'), unique_keys('by_tag_len'), unique_keys('tags'),
       unique_keys('big_entries'), unique_keys('one_table');
SELECT source, refresh, strategy FROM pgview_explain('by_region') ORDER BY 1;
SELECT source, refresh, strategy FROM pgview_explain('big_entries') ORDER BY 1;

-- No unique key: each says why; a partition where plain columns give one, else
-- none (refreshed in full). The views stay exact.
SELECT pgview_create('bag_copy', 'SELECT v, w FROM bag', kind => 'table view');
SELECT pgview_create('hidden_group', 'SELECT count(*) AS n FROM entries GROUP BY account', kind => 'table view');
SELECT pgview_create('grand_total', 'SELECT sum(amount) AS total FROM entries', kind => 'table view');
SELECT pgview_create('exploded', 'SELECT id, unnest(ARRAY[1, 2]) AS k FROM entries', kind => 'table view');
SELECT pgview_create('both', 'SELECT id FROM entries UNION SELECT id FROM accounts', kind => 'table view');
SELECT pgview_create('lefty', $$SELECT a.id, e.id AS entry FROM accounts a LEFT JOIN entries e ON e.account = a.id$$,
                     kind => 'table view');
SELECT pgview_create('no_pk_out', 'SELECT amount FROM entries', kind => 'table view');
SELECT pgview_create('first3', 'SELECT id FROM entries ORDER BY id LIMIT 3', kind => 'table view');
SELECT count(*) FILTER (WHERE k IS NOT NULL) AS unique_indexes
  FROM unnest(ARRAY['bag_copy', 'hidden_group', 'grand_total', 'exploded', 'both', 'lefty', 'no_pk_out',
                    'first3']::regclass[]) v, unique_keys(v) k;
-- A query that reads no table: accepted, never needs maintenance (no write
-- changes it), so there is nothing to watch (55000 says why).
SELECT pgview_create('constants', $$SELECT 1 AS one, 'a'::text AS letter$$, kind => 'table view');
SELECT * FROM constants;
SELECT pgview_watch('constants');
\echo :LAST_ERROR_SQLSTATE
-- A unique_key given wins over the shape's.
SELECT pgview_create('by_region_given', $$SELECT a.region, count(*) AS n FROM entries e
  JOIN accounts a ON a.id = e.account GROUP BY a.region$$, kind => 'table view', unique_key => ARRAY['region', 'n']);
SELECT unique_keys('by_region_given');
-- Converting a materialized view derives its key too.
CREATE MATERIALIZED VIEW per_account AS SELECT account, count(*) AS n FROM entries GROUP BY account;
SELECT pgview_create('per_account', 'SELECT account, count(*) AS n FROM entries GROUP BY account',
                     kind => 'table view', or_replace => true);
SELECT unique_keys('per_account');

-- Watched at commit: every change keeps every view exact.
SELECT count(*) FROM (SELECT pgview_watch(v) FROM unnest(ARRAY['by_region', 'by_tag_len', 'tags', 'big_entries',
  'one_table', 'bag_copy', 'hidden_group', 'grand_total', 'lefty', 'per_account']::regclass[]) v) w;
INSERT INTO entries SELECT g, 1 + g % 9, g % 50, CASE WHEN g % 3 = 0 THEN NULL ELSE 't' || (g % 7) END
  FROM generate_series(61, 90) g;
UPDATE entries SET tag = 'moved', amount = amount + 40 WHERE id % 7 = 0;
DELETE FROM entries WHERE id % 11 = 0;
UPDATE accounts SET region = 'r9' WHERE id = 2;
BEGIN;
DELETE FROM entries WHERE account = 3;
SAVEPOINT s;
INSERT INTO entries VALUES (500, 3, 5, 'late');
ROLLBACK TO SAVEPOINT s;
COMMIT;
INSERT INTO bag VALUES (1, 1), (1, 1);
SELECT differing('by_region', $$SELECT a.region, count(*) AS n, sum(e.amount) AS total
         FROM entries e JOIN accounts a ON a.id = e.account GROUP BY a.region$$) AS by_region,
       differing('by_tag_len', 'SELECT length(tag) AS len, tag, count(*) AS n FROM entries GROUP BY tag, length(tag)') AS by_tag_len,
       differing('tags', 'SELECT DISTINCT tag, account FROM entries') AS tags,
       differing('big_entries', $$SELECT e.id, e.amount, a.id AS account_id, a.region
         FROM entries e JOIN accounts a ON a.id = e.account WHERE e.amount > 30$$) AS big_entries,
       differing('one_table', 'SELECT id, amount * 2 AS twice FROM entries') AS one_table,
       differing('bag_copy', 'SELECT v, w FROM bag') AS bag_copy,
       differing('hidden_group', 'SELECT count(*) AS n FROM entries GROUP BY account') AS hidden_group,
       differing('grand_total', 'SELECT sum(amount) AS total FROM entries') AS grand_total,
       differing('lefty', 'SELECT a.id, e.id AS entry FROM accounts a LEFT JOIN entries e ON e.account = a.id') AS lefty,
       differing('per_account', 'SELECT account, count(*) AS n FROM entries GROUP BY account') AS per_account;
-- The keyed ones were refreshed by key.
SELECT matview, incremental_refreshes > 0 AS keyed FROM pgview_status()
 WHERE matview IN ('by_region'::regclass, 'tags'::regclass, 'big_entries'::regclass, 'bag_copy'::regclass)
 ORDER BY 1;
-- pgview_explain says each table view's key and where it comes from (the same
-- on each source's row); a table view without one says why.
SELECT v AS view, e.view_key, e.view_key_from
  FROM unnest(ARRAY['by_region', 'tags', 'big_entries', 'by_region_given', 'bag_copy', 'grand_total',
                    'lefty']::regclass[]) v,
       LATERAL (SELECT DISTINCT view_key, view_key_from FROM pgview_explain(v)) e
  ORDER BY v::text;
-- A table view made without the key its shape gives (as before 0.7.0): said too.
CREATE TABLE kv (k int PRIMARY KEY, v int);
SELECT pgview_create('kv_copy', 'SELECT k, v FROM kv', kind => 'table view', unique_key => ARRAY['k']);
UPDATE pgview_auto.table_view SET unique_key = NULL WHERE relation = 'kv_copy'::regclass;
SELECT DISTINCT view_key, view_key_from FROM pgview_explain('kv_copy');

RESET search_path;
SET client_min_messages = warning;
-- Leave no watch behind (a dropped view's watch would stay as an orphan).
SELECT count(pgview_unwatch(w.matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'dk'::regnamespace)) w;
DROP SCHEMA dk CASCADE;
