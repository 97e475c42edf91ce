// pgview_auto — behind the view pgview_activity (issue 24):
// pgview_auto.running_refreshes() (this database's refreshes running now, any
// backend) and pgview_auto.workers() (one row per database the workers serve
// or that waits for one). Empty without shared_preload_libraries: there is no
// shared memory to see another backend's refresh in.
#include "engine/history.hpp"
#include "pg/guard.hpp"
#include "pg/srf.hpp"
#include "shmem/activity.hpp"
#include "shmem/databases.hpp"
#include "shmem/state.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

using pgview::pg_call;

PGVIEW_FUNCTION(pgview_running_refreshes) {
    pgview::SrfOutput out(fcinfo);
    pgview::shmem::ActivityRow *rows = nullptr;
    int n = pg_call([&rows] { return pgview::shmem::activity_rows(MyDatabaseId, &rows); });
    out.put_rows(static_cast<size_t>(n), [&](size_t i, Datum *values, bool *) {
        const pgview::shmem::ActivityRow &r = rows[i];
        values[0] = Int32GetDatum(r.pid);
        values[1] = ObjectIdGetDatum(r.view);
        values[2] = CStringGetTextDatum(pgview::engine::origin_name_of_letter(r.origin));
        values[3] = CStringGetTextDatum(pgview::engine::strategy_name(static_cast<pgview::engine::Strategy>(r.strategy)));
        values[4] = TimestampTzGetDatum(r.started);
        values[5] = Int64GetDatum(r.keys_claimed);
        values[6] = Int64GetDatum(r.keys_done);
        values[7] = Int64GetDatum(r.rows);
    });
    return (Datum) 0;
}

PGVIEW_FUNCTION(pgview_workers) {
    pgview::SrfOutput out(fcinfo);
    if (!pgview::shmem::shared_state_ready())
        return (Datum) 0;
    constexpr int max_slots = 64; // (the shared table's size: shmem/layout.hpp)
    pgview::shmem::DatabaseSlotView slots[max_slots];
    int n = pgview::shmem::database_slots(slots, max_slots);
    out.put_rows(static_cast<size_t>(n), [&](size_t i, Datum *values, bool *nulls) {
        const pgview::shmem::DatabaseSlotView &d = slots[i];
        const char *state = d.paused                                              ? "paused"
                            : d.worker_pid != 0 && pgview::shmem::activity_running_in(d.worker_pid) ? "refreshing"
                            : d.worker_pid != 0                                   ? "idle"
                            : d.wants_worker                                      ? "waiting for a worker"
                                                                                  : "no worker";
        values[0] = ObjectIdGetDatum(d.dbid);
        values[1] = Int32GetDatum(d.worker_pid);
        nulls[1] = d.worker_pid == 0;
        values[2] = CStringGetTextDatum(state);
        values[3] = TimestampTzGetDatum(d.wants_since);
        nulls[3] = !d.wants_worker || d.worker_pid != 0 || d.wants_since == 0;
    });
    return (Datum) 0;
}
