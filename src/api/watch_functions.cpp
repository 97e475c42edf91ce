// pgview_auto — SQL entry points of watches and refresh:
// pgview_watch, pgview_unwatch, pgview_refresh.
#include <optional>
#include <string>
#include <vector>

#include "api/args.hpp"
#include "api/shared_room.hpp"
#include "api/schedule_notice.hpp"
#include "engine/explain.hpp"
#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "pg/srf.hpp"
#include "commit/commit_refresh.hpp"
#include "engine/ddl_guard.hpp"
#include "engine/refresh.hpp"
#include "syscat/relation_info.hpp"
#include "tableview/table_view_registry.hpp"
#include "watch/apply_watch.hpp"
#include "capture/triggers.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"
#include "registry/watch_cache.hpp"
#include "config/settings.hpp"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
}

using pgview::Error;
using pgview::pg_call;
namespace watch = pgview::watch;
namespace engine = pgview::engine;
namespace capture = pgview::capture;
namespace registry = pgview::registry;
namespace syscat = pgview::syscat;
namespace tableview = pgview::tableview;
namespace sqlstate = pgview::sqlstate;
using pgview::api::interval_us;
using pgview::api::require_not_null;
using pgview::api::text_arg;

namespace {

registry::MatviewOptions parse_options(FunctionCallInfo fcinfo) {
    require_not_null(fcinfo, 2, "mode", "pgview_watch", "Pass mode => 'commit', 'immediate', 'async' or 'manual'.");
    require_not_null(fcinfo, 4, "on_error", "pgview_watch", "Pass on_error => 'error' or 'warn'.");
    bool has_timing = PG_NARGS() >= 7; // the SQL of 0.2.0 passes five arguments
    if (has_timing)
        require_not_null(fcinfo, 5, "debounce", "pgview_watch", "Pass debounce => '0' for no quiet time.");
    std::string mode = text_arg(fcinfo, 2);
    if (mode != "commit" && mode != "immediate" && mode != "async" && mode != "manual")
        throw Error(sqlstate::invalid_parameter_value, "unknown mode '" + mode + "'", {},
                    "Use mode => 'commit' (refresh in the writer's transaction, at its commit), 'immediate' (a "
                    "table view, at the end of each writing statement), 'async' (by the background worker, "
                    "after commit) or 'manual' (by pgview_refresh_pending()).");
    std::string on_error = text_arg(fcinfo, 4);
    if (on_error != "error" && on_error != "warn")
        throw Error(sqlstate::invalid_parameter_value, "unknown on_error '" + on_error + "'", {},
                    "Use on_error => 'error' (the writer's transaction fails with the refresh) or 'warn' "
                    "(it commits, the view stays stale, a WARNING says why).");
    registry::MatviewOptions options{mode == "immediate" ? 'i' : mode[0], -1, on_error == "warn", 0, -1, -1, false};
    if (PG_NARGS() >= 8 && !PG_ARGISNULL(7)) // the SQL of 0.6.0 passes incremental
        options.incremental = PG_GETARG_BOOL(7) ? 1 : 0;
    if (!PG_ARGISNULL(3))
        options.concurrently = PG_GETARG_BOOL(3) ? 1 : 0;
    if (has_timing) {
        options.debounce_us = interval_us(PG_GETARG_INTERVAL_P(5), "debounce", "pgview_watch");
        if (!PG_ARGISNULL(6))
            options.max_delay_us = interval_us(PG_GETARG_INTERVAL_P(6), "max_delay", "pgview_watch");
    }
    if (options.debounce_us < 0 || (has_timing && !PG_ARGISNULL(6) && options.max_delay_us <= 0))
        throw Error(sqlstate::invalid_parameter_value, "debounce must not be negative, max_delay must be positive",
                    {}, "Pass intervals such as debounce => '1 second', max_delay => '10 seconds'.");
    if (mode != "async" && (options.debounce_us != 0 || options.max_delay_us >= 0))
        throw Error(sqlstate::invalid_parameter_value, "debounce and max_delay apply to mode 'async' only", {},
                    "Pass mode => 'async', or leave debounce and max_delay out.");
    // Last: the arguments are checked the same way with or without the worker.
    if (registry::background_mode(options.mode)) {
        std::string what = "mode '" + mode + "'"; // built here: the lambda may longjmp
        const char *what_c = what.c_str();
        pg_call([what_c] { pgview::config::require_preloaded(what_c); });
    }
    return options;
}

// incremental => true: every source must be keyed (55000 naming the first that is not, and why).
void require_incremental(Oid view) {
    for (const pgview::engine::SourcePlan &p : pgview::engine::source_plans(view, 1))
        if (!p.incremental)
            throw Error(sqlstate::object_not_in_prerequisite_state,
                        std::string("changes to ") + pgview::relation_name(p.source) + " cannot refresh " +
                            tableview::noun(view) + " " + pgview::relation_name(view) + " incrementally",
                        "Its changes would be refreshed in full: " + p.reason + ".",
                        "See pgview_explain('" + pgview::relation_name(view) +
                            "'), or pass incremental => NULL to refresh incrementally where possible.");
}

} // namespace

