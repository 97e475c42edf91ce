// pgview_auto — watches in the registry (see watches.hpp).
#include "registry/watches.hpp"

#include "registry/statement.hpp"

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

// Plans are prepared once per backend and kept; the plan cache replans them
// when the tables change (even after DROP and CREATE EXTENSION).
Statement load_watches = {
    "SELECT w.source, w.matview, c.relkind = 'm', m.relowner FROM pgview_auto.watch w "
    "JOIN pg_class c ON c.oid = w.source JOIN pg_class m ON m.oid = w.matview",
    0, {}, nullptr};
Statement load_options = {
    "SELECT o.matview, o.mode, o.\"concurrently\", o.on_error, "
    "  " INTERVAL_US("o.debounce") ", " INTERVAL_US("o.max_delay") " "
    "FROM pgview_auto.watched o JOIN pg_class m ON m.oid = o.matview",
    0, {}, nullptr};
Statement set_options = {
    "INSERT INTO pgview_auto.watched AS o (matview, mode, \"concurrently\", on_error, debounce, max_delay) "
    "VALUES ($1, $2, $3, $4, $5 * interval '1 microsecond', $6 * interval '1 microsecond') "
    "ON CONFLICT (matview) DO UPDATE "
    "SET mode = excluded.mode, \"concurrently\" = excluded.\"concurrently\", on_error = excluded.on_error, "
    "    debounce = excluded.debounce, max_delay = excluded.max_delay "
    "WHERE (o.mode, o.\"concurrently\", o.on_error, o.debounce, o.max_delay) IS DISTINCT FROM "
    "(excluded.mode, excluded.\"concurrently\", excluded.on_error, excluded.debounce, excluded.max_delay)",
    6, {REGCLASSOID, TEXTOID, BOOLOID, TEXTOID, INT8OID, INT8OID}, nullptr};
// 0.6.0: the incremental option.
Statement load_options_0_6 = {
    "SELECT o.matview, o.mode, o.\"concurrently\", o.on_error, "
    "  " INTERVAL_US("o.debounce") ", " INTERVAL_US("o.max_delay") ", o.incremental, o.needs_full "
    "FROM pgview_auto.watched o JOIN pg_class m ON m.oid = o.matview",
    0, {}, nullptr};
// A new (or changed) watch: the view may be stale from before it, which keyed
// refreshes would not see; its first refresh is full.
Statement mark_needs_full = {
    "UPDATE pgview_auto.watched SET needs_full = true WHERE matview = $1 AND NOT needs_full",
    1, {REGCLASSOID}, nullptr};
Statement clear_needs_full = {
    "UPDATE pgview_auto.watched SET needs_full = false WHERE matview = $1 AND needs_full",
    1, {REGCLASSOID}, nullptr};
// Before 0.3.0 (library updated, ALTER EXTENSION UPDATE not run yet): no
// background modes, no schedules.
Statement load_options_0_2 = {
    "SELECT o.matview, o.mode, o.\"concurrently\", o.on_error, 0::int8, NULL::int8 "
    "FROM pgview_auto.watched o JOIN pg_class m ON m.oid = o.matview",
    0, {}, nullptr};
Statement set_options_0_2 = {
    "INSERT INTO pgview_auto.watched AS o (matview, mode, \"concurrently\", on_error) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (matview) DO UPDATE "
    "SET mode = excluded.mode, \"concurrently\" = excluded.\"concurrently\", on_error = excluded.on_error",
    4, {REGCLASSOID, TEXTOID, BOOLOID, TEXTOID}, nullptr};
// 0.4.0: the qualified name is kept with the options (orphaned watches are found by it).
Statement set_options_0_4 = {
    "INSERT INTO pgview_auto.watched AS o (matview, matview_name, mode, \"concurrently\", on_error, debounce, max_delay) "
    "SELECT $1, format('%I.%I', n.nspname, c.relname), $2, $3, $4, $5 * interval '1 microsecond', "
    "  $6 * interval '1 microsecond' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1 "
    "ON CONFLICT (matview) DO UPDATE "
    "SET mode = excluded.mode, \"concurrently\" = excluded.\"concurrently\", on_error = excluded.on_error, "
    "    debounce = excluded.debounce, max_delay = excluded.max_delay, matview_name = excluded.matview_name "
    "WHERE (o.mode, o.\"concurrently\", o.on_error, o.debounce, o.max_delay, o.matview_name) IS DISTINCT FROM "
    "(excluded.mode, excluded.\"concurrently\", excluded.on_error, excluded.debounce, excluded.max_delay, "
    " excluded.matview_name)",
    6, {REGCLASSOID, TEXTOID, BOOLOID, TEXTOID, INT8OID, INT8OID}, nullptr};
