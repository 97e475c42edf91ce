// pgview_auto — what DDL does to the registry (see orphans.hpp).
#include "registry/orphans.hpp"

#include "registry/statement.hpp"
#include "registry/stats.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace pgview::registry {

using namespace detail;

namespace {

// DDL tracking (0.4.0).
Statement dropped_relations = {
    "SELECT objid, format('%I.%I', schema_name, object_name), object_type = 'materialized view' "
    "FROM pg_event_trigger_dropped_objects() "
    "WHERE classid = 'pg_class'::regclass AND objsubid = 0 "
    "AND object_type IN ('table', 'view', 'materialized view', 'foreign table')",
    0, {}, nullptr};
Statement orphan_names = {
    "SELECT array_agg(DISTINCT CASE WHEN w.requested IS NULL THEN NULL ELSE coalesce("
    "  (SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "   WHERE c.oid = w.requested), "
    "  (SELECT d.name FROM unnest($2::oid[], $3::text[]) AS d(objid, name) WHERE d.objid = w.requested)) END) "
    "FROM pgview_auto.watch w WHERE w.matview = $1",
    3, {OIDOID, OIDARRAYOID, TEXTARRAYOID}, nullptr};
Statement delete_matview_watch = {
    "DELETE FROM pgview_auto.watch WHERE matview = $1 RETURNING source", 1, {OIDOID}, nullptr};
Statement make_orphan = {
    "WITH gone AS (DELETE FROM pgview_auto.watched g WHERE g.matview IS NULL AND g.matview_name = "
    "  (SELECT matview_name FROM pgview_auto.watched WHERE matview = $1)) "
    "UPDATE pgview_auto.watched SET matview = NULL, orphaned_at = now(), requested_names = $2 "
    "WHERE matview = $1 RETURNING matview_name",
    2, {OIDOID, TEXTARRAYOID}, nullptr};
Statement forget_source = {
    "DELETE FROM pgview_auto.watch WHERE source = $1 OR requested = $1 OR via = $1 RETURNING matview, source",
    1, {OIDOID}, nullptr};
// After forget_source: a watch whose last source went watches nothing; it goes too.
Statement forget_empty_watches = {
    "DELETE FROM pgview_auto.watched o WHERE o.matview::oid = ANY ($1) "
    "AND NOT EXISTS (SELECT FROM pgview_auto.watch w WHERE w.matview = o.matview) RETURNING o.matview_name",
    1, {OIDARRAYOID}, nullptr};
// An orphan by its exact name (schema.name as format('%I.%I') spells it).
Statement find_orphan = {
    "SELECT o.owner, o.mode, o.\"concurrently\", o.on_error, "
    "  " INTERVAL_US("o.debounce") ", " INTERVAL_US("o.max_delay") ", o.requested_names, o.incremental "
    "FROM pgview_auto.watched o WHERE o.matview IS NULL AND o.matview_name = $1",
    1, {TEXTOID}, nullptr};
// Before 0.6.0 the owner of an orphan was not recorded.
Statement find_orphan_0_4 = {
    "SELECT NULL::regrole, o.mode, o.\"concurrently\", o.on_error, "
    "  " INTERVAL_US("o.debounce") ", " INTERVAL_US("o.max_delay") ", o.requested_names, NULL::boolean "
    "FROM pgview_auto.watched o WHERE o.matview IS NULL AND o.matview_name = $1",
    1, {TEXTOID}, nullptr};
Statement restore_orphan = {
    "UPDATE pgview_auto.watched SET matview = $1, orphaned_at = NULL WHERE matview IS NULL AND matview_name = $2",
    2, {OIDOID, TEXTOID}, nullptr};
Statement sync_names = {
    "UPDATE pgview_auto.watched o SET matview_name = format('%I.%I', n.nspname, c.relname) "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.oid = o.matview AND o.matview_name IS DISTINCT FROM format('%I.%I', n.nspname, c.relname)",
    0, {}, nullptr};
Statement sync_owners = {
    "UPDATE pgview_auto.watched o SET owner = c.relowner FROM pg_class c "
    "WHERE c.oid = o.matview AND o.owner IS DISTINCT FROM c.relowner",
    0, {}, nullptr};
