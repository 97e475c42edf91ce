// pgview_auto — the refresh orchestration (see refresh.hpp).
#include "engine/refresh.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "graph/dependency_graph.hpp"
#include "pg/guard.hpp"
#include "pg/hidden_error.hpp"
#include "pg/owner_scope.hpp"
#include "pg/subtransaction.hpp"
#include "engine/ddl_guard.hpp"
#include "engine/delta.hpp"
#include "engine/history.hpp"
#include "tableview/table_view_registry.hpp"
#include "engine/plan.hpp"
#include "engine/recompute.hpp"
#include "engine/statement_cache.hpp"
#include "shmem/activity.hpp"
#include "shmem/maintenance.hpp"
#include "syscat/relation_info.hpp"
#include "registry/cascade_graph.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"
#include "registry/watch_cache.hpp"
#include "config/settings.hpp"

extern "C" {
#include "access/xact.h"
#include "commands/async.h"
#include "commands/matview.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

namespace pgview::engine {

namespace {

const char *origin_text(Origin origin) {
    switch (origin) {
    case Origin::commit: return "at commit";
    case Origin::prepare: return "at PREPARE TRANSACTION";
    case Origin::manual: return "by pgview_refresh";
    case Origin::worker: return "by the background worker";
    case Origin::statement: return "at the end of the writing statement";
    }
    return "";
}

struct RefreshTarget {
    Oid matview;
    int concurrently = -1;        // -1 when possible, 0, 1 (a materialized view)
    bool warn = false;            // on_error 'warn': keep the writer's transaction
    Origin origin;
    const char *name = nullptr;   // qualified, for messages: name_of()
    bool table_view = false;
    bool needs_full = false;      // a new watch's first refresh (full): clear the mark after it
    bool reader_may_read = true;  // the user whose statement runs the refresh may SELECT the view:
                                  // else its errors, which can quote data, are not shown to them
    Plan plan{Strategy::full_refresh, ""};
    tableview::TableView tv;      // a table view
    const KeyedSpec *keyed = nullptr;                // keyed recompute and delta
    const analysis::DeltaShape *delta = nullptr;     // delta
    changes::ViewChanges changes{};                  // keyed recompute (its keys) and delta
    Applied applied{0, 0};        // out
    TimestampTz started = 0;      // when refresh_target began (locks included)
};

const char *qualified_name(Oid relid);

// The target's qualified name, looked up when first needed (most refreshes
// never say it).
// (In the transaction's memory: it is first needed in an error's context,
// whose memory goes with the error.)
const char *name_of(RefreshTarget *t) {
    if (t->name == nullptr)
        t->name = MemoryContextStrdup(TopTransactionContext, qualified_name(t->matview));
    return t->name;
}

void refresh_error_context(void *arg) {
    auto *t = static_cast<RefreshTarget *>(arg);
    errcontext("refreshing %s %s (pgview_auto, %s)", t->table_view ? "table view" : "materialized view", name_of(t),
               origin_text(t->origin));
}

constexpr const char *hint_unique_index = "Create a unique index with no WHERE clause on plain columns of the "
                                          "materialized view and populate it, or watch it with concurrently => NULL.";

[[noreturn]] void cannot_refresh_concurrently(const RefreshTarget *t, const char *why,
                                              const char *hint = hint_unique_index) {
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("cannot refresh materialized view %s concurrently", name_of(const_cast<RefreshTarget *>(t))),
                    errdetail("%s", why),
                    errhint("%s", hint)));
}

// Runs REFRESH MATERIALIZED VIEW as the matview's owner, under the snapshot
// taken now (after the caller locked the matview), with search_path =
// pg_catalog, pg_temp as PostgreSQL 17 does for REFRESH: the writer's
// search_path must not choose the functions that run with the owner's rights.
void exec_refresh(Oid matview, bool concurrently) {
    run_as_owner(syscat::relation_owner(matview), OwnerScope::plain, [matview, concurrently] {
        RefreshMatViewStmt *stmt = makeNode(RefreshMatViewStmt);
        stmt->concurrent = concurrently;
        stmt->skipData = false;
        stmt->relation = makeRangeVar(get_namespace_name(get_rel_namespace(matview)), get_rel_name(matview), -1);
        PushActiveSnapshot(GetTransactionSnapshot());
        ExecRefreshMatView(stmt, "REFRESH MATERIALIZED VIEW (pgview_auto)", nullptr, nullptr);
        PopActiveSnapshot();
    });
    CommandCounterIncrement();
}

// The figures of a refresh that succeeded: pgview_status's, the NOTIFY.
void record(RefreshTarget *t, TimestampTz start, bool concurrently) {
    TimestampTz end = GetCurrentTimestamp();
    Strategy strategy = t->plan.strategy;
    bool full = strategy == Strategy::full_refresh || strategy == Strategy::full_difference;
    if (full)
        registry::with_registry([&] {
            registry::stats_success(t->matview, end - start, concurrently);
            if (t->needs_full)
                registry::registry_full_done(t->matview);
        });
    shmem::maintenance_note(t->matview, static_cast<char>(strategy), t->applied.keys, t->applied.rows, end - start,
                            t->plan.reason);
    shmem::activity_progress(static_cast<char>(strategy), t->applied.keys, t->applied.rows);
    history_refreshed(t->matview, t->origin, strategy, full ? -1 : t->applied.keys,
                      strategy == Strategy::full_refresh ? -1 : t->applied.rows, start, end);
    ereport(DEBUG1, (errmsg("pgview_auto: %s refreshed by %s (%s): " INT64_FORMAT " keys, " INT64_FORMAT
                            " rows written",
                            name_of(t), strategy_name(strategy), t->plan.reason, t->applied.keys, t->applied.rows)));
    // Opt-in; delivered when the transaction commits. A prepared transaction cannot notify.
    if (config::notify && t->origin != Origin::prepare)
        Async_Notify("pgview_refresh", name_of(t));
}

// REFRESH MATERIALIZED VIEW, CONCURRENTLY when asked or possible.
bool refresh_matview(RefreshTarget *t) {
    bool concurrently = t->concurrently == 1 ||
                        (t->concurrently == -1 && syscat::concurrent_refresh_ok(t->matview));
    if (t->concurrently == 1 && !syscat::concurrent_refresh_ok(t->matview))
        cannot_refresh_concurrently(t, "It is not populated, or has no unique index that "
                                       "REFRESH ... CONCURRENTLY accepts.");
    // CONCURRENTLY runs DDL (a temporary table) that a user's event trigger may
    // refuse: maintenance must not fail on it. Plain while such a trigger
    // exists, unless pgview_refresh was asked for CONCURRENTLY by hand.
    if (concurrently && !(t->origin == Origin::manual && t->concurrently == 1)) {
        if (const char *guard = ddl_guard_in_the_way()) {
            ereport(DEBUG1, (errmsg("pgview_auto: refreshing %s without CONCURRENTLY: event trigger \"%s\" "
                                    "would see its temporary table", name_of(t), guard)));
            concurrently = false;
        }
    }
    if (concurrently && t->origin == Origin::prepare) {
        // CONCURRENTLY needs a temporary table, which a prepared transaction cannot hold.
        if (t->concurrently == 1)
            cannot_refresh_concurrently(t, "A prepared transaction cannot refresh concurrently.",
                                        "Commit without PREPARE TRANSACTION, or watch it with concurrently => NULL "
                                        "(at PREPARE it is then refreshed plainly).");
        concurrently = false;
    }

    LOCKMODE mode = concurrently ? ExclusiveLock : AccessExclusiveLock;
    LockRelationOid(t->matview, mode);
    if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(t->matview)))
        return false;
    if (concurrently && !syscat::concurrent_refresh_ok(t->matview)) {
        // Its index went away while we waited.
        if (t->concurrently == 1)
            cannot_refresh_concurrently(t, "Its unique index was dropped.");
        concurrently = false;
        LockRelationOid(t->matview, AccessExclusiveLock);
    }
    if (IsolationUsesXactSnapshot())
        registry::with_registry([t] { registry::stats_claim(t->matview); });
    TimestampTz start = GetCurrentTimestamp();
    exec_refresh(t->matview, concurrently);
    record(t, start, concurrently);
    return true;
}

