// pgview_auto — see table_view_registry.hpp.
#include "tableview/table_view_registry.hpp"

#include "pg/relcache_callbacks.hpp"
#include "pg/guard.hpp"
#include "syscat/relation_info.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace pgview::tableview {

namespace {

// populated came with 0.6.0: before the update every table view counts as populated.
constexpr const char *select_row =
    "SELECT relation::oid, definition::oid, unique_key, populated FROM pgview_auto.table_view "
    "WHERE relation::oid = $1 OR definition::oid = $1";
constexpr const char *select_row_0_5 =
    "SELECT relation::oid, definition::oid, unique_key, true FROM pgview_auto.table_view "
    "WHERE relation::oid = $1 OR definition::oid = $1";

// Inside a registry session: the row naming relid (as table or definition); the
// key's strings are palloc'd in `into` (SPI's memory goes with the session).
bool read_row(Oid relid, Oid *table, Oid *definition, char ***key, int *nkey, bool *populated,
              MemoryContext into) {
    Oid types[1] = {OIDOID};
    Datum values[1] = {ObjectIdGetDatum(relid)};
    // Not read-only: a fresh snapshot, so a table view registered earlier in this
    // transaction (pgview_create) is one already.
    if (SPI_execute_with_args(registry::registry_at_least("0.6.0") ? select_row : select_row_0_5, 1, types, values,
                              nullptr, false, 1) != SPI_OK_SELECT)
        elog(ERROR, "pgview_auto: reading pgview_auto.table_view failed");
    if (SPI_processed == 0)
        return false;
    bool isnull;
    HeapTuple tup = SPI_tuptable->vals[0];
    TupleDesc desc = SPI_tuptable->tupdesc;
    *table = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
    *definition = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
    *populated = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
    Datum keys = SPI_getbinval(tup, desc, 3, &isnull);
    *nkey = 0;
    if (!isnull) {
        Datum *elems;
        bool *nulls;
        deconstruct_array(DatumGetArrayTypeP(keys), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, nkey);
        MemoryContext old = MemoryContextSwitchTo(into);
        *key = static_cast<char **>(palloc(sizeof(char *) * (*nkey + 1)));
        for (int i = 0; i < *nkey; i++)
            (*key)[i] = TextDatumGetCString(elems[i]);
        MemoryContextSwitchTo(old);
    }
    return true;
}

// The SQL of 0.5.0 may not be installed yet (library updated first).
bool installed() {
    return pg_call([] { return OidIsValid(registry::registry_relid("table_view")); });
}

// This backend's answers, per relation: every refresh asks. Dropped when the
// registry table changes (its registry_changed trigger, 0.6.0, sends a relcache
// invalidation, seen here at the next command and by others at commit); without
// that trigger (older SQL) nothing is cached.
struct CachedAnswer {
    Oid relid; // hash key
    bool is_table_view;
    Oid definition;
    int nkey;
    char **key;
    bool populated;
};
MemoryContext answers_context = nullptr;
HTAB *answers = nullptr;
Oid answers_registry = InvalidOid; // the registry table the answers came from
bool answers_valid = false;

// C-level.
bool has_registry_trigger(Oid registry) {
    Relation rel = table_open(TriggerRelationId, AccessShareLock);
    ScanKeyData keys[2];
    ScanKeyInit(&keys[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(registry));
    ScanKeyInit(&keys[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum("registry_changed"));
    SysScanDesc scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, nullptr, 2, keys);
    bool found = HeapTupleIsValid(systable_getnext(scan));
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return found;
}

// C-level: the cached answer for relid, or nullptr.
CachedAnswer *cached(Oid relid) {
    if (!answers_valid) {
        Oid registry = registry::registry_relid("table_view");
        if (!OidIsValid(registry) || !has_registry_trigger(registry))
            return nullptr;
        if (answers_context == nullptr)
            answers_context = AllocSetContextCreate(CacheMemoryContext, "pgview_auto table views", ALLOCSET_SMALL_SIZES);
        MemoryContextReset(answers_context);
        HASHCTL ctl;
        ctl.keysize = sizeof(Oid);
        ctl.entrysize = sizeof(CachedAnswer);
        ctl.hcxt = answers_context;
        answers = hash_create("pgview_auto table views", 32, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
        answers_registry = registry;
        answers_valid = true;
    }
    return static_cast<CachedAnswer *>(hash_search(answers, &relid, HASH_FIND, nullptr));
}

void remember(Oid relid, bool is_table_view, Oid definition, int nkey, char **key, bool populated) {
    if (!answers_valid)
        return;
    auto *a = static_cast<CachedAnswer *>(hash_search(answers, &relid, HASH_ENTER, nullptr));
    a->is_table_view = is_table_view;
    a->populated = populated;
    a->definition = definition;
    a->nkey = nkey;
    a->key = static_cast<char **>(MemoryContextAlloc(answers_context, sizeof(char *) * (nkey + 1)));
    for (int i = 0; i < nkey; i++)
        a->key[i] = MemoryContextStrdup(answers_context, key[i]);
}

} // namespace

namespace {
// Relcache invalidation: the registry table changed (its statement trigger
// sends one), or everything.
void invalidate(Oid relid) {
    if (relid == InvalidOid || relid == answers_registry)
        answers_valid = false;
}
} // namespace

void cache_init(void) { on_relcache_invalidation(invalidate); }

bool lookup(Oid relid, TableView *out) {
    // Only an ordinary table can be one (and this spares matviews the query).
    if (pg_call([relid] { return get_rel_relkind(relid); }) != RELKIND_RELATION || !installed())
        return false;
    Oid table = InvalidOid, definition = InvalidOid;
    char **key = nullptr;
    int nkey = 0;
    bool populated = true;
    bool found = pg_call([&] {
        CachedAnswer *a = cached(relid);
        if (a != nullptr) {
            table = a->is_table_view ? relid : InvalidOid;
            definition = a->definition;
            key = a->key;
            nkey = a->nkey;
            populated = a->populated;
            return a->is_table_view;
        }
        MemoryContext caller = CurrentMemoryContext;
        bool f = registry::with_registry([&] { return read_row(relid, &table, &definition, &key, &nkey, &populated, caller); });
        remember(relid, f && table == relid, definition, f ? nkey : 0, key, populated);
        return f;
    });
    if (!found || table != relid)
        return false;
    out->table = table;
    out->definition = definition;
    out->unique_key.assign(key, key + nkey);
    out->populated = populated;
    return true;
}

void add(const TableView &tv) {
    if (!OidIsValid(tv.table) || !OidIsValid(tv.definition)) // a name PostgreSQL truncated, say: never register OID 0
        throw Error(sqlstate::internal_error, "pgview_auto: the table view or its definition was not found after creating it");
    std::vector<const char *> key;
    for (const std::string &k : tv.unique_key)
        key.push_back(k.c_str());
    pg_call([&tv, &key] {
        Datum keys = 0;
        if (!key.empty()) {
            Datum *elems = static_cast<Datum *>(palloc(sizeof(Datum) * key.size()));
            for (size_t i = 0; i < key.size(); i++)
                elems[i] = CStringGetTextDatum(key[i]);
            keys = PointerGetDatum(construct_array(elems, static_cast<int>(key.size()), TEXTOID, -1, false,
                                                   TYPALIGN_INT));
        }
        registry::with_registry([&] {
            Oid types[4] = {OIDOID, OIDOID, TEXTARRAYOID, BOOLOID};
            Datum values[4] = {ObjectIdGetDatum(tv.table), ObjectIdGetDatum(tv.definition), keys,
                               BoolGetDatum(tv.populated)};
            const char nulls[5] = {' ', ' ', key.empty() ? 'n' : ' ', ' ', '\0'};
            bool has_populated = registry::registry_at_least("0.6.0");
            if (SPI_execute_with_args(has_populated
                                          ? "INSERT INTO pgview_auto.table_view (relation, definition, unique_key, "
                                            "populated) VALUES ($1, $2, $3, $4)"
                                          : "INSERT INTO pgview_auto.table_view (relation, definition, unique_key) "
                                            "VALUES ($1, $2, $3)",
                                      has_populated ? 4 : 3, types, values, nulls, false, 0) != SPI_OK_INSERT)
                elog(ERROR, "pgview_auto: registering a table view failed");
        });
    });
}

void mark_populated(Oid table) {
    pg_call([table] {
        registry::with_registry([&] {
            Oid types[1] = {OIDOID};
            Datum values[1] = {ObjectIdGetDatum(table)};
            if (registry::registry_at_least("0.6.0") &&
                SPI_execute_with_args("UPDATE pgview_auto.table_view SET populated = true "
                                      "WHERE relation::oid = $1 AND NOT populated",
                                      1, types, values, nullptr, false, 0) != SPI_OK_UPDATE)
                elog(ERROR, "pgview_auto: marking a table view populated failed");
        });
    });
}

TableView forget(Oid dropped) {
    TableView tv;
    if (!installed())
        return tv;
    Oid table = InvalidOid, definition = InvalidOid;
    pg_call([&] {
        MemoryContext caller = CurrentMemoryContext;
        registry::with_registry([&] {
            char **key;
            int nkey;
            bool populated;
            if (read_row(dropped, &table, &definition, &key, &nkey, &populated, caller)) {
                Oid types[1] = {OIDOID};
                Datum values[1] = {ObjectIdGetDatum(table)};
                if (SPI_execute_with_args("DELETE FROM pgview_auto.table_view WHERE relation::oid = $1", 1, types,
                                          values, nullptr, false, 0) != SPI_OK_DELETE)
                    elog(ERROR, "pgview_auto: forgetting a table view failed");
            }
        });
    });
    tv.table = table;
    tv.definition = definition;
    return tv;
}

bool is_table_view(Oid relid) {
    TableView tv;
    return lookup(relid, &tv);
}

bool is_refreshable(Oid relid) {
    return pg_call([relid] { return get_rel_relkind(relid); }) == RELKIND_MATVIEW || is_table_view(relid);
}

const char *noun(Oid relid) { return is_table_view(relid) ? "table view" : "materialized view"; }

bool concurrent_refresh_ok(Oid relid) {
    return is_table_view(relid) || pg_call([relid] { return syscat::concurrent_refresh_ok(relid); });
}

void require_owned_refreshable(Oid relid, const char *function) {
    if (!is_table_view(relid)) {
        pg_call([relid, function] { syscat::require_owned_matview(relid, function); });
        return;
    }
    pg_call([relid] {
        if (!pg_class_ownercheck(relid, GetUserId()))
            aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
    });
}


} // namespace pgview::tableview
