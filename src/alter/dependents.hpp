// pgview_auto — which relations must be rebuilt around a change of columns, in
// which order, and whether the caller may rebuild them.
//
// The views and materialized views whose rules read the changed columns
// (pg_depend records the column a rule reads), then everything that reads those,
// transitively (the dependency graph, plus rules other than SELECT rules: a rule
// on a view naming another view ties them as well). A table view's definition
// view is rebuilt like any view; its table (with its data) stays.
// The order comes from Boost.Graph levels over the set: dependencies first for
// recreating, the reverse for dropping.
#pragma once

#include <string>
#include <vector>

#include "alter/alter_statement.hpp"
#include "create/sql_runner.hpp"

namespace pgview::alter {

enum class RebuildKind { view, matview, definition }; // definition: of a table view

const char *kind_text(RebuildKind kind); // 'view', 'materialized view', 'table view'

struct Dependent {
    Oid relid;
    RebuildKind kind;
    Oid owner;
    Oid table_view = InvalidOid; // kind definition: the table view's table
};

struct Plan {
    std::vector<Dependent> order; // dependencies first
    // The relations whose rules read a dropped column (no replacement in the
    // statement): they cannot come back.
    std::vector<std::pair<Oid, ColumnRef>> readers_of_dropped;
};

Plan plan_dependents(create::SqlRunner &sql, const std::vector<ColumnRef> &columns);
// The plan's relations, sorted: a plan made again after locking is compared with it.
std::vector<Oid> relids(const Plan &plan);

// Everything checked before anything is dropped: 2BP01 for a dropped column a
// view reads and for objects outside the set that depend on it (functions
// using a view's row type, rules on tables, ...); 0A000 for a temporary view of
// another session; 42501 when the caller is not a member of an owner (or, for
// a table view's definition, of the table's owner).
// `who` names the caller (pgview_alter, ...), `verb` what it does to them
// ("rebuild", "save").
void check_plan(create::SqlRunner &sql, const Plan &plan, const std::string &who, const std::string &verb);

std::string oid_array(const std::vector<Oid> &oids); // '{1,2,3}' for a $n::oid[] parameter

} // namespace pgview::alter
