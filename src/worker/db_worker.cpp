// pgview_auto — the per-database worker.
//
// Each pass: read the async watches and schedules (one short transaction;
// kept from the last pass unless the registry changed),
// decide which matviews are due (debounce, max_delay, schedule, retry backoff),
// then refresh each due matview, and every matview watching it, in refresh
// order, each in a transaction of its own: a failure is logged, recorded in
// pgview_status, retried later with backoff, and blocks nothing else. Between
// passes it sleeps on its latch until a writer wakes it or the next deadline.
// It exits when its database has no async watch and no schedule left (writers
// and pgview_watch/pgview_schedule ask the launcher for a new one), or when
// pgview_auto is not installed there.
#include <vector>

#include "pg/guard.hpp"
#include "pg/relcache_callbacks.hpp"
#include "engine/refresh.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"
#include "worker/history_writer.hpp"
#include "worker/restart_rule.hpp"
#include "config/settings.hpp"
#include "shmem/databases.hpp"
#include "shmem/history_ring.hpp"
#include "shmem/pending.hpp"
#include "shmem/state.hpp"
#include "shmem/waiters.hpp"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "commands/extension.h"
#include "common/int.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

PGDLLEXPORT void pgview_worker_main(Datum);
}

namespace pgview::worker {

namespace {

Oid my_database = InvalidOid;
bool still_wanted = true;
MemoryContext pass_context = nullptr;

// What one pass works from, read from the registry.
struct Plan {
    registry::OptionsRow *options; // every watched matview
    int noptions;
    registry::ScheduleRow *schedules;
    int nschedules;
};

// Workers take turns: one that has served its database for a slice leaves when
// another database waits for a worker (pgview_auto.max_workers are busy).
TimestampTz serving_since = 0;
TimestampTz next_due = 0; // when this database next needs a worker, had this one left idle

// The matview claimed by the refresh under way: a worker stopped meanwhile
// (SIGTERM: DROP DATABASE, a DBA) gives the claim back, so no change is lost.
Oid claimed = InvalidOid;

void on_exit(int, Datum) {
    if (OidIsValid(claimed))
        shmem::unclaim(claimed, 0, false);
    shmem::worker_detach(my_database, still_wanted, next_due);
    // History entries that came after the last pass: the next worker writes them.
    if (shmem::history_waiting(my_database) > 0)
        shmem::history_wants_flush(my_database, false);
}

// The registry as last read, kept across passes: reading it took a fifth of
// a busy worker's time (a pass per batch of keys). Any change to its tables
// sends a relcache invalidation (their registry_changed triggers), which the
// next pass's transaction start delivers here; it is also read again at least
// once per pgview_auto.naptime, whatever happened.
MemoryContext plan_context = nullptr;
Plan kept_plan{};
uint64 registry_generation = 1; // bumped by the invalidations
uint64 kept_generation = 0;     // the generation kept_plan was read at (0: none)
TimestampTz kept_at = 0;
Oid registry_tables[3] = {InvalidOid, InvalidOid, InvalidOid};

void registry_invalidated(Oid relid) {
    bool ours = relid == InvalidOid;
    for (Oid t : registry_tables)
        ours = ours || t == relid || !OidIsValid(t);
    if (ours)
        registry_generation++;
}

void read_plan(Plan *plan) {
    TimestampTz now = GetCurrentTimestamp();
    if (kept_generation == registry_generation && now - kept_at < static_cast<int64>(config::naptime_ms) * 1000) {
        *plan = kept_plan;
        return;
    }
    uint64 reading = registry_generation;
    registry_tables[0] = registry::registry_relid("watch");
    registry_tables[1] = registry::registry_relid("watched");
    registry_tables[2] = registry::registry_relid("schedule");
    MemoryContextReset(plan_context);
    kept_generation = 0;
    registry::WatchRow *rows;
    int nrows;
    registry::with_registry([&] {
        registry::registry_load(&rows, &nrows, &plan->options, &plan->noptions, plan_context);
        plan->nschedules = registry::registry_load_schedules(&plan->schedules, plan_context);
    });
    // Kept only if no change arrived while it was read (the reads take locks,
    // which deliver invalidations).
    if (reading == registry_generation) {
        kept_plan = *plan;
        kept_generation = reading;
        kept_at = now;
    }
}

bool background_mode(const registry::MatviewOptions &o) { return o.mode == 'a' || o.mode == 'm'; }


// After the shared table overflowed: every async, manual and scheduled matview
// of the database is dirty. (After a restart: see restart_rule.hpp.) True when
// some found no room again: the database stays all dirty, and this pass
// refreshes those that are due (choose() sees them dirty).
bool mark_all_dirty(const Plan &plan, TimestampTz since) {
    bool no_room = false;
    for (int i = 0; i < plan.noptions; i++)
        if (background_mode(plan.options[i].options))
            no_room = !shmem::mark_dirty_since(plan.options[i].matview, since) || no_room;
    for (int i = 0; i < plan.nschedules; i++)
        no_room = !shmem::mark_dirty_since(plan.schedules[i].matview, since) || no_room;
    return no_room;
}

TimestampTz earlier(TimestampTz a, TimestampTz b) { return a == 0 ? b : (b == 0 ? a : Min(a, b)); }

// t + us, saturated at +infinity: intervals read from the registry are capped
// (max_interval_us), but one bad row must never stop the worker.
TimestampTz after(TimestampTz t, int64 us) {
    TimestampTz sum;
    return pg_add_s64_overflow(t, us, &sum) || !IS_VALID_TIMESTAMP(sum) ? DT_NOEND : sum;
}

// Due matviews into `due`; returns when the next one will be due (0: none).
TimestampTz choose(const Plan &plan, TimestampTz now, std::vector<Oid> &due) {
    TimestampTz next = 0;
    for (int i = 0; i < plan.noptions; i++) {
        const registry::MatviewOptions &o = plan.options[i].options;
        Oid matview = plan.options[i].matview;
        if (o.mode != 'a') {
            shmem::set_next_refresh(matview, 0); // none planned, unless its schedule (below) plans one
            continue;
        }
        shmem::PendingInfo p;
        if (!shmem::pending_info(matview, &p) || !p.dirty) {
            shmem::set_next_refresh(matview, 0);
            continue;
        }
        // Quiet for debounce, but never later than max_delay after the first
        // change; max_delay NULL means debounce (so continuous writes still get
        // about one refresh per debounce period, not none).
        TimestampTz when = after(p.last_change, o.debounce_us);
        int64 max_delay = o.max_delay_us >= 0 ? o.max_delay_us : o.debounce_us;
        when = Min(when, after(p.pending_since, max_delay));
        when = Max(when, p.retry_at);
        shmem::set_next_refresh(matview, when);
        if (when <= now)
            due.push_back(matview);
        else
            next = earlier(next, when);
    }
    for (int i = 0; i < plan.nschedules; i++) {
        const registry::ScheduleRow &s = plan.schedules[i];
        // The next run is kept in shared memory (workers come and go); the
        // first is one period after a worker first sees the schedule (after a
        // restart the crash rule has marked it dirty). Rescheduled to a shorter
        // period, it comes within that period, not at the old one's end.
        TimestampTz next_run = shmem::schedule_clock(s.matview);
        if (next_run == 0)
            next_run = after(now, s.every_us);
        next_run = Min(next_run, after(now, s.every_us));
        if (next_run <= now) {
            shmem::PendingInfo p;
            bool dirty = shmem::pending_info(s.matview, &p) && p.dirty;
            if ((!s.only_if_dirty || dirty) && (!dirty || p.retry_at <= now))
                due.push_back(s.matview);
            next_run = after(now, s.every_us);
        }
        shmem::set_schedule_clock(s.matview, next_run);
        shmem::set_next_refresh(s.matview, next_run);
        next = earlier(next, next_run);
    }
    return next;
}

// The keys claimed for the matview being refreshed (in pass_context).
Oid claimed_view = InvalidOid;
bool claimed_keyed = false;
List *claimed_keys = NIL;

bool claimed_provider(Oid view, changes::ViewChanges *out) {
    if (view != claimed_view)
        return false;
    *out = changes::ViewChanges{};
    out->full = !claimed_keyed;
    out->full_reason = "some pending change brought no keys, or they did not fit in shared memory";
    out->keys = claimed_keys;
    return true;
}

bool refresh_in_transaction(Oid matview) {
    // pure C++ inside; entry_guard turns its exceptions into an ERROR
    return entry_guard([matview] {
               return engine::refresh_matviews({matview}, false, engine::use_watch_option,
                                                engine::Origin::worker, nullptr, claimed_provider);
           }) > 0;
}

void record_failure(Oid matview, const char *message) {
    PG_TRY();
    {
        StartTransactionCommand();
        registry::lock_registry_gate(AccessShareLock);
        registry::with_registry([&] {
            registry::stats_failure(matview, message);
        });
        CommitTransactionCommand();
    }
    PG_CATCH();
    {
        EmitErrorReport();
        FlushErrorState();
        AbortCurrentTransaction();
    }
    PG_END_TRY();
}

// One matview in its own transaction. The dirty bit is cleared before the
// refresh takes its snapshot; a failure sets it again with a retry time.
void refresh_one(Oid matview) {
    claimed_keys = NIL;
    shmem::Coverage covered = shmem::claim(matview, &claimed_keyed, &claimed_keys);
    claimed_view = matview;
    claimed = matview;
    char *volatile message = nullptr;
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    pgstat_report_activity(STATE_RUNNING, "pgview_auto: refreshing a materialized view");
    PG_TRY();
    {
        registry::lock_registry_gate(AccessShareLock);
        (void) refresh_in_transaction(matview);
        CommitTransactionCommand();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(pass_context);
        ErrorData *edata = CopyErrorData();
        FlushErrorState();
        AbortCurrentTransaction();
        message = edata->message;
        ereport(LOG, (errmsg("pgview_auto: background refresh of materialized view %u failed: %s", matview,
                             edata->message),
                      edata->context ? errcontext("%s", edata->context) : 0));
    }
    PG_END_TRY();
    pgstat_report_activity(STATE_IDLE, nullptr);
    claimed = InvalidOid; // settled below, either way
    if (message == nullptr) {
        shmem::done(matview, covered);
        return;
    }
    shmem::PendingInfo p{};
    (void) shmem::pending_info(matview, &p);
    int backoff = Min(p.failures_in_row, 6); // 1x, 2x, ... 64x retry_delay
    shmem::unclaim(matview, GetCurrentTimestamp() + static_cast<int64>(config::retry_delay_ms) * 1000 * (1 << backoff));
    record_failure(matview, message);
}

// One pass; false when the database has nothing for a worker. C++ (it holds
// vectors): every PostgreSQL call goes through pg_call.
bool run_pass(long *sleep_ms) {
    Plan plan{};
    std::vector<Oid> due, order;
    TimestampTz now = GetCurrentTimestamp(), next = 0;
    bool overflowed = false;

    bool installed = pg_call([] {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        registry::lock_registry_gate(AccessShareLock);
        return OidIsValid(get_extension_oid("pgview_auto", true)) && registry::registry_installed();
    });
    if (installed) {
        overflowed = pg_call([&plan] {
            read_plan(&plan);
            TimestampTz since;
            settle_database();
            return shmem::take_all_dirty(&since) && mark_all_dirty(plan, since);
        });
        next = pg_call([&] { return choose(plan, now, due); });
        pg_call([&plan] {
            // Entries of matviews no longer watched in a background mode nor scheduled.
            Oid *keep = static_cast<Oid *>(palloc(sizeof(Oid) * (plan.noptions + plan.nschedules + 1)));
            int n = 0;
            for (int i = 0; i < plan.noptions; i++)
                if (background_mode(plan.options[i].options))
                    keep[n++] = plan.options[i].matview;
            for (int i = 0; i < plan.nschedules; i++)
                keep[n++] = plan.schedules[i].matview;
            shmem::forget_entries_except(keep, n);
        });
        if (!due.empty())
            order = engine::cascade_order(due);
    }
    pg_call([] { CommitTransactionCommand(); });
    if (!installed) {
        pg_call([] { discard_history(my_database); });
        return false;
    }
    // The refresh history: what the buffer holds, then after each refresh
    // (a long pass must not let it fill up).
    int history = pg_call([] {
        prune_history_when_due();
        return write_history(my_database);
    });

    for (Oid matview : order)
        pg_call([matview, &history] {
            CHECK_FOR_INTERRUPTS();
            refresh_one(matview);
            history += write_history(my_database);
        });

    // Writers in commit mode keep a worker busy with their history alone.
    bool has_work = plan.nschedules > 0 || history > 0;
    for (int i = 0; i < plan.noptions && !has_work; i++)
        has_work = plan.options[i].options.mode == 'a';
    long ms = config::naptime_ms;
    if (next != 0) {
        long until = (next - GetCurrentTimestamp()) / 1000;
        ms = Max(0L, Min(ms, until + 1));
    }
    // After refreshing, look again at once; but not when shared memory had no
    // room for some matview: the database stays all dirty, and each pass would
    // refresh those again at once.
    *sleep_ms = order.empty() || overflowed ? ms : 0;
    next_due = next;
    return has_work;
}

// After a pass: leave for another database that waits for a worker, once this
// one has had a slice (pgview_auto.naptime). Busy (it just refreshed), the
// database queues again at once; idle, it is needed again at next_due (a
// writer asks sooner if a view turns dirty).
bool take_turns(bool busy) {
    TimestampTz now = GetCurrentTimestamp();
    if (serving_since == 0)
        serving_since = now;
    if (now - serving_since < static_cast<int64>(config::naptime_ms) * 1000 || !shmem::others_waiting(my_database))
        return false;
    still_wanted = busy;
    if (busy)
        next_due = 0;
    return true;
}

} // namespace

} // namespace pgview::worker

