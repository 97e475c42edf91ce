// pgview_auto — SQL entry points of background refresh: pgview_schedule,
// pgview_unschedule, pgview_refresh_pending, pgview_wait, pgview_reset_stats,
// and pgview_auto.pending_state() behind pgview_status().
#include <algorithm>
#include <string>
#include <vector>

#include "api/args.hpp"
#include "api/shared_room.hpp"
#include "api/schedule_notice.hpp"
#include "changes/dirty_set.hpp"
#include "pg/guard.hpp"
#include "tableview/table_view_registry.hpp"
#include "pg/srf.hpp"
#include "commit/commit_refresh.hpp"
#include "engine/refresh.hpp"
#include "syscat/relation_info.hpp"
#include "pg/quote.hpp"
#include "capture/triggers.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"
#include "registry/watch_cache.hpp"
#include "worker/restart_rule.hpp"
#include "config/settings.hpp"
#include "shmem/databases.hpp"
#include "shmem/pending.hpp"
#include "shmem/state.hpp"
#include "shmem/waiters.hpp"

extern "C" {
#include "access/xact.h"
#include "access/htup_details.h"
#include "access/xlog.h"
#include "funcapi.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/lsyscache.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

using pgview::Error;
using pgview::pg_call;
namespace worker = pgview::worker;
namespace commit = pgview::commit;
namespace engine = pgview::engine;
namespace capture = pgview::capture;
namespace registry = pgview::registry;
namespace shmem = pgview::shmem;
namespace config = pgview::config;
using pgview::api::interval_us;
using pgview::api::require_not_null;

namespace {

Oid owned_matview_arg(FunctionCallInfo fcinfo, const char *function) {
    require_not_null(fcinfo, 0, "matview", function, "Pass a materialized view.");
    Oid matview = PG_GETARG_OID(0);
    pgview::tableview::require_owned_refreshable(matview, function);
    return matview;
}

// The keys claimed by pgview_refresh_pending, per matview (this call's memory).
struct ClaimedKeys {
    Oid matview;
    bool keyed;
    List *keys;
};
ClaimedKeys *claimed = nullptr;
int nclaimed = 0;

bool claimed_keys(Oid matview, pgview::changes::ViewChanges *out) {
    for (int i = 0; i < nclaimed; i++)
        if (claimed[i].matview == matview) {
            *out = pgview::changes::ViewChanges{};
            out->full = !claimed[i].keyed;
            out->full_reason = "some pending change brought no keys, or they did not fit in shared memory";
            out->keys = claimed[i].keys;
            return true;
        }
    return false;
}

// pgview_wait has something to wait for, but background refresh is switched
// off: only a refresh some session runs itself can end the wait. Say so at once
// rather than time out without a word (C-level).
void warn_background_off(Oid matview) {
    ereport(WARNING, (errmsg("pgview_auto.enabled is off: the background worker does not refresh \"%s\"",
                             get_rel_name(matview)),
                      errdetail("pgview_wait returns once a refresh covers the changes; until background refresh "
                                "is on again, only pgview_refresh_pending() refreshes it."),
                      errhint("Set pgview_auto.enabled = on in postgresql.conf and reload, or run "
                              "pgview_refresh_pending(%s).",
                              quote_literal_cstr(
                                  DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(matview)))))));
}

// Changes to some table the watch captures reach the view no more (its capture
// trigger was dropped or disabled): waiting cannot make it fresh. Say so
// (C-level).
void warn_if_uncaptured(Oid matview) {
    if (!registry::registry_installed())
        return;
    registry::WatchRow *rows;
    registry::OptionsRow *options;
    int nrows, noptions;
    MemoryContext caller = CurrentMemoryContext; // (SPI_connect switches to its own)
    registry::with_registry([&] { registry::registry_load(&rows, &nrows, &options, &noptions, caller); });
    for (int i = 0; i < nrows; i++) {
        if (rows[i].matview != matview)
            continue;
        List *gaps = capture::uncaptured_tables(rows[i].source, rows[i].owner);
        if (gaps != NIL)
            ereport(WARNING, (errmsg("changes to %s do not reach \"%s\": the table has no enabled capture trigger",
                                     pgview::quote_relation(linitial_oid(gaps)), get_rel_name(matview)),
                              errdetail("Its owner dropped or disabled the trigger pgview_auto_capture, or the "
                                        "owner of \"%s\" lost TRIGGER on it: the view may be stale.",
                                        get_rel_name(matview)),
                              errhint("pgview_auto.sync_capture_triggers() puts it back where the right is held; "
                                      "pgview_refresh refreshes the view in full.")));
    }
}

} // namespace

