// pgview_auto — refreshing matviews (see refresher.hpp).
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
#include "engine/keyed.hpp"
#include "syscat/relation_info.hpp"
#include "engine/difference.hpp"
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
    }
    return "";
}

struct RefreshTarget {
    Oid matview;
    int concurrently; // -1 when possible, 0, 1
    bool warn;        // on_error 'warn': keep the writer's transaction
    Origin origin;
    const char *name; // qualified, for messages
    const char *difference; // a table view: the statement that refreshes it; else nullptr
    bool table_view;
    bool needs_full;        // a new watch's first refresh (full): clear the mark after it
    const KeyedSpec *keyed; // a table view refreshed for these keys only; else nullptr
    List *keys;             // (SinkKey *)
    bool too_many_keys;     // out: the keyed refresh gave up (refresh in full)
    bool reader_may_read;   // the user whose statement runs the refresh may SELECT the view:
                            // else its errors, which can quote data, are not shown to them
};

void refresh_error_context(void *arg) {
    auto *t = static_cast<RefreshTarget *>(arg);
    errcontext("refreshing %s %s (pgview_auto, %s)", t->table_view ? "table view" : "materialized view", t->name,
               origin_text(t->origin));
}

constexpr const char *hint_unique_index = "Create a unique index with no WHERE clause on plain columns of the "
                                          "materialized view and populate it, or watch it with concurrently => NULL.";

[[noreturn]] void cannot_refresh_concurrently(const RefreshTarget *t, const char *why,
                                              const char *hint = hint_unique_index) {
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("cannot refresh materialized view %s concurrently", t->name),
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

// Refresh (the caller holds the lock) and record the statistics.
bool run_and_record(const RefreshTarget *t, bool concurrently) {
    if (IsolationUsesXactSnapshot())
        registry::with_registry([t] { registry::stats_claim(t->matview); });
    TimestampTz start = GetCurrentTimestamp();
    if (t->difference != nullptr)
        engine::run_difference(t->matview, t->difference);
    else
        exec_refresh(t->matview, concurrently);
    TimestampTz end = GetCurrentTimestamp();

    registry::with_registry([&] {
        registry::stats_success(t->matview, end - start, concurrently);
        if (t->needs_full)
            registry::registry_full_done(t->matview);
    });
    // Opt-in; delivered when the transaction commits. A prepared transaction cannot notify.
    if (config::notify && t->origin != Origin::prepare)
        Async_Notify("pgview_refresh", t->name);
    return true;
}

// A keyed refresh (it locks the keys itself), counted in pgview_auto.key_lock.
bool refresh_keyed(RefreshTarget *t) {
    if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(t->matview)))
        return false;
    int64 nkeys = 0;
    // A transaction's own keys stop at pgview_auto.max_keys when collected. Keys
    // claimed from shared memory (the worker, pgview_refresh_pending) are bounded
    // by pgview_auto.max_pending_keys already: capping them at max_keys made every
    // refresh that fell behind full, and a full refresh (1.1 s on W2 large, where
    // 10,000 keys take 0.2 s) let more keys pile up than the next could take.
    int max_keys = config::max_keys;
    if (t->origin == Origin::worker || t->origin == Origin::manual)
        max_keys = std::max(max_keys, config::max_pending_keys);
    if (!refresh_keys(t->keyed, t->keys, max_keys, &nkeys)) {
        t->too_many_keys = true;
        return false;
    }
    if (config::notify && t->origin != Origin::prepare)
        Async_Notify("pgview_refresh", t->name);
    return true;
}

// Lock, refresh, record. False when the matview was dropped meanwhile.
bool refresh_one(RefreshTarget *t) {
    if (t->keyed != nullptr)
        return refresh_keyed(t);
    if (t->difference != nullptr) // a table view, locked (ExclusiveLock: readers pass) by refresh_matviews
        return SearchSysCacheExists1(RELOID, ObjectIdGetDatum(t->matview)) && run_and_record(t, true);
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
                                    "would see its temporary table", t->name, guard)));
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

    return run_and_record(t, concurrently);
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
    hide_error(edata, psprintf("%s %s could not be refreshed", noun, t->name),
               "The error is shown only to roles that may read the view; the server log has it.",
               psprintf("Its owner sees the error by running pgview_refresh('%s').", t->name),
               psprintf("refreshing %s %s (pgview_auto, %s)", noun, t->name, origin_text(t->origin)));
}

