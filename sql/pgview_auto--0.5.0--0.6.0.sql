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

-- ---------------------------------------------------------------------------
-- Incremental refresh of table views: keys derived from the definition's query,
-- captured from changed rows, and only those keys recomputed.

-- NULL: incrementally where the changes can be keyed; true: required; false: never.
-- needs_full: watched anew, the next refresh is full (the view may be stale from
-- before the watch, which keyed refreshes would not repair).
ALTER TABLE pgview_auto.watched ADD COLUMN incremental boolean,
                                ADD COLUMN needs_full boolean NOT NULL DEFAULT false;

DROP FUNCTION @extschema@.pgview_watch(regclass, regclass, text, boolean, text, interval, interval);
CREATE FUNCTION @extschema@.pgview_watch(matview regclass, source regclass DEFAULT NULL,
                                         mode text DEFAULT 'commit', "concurrently" boolean DEFAULT NULL,
                                         on_error text DEFAULT 'error', debounce interval DEFAULT '0',
                                         max_delay interval DEFAULT NULL, incremental boolean DEFAULT NULL)
  RETURNS SETOF regclass
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_watch';
COMMENT ON FUNCTION @extschema@.pgview_watch(regclass, regclass, text, boolean, text, interval, interval, boolean) IS
  'Refresh matview (or table view) when source (default: every table it reads) changes: at commit, or after it by the background worker (async, debounced), or on request (manual); a table view with a unique key is refreshed incrementally where its changes can be keyed; returns the tables now captured for it';

-- pgview_watches shows the option (after the columns issue 14 added above).
CREATE OR REPLACE VIEW @extschema@.pgview_watches AS
  SELECT * FROM (
    SELECT DISTINCT w.matview, w.source, w.via, o.mode, o."concurrently", o.on_error, NULL::text AS orphaned,
           CASE WHEN o.mode = 'async' THEN o.debounce END AS debounce,
           CASE WHEN o.mode = 'async' THEN o.max_delay END AS max_delay,
           o.incremental
    FROM pgview_auto.watch w JOIN pgview_auto.watched o USING (matview)
    UNION ALL
    SELECT NULL, NULL, NULL, o.mode, o."concurrently", o.on_error, o.matview_name,
           CASE WHEN o.mode = 'async' THEN o.debounce END,
           CASE WHEN o.mode = 'async' THEN o.max_delay END, o.incremental
    FROM pgview_auto.watched o WHERE o.matview IS NULL) d
  ORDER BY coalesce(d.matview::text, d.orphaned), d.source::text, d.via::text;
COMMENT ON VIEW @extschema@.pgview_watches IS
  'Which relation each watched materialized view or table view is refreshed for, and through which view it was found; orphaned: the name of a dropped watched matview whose watch comes back when it is created again; debounce and max_delay of async watches; incremental: the option of pgview_watch (NULL: where possible)';

CREATE FUNCTION @extschema@.pgview_explain(view regclass)
  RETURNS TABLE (source regclass, refresh text, key_from text, reason text)
  LANGUAGE c STABLE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_explain';
COMMENT ON FUNCTION @extschema@.pgview_explain(regclass) IS
  'For each source table of a table view or materialized view: whether its changes are refreshed incrementally (and how the key is found) or in full (and why)';

-- Capture of changed keys: statement triggers with transition tables on tables
-- incremental views derive keys from, and a row trigger (ENABLE REPLICA) on every
-- captured table for logical replication's apply workers, which fire row triggers only.
CREATE FUNCTION pgview_auto.capture_keys() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'pgview_capture_keys';
CREATE FUNCTION pgview_auto.capture_replica() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'pgview_capture_replica';

-- Keyed refreshes lock their keys by upserting these rows (one per view and
-- bucket of key hashes; -1: the whole table), and count there. Runtime data,
-- like refresh_stats: not dumped.
CREATE TABLE pgview_auto.key_lock (
  matview    regclass NOT NULL,
  bucket     integer NOT NULL,
  refreshes  bigint NOT NULL DEFAULT 0,   -- keyed refreshes (counted on one bucket each)
  keys       bigint NOT NULL DEFAULT 0,   -- keys refreshed
  last_keys  bigint,                      -- keys of the last keyed refresh counted here
  last_at    timestamptz,
  PRIMARY KEY (matview, bucket)
) WITH (fillfactor = 50);
GRANT SELECT ON pgview_auto.key_lock TO PUBLIC;

-- Brings every captured table's triggers up to this version's set (adopted by
-- the extension); run once below, and usable after a restore.
CREATE FUNCTION pgview_auto.sync_capture_triggers() RETURNS integer
  LANGUAGE c AS 'MODULE_PATHNAME', 'pgview_sync_capture_triggers';
SELECT pgview_auto.sync_capture_triggers();

