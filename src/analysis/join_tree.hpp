// pgview_auto — equalities through a query level's joins: which FROM items
// are real rows (not NULL-extended) in every output row containing a changed
// row of a given item, and which column of that item equals another column
// there. Used only where they hold (see usable()). For the files of
// src/analysis. C-level.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/parsenodes.h"
#include "nodes/primnodes.h"
}

namespace pgview::analysis {

// An equality between columns of two FROM items of one query level, and where
// it came from: it holds in every output row containing a changed row of item
// t when usable(eq, t) (see below).
struct Equality {
    Var *left;
    Var *right;
    Oid opno;
    List *ancestors;  // outer joins whose nullable side holds the clause's join
    JoinExpr *outer;  // the clause is this outer join's ON clause
    bool never;       // a FULL JOIN's ON clause
};

struct JoinTree {
    int nitems;
    List **ancestors; // per range table index: outer joins whose nullable side holds it
    bool *in_from;    // per range table index: a FROM item (RangeTblRef)
    List *equalities; // Equality *
};


JoinTree *read_jointree(Query *q);
bool usable(const JoinTree *jt, const Equality *eq, const bool *real);
// The items that are real rows in every output row containing a real row of item t.
bool *real_items(const JoinTree *jt, int t);
// The keys in terms of item t's columns, or NIL when some part is not found there.
List *keys_in(const JoinTree *jt, List *keys, int t);

} // namespace pgview::analysis
