// pgview_auto — keys found by looking the changed values up in the view's own
// rows, where no key expression or join path gives them (outer joins whose
// nullable side holds the key, FULL JOINs, cross joins).
//
// For a changed row t of one item of the top query's FROM (a table, or a
// subquery or CTE that reads one table's columns), the rows of the view a
// change can alter are bounded by equalities with t's columns: rows made from
// t carry t's columns; a preserved row whose NULL extension t's arrival or
// departure flips equals t through the outer join's ON equality. Walking the
// join tree up from t gives a predicate over the view's columns,
//     col1 = t.a OR col2 = t.b ...,
// that every row the change can alter satisfies, before or after. Its keys are
// then read from the view's current rows (before) and its query (after), and
// recomputed as any key is: exact for any set of keys that holds every altered
// row. The derivation is a join source (capture the columns, run a key query at
// refresh time), so locking, capture and the worker need nothing new.
// C-level.
#pragma once

#include "analysis/join_tree.hpp"
#include "analysis/key_analysis.hpp"

namespace pgview::analysis {

// The lookup for a change of FROM item `item` of the top-level query q, or
// nullptr when no predicate over the view's columns bounds its effect. The
// source's key query is made by lookup_key_query once the view is known.
SourceKey *lookup_source(Query *q, int item);

// The lookup for a change of table relid read by a subquery of the top query
// correlated by x = relid.inner (key_analysis.cpp): the view's rows whose x is
// the changed row's inner. nullptr when the view does not output x.
SourceKey *lookup_correlated(Query *q, Oid relid, const Var *x, AttrNumber inner);

// The key query of a lookup source: the keys of the rows of the table view
// (before) and of its definition (after) that satisfy the source's predicate.
char *lookup_key_query(const SourceKey *sk, Oid view, Oid definition, int nkeys, char *const *key_names);

} // namespace pgview::analysis