// ALTER SCHEMA $1 RENAME TO $2 (both quoted, with the dot): the orphans named
// under it, and their requested sources, follow. An orphan already of a new
// name (left by a schema of that name dropped earlier) gives way.
Statement drop_orphans_in_new_schema = {
    "DELETE FROM pgview_auto.watched g WHERE g.matview IS NULL AND starts_with(g.matview_name, $2) "
    "AND EXISTS (SELECT FROM pgview_auto.watched o WHERE o.matview IS NULL "
    "            AND o.matview_name = $1 || substr(g.matview_name, length($2) + 1))",
    2, {TEXTOID, TEXTOID}, nullptr};
Statement rename_orphans_schema = {
    "UPDATE pgview_auto.watched SET "
    "  matview_name = CASE WHEN starts_with(matview_name, $1) THEN $2 || substr(matview_name, length($1) + 1) "
    "                 ELSE matview_name END, "
    "  requested_names = (SELECT array_agg(CASE WHEN starts_with(r, $1) THEN $2 || substr(r, length($1) + 1) "
    "                                      ELSE r END ORDER BY i) "
    "                     FROM unnest(requested_names) WITH ORDINALITY AS u(r, i)) "
    "WHERE matview IS NULL AND (starts_with(matview_name, $1) "
    "                           OR EXISTS (SELECT FROM unnest(requested_names) r WHERE starts_with(r, $1)))",
    2, {TEXTOID, TEXTOID}, nullptr};
Statement remove_orphan = {
    "DELETE FROM pgview_auto.watched WHERE matview IS NULL AND matview_name = $1", 1, {TEXTOID}, nullptr};

} // namespace

int ddl_dropped_relations(DroppedRelation **out) {
    int n = run(dropped_relations, nullptr, nullptr, SPI_OK_SELECT);
    auto *d = static_cast<DroppedRelation *>(SPI_palloc(sizeof(DroppedRelation) * (n + 1)));
    for (int i = 0; i < n; i++) {
        d[i].relid = column_oid(i, 1);
        char *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
        d[i].name = static_cast<char *>(SPI_palloc(strlen(name) + 1));
        strcpy(d[i].name, name);
        bool isnull;
        d[i].is_matview = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull));
    }
    *out = d;
    return n;
}

int registry_orphan(Oid matview, const DroppedRelation *dropped, int ndropped, Oid **old_sources, char **name) {
    Datum *oids = static_cast<Datum *>(palloc(sizeof(Datum) * (ndropped + 1)));
    Datum *names = static_cast<Datum *>(palloc(sizeof(Datum) * (ndropped + 1)));
    for (int i = 0; i < ndropped; i++) {
        oids[i] = ObjectIdGetDatum(dropped[i].relid);
        names[i] = CStringGetTextDatum(dropped[i].name);
    }
    Datum values[3] = {ObjectIdGetDatum(matview),
                       PointerGetDatum(construct_array(oids, ndropped, OIDOID, sizeof(Oid), true, TYPALIGN_INT)),
                       PointerGetDatum(construct_array(names, ndropped, TEXTOID, -1, false, TYPALIGN_INT))};
    run(orphan_names, values, nullptr, SPI_OK_SELECT);
    bool names_null;
    Datum requested = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &names_null);
    requested = names_null ? (Datum) 0 : PointerGetDatum(DatumGetArrayTypePCopy(requested));
    int n = run(delete_matview_watch, values, nullptr, SPI_OK_DELETE_RETURNING);
    *old_sources = oid_column(n, 1);
    Datum orphan[2] = {ObjectIdGetDatum(matview), requested};
    char nulls[3] = {' ', names_null ? 'n' : ' ', '\0'};
    run(make_orphan, orphan, nulls, SPI_OK_UPDATE_RETURNING);
    const char *orphan_name = SPI_processed > 0 ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : "";
    *name = static_cast<char *>(SPI_palloc(strlen(orphan_name) + 1));
    strcpy(*name, orphan_name);
    stats_forget(matview);
    return n;
}

int registry_forget_source(Oid relid, Oid **matviews, Oid **sources) {
    Datum values[1] = {ObjectIdGetDatum(relid)};
    int n = run(forget_source, values, nullptr, SPI_OK_DELETE_RETURNING);
    *matviews = oid_column(n, 1);
    *sources = oid_column(n, 2);
    return n;
}

