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
                 overflows bigint, pending_keys bigint)
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'pgview_pending_state';

-- The database as a whole: all pending when its shared entries overflowed
-- (pgview_auto.max_matviews), or until the restart rule has run; its worker,
-- or since when it waits for one (workers take turns between databases when
-- pgview_auto.max_workers are busy).
CREATE FUNCTION pgview_auto.database_pending(OUT all_dirty boolean, OUT since timestamptz, OUT overflows bigint,
                                             OUT worker_pid integer, OUT worker_wanted timestamptz)
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'pgview_database_pending';

-- A view is never silently stale: a table a watch should capture that has no
-- enabled capture trigger (its owner dropped or disabled it, or the watcher lost
-- TRIGGER on it) shows in pgview_status.uncaptured.
CREATE FUNCTION pgview_auto.uncaptured()
  RETURNS TABLE (matview regclass, source regclass)
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'pgview_uncaptured';

CREATE FUNCTION @extschema@.pgview_maintenance()
  RETURNS TABLE (matview regclass, strategy text, refreshes bigint, keys bigint, rows_changed bigint,
                 total_duration interval, last_keys bigint, last_refresh timestamptz, last_reason text)
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'pgview_maintenance';
COMMENT ON FUNCTION @extschema@.pgview_maintenance() IS
  'What maintaining each view of this database has cost since the server started, per strategy: refreshes, keys, rows written and time, and why the last refresh of that strategy had it (kept in shared memory: needs shared_preload_libraries)';

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
                 shmem_overflows bigint, uncaptured regclass[],
                 worker_pid integer, waiting_for_worker_since timestamptz,
                 last_strategy text, delta_refreshes bigint, rows_changed bigint,
                 maintenance_duration interval, last_strategy_reason text)
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  SET jit = off -- (its estimate passes jit_above_cost: compiling took a second, running it milliseconds)
  AS $$
    WITH m AS (
      SELECT matview FROM pgview_auto.watched WHERE matview IS NOT NULL
      UNION SELECT matview FROM pgview_auto.refresh_stats
      UNION SELECT matview FROM pgview_auto.schedule
      UNION SELECT matview FROM pgview_auto.key_lock),
    k AS (
      SELECT l.matview, sum(l.refreshes)::bigint AS refreshes, sum(l.keys)::bigint AS keys,
             (array_agg(l.last_keys ORDER BY l.last_at DESC NULLS LAST))[1] AS last_keys, max(l.last_at) AS last_at
      FROM pgview_auto.key_lock l GROUP BY l.matview),
    mt AS (
      SELECT x.matview, sum(x.refreshes) FILTER (WHERE x.strategy = 'delta')::bigint AS delta_refreshes,
             sum(x.keys) FILTER (WHERE x.strategy = 'delta')::bigint AS delta_keys,
             (array_agg(x.last_keys ORDER BY x.last_refresh DESC) FILTER (WHERE x.strategy = 'delta'))[1] AS delta_last_keys,
             max(x.last_refresh) FILTER (WHERE x.strategy = 'delta') AS delta_last_at,
             (array_agg(x.strategy ORDER BY x.last_refresh DESC))[1] AS last_strategy,
             (array_agg(x.last_reason ORDER BY x.last_refresh DESC))[1] AS last_reason,
             sum(x.rows_changed)::bigint AS rows_changed, sum(x.total_duration) AS duration
      FROM @extschema@.pgview_maintenance() x GROUP BY x.matview),
    uncaptured AS MATERIALIZED (SELECT * FROM pgview_auto.uncaptured())
    SELECT m.matview, o.mode,
           (SELECT array_agg(DISTINCT w.source ORDER BY w.source)
              FROM pgview_auto.watch w WHERE w.matview = m.matview),
           coalesce(s.refresh_count, 0), greatest(s.last_refresh, k.last_at, mt.delta_last_at), s.last_duration,
           coalesce(s.total_duration, '0'), s.min_duration, s.max_duration,
           s.last_concurrently, coalesce(s.failures, 0), e.last_error, s.last_error_at,
           coalesce(p.pending, false) OR (d.all_dirty AND (o.mode IN ('async', 'manual') OR sc.every IS NOT NULL)),
           CASE WHEN p.pending THEN p.pending_since
                WHEN d.all_dirty AND (o.mode IN ('async', 'manual') OR sc.every IS NOT NULL) THEN d.since END,
           p.next_refresh, sc.every,
           coalesce(k.refreshes, 0) + coalesce(mt.delta_refreshes, 0), coalesce(k.keys, 0) + coalesce(mt.delta_keys, 0),
           CASE WHEN mt.delta_last_at > k.last_at OR k.last_at IS NULL THEN mt.delta_last_keys ELSE k.last_keys END,
           coalesce(p.overflows, d.overflows),
           (SELECT array_agg(DISTINCT u.source ORDER BY u.source) FROM uncaptured u WHERE u.matview = m.matview),
           CASE WHEN o.mode = 'async' OR sc.every IS NOT NULL THEN d.worker_pid END,
           CASE WHEN o.mode = 'async' OR sc.every IS NOT NULL THEN d.worker_wanted END,
           mt.last_strategy, coalesce(mt.delta_refreshes, 0), mt.rows_changed, mt.duration, mt.last_reason
    FROM m CROSS JOIN pgview_auto.database_pending() d
    LEFT JOIN pgview_auto.watched o ON o.matview = m.matview
    LEFT JOIN pgview_auto.refresh_stats s ON s.matview = m.matview
    LEFT JOIN pgview_auto.visible_errors() e ON e.matview = m.matview
    LEFT JOIN pgview_auto.schedule sc ON sc.matview = m.matview
    LEFT JOIN k ON k.matview = m.matview
    LEFT JOIN mt ON mt.matview = m.matview
    LEFT JOIN pgview_auto.pending_state() p ON p.matview = m.matview
    ORDER BY m.matview
  $$;
