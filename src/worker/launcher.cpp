// pgview_auto — the launcher: one background worker for the whole cluster.
//
// It connects to no database (shared catalogs only), waits on its latch, and
// starts a per-database worker (a dynamic background worker) for every database
// that asks for one: writers of async matviews, new async watches and schedules
// ask, and at start-up every database is asked once (after a crash or restart,
// every async, manual and scheduled matview is dirty). At most
// pgview_auto.max_workers run at once. It starts only once recovery is over.
#include "config/settings.hpp"
#include "shmem/databases.hpp"
#include "shmem/pending.hpp"
#include "shmem/state.hpp"
#include "shmem/waiters.hpp"

extern "C" {
#include "postgres.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

PGDLLEXPORT void pgview_launcher_main(Datum);
}

namespace pgview::worker {

namespace {

constexpr int max_tracked = 64;

struct Running {
    Oid dbid;
    BackgroundWorkerHandle *handle;
};
Running running[max_tracked];
int nrunning = 0;

// Connectable databases (not templates), or whether one still exists.
int list_databases(Oid *out, int max, Oid only) {
    int n = 0;
    StartTransactionCommand();
    Relation rel = table_open(DatabaseRelationId, AccessShareLock);
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, nullptr, 0, nullptr);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        auto *db = reinterpret_cast<Form_pg_database>(GETSTRUCT(tup));
        if (!db->datallowconn || db->datistemplate || (OidIsValid(only) && db->oid != only))
            continue;
        if (n < max)
            out[n++] = db->oid;
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    CommitTransactionCommand();
    return n;
}

void reap() {
    for (int i = 0; i < nrunning;) {
        pid_t pid;
        if (GetBackgroundWorkerPid(running[i].handle, &pid) == BGWH_STOPPED) {
            pfree(running[i].handle);
            running[i] = running[--nrunning];
        } else {
            i++;
        }
    }
}

bool is_running(Oid dbid) {
    for (int i = 0; i < nrunning; i++)
        if (running[i].dbid == dbid)
            return true;
    return false;
}

// Every worker is busy and databases wait (they take turns): said in the
// server log, at most once a minute; pgview_status shows the wait per view.
void say_databases_wait(int waiting) {
    static TimestampTz last_said = 0;
    TimestampTz now = GetCurrentTimestamp();
    if (now - last_said < 60 * USECS_PER_SEC)
        return;
    last_said = now;
    ereport(LOG, (errmsg("pgview_auto: %d database%s wait%s for a worker: all %d (pgview_auto.max_workers) are busy",
                         waiting, waiting == 1 ? "" : "s", waiting == 1 ? "s" : "", config::max_workers),
                  errdetail("Workers take turns between databases; refreshes there wait for their turn."),
                  errhint("Raise pgview_auto.max_workers (and max_worker_processes) and restart the server.")));
}

void start_worker(Oid dbid) {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART; // the launcher restarts it if still wanted
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "pgview_auto");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "pgview_worker_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "pgview_auto worker for database %u", dbid);
    snprintf(worker.bgw_type, BGW_MAXLEN, "pgview_auto worker");
    worker.bgw_main_arg = ObjectIdGetDatum(dbid);
    worker.bgw_notify_pid = MyProcPid;
    BackgroundWorkerHandle *handle;
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    bool ok = RegisterDynamicBackgroundWorker(&worker, &handle);
    MemoryContextSwitchTo(old);
    if (!ok) {
        ereport(WARNING, (errmsg("pgview_auto could not start a worker for database %u", dbid),
                          errhint("Raise max_worker_processes.")));
        return;
    }
    running[nrunning++] = {dbid, handle};
}

} // namespace

} // namespace pgview::worker

void pgview_launcher_main(Datum) {
    using namespace pgview::worker;
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);
    pgstat_report_appname("pgview_auto launcher");
    pgview::shmem::launcher_attach();

    // The crash rule: every database may hold async, manual or scheduled matviews.
    Oid dbids[max_tracked];
    int n = list_databases(dbids, max_tracked, InvalidOid);
    for (int i = 0; i < n; i++)
        pgview::shmem::request_worker(dbids[i]);
    ereport(LOG, (errmsg("pgview_auto launcher started")));

    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        reap();
        (void) pgview::shmem::databases_due(GetCurrentTimestamp());
        Oid wanted[max_tracked];
        int nwanted = pgview::shmem::databases_wanting_workers(wanted, max_tracked);
        for (int i = 0; i < nwanted && nrunning < pgview::config::max_workers; i++) {
            if (is_running(wanted[i]))
                continue;
            Oid exists;
            if (list_databases(&exists, 1, wanted[i]) == 0) {
                pgview::shmem::forget_database(wanted[i]); // dropped, or no longer connectable
                continue;
            }
            start_worker(wanted[i]);
        }
        if (nwanted > 0 && nrunning >= pgview::config::max_workers)
            say_databases_wait(nwanted);
        (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, pgview::config::naptime_ms,
                         PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
}
