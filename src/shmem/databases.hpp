// pgview_auto — one slot per database in shared memory: its worker (latch,
// pid), the queue of databases waiting for one (workers take turns), commands
// that need the database to itself (paused), and the restart rule's settling.
// C-level.
#pragma once

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
}

namespace pgview::shmem {

void request_worker(Oid dbid); // a worker for this database, please (async watch, schedule)
// The refresh history has entries of this database for its worker to write:
// a worker if none serves it; with wake, its worker woken now (the buffer is
// half full). Never ereports.
void history_wants_flush(Oid dbid, bool wake);

// Workers and the launcher.
struct DatabaseSlotView {
    Oid dbid;
    bool wants_worker;
    int worker_pid;
    TimestampTz wants_since;
    bool paused;
};
// Every database slot in use (pgview_activity's worker rows). Never ereports.
int database_slots(DatabaseSlotView *out, int max);
void launcher_attach(void);                 // the launcher's latch, for writers to set
int databases_wanting_workers(Oid *dbids, int max); // the longest waiting first
// Some other database waits for a worker (pgview_auto.max_workers are busy):
// a worker that has had its turn leaves, and the launcher starts one there.
bool others_waiting(Oid dbid);
bool worker_attach(Oid dbid);               // this worker serves dbid (its latch); false: paused, exit
// The worker leaves: still wanted (back in the queue at once), or needed again
// at next_due (0: when a writer or a new watch asks).
void worker_detach(Oid dbid, bool still_wanted, TimestampTz next_due = 0);
// Databases whose worker left idle and whose next_due has come: they want one
// again (the launcher calls this). Returns how many.
int databases_due(TimestampTz now);
// The restart rule (after a crash or restart every async, manual and scheduled
// matview is dirty) is applied once per database per server start, by whichever
// backend needs the state first: begin_settling() says whether the caller must;
// settled() whether it is done.
bool begin_settling(Oid dbid);
void end_settling(Oid dbid, bool done);
bool settled(Oid dbid);
void forget_database(Oid dbid);              // dropped: free its slot
// DROP DATABASE committed: its slot, its matviews' entries and their pending keys go
// (else every database created and dropped would keep a slot until the slots ran out).
void forget_dropped_database(Oid dbid);

// A command that needs the database to itself (DROP DATABASE, CREATE DATABASE
// ... TEMPLATE, ALTER DATABASE ... RENAME / SET TABLESPACE): no worker is
// started for it, nor attaches to it, until this backend ends the pause (at the
// end of its transaction) or is gone. Returns the pid of its worker (0: none).
int pause_database(Oid dbid);
void unpause_databases(void);                // every pause of this backend
bool database_paused(Oid dbid);

} // namespace pgview::shmem
