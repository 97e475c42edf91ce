// pgview_auto — per-relation catalog facts (syscache and relcache look-ups).
#include "syscat/relation_info.hpp"

#include "graph/dependency_graph.hpp"

extern "C" {
#include "access/table.h"
#include "access/genam.h"
#include "catalog/catalog.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "nodes/pg_list.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
}

namespace pgview::syscat {

namespace {
bool index_usable_for_concurrent_refresh(Relation index) {
    Form_pg_index form = index->rd_index;
    if (!form->indisunique || !form->indimmediate || !form->indisvalid || form->indnatts <= 0)
        return false;
    if (RelationGetIndexPredicate(index) != NIL)
        return false;
    for (int i = 0; i < form->indnatts; i++)
        if (form->indkey.values[i] <= 0) // an expression (0) or a system column
            return false;
    return true;
}
} // namespace

bool concurrent_refresh_ok(Oid matview) {
    Relation rel = table_open(matview, AccessShareLock);
    bool ok = false;
    if (rel->rd_rel->relkind == RELKIND_MATVIEW && RelationIsPopulated(rel)) {
        List *indexes = RelationGetIndexList(rel);
        ListCell *lc;
        foreach (lc, indexes) {
            Relation index = index_open(lfirst_oid(lc), AccessShareLock);
            ok = index_usable_for_concurrent_refresh(index);
            index_close(index, AccessShareLock);
            if (ok)
                break;
        }
        list_free(indexes);
    }
    table_close(rel, AccessShareLock);
    return ok;
}

const char *relkind_description(char relkind) {
    switch (relkind) {
    case RELKIND_RELATION: return "table";
    case RELKIND_PARTITIONED_TABLE: return "partitioned table";
    case RELKIND_VIEW: return "view";
    case RELKIND_MATVIEW: return "materialized view";
    case RELKIND_FOREIGN_TABLE: return "foreign table";
    case RELKIND_INDEX: return "index";
    case RELKIND_PARTITIONED_INDEX: return "partitioned index";
    case RELKIND_SEQUENCE: return "sequence";
    case RELKIND_TOASTVALUE: return "TOAST table";
    case RELKIND_COMPOSITE_TYPE: return "composite type";
    default: return "relation";
    }
}

void require_catalog_relation(Oid relid, const char *what) {
    char relkind = get_rel_relkind(relid);
    if (relkind == '\0')
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("relation with OID %u does not exist", relid)));
    if (!graph::is_graph_kind(relkind))
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is a %s", get_rel_name(relid), relkind_description(relkind)),
                        errdetail("%s covers tables, partitioned tables, views, materialized views "
                                  "and foreign tables.", what)));
    Oid nsp = get_rel_namespace(relid);
    if (IsCatalogNamespace(nsp) || IsToastNamespace(nsp) ||
        nsp == get_namespace_oid("information_schema", true))
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is in system schema \"%s\"", get_rel_name(relid),
                               get_namespace_name(nsp)),
                        errdetail("The dependency catalog covers user schemas only.")));
}

} // namespace pgview::syscat