PGVIEW_FUNCTION(pgview_schedule) {
    Oid matview = owned_matview_arg(fcinfo, "pgview_schedule");
    require_not_null(fcinfo, 1, "every", "pgview_schedule", "Pass an interval, e.g. '5 minutes'.");
    require_not_null(fcinfo, 2, "only_if_dirty", "pgview_schedule", "Pass true or false.");
    Interval *every = PG_GETARG_INTERVAL_P(1);
    bool only_if_dirty = PG_GETARG_BOOL(2);
    if (interval_us(every, "every", "pgview_schedule") <= 0)
        throw Error(pgview::sqlstate::invalid_parameter_value, "every must be a positive interval", {},
                    "Pass an interval such as '5 minutes'.");
    pg_call([] { config::require_preloaded("pgview_schedule"); });
    pgview::api::reserve_shared_entry(matview, "pgview_schedule");
    pg_call([&] {
        registry::with_registry([&] {
            registry::registry_set_schedule(matview, every, only_if_dirty);
        });
        pgview::changes::request_worker_at_commit();
    });
    pgview::api::notice_if_schedule_idle(matview, false);
    PG_RETURN_VOID();
}

PGVIEW_FUNCTION(pgview_unschedule) {
    Oid matview = owned_matview_arg(fcinfo, "pgview_unschedule");
    const char *noun = pgview::tableview::noun(matview);
    bool removed = pg_call([matview, noun] {
        bool r = registry::with_registry([&] { return registry::registry_remove_schedule(matview); });
        if (!r)
            ereport(NOTICE, (errmsg("%s \"%s\" has no schedule, skipping", noun, get_rel_name(matview))));
        // No refresh is planned any more: pgview_status() shows none at once (a
        // rollback leaves the worker to plan it again at its next pass).
        if (r && shmem::shared_state_ready())
            shmem::set_next_refresh(matview, 0);
        return r;
    });
    PG_RETURN_BOOL(removed);
}

PGVIEW_FUNCTION(pgview_refresh_pending) {
    Oid only = InvalidOid;
    if (!PG_ARGISNULL(0))
        only = owned_matview_arg(fcinfo, "pgview_refresh_pending");
    if (!shmem::shared_state_ready())
        PG_RETURN_INT32(0); // no worker: async and manual matviews are refreshed at commit
    if (pg_call([] { return RecoveryInProgress(); }))
        throw Error("25006", "cannot refresh materialized views during recovery", {},
                    "Refresh them on the primary; the standby receives the result.");

    // The pending matviews this user may refresh; each is claimed (dirty bit
    // cleared) before the refresh takes its snapshot, and settled at commit.
    std::vector<Oid> candidates, roots;
    pg_call([&candidates, only] {
        worker::settle_database();
        // The shared table overflowed (pgview_auto.max_matviews): its "all dirty"
        // becomes dirty bits where there is room; the others are refreshed now.
        TimestampTz since;
        if (shmem::take_all_dirty(&since)) {
            List *no_room = worker::mark_background_views(since, "am");
            ListCell *lc;
            foreach (lc, no_room) {
                Oid matview = lfirst_oid(lc);
                char relkind = get_rel_relkind(matview);
                if ((!OidIsValid(only) || matview == only) &&
                    (relkind == RELKIND_MATVIEW || relkind == RELKIND_RELATION) &&
                    pg_class_ownercheck(matview, GetUserId()))
                    candidates.push_back(matview);
            }
        }
        Oid *matviews;
        shmem::PendingInfo *infos;
        int n = shmem::pending_list(&matviews, &infos);
        for (int i = 0; i < n; i++) {
            if (!infos[i].dirty || (OidIsValid(only) && matviews[i] != only))
                continue;
            char relkind = get_rel_relkind(matviews[i]);
            if (!OidIsValid(only) && ((relkind != RELKIND_MATVIEW && relkind != RELKIND_RELATION) ||
                                      !pg_class_ownercheck(matviews[i], GetUserId())))
                continue; // not ours to refresh, or gone
            if (std::find(candidates.begin(), candidates.end(), matviews[i]) == candidates.end())
                candidates.push_back(matviews[i]);
        }
    });
    // A table that is no longer a table view (its definition was dropped) has
    // nothing to refresh.
    for (Oid matview : candidates)
        if (pgview::tableview::is_refreshable(matview))
            roots.push_back(matview);
    pg_call([&roots] {
        claimed = static_cast<ClaimedKeys *>(palloc0(sizeof(ClaimedKeys) * (roots.size() + 1)));
        nclaimed = 0;
        for (Oid matview : roots) {
            ClaimedKeys *c = &claimed[nclaimed++];
            c->matview = matview;
            pgview::commit::confirm_at_commit(matview, shmem::claim(matview, &c->keyed, &c->keys));
        }
    });
    if (roots.empty())
        PG_RETURN_INT32(0);
    int n = pgview::engine::refresh_matviews(roots, true, pgview::engine::use_watch_option,
                                              pgview::engine::Origin::manual, nullptr, claimed_keys);
    nclaimed = 0;
    PG_RETURN_INT32(n);
}

