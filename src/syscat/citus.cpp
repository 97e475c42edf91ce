// pgview_auto — Citus's tables (see citus.hpp).
#include "syscat/citus.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "commands/extension.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace pgview::syscat {

char citus_partition_method(Oid relid) {
    if (!OidIsValid(get_extension_oid("citus", true)))
        return '\0';
    // Citus's metadata table: (logicalrelid regclass, partmethod "char", ...).
    Oid metadata = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
    if (!OidIsValid(metadata))
        return '\0';
    Relation rel = table_open(metadata, AccessShareLock);
    TupleDesc desc = RelationGetDescr(rel);
    AttrNumber logicalrelid = InvalidAttrNumber, partmethod = InvalidAttrNumber;
    for (int i = 0; i < desc->natts; i++) {
        const char *name = NameStr(TupleDescAttr(desc, i)->attname);
        if (strcmp(name, "logicalrelid") == 0)
            logicalrelid = static_cast<AttrNumber>(i + 1);
        else if (strcmp(name, "partmethod") == 0)
            partmethod = static_cast<AttrNumber>(i + 1);
    }
    char method = '\0';
    if (logicalrelid != InvalidAttrNumber && partmethod != InvalidAttrNumber) {
        ScanKeyData key;
        ScanKeyInit(&key, logicalrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
        SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, nullptr, 1, &key);
        HeapTuple tuple = systable_getnext(scan);
        if (HeapTupleIsValid(tuple)) {
            bool isnull;
            Datum value = heap_getattr(tuple, partmethod, desc, &isnull);
            method = isnull ? 'n' : DatumGetChar(value);
        }
        systable_endscan(scan);
    }
    table_close(rel, AccessShareLock);
    return method;
}

} // namespace pgview::syscat
