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

-- An error's text can quote data of the view (an invalid input value, a key):
-- last_error is shown only to roles that may SELECT the matview, through
-- pgview_status(). PUBLIC keeps every other column of the statistics.
REVOKE SELECT ON pgview_auto.refresh_stats FROM PUBLIC;
GRANT SELECT (matview, refresh_count, last_refresh, last_duration, total_duration, min_duration, max_duration,
              last_concurrently, failures, last_error_at, stale)
  ON pgview_auto.refresh_stats TO PUBLIC;
CREATE FUNCTION pgview_auto.visible_errors()
  RETURNS TABLE (matview regclass, last_error text)
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'pgview_visible_errors';
CREATE OR REPLACE FUNCTION @extschema@.pgview_status()
  RETURNS TABLE (matview regclass, mode text, sources regclass[],
                 refresh_count bigint, last_refresh timestamptz,
                 last_duration interval, total_duration interval,
                 min_duration interval, max_duration interval,
                 last_concurrently boolean, failures bigint,
                 last_error text, last_error_at timestamptz,
                 pending boolean, pending_since timestamptz,
                 next_refresh timestamptz, schedule interval)
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
    WITH m AS (
      SELECT matview FROM pgview_auto.watched WHERE matview IS NOT NULL
      UNION SELECT matview FROM pgview_auto.refresh_stats
      UNION SELECT matview FROM pgview_auto.schedule)
    SELECT m.matview, o.mode,
           (SELECT array_agg(DISTINCT w.source ORDER BY w.source)
              FROM pgview_auto.watch w WHERE w.matview = m.matview),
           coalesce(s.refresh_count, 0), s.last_refresh, s.last_duration,
           coalesce(s.total_duration, '0'), s.min_duration, s.max_duration,
           s.last_concurrently, coalesce(s.failures, 0), e.last_error, s.last_error_at,
           coalesce(p.pending, false), p.pending_since, p.next_refresh, sc.every
    FROM m
    LEFT JOIN pgview_auto.watched o ON o.matview = m.matview
    LEFT JOIN pgview_auto.refresh_stats s ON s.matview = m.matview
    LEFT JOIN pgview_auto.visible_errors() e ON e.matview = m.matview
    LEFT JOIN pgview_auto.schedule sc ON sc.matview = m.matview
    LEFT JOIN pgview_auto.pending_state() p ON p.matview = m.matview
    ORDER BY m.matview
  $$;

-- ALTER SCHEMA ... RENAME carries the orphaned watches named under it along
-- (the event trigger's tags gain 'ALTER SCHEMA'; an event trigger's tags
-- cannot be altered, so it is created again).
DROP EVENT TRIGGER pgview_auto_ddl_command_end;
CREATE EVENT TRIGGER pgview_auto_ddl_command_end ON ddl_command_end
  WHEN TAG IN ('CREATE MATERIALIZED VIEW', 'CREATE VIEW', 'CREATE TABLE', 'ALTER TABLE', 'ALTER VIEW',
               'ALTER MATERIALIZED VIEW', 'CREATE TRIGGER', 'ALTER SCHEMA')
  EXECUTE FUNCTION pgview_auto.on_ddl_command_end();
