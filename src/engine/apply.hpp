// pgview_auto — the one runner: every statement a plan of a table view builds
// (engine/statement.hpp) runs through apply_as_owner, as the table's owner in
// the owner scope, restricted as REFRESH is (no temporary objects, no SET ROLE
// from the query's functions), with search_path = pg_catalog, pg_temp for the
// query's functions and the table's triggers; the table's deferrable
// constraints made IMMEDIATE first (PostgreSQL cannot queue a deferred trigger
// inside a security-restricted operation); SPI connected; each statement
// through the table views' write guard. Statements run from generic plans
// saved once per backend (planning a keyed statement costs more than running it).
#pragma once

#include "pg/owner_scope.hpp"
#include "syscat/relation_info.hpp"

extern "C" {
#include "postgres.h"
#include "executor/spi.h"
}

namespace pgview::engine {

// The table's deferrable constraints made IMMEDIATE (as SET CONSTRAINTS ...
// IMMEDIATE) for the rest of the transaction. C-level.
void check_constraints_immediately(Oid table);

void spi_connect(void);
void spi_finish(void);

// Runs body() (C-level; SPI connected) as the table's owner and returns its
// result; then CommandCounterIncrement. by_key: statements that find rows by
// key, from generic plans made for a few keys: reaching each key's rows by index
// is what they are for, whatever the table's size at planning time (a small
// table would be read whole per refresh) ... which inflates the cost of a plan
// with no index to use past jit_above_cost: compiling it would cost more than
// running it, every time. C-level.
template <typename F>
auto apply_as_owner(Oid table, bool by_key, F &&body) -> decltype(body()) {
    check_constraints_immediately(table);
    auto connected = [&body]() -> decltype(body()) {
        spi_connect();
        auto result = body();
        spi_finish();
        return result;
    };
    Oid owner = syscat::relation_owner(table);
    auto result = by_key ? run_as_owner(owner, OwnerScope::restricted, connected,
                                        {{"enable_seqscan", "off"}, {"jit", "off"}})
                         : run_as_owner(owner, OwnerScope::restricted, connected);
    CommandCounterIncrement();
    return result;
}

// A saved generic plan for sql (found by its text).
SPIPlanPtr saved_plan(const char *sql, int nargs, const Oid *types);

// Runs a statement that writes table views (through the write guard), under
// a snapshot taken now; returns SPI's result code (the rows in SPI_tuptable).
int execute_writing(SPIPlanPtr plan, Datum *args, const bool *nulls = nullptr);

} // namespace pgview::engine