PGVIEW_FUNCTION(pgview_watch) {
    require_not_null(fcinfo, 0, "matview", "pgview_watch", "Pass the materialized view to refresh.");
    Oid matview = PG_GETARG_OID(0);
    std::optional<Oid> requested;
    if (!PG_ARGISNULL(1))
        requested = PG_GETARG_OID(1);
    registry::MatviewOptions options = parse_options(fcinfo);

    tableview::require_owned_refreshable(matview, "pgview_watch");
    if (requested) {
        Oid source = *requested;
        pg_call([source] { syscat::require_catalog_relation(source, "pgview_watch"); });
        if (source == matview)
            throw Error(sqlstate::invalid_parameter_value,
                        std::string(tableview::noun(matview)) + " " + pgview::relation_name(matview) +
                            " cannot watch itself",
                        {},
                        "Name a table it reads as source, or pass NULL to watch all of them.");
    }
    if (options.concurrently == 1 && !tableview::is_table_view(matview)) {
        if (const char *guard = pg_call([] { return pgview::engine::ddl_guard_in_the_way(); }))
            throw Error(sqlstate::object_not_in_prerequisite_state,
                        "materialized view " + pgview::relation_name(matview) +
                            " cannot be watched with concurrently => true: event trigger \"" + guard +
                            "\" sees the DDL of REFRESH ... CONCURRENTLY",
                        "REFRESH ... CONCURRENTLY creates and drops a temporary table; while an event trigger on "
                        "ddl_command_start, ddl_command_end or sql_drop could refuse that, pgview_auto refreshes "
                        "plainly at write time so that writes never fail on it.",
                        "Watch it with concurrently => NULL (refreshed plainly while that event trigger exists), or "
                        "limit the event trigger's tags so that CREATE TABLE AS and DROP TABLE pass.");
    }
    if (options.concurrently == 1 && !tableview::concurrent_refresh_ok(matview))
        throw Error(sqlstate::object_not_in_prerequisite_state,
                    "materialized view " + pgview::relation_name(matview) + " cannot be refreshed concurrently",
                    "It is not populated, or has no unique index that REFRESH ... CONCURRENTLY accepts.",
                    "Create a unique index with no WHERE clause on plain columns, or pass concurrently => NULL.");

    if (options.incremental == 1)
        require_incremental(matview);
    if (options.mode == 'i' && !tableview::is_table_view(matview))
        throw Error(sqlstate::feature_not_supported,
                    "materialized view " + pgview::relation_name(matview) + " cannot be watched in mode 'immediate'",
                    "Mode 'immediate' changes the view inside each writing statement; PostgreSQL's REFRESH "
                    "cannot run there (it would rewrite the whole view per statement).",
                    "Convert it into a table view: pgview_create('" + pgview::relation_name(matview) +
                        "', <its query>, kind => 'table view', or_replace => true).");
    if (registry::background_mode(options.mode))
        pgview::api::reserve_shared_entry(matview, "pgview_watch");

    watch::apply_watch(matview, requested, options, watch::PrivilegeCheck::caller);
    Oid *captured = nullptr;
    int ncaptured = pg_call([&captured, matview] {
        int n = registry::with_registry([&] { return registry::registry_captured_tables(matview, &captured); });
        return n;
    });

    pgview::SrfOutput out(fcinfo, true);
    out.put_rows(static_cast<size_t>(ncaptured),
                 [&](size_t i, Datum *values, bool *) { values[0] = ObjectIdGetDatum(captured[i]); });
    return (Datum) 0;
}