COMMENT ON FUNCTION @extschema@.pgview_status() IS
  'One row per watched, scheduled or refreshed materialized view or table view: mode, sources, refresh statistics (full refreshes in refresh_count; keyed recomputes and deltas in incremental_refreshes, deltas also in delta_refreshes, counted since the server started), the strategy of the last refresh and why (last_strategy_reason: a fallback to a full refresh says so), rows written and time spent by maintenance since the server started (pgview_maintenance() has them per strategy), last error, pending changes, next refresh, how often its pending changes did not fit in shared memory (shmem_overflows: each made a refresh full), the tables whose changes it no longer receives (uncaptured: their capture trigger was dropped or disabled, or the watcher lost TRIGGER on them), and for async and scheduled views the worker of the database (worker_pid) or since when it waits for one (every worker busy elsewhere)';

-- ---------------------------------------------------------------------------
-- A view is never silently stale: ATTACH / DETACH PARTITION (already in the
-- tags) and REFRESH MATERIALIZED VIEW by hand refresh what watches the table
-- or matview whose rows they changed. (An event trigger's tags cannot be
-- altered: it is created again.)
DROP EVENT TRIGGER pgview_auto_ddl_command_end;
CREATE EVENT TRIGGER pgview_auto_ddl_command_end ON ddl_command_end
  WHEN TAG IN ('CREATE MATERIALIZED VIEW', 'CREATE VIEW', 'CREATE TABLE', 'ALTER TABLE', 'ALTER VIEW',
               'ALTER MATERIALIZED VIEW', 'CREATE TRIGGER', 'ALTER SCHEMA', 'REFRESH MATERIALIZED VIEW')
  EXECUTE FUNCTION pgview_auto.on_ddl_command_end();

-- ---------------------------------------------------------------------------
-- A table view's rows are its query's: direct INSERT, UPDATE, DELETE and
-- TRUNCATE are refused by its trigger pgview_auto_guard (its refresh passes).
CREATE FUNCTION pgview_auto.guard() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'pgview_guard';

-- ---------------------------------------------------------------------------
-- sync_capture_triggers() runs as the registry's owner: not for everyone. It
-- puts triggers back only where a watcher still holds TRIGGER, and never waits
-- for a table's lock.
REVOKE EXECUTE ON FUNCTION pgview_auto.sync_capture_triggers() FROM PUBLIC;
COMMENT ON FUNCTION pgview_auto.sync_capture_triggers() IS
  'Give every captured table the capture triggers this version needs, where a watcher still holds TRIGGER on it and its lock is free at once; returns the number of tables synced';
