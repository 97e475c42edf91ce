-- requires: preload
-- pgview_alter: one ALTER TABLE; exactly the views, materialized views and table
-- views that read the changed columns are saved, dropped and made again, with
-- everything they had. Proof: catalog rows before and after (by name, not OID).
-- (Each error's SQLSTATE is echoed after it.)
-- Needs the background worker (manual mode, schedules): the line "requires:"
-- above has the test command run it on a server with it only.
\set SHOW_CONTEXT never
CREATE ROLE regress_alter_a;
CREATE ROLE regress_alter_b;
CREATE ROLE regress_alter_c;
CREATE SCHEMA alt;
CREATE SCHEMA "Sales Data";
GRANT USAGE, CREATE ON SCHEMA alt, "Sales Data" TO regress_alter_a, regress_alter_b, regress_alter_c;
SET allow_in_place_tablespaces = true;
CREATE TABLESPACE regress_alter_space LOCATION '';
GRANT CREATE ON TABLESPACE regress_alter_space TO regress_alter_b;
SET search_path = alt, public;

CREATE TABLE "Sales Data"."Orders" (id int PRIMARY KEY, total numeric(10,2) NOT NULL, note text, day date NOT NULL);
INSERT INTO "Sales Data"."Orders"
  SELECT g, g * 1.25, 'order ' || g, date '2024-01-01' + g % 3 FROM generate_series(1, 12) g;
GRANT SELECT, INSERT, UPDATE, DELETE, TRIGGER ON "Sales Data"."Orders"
  TO regress_alter_a, regress_alter_b, regress_alter_c;

-- A chain of five views of three roles, a matview in the middle.
SET ROLE regress_alter_a;
CREATE VIEW chain1 AS SELECT id, total, day FROM "Sales Data"."Orders";
GRANT SELECT ON chain1 TO regress_alter_b, regress_alter_c;
SET ROLE regress_alter_b;
CREATE VIEW chain2 AS SELECT day, total * 2 AS doubled FROM chain1;
GRANT SELECT ON chain2 TO regress_alter_c;
SET ROLE regress_alter_c;
CREATE MATERIALIZED VIEW "Chain 3" AS SELECT day, sum(doubled) AS doubled FROM chain2 GROUP BY day;
GRANT SELECT ON "Chain 3" TO regress_alter_a;
SELECT pgview_watch('"Chain 3"', mode => 'manual'); -- found through chain2 and chain1
SET ROLE regress_alter_a;
CREATE VIEW chain4 AS SELECT day, doubled / 2 AS total FROM "Chain 3";
GRANT SELECT ON chain4 TO regress_alter_b;
SET ROLE regress_alter_b;
CREATE VIEW chain5 AS SELECT count(*) AS days, sum(total) AS total FROM chain4;

-- A view with options, a column default, an INSTEAD OF trigger, a rule,
-- comments, and grants: with grant option, by another grantor, on a column.
SET ROLE regress_alter_a;
CREATE VIEW "Sales Data"."Big Orders" WITH (security_barrier = true, check_option = local) AS
  SELECT id, total, note FROM "Sales Data"."Orders" WHERE total > 5;
ALTER VIEW "Sales Data"."Big Orders" ALTER COLUMN note SET DEFAULT 'big one';
COMMENT ON VIEW "Sales Data"."Big Orders" IS 'orders over 5';
COMMENT ON COLUMN "Sales Data"."Big Orders".total IS 'the amount';
CREATE RULE big_delete AS ON DELETE TO "Sales Data"."Big Orders"
  DO INSTEAD DELETE FROM "Sales Data"."Orders" WHERE id = old.id;
COMMENT ON RULE big_delete ON "Sales Data"."Big Orders" IS 'deletes go to the table';
GRANT SELECT ON "Sales Data"."Big Orders" TO regress_alter_b WITH GRANT OPTION;
GRANT UPDATE (note) ON "Sales Data"."Big Orders" TO regress_alter_c;
SET ROLE regress_alter_b;
GRANT SELECT ON "Sales Data"."Big Orders" TO regress_alter_c;
RESET ROLE;
CREATE FUNCTION alt.big_insert() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO "Sales Data"."Orders" VALUES (NEW.id, NEW.total, NEW.note, date '2024-01-01'); RETURN NEW; END $$;
SET ROLE regress_alter_a;
CREATE TRIGGER big_insert INSTEAD OF INSERT ON "Sales Data"."Big Orders"
  FOR EACH ROW EXECUTE FUNCTION alt.big_insert();
COMMENT ON TRIGGER big_insert ON "Sales Data"."Big Orders" IS 'inserts go to the table';

-- An owner that gave up some of its own privileges; a security_invoker view.
SET ROLE regress_alter_c;
CREATE VIEW read_only AS SELECT id, total FROM "Sales Data"."Orders";
REVOKE INSERT, UPDATE, DELETE ON read_only FROM regress_alter_c;
GRANT SELECT ON read_only TO PUBLIC;
SET ROLE regress_alter_b;
CREATE VIEW invoker WITH (security_invoker = true) AS SELECT id, total FROM "Sales Data"."Orders";

-- A watched, scheduled matview with storage parameters, tablespace, indexes
-- (unique, partial in a tablespace, clustered), column settings, a statistics
-- object, comments; and one never populated.
CREATE MATERIALIZED VIEW totals WITH (fillfactor = 70) TABLESPACE regress_alter_space AS
  SELECT day, count(*) AS n, sum(total) AS total FROM "Sales Data"."Orders" GROUP BY day;
CREATE UNIQUE INDEX totals_day ON totals (day);
CREATE INDEX "Totals Big" ON totals (total) TABLESPACE regress_alter_space WHERE total > 10;
COMMENT ON INDEX "Totals Big" IS 'partial';
CLUSTER totals USING totals_day;
ALTER MATERIALIZED VIEW totals ALTER COLUMN total SET STATISTICS 500;
ALTER MATERIALIZED VIEW totals ALTER COLUMN n SET (n_distinct = 3);
CREATE STATISTICS totals_stats (ndistinct) ON day, n FROM totals;
COMMENT ON MATERIALIZED VIEW totals IS 'per day';
GRANT SELECT ON totals TO PUBLIC;
SELECT pgview_watch('totals', "concurrently" => true);
SELECT pgview_schedule('totals', '1 hour');
SELECT pgview_refresh('totals');
SET ROLE regress_alter_c;
CREATE MATERIALIZED VIEW later AS SELECT max(total) AS biggest FROM "Sales Data"."Orders" WITH NO DATA;

-- Table views: one whose column types stay (sum(total) is numeric), one whose
-- table must follow its definition (total numeric(10,2)), and a view on that.
SET ROLE regress_alter_a;
SELECT pgview_create('by_day', 'SELECT day, sum(total) AS total FROM "Sales Data"."Orders" GROUP BY day',
                     kind => 'table view', unique_key => ARRAY['day']);
SELECT pgview_watch('by_day');
SELECT pgview_schedule('by_day', '1 day');
SELECT pgview_create('big_tv', 'SELECT id, total FROM "Sales Data"."Orders" WHERE total > 12',
                     kind => 'table view', unique_key => ARRAY['id']);
CREATE VIEW on_big_tv AS SELECT id, total + 1 AS plus_one FROM big_tv;
SET ROLE regress_alter_c;
-- Views that do not read total are left alone.
CREATE VIEW notes AS SELECT id, note FROM "Sales Data"."Orders";
CREATE VIEW notes_upper AS SELECT id, upper(note) AS note FROM notes;
RESET ROLE;

-- Everything about the relations of both schemas and their registry rows, as
-- text lines named by relation (OIDs change, names do not).
CREATE SCHEMA chk;
CREATE FUNCTION chk.name(rel regclass) RETURNS text LANGUAGE sql AS
  $$ SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = rel $$;
CREATE VIEW chk.catalog AS
  WITH rels AS (
    SELECT c.oid, n.nspname || '.' || c.relname AS rel, c.relkind, c.relowner, c.reloptions, c.relacl,
           c.reltablespace, c.relam, c.relispopulated
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('alt', 'Sales Data') AND c.relkind IN ('r', 'v', 'm', 'i'))
  SELECT rel, 'class' AS what,
         concat_ws(' | ', relkind, pg_get_userbyid(relowner), reloptions::text, relacl::text,
                   (SELECT spcname FROM pg_tablespace WHERE oid = reltablespace),
                   (SELECT amname FROM pg_am WHERE oid = relam), relispopulated,
                   obj_description(oid, 'pg_class')) AS item
  FROM rels
  UNION ALL
  SELECT rel, 'column ' || a.attname,
         concat_ws(' | ', format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid), a.attacl::text,
                   col_description(a.attrelid, a.attnum), a.attstattarget, a.attstorage,
                   -- this server keeps an entry of its own in attoptions (pg_attver=...): left out
                   array(SELECT o FROM unnest(a.attoptions) o WHERE o NOT LIKE 'pg_attver=%')::text)
  FROM rels JOIN pg_attribute a ON a.attrelid = rels.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  UNION ALL
  SELECT rel, 'definition', pg_get_viewdef(oid) FROM rels WHERE relkind IN ('v', 'm')
  UNION ALL
  SELECT rel, 'index', concat_ws(' | ', pg_get_indexdef(x.indexrelid), x.indisclustered)
  FROM rels JOIN pg_index x ON x.indrelid = rels.oid
  UNION ALL
  SELECT rel, 'trigger', concat_ws(' | ', pg_get_triggerdef(t.oid), obj_description(t.oid, 'pg_trigger'))
  FROM rels JOIN pg_trigger t ON t.tgrelid = rels.oid AND NOT t.tgisinternal
  UNION ALL
  SELECT rel, 'rule', concat_ws(' | ', pg_get_ruledef(r.oid), obj_description(r.oid, 'pg_rewrite'))
  FROM rels JOIN pg_rewrite r ON r.ev_class = rels.oid AND r.rulename <> '_RETURN'
  UNION ALL
  SELECT rel, 'statistics', concat_ws(' | ', pg_get_statisticsobjdef(s.oid), s.stxstattarget,
                                      obj_description(s.oid, 'pg_statistic_ext'))
  FROM rels JOIN pg_statistic_ext s ON s.stxrelid = rels.oid
  UNION ALL
  SELECT chk.name(matview), 'watch', concat_ws(' | ', chk.name(source), chk.name(via), mode, "concurrently", on_error)
  FROM pgview_watches
  UNION ALL
  SELECT chk.name(matview), 'schedule', concat_ws(' | ', every, only_if_dirty) FROM pgview_auto.schedule
  UNION ALL
  SELECT chk.name(relation), 'table view', concat_ws(' | ', chk.name(definition), unique_key) FROM pgview_auto.table_view;
