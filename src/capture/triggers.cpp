// pgview_auto — capture triggers on source tables (see capture_triggers.hpp).
#include "capture/triggers.hpp"

#include "analysis/capture_plan.hpp"
#include "pg/quote.hpp"
#include "syscat/relation_info.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"

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
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "utils/fmgroids.h"
#include "parser/parse_func.h"
#include "nodes/value.h"
}

namespace pgview::capture {

namespace {

bool internal_ddl = false; // our own DDL is running: our event triggers skip it
bool no_wait = false;      // sync_capture_triggers(): never queue behind the table's writers
List *skipped = NIL;       // ... the tables it left for later (their lock was taken)

// Our triggers: name, the function it runs, and how it is created.
struct TriggerKind {
    const char *name;
    const char *function;
    const char *definition; // after "CREATE TRIGGER name"; %s is the table
    const char *enable;     // ENABLE ALWAYS / REPLICA, or nullptr
};
constexpr TriggerKind capture_kind{capture_trigger_name, "capture",
                                   "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT "
                                   "EXECUTE FUNCTION pgview_auto.capture()",
                                   "ALWAYS"};
constexpr TriggerKind replica_kind{replica_trigger_name, "capture_replica",
                                   "AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW "
                                   "EXECUTE FUNCTION pgview_auto.capture_replica()",
                                   "REPLICA"};
// Not a capture trigger: the write guard of a table view (tableview/write_guard.hpp),
// made, adopted and synced the same way.
constexpr TriggerKind guard_kind{guard_trigger_name, "guard",
                                 "BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT "
                                 "EXECUTE FUNCTION pgview_auto.guard()",
                                 nullptr};
constexpr TriggerKind key_kinds[] = {
    {"pgview_auto_keys_insert", "capture_keys",
     "AFTER INSERT ON %s REFERENCING NEW TABLE AS pgview_new FOR EACH STATEMENT "
     "EXECUTE FUNCTION pgview_auto.capture_keys()",
     nullptr},
    {"pgview_auto_keys_update", "capture_keys",
     "AFTER UPDATE ON %s REFERENCING OLD TABLE AS pgview_old NEW TABLE AS pgview_new FOR EACH STATEMENT "
     "EXECUTE FUNCTION pgview_auto.capture_keys()",
     nullptr},
    {"pgview_auto_keys_delete", "capture_keys",
     "AFTER DELETE ON %s REFERENCING OLD TABLE AS pgview_old FOR EACH STATEMENT "
     "EXECUTE FUNCTION pgview_auto.capture_keys()",
     nullptr},
};

// A watch names the table, or one of its ancestors: a partitioned parent (as
// PostgreSQL clones a parent's row triggers onto its partitions, TRIGGER on the
// parent covers them), or an inheritance parent, for a watcher whose owner may
// put a trigger on this child too (PostgreSQL clones nothing onto those).
bool capture_needed(Oid table) {
    if (registry::registry_source_needed(table))
        return true;
    bool partition = get_rel_relispartition(table);
    ListCell *lc;
    foreach (lc, syscat::inheritance_ancestors(table))
        if (partition ? registry::registry_source_needed(lfirst_oid(lc)) : registry::registry_source_needed_by(lfirst_oid(lc), table))
            return true;
    return false;
}

bool is_our_function(Oid func, const char *expected) {
    const char *name = get_func_name(func);
    return name != nullptr && strcmp(name, expected) == 0 &&
           get_func_namespace(func) == get_namespace_oid("pgview_auto", false);
}

// The kind of our trigger called `name`, or nullptr.
const TriggerKind *kind_named(const char *name) {
    if (strcmp(name, capture_kind.name) == 0)
        return &capture_kind;
    if (strcmp(name, replica_kind.name) == 0)
        return &replica_kind;
    if (strcmp(name, guard_kind.name) == 0)
        return &guard_kind;
    for (const TriggerKind &k : key_kinds)
        if (strcmp(name, k.name) == 0)
            return &k;
    return nullptr;
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

// The function of table's trigger named `name`, or InvalidOid.
// (pg_trigger has no syscache: scan its (tgrelid, tgname) index.)
Oid trigger_function(Oid table, const char *name) {
    Relation rel = table_open(TriggerRelationId, AccessShareLock);
    ScanKeyData keys[2];
    ScanKeyInit(&keys[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(table));
    ScanKeyInit(&keys[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber, F_NAMEEQ,
                CStringGetDatum(name));
    SysScanDesc scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, nullptr, 2, keys);
    HeapTuple tup = systable_getnext(scan);
    Oid func = HeapTupleIsValid(tup) ? reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tup))->tgfoid : InvalidOid;
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return func;
}

bool has_trigger(Oid table, const TriggerKind &kind) {
    Oid existing = trigger_function(table, kind.name);
    if (!OidIsValid(existing))
        return false;
    if (is_our_function(existing, kind.function))
        return true;
    ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
                    errmsg("table %s already has a trigger named \"%s\"", quote_relation(table), kind.name),
                    errhint("Rename that trigger; pgview_auto needs the name for its capture trigger.")));
    pg_unreachable();
}

