// pgview_auto — which keys of a table view a change to one of its source tables
// can affect, derived from the definition's query tree (views under it expanded).
//
// A table view with a unique key K is refreshed incrementally by replacing its
// rows whose key is in a set S with the query's rows whose key is in S; that is
// exactly the full refresh's result for those keys, so correctness needs only
// that S contains the key of every view row a change can alter. Nothing here
// needs K unique: for a key that only partitions the rows (derived_key.hpp)
// the rows of S are replaced as a multiset (engine/statement.hpp). For each
// occurrence of a base table in the query this finds how S follows from a
// changed row of that table, or says why it cannot (then changes to that table
// are refreshed in full):
//   direct  the key is an immutable expression of the changed row's columns,
//           directly or through equalities of the joins (inner joins, WHERE,
//           the ON clause of an outer join whose nullable side holds the row);
//   join    the key is a column of another table reached from the changed row
//           through such equalities: a key query finds the keys from the
//           changed rows' join columns, joined to the other tables' current rows
//           (each of those tables' own changes are captured too);
//   sublink a subquery over one table correlated by an equality b.y = a.x
//           (EXISTS, NOT EXISTS, scalar, IN over a NOT NULL column): the key, a
//           function of a.x alone, is found from b's changed rows through b.y;
//   full    anything that makes a row depend on rows of other keys: windows not
//           partitioned by the key, LIMIT/OFFSET, volatile functions, another
//           subquery in WHERE/SELECT reading a table (for that table), a key from
//           the nullable side of an outer join, ...
// With no key, aggregates without GROUP BY are one row: its key is empty, and
// every table the query reads gives it directly.
// C-level: every function may ereport; call them inside pg_call.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
}

namespace pgview::analysis {

enum : char { derive_direct = 'd', derive_join = 'j', derive_full = 'f' };

// How the keys affected by a change to one occurrence of a base table are found.
struct SourceKey {
    Oid relid;            // the table as the query reads it (a partitioned parent, say)
    char kind;            // derive_direct, derive_join, derive_full
    List *exprs;          // direct: one expression per key column over the table's row
                          // (Vars with varno 1), of the key column's type
    List *capture_attnos; // join: the table's columns whose values are captured (int list)
    List *capture_types;  // join: their types (oid list)
    char *key_query;      // join: SQL giving the keys for arrays $1.. of the captured values
    char *lookup_where;   // join by lookup (row_lookup.hpp): the predicate over the view's rows
                          // (alias v); key_query is made from it once the view is known
    List *lookup_reads;   // join by lookup: the other tables its predicate reads (oid list)
    char *key_from;       // how the key is found, for pgview_explain
    char *reason;         // full: why, in words a user can act on
    char *index_hint;     // direct: the index the keyed refresh wants, when it is missing
};

struct KeyAnalysis {
    int nkeys;
    char **key_names;  // the table view's unique key
    Oid *key_types;
    List *sources;     // SourceKey *, one or more per base table occurrence
    char *view_reason; // not NULL: the whole view is refreshed in full (why)
    List *depends_on;  // every relation the query names (views included): a change
                       // to any of them may change this analysis
};

// definition: the table view's definition view; key_names: its unique key
// (NIL: none, then view_reason says so). The result is palloc'd in the current
// memory context.
KeyAnalysis *analyze_keys(Oid definition, List *key_names);
// The same for a query already rewritten (views expanded: QueryRewrite), as a
// key is chosen before the definition view exists (derived_key.hpp); leaves
// depends_on empty and the query unchanged.
KeyAnalysis *analyze_query_keys(Query *rewritten, List *key_names);

// The source keys of one table: its own and those of the parent it is read
// through (partitions, inheritance children), in `out` (appended).
List *sources_of(const KeyAnalysis *analysis, Oid relid);

} // namespace pgview::analysis
