// pgview_auto — "CREATE OR REPLACE MATERIALIZED VIEW", which PostgreSQL lacks:
// in the caller's transaction, drop the matview and create it from the new
// query, then give back what the old one had: owner, grants, comments (of the
// matview, and of columns that kept their name), storage parameters and
// tablespace (unless new ones are given), and every index that still applies
// (a NOTICE names each one that does not). Watches come back through the
// DROP/CREATE rule of the DDL event triggers. Views that read the matview
// would be lost: that is refused.
#pragma once

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

} // namespace pgview::create