-- Existing table views get their guard (sync_capture_triggers puts it on every one).
SELECT pgview_auto.sync_capture_triggers();

-- ---------------------------------------------------------------------------
-- Saved dependents belong to the role that saved them: each role sees (here),
-- restores and discards its own; a member of the saving role (a superuser)
-- sees them too. The table itself is not for PUBLIC any more (its statistics
-- column held refresh errors, which can quote data).
REVOKE SELECT ON pgview_auto.saved_dependent FROM PUBLIC;
CREATE OR REPLACE VIEW @extschema@.pgview_saved_dependents WITH (security_barrier) AS
  SELECT relation, kind, owner, table_view, populated, saved_at, saved_by, batch, "position",
         create_statement AS definition
  FROM pgview_auto.saved_dependent d
  WHERE d.saved_by OPERATOR(pg_catalog.=) CURRENT_USER
     OR (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)
     OR EXISTS (SELECT FROM pg_catalog.pg_roles s WHERE s.rolname OPERATOR(pg_catalog.=) d.saved_by
                AND pg_catalog.pg_has_role(CURRENT_USER, s.oid, 'MEMBER'))
  ORDER BY batch DESC, "position";
GRANT SELECT ON @extschema@.pgview_saved_dependents TO PUBLIC;
COMMENT ON VIEW @extschema@.pgview_saved_dependents IS
  'What pgview_save_dependents saved and pgview_restore_dependents will make again, in that order: the rows of the roles you are a member of (each role restores its own)';

