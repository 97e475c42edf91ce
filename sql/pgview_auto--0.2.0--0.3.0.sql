-- pgview_auto 0.2.0 -> 0.3.0: async, manual and scheduled refresh by a background worker.
\echo Use "ALTER EXTENSION pgview_auto UPDATE TO '0.3.0'" to load this file. \quit

ALTER TABLE pgview_auto.watched DROP CONSTRAINT watched_mode_check;
ALTER TABLE pgview_auto.watched ADD CONSTRAINT watched_mode_check CHECK (mode IN ('commit', 'async', 'manual'));
ALTER TABLE pgview_auto.watched
  ADD COLUMN debounce  interval NOT NULL DEFAULT '0' CHECK (debounce >= '0'),
  ADD COLUMN max_delay interval CHECK (max_delay > '0');

-- Scheduled refreshes (with or without a watch). Dumped with the registry.
CREATE TABLE pgview_auto.schedule (
  matview        regclass PRIMARY KEY,
  every          interval NOT NULL CHECK (every > '0'),
  only_if_dirty  boolean NOT NULL DEFAULT true
);
SELECT pg_catalog.pg_extension_config_dump('pgview_auto.schedule', '');
GRANT SELECT ON pgview_auto.schedule TO PUBLIC;
CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON pgview_auto.schedule FOR EACH STATEMENT EXECUTE FUNCTION pgview_auto.registry_changed();

DROP FUNCTION @extschema@.pgview_watch(regclass, regclass, text, boolean, text);
CREATE FUNCTION @extschema@.pgview_watch(matview regclass, source regclass DEFAULT NULL,
                                         mode text DEFAULT 'commit', "concurrently" boolean DEFAULT NULL,
                                         on_error text DEFAULT 'error', debounce interval DEFAULT '0',
                                         max_delay interval DEFAULT NULL)
  RETURNS SETOF regclass
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_watch';
COMMENT ON FUNCTION @extschema@.pgview_watch(regclass, regclass, text, boolean, text, interval, interval) IS
  'Refresh matview when source (default: every table it reads) changes: at commit, or after it by the background worker (async, debounced), or on request (manual); returns the tables now captured for it';

CREATE OR REPLACE VIEW @extschema@.pgview_watches AS
  SELECT * FROM (
    SELECT DISTINCT w.matview, w.source, w.via, o.mode, o."concurrently", o.on_error
    FROM pgview_auto.watch w JOIN pgview_auto.watched o USING (matview)) d
  ORDER BY d.matview::text, d.source::text, d.via::text;

CREATE FUNCTION @extschema@.pgview_schedule(matview regclass, every interval, only_if_dirty boolean DEFAULT true)
  RETURNS void
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_schedule';
COMMENT ON FUNCTION @extschema@.pgview_schedule(regclass, interval, boolean) IS
  'Refresh matview every interval in the background worker (only when something it watches changed, by default)';

CREATE FUNCTION @extschema@.pgview_unschedule(matview regclass)
  RETURNS boolean
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_unschedule';

CREATE FUNCTION @extschema@.pgview_refresh_pending(matview regclass DEFAULT NULL)
  RETURNS integer
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_refresh_pending';
COMMENT ON FUNCTION @extschema@.pgview_refresh_pending(regclass) IS
  'Refresh now, in this session, the matviews with changes pending (all, or this one); returns the number refreshed';

CREATE FUNCTION @extschema@.pgview_wait(matview regclass, timeout interval DEFAULT '30 seconds')
  RETURNS boolean
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_wait';
COMMENT ON FUNCTION @extschema@.pgview_wait(regclass, interval) IS
  'Wait until every change committed before the call is in matview; false on timeout';

CREATE FUNCTION @extschema@.pgview_reset_stats(matview regclass DEFAULT NULL)
  RETURNS void
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_reset_stats';

-- Pending state from shared memory (this database).
CREATE FUNCTION pgview_auto.pending_state()
  RETURNS TABLE (matview regclass, pending boolean, pending_since timestamptz, next_refresh timestamptz)
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'pgview_pending_state';

DROP FUNCTION @extschema@.pgview_status();
CREATE FUNCTION @extschema@.pgview_status()
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
      SELECT matview FROM pgview_auto.watched
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
COMMENT ON FUNCTION @extschema@.pgview_status() IS
  'One row per watched, scheduled or refreshed materialized view: mode, sources, refresh statistics, last error, pending changes, next refresh';
