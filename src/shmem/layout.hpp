// pgview_auto — the layout of pgview_auto's shared memory, for the files of
// src/shmem only (the rest of the extension uses their functions): the pending
// state of each (database, matview), one slot per database, each backend's
// in-flight ticket, the lock and the launcher's latch. Every structure is sized
// at server start (see state.cpp) and never grows.
#pragma once

#include "shmem/pending.hpp"
#include "shmem/pending_keys.hpp"

extern "C" {
#include "postgres.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/condition_variable.h"
#include "utils/hsearch.h"
}

namespace pgview::shmem::layout {

constexpr int max_databases = 64;

struct EntryKey {
    Oid dbid;
    Oid matview;
};

struct Entry {
    EntryKey key;
    bool dirty;
    TimestampTz pending_since;
    TimestampTz last_change;
    TimestampTz retry_at;
    TimestampTz next_refresh;
    int failures_in_row;
    uint64 marked;    // the last ticket marked here (its commit visible)
    Coverage done;    // of the newest refresh committed
    bool keys_full;   // some pending change brought no keys (or they did not fit): refresh in full
    int32 nkeys;      // pending keys in the key table (pending_keys.hpp)
    KeyChain keys;    // ... linked from here
    uint32 overflows; // keys that did not fit in shared memory (each made a refresh full)
    bool overflowed;  // ... since the last claim (which says so in the server log)
    TimestampTz schedule_next; // its schedule's next run (kept across the database's workers)
};

// A committing transaction's ticket, from PRE_COMMIT until its COMMIT (or
// ABORT) event marks each matview: one slot per backend. A refresh claimed
// meanwhile cannot see that transaction's writes (its commit is not visible
// yet), so it leaves that ticket out. A ticket is in flight for a matview or
// marked there, never both (both change under one lock), so a waiter can tell
// what it is owed.
constexpr int in_flight_matviews = 64;
struct InFlight {
    Oid dbid;
    uint64 ticket; // 0: nothing in flight
    int n;         // > in_flight_matviews: overflowed, in flight for every
                   // matview of the database until its COMMIT marks it all dirty
    Oid matviews[in_flight_matviews];
};

struct DatabaseSlot {
    Oid dbid; // InvalidOid: free
    bool wants_worker;
    TimestampTz wants_since;  // when it started wanting one (the launcher serves the longest waiting first)
    TimestampTz next_due;     // a worker that left with nothing to do: when it is next needed (0: when asked)
    bool started_once;    // the restart rule has been applied since server start
    bool settling;        // ... is being applied now
    bool all_dirty;       // overflow: every matview of the database is dirty
    TimestampTz all_dirty_since;
    int worker_pid;
    Latch *worker_latch;
    int paused_by;        // a backend running DROP DATABASE (or the like) on it: no worker now
    uint32 overflows;     // matviews that found no room in the entries table: all dirty instead
};

struct SharedState {
    LWLock *lock;
    Latch *launcher_latch;
    ConditionVariable refreshed;
    uint64 last_ticket; // tickets are numbered across databases
    uint64 last_claim;
    DatabaseSlot databases[max_databases];
};

extern SharedState *state;
extern InFlight *in_flight; // MaxBackends slots, by pgprocno
extern HTAB *entries;

// Helpers for the files of src/shmem (the caller holds state->lock).
DatabaseSlot *find_database(Oid dbid, bool create);
Entry *find_entry(Oid matview, HASHACTION action);
void database_overflow(DatabaseSlot *db, TimestampTz now);
InFlight *my_slot();
bool touches(const InFlight &f, Oid matview);
void want_worker(DatabaseSlot *db);
void wake(DatabaseSlot *db);

} // namespace pgview::shmem::layout