CREATE TABLE chk.before AS SELECT * FROM chk.catalog;
-- What differs from the saved state (- before, + now).
CREATE FUNCTION chk.changes() RETURNS TABLE (side text, rel text, what text, item text) LANGUAGE sql AS $$
  SELECT * FROM (SELECT '+', * FROM (SELECT * FROM chk.catalog EXCEPT ALL SELECT * FROM chk.before) n
                 UNION ALL
                 SELECT '-', * FROM (SELECT * FROM chk.before EXCEPT ALL SELECT * FROM chk.catalog) b) d
  ORDER BY 2, 3, 1 $$;
CREATE TABLE chk.oids AS
  SELECT n.nspname || '.' || c.relname AS rel, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname IN ('alt', 'Sales Data') AND c.relkind IN ('r', 'v', 'm');
SELECT pgview_refresh_pending('"Chain 3"') >= 0 AS not_pending; -- 0 or 1, as the restart rule left it
SELECT pgview_refresh('"Chain 3"') + pgview_refresh('by_day') AS refreshed; -- statistics rows for all three
CREATE TABLE chk.refreshes AS SELECT matview::text, refresh_count FROM pgview_status();
SELECT matview, mode, pending FROM pgview_status() WHERE mode = 'manual';
SELECT rel, what, item FROM chk.before
WHERE rel IN ('Sales Data.Big Orders', 'alt.totals', 'alt.Totals Big', 'alt.read_only', 'alt.Chain 3', 'alt.by_day')
  ORDER BY rel, what, item;

