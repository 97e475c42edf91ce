// pgview_auto — running saved SQL as the roles it belongs to.
//
// Each role is entered through the owner scope (pg/owner_scope.hpp), with
// default_tablespace = '' besides (the saved SQL names every schema and
// tablespace itself, and "no tablespace" must mean the database's default, not
// the session's), and the statements run
// as our own DDL: pgview_auto's event triggers skip them (the registry is kept
// right by the caller), other event triggers still fire. Consecutive statements
// of one role run in one visit to it. The caller holds the SPI connection.
// A failure is re-raised as "cannot <verb> <what>: <reason>", with
// PostgreSQL's SQLSTATE and detail and the hint given.
#pragma once

#include <string>
#include <vector>

extern "C" {
#include "postgres.h"
}

namespace pgview::alter {

struct Statement {
    std::string role; // its name
    std::string sql;
    std::string what; // for the error: "view s.v", ...
};

void run_statements(const std::vector<Statement> &statements, const std::string &verb, const std::string &hint);

// The relation a saved name (schema.name, quoted) stands for now; InvalidOid when none.
Oid relation_named(const std::string &name);

} // namespace pgview::alter
