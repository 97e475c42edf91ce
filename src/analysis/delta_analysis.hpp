// pgview_auto — which sources of a table view its changes can be applied to by
// delta arithmetic, and how each column of the view moves.
//
// A view qualifies when its query is one level (no set operation, subquery,
// CTE, window, DISTINCT, HAVING, LIMIT or sublink) that groups by key columns
// and selects group columns and invertible aggregates of one table T:
// count(*), count(x), sum(x) of integers and numeric, coalesce(sum(x), 0),
// avg(x) beside sum(x) and count(x), and min(x) / max(x) (insert-only changes).
// Two shapes:
//   own      T alone (WHERE on T's columns): a group appears with its first row
//            and goes with its last, which count(*) must show;
//   update   P LEFT JOIN T ON P.k = T.fk [AND conditions on T] (WHERE on P's
//            columns), P.k unique, the view keyed by P.k: the groups are P's
//            rows, T's changes only move their aggregates (count(*) would
//            count P's NULL-extended row: not allowed).
//   one row  T alone, aggregates without GROUP BY (WHERE on T's columns): the
//            view's one row, empty key, never appears nor goes; count(*)
//            counts T's rows, a sum is NULL when no value is left (which a
//            count must show).
// float sums drift, and other aggregates are not invertible: keyed recompute.
// C-level (call inside pg_call); results palloc'd in the current context.
#pragma once

#include "analysis/key_analysis.hpp"
#include "changes/change_set.hpp"

namespace pgview::analysis {

// How one column of the view moves with a delta.
enum class Move : char {
    key = 'k',          // part of the unique key: matched, never changed
    fixed = 'f',        // a group column outside the key: set when the group appears (own), else untouched
    rows = 'r',         // count(*)
    nonnull = 'c',      // count(x): non-null values of argument `arg`
    sum = 's',          // sum(x); NULL when `count_column` says no value is left (-1: never NULL)
    coalesce_sum = 'z', // coalesce(sum(x), 0)
    avg = 'a',          // sum_column / count_column (both columns of the view)
    min = 'm',          // least(old, new extreme): insert-only
    max = 'M',          // greatest(old, new extreme): insert-only
};

struct DeltaColumn {
    Move move;
    int arg;          // argument index (nonnull, sum, coalesce_sum, min, max)
    int count_column; // sum: the view column counting its non-null values (or rows); avg: its count
    int sum_column;   // avg: the view column holding sum(x)
    Oid type;         // the view column's type
    char *name;
};

struct DeltaShape {
    Oid view;
    Oid source;
    bool own_groups;   // shape own (insert, update, delete groups), else update only
    bool one_row;      // shape one row (update only; count(*) counts the source's rows)
    List *key_exprs;   // the unique key over the source's row (Vars of varno 1)
    List *fixed_exprs; // own: per view column of Move::fixed, its value over the source's row
    List *arg_exprs;   // aggregate arguments over the source's row
    List *filters;     // conditions a source row must pass to count (over its row)
    int ncolumns;
    DeltaColumn *columns;
    int rows_column;   // own: the view column of count(*)
    bool extremes;     // some min/max column (insert-only changes)
    changes::DeltaLayout layout;
};

// One shape per source table that qualifies; for the others (and for a view
// that does not qualify at all) the reason, in words a user can act on.
struct DeltaRefusal {
    Oid source; // InvalidOid: the whole view
    const char *reason;
};
struct DeltaAnalysis {
    List *shapes;   // DeltaShape *
    List *refusals; // DeltaRefusal *
};
DeltaAnalysis *analyze_delta(Oid view, Oid definition, const KeyAnalysis *keys);

const DeltaShape *delta_shape_of(const DeltaAnalysis *da, Oid source);
const char *delta_refusal_of(const DeltaAnalysis *da, Oid source);

} // namespace pgview::analysis
