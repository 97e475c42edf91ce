-- pgview_auto 0.1.0: the dependency catalog.
\echo Use "CREATE EXTENSION pgview_auto" to load this file. \quit

-- Internal objects live in their own schema; the public functions live in the
-- schema the extension is created in (public by default).
CREATE SCHEMA pgview_auto;
REVOKE ALL ON SCHEMA pgview_auto FROM PUBLIC;

CREATE FUNCTION @extschema@.pgview_deps(transitive boolean DEFAULT false)
  RETURNS TABLE (dependent regclass, dependent_kind text,
                 referenced regclass, referenced_kind text, depth integer)
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'pgview_deps';
COMMENT ON FUNCTION @extschema@.pgview_deps(boolean) IS
  'Which relation each view and materialized view reads: direct edges, or all of them (transitive) with the shortest depth';

CREATE FUNCTION @extschema@.pgview_dependents(rel regclass, transitive boolean DEFAULT true)
  RETURNS TABLE (relation regclass, kind text, depth integer)
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'pgview_dependents';
COMMENT ON FUNCTION @extschema@.pgview_dependents(regclass, boolean) IS
  'Views and materialized views that read rel, directly or (transitive) through other views';

CREATE FUNCTION @extschema@.pgview_dependencies(rel regclass, transitive boolean DEFAULT true)
  RETURNS TABLE (relation regclass, kind text, depth integer)
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'pgview_dependencies';
COMMENT ON FUNCTION @extschema@.pgview_dependencies(regclass, boolean) IS
  'Relations that rel reads, directly or (transitive) through other views';

CREATE FUNCTION @extschema@.pgview_refresh_order(matviews regclass[] DEFAULT NULL)
  RETURNS TABLE ("position" integer, matview regclass)
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'pgview_refresh_order';
COMMENT ON FUNCTION @extschema@.pgview_refresh_order(regclass[]) IS
  'Materialized views in the order they must be refreshed (dependencies first): all, or the given ones and every matview that depends on them';

CREATE FUNCTION @extschema@.pgview_views(schema name DEFAULT NULL)
  RETURNS TABLE (view regclass, kind text, owner name, populated boolean,
                 concurrent_refresh_ok boolean, size_bytes bigint,
                 dependencies integer, dependents integer, definition text)
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'pgview_views';
COMMENT ON FUNCTION @extschema@.pgview_views(name) IS
  'Views and materialized views (of one schema, or all user schemas) with owner, state, size, dependency counts and definition';
