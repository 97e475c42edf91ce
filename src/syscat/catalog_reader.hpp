// pgview_auto — reads relations and their view dependency edges from the
// system catalogs (pg_class, pg_depend on rewrite rules) and builds the graph.
#pragma once

#include "graph/dependency_graph.hpp"

extern "C" {
#include "postgres.h"
}

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

// A relation the graph leaves out on purpose is an error (42809) naming it and
// why: pgview_auto's own tables and views, or the definition view of a table
// view (the table view stands in for it). `function` names the caller, whose
// hint differs. Nothing happens for a relation the graph holds.
void require_in_graph(const graph::DependencyGraph &g, Oid relid, const char *function);

} // namespace pgview::syscat
