// pgview_auto — what a view, materialized view or table-view definition is,
// saved as the SQL that makes it again: the CREATE statement (run as its
// owner) and the statements that give back everything else it had, each with
// the role that must run it (a grant is made again by its grantor).
//
// Read from the catalog in a few queries for the whole set, with
// search_path = pg_catalog, pg_temp so that every name PostgreSQL deparses
// (pg_get_viewdef, pg_get_triggerdef, ...) comes out schema-qualified wherever
// it has to be. Names, never OIDs: the same text can be kept in a table,
// dumped, and run in another database.
#pragma once

#include <string>
#include <vector>

#include "alter/dependents.hpp"
#include "create/sql_runner.hpp"

namespace pgview::alter {

struct Step {
    std::string role; // run as this role (its name)
    std::string sql;
};

struct SavedRelation {
    Oid old_relid = InvalidOid; // the relation saved, while it exists in this transaction
    RebuildKind kind = RebuildKind::view;
    std::string name;           // schema.name, quoted as needed (pg_temp for our own temporary views)
    std::string owner;
    bool populated = false;     // a matview to refresh after; a table view to refresh after
    std::string table_view;     // kind definition: the table view's table, schema.name
    std::string create_sql;     // CREATE VIEW / CREATE MATERIALIZED VIEW ... WITH NO DATA, as the owner
    // Run once every relation of the set exists (rules may name later ones):
    // comments, column defaults, column settings, indexes, statistics objects,
    // rules, triggers, grants.
    std::vector<Step> steps;

    std::string describe() const; // "view s.v", "table view s.t", ...
};

// The relations of the plan, in its order (dependencies first).
std::vector<SavedRelation> capture(create::SqlRunner &sql, const std::vector<Dependent> &order);

} // namespace pgview::alter