PGVIEW_FUNCTION(pgview_wait) {
    require_not_null(fcinfo, 0, "matview", "pgview_wait", "Pass a materialized view.");
    require_not_null(fcinfo, 1, "timeout", "pgview_wait", "Pass an interval, e.g. '30 seconds'.");
    Oid matview = PG_GETARG_OID(0);
    int64 timeout_us = interval_us(PG_GETARG_INTERVAL_P(1), "timeout", "pgview_wait");
    pg_call([matview] {
        if (get_rel_relkind(matview) == '\0')
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation with OID %u does not exist", matview)));
    });
    if (!pgview::tableview::is_refreshable(matview))
        throw Error(pgview::sqlstate::wrong_object_type,
                    "\"" + std::string(pg_call([matview] {
                        const char *name = get_rel_name(matview);
                        return name != nullptr ? name : psprintf("%u", matview);
                    })) + "\" is not a materialized view");
    pg_call([matview] { warn_if_uncaptured(matview); });
    bool background = pg_call([matview] {
        const registry::MatviewOptions *o = registry::options_of(matview);
        return o != nullptr && registry::background_mode(o->mode);
    });
    // Commit mode (or no watch, or no worker): committed changes are already in
    // the view, or never will be by us. A standby's views come from its primary.
    if (!background || !shmem::shared_state_ready() || pg_call([] { return RecoveryInProgress(); }))
        PG_RETURN_BOOL(true);
    bool readers_pass = pgview::tableview::concurrent_refresh_ok(matview);
    pg_call([matview, readers_pass] {
        // A plain refresh needs ACCESS EXCLUSIVE: if this transaction holds any
        // lock on the matview (a query that also reads it), the wait could only time out.
        LOCKTAG tag;
        SET_LOCKTAG_RELATION(tag, MyDatabaseId, matview);
        if (LockHeldByMe(&tag, AccessShareLock) && !readers_pass)
            ereport(ERROR, (errcode(ERRCODE_LOCK_NOT_AVAILABLE),
                            errmsg("pgview_wait cannot wait for materialized view \"%s\": this transaction holds a "
                                   "lock on it", get_rel_name(matview)),
                            errdetail("Its refresh needs an ACCESS EXCLUSIVE lock (it has no unique index for "
                                      "REFRESH ... CONCURRENTLY)."),
                            IsTransactionBlock()
                                ? errhint("Commit first (an ORM session holds the lock from its first query of the "
                                          "view until it commits), then call pgview_wait before the transaction "
                                          "reads the view.")
                                : errhint("Call pgview_wait in a statement of its own, before reading the view.")));
    });
    bool served = pg_call([matview, timeout_us] {
        worker::settle_database();
        TimestampTz deadline = GetCurrentTimestamp() + Max(timeout_us, 0);
        // Every commit visible now took its ticket before committing.
        shmem::WaitTarget target;
        shmem::wait_target(matview, &target);
        for (bool first = true;; first = false) {
            CHECK_FOR_INTERRUPTS();
            if (target.overflowed) // wait for the worker to turn "all dirty" into tickets
                shmem::wait_target(matview, &target);
            if (!target.overflowed && shmem::served(matview, target))
                return true;
            if (first && !config::enabled)
                warn_background_off(matview);
            long remaining = (deadline - GetCurrentTimestamp()) / 1000;
            if (remaining <= 0)
                return false;
            shmem::wait_for_refresh(Min(remaining, 1000L));
        }
    });
    PG_RETURN_BOOL(served);
}