-- ---------------------------------------------------------------------------
-- The dependency graph as a picture (issue 24): Graphviz DOT or Mermaid text,
-- whole or around one relation, watched arrows marked with mode and strategy.
-- It shows what pgview_deps shows, to every role alike (EXECUTE stays PUBLIC's,
-- as pgview_deps'); CALLED ON NULL INPUT so that a NULL format is an error
-- naming the argument and a NULL root means the whole graph.
CREATE FUNCTION @extschema@.pgview_graph(format text DEFAULT 'dot', root regclass DEFAULT NULL)
  RETURNS text
  LANGUAGE c STABLE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_graph';
COMMENT ON FUNCTION @extschema@.pgview_graph(text, regclass) IS
  'The dependency graph as Graphviz DOT (format ''dot'', for dot -Tsvg) or a Mermaid flowchart (''mermaid''): tables, views, materialized views and table views, arrows from a relation to what reads it, watched ones marked with the watch''s mode and the strategy of the source (keyed or full); the whole graph, or root with everything it reads and everything that reads it';

-- ---------------------------------------------------------------------------
-- One maintenance engine: pgview_explain names the plan the chooser makes for
-- a change of each source (full refresh, full difference, keyed recompute,
-- delta) and why; pgview_maintenance() shows what maintaining each view has
-- cost since the server started, per strategy.
DROP FUNCTION @extschema@.pgview_explain(regclass);
CREATE FUNCTION @extschema@.pgview_explain(view regclass)
  RETURNS TABLE (source regclass, refresh text, key_from text, reason text, strategy text, strategy_reason text,
                 view_key text, view_key_from text)
  LANGUAGE c STABLE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_explain';
COMMENT ON FUNCTION @extschema@.pgview_explain(regclass) IS
  'For each source table of a table view or materialized view: whether its changes refresh the view incrementally or in full, how the changed keys are found, why not incrementally, and the plan a change of that source alone gets (strategy: full refresh, full difference, keyed recompute or delta) with its reason; and the table view''s key (view_key) with where it comes from (from its GROUP BY, DISTINCT or the primary keys it joins, or given as unique_key)';


-- Mode 'immediate' (table views maintained at the end of each writing
-- statement, in the writer's transaction).
ALTER TABLE pgview_auto.watched DROP CONSTRAINT watched_mode_check;
ALTER TABLE pgview_auto.watched ADD CONSTRAINT watched_mode_check
  CHECK (mode IN ('commit', 'immediate', 'async', 'manual'));

-- ---------------------------------------------------------------------------
-- The refresh history (issue 24): every refresh, at commit, by the worker, by
-- pgview_refresh / pgview_refresh_pending or a schedule, and of every strategy,
-- is a row of pgview_refresh_log (pgview_auto.history). With
-- shared_preload_libraries the rows wait in a buffer in shared memory
-- (pgview_auto.history_buffer entries) and the database's worker writes them,
-- so writers never wait for it; without, the refresh writes its row itself.
-- A row of the table is a batch of refreshes, one array element each (the
-- view unnests them): at 17,000 refreshes a second a heap tuple per refresh
-- cost eight writers about 5% of their TPS, a row per batch about 3-4%
-- (test/bench/history/RESULTS.md). A batch is deleted by the worker once its
-- newest refresh is older than pgview_auto.history_days. History, not
-- configuration: not dumped by pg_dump.
CREATE TABLE pgview_auto.refresh_log (
  last_finished timestamptz NOT NULL, -- the batch's newest finished_at
  matview      oid[] NOT NULL,
  started_at   timestamptz[] NOT NULL,
  finished_at  timestamptz[] NOT NULL,
  origin       "char"[] NOT NULL,   -- c commit, s statement, p prepare, m manual, w worker
  strategy     "char"[] NOT NULL,   -- R full refresh, F full difference, K keyed recompute, D delta
  keys         bigint[] NOT NULL,
  rows_changed bigint[] NOT NULL,
  failed       boolean[] NOT NULL,
  error        text[] NOT NULL,
  pid          integer[] NOT NULL
);
-- The worker's prune (every 10 minutes) finds the old batches at once.
CREATE INDEX refresh_log_last_finished ON pgview_auto.refresh_log (last_finished);
-- Its error column can quote data: read it through pgview_refresh_log.
REVOKE ALL ON pgview_auto.refresh_log FROM PUBLIC;

-- Every row to every role, as pgview_status(); the error only to roles that may
-- read the view (as pgview_status().last_error).
CREATE VIEW @extschema@.pgview_refresh_log WITH (security_barrier) AS
  SELECT r.matview::pg_catalog.regclass AS matview, r.started_at, r.finished_at,
         r.finished_at OPERATOR(pg_catalog.-) r.started_at AS duration,
         CASE r.origin WHEN 'c' THEN 'commit' WHEN 's' THEN 'statement' WHEN 'p' THEN 'prepare'
                       WHEN 'm' THEN 'manual' WHEN 'w' THEN 'worker' END AS origin,
         CASE r.strategy WHEN 'R' THEN 'full refresh' WHEN 'F' THEN 'full difference'
                         WHEN 'K' THEN 'keyed recompute' WHEN 'D' THEN 'delta' END AS strategy,
         r.keys, r.rows_changed,
         CASE WHEN r.failed THEN 'failed' ELSE 'refreshed' END AS outcome,
         CASE WHEN pg_catalog.has_table_privilege(r.matview, 'SELECT') THEN r.error END AS error,
         r.pid
  FROM pgview_auto.refresh_log l,
       LATERAL ROWS FROM (pg_catalog.unnest(l.matview), pg_catalog.unnest(l.started_at),
                          pg_catalog.unnest(l.finished_at), pg_catalog.unnest(l.origin),
                          pg_catalog.unnest(l.strategy), pg_catalog.unnest(l.keys),
                          pg_catalog.unnest(l.rows_changed), pg_catalog.unnest(l.failed),
                          pg_catalog.unnest(l.error), pg_catalog.unnest(l.pid))
         AS r(matview, started_at, finished_at, origin, strategy, keys, rows_changed, failed, error, pid);
GRANT SELECT ON @extschema@.pgview_refresh_log TO PUBLIC;
COMMENT ON VIEW @extschema@.pgview_refresh_log IS
  'One row per refresh (any mode and strategy) of the last pgview_auto.history_days days: view, when, how long, origin (commit, statement, prepare, manual, worker), strategy, keys, rows written, outcome; the error only for roles that may read the view. With shared_preload_libraries rows appear once the worker has written them (pgview_history_buffer() shows what waits)';

CREATE FUNCTION @extschema@.pgview_history_buffer(OUT capacity integer, OUT waiting integer, OUT dropped bigint)
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'pgview_history_buffer';
COMMENT ON FUNCTION @extschema@.pgview_history_buffer() IS
  'The refresh history''s buffer in shared memory: its size (pgview_auto.history_buffer; 0 without shared_preload_libraries: refreshes write their row themselves), the entries of every database waiting for their worker, and the entries dropped since the server started because it was full';

CREATE FUNCTION @extschema@.pgview_prune_history() RETURNS bigint
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'pgview_prune_history';
REVOKE EXECUTE ON FUNCTION @extschema@.pgview_prune_history() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.pgview_prune_history() IS
  'Delete the refresh history rows older than pgview_auto.history_days now (the worker does it every 10 minutes); returns how many';

CREATE FUNCTION @extschema@.pgview_flush_history() RETURNS integer
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'pgview_flush_history';
REVOKE EXECUTE ON FUNCTION @extschema@.pgview_flush_history() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.pgview_flush_history() IS
  'Write this database''s refresh history entries waiting in shared memory to pgview_refresh_log now, in this transaction (the worker does it within pgview_auto.naptime); returns how many';

-- ---------------------------------------------------------------------------
-- What runs now (issue 24): one row per refresh running in this database (any
-- backend: a writer at commit, pgview_refresh, the worker), per view queued
-- for the worker (async, manual, scheduled, with its pending keys), and per
-- database a worker serves or that waits for one. Needs shared_preload_libraries
-- (shared memory is where another backend's refresh can be seen): without, it
-- is empty.
CREATE FUNCTION pgview_auto.running_refreshes()
  RETURNS TABLE (pid integer, matview oid, origin text, strategy text, started timestamptz,
                 keys_claimed bigint, keys_done bigint, rows_changed bigint)
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'pgview_running_refreshes';
CREATE FUNCTION pgview_auto.workers()
  RETURNS TABLE (database oid, pid integer, state text, waiting_since timestamptz)
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'pgview_workers';

CREATE VIEW @extschema@.pgview_activity AS
  SELECT 'refresh'::text AS kind, pg_catalog.current_database()::text AS database,
         r.matview::pg_catalog.regclass AS matview, w.mode, r.origin, r.strategy, 'running'::text AS state,
         r.started, r.keys_done, r.keys_claimed, r.rows_changed, r.pid
  FROM pgview_auto.running_refreshes() r
  LEFT JOIN pgview_auto.watched w ON w.matview OPERATOR(pg_catalog.=) r.matview
  UNION ALL
  SELECT 'queued', pg_catalog.current_database()::text, p.matview, w.mode, 'worker', NULL, 'queued',
         p.pending_since, NULL, p.pending_keys, NULL, d.worker_pid
  FROM pgview_auto.pending_state() p CROSS JOIN pgview_auto.database_pending() d
  LEFT JOIN pgview_auto.watched w ON w.matview OPERATOR(pg_catalog.=) p.matview
  WHERE p.pending
  UNION ALL
  SELECT 'worker', db.datname::text, NULL, NULL, NULL, NULL, k.state, k.waiting_since, NULL, NULL, NULL, k.pid
  FROM pgview_auto.workers() k LEFT JOIN pg_catalog.pg_database db ON db.oid OPERATOR(pg_catalog.=) k.database;
GRANT SELECT ON @extschema@.pgview_activity TO PUBLIC;
COMMENT ON VIEW @extschema@.pgview_activity IS
  'What pgview_auto does now: each refresh running in this database (kind refresh: view, mode, origin, strategy, since when, keys done of keys claimed, rows written, the backend''s pid: the worker''s or the writer''s), each view queued for the worker (kind queued: pending since, keys waiting), and each database a worker serves or that waits for one (kind worker: database, state, pid). Needs shared_preload_libraries: empty without';

-- ---------------------------------------------------------------------------
-- Applications and migrations (issue 23).
-- pgview_refresh_order orders table views with materialized views; a table or
-- plain view passed in stands for what its change makes stale.
COMMENT ON FUNCTION @extschema@.pgview_refresh_order(regclass[]) IS
  'Materialized views and table views in the order they must be refreshed (dependencies first): all of them, or those given and every one that reads them; a table or plain view given stands for the views that read it';

-- What a NOTICE tells (a watch removed, orphaned or restored, a schedule gone,
-- an index or comment not kept by or_replace, ...) is also kept here: most
-- drivers drop NOTICEs. An event belongs to its transaction. The newest 1000
-- are kept (each insert prunes the oldest). Not dumped: a log, not
-- configuration.
CREATE TABLE pgview_auto.event (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
  event    text NOT NULL,   -- what happened, in a few stable words ('watch removed', ...)
  relation text,            -- the view it is about, schema-qualified as the message shows it
  message  text NOT NULL,   -- the NOTICE's message, detail and hint
  detail   text,
  hint     text,
  role     name,            -- who ran the command (SET ROLE's role)
  owner    name             -- the view's owner, when known
);
-- A role sees the events of the commands it ran and of the views it owns (a
-- member of those roles, and a superuser, too): the messages name relations.
CREATE VIEW @extschema@.pgview_events WITH (security_barrier) AS
  SELECT e.id, e.at, e.event, e.relation, e.message, e.detail, e.hint, e.role, e.owner
  FROM pgview_auto.event e
  WHERE EXISTS (SELECT FROM pg_catalog.pg_roles r
                WHERE (r.rolname OPERATOR(pg_catalog.=) e.role OR r.rolname OPERATOR(pg_catalog.=) e.owner)
                  AND pg_catalog.pg_has_role(CURRENT_USER, r.oid, 'MEMBER'))
  ORDER BY e.id;
GRANT SELECT ON @extschema@.pgview_events TO PUBLIC;
COMMENT ON VIEW @extschema@.pgview_events IS
  'What pgview_auto told with a NOTICE or WARNING (a watch removed, orphaned or restored, a schedule removed, an index or comment not kept, ...), newest last: the last 1000 events, of the commands you ran and the views you own';

-- Table views keep their queries (their definition views) in schema
-- pgview_query, not beside the table, where \dv, an ORM's reflection and
-- Alembic's autogenerate listed them as the user's. The first table view makes
-- the schema (src/create/definition_schema.hpp), outside the extension: DROP
-- EXTENSION leaves table views as plain tables with their definitions, and
-- pg_dump dumps the schema and the definitions as any other. Everyone may read
-- it; nobody may create in it (the extension's own DDL gets CREATE for its
-- transaction only). Definitions made by earlier versions (<table>_pgview_query
-- beside the table) move there now, under the table's name; the schema this
-- script makes for them is taken out of the extension.
DO $$
DECLARE
  r record;
  target name;
  n int;
BEGIN
  IF NOT EXISTS (SELECT FROM pgview_auto.table_view) THEN
    RETURN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname OPERATOR(pg_catalog.=) 'pgview_query') THEN
    CREATE SCHEMA pgview_query;
    ALTER EXTENSION pgview_auto DROP SCHEMA pgview_query;
    GRANT USAGE ON SCHEMA pgview_query TO PUBLIC;
    COMMENT ON SCHEMA pgview_query IS 'pgview_auto: the queries of table views (one view per table view)';
  END IF;
  FOR r IN
    SELECT d.oid AS def, c.relname AS tname
    FROM pgview_auto.table_view t
    JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.relation::pg_catalog.oid
    JOIN pg_catalog.pg_class d ON d.oid OPERATOR(pg_catalog.=) t.definition::pg_catalog.oid
    WHERE d.relnamespace OPERATOR(pg_catalog.<>) 'pgview_query'::pg_catalog.regnamespace
  LOOP
    target := r.tname;
    n := 1;
    WHILE EXISTS (SELECT FROM pg_catalog.pg_class
                  WHERE relnamespace OPERATOR(pg_catalog.=) 'pgview_query'::pg_catalog.regnamespace
                    AND relname OPERATOR(pg_catalog.=) target) LOOP
      n := n OPERATOR(pg_catalog.+) 1;
      target := pg_catalog.left(r.tname, 60) OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) n;
    END LOOP;
    -- Through a name no relation of either schema has.
    EXECUTE pg_catalog.format('ALTER VIEW %s RENAME TO %I', r.def::pg_catalog.regclass,
                              'pgview_moving_' OPERATOR(pg_catalog.||) r.def);
    EXECUTE pg_catalog.format('ALTER VIEW %s SET SCHEMA pgview_query', r.def::pg_catalog.regclass);
    EXECUTE pg_catalog.format('ALTER VIEW %s RENAME TO %I', r.def::pg_catalog.regclass, target);
  END LOOP;
END
$$;