List *key_names_of(const tableview::TableView &tv) {
    List *names = NIL;
    for (const std::string &k : tv.unique_key)
        names = lappend(names, pstrdup(k.c_str()));
    return names;
}

// Runs the target's plan; a plan that cannot go on hands over to the next
// (delta to keyed recompute, keyed recompute to full difference), saying why.
// False when the view was dropped meanwhile.
bool run_plan(RefreshTarget *t) {
    if (t->plan.strategy == Strategy::full_refresh)
        return refresh_matview(t);
    if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(t->matview)))
        return false;
    TimestampTz start = GetCurrentTimestamp();
    if (t->plan.strategy == Strategy::delta) {
        if (apply_deltas(t->keyed, t->delta, t->changes, &t->applied)) {
            record(t, start, true);
            return true;
        }
        t->plan = {Strategy::keyed_recompute, "the deltas were captured for an earlier definition of the view"};
    }
    if (t->plan.strategy == Strategy::keyed_recompute) {
        // A transaction's own keys stop at pgview_auto.max_keys when collected. Keys
        // claimed from shared memory (the worker, pgview_refresh_pending) are bounded
        // by pgview_auto.max_pending_keys already: capping them at max_keys made every
        // refresh that fell behind full, and a full refresh (1.1 s on W2 large, where
        // 10,000 keys take 0.2 s) let more keys pile up than the next could take.
        // Such keys belong to a view in a background mode: no writer refreshes it
        // at commit, so nothing is let through by locking its keys one bucket at
        // a time; the table's lock costs one registry row instead of one per bucket
        // (a tenth of a busy worker's time).
        bool background = t->origin == Origin::worker || t->origin == Origin::manual;
        int max_keys = config::max_keys;
        if (background)
            max_keys = std::max(max_keys, config::max_pending_keys);
        if (recompute_keys(t->keyed, changes::change_all_keys(t->changes), max_keys, background, &t->applied)) {
            record(t, start, true);
            return true;
        }
        t->plan = {Strategy::full_difference, "more keys than pgview_auto.max_keys (with the keys found through "
                                              "joins)"};
    }
    // Full difference: an EXCLUSIVE lock (readers pass), then the snapshot.
    LockRelationOid(t->matview, ExclusiveLock);
    if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(t->matview)))
        return false;
    if (IsolationUsesXactSnapshot())
        registry::with_registry([t] { registry::stats_claim(t->matview); });
    start = GetCurrentTimestamp();
    apply_difference(t->tv.table, t->tv.definition, key_names_of(t->tv), &t->applied);
    record(t, start, true);
    return true;
}

