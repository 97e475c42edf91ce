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