// 0.6.0: the matview's owner too (an orphan is restored only for it, and it
// may remove it), and the incremental option.
Statement set_options_0_6 = {
    "INSERT INTO pgview_auto.watched AS o (matview, matview_name, owner, mode, \"concurrently\", on_error, debounce, "
    "  max_delay, incremental) "
    "SELECT $1, format('%I.%I', n.nspname, c.relname), c.relowner, $2, $3, $4, $5 * interval '1 microsecond', "
    "  $6 * interval '1 microsecond', $7 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1 "
    "ON CONFLICT (matview) DO UPDATE "
    "SET mode = excluded.mode, \"concurrently\" = excluded.\"concurrently\", on_error = excluded.on_error, "
    "    debounce = excluded.debounce, max_delay = excluded.max_delay, matview_name = excluded.matview_name, "
    "    owner = excluded.owner, incremental = excluded.incremental "
    "WHERE (o.mode, o.\"concurrently\", o.on_error, o.debounce, o.max_delay, o.matview_name, o.owner, o.incremental) "
    "IS DISTINCT FROM (excluded.mode, excluded.\"concurrently\", excluded.on_error, excluded.debounce, "
    " excluded.max_delay, excluded.matview_name, excluded.owner, excluded.incremental)",
    7, {REGCLASSOID, TEXTOID, BOOLOID, TEXTOID, INT8OID, INT8OID, BOOLOID}, nullptr};
// An orphan of the name a matview now has: the matview is watched afresh.
Statement drop_orphan_of = {
    "DELETE FROM pgview_auto.watched o USING pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.oid = $1 AND o.matview IS NULL AND o.matview_name = format('%I.%I', n.nspname, c.relname)",
    1, {REGCLASSOID}, nullptr};
Statement is_watched = {
    "SELECT EXISTS (SELECT FROM pgview_auto.watched WHERE matview = $1)", 1, {OIDOID}, nullptr};
Statement requests_of = {
    "SELECT DISTINCT requested FROM pgview_auto.watch WHERE matview = $1", 1, {OIDOID}, nullptr};
Statement sources_of_request = {
    "SELECT source FROM pgview_auto.watch WHERE matview = $1 AND requested IS NOT DISTINCT FROM $2",
    2, {OIDOID, OIDOID}, nullptr};
Statement delete_request = {
    "DELETE FROM pgview_auto.watch WHERE matview = $1 AND requested IS NOT DISTINCT FROM $2 RETURNING source",
    2, {REGCLASSOID, REGCLASSOID}, nullptr};
Statement insert_watch = {
    "INSERT INTO pgview_auto.watch (matview, requested, source, via) VALUES ($1, $2, $3, $4)",
    4, {REGCLASSOID, REGCLASSOID, REGCLASSOID, REGCLASSOID}, nullptr};
// pgview_unwatch(matview, source) removes the rows of the request
// pgview_watch(matview, source) made, and no other; source NULL: every row.
Statement remove_watch = {
    "DELETE FROM pgview_auto.watch WHERE matview = $1 AND ($2 IS NULL OR requested = $2) RETURNING source",
    2, {REGCLASSOID, REGCLASSOID}, nullptr};
// Before remove_watch: the pgview_watches rows (distinct source and via) that
// only the rows about to go hold.
Statement count_vanishing = {
    "SELECT count(*) FROM (SELECT DISTINCT source, via FROM pgview_auto.watch "
    "                      WHERE matview = $1 AND ($2 IS NULL OR requested = $2)) r "
    "WHERE $2 IS NULL OR NOT EXISTS (SELECT FROM pgview_auto.watch o WHERE o.matview = $1 "
    "  AND o.requested IS DISTINCT FROM $2 AND o.source = r.source AND o.via IS NOT DISTINCT FROM r.via)",
    2, {REGCLASSOID, REGCLASSOID}, nullptr};
// A relation watched for matview (as source or via) under some request: which
// one (NULL: the watch of everything the matview reads). Named requests first.
Statement covering_request = {
    "SELECT requested FROM pgview_auto.watch WHERE matview = $1 AND (source = $2 OR via = $2) "
    "ORDER BY requested IS NULL, requested::text LIMIT 1",
    2, {REGCLASSOID, REGCLASSOID}, nullptr};
Statement remove_orphan_options = {
    "DELETE FROM pgview_auto.watched o WHERE matview = $1 "
    "AND NOT EXISTS (SELECT FROM pgview_auto.watch w WHERE w.matview = o.matview)",
    1, {REGCLASSOID}, nullptr};
