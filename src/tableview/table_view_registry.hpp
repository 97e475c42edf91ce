// pgview_auto — which tables are table views: pgview_auto.table_view, one row
// per table view naming its definition (the view holding its query) and its
// unique key. Read and written as the registry owner (registry/session.hpp).
// C++ API: PostgreSQL errors come back as pgview::Error.
#pragma once

#include <string>
#include <vector>

extern "C" {
#include "postgres.h"
}

namespace pgview::tableview {

struct TableView {
    Oid table = InvalidOid;
    Oid definition = InvalidOid;
    std::vector<std::string> unique_key; // empty: rows compared whole, as a multiset
    bool populated = true; // false from pgview_create(..., with_data => false) to its first refresh
};

// False when relid is not a table view (or the installed SQL predates them).
bool lookup(Oid relid, TableView *out);
void cache_init(void); // from _PG_init: the relcache callback that drops cached answers
bool is_table_view(Oid relid);
void add(const TableView &tv);
// The first refresh of a table view created without data: populated from now on.
void mark_populated(Oid table);
// A dropped table or definition: the registry row goes. Returns the table view
// it belonged to (table == InvalidOid when none).
TableView forget(Oid dropped);

// What pgview_watch, pgview_refresh, pgview_schedule, ... accept: a
// materialized view or a table view, owned by the current user (42809, 42501);
// `function` names the caller for the hint of a wrong kind.
void require_owned_refreshable(Oid relid, const char *function);
bool is_refreshable(Oid relid); // a matview or a table view (no ownership check)
// "table view" or "materialized view": what messages call a refreshable relation.
const char *noun(Oid relid);
// Whether a refresh of relid can leave its readers unblocked: a table view's
// always does; a matview's when REFRESH ... CONCURRENTLY accepts it.
bool concurrent_refresh_ok(Oid relid);


} // namespace pgview::tableview
