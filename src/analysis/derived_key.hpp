// pgview_auto — the unique key a table view's query gives by its shape, for a
// table view created without unique_key (issue 22): its GROUP BY columns (one
// row per group), all its columns under DISTINCT (one row per distinct row),
// or the primary key columns of every table it reads through inner joins
// (one row per combination of their rows). The keyed refresh then works as
// with a key the user gave, and a change maps to the keys it can affect as
// key_analysis.hpp says. Nothing is derived for a query whose rows may repeat
// on every candidate (a set-returning function in the select list, UNION ALL,
// a bag): it stays a multiset, refreshed in full. C-level: may ereport.
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
};

// q: a SELECT, analyzed (views expanded or not: a view in FROM is no table).
DerivedKey derive_key(Query *q);
// The key of a query given as text, parsed and analyzed with the caller's
// rights and search_path, as CREATE VIEW would (never run).
DerivedKey derive_key_of_text(const char *sql);

} // namespace pgview::analysis