PGVIEW_FUNCTION(pgview_reset_stats) {
    Oid matview = PG_ARGISNULL(0) ? InvalidOid : owned_matview_arg(fcinfo, "pgview_reset_stats");
    pg_call([matview] {
        Oid user = GetUserId();
        registry::with_registry([&] {
            registry::stats_reset(matview, user);
        });
    });
    PG_RETURN_VOID();
}

PGVIEW_FUNCTION(pgview_pending_state) {
    pgview::SrfOutput out(fcinfo);
    if (!shmem::shared_state_ready())
        return (Datum) 0;
    Oid *matviews = nullptr;
    shmem::PendingInfo *infos = nullptr;
    int n = pg_call([&] {
        worker::settle_database();
        return shmem::pending_list(&matviews, &infos);
    });
    out.put_rows(static_cast<size_t>(n), [&](size_t i, Datum *values, bool *nulls) {
        values[0] = ObjectIdGetDatum(matviews[i]);
        values[1] = BoolGetDatum(infos[i].dirty);
        values[2] = TimestampTzGetDatum(infos[i].pending_since);
        nulls[2] = !infos[i].dirty || infos[i].pending_since == 0;
        values[3] = TimestampTzGetDatum(infos[i].next_refresh);
        nulls[3] = infos[i].next_refresh == 0;
        values[4] = Int64GetDatum(infos[i].overflows); // (0.7.0; an older script declares 4 columns: not stored)
        values[5] = Int64GetDatum(infos[i].nkeys);     // (0.7.0: pgview_activity's pending keys)
    });
    return (Datum) 0;
}

// pgview_auto.database_pending(), behind pgview_status(): this database's
// background views are all pending when its shared entries overflowed (one
// without an entry of its own is pending all the same: never silently stale);
// its worker, or since when it waits for one (every worker busy elsewhere).
PGVIEW_FUNCTION(pgview_database_pending) {
    shmem::DatabasePending d{};
    if (shmem::shared_state_ready())
        pg_call([&d] {
            worker::settle_database();
            d = shmem::database_pending();
        });
    TupleDesc desc;
    if (pg_call([fcinfo, &desc] { return get_call_result_type(fcinfo, nullptr, &desc); }) != TYPEFUNC_COMPOSITE)
        throw Error(pgview::sqlstate::internal_error, "pgview_auto.database_pending() must return a record");
    Datum values[5] = {BoolGetDatum(d.all_dirty), TimestampTzGetDatum(d.since), Int64GetDatum(d.overflows),
                       Int32GetDatum(d.worker_pid), TimestampTzGetDatum(d.worker_wanted)};
    bool nulls[5] = {false, !d.all_dirty || d.since == 0, false, d.worker_pid == 0, d.worker_wanted == 0};
    return pg_call([desc, &values, &nulls] {
        return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls));
    });
}

// pgview_auto.visible_errors(), behind pgview_status(): the last error of each
// matview the caller may SELECT. The text can quote the view's data (an
// invalid input value, a constraint's key), so nobody else sees it.
PGVIEW_FUNCTION(pgview_visible_errors) {
    pgview::SrfOutput out(fcinfo);
    Oid *matviews = nullptr;
    char **messages = nullptr;
    int n = pg_call([&matviews, &messages] {
        Oid caller = GetUserId();
        int count = registry::with_registry([&] { return registry::stats_errors(&matviews, &messages); });
        int kept = 0;
        for (int i = 0; i < count; i++)
            if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(matviews[i])) &&
                pg_class_aclcheck(matviews[i], caller, ACL_SELECT) == ACLCHECK_OK) {
                matviews[kept] = matviews[i];
                messages[kept++] = messages[i];
            }
        return kept;
    });
    out.put_rows(static_cast<size_t>(n), [&](size_t i, Datum *values, bool *) {
        values[0] = ObjectIdGetDatum(matviews[i]);
        values[1] = CStringGetTextDatum(messages[i]);
    });
    return (Datum) 0;
}
