-- A table view whose unique_key columns are never NULL in its query has them
-- as its primary key (issue 23): ORMs map tables by their primary key. Kept
-- right through or_replace, pgview_alter and save/restore.
CREATE SCHEMA pk;
SET search_path = pk, public;
CREATE TABLE customers (id int PRIMARY KEY, region text, code int NOT NULL);
CREATE TABLE orders (id int PRIMARY KEY, customer int NOT NULL REFERENCES customers, amount int, tag text);
INSERT INTO customers SELECT g, 'r' || (g % 2), g FROM generate_series(1, 4) g;
INSERT INTO orders SELECT g, g % 4 + 1, g, CASE WHEN g % 3 = 0 THEN 't' END FROM generate_series(1, 12) g;
CREATE FUNCTION pk_of(rel regclass) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce((SELECT i.indexrelid::regclass::text || ' (' ||
                          (SELECT string_agg(a.attname, ', ' ORDER BY a.attnum) FROM pg_attribute a
                           WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)) || ')'
                   FROM pg_index i WHERE i.indrelid = rel AND i.indisprimary), 'none') $$;
CREATE FUNCTION unique_of(rel regclass) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM pg_index i WHERE i.indrelid = rel AND i.indisunique AND NOT i.indisprimary $$;

-- NOT NULL columns, through GROUP BY, a join, a view, a count: a primary key
SELECT pgview_create('per_customer', 'SELECT customer, count(*) AS n, sum(amount) AS total FROM orders GROUP BY customer',
                     kind => 'table view', unique_key => ARRAY['customer']);
CREATE VIEW customer_orders AS SELECT c.id AS customer_id, c.region, o.id AS order_id, o.amount
  FROM customers c JOIN orders o ON o.customer = c.id;
SELECT pgview_create('order_lines', 'SELECT customer_id, order_id, amount FROM customer_orders',
                     kind => 'table view', unique_key => ARRAY['order_id', 'customer_id'], with_data => false);
SELECT pgview_create('per_count', 'SELECT n, count(*) AS customers FROM per_customer GROUP BY n',
                     kind => 'table view', unique_key => ARRAY['n']);
-- the preserved side of a LEFT JOIN: a primary key; its nullable side, a nullable column, a
-- grouping set: a unique index only
SELECT pgview_create('all_customers', 'SELECT c.id, count(o.id) AS orders FROM customers c LEFT JOIN orders o ON o.customer = c.id GROUP BY c.id',
                     kind => 'table view', unique_key => ARRAY['id']);
SELECT pgview_create('order_customer', 'SELECT o.id AS order_id, c.id AS customer_id FROM orders o LEFT JOIN customers c ON c.id = o.customer AND c.region = ''r0''',
                     kind => 'table view', unique_key => ARRAY['order_id', 'customer_id']);
SELECT pgview_create('per_tag', 'SELECT tag, count(*) AS n FROM orders GROUP BY tag',
                     kind => 'table view', unique_key => ARRAY['tag']);
SELECT pgview_create('per_region', 'SELECT region, count(*) AS n FROM customers WHERE region IS NOT NULL GROUP BY ROLLUP (region)',
                     kind => 'table view', unique_key => ARRAY['region']);
SELECT relation::text, pk_of(relation), unique_of(relation) FROM pgview_auto.table_view
WHERE relation::text IN ('per_customer', 'order_lines', 'per_count', 'all_customers', 'order_customer', 'per_tag', 'per_region')
ORDER BY 1;
SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = 'order_lines'::regclass AND attnum > 0 ORDER BY attnum;

-- refreshes go on as before
SELECT pgview_watch('per_customer');
INSERT INTO orders VALUES (13, 1, 100, NULL);
DELETE FROM orders WHERE id = 2;
SELECT * FROM per_customer ORDER BY customer;
SELECT pgview_refresh('order_lines');
SELECT count(*) FROM order_lines;

-- or_replace: from the preserved side of a RIGHT JOIN the key keeps its primary key; from its
-- nullable side it loses it (a unique index stays); and gets it back
SELECT pgview_create('all_customers', 'SELECT o.customer AS id, count(*) AS orders FROM customers c RIGHT JOIN orders o ON o.customer = c.id GROUP BY o.customer',
                     kind => 'table view', or_replace => true);
SELECT pk_of('all_customers'), unique_of('all_customers');
SELECT pgview_create('all_customers', 'SELECT c.id, count(*) AS orders FROM customers c RIGHT JOIN orders o ON o.customer = c.id GROUP BY c.id',
                     kind => 'table view', or_replace => true);
SELECT pk_of('all_customers'), unique_of('all_customers');
SELECT pgview_create('all_customers', 'SELECT c.id, count(o.id) AS orders FROM customers c LEFT JOIN orders o ON o.customer = c.id GROUP BY c.id',
                     kind => 'table view', or_replace => true);
SELECT pk_of('all_customers'), unique_of('all_customers');

-- pgview_alter rebuilds the definition: the primary key stays (its column's type follows)
SELECT pgview_create('by_code', 'SELECT code, region FROM customers', kind => 'table view', unique_key => ARRAY['code']);
SELECT pk_of('by_code');
SELECT * FROM pgview_alter('ALTER TABLE customers ALTER COLUMN code TYPE bigint');
SELECT pk_of('by_code'), format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'by_code'::regclass AND attname = 'code';
-- save/restore around a change that lets the key be NULL: the primary key goes, the unique index stays
SELECT pgview_save_dependents('customers', ARRAY['code']);
ALTER TABLE customers ALTER COLUMN code DROP NOT NULL;
SELECT pgview_restore_dependents();
SELECT pk_of('by_code'), unique_of('by_code');
SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = 'by_code'::regclass AND attname = 'code';
INSERT INTO customers VALUES (5, 'r1', NULL);
SELECT pgview_refresh('by_code');
SELECT count(*) FILTER (WHERE code IS NULL) AS null_codes FROM by_code;

SELECT pgview_unwatch('per_customer');
RESET search_path;
-- Leave no watch behind (a dropped view's watch would stay as an orphan).
SELECT count(pgview_unwatch(w.matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'pk'::regnamespace)) w;
DROP SCHEMA pk CASCADE;
