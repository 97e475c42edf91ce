// pgview_auto — per-relation catalog facts (syscache and relcache look-ups).
#include "syscat/relation_info.hpp"

#include "graph/dependency_graph.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

namespace pgview::syscat {

namespace {
// PostgreSQL's own rule (matview.c): unique, immediate, valid, no WHERE clause,
// plain columns only. Read from pg_index under the catalog snapshot, without
// locking the matview, so a concurrent DROP never blocks pgview_views().
bool index_usable_for_concurrent_refresh(HeapTuple tup, Relation pg_index) {
    auto *form = reinterpret_cast<Form_pg_index>(GETSTRUCT(tup));
    if (!form->indisunique || !form->indimmediate || !form->indisvalid || form->indnatts <= 0)
        return false;
    if (!heap_attisnull(tup, Anum_pg_index_indpred, RelationGetDescr(pg_index)))
        return false;
    for (int i = 0; i < form->indnatts; i++)
        if (form->indkey.values[i] <= 0) // an expression (0) or a system column
            return false;
    return true;
}
} // namespace

bool concurrent_refresh_ok(Oid matview) {
    HeapTuple classtup = SearchSysCache1(RELOID, ObjectIdGetDatum(matview));
    if (!HeapTupleIsValid(classtup))
        return false;
    auto *cls = reinterpret_cast<Form_pg_class>(GETSTRUCT(classtup));
    bool candidate = cls->relkind == RELKIND_MATVIEW && cls->relispopulated;
    ReleaseSysCache(classtup);
    if (!candidate)
        return false;

    bool ok = false;
    Relation pg_index = table_open(IndexRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(matview));
    SysScanDesc scan = systable_beginscan(pg_index, IndexIndrelidIndexId, true, nullptr, 1, &key);
    HeapTuple tup;
    while (!ok && HeapTupleIsValid(tup = systable_getnext(scan)))
        ok = index_usable_for_concurrent_refresh(tup, pg_index);
    systable_endscan(scan);
    table_close(pg_index, AccessShareLock);
    return ok;
}

bool unique_on(Relation rel, const AttrNumber *attnums, int n) {
    List *indexes = RelationGetIndexList(rel);
    bool unique = false;
    ListCell *lc;
    foreach (lc, indexes) {
        HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
        if (!HeapTupleIsValid(tup))
            continue;
        auto *form = reinterpret_cast<Form_pg_index>(GETSTRUCT(tup));
        bool ok = form->indisunique && form->indimmediate && form->indisvalid && form->indnkeyatts > 0 &&
                  heap_attisnull(tup, Anum_pg_index_indpred, nullptr);
        for (int i = 0; ok && i < form->indnkeyatts; i++) {
            bool among = false;
            for (int k = 0; k < n && !among; k++)
                among = form->indkey.values[i] == attnums[k];
            ok = among; // (an expression's 0 is never among them)
        }
        ReleaseSysCache(tup);
        if (ok) {
            unique = true;
            break;
        }
    }
    list_free(indexes);
    return unique;
}

const char *relkind_description(char relkind) {
    switch (relkind) {
    case RELKIND_RELATION: return "a table";
    case RELKIND_PARTITIONED_TABLE: return "a partitioned table";
    case RELKIND_VIEW: return "a view";
    case RELKIND_MATVIEW: return "a materialized view";
    case RELKIND_FOREIGN_TABLE: return "a foreign table";
    case RELKIND_INDEX: return "an index";
    case RELKIND_PARTITIONED_INDEX: return "a partitioned index";
    case RELKIND_SEQUENCE: return "a sequence";
    case RELKIND_TOASTVALUE: return "a TOAST table";
    case RELKIND_COMPOSITE_TYPE: return "a composite type";
    default: return "a relation";
    }
}

Oid relation_owner(Oid relid) {
    HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tup))
        return InvalidOid;
    Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tup))->relowner;
    ReleaseSysCache(tup);
    return owner;
}

