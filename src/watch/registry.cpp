// pgview_auto — registry and statistics access through SPI (see registry.hpp).
#include "watch/registry.hpp"

#include "syscat/relation_info.hpp"
#include "util/version.hpp"

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

namespace pgview::watch {

namespace {

constexpr const char *registry_schema = "pgview_auto";

// Microseconds of an interval column, saturated at max_interval_us; NULL stays NULL.
#define INTERVAL_US(column)                                                                         \
    "(CASE WHEN " column " IS NOT NULL THEN least(extract(epoch FROM " column ") * 1000000, "     \
    "31104000000000000)::int8 END)"
static_assert(PGVIEW_MAX_INTERVAL_US == 31104000000000000, "INTERVAL_US spells max_interval_us");

struct Statement {
    const char *sql;
    int nargs;
    Oid argtypes[8];
    SPIPlanPtr plan;
};

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
Statement installed_version = {
    "SELECT extversion FROM pg_extension WHERE extname = 'pgview_auto'", 0, {}, nullptr};
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

// DDL tracking (0.4.0).
Statement dropped_relations = {
    "SELECT objid, format('%I.%I', schema_name, object_name), object_type = 'materialized view' "
    "FROM pg_event_trigger_dropped_objects() "
    "WHERE classid = 'pg_class'::regclass AND objsubid = 0 "
    "AND object_type IN ('table', 'view', 'materialized view', 'foreign table')",
    0, {}, nullptr};
Statement is_watched = {
    "SELECT EXISTS (SELECT FROM pgview_auto.watched WHERE matview = $1)", 1, {OIDOID}, nullptr};
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
Statement forget_stats = {
    "DELETE FROM pgview_auto.refresh_stats WHERE matview = $1", 1, {OIDOID}, nullptr};
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
Statement requests_of = {
    "SELECT DISTINCT requested FROM pgview_auto.watch WHERE matview = $1", 1, {OIDOID}, nullptr};
Statement sources_of_request = {
    "SELECT source FROM pgview_auto.watch WHERE matview = $1 AND requested IS NOT DISTINCT FROM $2",
    2, {OIDOID, OIDOID}, nullptr};
Statement remove_orphan = {
    "DELETE FROM pgview_auto.watched WHERE matview IS NULL AND matview_name = $1", 1, {TEXTOID}, nullptr};

Statement load_schedules = {
    "SELECT s.matview, " INTERVAL_US("s.every") ", s.only_if_dirty "
    "FROM pgview_auto.schedule s JOIN pg_class m ON m.oid = s.matview",
    0, {}, nullptr};
Statement set_schedule = {
    "INSERT INTO pgview_auto.schedule AS s (matview, every, only_if_dirty) VALUES ($1, $2, $3) "
    "ON CONFLICT (matview) DO UPDATE SET every = excluded.every, only_if_dirty = excluded.only_if_dirty",
    3, {REGCLASSOID, INTERVALOID, BOOLOID}, nullptr};
// A schedule with only_if_dirty on a matview nothing watches: nothing marks it
// dirty, so the schedule never refreshes it (but after a restart).
Statement idle_schedule = {
    "SELECT EXISTS (SELECT FROM pgview_auto.schedule s WHERE s.matview = $1 AND s.only_if_dirty "
    "  AND NOT EXISTS (SELECT FROM pgview_auto.watched o WHERE o.matview = s.matview))",
    1, {REGCLASSOID}, nullptr};
Statement remove_schedule = {
    "DELETE FROM pgview_auto.schedule WHERE matview = $1",
    1, {REGCLASSOID}, nullptr};
Statement reset_stats = {
    "DELETE FROM pgview_auto.refresh_stats s WHERE ($1 IS NULL OR s.matview = $1) "
    "AND ($1 IS NOT NULL OR pg_has_role($2, (SELECT relowner FROM pg_class WHERE oid = s.matview), 'USAGE') "
    "     OR NOT EXISTS (SELECT FROM pg_class WHERE oid = s.matview))",
    2, {REGCLASSOID, OIDOID}, nullptr};
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
Statement error_stats = {
    "SELECT matview, last_error FROM pgview_auto.refresh_stats WHERE last_error IS NOT NULL", 0, {}, nullptr};
Statement failure_stats = {
    "INSERT INTO pgview_auto.refresh_stats AS s (matview, failures, last_error, last_error_at, stale) "
    "VALUES ($1, 1, $2, clock_timestamp(), true) "
    "ON CONFLICT (matview) DO UPDATE SET failures = s.failures + 1, last_error = excluded.last_error, "
    "  last_error_at = excluded.last_error_at, stale = true",
    2, {REGCLASSOID, TEXTOID}, nullptr};

// 0.6.0: bucket rows of keyed refreshes (see refresh/keyed_refresh.hpp).
Statement key_lock = {
    "INSERT INTO pgview_auto.key_lock AS l (matview, bucket, refreshes, keys, last_keys, last_at) "
    "SELECT $1, b.bucket, CASE WHEN $5 AND b.ord = 1 THEN 1 ELSE 0 END, b.n, "
    "  CASE WHEN $5 AND b.ord = 1 THEN $4 END, CASE WHEN $5 AND b.ord = 1 THEN clock_timestamp() END "
    "FROM unnest($2::int4[], $3::int8[]) WITH ORDINALITY AS b(bucket, n, ord) ORDER BY b.bucket "
    "ON CONFLICT (matview, bucket) DO UPDATE SET refreshes = l.refreshes + excluded.refreshes, "
    "  keys = l.keys + excluded.keys, last_keys = coalesce(excluded.last_keys, l.last_keys), "
    "  last_at = coalesce(excluded.last_at, l.last_at)",
    5, {REGCLASSOID, INT4ARRAYOID, INT8ARRAYOID, INT8OID, BOOLOID}, nullptr};
// The common case, one bucket, without the unnest and sort.
Statement key_lock_one = {
    "INSERT INTO pgview_auto.key_lock AS l (matview, bucket, refreshes, keys, last_keys, last_at) "
    "VALUES ($1, $2, CASE WHEN $5 THEN 1 ELSE 0 END, $3, CASE WHEN $5 THEN $4 END, "
    "  CASE WHEN $5 THEN clock_timestamp() END) "
    "ON CONFLICT (matview, bucket) DO UPDATE SET refreshes = l.refreshes + excluded.refreshes, "
    "  keys = l.keys + excluded.keys, last_keys = coalesce(excluded.last_keys, l.last_keys), "
    "  last_at = coalesce(excluded.last_at, l.last_at)",
    5, {REGCLASSOID, INT4OID, INT8OID, INT8OID, BOOLOID}, nullptr};
Statement forget_key_locks = {
    "DELETE FROM pgview_auto.key_lock WHERE matview = $1", 1, {OIDOID}, nullptr};

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

Oid registry_owner(void) {
    Oid watched = registry_relid("watched");
    if (!OidIsValid(watched))
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("extension \"pgview_auto\" is not installed in this database"),
                        errhint("Run CREATE EXTENSION pgview_auto.")));
    return syscat::relation_owner(watched);
}

