// pgview_auto — what maintenance costs, per view and strategy, since the
// server started: refreshes, keys, rows written and time spent. Every refresh
// notes its figures in this backend; COMMIT adds them to a shared table (a
// refresh rolled back did nothing), sized at start (4 strategies per
// pgview_auto.max_matviews); a figure that finds no room is counted as lost,
// never grows it. Without shared_preload_libraries nothing is kept.
// (Full refreshes are also kept, across restarts, in pgview_auto.refresh_stats.)
#pragma once

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace pgview::shmem {

Size maintenance_shmem_size(void);
void maintenance_shmem_init(void); // in shmem_startup_hook, under AddinShmemInitLock
void maintenance_request_lock(void); // in shmem_request_hook

// A plan's reason is kept to this many bytes (cut, not lost: pgview_explain has it whole).
inline constexpr int maintenance_reason_size = 160;

// C-level (may ereport: memory). `reason`: why the plan's strategy (kept as the last one's).
void maintenance_note(Oid view, char strategy, int64 keys, int64 rows, int64 duration_us, const char *reason);
// From the transaction callback: added at COMMIT, dropped otherwise. Never ereports.
void maintenance_at_end(bool committed);

struct MaintenanceRow {
    Oid view;
    char strategy;
    int64 refreshes;
    int64 keys;
    int64 rows;
    int64 duration_us;
    int64 last_keys; // of the last refresh
    TimestampTz last_at;
    char last_reason[maintenance_reason_size]; // why the last refresh had this strategy ("" unknown)
};
// This database's rows (palloc'd), and the figures lost for want of room.
int maintenance_rows(MaintenanceRow **out, int64 *lost);
bool maintenance_kept(void); // the shared table exists (the library was preloaded)

} // namespace pgview::shmem
