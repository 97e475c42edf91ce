-- Where table views keep their queries (issue 23, item 2): in schema
-- pgview_query, not in the user's schema, where \dv, an ORM's reflection and
-- Alembic's autogenerate listed them as the user's own. Every role may read
-- the schema; no role may create in it, yet every role makes, replaces and
-- rebuilds the definitions of its own table views. Three roles: two owners
-- and a reader.
CREATE ROLE regress_def_a;
CREATE ROLE regress_def_b;
CREATE ROLE regress_def_reader;
CREATE SCHEMA defs;
GRANT CREATE, USAGE ON SCHEMA defs TO regress_def_a, regress_def_b;
GRANT USAGE ON SCHEMA defs TO regress_def_reader;

-- Each owner makes a table view named alike in the same schema's neighbour:
-- their definitions are in pgview_query, owned by them, under free names.
CREATE TABLE defs.orders (id int PRIMARY KEY, customer int NOT NULL, amount int NOT NULL);
INSERT INTO defs.orders VALUES (1, 1, 10), (2, 1, 20), (3, 2, 5);
GRANT SELECT ON defs.orders TO regress_def_a, regress_def_b;
SET ROLE regress_def_a;
SELECT pgview_create('defs.per_customer',
                     'SELECT customer, sum(amount) AS total FROM defs.orders GROUP BY customer',
                     kind => 'table view');
RESET ROLE;
CREATE SCHEMA defs_b AUTHORIZATION regress_def_b;
SET ROLE regress_def_b;
SELECT pgview_create('defs_b.per_customer',
                     'SELECT customer, count(*) AS n FROM defs.orders GROUP BY customer',
                     kind => 'table view');
RESET ROLE;
SELECT t.relation, t.definition, pg_get_userbyid(c.relowner) AS definition_owner
  FROM pgview_auto.table_view t JOIN pg_class c ON c.oid = t.definition
  WHERE t.relation::text LIKE 'defs%' ORDER BY t.relation::text COLLATE "C";
-- The schema (made by the first table view of the database): not part of the
-- extension, readable by all, creatable by none.
SELECT n.nspname,
       EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid
                 AND d.deptype = 'e') AS extension_member,
       has_schema_privilege('regress_def_reader', n.oid, 'USAGE') AS reader_usage,
       has_schema_privilege('regress_def_a', n.oid, 'CREATE') AS a_create,
       obj_description(n.oid, 'pg_namespace') AS comment
  FROM pg_namespace n WHERE n.nspname = 'pgview_query';
-- What was granted on it, to compare after everything below.
CREATE TEMP TABLE acl_before AS SELECT nspacl FROM pg_namespace WHERE nspname = 'pgview_query';

-- The user's schemas list tables only: no view appears beside the table views.
SELECT schemaname, viewname FROM pg_views WHERE schemaname IN ('defs', 'defs_b');
SELECT table_schema, table_name, table_type FROM information_schema.tables
  WHERE table_schema IN ('defs', 'defs_b') ORDER BY 1, 2;

-- No role creates in pgview_query by itself, before or after our own DDL ran.
SET ROLE regress_def_a;
CREATE VIEW pgview_query.mine AS SELECT 1 AS a;
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE pgview_query.junk (a int);
\echo :LAST_ERROR_SQLSTATE
-- A definition is its owner's: the reader may not read a's.
RESET ROLE;
SET ROLE regress_def_reader;
SELECT * FROM pgview_query.per_customer;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- Its owner keeps it up: a new query (or_replace), a change to the table under
-- it (pgview_alter rebuilds the definition in pgview_query), a refresh.
SET ROLE regress_def_a;
SELECT pgview_create('defs.per_customer',
                     'SELECT customer, sum(amount) + 0 AS total FROM defs.orders GROUP BY customer',
                     kind => 'table view', or_replace => true);
RESET ROLE;
ALTER TABLE defs.orders OWNER TO regress_def_a;
SET ROLE regress_def_a;
SELECT relation, kind, action
  FROM pgview_alter('ALTER TABLE defs.orders ALTER COLUMN amount TYPE bigint') ORDER BY 1, 2, 3;
INSERT INTO defs.orders VALUES (4, 2, 100);
SELECT pgview_refresh('defs.per_customer');
SELECT * FROM defs.per_customer ORDER BY customer;
-- A migration tool's own DDL between pgview_save_dependents and
-- pgview_restore_dependents: the definition is made again in pgview_query.
SELECT pgview_save_dependents('defs.orders', ARRAY['amount']);
ALTER TABLE defs.orders ALTER COLUMN amount TYPE numeric;
SELECT pgview_restore_dependents();
SELECT * FROM defs.per_customer ORDER BY customer;
RESET ROLE;
SELECT t.relation, t.definition, pg_get_userbyid(c.relowner) AS definition_owner
  FROM pgview_auto.table_view t JOIN pg_class c ON c.oid = t.definition
  WHERE t.relation::text LIKE 'defs%' ORDER BY t.relation::text COLLATE "C";
-- ... and nothing was left granted on the schema by any of it.
SELECT n.nspacl IS NOT DISTINCT FROM b.nspacl AS acl_unchanged
  FROM pg_namespace n, acl_before b WHERE n.nspname = 'pgview_query';
SELECT has_schema_privilege('regress_def_b', 'pgview_query', 'CREATE') AS b_create;

-- A pgview_create that fails after its definition was made (filling the
-- table divides by zero) leaves no definition behind, and no grant.
SET ROLE regress_def_b;
SELECT pgview_create('defs_b.broken', 'SELECT customer, 1 / (amount - amount) AS boom FROM defs.orders',
                     kind => 'table view');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(*) AS leftovers FROM pg_class WHERE relnamespace = 'pgview_query'::regnamespace AND relname = 'broken';
SELECT has_schema_privilege('regress_def_b', 'pgview_query', 'CREATE') AS b_create;

-- Dropping a table view takes its definition along (as DROP SCHEMA does).
SET ROLE regress_def_b;
DROP TABLE defs_b.per_customer;
RESET ROLE;
SELECT count(*) AS definitions_left FROM pgview_auto.table_view t WHERE t.relation::text LIKE 'defs_b.%';
SELECT relname FROM pg_class WHERE relnamespace = 'pgview_query'::regnamespace ORDER BY 1;

SELECT pgview_drop('defs.per_customer');
DROP SCHEMA defs, defs_b CASCADE;
DROP ROLE regress_def_a, regress_def_b, regress_def_reader;