namespace {
// What to do instead, per function, when given a table or a view where a
// materialized view (or table view) belongs: only pgview_watch and
// pgview_unwatch have a source argument the table could go in.
struct WrongKindHints {
    const char *function;
    const char *table; // a table, partitioned table or foreign table
    const char *view;
};
constexpr WrongKindHints wrong_kind_hints[] = {
    {"pgview_watch", "Name the materialized view to refresh; the table goes in source.",
     "A view is always current; watch a materialized view built on it (the view can be its source)."},
    {"pgview_unwatch", "Name the watching materialized view (pgview_watches lists them); a table it watches goes "
                       "in source.",
     "A view is never watched itself; name the materialized view watching through it (pgview_watches lists "
     "them)."},
    {"pgview_refresh", "A table holds its own rows; refresh the materialized views that read it "
                       "(pgview_dependents lists them).",
     "A view is always current: there is nothing to refresh."},
    {"pgview_schedule", "Schedule the materialized views that read it (pgview_dependents lists them).",
     "A view is always current; schedule a materialized view built on it."},
    {"pgview_unschedule", "Only materialized views and table views have schedules (pgview_status() shows them).",
     "Only materialized views and table views have schedules (pgview_status() shows them)."},
    {"pgview_refresh_pending", "Pass a materialized view or table view, or nothing for every one you own.",
     "Pass a materialized view or table view, or nothing for every one you own."},
    {"pgview_reset_stats", "Pass a materialized view or table view, or nothing for every one you own.",
     "Pass a materialized view or table view, or nothing for every one you own."},
};

int wrong_kind_hint(const char *function, char relkind) {
    for (const WrongKindHints &h : wrong_kind_hints)
        if (strcmp(h.function, function) == 0) {
            if (relkind == RELKIND_VIEW)
                return errhint("%s", h.view);
            if (relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE ||
                relkind == RELKIND_FOREIGN_TABLE)
                return errhint("%s", h.table);
        }
    return errhint("%s takes a materialized view or a table view.", function);
}
} // namespace

void require_owned_matview(Oid relid, const char *function) {
    char relkind = get_rel_relkind(relid);
    if (relkind == '\0')
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("relation with OID %u does not exist", relid)));
    if (relkind != RELKIND_MATVIEW)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is not a materialized view", get_rel_name(relid)),
                        errdetail("It is %s.", relkind_description(relkind)),
                        wrong_kind_hint(function, relkind)));
    if (!pg_class_ownercheck(relid, GetUserId()))
        aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_MATVIEW, get_rel_name(relid));
}

void require_catalog_relation(Oid relid, const char *what) {
    char relkind = get_rel_relkind(relid);
    if (relkind == '\0')
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("relation with OID %u does not exist", relid)));
    if (!graph::is_graph_kind(relkind))
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is %s", get_rel_name(relid), relkind_description(relkind)),
                        errdetail("%s covers tables, partitioned tables, views, materialized views "
                                  "and foreign tables.", what)));
    Oid nsp = get_rel_namespace(relid);
    if (is_system_namespace(nsp))
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is in system schema \"%s\"", get_rel_name(relid),
                               get_namespace_name(nsp)),
                        errdetail("The dependency catalog covers user schemas only.")));
}

bool is_system_namespace(Oid nsp) {
    return IsCatalogNamespace(nsp) || IsToastNamespace(nsp) || nsp == get_namespace_oid("information_schema", true);
}

List *inheritance_ancestors(Oid relid) {
    List *ancestors = NIL;
    List *todo = list_make1_oid(relid);
    Relation inherits = table_open(InheritsRelationId, AccessShareLock);
    while (todo != NIL) {
        Oid child = linitial_oid(todo);
        todo = list_delete_first(todo);
        ScanKeyData key;
        ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(child));
        SysScanDesc scan = systable_beginscan(inherits, InheritsRelidSeqnoIndexId, true, nullptr, 1, &key);
        HeapTuple tup;
        while (HeapTupleIsValid(tup = systable_getnext(scan))) {
            Oid parent = reinterpret_cast<Form_pg_inherits>(GETSTRUCT(tup))->inhparent;
            if (!list_member_oid(ancestors, parent)) { // multiple inheritance may reach one twice
                ancestors = lappend_oid(ancestors, parent);
                todo = lappend_oid(todo, parent);
            }
        }
        systable_endscan(scan);
    }
    table_close(inherits, AccessShareLock);
    return ancestors;
}

} // namespace pgview::syscat
