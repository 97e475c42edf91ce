// pgview_auto — the refresh history's buffer in shared memory (issue 24).
//
// Every refresh notes what it did in this backend (TopTransactionContext); at
// the end of the transaction the notes go to a ring in shared memory, sized at
// start (pgview_auto.history_buffer entries, never more): refreshes only if the
// transaction committed (one rolled back did nothing), failures either way.
// The per-database worker takes its database's entries and writes them to
// pgview_auto.refresh_log; writers never wait for it. An entry that finds the
// ring full is counted as dropped, never waited for. A database's first entry
// (and the ring half full) asks for its worker. Entries not yet written are
// lost in a crash (shared memory goes with it).
// Without the ring (not preloaded, or pgview_auto.history_buffer = 0) the
// refresh writes its row itself, in its own transaction (registry/history).
#pragma once

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace pgview::shmem {

Size history_ring_shmem_size(void);
void history_ring_shmem_init(void);     // in shmem_startup_hook, under AddinShmemInitLock
void history_ring_request_lock(void);   // in shmem_request_hook
bool history_ring_kept(void);           // the ring exists (preloaded, buffer > 0)

// The longest error text an entry keeps (longer ones are cut, ending in "...").
inline constexpr int history_error_len = 200;

struct HistoryEntry {
    Oid dbid;
    Oid view;
    char origin;   // 'c' commit, 'p' prepare, 'm' manual (pgview_refresh...), 'w' worker
    char strategy; // engine::Strategy's letter
    bool failed;
    int32 pid;
    int64 keys;
    int64 rows;
    TimestampTz started;
    TimestampTz finished;
    uint64 seq; // order of arrival (0: a free slot)
    char error[history_error_len];
};

// Notes one refresh (C-level: may ereport, memory). A failure is kept whether
// or not its transaction commits.
void history_note(const HistoryEntry &entry);
// From the transaction callback: the notes go to the ring (refreshes at
// COMMIT only). Never ereports.
void history_at_end(bool committed);

// The worker: takes up to max of its database's entries, oldest first, into
// out (palloc'd). Returns how many.
int history_take(Oid dbid, HistoryEntry **out, int max);
// DROP DATABASE committed: its entries go. Never ereports.
void history_forget_database(Oid dbid);
// Entries of dbid waiting in the ring.
int history_waiting(Oid dbid);

struct HistoryRingState {
    int capacity;
    int used;
    int64 dropped; // since the server started
};
HistoryRingState history_ring_state(void);

} // namespace pgview::shmem
