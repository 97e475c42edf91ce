// pgview_auto — capture triggers on source tables (see capture_triggers.hpp).
#include "watch/capture_triggers.hpp"

#include "pg/quote.hpp"
#include "syscat/relation_info.hpp"
#include "watch/registry.hpp"

extern "C" {
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "utils/fmgroids.h"
}

namespace pgview::watch {

namespace {

bool internal_ddl = false; // our own DDL is running: our event triggers skip it

// A watch names the table, or one of its ancestors: a partitioned parent (as
// PostgreSQL clones a parent's row triggers onto its partitions, TRIGGER on the
// parent covers them), or an inheritance parent, for a watcher whose owner may
// put a trigger on this child too (PostgreSQL clones nothing onto those).
bool capture_needed(Oid table) {
    if (registry_source_needed(table))
        return true;
    bool partition = get_rel_relispartition(table);
    ListCell *lc;
    foreach (lc, syscat::inheritance_ancestors(table))
        if (partition ? registry_source_needed(lfirst_oid(lc)) : registry_source_needed_by(lfirst_oid(lc), table))
            return true;
    return false;
}

bool is_capture_function(Oid func) {
    const char *name = get_func_name(func);
    return name != nullptr && strcmp(name, "capture") == 0 &&
           get_func_namespace(func) == get_namespace_oid("pgview_auto", false);
}

bool depends_on_extension(Oid trigger, Oid extension) {
    Relation rel = table_open(DependRelationId, AccessShareLock);
    ScanKeyData keys[2];
    ScanKeyInit(&keys[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(TriggerRelationId));
    ScanKeyInit(&keys[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(trigger));
    SysScanDesc scan = systable_beginscan(rel, DependDependerIndexId, true, nullptr, 2, keys);
    HeapTuple tup;
    bool found = false;
    while (!found && HeapTupleIsValid(tup = systable_getnext(scan))) {
        auto *form = reinterpret_cast<Form_pg_depend>(GETSTRUCT(tup));
        found = form->refclassid == ExtensionRelationId && form->refobjid == extension;
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return found;
}

// The function of table's trigger named capture_trigger_name, or InvalidOid.
// (pg_trigger has no syscache: scan its (tgrelid, tgname) index.)
Oid capture_trigger_function(Oid table) {
    Relation rel = table_open(TriggerRelationId, AccessShareLock);
    ScanKeyData keys[2];
    ScanKeyInit(&keys[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(table));
    ScanKeyInit(&keys[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber, F_NAMEEQ,
                CStringGetDatum(capture_trigger_name));
    SysScanDesc scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, nullptr, 2, keys);
    HeapTuple tup = systable_getnext(scan);
    Oid func = HeapTupleIsValid(tup) ? reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tup))->tgfoid : InvalidOid;
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return func;
}

void create_trigger(Oid table) {
    Oid existing = capture_trigger_function(table);
    if (OidIsValid(existing)) {
        if (is_capture_function(existing))
            return;
        ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
                        errmsg("table %s already has a trigger named \"%s\"", quote_relation(table),
                               capture_trigger_name),
                        errhint("Rename that trigger; pgview_auto needs the name for its capture trigger.")));
    }
    // Foreign tables cannot have TRUNCATE triggers.
    bool foreign = get_rel_relkind(table) == RELKIND_FOREIGN_TABLE;
    execute_internal_ddl(psprintf("CREATE TRIGGER %s AFTER INSERT OR UPDATE OR DELETE%s ON %s "
                     "FOR EACH STATEMENT EXECUTE FUNCTION pgview_auto.capture()",
                     capture_trigger_name, foreign ? "" : " OR TRUNCATE", quote_relation(table)));
    adopt_capture_trigger(table);
}

void drop_trigger(Oid table) {
    if (!OidIsValid(get_trigger_oid(table, capture_trigger_name, true)))
        return;
    // DROP TRIGGER takes ACCESS EXCLUSIVE on the table: waiting for it would
    // queue every reader and writer of someone else's table behind us. An
    // unneeded trigger captures nothing; it goes at a later sync.
    if (!ConditionalLockRelationOid(table, AccessExclusiveLock))
        return;
    execute_internal_ddl(psprintf("DROP TRIGGER %s ON %s", capture_trigger_name, quote_relation(table)));
}

} // namespace

bool in_internal_ddl(void) { return internal_ddl; }

void execute_internal_ddl(const char *sql) {
    volatile int rc = 0;
    internal_ddl = true;
    PG_TRY();
    {
        rc = SPI_execute(sql, false, 0);
    }
    PG_FINALLY();
    {
        internal_ddl = false; // also when the statement fails or is cancelled
    }
    PG_END_TRY();
    if (rc != SPI_OK_UTILITY)
        elog(ERROR, "pgview_auto: \"%s\" failed: %s", sql, SPI_result_code_string(rc));
}



void adopt_capture_trigger(Oid table) {
    Oid func = capture_trigger_function(table);
    if (!OidIsValid(func) || !is_capture_function(func))
        return;
    ObjectAddress trigger{TriggerRelationId, get_trigger_oid(table, capture_trigger_name, false), 0};
    ObjectAddress extension{ExtensionRelationId, get_extension_oid("pgview_auto", false), 0};
    if (!depends_on_extension(trigger.objectId, extension.objectId))
        recordDependencyOn(&trigger, &extension, DEPENDENCY_AUTO);
}

void sync_all_capture_triggers(void) {
    Relation rel = table_open(TriggerRelationId, AccessShareLock);
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, nullptr, 0, nullptr);
    List *tables = NIL;
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        auto *form = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tup));
        if (strcmp(NameStr(form->tgname), capture_trigger_name) == 0 && is_capture_function(form->tgfoid))
            tables = lappend_oid(tables, form->tgrelid);
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    ListCell *lc;
    foreach (lc, tables)
        if (!capture_needed(lfirst_oid(lc)))
            drop_trigger(lfirst_oid(lc));
}

int capture_targets(Oid table, Oid **targets) {
    List *all = find_all_inheritors(table, ShareRowExclusiveLock, nullptr);
    int n = list_length(all);
    Oid *out = static_cast<Oid *>(palloc(sizeof(Oid) * (n + 1)));
    int i = 0;
    ListCell *lc;
    foreach (lc, all)
        out[i++] = lfirst_oid(lc);
    *targets = out;
    return n;
}

void sync_capture_trigger(Oid table) {
    if (get_rel_relkind(table) == '\0')
        return; // dropped meanwhile: its triggers went with it
    // No lock here: CREATE TRIGGER takes its own, and a drop only ever takes
    // one that is free at once (a child attached meanwhile is synced by the
    // event trigger of its DDL).
    List *targets = find_all_inheritors(table, NoLock, nullptr);
    ListCell *lc;
    foreach (lc, targets) {
        Oid target = lfirst_oid(lc);
        if (get_rel_relkind(target) == '\0')
            continue;
        if (capture_needed(target))
            create_trigger(target);
        else
            drop_trigger(target);
    }
}

} // namespace pgview::watch