namespace {

// After pgview_unwatch(matview, source): source may still be watched through
// another of matview's requests (the watch of everything it reads, or of a
// view above it). Say so, and how to stop that one.
void notice_still_watched(Oid matview, Oid source, bool removed_some) {
    Oid cover = InvalidOid;
    bool covered = pg_call([matview, source, &cover] {
        bool c = registry::with_registry([&] { return registry::registry_covering_request(matview, source, &cover); });
        return c;
    });
    std::string noun = tableview::noun(matview);
    std::string name = pgview::relation_name(matview);
    std::string source_name = pgview::relation_name(source);
    std::string message, detail, hint;
    if (!covered) {
        if (removed_some)
            return;
        message = noun + " " + name + " does not watch " + source_name + ", skipping";
    } else {
        message = noun + " " + name + (removed_some ? " still watches " + source_name + " through another watch"
                                                    : " watches " + source_name +
                                                          " only through another watch; nothing removed");
        if (OidIsValid(cover)) {
            std::string cover_name = pgview::relation_name(cover);
            detail = "pgview_watch(" + pgview::literal(name) + ", " + pgview::literal(cover_name) + ") covers it.";
            hint = "pgview_unwatch(" + pgview::literal(name) + ", " + pgview::literal(cover_name) +
                   ") removes that watch.";
        } else {
            detail = "pgview_watch(" + pgview::literal(name) + ") covers every table it reads.";
            hint = "pgview_unwatch(" + pgview::literal(name) +
                   ") stops its whole watch; then watch the sources to keep by name.";
        }
    }
    pg_call([&message, &detail, &hint] {
        ereport(NOTICE, (errmsg("%s", message.c_str()), detail.empty() ? 0 : errdetail("%s", detail.c_str()),
                         hint.empty() ? 0 : errhint("%s", hint.c_str())));
    });
}

} // namespace

// pgview_unwatch(matview, source): removes what pgview_watch(matview, source)
// recorded (source NULL: the whole watch) and returns the number of
// pgview_watches rows that disappeared.
PGVIEW_FUNCTION(pgview_unwatch) {
    require_not_null(fcinfo, 0, "matview", "pgview_unwatch", "Pass the watched materialized view.");
    Oid matview = PG_GETARG_OID(0);
    Oid source = PG_ARGISNULL(1) ? InvalidOid : PG_GETARG_OID(1);
    tableview::require_owned_refreshable(matview, "pgview_unwatch");

    int vanished = 0;
    int removed = pg_call([&] {
        int n{};
        registry::with_registry([&] {
            Oid *sources;
            n = registry::registry_remove(matview, source, &sources, &vanished);
            CommandCounterIncrement();
            for (int i = 0; i < n; i++)
                if (get_rel_relkind(sources[i]) != RELKIND_MATVIEW)
                    capture::sync_capture_trigger(sources[i]);
        });
        return n;
    });
    if (removed > 0)
        pgview::api::notice_if_schedule_idle(matview, true);
    if (OidIsValid(source)) {
        notice_still_watched(matview, source, removed > 0);
    } else if (removed == 0) {
        const char *noun = tableview::noun(matview);
        pg_call([&] { ereport(NOTICE, (errmsg("%s %s is not watched, skipping", noun, get_rel_name(matview)))); });
    }
    PG_RETURN_INT32(vanished);
}