// A watch names the table, for a matview whose owner may still put a trigger
// on it (a watcher whose TRIGGER right was revoked gets no capture trigger
// back; pgview_status shows that table as uncaptured for her view).
Statement source_needed = {
    "SELECT EXISTS (SELECT FROM pgview_auto.watch w JOIN pg_class m ON m.oid = w.matview "
    "WHERE w.source = $1 AND has_table_privilege(m.relowner, $1, 'TRIGGER'))",
    1, {REGCLASSOID}, nullptr};
// A watch of `source` (an inheritance parent of $2) whose matview's owner may trigger $2.
Statement source_needed_by = {
    "SELECT EXISTS (SELECT FROM pgview_auto.watch w JOIN pg_class m ON m.oid = w.matview "
    "WHERE w.source = $1 AND has_table_privilege(m.relowner, $2, 'TRIGGER'))",
    2, {REGCLASSOID, OIDOID}, nullptr};
Statement captured_tables = {
    "SELECT DISTINCT w.source, w.source::text FROM pgview_auto.watch w "
    "JOIN pg_class c ON c.oid = w.source WHERE w.matview = $1 AND c.relkind <> 'm' ORDER BY 2",
    1, {REGCLASSOID}, nullptr};

} // namespace

void registry_load(WatchRow **watches, int *nwatches, OptionsRow **options, int *noptions,
                   MemoryContext into) {
    int n = run(load_watches, nullptr, nullptr, SPI_OK_SELECT);
    auto *w = static_cast<WatchRow *>(MemoryContextAllocZero(into, sizeof(WatchRow) * (n + 1)));
    for (int i = 0; i < n; i++) {
        bool isnull;
        w[i].source = column_oid(i, 1);
        w[i].matview = column_oid(i, 2);
        w[i].source_is_matview =
            DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull));
        w[i].owner = column_oid(i, 4);
    }
    *watches = w;
    *nwatches = n;

    bool has_incremental = registry_at_least("0.6.0");
    n = run(has_incremental ? load_options_0_6 : registry_at_least("0.3.0") ? load_options : load_options_0_2, nullptr,
            nullptr, SPI_OK_SELECT);
    auto *o = static_cast<OptionsRow *>(MemoryContextAllocZero(into, sizeof(OptionsRow) * (n + 1)));
    for (int i = 0; i < n; i++) {
        HeapTuple tup = SPI_tuptable->vals[i];
        TupleDesc desc = SPI_tuptable->tupdesc;
        bool isnull;
        o[i].matview = column_oid(i, 1);
        char *mode = SPI_getvalue(tup, desc, 2);
        o[i].options.mode = mode[0];
        Datum conc = SPI_getbinval(tup, desc, 3, &isnull);
        o[i].options.concurrently = isnull ? -1 : (DatumGetBool(conc) ? 1 : 0);
        o[i].options.on_error_warn = strcmp(SPI_getvalue(tup, desc, 4), "warn") == 0;
        o[i].options.debounce_us = DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull));
        Datum max_delay = SPI_getbinval(tup, desc, 6, &isnull);
        o[i].options.max_delay_us = isnull ? -1 : DatumGetInt64(max_delay);
        o[i].options.incremental = -1;
        o[i].options.needs_full = false;
        if (has_incremental) {
            Datum incremental = SPI_getbinval(tup, desc, 7, &isnull);
            o[i].options.incremental = isnull ? -1 : (DatumGetBool(incremental) ? 1 : 0);
            o[i].options.needs_full = DatumGetBool(SPI_getbinval(tup, desc, 8, &isnull));
        }
    }
    *options = o;
    *noptions = n;
}

const char *mode_name(char mode) {
    switch (mode) {
    case 'a': return "async";
    case 'i': return "immediate";
    case 'm': return "manual";
    default: return "commit";
    }
}

void registry_set_options(Oid matview, const MatviewOptions *options) {
    Datum values[7];
    char nulls[8] = "       ";
    values[0] = ObjectIdGetDatum(matview);
    values[1] = CStringGetTextDatum(mode_name(options->mode));
    values[2] = BoolGetDatum(options->concurrently == 1);
    if (options->concurrently < 0)
        nulls[2] = 'n';
    values[3] = CStringGetTextDatum(options->on_error_warn ? "warn" : "error");
    values[4] = Int64GetDatum(options->debounce_us);
    values[5] = Int64GetDatum(options->max_delay_us);
    if (options->max_delay_us < 0)
        nulls[5] = 'n';
    values[6] = BoolGetDatum(options->incremental == 1);
    if (options->incremental < 0)
        nulls[6] = 'n';
    if (registry_at_least("0.4.0"))
        run(drop_orphan_of, values, nulls, SPI_OK_DELETE);
    bool at_0_6 = registry_at_least("0.6.0");
    bool new_watch = at_0_6 && !registry_is_watched(matview);
    run(at_0_6                       ? set_options_0_6
        : registry_at_least("0.4.0") ? set_options_0_4
        : registry_at_least("0.3.0") ? set_options
                                     : set_options_0_2,
        values, nulls, SPI_OK_INSERT);
    if (new_watch)
        registry_needs_full(matview);
}

