// pgview_auto — recording one watch (see apply_watch.hpp).
#include "watch/apply_watch.hpp"

#include <algorithm>
#include <vector>

#include "graph/dependency_graph.hpp"
#include "changes/dirty_set.hpp"
#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "syscat/citus.hpp"
#include "syscat/catalog_reader.hpp"
#include "syscat/relation_info.hpp"
#include "tableview/table_view_registry.hpp"
#include "capture/triggers.hpp"
#include "registry/events.hpp"
#include "registry/cascade_graph.hpp"
#include "analysis/resolve.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
}

namespace pgview::watch {

namespace {

// The registry's cascade edges plus the new ones must stay acyclic.
void require_no_cycle(Oid matview, const std::vector<analysis::ResolvedSource> &sources) {
    std::vector<graph::Edge> edges;
    for (const auto &s : sources)
        if (s.is_matview)
            edges.push_back({matview, s.source});
    try {
        registry::cascade_graph({matview}, edges);
    } catch (const Error &e) {
        if (e.sqlstate() != sqlstate::invalid_recursion)
            throw;
        throw Error(sqlstate::invalid_recursion,
                    "watching these sources would make " + relation_name(matview) + " refresh itself",
                    "A materialized view it watches is watching it, directly or through others.",
                    "Unwatch one of them first.");
    }
}

// The first relation `role` may not put a trigger on among those a watch of
// `source` attaches work to: the tables that get a capture trigger (partitions
// and inheritance children included), or a materialized view source itself
// (its refreshes would refresh the watching matview, in their transaction).
// InvalidOid: none. C-level; locks the tables as CREATE TRIGGER would.
Oid first_untriggerable(Oid source, bool is_matview, Oid role) {
    if (is_matview)
        return pg_class_aclcheck(source, role, ACL_TRIGGER) == ACLCHECK_OK ? InvalidOid : source;
    Oid *targets;
    int n = capture::capture_targets(source, &targets);
    for (int i = 0; i < n; i++)
        if (pg_class_aclcheck(targets[i], role, ACL_TRIGGER) != ACLCHECK_OK)
            return targets[i];
    return InvalidOid;
}

// pgview_watch: the caller needs TRIGGER privilege on all of it (42501).
void require_trigger_privilege(Oid source, bool is_matview) {
    Oid denied = first_untriggerable(source, is_matview, GetUserId());
    if (!OidIsValid(denied))
        return;
    const char *name = quote_identifier(get_rel_name(denied));
    if (get_rel_relkind(denied) == RELKIND_MATVIEW)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied to watch materialized view %s", name),
                        errdetail("Its refreshes would refresh the watching view too, in their transaction: "
                                  "that needs TRIGGER privilege on it."),
                        errhint("Ask its owner to GRANT TRIGGER ON %s TO %s.", name,
                                GetUserNameFromId(GetUserId(), false))));
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("permission denied to watch table %s", name),
                    errdetail("Watching a table puts a capture trigger on it."),
                    errhint("Ask its owner to GRANT TRIGGER ON %s TO %s.", name,
                            GetUserNameFromId(GetUserId(), false))));
}

// Re-resolving in someone's DDL: a newly found source the matview's owner may
// not trigger is left out, with a WARNING; the DDL goes on.
void warn_left_out(Oid matview, Oid denied, Oid owner) {
    const char *view = quote_relation(matview);
    const char *name = quote_relation(denied);
    const char *role = GetUserNameFromId(owner, false);
    ereport(WARNING, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                      errmsg("pgview_auto: %s %s is not refreshed for changes of %s", 
                             get_rel_relkind(matview) == RELKIND_MATVIEW ? "materialized view" : "table view", view,
                             name),
                      errdetail("Its owner %s has no TRIGGER privilege on %s.", role, name),
                      errhint("GRANT TRIGGER ON %s TO %s, then run pgview_watch again.", name, role)));
}

} // namespace

