-- pgview_auto 0.3.0 -> 0.4.0: watches follow DDL (event triggers), orphaned watches.
\echo Use "ALTER EXTENSION pgview_auto UPDATE TO '0.4.0'" to load this file. \quit

-- Watches of matviews that no longer exist (dropped before this version followed DDL).
DELETE FROM pgview_auto.watched o WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = o.matview);

-- A dropped watched matview leaves an orphaned watch (matview NULL), found again
-- by its qualified name when a materialized view of that name is created.
ALTER TABLE pgview_auto.watch DROP CONSTRAINT watch_matview_fkey;
ALTER TABLE pgview_auto.watched DROP CONSTRAINT watched_pkey;
ALTER TABLE pgview_auto.watched ALTER COLUMN matview DROP NOT NULL;
ALTER TABLE pgview_auto.watched
  ADD COLUMN matview_name    text,         -- schema.name, quoted as needed; kept current on RENAME / SET SCHEMA
  ADD COLUMN requested_names text[],       -- an orphan's requested sources by name (NULL element: everything)
  ADD COLUMN orphaned_at     timestamptz;
UPDATE pgview_auto.watched o
  SET matview_name = (SELECT pg_catalog.format('%I.%I', n.nspname, c.relname)
                      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                      WHERE c.oid = o.matview);
ALTER TABLE pgview_auto.watched
  ALTER COLUMN matview_name SET NOT NULL,
  ADD CONSTRAINT watched_matview_key UNIQUE (matview),
  ADD CONSTRAINT watched_matview_name_key UNIQUE (matview_name),
  ADD CONSTRAINT watched_orphan_check CHECK ((matview IS NULL) = (orphaned_at IS NOT NULL));
ALTER TABLE pgview_auto.watch ADD CONSTRAINT watch_matview_fkey
  FOREIGN KEY (matview) REFERENCES pgview_auto.watched (matview) ON DELETE CASCADE;

CREATE OR REPLACE VIEW @extschema@.pgview_watches AS
  SELECT * FROM (
    SELECT DISTINCT w.matview, w.source, w.via, o.mode, o."concurrently", o.on_error, NULL::text AS orphaned
    FROM pgview_auto.watch w JOIN pgview_auto.watched o USING (matview)
    UNION ALL
    SELECT NULL, NULL, NULL, o.mode, o."concurrently", o.on_error, o.matview_name
    FROM pgview_auto.watched o WHERE o.matview IS NULL) d
  ORDER BY coalesce(d.matview::text, d.orphaned), d.source::text, d.via::text;
COMMENT ON VIEW @extschema@.pgview_watches IS
  'Which relation each watched materialized view is refreshed for, and through which view it was found; orphaned: the name of a dropped watched matview whose watch comes back when it is created again';

-- Orphaned watches (matview NULL) are not matviews with a status: leave them out.
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
           s.last_concurrently, coalesce(s.failures, 0), s.last_error, s.last_error_at,
           coalesce(p.pending, false), p.pending_since, p.next_refresh, sc.every
    FROM m
    LEFT JOIN pgview_auto.watched o ON o.matview = m.matview
    LEFT JOIN pgview_auto.refresh_stats s ON s.matview = m.matview
    LEFT JOIN pgview_auto.schedule sc ON sc.matview = m.matview
    LEFT JOIN pgview_auto.pending_state() p ON p.matview = m.matview
    ORDER BY m.matview
  $$;

-- By name: also reaches an orphaned watch, whose matview no longer exists.
CREATE FUNCTION @extschema@.pgview_unwatch(matview text)
  RETURNS integer
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_unwatch_by_name';
COMMENT ON FUNCTION @extschema@.pgview_unwatch(text) IS
  'Stop refreshing the named materialized view, or remove the orphaned watch of a dropped one; returns the watches removed';

-- DDL tracking. C functions; their own SQL runs with search_path = pg_catalog, pg_temp.
CREATE FUNCTION pgview_auto.on_ddl_command_end() RETURNS event_trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'pgview_on_ddl_command_end';
CREATE FUNCTION pgview_auto.on_sql_drop() RETURNS event_trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'pgview_on_sql_drop';
CREATE EVENT TRIGGER pgview_auto_ddl_command_end ON ddl_command_end
  WHEN TAG IN ('CREATE MATERIALIZED VIEW', 'CREATE VIEW', 'CREATE TABLE', 'ALTER TABLE', 'ALTER VIEW',
               'ALTER MATERIALIZED VIEW', 'CREATE TRIGGER')
  EXECUTE FUNCTION pgview_auto.on_ddl_command_end();
CREATE EVENT TRIGGER pgview_auto_sql_drop ON sql_drop
  EXECUTE FUNCTION pgview_auto.on_sql_drop();