int registry_forget_empty_watches(const Oid *matviews, int n, char ***names) {
    Datum *elems = static_cast<Datum *>(palloc(sizeof(Datum) * (n + 1)));
    for (int i = 0; i < n; i++)
        elems[i] = ObjectIdGetDatum(matviews[i]);
    Datum values[1] = {PointerGetDatum(construct_array(elems, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT))};
    int gone = run(forget_empty_watches, values, nullptr, SPI_OK_DELETE_RETURNING);
    char **out = static_cast<char **>(SPI_palloc(sizeof(char *) * (gone + 1))); // outlives SPI_finish
    for (int i = 0; i < gone; i++) {
        const char *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
        out[i] = static_cast<char *>(SPI_palloc(strlen(name) + 1));
        strcpy(out[i], name);
    }
    *names = out;
    return gone;
}

bool registry_find_orphan(const char *name, Orphan *out) {
    Datum values[1] = {CStringGetTextDatum(name)};
    if (run(registry_at_least("0.6.0") ? find_orphan : find_orphan_0_4, values, nullptr, SPI_OK_SELECT) == 0)
        return false;
    HeapTuple tup = SPI_tuptable->vals[0];
    TupleDesc desc = SPI_tuptable->tupdesc;
    bool isnull;
    out->owner = column_oid(0, 1);
    out->options.mode = SPI_getvalue(tup, desc, 2)[0];
    Datum conc = SPI_getbinval(tup, desc, 3, &isnull);
    out->options.concurrently = isnull ? -1 : (DatumGetBool(conc) ? 1 : 0);
    out->options.on_error_warn = strcmp(SPI_getvalue(tup, desc, 4), "warn") == 0;
    out->options.debounce_us = DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull));
    Datum max_delay = SPI_getbinval(tup, desc, 6, &isnull);
    out->options.max_delay_us = isnull ? -1 : DatumGetInt64(max_delay);
    Datum names = SPI_getbinval(tup, desc, 7, &isnull);
    out->nrequested = 0;
    out->requested = static_cast<char **>(SPI_palloc(sizeof(char *)));
    bool no_option;
    Datum incremental = SPI_getbinval(tup, desc, 8, &no_option);
    out->options.incremental = no_option ? -1 : (DatumGetBool(incremental) ? 1 : 0);
    out->options.needs_full = true;
    if (!isnull) {
        Datum *elems;
        bool *elem_nulls;
        int n;
        deconstruct_array(DatumGetArrayTypeP(names), TEXTOID, -1, false, TYPALIGN_INT, &elems, &elem_nulls, &n);
        out->requested = static_cast<char **>(SPI_palloc(sizeof(char *) * (n + 1)));
        for (int i = 0; i < n; i++) {
            char *copy = nullptr; // NULL: everything the matview reads
            if (!elem_nulls[i]) {
                char *value = TextDatumGetCString(elems[i]);
                copy = static_cast<char *>(SPI_palloc(strlen(value) + 1));
                strcpy(copy, value);
            }
            out->requested[i] = copy;
        }
        out->nrequested = n;
    }
    return true;
}

bool registry_restore_orphan(Oid matview, const char *name) {
    Datum values[2] = {ObjectIdGetDatum(matview), CStringGetTextDatum(name)};
    return run(restore_orphan, values, nullptr, SPI_OK_UPDATE) > 0;
}

void registry_sync_names(void) {
    run(sync_names, nullptr, nullptr, SPI_OK_UPDATE);
    if (registry_at_least("0.6.0"))
        run(sync_owners, nullptr, nullptr, SPI_OK_UPDATE);
}

void registry_rename_schema(const char *old_name, const char *new_name) {
    Datum values[2] = {CStringGetTextDatum(psprintf("%s.", quote_identifier(old_name))),
                       CStringGetTextDatum(psprintf("%s.", quote_identifier(new_name)))};
    run(drop_orphans_in_new_schema, values, nullptr, SPI_OK_DELETE);
    run(rename_orphans_schema, values, nullptr, SPI_OK_UPDATE);
}

int registry_remove_orphan(const char *name) {
    Datum values[1] = {CStringGetTextDatum(name)};
    return run(remove_orphan, values, nullptr, SPI_OK_DELETE);
}

} // namespace pgview::registry
