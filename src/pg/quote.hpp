// pgview_auto — quoting names and values for SQL text we build (C++; errors as
// pgview::Error).
#pragma once

#include <string>

extern "C" {
#include "postgres.h"
}

namespace pgview {

std::string ident(const std::string &name);     // an identifier, quoted where needed
std::string literal(const std::string &text);   // a string literal
std::string qualified_name(Oid relid);          // schema.name of a relation, quoted where needed (42P01 if gone)
std::string relation_name(Oid relid);           // as regclass prints it (schema only where the search_path needs it)

// The same, C-level (may ereport; palloc'd): for code already inside pg_call.
const char *quote_relation(Oid relid);

// "OPERATOR(schema.=)": the equality operator of a type's default btree (or
// hash) operator class, named with its schema, so that SQL we build compares
// values of a type whose = lives outside pg_catalog (citext, say) by that
// type's own equality, with any search_path. C-level; 42883 when the type has
// none (nullptr with missing_ok).
const char *equality_operator(Oid type, bool missing_ok = false);

} // namespace pgview