// refresh_one, its error explained (C-level; the error is raised again).
bool refresh_one_explained(RefreshTarget *t, bool hide) {
    MemoryContext context = CurrentMemoryContext;
    volatile bool refreshed = false;
    PG_TRY();
    {
        refreshed = refresh_one(t);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        ErrorData *edata = CopyErrorData();
        FlushErrorState();
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
        const char *noun = t->table_view ? "table view" : "materialized view";
        if (t->reader_may_read)
            ereport(WARNING, (errcode(failure->sqlerrcode),
                              errmsg("%s %s was not refreshed: %s", noun, t->name, failure->message),
                              errdetail("The transaction's changes are kept; the view is stale until its next "
                                        "refresh (on_error => 'warn')."),
                              errhint("See pgview_status() for the error, or run pgview_refresh('%s').", t->name)));
        else
            ereport(WARNING, (errcode(failure->sqlerrcode), errmsg("%s %s was not refreshed", noun, t->name),
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
    bool refreshed = t->warn ? refresh_one_or_warn(t) : refresh_one_explained(t, !t->reader_may_read);
    error_context_stack = callback.previous;
    return refreshed;
}

// A keyed refresh for the target when its keys were collected and nothing asks
// for a full one: a new watch's first refresh, a table view never filled.
void choose_keyed(RefreshTarget *target, const tableview::TableView &tv, bool keys_usable, List *keys) {
    pg_call([&] {
        const registry::MatviewOptions *options = registry::options_of(target->matview);
        target->needs_full = options != nullptr && options->needs_full;
    });
    target->keyed = nullptr;
    if (!keys_usable || target->needs_full || !tv.populated)
        return;
    const analysis::KeyedView *kv = analysis::keyed_view(target->matview);
    if (kv != nullptr) {
        target->keyed = pg_call([kv] { return keyed_spec(kv); });
        target->keys = keys;
    }
}

const char *qualified_name(Oid relid) {
    char *name = get_rel_name(relid);
    if (name == nullptr)
        return psprintf("%u", relid);
    return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), name);
}

} // namespace

std::vector<Oid> cascade_order(const std::vector<Oid> &roots) {
    std::vector<graph::RelId> ids(roots.begin(), roots.end());
    std::vector<graph::RelId> order = registry::cascade_graph(ids).refresh_order(ids);
    return {order.begin(), order.end()};
}

int refresh_matviews(const std::vector<Oid> &roots, bool cascade, int root_concurrently, Origin origin,
                     std::vector<Oid> *deferred, ChangeProvider key_provider) {
    std::vector<Oid> order = cascade_order(roots);
    std::unordered_set<Oid> root_set(roots.begin(), roots.end());
    if (!cascade)
        order.erase(std::remove_if(order.begin(), order.end(), [&](Oid id) { return root_set.count(id) == 0; }),
                    order.end());

    int refreshed = 0;
    for (Oid matview : order) {
        int done_before = refreshed;
        RefreshTarget target{matview, -1, false, origin, nullptr, nullptr, false, false, nullptr, NIL, false, true};
        bool is_root = root_set.count(matview) != 0;
        bool defer = false;
        pg_call([&] {
            const registry::MatviewOptions *options = registry::options_of(matview);
            defer = deferred != nullptr && options != nullptr && options->mode != 'c';
        });
        if (defer) {
            deferred->push_back(matview);
            continue;
        }
        tableview::TableView tv;
        bool table_view = tableview::lookup(matview, &tv);
        target.table_view = table_view;
        // Its changed keys, if they were collected (and are not too many).
        bool have_keys = false, keys_full = true;
        List *keys = NIL;
        if (table_view) {
            pg_call([&] {
                changes::ViewChanges c;
                if (key_provider != nullptr && key_provider(matview, &c)) {
                    have_keys = true;
                    keys_full = c.full;
                    keys = changes::change_all_keys(c);
                }
            });
            choose_keyed(&target, tv, have_keys && !keys_full, keys);
        }
        pg_call([&] {
            const registry::MatviewOptions *options = registry::options_of(matview);
            if (options != nullptr) {
                target.concurrently = options->concurrently;
                target.warn = options->on_error_warn && (origin == Origin::commit || origin == Origin::prepare);
            }
            if (is_root && root_concurrently != use_watch_option)
                target.concurrently = root_concurrently;
            target.name = qualified_name(matview);
            target.reader_may_read = pg_class_aclcheck(matview, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
        });
        // The keyed refresh; false when it gave up past pgview_auto.max_keys (then in full).
        auto refreshed_keyed = [&refreshed, &target] {
            bool done = pg_call([&target] { return refresh_target(&target); });
            if (target.too_many_keys) {
                target.keyed = nullptr;
                return false;
            }
            refreshed += done;
            return true;
        };
        if (target.keyed != nullptr && refreshed_keyed())
            continue;
        if (table_view) {
            // Lock first (in refresh order, as refresh_one would): the statement
            // names the table's columns, which ALTER TABLE could change meanwhile.
            pg_call([matview] { LockRelationOid(matview, ExclusiveLock); });
            if (have_keys && !keys_full && (target.needs_full || !tv.populated)) {
                // Full only for a new watch's first refresh (or a first fill): the
                // writers that started together all saw the mark, but only the
                // first needs the full refresh. The lock waited for it, and took
                // in its invalidations: after it, our keys are enough.
                tableview::TableView now;
                if (tableview::lookup(matview, &now)) {
                    tv = now;
                    choose_keyed(&target, tv, true, keys);
                }
                if (target.keyed != nullptr && refreshed_keyed())
                    continue;
            }
            std::string statement = engine::difference_statement(tv);
            target.difference = pg_call([&statement] { return pstrdup(statement.c_str()); });
        }
        pg_call([&] {
            if (refresh_target(&target))
                refreshed++;
        });
        // A table view created without data is populated by its first refresh.
        if (OidIsValid(tv.table) && !tv.populated && refreshed > done_before)
            tableview::mark_populated(matview);
    }
    return refreshed;
}

} // namespace pgview::engine
