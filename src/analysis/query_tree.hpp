// pgview_auto — reading a view's query tree: the rewritten query (views
// expanded), the tables and relations it reads, the functions it calls, which
// expressions are functions of which. For the files of src/analysis. C-level.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "nodes/primnodes.h"
#include "utils/lsyscache.h"
}

namespace pgview::analysis {

// C++ sees expression_tree_walker/mutator as taking a function of no arguments;
// the cast goes through void (*)(), which matches any function type.
using Walker = bool (*)();
using Mutator = Node *(*)();
template <typename F> Walker as_walker(F f) { return reinterpret_cast<Walker>(reinterpret_cast<void (*)()>(f)); }
template <typename F> Mutator as_mutator(F f) { return reinterpret_cast<Mutator>(reinterpret_cast<void (*)()>(f)); }
// copyObject needs typeof, which C++ lacks.
template <typename T> T *copy_node(const T *node) { return static_cast<T *>(copyObjectImpl(node)); }

// The definition's query with views expanded, as the planner would get it.
Query *rewritten_query(Oid definition);

// Every base table read anywhere inside node (range tables, subqueries, CTEs,
// sublinks); every relation named (views included).
List *tables_in(Node *node);
bool collect_relations_walker(Node *node, List **relations);

bool volatile_checker(Oid func, void *found);
bool mutable_checker(Oid func, void *found);
// The first function in node the checker picks, or InvalidOid.
Oid find_function(Node *node, check_function_callback checker);

// Whether expr is computed from the basis expressions alone (so rows that agree
// on them agree on expr).
bool is_function_of(Node *expr, List *basis);
List *clause_exprs(List *clauses, List *tlist);
bool keys_function_of(List *keys, List *basis);
const char *window_function_name(Query *q, Index winref);

// An expression without its implicit casts; a plain column of this level
// (nullptr when it is not one); whether an operator is a btree equality.
Node *strip_coercions(Node *node);
Var *plain_var(Node *node);
bool is_equality(Oid opno);
// The conjuncts of a qualification (a List already, or an expression; NIL for none).
List *conjuncts_of(Node *quals);
// The equality of a type's default btree (or hash) operator class, or InvalidOid.
Oid default_equality(Oid type);

} // namespace pgview::analysis
