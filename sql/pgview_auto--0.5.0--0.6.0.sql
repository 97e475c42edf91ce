-- pgview_auto 0.5.0 -> 0.6.0: security and reliability fixes, incremental refresh of
-- table views, pgview_alter.
\echo Use "ALTER EXTENSION pgview_auto UPDATE TO '0.6.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Issue 11: security and reliability.

-- The owner of each watch: the owner of its matview (kept current through
-- ALTER ... OWNER TO). An orphaned watch is restored only onto a relation of
-- the same owner, and that owner may remove it. Orphans made before 0.6.0 have
-- no known owner (NULL): never restored, removed by a superuser.
ALTER TABLE pgview_auto.watched ADD COLUMN owner regrole;
UPDATE pgview_auto.watched o SET owner = c.relowner
  FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) o.matview;

-- Everyone may read the watches (as the registry tables under them, like
-- pg_trigger), and which tables are table views.
GRANT SELECT ON @extschema@.pgview_watches TO PUBLIC;
GRANT SELECT ON pgview_auto.table_view TO PUBLIC;
