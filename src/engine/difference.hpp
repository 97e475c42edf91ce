// pgview_auto — the refresh of a table view: the difference between the table
// and its query, applied in one statement (a DELETE, an UPDATE and an INSERT
// as data-modifying CTEs over one materialized run of the query, all under one
// snapshot), so that only changed rows are written: WAL and bloat follow the
// size of the change, row triggers fire per changed row, readers are never
// blocked (the caller holds an ExclusiveLock on the table, which readers pass).
// With a unique key, rows are matched by it and updated in place when any
// column changed; without, the rows are a multiset compared whole (by their
// text form): a changed row is a DELETE and an INSERT.
#pragma once

#include "tableview/table_view_registry.hpp"

namespace pgview::engine {

// The statement that refreshes tv (C++; errors as pgview::Error).
std::string difference_statement(const tableview::TableView &tv);

// Runs it as the table's owner under a snapshot taken now; the caller holds an
// ExclusiveLock on the table. The table's deferrable constraints are made
// IMMEDIATE first (PostgreSQL cannot defer a trigger queued inside the
// restricted operation a refresh is). C-level: may ereport. The rows deleted,
// updated and inserted go to the server log at DEBUG1.
void run_difference(Oid table, const char *statement);

// The table's deferrable constraints made IMMEDIATE before a refresh writes it
// (PostgreSQL cannot queue a deferred trigger inside the security-restricted
// operation). C-level.
void check_constraints_immediately(Oid table);

} // namespace pgview::engine
