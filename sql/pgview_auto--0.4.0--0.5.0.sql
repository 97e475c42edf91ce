-- pgview_auto 0.4.0 -> 0.5.0: create and drop views and materialized views from SQL text.
\echo Use "ALTER EXTENSION pgview_auto UPDATE TO '0.5.0'" to load this file. \quit

-- SECURITY INVOKER, and no search_path of their own, on purpose: the query is
-- the caller's SQL, parsed with the caller's search_path and run with the
-- caller's rights, exactly as the caller's own CREATE VIEW would be.
CREATE FUNCTION @extschema@.pgview_create(name text, query text, kind text DEFAULT 'view',
                                          or_replace boolean DEFAULT false,
                                          if_not_exists boolean DEFAULT false,
                                          with_data boolean DEFAULT true,
                                          options text[] DEFAULT NULL,
                                          unique_key text[] DEFAULT NULL)
  RETURNS regclass
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_create';

CREATE FUNCTION @extschema@.pgview_drop(name text, "cascade" boolean DEFAULT false, if_exists boolean DEFAULT false)
  RETURNS boolean
  LANGUAGE c VOLATILE CALLED ON NULL INPUT
  AS 'MODULE_PATHNAME', 'pgview_drop';

-- Table views: an ordinary table kept equal to a query by differential refresh.
-- The query lives in a view of its own (the definition, named <table>_pgview_query,
-- in the table's schema), so PostgreSQL tracks what it reads, renames follow it,
-- and pg_dump dumps it. regclass columns: pg_dump writes names, not OIDs.
CREATE TABLE pgview_auto.table_view (
  relation regclass PRIMARY KEY,
  definition regclass NOT NULL UNIQUE,
  unique_key text[]
);
SELECT pg_catalog.pg_extension_config_dump('pgview_auto.table_view', '');
