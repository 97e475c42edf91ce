// pgview_auto — a table view's primary key. ORMs map a table by its primary
// key (SQLAlchemy's automap skips a table without one): a table view whose
// unique_key columns are never NULL in its query (analysis/not_null.hpp) has
// them as its primary key, made from the unique index unique_key asks for. One
// whose key columns can be NULL has none (its NOT NULL would fail a refresh),
// and loses the one it had when a new query (or_replace, a rebuild) can give
// NULL there. Kept right after pgview_create, or_replace, pgview_alter's
// rebuild and pgview_restore_dependents.
#pragma once

#include "create/sql_runner.hpp"

extern "C" {
#include "postgres.h"
}

namespace pgview::create {

// The statements run as the caller (the owner or a member of its role).
void sync_primary_key(SqlRunner &sql, Oid table);

} // namespace pgview::create
