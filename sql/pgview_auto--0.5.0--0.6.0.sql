-- pgview_auto 0.5.0 -> 0.6.0: security and reliability fixes, incremental refresh of
-- table views, pgview_alter.
\echo Use "ALTER EXTENSION pgview_auto UPDATE TO '0.6.0'" to load this file. \quit

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
