// pgview_auto — where table views keep their queries. A table view's
// definition (the view its refresh reads) lives in the schema pgview_query,
// not beside the table: tools that list a schema's relations (\dv, an ORM's
// reflection, Alembic's autogenerate) see only what the user made. The first
// table view makes the schema, outside the extension: DROP EXTENSION leaves
// table views as plain tables with their definitions, and pg_dump dumps the
// schema and the definitions as any other. Everyone may read it (USAGE);
// nobody may create in it: our own definition DDL gets CREATE for its own
// transaction only (with_definition_rights).
#pragma once

#include <functional>
#include <string>

extern "C" {
#include "postgres.h"
}

namespace pgview::create {

inline constexpr const char *definition_schema = "pgview_query";

// A name no relation of the schema has: the table's own when free, else the
// table's name with _2, _3, ... (clipped to a PostgreSQL name). Inside
// with_definition_rights (the schema exists, and concurrent makers have
// committed their names).
std::string free_definition_name(Oid schema, const std::string &table_name);

// Runs body(schema's OID), in which any role may create in (or give a
// relation of) the schema, made first if missing: CREATE granted to PUBLIC before and revoked after, in this
// transaction, so that no other session ever sees the grant. If body fails,
// the transaction (or subtransaction) that rolls back takes the grant with it.
// Sessions doing so take turns (the grant rewrites the schema's catalog row),
// until their transactions end.
void with_definition_rights(const std::function<void(Oid schema)> &body);

} // namespace pgview::create