// Errors a query meets when a name it relied on the search_path for is not found.
bool name_resolution_error(int sqlerrcode) {
    return sqlerrcode == ERRCODE_UNDEFINED_FUNCTION || sqlerrcode == ERRCODE_UNDEFINED_TABLE ||
           sqlerrcode == ERRCODE_UNDEFINED_OBJECT;
}

// The error a refresh raised, as the user whose statement ran it may see it.
// A name-resolution error gets a hint. A user who may not SELECT the view
// (a writer of a table under someone else's view) gets neither the message
// nor its details, which can quote data; the server log keeps them.
// Our own refresh statements say nothing to a user but their length: the
// context keeps the lines about the user's code (a trigger, a function).
char *without_our_statements(const char *context) {
    StringInfoData out;
    initStringInfo(&out);
    const char *line = context;
    while (line != nullptr && *line != '\0') {
        const char *end = strchr(line, '\n');
        size_t len = end != nullptr ? static_cast<size_t>(end - line) : strlen(line);
        bool ours = false;
        for (const char *prefix : {"SQL statement \"WITH n AS MATERIALIZED", "SQL statement \"WITH pgview_keys AS"})
            ours = ours || strncmp(line, prefix, strlen(prefix)) == 0;
        if (!ours)
            appendStringInfo(&out, "%s%.*s", out.len > 0 ? "\n" : "", static_cast<int>(len), line);
        line = end != nullptr ? end + 1 : nullptr;
    }
    return out.len > 0 ? out.data : nullptr;
}

void explain_failure(const RefreshTarget *t, ErrorData *edata, bool hide) {
    if (edata->context != nullptr)
        edata->context = without_our_statements(edata->context);
    if (name_resolution_error(edata->sqlerrcode))
        edata->hint = pstrdup("pgview_auto refreshes with search_path = pg_catalog, pg_temp: the view's query, "
                              "and the functions it calls, must schema-qualify the names they use (or those "
                              "functions must SET search_path).");
    if (!hide)
        return;
    const char *noun = t->table_view ? "table view" : "materialized view";
    const char *name = name_of(const_cast<RefreshTarget *>(t));
    hide_error(edata, psprintf("%s %s could not be refreshed", noun, name),
               "The error is shown only to roles that may read the view; the server log has it.",
               psprintf("Its owner sees the error by running pgview_refresh('%s').", name),
               psprintf("refreshing %s %s (pgview_auto, %s)", noun, name, origin_text(t->origin)));
}

