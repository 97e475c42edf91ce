// pgview_auto — the one builder: the SQL each plan of a table view runs.
//
//   full difference  the query run whole; DELETE, UPDATE in place and INSERT of
//                    the rows that differ, as data-modifying CTEs over one
//                    materialized run of the query (one snapshot), so only
//                    changed rows are written: WAL and bloat follow the size of
//                    the change, row triggers fire per changed row. With a
//                    unique key rows match by it (each key type's own
//                    equality) and are updated when some column's bytes
//                    changed (OPERATOR(pg_catalog.*=), as REFRESH ...
//                    CONCURRENTLY compares them: 1.0 and 1.00 differ); without
//                    one, rows are a multiset compared whole by their text form.
//   keyed recompute  the same, restricted to the keys in arrays $1 .. $nkeys.
//   delta            the changed groups' deltas (arrays, one element per
//                    group) added to their rows: an UPDATE; a shape with its own
//                    groups also inserts the groups that appear and deletes
//                    those whose count(*) reaches 0.
// Every operator and function is named with its schema. C-level (may ereport;
// palloc'd); the caller holds a lock on the table.
#pragma once

#include "analysis/delta_analysis.hpp"

extern "C" {
#include "postgres.h"
#include "nodes/pg_list.h"
}

namespace pgview::engine {

// A table view as its statements see it.
struct TableShape {
    Oid table;
    Oid definition;
    const char *table_name;      // schema-qualified, quoted
    const char *definition_name;
    int ncols;
    char **cols;                 // quoted names of its live columns
    Oid *types;
    int nkeys;
    int *key_cols;               // index into cols of each key column
    const char **key_eq;         // each key type's equality, "OPERATOR(schema.=)"
    // The key only partitions the rows (a value may repeat): no unique index
    // of the table holds it. Rows are then compared whole, as a multiset,
    // within the keys' partitions.
    bool partition;
};
// key_names: the key (NIL: none); 42883 when a key type has no equality.
TableShape *table_shape(Oid table, Oid definition, List *key_names);

// Full difference (keyed false) or keyed recompute (keyed true: $1 .. $nkeys
// are arrays of the key columns; nulls: some key has a NULL part). The
// statement returns one row: rows deleted, updated, inserted, and whether the
// query gave some key twice (never, for a key that only partitions the rows).
char *difference_sql(const TableShape *t, bool keyed, bool nulls);

// Delta. Parameters: the key columns' arrays, then per group its rows delta
// (int8[]), then per argument of the shape's layout: non-null delta (int8[]),
// sum delta (int8[] or numeric[]), smallest and largest inserted value (arrays
// of its type). Each statement reads them as d, with d.pgview_n the group's
// ordinal; update and insert return the ordinals they applied. single: for
// one group, its values as scalars of the same types instead of arrays.
struct DeltaStatements {
    bool single;
    int nparams;
    Oid *param_types;
    char *update;        // UPDATE of the groups' rows ... RETURNING d.pgview_n
    char *insert;        // own groups: INSERT of new groups ... ON CONFLICT DO NOTHING RETURNING d.pgview_n (else nullptr)
    char *delete_empty;  // own groups: DELETE of the groups whose count(*) is 0 (else nullptr)
};
DeltaStatements *delta_sql(const TableShape *t, const analysis::DeltaShape *s, bool single);

} // namespace pgview::engine