namespace {

// The names an orphaned watch called `text` may have, most likely first: its
// schema.name, or for an unqualified name one per schema of the search_path,
// in order (as a relation name is resolved). C-level; a palloc'd list of
// names quoted as the registry keeps them.
List *orphan_names(const char *text) {
    List *parts = stringToQualifiedNameList(text);
    const char *relname = strVal(llast(parts));
    if (list_length(parts) >= 2)
        return list_make1(pstrdup(quote_qualified_identifier(strVal(list_nth(parts, list_length(parts) - 2)), relname)));
    List *names = NIL;
    ListCell *lc;
    foreach (lc, fetch_search_path(false)) {
        const char *schema = get_namespace_name(lfirst_oid(lc));
        if (schema != nullptr)
            names = lappend(names, pstrdup(quote_qualified_identifier(schema, relname)));
    }
    return names;
}

// Removes the orphaned watch `text` names, if the caller may (its owner, a
// member of that role, or a superuser); false when there is none.
bool remove_orphan_named(const char *text, int *removed) {
    Oid caller = GetUserId();
    List *names = orphan_names(text); // before the registry session: with the caller's search_path
    return registry::with_registry([&] {
        const char *name = nullptr;
        registry::Orphan orphan{};
        ListCell *lc;
        foreach (lc, names) {
            if (registry::registry_find_orphan(static_cast<const char *>(lfirst(lc)), &orphan)) {
                name = static_cast<const char *>(lfirst(lc));
                break;
            }
        }
        if (name == nullptr)
            return false;
        if (!superuser_arg(caller) && !(OidIsValid(orphan.owner) && has_privs_of_role(caller, orphan.owner)))
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("permission denied to remove the orphaned watch %s", name),
                            OidIsValid(orphan.owner)
                                ? errdetail("It is the watch of a dropped relation owned by %s.",
                                            GetUserNameFromId(orphan.owner, false))
                                : errdetail("Its owner is unknown (it was orphaned before pgview_auto 0.6.0)."),
                            errhint("Its owner, a member of that role or a superuser can remove it.")));
        *removed = registry::registry_remove_orphan(name);
        CommandCounterIncrement();
        if (*removed > 0)
            capture::sync_all_capture_triggers(); // what the orphan's matview left behind
        return true;
    });
}

} // namespace

// pgview_unwatch(text): a watched matview by name, or the orphaned watch of a
// dropped one (resolved as a relation name: schema.name, or the first schema of
// the search_path that has one).
PGVIEW_FUNCTION(pgview_unwatch_by_name) {
    require_not_null(fcinfo, 0, "matview", "pgview_unwatch", "Pass the watched materialized view.");
    const char *name = pg_call([fcinfo] { return text_to_cstring(PG_GETARG_TEXT_PP(0)); });
    Oid matview = pg_call([name] {
        return RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(name)), NoLock, true);
    });
    bool watched = OidIsValid(matview) && pg_call([matview] {
        bool w = registry::with_registry([&] { return registry::registry_is_watched(matview); });
        return w;
    });
    int removed = 0;
    if (!watched && pg_call([name, &removed] { return remove_orphan_named(name, &removed); }))
        PG_RETURN_INT32(removed);
    if (OidIsValid(matview)) {
        // The same as pgview_unwatch(regclass).
        LOCAL_FCINFO(call, 2);
        InitFunctionCallInfoData(*call, nullptr, 2, InvalidOid, nullptr, nullptr);
        call->args[0] = {ObjectIdGetDatum(matview), false};
        call->args[1] = {(Datum) 0, true};
        return pgview_unwatch_impl(call);
    }
    pg_call([name] {
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("materialized view \"%s\" does not exist, nor an orphaned watch of that name", name),
                        errhint("See pgview_watches for the watches there are.")));
    });
    PG_RETURN_INT32(0);
}

