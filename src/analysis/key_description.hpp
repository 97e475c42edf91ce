// pgview_auto — what the key analysis says about a derivation, in words and
// in SQL: names, the index a keyed refresh wants, and the key query that finds
// a view's keys from a changed row's join columns through other tables. For
// the files of src/analysis. C-level.
#pragma once

#include "analysis/join_tree.hpp"
#include "analysis/key_analysis.hpp"

namespace pgview::analysis {

const char *rel_name(Oid relid);
const char *column_name(Oid relid, AttrNumber attno);
const char *deparse_on(Node *expr, Oid relid);
// The index a keyed refresh reads relid through (its key column or expression),
// when relid has none: a CREATE INDEX statement to suggest.
char *missing_index(Oid relid, Node *key);
const char *operator_sql(Oid opno);
SourceKey *new_source(Oid relid, char kind);
// Keys found from a changed row of table item t through joins to the item that
// holds the key: the captured columns of t and the key query; nullptr when no
// path of equalities leads there.
SourceKey *join_source(const JoinTree *jt, Query *q, Oid relid, int t, List *keys, const KeyAnalysis *ka);

} // namespace pgview::analysis
