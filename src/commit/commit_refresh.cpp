// pgview_auto — what happens at commit.
//
// XACT_EVENT_PRE_COMMIT comes after every deferred trigger has fired (so their
// writes are captured too) and while the transaction can still run queries and
// fail; it is the last point at which user code may run. There:
//   - matviews in mode 'commit' are refreshed in the writer's transaction (if a
//     refresh fails with on_error 'error', the commit fails with it);
//   - matviews in mode 'async' or 'manual' (dirty themselves, or watching one
//     refreshed here) take a ticket in shared memory, as the very last step.
// XACT_EVENT_COMMIT comes once the commit is visible: the tickets become dirty
// bits and the worker is woken (nothing there can fail). A transaction that
// aborts after taking tickets marks them dirty all the same: one needless
// refresh, never a waiter left waiting.
// At PREPARE TRANSACTION everything is refreshed at PRE_PREPARE (never
// CONCURRENTLY): COMMIT PREPARED runs in no callback of ours.
// Without shared_preload_libraries there is no worker: async and manual
// matviews are refreshed at commit too, with a WARNING.
#include "commit/commit_refresh.hpp"

#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pg/guard.hpp"
#include "changes/change_set.hpp"
#include "changes/dirty_set.hpp"
#include "commit/immediate.hpp"
#include "shmem/activity.hpp"
#include "shmem/history_ring.hpp"
#include "shmem/maintenance.hpp"
#include "engine/refresh.hpp"
#include "registry/watch_cache.hpp"
#include "shmem/databases.hpp"
#include "shmem/pending.hpp"
#include "shmem/state.hpp"
#include "shmem/waiters.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