void create_trigger(Oid table, const TriggerKind &kind) {
    if (has_trigger(table, kind))
        return;
    // CREATE TRIGGER takes SHARE ROW EXCLUSIVE: behind an open write
    // transaction, and every later writer behind it. A repair (no_wait) takes
    // only a lock that is free at once, and leaves the table for later.
    if (no_wait && !ConditionalLockRelationOid(table, ShareRowExclusiveLock)) {
        skipped = list_append_unique_oid(skipped, table);
        return;
    }
    const char *target = quote_relation(table);
    execute_internal_ddl(psprintf("CREATE TRIGGER %s %s", kind.name, psprintf(kind.definition, target)));
    if (kind.enable != nullptr)
        execute_internal_ddl(psprintf("ALTER TABLE %s ENABLE %s TRIGGER %s", target, kind.enable, kind.name));
}

void drop_trigger(Oid table, const char *name) {
    if (!OidIsValid(get_trigger_oid(table, name, true)))
        return;
    // DROP TRIGGER takes ACCESS EXCLUSIVE on the table: waiting for it would
    // queue every reader and writer of someone else's table behind us. An
    // unneeded trigger captures nothing; it goes at a later sync.
    if (!ConditionalLockRelationOid(table, AccessExclusiveLock))
        return;
    execute_internal_ddl(psprintf("DROP TRIGGER %s ON %s", name, quote_relation(table)));
}

// Whether the installed SQL has our function (the library may be newer than
// the SQL until ALTER EXTENSION UPDATE; the update script itself creates them
// before it syncs the triggers).
bool has_function(const char *name) {
    List *qualified = list_make2(makeString(pstrdup("pgview_auto")), makeString(pstrdup(name)));
    return OidIsValid(LookupFuncName(qualified, 0, nullptr, true));
}

// The whole set a captured table needs (see capture_triggers.hpp).
void create_triggers(Oid table, bool keyed) {
    char relkind = get_rel_relkind(table);
    if (relkind == RELKIND_FOREIGN_TABLE) { // no TRUNCATE triggers, no transition tables
        if (has_trigger(table, capture_kind))
            return adopt_capture_trigger(table);
        if (no_wait && !ConditionalLockRelationOid(table, ShareRowExclusiveLock)) {
            skipped = list_append_unique_oid(skipped, table);
            return;
        }
        execute_internal_ddl(psprintf("CREATE TRIGGER %s AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH "
                                          "STATEMENT EXECUTE FUNCTION pgview_auto.capture()",
                                          capture_trigger_name, quote_relation(table)));
        return adopt_capture_trigger(table);
    }
    create_trigger(table, capture_kind);
    // Row triggers of a partitioned table are cloned to its partitions, which
    // get their own: leaf tables only.
    if (relkind == RELKIND_RELATION && has_function(replica_kind.function))
        create_trigger(table, replica_kind);
    for (const TriggerKind &k : key_kinds)
        if (keyed && has_function(k.function))
            create_trigger(table, k);
    adopt_capture_trigger(table);
}

