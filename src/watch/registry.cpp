// pgview_auto — registry and statistics access through SPI (see registry.hpp).
#include "watch/registry.hpp"

#include "pg/role_context.hpp"
#include "syscat/relation_info.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
}

namespace pgview::watch {

namespace {

constexpr const char *registry_schema = "pgview_auto";

struct Statement {
    const char *sql;
    int nargs;
    Oid argtypes[4];
    SPIPlanPtr plan;
};

// Plans are prepared once per backend and kept; the plan cache replans them
// when the tables change (even after DROP and CREATE EXTENSION).
Statement load_watches = {
    "SELECT w.source, w.matview, c.relkind = 'm' FROM pgview_auto.watch w "
    "JOIN pg_class c ON c.oid = w.source JOIN pg_class m ON m.oid = w.matview",
    0, {}, nullptr};
Statement load_options = {
    "SELECT o.matview, o.mode, o.\"concurrently\", o.on_error FROM pgview_auto.watched o "
    "JOIN pg_class m ON m.oid = o.matview",
    0, {}, nullptr};
Statement set_options = {
    "INSERT INTO pgview_auto.watched AS o (matview, mode, \"concurrently\", on_error) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (matview) DO UPDATE "
    "SET mode = excluded.mode, \"concurrently\" = excluded.\"concurrently\", on_error = excluded.on_error "
    "WHERE (o.mode, o.\"concurrently\", o.on_error) IS DISTINCT FROM "
    "(excluded.mode, excluded.\"concurrently\", excluded.on_error)",
    4, {REGCLASSOID, TEXTOID, BOOLOID, TEXTOID}, nullptr};
Statement delete_request = {
    "DELETE FROM pgview_auto.watch WHERE matview = $1 AND requested IS NOT DISTINCT FROM $2",
    2, {REGCLASSOID, REGCLASSOID}, nullptr};
Statement insert_watch = {
    "INSERT INTO pgview_auto.watch (matview, requested, source, via) VALUES ($1, $2, $3, $4)",
    4, {REGCLASSOID, REGCLASSOID, REGCLASSOID, REGCLASSOID}, nullptr};
Statement remove_watch = {
    "DELETE FROM pgview_auto.watch WHERE matview = $1 "
    "AND ($2 IS NULL OR source = $2 OR requested = $2 OR via = $2) RETURNING source",
    2, {REGCLASSOID, REGCLASSOID}, nullptr};
Statement remove_orphan_options = {
    "DELETE FROM pgview_auto.watched o WHERE matview = $1 "
    "AND NOT EXISTS (SELECT FROM pgview_auto.watch w WHERE w.matview = o.matview)",
    1, {REGCLASSOID}, nullptr};
Statement source_needed = {
    "SELECT EXISTS (SELECT FROM pgview_auto.watch WHERE source = $1)",
    1, {REGCLASSOID}, nullptr};
Statement captured_tables = {
    "SELECT DISTINCT w.source, w.source::text FROM pgview_auto.watch w "
    "JOIN pg_class c ON c.oid = w.source WHERE w.matview = $1 AND c.relkind <> 'm' ORDER BY 2",
    1, {REGCLASSOID}, nullptr};
Statement claim_stats = {
    "INSERT INTO pgview_auto.refresh_stats AS s (matview) VALUES ($1) "
    "ON CONFLICT (matview) DO UPDATE SET matview = s.matview",
    1, {REGCLASSOID}, nullptr};
Statement success_stats = {
    "INSERT INTO pgview_auto.refresh_stats AS s (matview, refresh_count, last_refresh, last_duration, "
    "  total_duration, min_duration, max_duration, last_concurrently) "
    "VALUES ($1, 1, clock_timestamp(), $2 * interval '1 microsecond', $2 * interval '1 microsecond', "
    "  $2 * interval '1 microsecond', $2 * interval '1 microsecond', $3) "
    "ON CONFLICT (matview) DO UPDATE SET refresh_count = s.refresh_count + 1, "
    "  last_refresh = excluded.last_refresh, last_duration = excluded.last_duration, "
    "  total_duration = s.total_duration + excluded.last_duration, "
    "  min_duration = least(s.min_duration, excluded.last_duration), "
    "  max_duration = greatest(s.max_duration, excluded.last_duration), "
    "  last_concurrently = excluded.last_concurrently, stale = false",
    3, {REGCLASSOID, INT8OID, BOOLOID}, nullptr};
Statement failure_stats = {
    "INSERT INTO pgview_auto.refresh_stats AS s (matview, failures, last_error, last_error_at, stale) "
    "VALUES ($1, 1, $2, clock_timestamp(), true) "
    "ON CONFLICT (matview) DO UPDATE SET failures = s.failures + 1, last_error = excluded.last_error, "
    "  last_error_at = excluded.last_error_at, stale = true",
    2, {REGCLASSOID, TEXTOID}, nullptr};

int run(Statement &st, const Datum *values, const char *nulls, int expected) {
    if (st.plan == nullptr) {
        SPIPlanPtr plan = SPI_prepare(st.sql, st.nargs, st.argtypes);
        if (plan == nullptr)
            elog(ERROR, "pgview_auto: could not prepare \"%s\": %s", st.sql,
                 SPI_result_code_string(SPI_result));
        SPI_keepplan(plan);
        st.plan = plan;
    }
    int rc = SPI_execute_plan(st.plan, const_cast<Datum *>(values), nulls, false, 0);
    if (rc != expected)
        elog(ERROR, "pgview_auto: \"%s\" failed: %s", st.sql, SPI_result_code_string(rc));
    return static_cast<int>(SPI_processed);
}

Datum oid_or_null(Oid oid, char *null_flag) {
    *null_flag = OidIsValid(oid) ? ' ' : 'n';
    return ObjectIdGetDatum(oid);
}

Oid column_oid(int row, int col) {
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
    return isnull ? InvalidOid : DatumGetObjectId(d);
}

} // namespace

Oid registry_relid(const char *table) {
    Oid nsp = get_namespace_oid(registry_schema, true);
    return OidIsValid(nsp) ? get_relname_relid(table, nsp) : InvalidOid;
}

bool registry_installed(void) { return OidIsValid(registry_relid("watch")); }

void registry_begin(RegistrySession *session) {
    Oid watched = registry_relid("watched");
    if (!OidIsValid(watched))
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("extension \"pgview_auto\" is not installed in this database"),
                        errhint("Run CREATE EXTENSION pgview_auto.")));
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "pgview_auto: SPI_connect failed");
    enter_role(&session->role, syscat::relation_owner(watched), true);
    session->pushed_snapshot = !ActiveSnapshotSet();
    if (session->pushed_snapshot)
        PushActiveSnapshot(GetTransactionSnapshot());
}