namespace pgview::commit {

namespace {

// Refreshing can dirty more (a view's function writing a watched table, say);
// a few rounds settle it, a loop is an error.
constexpr int max_rounds = 8;

// Tickets taken at PRE_COMMIT, marked at COMMIT (TopTransactionContext).
shmem::Mark *deferred_tickets = nullptr;
int ndeferred = 0;

// Claims made by pgview_refresh_pending in this transaction. A claim cleared
// the matview's dirty bit; it follows the (sub)transaction that made it, whose
// refresh may still roll back: done at commit, dirty again if that
// (sub)transaction aborts, and dirty again at PREPARE TRANSACTION (COMMIT
// PREPARED runs in no callback of ours: one needless refresh then, never a lost one).
struct Claim {
    Oid matview;
    shmem::Coverage covered;
    int nest_level; // GetCurrentTransactionNestLevel() of the subtransaction holding it
};
Claim *claims = nullptr;
int nclaims = 0;

// Tickets for the worker; matviews shared memory cannot track (no slot left for
// this database) are returned, to be refreshed in the transaction instead.
std::vector<Oid> take_tickets(const std::vector<Oid> &matviews) {
    std::vector<Oid> untracked;
    pg_call([&] {
        MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
        auto *t = static_cast<shmem::Mark *>(palloc(sizeof(shmem::Mark) * (ndeferred + matviews.size() + 1)));
        for (int i = 0; i < ndeferred; i++)
            t[i] = deferred_tickets[i];
        for (Oid matview : matviews) {
            const registry::MatviewOptions *options = registry::options_of(matview);
            shmem::Ticket ticket = shmem::announce(matview);
            if (!ticket.tracked) {
                untracked.push_back(matview);
                continue;
            }
            // The keys this transaction changed go to shared memory at COMMIT.
            // (The worker recomputes keys: deltas are applied in the writer's transaction only.)
            changes::ViewChanges c;
            bool known = changes::change_take(matview, &c);
            t[ndeferred++] = {ticket, options != nullptr && options->mode == 'a', known && !c.full,
                              known ? changes::change_all_keys(c) : NIL};
        }
        deferred_tickets = t;
        MemoryContextSwitchTo(old);
    });
    return untracked;
}

// The matviews watching a table (copied: the cache may be reloaded by the
// caller's next call), but those in mode 'immediate': the statements that wrote
// the table refreshed them (commit/immediate.hpp).
std::vector<Oid> watchers_of_table(Oid table) {
    std::vector<Oid> out;
    pg_call([&out, table] {
        int n;
        const Oid *matviews = registry::watchers_of(table, &n);
        out.reserve(n); // (may throw bad_alloc: caught by pg_call before any longjmp can happen)
        for (int i = 0; i < n; i++) {
            const registry::MatviewOptions *o = registry::options_of(matviews[i]);
            if (o == nullptr || o->mode != 'i')
                out.push_back(matviews[i]);
        }
    });
    return out;
}

// The keys this transaction changed, for a keyed refresh at commit.
bool transaction_changes(Oid view, changes::ViewChanges *out) { return changes::change_take(view, out); }

void refresh_dirty(engine::Origin origin) {
    // Without the worker (or at PREPARE) everything is refreshed here.
    bool defer = origin == engine::Origin::commit && shmem::shared_state_ready();
    std::vector<Oid> later;
    std::unordered_set<Oid> deferred;
    // Each round maps every table written so far to its watching matviews again:
    // a refresh may have waited for a lock while the registry changed (a watched
    // matview dropped and created again has a new OID), or written tables that
    // other views watch (a table view is a source too). A matview is refreshed
    // in a round when a table it watches was written after its last refresh
    // here: written[t] is the round whose start took t's dirt, refreshed[m] the
    // round that refreshed m.
    std::unordered_map<Oid, int> written, refreshed;
    pg_call([] { AcceptInvalidationMessages(); }); // the registry as committed now
    // Views in mode 'immediate' over tables written where no statement trigger
    // of ours fired (a replication apply): now.
    refresh_immediate();
    for (int round = 0;; round++) {
        pg_call([&written, round] {
            List *dirty = changes::dirty_take();
            ListCell *lc;
            foreach (lc, dirty)
                written[lfirst_oid(lc)] = round;
        });
        std::vector<Oid> roots;
        std::unordered_set<Oid> seen;
        for (const auto &[table, when] : written)
            for (Oid matview : watchers_of_table(table)) {
                auto r = refreshed.find(matview);
                if ((r == refreshed.end() || r->second < when) && deferred.count(matview) == 0 &&
                    seen.insert(matview).second)
                    roots.push_back(matview);
            }
        if (roots.empty())
            break;
        if (round == max_rounds)
            throw Error("54000", "materialized view refreshes at commit keep dirtying each other",
                        "Refreshing made watched tables change again " + std::to_string(max_rounds) + " times.",
                        "Check the functions the materialized views call for writes to watched tables.");
        if (!defer && origin == engine::Origin::commit)
            pg_call([&roots] {
                for (Oid matview : roots) {
                    const registry::MatviewOptions *options = registry::options_of(matview);
                    if (options != nullptr && registry::background_mode(options->mode))
                        ereport(WARNING,
                                (errmsg("refreshing %s materialized view \"%s\" at commit",
                                        registry::mode_name(options->mode), get_rel_name(matview)),
                                 errdetail("pgview_auto is not in shared_preload_libraries: there is no background "
                                           "worker."),
                                 errhint("Add pgview_auto to shared_preload_libraries and restart the server.")));
                }
            });
        for (Oid matview : roots)
            refreshed[matview] = round;
        std::vector<Oid> round_later;
        refresh_matviews(roots, true, engine::use_watch_option, origin, defer ? &round_later : nullptr, transaction_changes);
        for (Oid matview : round_later)
            if (deferred.insert(matview).second)
                later.push_back(matview);
    }
    if (later.empty())
        return;
    // Last: nothing after this in PRE_COMMIT can fail on our side, except the
    // fallback for a database shared memory has no room for.
    std::vector<Oid> untracked = take_tickets(later);
    if (!untracked.empty())
        refresh_matviews(untracked, false, engine::use_watch_option, origin, nullptr, transaction_changes);
}

void settle_claims(bool committed) {
    for (int i = 0; i < nclaims; i++) {
        if (committed)
            shmem::done(claims[i].matview, claims[i].covered);
        else
            shmem::unclaim(claims[i].matview, 0);
    }
}

// A subtransaction ends: its claims go to its parent, or (rolled back, with
// the refresh they covered) become dirty again.
void on_subxact_event(SubXactEvent event, SubTransactionId, SubTransactionId, void *) {
    if (event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB)
        return;
    int level = GetCurrentTransactionNestLevel();
    changes::change_subxact_end(event == SUBXACT_EVENT_COMMIT_SUB, level);
    int kept = 0;
    for (int i = 0; i < nclaims; i++) {
        Claim c = claims[i];
        if (c.nest_level >= level) {
            if (event == SUBXACT_EVENT_ABORT_SUB) {
                shmem::unclaim(c.matview, 0, false);
                continue;
            }
            c.nest_level = level - 1;
        }
        claims[kept++] = c;
    }
    nclaims = kept;
}

void mark_tickets() {
    if (shmem::shared_state_ready())
        shmem::commit_marks(deferred_tickets, ndeferred);
    if (changes::worker_requested() && shmem::shared_state_ready())
        shmem::request_worker(MyDatabaseId);
}

void forget() {
    shmem::maintenance_at_end(false); // (after COMMIT's own call: nothing left)
    shmem::history_at_end(false);     // (failures go to the buffer even so)
    shmem::activity_end();            // a refresh that failed is not running any more
    changes::dirty_forget();
    changes::change_forget();
    deferred_tickets = nullptr;
    ndeferred = 0;
    claims = nullptr;
    nclaims = 0;
}

void on_xact_event(XactEvent event, void *) {
    switch (event) {
    case XACT_EVENT_PRE_COMMIT:
        if (changes::dirty_any())
            entry_guard([] { refresh_dirty(engine::Origin::commit); });
        break;
    case XACT_EVENT_PRE_PREPARE:
        if (changes::dirty_any())
            entry_guard([] { refresh_dirty(engine::Origin::prepare); });
        break;
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_ABORT:
        mark_tickets(); // on abort too: see the header comment
        settle_claims(event == XACT_EVENT_COMMIT);
        shmem::maintenance_at_end(event == XACT_EVENT_COMMIT);
        shmem::history_at_end(event == XACT_EVENT_COMMIT);
        forget();
        break;
    case XACT_EVENT_PREPARE:
        for (int i = 0; i < nclaims; i++)
            shmem::unclaim(claims[i].matview, 0, false);
        forget();
        break;
    case XACT_EVENT_PARALLEL_COMMIT:
    case XACT_EVENT_PARALLEL_ABORT:
        forget();
        break;
    default:
        break;
    }
}

} // namespace

void commit_refresh_init(void) {
    RegisterXactCallback(on_xact_event, nullptr);
    RegisterSubXactCallback(on_subxact_event, nullptr);
}

void confirm_at_commit(Oid matview, const shmem::Coverage &covered) {
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    claims = static_cast<Claim *>(claims ? repalloc(claims, sizeof(Claim) * (nclaims + 1)) : palloc(sizeof(Claim)));
    claims[nclaims++] = {matview, covered, GetCurrentTransactionNestLevel()};
    MemoryContextSwitchTo(old);
}

} // namespace pgview::commit