void registry_needs_full(Oid matview) {
    Datum values[1] = {ObjectIdGetDatum(matview)};
    run(mark_needs_full, values, nullptr, SPI_OK_UPDATE);
}

void registry_full_done(Oid matview) {
    Datum values[1] = {ObjectIdGetDatum(matview)};
    run(clear_needs_full, values, nullptr, SPI_OK_UPDATE);
}

int registry_replace_watch(Oid matview, Oid requested, int n, const Oid *sources, const Oid *vias,
                           Oid **old_sources) {
    Datum values[4];
    char nulls[5] = "    ";
    values[0] = ObjectIdGetDatum(matview);
    values[1] = oid_or_null(requested, &nulls[1]);
    int nold = run(delete_request, values, nulls, SPI_OK_DELETE_RETURNING);
    Oid *old = static_cast<Oid *>(SPI_palloc(sizeof(Oid) * (nold + 1))); // outlives SPI_finish
    for (int i = 0; i < nold; i++)
        old[i] = column_oid(i, 1);
    *old_sources = old;
    for (int i = 0; i < n; i++) {
        values[2] = ObjectIdGetDatum(sources[i]);
        values[3] = oid_or_null(vias[i], &nulls[3]);
        run(insert_watch, values, nulls, SPI_OK_INSERT);
    }
    return nold;
}

int registry_remove(Oid matview, Oid requested, Oid **removed, int *vanished) {
    Datum values[2];
    char nulls[3] = "  ";
    values[0] = ObjectIdGetDatum(matview);
    values[1] = oid_or_null(requested, &nulls[1]);
    run(count_vanishing, values, nulls, SPI_OK_SELECT);
    bool isnull;
    *vanished = static_cast<int>(
        DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)));
    int n = run(remove_watch, values, nulls, SPI_OK_DELETE_RETURNING);
    // SPI memory dies with registry_end: copy into the caller's context.
    Oid *out = static_cast<Oid *>(SPI_palloc(sizeof(Oid) * (n + 1)));
    for (int i = 0; i < n; i++)
        out[i] = column_oid(i, 1);
    run(remove_orphan_options, values, nulls, SPI_OK_DELETE);
    *removed = out;
    return n;
}

bool registry_covering_request(Oid matview, Oid relid, Oid *request) {
    Datum values[2] = {ObjectIdGetDatum(matview), ObjectIdGetDatum(relid)};
    if (run(covering_request, values, nullptr, SPI_OK_SELECT) == 0)
        return false;
    *request = column_oid(0, 1);
    return true;
}

bool registry_source_needed(Oid table) {
    Datum values[1] = {ObjectIdGetDatum(table)};
    run(source_needed, values, nullptr, SPI_OK_SELECT);
    bool isnull;
    return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

bool registry_source_needed_by(Oid source, Oid child) {
    Datum values[2] = {ObjectIdGetDatum(source), ObjectIdGetDatum(child)};
    run(source_needed_by, values, nullptr, SPI_OK_SELECT);
    bool isnull;
    return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

int registry_captured_tables(Oid matview, Oid **tables) {
    Datum values[1] = {ObjectIdGetDatum(matview)};
    int n = run(captured_tables, values, nullptr, SPI_OK_SELECT);
    Oid *out = static_cast<Oid *>(SPI_palloc(sizeof(Oid) * (n + 1))); // outlives SPI_finish
    for (int i = 0; i < n; i++)
        out[i] = column_oid(i, 1);
    *tables = out;
    return n;
}

bool registry_is_watched(Oid matview) {
    Datum values[1] = {ObjectIdGetDatum(matview)};
    run(is_watched, values, nullptr, SPI_OK_SELECT);
    bool isnull;
    return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

int registry_requests(Oid matview, Oid **requested) {
    Datum values[1] = {ObjectIdGetDatum(matview)};
    int n = run(requests_of, values, nullptr, SPI_OK_SELECT);
    *requested = oid_column(n, 1);
    return n;
}

int registry_sources(Oid matview, Oid requested, Oid **sources) {
    char nulls[3] = "  ";
    Datum values[2] = {ObjectIdGetDatum(matview), oid_or_null(requested, &nulls[1])};
    int n = run(sources_of_request, values, nulls, SPI_OK_SELECT);
    *sources = oid_column(n, 1);
    return n;
}

} // namespace pgview::registry