// run_plan, its error explained (C-level; the error is raised again).
bool refresh_one_explained(RefreshTarget *t, bool hide) {
    MemoryContext context = CurrentMemoryContext;
    volatile bool refreshed = false;
    PG_TRY();
    {
        refreshed = run_plan(t);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        ErrorData *edata = CopyErrorData();
        FlushErrorState();
        history_failed(t->matview, t->origin, t->plan.strategy, t->started, edata->message, true);
        explain_failure(t, edata, hide);
        ReThrowError(edata);
    }
    PG_END_TRY();
    return refreshed;
}

// on_error 'warn': the refresh runs in a subtransaction; a failure is recorded,
// reported as a WARNING, and the writer's transaction goes on.
bool refresh_one_or_warn(RefreshTarget *t) {
    struct Call {
        RefreshTarget *t;
        bool refreshed;
    } call{t, false};
    ErrorData *failure = run_in_subtransaction(
        [](void *arg) {
            auto *c = static_cast<Call *>(arg);
            c->refreshed = refresh_one_explained(c->t, false); // recorded whole; the WARNING is below
        },
        &call);
    bool refreshed = call.refreshed;

    if (failure != nullptr) {
        registry::with_registry([&] {
            registry::stats_failure(t->matview, failure->message); // pgview_status() shows it to readers of the view only
        });
        history_failed(t->matview, t->origin, t->plan.strategy, t->started, failure->message, false);
        const char *noun = t->table_view ? "table view" : "materialized view";
        if (t->reader_may_read)
            ereport(WARNING, (errcode(failure->sqlerrcode),
                              errmsg("%s %s was not refreshed: %s", noun, name_of(t), failure->message),
                              errdetail("The transaction's changes are kept; the view is stale until its next "
                                        "refresh (on_error => 'warn')."),
                              errhint("See pgview_status() for the error, or run pgview_refresh('%s').", name_of(t))));
        else
            ereport(WARNING, (errcode(failure->sqlerrcode), errmsg("%s %s was not refreshed", noun, name_of(t)),
                              errdetail("The transaction's changes are kept; the view is stale until its next "
                                        "refresh (on_error => 'warn'). The error is shown only to roles that may "
                                        "read the view."),
                              errhint("Its owner sees the error in pgview_status().")));
    }
    return refreshed;
}

bool refresh_target(RefreshTarget *t) {
    ErrorContextCallback callback;
    callback.callback = refresh_error_context;
    callback.arg = t;
    callback.previous = error_context_stack;
    error_context_stack = &callback;
    t->started = GetCurrentTimestamp();
    bool refreshed = t->warn ? refresh_one_or_warn(t) : refresh_one_explained(t, !t->reader_may_read);
    error_context_stack = callback.previous;
    return refreshed;
}

// Why a table view is not refreshed by key (nullptr when it is).
const char *not_keyed(const RefreshTarget *t, const analysis::KeyedView *kv) {
    if (kv != nullptr)
        return nullptr;
    if (t->tv.unique_key.empty())
        return "the table view has no unique key: its rows are compared whole";
    int incremental = pg_call([t] {
        const registry::MatviewOptions *o = registry::options_of(t->matview);
        return o != nullptr ? o->incremental : -1;
    });
    if (incremental == 0)
        return "the watch says incremental => false";
    return "its query cannot be refreshed by key (pgview_explain says why)";
}

// The target's plan, from what the chooser is told of it.
void choose_plan(RefreshTarget *t, bool have_changes) {
    Situation s{};
    s.table_view = t->table_view;
    const analysis::KeyedView *kv = nullptr;
    if (t->table_view) {
        kv = analysis::keyed_view(t->matview);
        pg_call([t] {
            const registry::MatviewOptions *options = registry::options_of(t->matview);
            t->needs_full = options != nullptr && options->needs_full;
        });
        s.not_keyed = not_keyed(t, kv);
        s.first_fill = !t->tv.populated ? "it was created without data: its first refresh fills it"
                       : t->needs_full  ? "a new watch: its first refresh is full"
                                        : nullptr;
        const changes::ViewChanges &c = t->changes;
        s.changes_known = have_changes;
        s.full_reason = c.full ? (c.full_reason != nullptr ? c.full_reason : "a change that cannot be keyed")
                               : nullptr;
        s.keys = c.keys != NIL;
        s.deltas = c.groups != NIL;
        s.no_delta = c.no_delta;
        t->delta = kv != nullptr && kv->delta != nullptr && kv->delta->shapes != NIL
                       ? pg_call([kv] {
                             return copy_delta_shape(static_cast<const analysis::DeltaShape *>(linitial(kv->delta->shapes)));
                         })
                       : nullptr;
        if (s.deltas && t->delta == nullptr && s.no_delta == nullptr)
            s.no_delta = "the view's definition changed during the transaction";
        s.removed_extremes = c.removals && t->delta != nullptr && t->delta->extremes;
        s.one_row = kv != nullptr && kv->nkeys == 0;
    }
    t->plan = choose(s);
    bool by_key = t->plan.strategy == Strategy::keyed_recompute || t->plan.strategy == Strategy::delta;
    t->keyed = by_key ? pg_call([kv] { return cached_keyed_spec(kv); }) : nullptr;
}