void apply_watch(Oid matview, std::optional<Oid> requested, const registry::MatviewOptions &options, PrivilegeCheck check) {
    graph::DependencyGraph g = syscat::read_dependency_graph();
    if (requested)
        syscat::require_in_graph(g, *requested, "pgview_watch");
    std::vector<analysis::ResolvedSource> sources = analysis::resolve_sources(g, matview, requested);
    if (sources.empty())
        throw Error(sqlstate::object_not_in_prerequisite_state,
                    (requested ? "view " + relation_name(*requested)
                               : std::string(tableview::noun(matview)) + " " + relation_name(matview)) +
                        " reads no table",
                    "Only tables (through plain views) and materialized views can be watched. A query that reads "
                    "none needs no watch: no write changes it, only its functions can (now(), random()), and "
                    "pgview_refresh recomputes it.",
                    "Name the table it depends on: pgview_watch(matview, source => 'the_table').");
    std::vector<analysis::ResolvedSource> watchable;
    for (const auto &s : sources) {
        Oid source = s.source;
        if (!s.is_matview && pg_call([source] { return get_rel_persistence(source); }) == RELPERSISTENCE_TEMP)
            throw Error("0A000", "cannot watch temporary table " + relation_name(source),
                        "A watch outlives the session; a temporary table goes with it.", "Watch a permanent table.");
        char citus = s.is_matview ? '\0' : pg_call([source] { return syscat::citus_partition_method(source); });
        if (citus != '\0' && check == PrivilegeCheck::owner_skips) {
            // Re-resolving in someone's DDL (a view replaced to read a Citus
            // table): the DDL goes on; the source is left out, said as a
            // WARNING, as a source the owner may not trigger is.
            pg_call([matview, source] {
                ereport(WARNING, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                                  errmsg("pgview_auto: %s is not refreshed for changes of %s, a Citus table",
                                         quote_relation(matview), quote_relation(source)),
                                  errhint("Refresh it on a schedule: pgview_schedule(..., only_if_dirty => false).")));
            });
            continue;
        }
        if (citus != '\0')
            throw Error("0A000",
                        "cannot watch table " + relation_name(source) + ": it is a Citus " +
                            (citus == 'h' || citus == 'a' || citus == 'r' ? "distributed" : "reference or local") +
                            " table",
                        "Citus runs writes to it through its own executor and on its shards, where pgview_auto does "
                        "not see them yet: a watch would leave the view stale without a trace (whatever "
                        "citus.enable_unsafe_triggers says).",
                        "Refresh the view on a schedule instead: SELECT pgview_schedule('" +
                            relation_name(matview) + "', '1 minute', only_if_dirty => false);");
        watchable.push_back(s);
    }
    sources.swap(watchable);
    if (check == PrivilegeCheck::caller)
        for (const auto &s : sources) {
            Oid source = s.source;
            bool is_matview = s.is_matview;
            pg_call([source, is_matview] { require_trigger_privilege(source, is_matview); });
        }
    if (check == PrivilegeCheck::owner_skips) {
        Oid owner = pg_call([matview] { return syscat::relation_owner(matview); });
        Oid request = requested.value_or(InvalidOid);
        Oid *old = nullptr;
        int nold = pg_call([&] {
            int n = registry::with_registry([&] { return registry::registry_sources(matview, request, &old); });
            return n;
        });
        std::vector<Oid> before(old, old + nold);
        std::vector<analysis::ResolvedSource> kept;
        for (const auto &s : sources) {
            Oid source = s.source;
            bool is_matview = s.is_matview;
            bool is_new = std::find(before.begin(), before.end(), source) == before.end();
            if (is_new && pg_call([source, is_matview, owner, matview] {
                    Oid denied = first_untriggerable(source, is_matview, owner);
                    if (OidIsValid(denied))
                        warn_left_out(matview, denied, owner);
                    return OidIsValid(denied);
                }))
                continue;
            kept.push_back(s);
        }
        sources.swap(kept);
    }
    require_no_cycle(matview, sources);

    std::vector<Oid> source_oids, via_oids;
    for (const auto &s : sources) {
        source_oids.push_back(s.source);
        via_oids.push_back(s.via.value_or(InvalidOid));
    }
    Oid request = requested.value_or(InvalidOid);
    pg_call([&] {
        registry::with_registry([&] {
            registry::registry_set_options(matview, &options);
            Oid *old_sources;
            int nold = registry::registry_replace_watch(matview, request, static_cast<int>(source_oids.size()),
                                              source_oids.data(), via_oids.data(), &old_sources);
            CommandCounterIncrement();
            // Triggers follow the registry: new sources gain one, dropped ones may lose theirs.
            for (size_t i = 0; i < source_oids.size(); i++)
                if (get_rel_relkind(source_oids[i]) != RELKIND_MATVIEW)
                    capture::sync_capture_trigger(source_oids[i]);
            for (int i = 0; i < nold; i++)
                if (get_rel_relkind(old_sources[i]) != RELKIND_MATVIEW)
                    capture::sync_capture_trigger(old_sources[i]);
        });
        if (options.mode == 'a')
            changes::request_worker_at_commit();
    });
}

namespace {

// Why an orphaned watch stays an orphan: a NOTICE to whoever created the relation.
void keep_orphan(const char *name, Oid owner, const char *why, const char *hint) {
    registry::report_event(NOTICE, {"orphan not restored", name, owner,
                                    psprintf("pgview_auto: the orphaned watch %s is not restored", name), why, hint});
}

} // namespace

