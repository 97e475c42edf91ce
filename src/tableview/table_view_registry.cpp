// pgview_auto — see table_view_registry.hpp.
#include "tableview/table_view_registry.hpp"

#include "pg/guard.hpp"
#include "syscat/relation_info.hpp"
#include "watch/registry.hpp"

extern "C" {
#include "catalog/pg_class.h"
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

constexpr const char *select_row =
    "SELECT relation::oid, definition::oid, unique_key FROM pgview_auto.table_view "
    "WHERE relation::oid = $1 OR definition::oid = $1";

// Inside a registry session: the row naming relid (as table or definition); the
// key's strings are palloc'd in `into` (SPI's memory goes with the session).
bool read_row(Oid relid, Oid *table, Oid *definition, char ***key, int *nkey, MemoryContext into) {
    Oid types[1] = {OIDOID};
    Datum values[1] = {ObjectIdGetDatum(relid)};
    // Not read-only: a fresh snapshot, so a table view registered earlier in this
    // transaction (pgview_create) is one already.
    if (SPI_execute_with_args(select_row, 1, types, values, nullptr, false, 1) != SPI_OK_SELECT)
        elog(ERROR, "pgview_auto: reading pgview_auto.table_view failed");
    if (SPI_processed == 0)
        return false;
    bool isnull;
    HeapTuple tup = SPI_tuptable->vals[0];
    TupleDesc desc = SPI_tuptable->tupdesc;
    *table = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
    *definition = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
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
    return pg_call([] { return OidIsValid(watch::registry_relid("table_view")); });
}

} // namespace

bool lookup(Oid relid, TableView *out) {
    // Only an ordinary table can be one (and this spares matviews the query).
    if (pg_call([relid] { return get_rel_relkind(relid); }) != RELKIND_RELATION || !installed())
        return false;
    Oid table = InvalidOid, definition = InvalidOid;
    char **key = nullptr;
    int nkey = 0;
    bool found = pg_call([&] {
        MemoryContext caller = CurrentMemoryContext;
        watch::RegistrySession session;
        watch::registry_begin(&session);
        bool f = read_row(relid, &table, &definition, &key, &nkey, caller);
        watch::registry_end(&session);
        return f;
    });
    if (!found || table != relid)
        return false;
    out->table = table;
    out->definition = definition;
    out->unique_key.assign(key, key + nkey);
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
        watch::RegistrySession session;
        watch::registry_begin(&session);
        Oid types[3] = {OIDOID, OIDOID, TEXTARRAYOID};
        Datum values[3] = {ObjectIdGetDatum(tv.table), ObjectIdGetDatum(tv.definition), keys};
        const char nulls[4] = {' ', ' ', key.empty() ? 'n' : ' ', '\0'};
        if (SPI_execute_with_args("INSERT INTO pgview_auto.table_view VALUES ($1, $2, $3)", 3, types, values,
                                  nulls, false, 0) != SPI_OK_INSERT)
            elog(ERROR, "pgview_auto: registering a table view failed");
        watch::registry_end(&session);
    });
}

TableView forget(Oid dropped) {
    TableView tv;
    if (!installed())
        return tv;
    Oid table = InvalidOid, definition = InvalidOid;
    pg_call([&] {
        MemoryContext caller = CurrentMemoryContext;
        watch::RegistrySession session;
        watch::registry_begin(&session);
        char **key;
        int nkey;
        if (read_row(dropped, &table, &definition, &key, &nkey, caller)) {
            Oid types[1] = {OIDOID};
            Datum values[1] = {ObjectIdGetDatum(table)};
            if (SPI_execute_with_args("DELETE FROM pgview_auto.table_view WHERE relation::oid = $1", 1, types,
                                      values, nullptr, false, 0) != SPI_OK_DELETE)
                elog(ERROR, "pgview_auto: forgetting a table view failed");
        }
        watch::registry_end(&session);
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

void require_owned_refreshable(Oid relid) {
    if (!is_table_view(relid)) {
        pg_call([relid] { syscat::require_owned_matview(relid); });
        return;
    }
    pg_call([relid] {
        if (!pg_class_ownercheck(relid, GetUserId()))
            aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
    });
}

std::string definition_name(const std::string &table_name) { return table_name + "_pgview_query"; }

} // namespace pgview::tableview