-- dry_run: what would be done, in order; nothing changes
SELECT * FROM pgview_alter('ALTER TABLE "Sales Data"."Orders" ALTER COLUMN total TYPE numeric(14,2)', dry_run => true);
SELECT count(*) AS changes FROM chk.changes();

-- The real thing: the table is altered; every view that reads total (and
-- every view above those) is dropped and recreated, matviews and table views
-- are refreshed, the table view big_tv's column follows its definition.
SELECT * FROM pgview_alter('ALTER TABLE "Sales Data"."Orders" ALTER COLUMN total TYPE numeric(14,2)');
-- All that differs: the new type where it reaches.
SELECT * FROM chk.changes();
-- Rebuilt relations are new; those that do not read total kept their OID.
SELECT o.rel, EXISTS (SELECT FROM pg_class WHERE oid = o.oid) AS same_oid FROM chk.oids o ORDER BY 1;
-- The rebuilt matview watched in manual mode is pending (marked at COMMIT: a
-- writer that committed while it was rebuilt is not lost).
SELECT matview, mode, pending FROM pgview_status() WHERE mode = 'manual';
-- Statistics were kept: one refresh more than before for each (lost, they would count 1).
SELECT s.matview, s.refresh_count - b.refresh_count AS more_refreshes
FROM pgview_status() s JOIN chk.refreshes b ON b.matview = s.matview::text ORDER BY s.matview::text COLLATE "C";
-- The data is there, and watches work on the new relations.
SELECT * FROM chain5;
SELECT relispopulated FROM pg_class WHERE oid = 'later'::regclass;
INSERT INTO "Sales Data"."Orders" VALUES (100, 123456789.99, 'huge', '2024-01-01');
SELECT day, n, total FROM totals ORDER BY day;
SELECT day, total FROM by_day ORDER BY day;
-- The view's rule and trigger are back and work.
INSERT INTO "Sales Data"."Big Orders" (id, total) VALUES (101, 50);
DELETE FROM "Sales Data"."Big Orders" WHERE id = 101;
SELECT count(*) FROM "Sales Data"."Orders" WHERE id = 101;
-- The grant made by regress_alter_b is still regress_alter_b's.
SET ROLE regress_alter_c;
SELECT count(*) FROM "Sales Data"."Big Orders";
RESET ROLE;
SELECT grantor::regrole, grantee::regrole, privilege_type, is_grantable
FROM pg_class c, aclexplode(c.relacl) WHERE c.oid = '"Sales Data"."Big Orders"'::regclass ORDER BY 1, 2, 3;