void registry_end(RegistrySession *session) {
    if (session->pushed_snapshot)
        PopActiveSnapshot();
    leave_role(&session->role);
    SPI_finish();
}

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
    }
    *watches = w;
    *nwatches = n;

    n = run(load_options, nullptr, nullptr, SPI_OK_SELECT);
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
    }
    *options = o;
    *noptions = n;
}

void registry_set_options(Oid matview, const MatviewOptions *options) {
    Datum values[4];
    char nulls[5] = "    ";
    values[0] = ObjectIdGetDatum(matview);
    values[1] = CStringGetTextDatum("commit");
    values[2] = BoolGetDatum(options->concurrently == 1);
    if (options->concurrently < 0)
        nulls[2] = 'n';
    values[3] = CStringGetTextDatum(options->on_error_warn ? "warn" : "error");
    run(set_options, values, nulls, SPI_OK_INSERT);
}

void registry_replace_watch(Oid matview, Oid requested, int n, const Oid *sources, const Oid *vias) {
    Datum values[4];
    char nulls[5] = "    ";
    values[0] = ObjectIdGetDatum(matview);
    values[1] = oid_or_null(requested, &nulls[1]);
    run(delete_request, values, nulls, SPI_OK_DELETE);
    for (int i = 0; i < n; i++) {
        values[2] = ObjectIdGetDatum(sources[i]);
        values[3] = oid_or_null(vias[i], &nulls[3]);
        run(insert_watch, values, nulls, SPI_OK_INSERT);
    }
}

int registry_remove(Oid matview, Oid source, Oid **removed) {
    Datum values[2];
    char nulls[3] = "  ";
    values[0] = ObjectIdGetDatum(matview);
    values[1] = oid_or_null(source, &nulls[1]);
    int n = run(remove_watch, values, nulls, SPI_OK_DELETE_RETURNING);
    // SPI memory dies with registry_end: copy into the caller's context.
    Oid *out = static_cast<Oid *>(SPI_palloc(sizeof(Oid) * (n + 1)));
    for (int i = 0; i < n; i++)
        out[i] = column_oid(i, 1);
    run(remove_orphan_options, values, nulls, SPI_OK_DELETE);
    *removed = out;
    return n;
}

bool registry_source_needed(Oid table) {
    Datum values[1] = {ObjectIdGetDatum(table)};
    run(source_needed, values, nullptr, SPI_OK_SELECT);
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

void stats_claim(Oid matview) {
    Datum values[1] = {ObjectIdGetDatum(matview)};
    run(claim_stats, values, nullptr, SPI_OK_INSERT);
}

void stats_success(Oid matview, int64 duration_us, bool concurrently) {
    Datum values[3] = {ObjectIdGetDatum(matview), Int64GetDatum(duration_us), BoolGetDatum(concurrently)};
    run(success_stats, values, nullptr, SPI_OK_INSERT);
}

void stats_failure(Oid matview, const char *message) {
    Datum values[2] = {ObjectIdGetDatum(matview), CStringGetTextDatum(message)};
    run(failure_stats, values, nullptr, SPI_OK_INSERT);
}

} // namespace pgview::watch