void pgview_worker_main(Datum arg) {
    using namespace pgview::worker;
    my_database = DatumGetObjectId(arg);
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    // A command that needs the database to itself is running: leave it alone
    // (the launcher starts a worker again after it).
    if (pgview::shmem::database_paused(my_database))
        proc_exit(0);
    BackgroundWorkerInitializeConnectionByOid(my_database, InvalidOid, 0);
    pgstat_report_appname("pgview_auto worker");
    // The worker's refreshes need not wait for the disk: a refresh lost in a
    // crash is redone, since every server start refreshes each background view
    // in full once (the restart rule; its pending keys are gone with shared
    // memory anyway). The writers' own commits stay as durable as they ask.
    // Waiting for the WAL flush per refresh took a second fsync per batch of
    // keys away from the writers on the same disk.
    SetConfigOption("synchronous_commit", "off", PGC_SUSET, PGC_S_OVERRIDE);
    if (!pgview::shmem::worker_attach(my_database))
        proc_exit(0);
    before_shmem_exit(on_exit, (Datum) 0);
    pass_context = AllocSetContextCreate(TopMemoryContext, "pgview_auto worker pass", ALLOCSET_DEFAULT_SIZES);
    plan_context = AllocSetContextCreate(TopMemoryContext, "pgview_auto worker plan", ALLOCSET_DEFAULT_SIZES);
    pgview::on_relcache_invalidation(registry_invalidated);

    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        volatile long sleep_ms = pgview::config::naptime_ms;
        if (pgview::config::enabled && !RecoveryInProgress()) {
            volatile bool has_work = true;
            MemoryContextReset(pass_context);
            MemoryContextSwitchTo(pass_context);
            PG_TRY();
            {
                long ms = pgview::config::naptime_ms;
                has_work = pgview::entry_guard([&ms] { return run_pass(&ms); });
                sleep_ms = ms;
            }
            PG_CATCH();
            {
                // Reading the registry failed (not a refresh: those are caught one by one).
                EmitErrorReport();
                FlushErrorState();
                AbortCurrentTransaction();
                sleep_ms = pgview::config::naptime_ms;
            }
            PG_END_TRY();
            MemoryContextSwitchTo(TopMemoryContext);
            if (!has_work) {
                still_wanted = false;
                next_due = 0;
                proc_exit(0);
            }
            if (take_turns(sleep_ms == 0))
                proc_exit(0);
        }
        if (sleep_ms > 0)
            (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, sleep_ms,
                             PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
}
