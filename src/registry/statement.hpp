// pgview_auto — the registry's statements, for the files of src/registry only:
// each prepared once per backend and kept (the plan cache replans it when the
// tables change, even after DROP and CREATE EXTENSION), run with SPI inside a
// registry session. C-level.
#pragma once

#include "registry/session.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace pgview::registry::detail {

struct Statement {
    const char *sql;
    int nargs;
    Oid argtypes[10];
    SPIPlanPtr plan;
};

// Runs st (prepared on first use); an SPI result other than `expected` is an
// error. Returns SPI_processed.
int run(Statement &st, const Datum *values, const char *nulls, int expected);
Datum oid_or_null(Oid oid, char *null_flag);
Oid column_oid(int row, int col);
// Column `col` of the n result rows, palloc'd in the caller's memory context
// (it outlives SPI_finish).
Oid *oid_column(int n, int col);

} // namespace pgview::registry::detail

// Microseconds of an interval column, saturated at max_interval_us; NULL stays NULL.
#define INTERVAL_US(column)                                                                         \
    "(CASE WHEN " column " IS NOT NULL THEN least(extract(epoch FROM " column ") * 1000000, "     \
    "31104000000000000)::int8 END)"
static_assert(PGVIEW_MAX_INTERVAL_US == 31104000000000000, "INTERVAL_US spells max_interval_us");