void registry_connect(RegistryConnection *c) {
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "pgview_auto: SPI_connect failed");
    c->pushed_snapshot = !ActiveSnapshotSet();
    if (c->pushed_snapshot)
        PushActiveSnapshot(GetTransactionSnapshot());
}

void registry_disconnect(const RegistryConnection *c) {
    if (c->pushed_snapshot)
        PopActiveSnapshot();
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

namespace {
Oid *oid_column(int n, int col) {
    Oid *out = static_cast<Oid *>(SPI_palloc(sizeof(Oid) * (n + 1))); // outlives SPI_finish
    for (int i = 0; i < n; i++)
        out[i] = column_oid(i, col);
    return out;
}
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

bool registry_is_watched(Oid matview) {
    Datum values[1] = {ObjectIdGetDatum(matview)};
    run(is_watched, values, nullptr, SPI_OK_SELECT);
    bool isnull;
    return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
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

void stats_forget(Oid matview) {
    Datum values[1] = {ObjectIdGetDatum(matview)};
    run(forget_stats, values, nullptr, SPI_OK_DELETE);
    if (registry_at_least("0.6.0"))
        run(forget_key_locks, values, nullptr, SPI_OK_DELETE);
}

void key_lock_count(Oid matview, int n, const int32 *buckets, const int64 *counts, int64 total, bool count_refresh) {
    if (n == 1) {
        Datum values[5] = {ObjectIdGetDatum(matview), Int32GetDatum(buckets[0]), Int64GetDatum(counts[0]),
                           Int64GetDatum(total), BoolGetDatum(count_refresh)};
        run(key_lock_one, values, nullptr, SPI_OK_INSERT);
        return;
    }
    Datum *b = static_cast<Datum *>(palloc(sizeof(Datum) * n));
    Datum *c = static_cast<Datum *>(palloc(sizeof(Datum) * n));
    for (int i = 0; i < n; i++) {
        b[i] = Int32GetDatum(buckets[i]);
        c[i] = Int64GetDatum(counts[i]);
    }
    Datum values[5] = {ObjectIdGetDatum(matview),
                       PointerGetDatum(construct_array(b, n, INT4OID, 4, true, TYPALIGN_INT)),
                       PointerGetDatum(construct_array(c, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
                       Int64GetDatum(total), BoolGetDatum(count_refresh)};
    run(key_lock, values, nullptr, SPI_OK_INSERT);
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

int registry_remove_orphan(const char *name) {
    Datum values[1] = {CStringGetTextDatum(name)};
    return run(remove_orphan, values, nullptr, SPI_OK_DELETE);
}


bool registry_at_least(const char *version) {
    if (run(installed_version, nullptr, nullptr, SPI_OK_SELECT) == 0)
        return false;
    return compare_versions(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), version) >= 0;
}

int registry_load_schedules(ScheduleRow **rows, MemoryContext into) {
    if (!registry_at_least("0.3.0")) {
        *rows = static_cast<ScheduleRow *>(MemoryContextAllocZero(into, sizeof(ScheduleRow)));
        return 0;
    }
    int n = run(load_schedules, nullptr, nullptr, SPI_OK_SELECT);
    auto *r = static_cast<ScheduleRow *>(MemoryContextAllocZero(into, sizeof(ScheduleRow) * (n + 1)));
    for (int i = 0; i < n; i++) {
        bool isnull;
        r[i].matview = column_oid(i, 1);
        r[i].every_us = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
        r[i].only_if_dirty = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull));
    }
    *rows = r;
    return n;
}

void registry_set_schedule(Oid matview, const Interval *every, bool only_if_dirty) {
    Datum values[3] = {ObjectIdGetDatum(matview), IntervalPGetDatum(every), BoolGetDatum(only_if_dirty)};
    run(set_schedule, values, nullptr, SPI_OK_INSERT);
}

bool registry_schedule_idle(Oid matview) {
    if (!registry_at_least("0.3.0"))
        return false;
    Datum values[1] = {ObjectIdGetDatum(matview)};
    run(idle_schedule, values, nullptr, SPI_OK_SELECT);
    bool isnull;
    return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

bool registry_remove_schedule(Oid matview) {
    Datum values[1] = {ObjectIdGetDatum(matview)};
    return run(remove_schedule, values, nullptr, SPI_OK_DELETE) > 0;
}

void stats_reset(Oid matview, Oid user) {
    char nulls[3] = "  ";
    Datum values[2];
    values[0] = oid_or_null(matview, &nulls[0]);
    values[1] = ObjectIdGetDatum(user);
    run(reset_stats, values, nulls, SPI_OK_DELETE);
}

void stats_claim(Oid matview) {
    Datum values[1] = {ObjectIdGetDatum(matview)};
    MemoryContext caller = CurrentMemoryContext;
    PG_TRY();
    {
        run(claim_stats, values, nullptr, SPI_OK_INSERT);
    }
    PG_CATCH();
    {
        // The row was updated by a refresh this transaction's snapshot cannot
        // see: say that, not what our statement ran into (the transaction
        // aborts either way).
        MemoryContextSwitchTo(caller);
        ErrorData *failure = CopyErrorData();
        if (failure->sqlerrcode != ERRCODE_T_R_SERIALIZATION_FAILURE)
            PG_RE_THROW();
        FlushErrorState();
        const char *name = get_rel_name(matview);
        ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                        errmsg("%s %s was refreshed by a transaction newer than this transaction's snapshot",
                               get_rel_relkind(matview) == RELKIND_MATVIEW ? "materialized view" : "table view",
                               name != nullptr ? quote_qualified_identifier(
                                                     get_namespace_name(get_rel_namespace(matview)), name)
                                               : "?"),
                        errdetail("A REPEATABLE READ or SERIALIZABLE transaction cannot take a newer snapshot, and "
                                  "refreshing from its own would undo that refresh."),
                        errhint("Retry the transaction.")));
    }
    PG_END_TRY();
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

namespace pgview::watch {

int stats_errors(Oid **matviews, char ***messages) {
    int n = run(error_stats, nullptr, nullptr, SPI_OK_SELECT);
    *matviews = oid_column(n, 1);
    char **m = static_cast<char **>(SPI_palloc(sizeof(char *) * (n + 1)));
    for (int i = 0; i < n; i++) {
        char *text = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
        m[i] = static_cast<char *>(SPI_palloc(strlen(text) + 1));
        strcpy(m[i], text);
    }
    *messages = m;
    return n;
}

} // namespace pgview::watch
