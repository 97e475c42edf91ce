// pgview_auto — what writers, workers and waiters share: pending changes per
// (database, matview), one slot per database, the launcher's latch.
//
// Writers of async/manual matviews:
//   at PRE_COMMIT  announce(): take a ticket, one per transaction, numbered in
//                  order; it stays "in flight" (its commit not visible yet);
//   at COMMIT      commit_marks(): set the dirty bits, wake the worker, and the
//                  ticket is no longer in flight. The commit is already visible,
//                  and nothing here can fail.
// The refresher:   claim() clears the dirty bit *before* its refresh takes its
//                  snapshot and returns what it covers: every ticket taken so far
//                  except those still in flight for that matview (the snapshot
//                  cannot see those transactions; their COMMIT marks the matview
//                  dirty again). After the refresh commits, done() records it.
//                  So every committed write is either seen by a refresh or makes
//                  another one.
// Waiters:         at the call, the matview's last ticket and the tickets then in
//                  flight; served once a refresh covers every ticket up to that
//                  one but those (committed after the call, they are not owed).
// A full table degrades to "everything in this database is dirty".
// C-level; nothing here raises an error except attach-time checks.
#pragma once

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
}

namespace pgview::shmem {

// Writers.
struct Ticket {
    Oid matview;
    uint64 ticket; // 0: the table was full, the database is marked instead
    bool tracked;  // false: no slot for this database; refresh in the transaction
};
Ticket announce(Oid matview);
// A ticket to mark at COMMIT; async matviews wake the worker, manual ones wait
// for pgview_refresh_pending.
struct Mark {
    Ticket ticket;
    bool wake_worker;
    bool keyed;  // a table view whose changed keys this transaction collected (not too many)
    List *keys;  // then these (SinkKey *): they wait in shared memory for the refresh
};
// At COMMIT (or ABORT): mark each matview dirty, and the transaction's ticket is
// no longer in flight; one lock for all of it.
void commit_marks(const Mark *marks, int n);

// A matview rebuilt under a new OID (pgview_alter), at the COMMIT that made it:
// tickets in flight for the old one count for the new one too, the old entry
// goes (a writer whose COMMIT still marks it finds none and marks the whole
// database dirty: nothing is lost), and with `mark` the new one is dirty.
void move_pending(Oid old_matview, Oid new_matview, bool mark, bool wake_worker);

// What a refresh covers: tickets up to `upto` but the n in `except`.
constexpr int max_except = 8;
struct Coverage {
    uint64 claim_no; // a later claim covers all an earlier one did
    uint64 upto;
    int n;
    uint64 except[max_except];
};

// Refresher.
// Clears dirty; returns what the refresh covers. With keyed: whether the refresh
// may be keyed (the matview was dirty and every change brought its keys), and
// then the keys (SinkKey *, palloc'd); the pending keys are taken either way.
Coverage claim(Oid matview, bool *keyed = nullptr, List **keys = nullptr);
void done(Oid matview, const Coverage &c); // after the refresh committed
// The refresh failed (or, !failed, was rolled back with its subtransaction):
// dirty again, retried at retry_at.
void unclaim(Oid matview, TimestampTz retry_at, bool failed = true);
bool take_all_dirty(TimestampTz *since);   // this database overflowed: take and clear the flag
// One matview, by the worker (crash rule, overflow); false when shared memory
// has no room for it: then the database is all dirty again (counted).
bool mark_dirty_since(Oid matview, TimestampTz since);
// A matview about to be watched in a background mode (or scheduled) gets its
// entry now: false when the shared table is full (pgview_auto.max_matviews).
bool reserve(Oid matview);
extern const char *const max_matviews_hint;

struct PendingInfo {
    bool dirty;
    TimestampTz pending_since; // first change not yet refreshed
    TimestampTz last_change;
    TimestampTz retry_at;
    TimestampTz next_refresh;  // as planned by the worker
    int failures_in_row;
    uint32 overflows;          // its changes that did not fit in shared memory (each made a refresh full)
    int32 nkeys;               // its changed keys waiting in shared memory
};
bool pending_info(Oid matview, PendingInfo *info); // false: nothing known
void set_next_refresh(Oid matview, TimestampTz when); // 0: none planned
// A schedule's next run, kept in shared memory so that the database's workers
// can come and go (take turns) without restarting its period (0: unknown).
TimestampTz schedule_clock(Oid matview);
void set_schedule_clock(Oid matview, TimestampTz next);
// This database as a whole: all dirty (the shared table overflowed, or not
// settled yet after a restart) since when, and how many matviews found no room.
struct DatabasePending {
    bool all_dirty;
    TimestampTz since;
    uint32 overflows;
    int worker_pid;            // its worker now (0: none)
    TimestampTz worker_wanted; // waiting for a worker since then (0: not waiting)
};
DatabasePending database_pending(void);
// Drop this database's entries of matviews not in keep[] and not dirty.
void forget_entries_except(const Oid *keep, int n);
// Every matview of this database with an entry: palloc'd arrays.
int pending_list(Oid **matviews, PendingInfo **infos);

} // namespace pgview::shmem
