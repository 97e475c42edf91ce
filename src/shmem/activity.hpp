// pgview_auto — the refreshes running now, one slot per backend (issue 24,
// pgview_activity): each backend writes only its own slot (no lock: a change
// count tells a reader that copied a slot mid-write to copy it again, as
// PostgreSQL's backend status does); sized at start (MaxBackends), never more.
// A refresh sets its slot when it starts, its figures when its statement ends,
// and clears it when done; the transaction callbacks clear it on abort too.
// Without shared_preload_libraries there are no slots: nothing is shown.
#pragma once

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace pgview::shmem {

Size activity_shmem_size(void);
void activity_shmem_init(void); // in shmem_startup_hook, under AddinShmemInitLock

// Never ereport.
void activity_begin(Oid view, char origin, char strategy, int64 keys_claimed);
void activity_progress(char strategy, int64 keys_done, int64 rows);
void activity_end(void);

struct ActivityRow {
    int pid;
    Oid dbid;
    Oid view;
    char origin;
    char strategy;
    TimestampTz started;
    int64 keys_claimed;
    int64 keys_done;
    int64 rows;
};
// The refreshes running now in database dbid (palloc'd).
int activity_rows(Oid dbid, ActivityRow **out);
// This backend's slot (the worker's, for its state): a refresh is running.
bool activity_running_in(int pid);

} // namespace pgview::shmem