void drop_triggers(Oid table, bool keys_only) {
    for (const TriggerKind &k : key_kinds)
        drop_trigger(table, k.name);
    if (keys_only)
        return;
    drop_trigger(table, replica_kind.name);
    drop_trigger(table, capture_kind.name);
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
    const TriggerKind *kinds[] = {&capture_kind, &replica_kind, &guard_kind, &key_kinds[0], &key_kinds[1],
                                  &key_kinds[2]};
    ObjectAddress extension{ExtensionRelationId, get_extension_oid("pgview_auto", false), 0};
    for (const TriggerKind *k : kinds) {
        Oid func = trigger_function(table, k->name);
        if (!OidIsValid(func) || !is_our_function(func, k->function))
            continue;
        ObjectAddress trigger{TriggerRelationId, get_trigger_oid(table, k->name, false), 0};
        if (!depends_on_extension(trigger.objectId, extension.objectId))
            recordDependencyOn(&trigger, &extension, DEPENDENCY_AUTO);
    }
}

bool is_capture_trigger_name(const char *name) { return kind_named(name) != nullptr; }

void sync_all_capture_triggers(void) {
    Relation rel = table_open(TriggerRelationId, AccessShareLock);
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, nullptr, 0, nullptr);
    List *tables = NIL;
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        auto *form = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tup));
        const TriggerKind *kind = kind_named(NameStr(form->tgname));
        if (kind != nullptr && kind != &guard_kind && is_our_function(form->tgfoid, kind->function))
            tables = list_append_unique_oid(tables, form->tgrelid);
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    ListCell *lc;
    foreach (lc, tables) {
        Oid table = lfirst_oid(lc);
        if (!capture_needed(table))
            drop_triggers(table, false);
        else if (!analysis::keys_captured_from(table))
            drop_triggers(table, true);
    }
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

void guard_table_view(Oid table) {
    if (!has_function(guard_kind.function)) // the SQL is older than this library: until ALTER EXTENSION UPDATE
        return;
    create_trigger(table, guard_kind);
    adopt_capture_trigger(table);
}

List *repair_capture_triggers(const List *tables, const List *table_views) {
    no_wait = true;
    skipped = NIL;
    PG_TRY();
    {
        ListCell *lc;
        foreach (lc, tables)
            sync_capture_trigger(lfirst_oid(lc));
        foreach (lc, table_views)
            if (get_rel_relkind(lfirst_oid(lc)) != '\0')
                guard_table_view(lfirst_oid(lc));
    }
    PG_FINALLY();
    {
        no_wait = false;
    }
    PG_END_TRY();
    return skipped;
}

// Whether `table` carries an enabled capture trigger of ours.
bool captured(Oid table) {
    Relation rel = table_open(TriggerRelationId, AccessShareLock);
    ScanKeyData keys[2];
    ScanKeyInit(&keys[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(table));
    ScanKeyInit(&keys[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber, F_NAMEEQ,
                CStringGetDatum(capture_trigger_name));
    SysScanDesc scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, nullptr, 2, keys);
    HeapTuple tup = systable_getnext(scan);
    bool enabled = HeapTupleIsValid(tup) && reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tup))->tgenabled !=
                                                TRIGGER_DISABLED &&
                   is_our_function(reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tup))->tgfoid, capture_kind.function);
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return enabled;
}

List *uncaptured_tables(Oid source, Oid watcher) {
    if (get_rel_relkind(source) == RELKIND_MATVIEW || get_rel_relkind(source) == '\0')
        return NIL; // a matview is refreshed by us (or by REFRESH, seen by our event trigger)
    List *gaps = NIL;
    bool partitioned = get_rel_relkind(source) == RELKIND_PARTITIONED_TABLE;
    ListCell *lc;
    foreach (lc, find_all_inheritors(source, NoLock, nullptr)) {
        Oid target = lfirst_oid(lc);
        // An inheritance child (not a partition) is captured only for a watcher
        // who may put a trigger on it (see capture_needed): not a gap otherwise.
        if (target != source && !partitioned && !get_rel_relispartition(target) &&
            pg_class_aclcheck(target, watcher, ACL_TRIGGER) != ACLCHECK_OK)
            continue;
        if (get_rel_relkind(target) != '\0' && !captured(target))
            gaps = lappend_oid(gaps, target);
    }
    return gaps;
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
        if (!capture_needed(target)) {
            drop_triggers(target, false);
            continue;
        }
        bool keyed = analysis::keys_captured_from(target);
        create_triggers(target, keyed);
        if (!keyed)
            drop_triggers(target, true);
    }
}

} // namespace pgview::capture
