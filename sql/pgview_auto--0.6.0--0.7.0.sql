-- pgview_auto 0.6.0 -> 0.7.0: security and reliability, round 2 (one owner
-- scope, shared memory as a budget, nothing silently stale).
\echo Use "ALTER EXTENSION pgview_auto UPDATE TO '0.7.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Shared memory is a budget: a change that finds no room there makes its view's
-- next refresh full, and pgview_status counts how often (shmem_overflows).
DROP FUNCTION @extschema@.pgview_status();
DROP FUNCTION pgview_auto.pending_state();
CREATE FUNCTION pgview_auto.pending_state()
  RETURNS TABLE (matview regclass, pending boolean, pending_since timestamptz, next_refresh timestamptz,
                 overflows bigint)
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'pgview_pending_state';

-- The database as a whole: all pending when its shared entries overflowed
-- (pgview_auto.max_matviews), or until the restart rule has run.
CREATE FUNCTION pgview_auto.database_pending(OUT all_dirty boolean, OUT since timestamptz, OUT overflows bigint)
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'pgview_database_pending';

CREATE FUNCTION @extschema@.pgview_status()
  RETURNS TABLE (matview regclass, mode text, sources regclass[],
                 refresh_count bigint, last_refresh timestamptz,
                 last_duration interval, total_duration interval,
                 min_duration interval, max_duration interval,
                 last_concurrently boolean, failures bigint,
                 last_error text, last_error_at timestamptz,
                 pending boolean, pending_since timestamptz,
                 next_refresh timestamptz, schedule interval,
                 incremental_refreshes bigint, keys_refreshed bigint, last_keys bigint,
                 shmem_overflows bigint)
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
           coalesce(p.pending, false) OR (d.all_dirty AND (o.mode IN ('async', 'manual') OR sc.every IS NOT NULL)),
           CASE WHEN p.pending THEN p.pending_since
                WHEN d.all_dirty AND (o.mode IN ('async', 'manual') OR sc.every IS NOT NULL) THEN d.since END,
           p.next_refresh, sc.every,
           coalesce(k.refreshes, 0), coalesce(k.keys, 0), k.last_keys, coalesce(p.overflows, d.overflows)
    FROM m CROSS JOIN pgview_auto.database_pending() d
    LEFT JOIN pgview_auto.watched o ON o.matview = m.matview
    LEFT JOIN pgview_auto.refresh_stats s ON s.matview = m.matview
    LEFT JOIN pgview_auto.visible_errors() e ON e.matview = m.matview
    LEFT JOIN pgview_auto.schedule sc ON sc.matview = m.matview
    LEFT JOIN k ON k.matview = m.matview
    LEFT JOIN pgview_auto.pending_state() p ON p.matview = m.matview
    ORDER BY m.matview
  $$;
COMMENT ON FUNCTION @extschema@.pgview_status() IS
  'One row per watched, scheduled or refreshed materialized view or table view: mode, sources, refresh statistics (full refreshes in refresh_count, keyed ones in incremental_refreshes), last error, pending changes, next refresh, and how often its pending changes did not fit in shared memory (shmem_overflows: each made a refresh full)';
