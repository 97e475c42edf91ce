// pgview_auto — "CREATE OR REPLACE MATERIALIZED VIEW", which PostgreSQL lacks:
// in the caller's transaction, drop the matview and create it from the new
// query, then give back what the old one had: owner, grants, comments (of the
// matview, and of columns that kept their name), storage parameters and
// tablespace (unless new ones are given), and every index that still applies
// (a NOTICE names each one that does not). Watches come back through the
// DROP/CREATE rule of the DDL event triggers. Views that read the matview
// would be lost: that is refused.
#pragma once

#include <map>

#include <string>

#include "create/sql_runner.hpp"
#include "create/view_spec.hpp"

namespace pgview::create {

struct MatviewDefinition {
    QualifiedName name;
    std::string query;
    std::vector<Option> options; // empty: keep the old ones
    bool with_data;
};

void replace_matview(SqlRunner &sql, Oid old_matview, const MatviewDefinition &def);

// What a matview had that its replacement gets back (its owner, storage, comments,
// grants, indexes). keep_matview refuses (42501) a caller who does not own it and
// (2BP01) a matview that views read.
struct KeptMatview {
    std::string owner;
    std::string tablespace;              // "" for the default
    std::vector<Option> reloptions;
    std::string comment;
    bool has_comment = false;
    std::vector<std::pair<std::string, std::string>> column_comments;
    std::vector<std::vector<std::string>> grants; // grantee ("" = PUBLIC), privilege, grantable
    std::vector<std::pair<std::string, std::string>> indexes; // name, CREATE INDEX statement
    std::map<std::string, std::pair<std::string, std::string>> index_comments; // name -> (schema.name, comment)
    const char *stats = nullptr; // pgview_status's counts, taken out of the registry (registry::stats_take)
};
KeptMatview keep_matview(SqlRunner &sql, Oid matview, const std::string &shown);
// Grants, comments and indexes onto the relation `qualified` (a matview, or the
// table of a table view: `kind` says which, for the statements and messages).
void give_back(SqlRunner &sql, const std::string &qualified, const std::string &shown, const KeptMatview &kept,
               const std::string &kind);

} // namespace pgview::create