const char *qualified_name(Oid relid) {
    char *name = get_rel_name(relid);
    if (name == nullptr)
        return psprintf("%u", relid);
    return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), name);
}

} // namespace

std::vector<Oid> cascade_order(const std::vector<Oid> &roots) {
    // No watch has a view for its source (the common case): no cascade, the
    // order is the OIDs' (what the graph's order would give), without a graph
    // made per commit.
    int with_view_sources = pg_call([] {
        const registry::WatchRow *rows;
        int n;
        registry::matview_sources(&rows, &n);
        return n;
    });
    if (with_view_sources == 0) {
        std::vector<Oid> order(roots);
        std::sort(order.begin(), order.end());
        order.erase(std::unique(order.begin(), order.end()), order.end());
        return order;
    }
    std::vector<graph::RelId> ids(roots.begin(), roots.end());
    std::vector<graph::RelId> order = registry::cascade_graph(ids).refresh_order(ids);
    return {order.begin(), order.end()};
}

int refresh_matviews(const std::vector<Oid> &roots, bool cascade, int root_concurrently, Origin origin,
                     std::vector<Oid> *deferred, ChangeProvider provider) {
    std::vector<Oid> order = cascade_order(roots);
    std::unordered_set<Oid> root_set(roots.begin(), roots.end());
    if (!cascade)
        order.erase(std::remove_if(order.begin(), order.end(), [&](Oid id) { return root_set.count(id) == 0; }),
                    order.end());

    int refreshed = 0;
    for (Oid matview : order) {
        RefreshTarget target;
        target.matview = matview;
        target.origin = origin;
        bool is_root = root_set.count(matview) != 0;
        bool defer = false;
        pg_call([&] {
            const registry::MatviewOptions *options = registry::options_of(matview);
            defer = deferred != nullptr && options != nullptr && registry::background_mode(options->mode);
        });
        if (defer) {
            deferred->push_back(matview);
            continue;
        }
        target.table_view = tableview::lookup(matview, &target.tv);
        // Its changes, if they were collected.
        bool have_changes = false;
        if (target.table_view)
            pg_call([&] { have_changes = provider != nullptr && provider(matview, &target.changes); });
        pg_call([&] {
            const registry::MatviewOptions *options = registry::options_of(matview);
            if (options != nullptr) {
                target.concurrently = options->concurrently;
                target.warn = options->on_error_warn && (origin == Origin::commit || origin == Origin::prepare ||
                                                                origin == Origin::statement);
            }
            if (is_root && root_concurrently != use_watch_option)
                target.concurrently = root_concurrently;
            target.reader_may_read = pg_class_aclcheck(matview, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
        });
        choose_plan(&target, have_changes);
        if (target.table_view && have_changes && target.plan.strategy == Strategy::full_difference &&
            (target.needs_full || !target.tv.populated)) {
            // Full only for a new watch's first refresh (or a first fill): the
            // writers that started together all saw the mark, but only the first
            // needs the full refresh. Its lock (taken here, in refresh order, as
            // the full difference would) waits for it and takes in its
            // invalidations: after it, our changes may be enough.
            pg_call([matview] { LockRelationOid(matview, ExclusiveLock); });
            if (tableview::lookup(matview, &target.tv))
                choose_plan(&target, have_changes);
        }
        bool populated = target.tv.populated;
        shmem::activity_begin(matview, origin_letter(origin), static_cast<char>(target.plan.strategy),
                              list_length(target.changes.keys) + list_length(target.changes.groups));
        bool done = pg_call([&target] { return refresh_target(&target); });
        shmem::activity_end(); // (an error: the transaction callbacks clear it)
        refreshed += done;
        // A table view created without data is populated by its first refresh.
        if (target.table_view && !populated && done)
            tableview::mark_populated(matview);
    }
    return refreshed;
}

} // namespace pgview::engine
