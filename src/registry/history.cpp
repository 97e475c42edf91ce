// pgview_auto — the refresh history (see history.hpp).
#include "registry/history.hpp"

#include "registry/statement.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

namespace pgview::registry {

using namespace detail;

namespace {

// (unnest of several arrays is syntax, ROWS FROM: it cannot be schema-qualified.)
Statement append = {
    "INSERT INTO pgview_auto.refresh_log (matview, started_at, finished_at, origin, strategy, keys, rows_changed, "
    "  outcome, error, pid) "
    "SELECT r.matview, r.started_at, r.finished_at, r.origin, r.strategy, NULLIF(r.keys, -1), "
    "  NULLIF(r.rows_changed, -1), "
    "  CASE WHEN r.failed THEN 'failed' ELSE 'refreshed' END, r.error, r.pid "
    "FROM unnest($1::pg_catalog.oid[], $2::pg_catalog.timestamptz[], $3::pg_catalog.timestamptz[], "
    "  $4::pg_catalog.text[], $5::pg_catalog.text[], $6::pg_catalog.int8[], $7::pg_catalog.int8[], "
    "  $8::pg_catalog.bool[], $9::pg_catalog.text[], $10::pg_catalog.int4[]) "
    "  AS r(matview, started_at, finished_at, origin, strategy, keys, rows_changed, failed, error, pid)",
    10,
    {OIDARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
     BOOLARRAYOID, TEXTARRAYOID, INT4ARRAYOID},
    nullptr};
Statement prune = {
    "DELETE FROM pgview_auto.refresh_log "
    "WHERE finished_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) "
    "  ($1 OPERATOR(pg_catalog.*) '1 day'::pg_catalog.interval))",
    1, {INT4OID}, nullptr};

ArrayType *array_of(Datum *values, bool *nulls, int n, Oid type, int len, bool byval, char align) {
    int dims[1] = {n};
    int lbs[1] = {1};
    return construct_md_array(values, nulls, 1, dims, lbs, type, len, byval, align);
}

} // namespace

bool history_installed(void) { return OidIsValid(registry_relid("refresh_log")); }

void history_append(const HistoryRow *rows, int n) {
    if (n <= 0)
        return;
    Datum *cols[10];
    bool *nulls[10];
    for (int c = 0; c < 10; c++) {
        cols[c] = static_cast<Datum *>(palloc(sizeof(Datum) * n));
        nulls[c] = static_cast<bool *>(palloc0(sizeof(bool) * n));
    }
    for (int i = 0; i < n; i++) {
        const HistoryRow &r = rows[i];
        cols[0][i] = ObjectIdGetDatum(r.view);
        cols[1][i] = TimestampTzGetDatum(r.started);
        cols[2][i] = TimestampTzGetDatum(r.finished);
        cols[3][i] = CStringGetTextDatum(r.origin);
        cols[4][i] = CStringGetTextDatum(r.strategy);
        cols[5][i] = Int64GetDatum(r.keys);
        cols[6][i] = Int64GetDatum(r.rows);
        cols[7][i] = BoolGetDatum(r.failed);
        cols[8][i] = r.error != nullptr ? CStringGetTextDatum(r.error) : (Datum) 0;
        nulls[8][i] = r.error == nullptr;
        cols[9][i] = Int32GetDatum(r.pid);
    }
    Datum values[10] = {
        PointerGetDatum(array_of(cols[0], nulls[0], n, OIDOID, 4, true, TYPALIGN_INT)),
        PointerGetDatum(array_of(cols[1], nulls[1], n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
        PointerGetDatum(array_of(cols[2], nulls[2], n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
        PointerGetDatum(array_of(cols[3], nulls[3], n, TEXTOID, -1, false, TYPALIGN_INT)),
        PointerGetDatum(array_of(cols[4], nulls[4], n, TEXTOID, -1, false, TYPALIGN_INT)),
        PointerGetDatum(array_of(cols[5], nulls[5], n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
        PointerGetDatum(array_of(cols[6], nulls[6], n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
        PointerGetDatum(array_of(cols[7], nulls[7], n, BOOLOID, 1, true, TYPALIGN_CHAR)),
        PointerGetDatum(array_of(cols[8], nulls[8], n, TEXTOID, -1, false, TYPALIGN_INT)),
        PointerGetDatum(array_of(cols[9], nulls[9], n, INT4OID, 4, true, TYPALIGN_INT)),
    };
    run(append, values, nullptr, SPI_OK_INSERT);
}

int64 history_prune(int days) {
    Datum values[1] = {Int32GetDatum(days)};
    return run(prune, values, nullptr, SPI_OK_DELETE);
}

} // namespace pgview::registry
