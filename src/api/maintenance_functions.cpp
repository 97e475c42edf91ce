// pgview_auto — pgview_maintenance(): what maintaining each view has cost since
// the server started, per strategy (shmem/maintenance.hpp).
#include "engine/plan.hpp"
#include "pg/guard.hpp"
#include "pg/srf.hpp"
#include "shmem/maintenance.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

using pgview::pg_call;

PGVIEW_FUNCTION(pgview_maintenance) {
    pgview::SrfOutput out(fcinfo);
    pgview::shmem::MaintenanceRow *rows = nullptr;
    int64 lost = 0;
    int n = pg_call([&] { return pgview::shmem::maintenance_rows(&rows, &lost); });
    out.put_rows(static_cast<size_t>(n), [&](size_t i, Datum *values, bool *nulls) {
        const pgview::shmem::MaintenanceRow &r = rows[i];
        values[0] = ObjectIdGetDatum(r.view);
        values[1] = CStringGetTextDatum(pgview::engine::strategy_name(static_cast<pgview::engine::Strategy>(r.strategy)));
        values[2] = Int64GetDatum(r.refreshes);
        values[3] = Int64GetDatum(r.keys);
        values[4] = Int64GetDatum(r.rows);
        auto *total = static_cast<Interval *>(palloc0(sizeof(Interval)));
        total->time = r.duration_us;
        values[5] = IntervalPGetDatum(total);
        values[6] = Int64GetDatum(r.last_keys);
        values[7] = TimestampTzGetDatum(r.last_at);
        nulls[7] = r.last_at == 0;
        values[8] = CStringGetTextDatum(r.last_reason);
        nulls[8] = r.last_reason[0] == '\0';
    });
    return (Datum) 0;
}