PGVIEW_FUNCTION(pgview_refresh) {
    require_not_null(fcinfo, 0, "matview", "pgview_refresh", "Pass the materialized view to refresh.");
    require_not_null(fcinfo, 2, "cascade", "pgview_refresh", "Pass true or false.");
    Oid matview = PG_GETARG_OID(0);
    int concurrently = PG_ARGISNULL(1) ? -1 : (PG_GETARG_BOOL(1) ? 1 : 0);
    bool cascade = PG_GETARG_BOOL(2);
    if (pg_call([] { return RecoveryInProgress(); }))
        throw Error("25006", "cannot refresh materialized views during recovery", {},
                    "Refresh them on the primary; the standby receives the result.");
    tableview::require_owned_refreshable(matview, "pgview_refresh");
    int n = pgview::engine::refresh_matviews({matview}, cascade, concurrently,
                                              pgview::engine::Origin::manual);
    PG_RETURN_INT32(n);
}

// pgview_auto.sync_capture_triggers() (superuser, or whom a superuser grants
// it): every captured table gets this version's set of triggers (the update
// script runs it; pg_restore'd databases may too), where a watcher still holds
// TRIGGER on it, and only where the table's lock is free at once: it never
// queues behind the table's writers (the tables left are named in a WARNING).
PGVIEW_FUNCTION(pgview_sync_capture_triggers) {
    (void) fcinfo;
    int synced = pg_call([] {
        MemoryContext caller = CurrentMemoryContext; // (SPI_connect switches to its own)
        return registry::with_registry([&] {
            registry::WatchRow *rows;
            registry::OptionsRow *options;
            int nrows, noptions;
            registry::registry_load(&rows, &nrows, &options, &noptions, caller);
            List *tables = NIL;
            for (int i = 0; i < nrows; i++)
                if (!rows[i].source_is_matview)
                    tables = list_append_unique_oid(tables, rows[i].source);
            if (SPI_execute("SELECT relation::pg_catalog.oid FROM pgview_auto.table_view", true, 0) != SPI_OK_SELECT)
                elog(ERROR, "pgview_auto: reading pgview_auto.table_view failed");
            List *table_views = NIL;
            for (uint64 r = 0; r < SPI_processed; r++) {
                bool isnull;
                table_views = lappend_oid(table_views, DatumGetObjectId(SPI_getbinval(
                                                           SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull)));
            }
            List *left = capture::repair_capture_triggers(tables, table_views);
            if (left != NIL) {
                StringInfoData names;
                initStringInfo(&names);
                ListCell *lc;
                foreach (lc, left)
                    appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "",
                                     pgview::quote_relation(lfirst_oid(lc)));
                ereport(WARNING, (errmsg("pgview_auto: capture triggers not repaired on %s", names.data),
                                  errdetail("Another transaction holds a lock on them; sync_capture_triggers() "
                                            "does not wait for it."),
                                  errhint("Call pgview_auto.sync_capture_triggers() again later.")));
            }
            return list_length(tables) - list_length(left);
        });
    });
    PG_RETURN_INT32(synced);
}

// pgview_auto.uncaptured(), behind pgview_status(): (view, table) for every
// table a watch should capture that has no enabled capture trigger (dropped or
// disabled by the table's owner, or the watcher lost TRIGGER on it): changes
// there reach the view no more, and it says so.
PGVIEW_FUNCTION(pgview_uncaptured) {
    pgview::SrfOutput out(fcinfo);
    std::vector<std::pair<Oid, Oid>> gaps;
    pg_call([&gaps] {
        registry::WatchRow *rows;
        registry::OptionsRow *options;
        int nrows = 0, noptions;
        MemoryContext caller = CurrentMemoryContext; // (SPI_connect switches to its own)
        if (registry::registry_installed())
            registry::with_registry([&] { registry::registry_load(&rows, &nrows, &options, &noptions, caller); });
        for (int i = 0; i < nrows; i++) {
            ListCell *lc;
            foreach (lc, capture::uncaptured_tables(rows[i].source, rows[i].owner))
                gaps.emplace_back(rows[i].matview, lfirst_oid(lc)); // (bad_alloc is caught by pg_call)
        }
    });
    out.put_rows(gaps.size(), [&](size_t i, Datum *values, bool *) {
        values[0] = ObjectIdGetDatum(gaps[i].first);
        values[1] = ObjectIdGetDatum(gaps[i].second);
    });
    return (Datum) 0;
}