-- The state now is the one every failure below must leave.
TRUNCATE chk.before, chk.oids;
INSERT INTO chk.before SELECT * FROM chk.catalog;
INSERT INTO chk.oids SELECT n.nspname || '.' || c.relname, c.oid FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('alt', 'Sales Data') AND c.relkind IN ('r', 'v', 'm');

-- Each failure leaves everything as it was.
-- Not one ALTER TABLE statement:
SELECT * FROM pgview_alter('DROP TABLE "Sales Data"."Orders"');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgview_alter('ALTER VIEW chain1 RENAME TO chain_one');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgview_alter('ALTER TABLE ALL IN TABLESPACE pg_default SET TABLESPACE regress_alter_space');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgview_alter('ALTER TABLE "Sales Data"."Orders" ADD COLUMN x int; DROP TABLE "Sales Data"."Orders"');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgview_alter('ALTER TABLE "Sales Data"."Orders" ALTER COLUMN');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgview_alter(' -- nothing');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgview_alter(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgview_alter('ALTER TABLE chain1 ALTER COLUMN total TYPE numeric');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgview_alter('ALTER TABLE "Sales Data"."Orders" ALTER COLUMN nope TYPE int');
\echo :LAST_ERROR_SQLSTATE
-- a dropped column that views read, with no replacement: refused before anything runs
SELECT * FROM pgview_alter('ALTER TABLE "Sales Data"."Orders" DROP COLUMN note');
\echo :LAST_ERROR_SQLSTATE
-- a dependent that no longer type-checks (upper(integer)): named, with PostgreSQL's reason
SELECT * FROM pgview_alter('ALTER TABLE "Sales Data"."Orders" ALTER COLUMN note TYPE int USING length(note)');
\echo :LAST_ERROR_SQLSTATE
-- the ALTER itself fails: PostgreSQL's own error, after the views were dropped (all undone)
SELECT * FROM pgview_alter('ALTER TABLE "Sales Data"."Orders" ALTER COLUMN total TYPE int USING 1 / 0');
\echo :LAST_ERROR_SQLSTATE
-- an object outside views depends on one that would be rebuilt
CREATE FUNCTION alt.big_rows() RETURNS SETOF "Sales Data"."Big Orders" LANGUAGE sql AS 'SELECT * FROM "Sales Data"."Big Orders"';
SELECT * FROM pgview_alter('ALTER TABLE "Sales Data"."Orders" ALTER COLUMN total TYPE numeric(16,2)', dry_run => true);
\echo :LAST_ERROR_SQLSTATE
DROP FUNCTION alt.big_rows();
-- a table view's own table altered away from its query
SELECT * FROM pgview_alter('ALTER TABLE by_day ADD COLUMN extra int');
\echo :LAST_ERROR_SQLSTATE
-- privileges: the caller must own the table, and be a member of every owner
SET ROLE regress_alter_a;
SELECT * FROM pgview_alter('ALTER TABLE "Sales Data"."Orders" ALTER COLUMN total TYPE numeric(16,2)');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
CREATE TABLE alt.a_items (id int, price int);
ALTER TABLE alt.a_items OWNER TO regress_alter_a;
GRANT SELECT ON alt.a_items TO regress_alter_c;
SET ROLE regress_alter_c;
CREATE VIEW alt.c_prices AS SELECT price FROM alt.a_items;
SET ROLE regress_alter_a;
SELECT * FROM pgview_alter('ALTER TABLE alt.a_items ALTER COLUMN price TYPE bigint');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'alt.a_items'::regclass AND attname = 'price';
DROP TABLE alt.a_items CASCADE;
SELECT count(*) AS changes FROM chk.changes();
SELECT count(*) AS rebuilt FROM chk.oids o WHERE NOT EXISTS (SELECT FROM pg_class WHERE oid = o.oid);

-- A dropped column with a replacement in the same statement: its readers come
-- back on the new column (with their default and column grant); nothing else
-- is touched.
SELECT * FROM pgview_alter('ALTER TABLE "Sales Data"."Orders" DROP COLUMN note, ADD COLUMN note varchar(40)');
SELECT * FROM chk.changes();
SELECT o.rel FROM chk.oids o WHERE NOT EXISTS (SELECT FROM pg_class WHERE oid = o.oid) ORDER BY 1;
SELECT count(*) AS notes FROM notes_upper WHERE note IS NULL;

-- RENAME and SET SCHEMA need no view dropped: nothing is rebuilt.
SELECT * FROM pgview_alter('ALTER TABLE "Sales Data"."Orders" RENAME COLUMN day TO placed');
SELECT * FROM pgview_alter('ALTER TABLE "Sales Data"."Orders" SET SCHEMA alt');
SELECT * FROM pgview_alter('ALTER TABLE alt."Orders" SET SCHEMA "Sales Data"');
SELECT * FROM pgview_alter('ALTER TABLE IF EXISTS "Sales Data".nope ALTER COLUMN x TYPE int');
SELECT count(*) AS rebuilt FROM chk.oids o WHERE NOT EXISTS (SELECT FROM pg_class WHERE oid = o.oid);

-- Partitions: a view on a partition reads the column too (ALTER TABLE recurses);
-- with ONLY nothing would follow (PostgreSQL refuses it for a partitioned table).
CREATE TABLE alt.events (id int, v int) PARTITION BY RANGE (id);
CREATE TABLE alt.events_1 PARTITION OF alt.events FOR VALUES FROM (0) TO (10);
CREATE VIEW alt.on_parent AS SELECT sum(v) AS v FROM alt.events;
CREATE VIEW alt.on_partition AS SELECT v FROM alt.events_1;
CREATE VIEW alt.on_partition_id AS SELECT id FROM alt.events_1;
SELECT * FROM pgview_alter('ALTER TABLE alt.events ALTER COLUMN v TYPE bigint');
SELECT attrelid::regclass, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid IN ('alt.on_parent'::regclass, 'alt.on_partition'::regclass) AND attname = 'v' ORDER BY 1;

-- Clean up.
DROP SCHEMA alt, "Sales Data", chk CASCADE;
SELECT pgview_unwatch(orphaned) FROM pgview_watches WHERE orphaned LIKE 'alt.%' ORDER BY 1;
DROP TABLESPACE regress_alter_space;
DROP ROLE regress_alter_a, regress_alter_b, regress_alter_c;