DROP FUNCTION @extschema@.pgview_status();
CREATE FUNCTION @extschema@.pgview_status()
  RETURNS TABLE (matview regclass, mode text, sources regclass[],
                 refresh_count bigint, last_refresh timestamptz,
                 last_duration interval, total_duration interval,
                 min_duration interval, max_duration interval,
                 last_concurrently boolean, failures bigint,
                 last_error text, last_error_at timestamptz,
                 pending boolean, pending_since timestamptz,
                 next_refresh timestamptz, schedule interval,
                 incremental_refreshes bigint, keys_refreshed bigint, last_keys bigint)
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
    WITH m AS (
      SELECT matview FROM pgview_auto.watched WHERE matview IS NOT NULL
      UNION SELECT matview FROM pgview_auto.refresh_stats
      UNION SELECT matview FROM pgview_auto.schedule
      UNION SELECT matview FROM pgview_auto.key_lock),
    k AS (
      SELECT l.matview, sum(l.refreshes)::bigint AS refreshes, sum(l.keys)::bigint AS keys,
             (array_agg(l.last_keys ORDER BY l.last_at DESC NULLS LAST))[1] AS last_keys, max(l.last_at) AS last_at
      FROM pgview_auto.key_lock l GROUP BY l.matview)
    SELECT m.matview, o.mode,
           (SELECT array_agg(DISTINCT w.source ORDER BY w.source)
              FROM pgview_auto.watch w WHERE w.matview = m.matview),
           coalesce(s.refresh_count, 0), greatest(s.last_refresh, k.last_at), s.last_duration,
           coalesce(s.total_duration, '0'), s.min_duration, s.max_duration,
           s.last_concurrently, coalesce(s.failures, 0), e.last_error, s.last_error_at,
           coalesce(p.pending, false), p.pending_since, p.next_refresh, sc.every,
           coalesce(k.refreshes, 0), coalesce(k.keys, 0), k.last_keys
    FROM m
    LEFT JOIN pgview_auto.watched o ON o.matview = m.matview
    LEFT JOIN pgview_auto.refresh_stats s ON s.matview = m.matview
    LEFT JOIN pgview_auto.visible_errors() e ON e.matview = m.matview
    LEFT JOIN pgview_auto.schedule sc ON sc.matview = m.matview
    LEFT JOIN k ON k.matview = m.matview
    LEFT JOIN pgview_auto.pending_state() p ON p.matview = m.matview
    ORDER BY m.matview
  $$;
COMMENT ON FUNCTION @extschema@.pgview_status() IS
  'One row per watched, scheduled or refreshed materialized view or table view: mode, sources, refresh statistics (full refreshes in refresh_count, keyed ones in incremental_refreshes), last error, pending changes, next refresh';

-- Backends cache which tables are table views: changes must reach them.
CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON pgview_auto.table_view FOR EACH STATEMENT EXECUTE FUNCTION pgview_auto.registry_changed();

-- ---------------------------------------------------------------------------
-- pgview_alter (issue 13): change a table under views, rebuilding exactly the
-- views, materialized views and table views that read the changed columns.
-- SECURITY INVOKER: the ALTER runs with the caller's rights in the caller's
-- transaction; rebuilding other roles' views needs membership in those roles.
CREATE FUNCTION @extschema@.pgview_alter(statement text, dry_run boolean DEFAULT false)
  RETURNS TABLE (relation text, kind text, action text)
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_alter';
COMMENT ON FUNCTION @extschema@.pgview_alter(text, boolean) IS
  'Run one ALTER TABLE statement, dropping and recreating (with owner, grants, comments, options, indexes, triggers, rules, watches) exactly the views that read the columns it changes';

-- Saved dependents, for migration tools that run their own DDL in between:
-- pgview_save_dependents saves (as SQL, by name: a dump keeps them) and drops
-- what reads some columns of a relation; pgview_restore_dependents makes it
-- all again, in the same or a later transaction.
CREATE TABLE pgview_auto.saved_dependent (
  batch            integer NOT NULL,  -- one per pgview_save_dependents call; the newest is restored first
  "position"       integer NOT NULL,  -- within the batch: dependencies first
  relation         text NOT NULL UNIQUE, -- schema.name, quoted as needed
  kind             text NOT NULL CHECK (kind IN ('view', 'materialized view', 'table view')),
  owner            name NOT NULL,
  populated        boolean NOT NULL,  -- refreshed once made again
  table_view       text,              -- kind 'table view': its table (relation is its definition view)
  unique_key       text[],            -- kind 'table view': the key it was registered with
  create_statement text NOT NULL,     -- run as the owner
  statements       jsonb NOT NULL,    -- [{"role", "sql"}]: comments, indexes, rules, triggers, grants, ...
  schedule         jsonb,             -- its pgview_schedule
  refresh_stats    jsonb,             -- its refresh statistics
  saved_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
  saved_by         name NOT NULL,
  PRIMARY KEY (batch, "position")
);
SELECT pg_catalog.pg_extension_config_dump('pgview_auto.saved_dependent', '');
GRANT SELECT ON pgview_auto.saved_dependent TO PUBLIC;

CREATE FUNCTION @extschema@.pgview_save_dependents(rel regclass, columns name[] DEFAULT NULL)
  RETURNS integer
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_save_dependents';
COMMENT ON FUNCTION @extschema@.pgview_save_dependents(regclass, name[]) IS
  'Save and drop the views, materialized views and table views that read these columns of rel (all of rel when NULL), and what reads them; returns how many';

CREATE FUNCTION @extschema@.pgview_restore_dependents()
  RETURNS integer
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'pgview_restore_dependents';
COMMENT ON FUNCTION @extschema@.pgview_restore_dependents() IS
  'Make again everything pgview_save_dependents saved (in this or an earlier transaction, or before a dump); returns how many';

CREATE FUNCTION @extschema@.pgview_discard_saved_dependents(relation text DEFAULT NULL)
  RETURNS integer
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_discard_saved_dependents';
COMMENT ON FUNCTION @extschema@.pgview_discard_saved_dependents(text) IS
  'Give up a saved relation (by its name in pgview_saved_dependents), or all of them; returns how many';

CREATE VIEW @extschema@.pgview_saved_dependents AS
  SELECT relation, kind, owner, table_view, populated, saved_at, saved_by, batch, "position",
         create_statement AS definition
  FROM pgview_auto.saved_dependent
  ORDER BY batch DESC, "position";
COMMENT ON VIEW @extschema@.pgview_saved_dependents IS
  'What pgview_save_dependents saved and pgview_restore_dependents will make again, in that order';
