// pgview_auto — reads relations and their view dependency edges from the
// system catalogs (pg_class, pg_depend on rewrite rules) and builds the graph.
#pragma once

#include "graph/dependency_graph.hpp"

namespace pgview::syscat {

// The graph of every table, partitioned table, view, materialized view and
// foreign table in user schemas (not pg_catalog, information_schema, pg_toast,
// nor pgview_auto's own tables and views),
// with an edge for each relation a view or materialized view reads.
// Read with the catalog snapshot: what PostgreSQL itself sees for DDL now.
// A table view is one node (kind table_view) reading what its definition view
// reads; with fold_table_views false the definition stays a view of its own and
// the table a plain table (what pg_depend says: pgview_alter rebuilds definitions).
graph::DependencyGraph read_dependency_graph(bool fold_table_views = true);

} // namespace pgview::syscat
