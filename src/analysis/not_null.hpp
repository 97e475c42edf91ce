// pgview_auto — which output columns of a table view's query are never NULL:
// a NOT NULL column of a table (through views and subqueries), from no
// nullable side of an outer join and no grouping set, a count(), a non-NULL
// constant. What cannot be shown is taken as nullable. Table views whose key
// columns are never NULL get a primary key (create/primary_key.hpp). C-level.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/attnum.h"
}

namespace pgview::analysis {

// The table's column is declared NOT NULL (a system column is never NULL).
bool attribute_not_null(Oid relid, AttrNumber attnum);

// Every column called names[i] of the definition view's query is never NULL.
bool columns_never_null(Oid definition, const char *const *names, int n);

} // namespace pgview::analysis
