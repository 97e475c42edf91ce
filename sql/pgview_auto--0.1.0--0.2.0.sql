-- pgview_auto 0.1.0 -> 0.2.0: watches and refresh at commit.
\echo Use "ALTER EXTENSION pgview_auto UPDATE TO '0.2.0'" to load this file. \quit

-- The registry. regclass columns: pg_dump writes names, so a restore points at
-- the new objects, never at stale OIDs.

-- One row per watched materialized view: its options.
CREATE TABLE pgview_auto.watched (
  matview       regclass PRIMARY KEY,
  mode          text NOT NULL DEFAULT 'commit' CHECK (mode IN ('commit')),
  "concurrently" boolean,          -- NULL: CONCURRENTLY when possible
  on_error      text NOT NULL DEFAULT 'error' CHECK (on_error IN ('error', 'warn'))
);

-- One row per relation a watched matview is refreshed for: a table (captured by a
-- trigger) or a materialized view (refreshed before it, in the same cascade).
CREATE TABLE pgview_auto.watch (
  matview    regclass NOT NULL REFERENCES pgview_auto.watched ON DELETE CASCADE,
  requested  regclass,             -- what pgview_watch was given; NULL: everything the matview reads
  source     regclass NOT NULL,    -- the captured table, or a matview source
  via        regclass,             -- the view the source was found through; NULL: named or read directly
  UNIQUE NULLS NOT DISTINCT (matview, requested, source)
);
CREATE INDEX ON pgview_auto.watch (source);

-- Refresh statistics: runtime data (like pg_stat_*), not dumped by pg_dump.
-- The row of a matview is also its refresh version: a REPEATABLE READ writer that
-- updates it after a newer refresh gets a serialization failure instead of
-- regressing the view.
CREATE TABLE pgview_auto.refresh_stats (
  matview            regclass PRIMARY KEY,
  refresh_count      bigint NOT NULL DEFAULT 0,
  last_refresh       timestamptz,
  last_duration      interval,
  total_duration     interval NOT NULL DEFAULT '0',
  min_duration       interval,
  max_duration       interval,
  last_concurrently  boolean,
  failures           bigint NOT NULL DEFAULT 0,
  last_error         text,
  last_error_at      timestamptz,
  stale              boolean NOT NULL DEFAULT false  -- the last refresh attempt failed
);

SELECT pg_catalog.pg_extension_config_dump('pgview_auto.watched', '');
SELECT pg_catalog.pg_extension_config_dump('pgview_auto.watch', '');

-- Everyone may read the registry and statistics (as pg_trigger and pg_stat_*);
-- only the extension's functions write them.
GRANT USAGE ON SCHEMA pgview_auto TO PUBLIC;
GRANT SELECT ON pgview_auto.watched, pgview_auto.watch, pgview_auto.refresh_stats TO PUBLIC;

-- Any change of the registry, by any session (and by pg_restore), invalidates
-- every backend's cache of watchers once it commits.
CREATE FUNCTION pgview_auto.registry_changed() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'pgview_registry_changed';
CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON pgview_auto.watched FOR EACH STATEMENT EXECUTE FUNCTION pgview_auto.registry_changed();
CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON pgview_auto.watch FOR EACH STATEMENT EXECUTE FUNCTION pgview_auto.registry_changed();

-- The capture trigger: one C statement-level function for every watched table.
CREATE FUNCTION pgview_auto.capture() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'pgview_capture';

CREATE FUNCTION @extschema@.pgview_watch(matview regclass, source regclass DEFAULT NULL,
                                         mode text DEFAULT 'commit', "concurrently" boolean DEFAULT NULL,
                                         on_error text DEFAULT 'error')
  RETURNS SETOF regclass
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_watch';
COMMENT ON FUNCTION @extschema@.pgview_watch(regclass, regclass, text, boolean, text) IS
  'Refresh matview when source (default: every table it reads) changes; returns the tables now captured for it';

CREATE FUNCTION @extschema@.pgview_unwatch(matview regclass, source regclass DEFAULT NULL)
  RETURNS integer
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_unwatch';
COMMENT ON FUNCTION @extschema@.pgview_unwatch(regclass, regclass) IS
  'Stop refreshing matview for source (default: for everything); returns the number of watches removed';

CREATE FUNCTION @extschema@.pgview_refresh(matview regclass, "concurrently" boolean DEFAULT NULL,
                                           "cascade" boolean DEFAULT true)
  RETURNS integer
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_refresh';
COMMENT ON FUNCTION @extschema@.pgview_refresh(regclass, boolean, boolean) IS
  'Refresh matview now (and, with cascade, every matview watching it, in dependency order); returns the number refreshed';

CREATE VIEW @extschema@.pgview_watches AS
  SELECT * FROM (
    SELECT DISTINCT w.matview, w.source, w.via, o.mode, o."concurrently", o.on_error
    FROM pgview_auto.watch w JOIN pgview_auto.watched o USING (matview)) d
  ORDER BY d.matview::text, d.source::text, d.via::text;
COMMENT ON VIEW @extschema@.pgview_watches IS
  'Which relation each watched materialized view is refreshed for, and through which view it was found';

CREATE FUNCTION @extschema@.pgview_status()
  RETURNS TABLE (matview regclass, mode text, sources regclass[],
                 refresh_count bigint, last_refresh timestamptz,
                 last_duration interval, total_duration interval,
                 min_duration interval, max_duration interval,
                 last_concurrently boolean, failures bigint,
                 last_error text, last_error_at timestamptz)
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT coalesce(o.matview, s.matview), o.mode,
           (SELECT array_agg(DISTINCT w.source ORDER BY w.source)
              FROM pgview_auto.watch w WHERE w.matview = o.matview),
           coalesce(s.refresh_count, 0), s.last_refresh, s.last_duration,
           coalesce(s.total_duration, '0'), s.min_duration, s.max_duration,
           s.last_concurrently, coalesce(s.failures, 0), s.last_error, s.last_error_at
    FROM pgview_auto.watched o
    FULL JOIN pgview_auto.refresh_stats s ON s.matview = o.matview
    ORDER BY 1
  $$;
COMMENT ON FUNCTION @extschema@.pgview_status() IS
  'One row per watched or refreshed materialized view: mode, sources, refresh statistics, last error';
