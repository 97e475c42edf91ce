// pgview_auto — refresh statistics and key-lock rows (see stats.hpp).
#include "registry/stats.hpp"

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

Statement forget_stats = {
    "DELETE FROM pgview_auto.refresh_stats WHERE matview = $1", 1, {OIDOID}, nullptr};
Statement reset_stats = {
    "DELETE FROM pgview_auto.refresh_stats s WHERE ($1 IS NULL OR s.matview = $1) "
    "AND ($1 IS NOT NULL OR pg_has_role($2, (SELECT relowner FROM pg_class WHERE oid = s.matview), 'USAGE') "
    "     OR NOT EXISTS (SELECT FROM pg_class WHERE oid = s.matview))",
    2, {REGCLASSOID, OIDOID}, nullptr};
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
// 0.6.0: bucket rows of keyed refreshes (see engine/key_locks.hpp).
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

Statement take_stats = {
    "WITH r AS (DELETE FROM pgview_auto.refresh_stats r WHERE r.matview OPERATOR(pg_catalog.=) $1 RETURNING r.*), "
    "     k AS (DELETE FROM pgview_auto.key_lock k WHERE k.matview OPERATOR(pg_catalog.=) $1 RETURNING k.*) "
    "SELECT CASE WHEN x.stats IS NULL AND x.locks IS NULL THEN NULL "
    "            ELSE (COALESCE(x.stats, '{}') OPERATOR(pg_catalog.||) "
    "                  pg_catalog.jsonb_build_object('key_lock', COALESCE(x.locks, '[]')))::pg_catalog.text "
    "       END "
    "FROM (SELECT (SELECT pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.-) 'matview' FROM r) AS stats, "
    "             (SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(k) OPERATOR(pg_catalog.-) 'matview') FROM k) AS locks) x",
    1, {REGCLASSOID}, nullptr};
Statement give_stats = {
    "WITH t AS (SELECT $2::pg_catalog.jsonb AS j), "
    "     k AS (INSERT INTO pgview_auto.key_lock AS l "
    "           SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::pgview_auto.key_lock, "
    "             (SELECT pg_catalog.jsonb_agg(e OPERATOR(pg_catalog.||) "
    "                                          pg_catalog.jsonb_build_object('matview', $1::pg_catalog.oid)) "
    "              FROM t, pg_catalog.jsonb_array_elements(t.j OPERATOR(pg_catalog.->) 'key_lock') e)) "
    "           ON CONFLICT (matview, bucket) DO UPDATE SET refreshes = l.refreshes OPERATOR(pg_catalog.+) excluded.refreshes, "
    "             keys = l.keys OPERATOR(pg_catalog.+) excluded.keys "
    "           RETURNING 1) "
    "INSERT INTO pgview_auto.refresh_stats AS s "
    "SELECT r.* FROM t, pg_catalog.jsonb_populate_record(NULL::pgview_auto.refresh_stats, "
    "         t.j OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('matview', $1::pg_catalog.oid)) r "
    "WHERE t.j OPERATOR(pg_catalog.?) 'refresh_count' "
    "ON CONFLICT (matview) DO UPDATE SET refresh_count = s.refresh_count OPERATOR(pg_catalog.+) excluded.refresh_count, "
    "  total_duration = s.total_duration OPERATOR(pg_catalog.+) excluded.total_duration, "
    "  min_duration = LEAST(s.min_duration, excluded.min_duration), "
    "  max_duration = GREATEST(s.max_duration, excluded.max_duration), "
    "  failures = s.failures OPERATOR(pg_catalog.+) excluded.failures, "
    "  last_refresh = COALESCE(s.last_refresh, excluded.last_refresh), "
    "  last_duration = COALESCE(s.last_duration, excluded.last_duration), "
    "  last_concurrently = COALESCE(s.last_concurrently, excluded.last_concurrently), "
    "  last_error = COALESCE(s.last_error, excluded.last_error), "
    "  last_error_at = COALESCE(s.last_error_at, excluded.last_error_at)",
    2, {REGCLASSOID, TEXTOID}, nullptr};

} // namespace

char *stats_take(Oid matview) {
    if (!registry_at_least("0.6.0"))
        return nullptr;
    Datum values[1] = {ObjectIdGetDatum(matview)};
    run(take_stats, values, nullptr, SPI_OK_SELECT);
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    if (isnull)
        return nullptr;
    char *json = TextDatumGetCString(d);
    char *out = static_cast<char *>(SPI_palloc(strlen(json) + 1)); // outlives SPI_finish
    strcpy(out, json);
    return out;
}

void stats_give(Oid matview, const char *taken) {
    if (taken == nullptr)
        return;
    Datum values[2] = {ObjectIdGetDatum(matview), CStringGetTextDatum(taken)};
    run(give_stats, values, nullptr, SPI_OK_INSERT);
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

} // namespace pgview::registry