// An orphaned watch of this relation's name comes back, with its options and
// sources, when the relation is a materialized view or a table view owned by
// the orphan's owner, and that owner may put a trigger on everything the watch
// would capture. Otherwise the orphan stays (NOTICE). Nothing here fails the
// caller's DDL because of the orphan.
void restore_orphan(Oid matview) {
    if (!tableview::is_refreshable(matview)) // CREATE MATERIALIZED VIEW IF NOT EXISTS on a table, say
        return;
    std::string name = pg_call([matview] { return quote_relation(matview); });
    registry::Orphan orphan{};
    bool found = pg_call([&name, &orphan] {
        bool f = registry::with_registry([&] { return registry::registry_find_orphan(name.c_str(), &orphan); });
        return f;
    });
    if (!found)
        return;
    std::string noun = tableview::noun(matview);
    Oid owner = pg_call([matview] { return syscat::relation_owner(matview); });
    const char *name_c = name.c_str();
    // The owner, or a role with its privileges (a superuser, or pgview_create's
    // or_replace creating the matview as the caller before handing it back).
    if (!OidIsValid(orphan.owner) || !pg_call([owner, &orphan] { return has_privs_of_role(owner, orphan.owner); })) {
        std::string why = OidIsValid(orphan.owner)
                              ? "It was the watch of a relation owned by " +
                                    std::string(pg_call([&orphan] { return GetUserNameFromId(orphan.owner, true); })) +
                                    "; the new " + noun + " is owned by " +
                                    pg_call([owner] { return GetUserNameFromId(owner, false); }) + "."
                              : std::string("Its owner is unknown (it was orphaned before pgview_auto 0.6.0).");
        std::string hint = "Its owner (or a superuser) can remove it with pgview_unwatch('" + name +
                           "'); pgview_watch watches the new " + noun + ".";
        pg_call([name_c, owner, &why, &hint] { keep_orphan(name_c, owner, why.c_str(), hint.c_str()); });
        return;
    }
    // Resolve everything first, check it, and only then restore.
    std::vector<std::optional<Oid>> requests;
    for (int i = 0; i < orphan.nrequested; i++) {
        if (orphan.requested[i] == nullptr) {
            requests.emplace_back(std::nullopt);
            continue;
        }
        const char *source = orphan.requested[i];
        Oid relid = pg_call([source] {
            return RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(source)), NoLock, true);
        });
        if (!OidIsValid(relid)) {
            pg_call([source, &name, owner] {
                registry::report_event(
                    WARNING, {"watch source missing", name.c_str(), owner,
                              psprintf("pgview_auto: source %s of the restored watch no longer exists", source),
                              nullptr, nullptr});
            });
            continue;
        }
        requests.emplace_back(relid);
    }
    graph::DependencyGraph g = syscat::read_dependency_graph();
    for (const auto &request : requests) {
        std::vector<analysis::ResolvedSource> sources = analysis::resolve_sources(g, matview, request);
        if (sources.empty()) {
            std::string why = noun + " " + name + " reads no table" +
                              (request ? " through " + relation_name(*request) : std::string()) + ".";
            pg_call([name_c, owner, &why] {
                keep_orphan(name_c, owner, why.c_str(),
                            "Remove it with pgview_unwatch, or name a source with pgview_watch.");
            });
            return;
        }
        for (const auto &s : sources) {
            Oid source = s.source;
            bool is_matview = s.is_matview;
            bool denied = pg_call([source, is_matview, owner, name_c] {
                Oid d = first_untriggerable(source, is_matview, owner);
                if (OidIsValid(d)) {
                    const char *role = GetUserNameFromId(owner, false);
                    const char *rel = quote_relation(d);
                    keep_orphan(name_c, owner,
                                psprintf("Its owner %s has no TRIGGER privilege on %s, which the watch would capture.",
                                         role, rel),
                                psprintf("GRANT TRIGGER ON %s TO %s, then watch %s with pgview_watch.", rel, role,
                                         name_c));
                }
                return OidIsValid(d);
            });
            if (denied)
                return;
        }
    }
    pg_call([matview, name_c] {
        registry::with_registry([&] {
            (void) registry::registry_restore_orphan(matview, name_c);
        });
    });
    for (const auto &request : requests)
        apply_watch(matview, request, orphan.options, PrivilegeCheck::none);
    const char *mode = registry::mode_name(orphan.options.mode);
    const char *noun_c = noun.c_str();
    std::string shown = relation_name(matview);
    const char *shown_c = shown.c_str();
    pg_call([shown_c, mode, noun_c, name_c, owner] {
        registry::report_event(NOTICE, {"watch restored", name_c, owner,
                                        psprintf("pgview_auto: watch of %s %s restored (mode %s)", noun_c, shown_c,
                                                 mode),
                                        "A watched relation of this name was dropped; its watch was kept.", nullptr});
    });
}

} // namespace pgview::watch
