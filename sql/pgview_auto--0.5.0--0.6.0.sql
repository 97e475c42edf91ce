-- pgview_auto 0.5.0 -> 0.6.0: security and reliability fixes, incremental refresh of
-- table views, pgview_alter.
\echo Use "ALTER EXTENSION pgview_auto UPDATE TO '0.6.0'" to load this file. \quit

-- Issue 14 (a new user's path: every README claim holds).
-- A table view created with_data => false is not populated until its first refresh.
ALTER TABLE pgview_auto.table_view ADD COLUMN populated boolean NOT NULL DEFAULT true;

-- pgview_watches shows the async timing options (NULL for other modes).
CREATE OR REPLACE VIEW @extschema@.pgview_watches AS
  SELECT * FROM (
    SELECT DISTINCT w.matview, w.source, w.via, o.mode, o."concurrently", o.on_error, NULL::text AS orphaned,
           CASE WHEN o.mode = 'async' THEN o.debounce END AS debounce,
           CASE WHEN o.mode = 'async' THEN o.max_delay END AS max_delay
    FROM pgview_auto.watch w JOIN pgview_auto.watched o USING (matview)
    UNION ALL
    SELECT NULL, NULL, NULL, o.mode, o."concurrently", o.on_error, o.matview_name,
           CASE WHEN o.mode = 'async' THEN o.debounce END,
           CASE WHEN o.mode = 'async' THEN o.max_delay END
    FROM pgview_auto.watched o WHERE o.matview IS NULL) d
  ORDER BY coalesce(d.matview::text, d.orphaned), d.source::text, d.via::text;
COMMENT ON VIEW @extschema@.pgview_watches IS
  'Which relation each watched materialized view is refreshed for, and through which view it was found; orphaned: the name of a dropped watched matview whose watch comes back when it is created again; debounce and max_delay of async watches';

-- pgview_unwatch(matview, source) removes what pgview_watch(matview, source) added, no more.
COMMENT ON FUNCTION @extschema@.pgview_unwatch(regclass, regclass) IS
  'Stop what pgview_watch(matview, source) started (source NULL: every watch of matview); returns the number of pgview_watches rows that disappeared';
COMMENT ON FUNCTION @extschema@.pgview_unwatch(text) IS
  'Stop every watch of the named materialized view, or remove the orphaned watch of a dropped one; returns the number of pgview_watches rows that disappeared';

-- DROP EXTENSION says which table views stay behind as plain tables.
CREATE FUNCTION pgview_auto.on_ddl_command_start() RETURNS event_trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'pgview_on_ddl_command_start';
CREATE EVENT TRIGGER pgview_auto_ddl_command_start ON ddl_command_start
  WHEN TAG IN ('DROP EXTENSION')
  EXECUTE FUNCTION pgview_auto.on_ddl_command_start();
