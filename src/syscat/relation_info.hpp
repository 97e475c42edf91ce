// pgview_auto — small per-relation catalog facts, C-level (may ereport).
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/pg_list.h"
#include "utils/relcache.h"
}

namespace pgview::syscat {

// True when REFRESH MATERIALIZED VIEW CONCURRENTLY would accept the matview:
// it is populated and has a valid, immediate unique index on plain columns
// with no WHERE clause (PostgreSQL's own rule in matview.c).
bool concurrent_refresh_ok(Oid matview);

// True when a valid, immediate unique index of rel (no WHERE clause) has
// only plain columns among attnums: no two rows share a value of them.
bool unique_on(Relation rel, const AttrNumber *attnums, int n);

// Owner of a relation (InvalidOid if it is gone).
Oid relation_owner(Oid relid);

// Raises 42P01 if gone, 42809 if not a materialized view (with a hint that
// fits `function`, the SQL function the relation was given to), 42501 if the
// current user does not own it (or belong to its owner role).
void require_owned_matview(Oid relid, const char *function);

// The relation's kind with its article, for messages ("an index", "a sequence", ...).
const char *relkind_description(char relkind);

// Raises 42P01 when the relation is gone, 42809 when its kind is not one the
// dependency catalog covers; `what` names the calling function for the message.
void require_catalog_relation(Oid relid, const char *what);

// pg_catalog, pg_toast and information_schema (and their kin).
bool is_system_namespace(Oid nsp);

// Every ancestor of relid through pg_inherits, all levels: partitioned parents
// of a partition, or the parents of an inheritance child. NIL for none.
List *inheritance_ancestors(Oid relid);

} // namespace pgview::syscat
