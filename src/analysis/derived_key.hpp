// pgview_auto — the unique key a table view's query gives by its shape, for a
// table view created without unique_key (issue 22): its GROUP BY columns (one
// row per group), all its columns under DISTINCT (one row per distinct row),
// or the primary key columns of every table it reads through inner joins
// (one row per combination of their rows). The keyed refresh then works as
// with a key the user gave, and a change maps to the keys it can affect as
// key_analysis.hpp says.
// When no unique key follows (a bag, a join without the tables' keys in its
// select list, an outer join, a subquery in FROM, a set operation), the
// query's plain columns make a partition of its rows instead: a value may
// repeat, and a keyed refresh deletes and inserts copies of whole rows within
// the changed values (a multiset per value), which is exact for a bag too.
// Whether a source's changes map to such values key_analysis decides, as for
// any key. Nothing is derived where rows are chosen by other rows (LIMIT,
// DISTINCT ON). Aggregates without GROUP BY give one row: its key is empty
// (every change is to that row; delta arithmetic applies to it as to a group).
// C-level: may ereport.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
}

namespace pgview::analysis {

struct DerivedKey {
    List *columns;       // the key's output column names (char *); NIL: none
    const char *from;    // how it follows from the query, for messages ("its GROUP BY", ...)
    const char *why_not; // NIL columns: why no key follows from the query's shape
    bool partition;      // the columns partition the rows; a value may repeat
    bool one_row;        // no columns: aggregates without GROUP BY, one row whose key is empty
};

// q: a SELECT, analyzed (views expanded or not: a view in FROM is no table).
DerivedKey derive_key(Query *q);
// The key of a query given as text, parsed and analyzed with the caller's
// rights and search_path, as CREATE VIEW would (never run).
DerivedKey derive_key_of_text(const char *sql);

} // namespace pgview::analysis
