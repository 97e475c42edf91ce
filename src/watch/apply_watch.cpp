// pgview_auto — recording one watch (see apply_watch.hpp).
#include "watch/apply_watch.hpp"

#include <vector>

#include "graph/dependency_graph.hpp"
#include "pg/guard.hpp"
#include "refresh/commit_refresh.hpp"
#include "syscat/catalog_reader.hpp"
#include "tableview/table_view_registry.hpp"
#include "watch/capture_triggers.hpp"
#include "watch/cascade_graph.hpp"
#include "watch/resolve.hpp"

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
void require_no_cycle(Oid matview, const std::vector<ResolvedSource> &sources) {
    std::vector<graph::Edge> edges;
    for (const auto &s : sources)
        if (s.is_matview)
            edges.push_back({matview, s.source});
    try {
        cascade_graph({matview}, edges);
    } catch (const Error &e) {
        if (e.sqlstate() != sqlstate::invalid_recursion)
            throw;
        throw Error(sqlstate::invalid_recursion,
                    "watching these sources would make " + relation_name(matview) + " refresh itself",
                    "A materialized view it watches is watching it, directly or through others.",
                    "Unwatch one of them first.");
    }
}

// TRIGGER privilege on every table that gets a capture trigger (partitions included).
void require_trigger_privilege(Oid table) {
    Oid *targets;
    int n = capture_targets(table, &targets);
    for (int i = 0; i < n; i++)
        if (pg_class_aclcheck(targets[i], GetUserId(), ACL_TRIGGER) != ACLCHECK_OK)
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("permission denied to watch table %s", quote_identifier(get_rel_name(targets[i]))),
                            errdetail("Watching a table puts a capture trigger on it."),
                            errhint("Ask its owner to GRANT TRIGGER ON %s TO %s.",
                                    quote_identifier(get_rel_name(targets[i])),
                                    GetUserNameFromId(GetUserId(), false))));
}

} // namespace

std::string relation_name(Oid relid) {
    const char *s = pg_call(
        [relid] { return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid))); });
    return s;
}

void apply_watch(Oid matview, std::optional<Oid> requested, const MatviewOptions &options,
                 bool check_privileges) {
    graph::DependencyGraph g = syscat::read_dependency_graph();
    if (requested)
        syscat::require_in_graph(g, *requested, "pgview_watch");
    std::vector<ResolvedSource> sources = resolve_sources(g, matview, requested);
    if (sources.empty())
        throw Error(sqlstate::object_not_in_prerequisite_state,
                    (requested ? "view " + relation_name(*requested)
                               : std::string(tableview::noun(matview)) + " " + relation_name(matview)) +
                        " reads no table",
                    "Only tables (through plain views) and materialized views can be watched.",
                    "Name the table it depends on: pgview_watch(matview, source => 'the_table').");
    require_no_cycle(matview, sources);
    if (check_privileges)
        for (const auto &s : sources)
            if (!s.is_matview) {
                Oid table = s.source;
                pg_call([table] { require_trigger_privilege(table); });
            }

    std::vector<Oid> source_oids, via_oids;
    for (const auto &s : sources) {
        source_oids.push_back(s.source);
        via_oids.push_back(s.via.value_or(InvalidOid));
    }
    Oid request = requested.value_or(InvalidOid);
    pg_call([&] {
        RegistrySession session;
        registry_begin(&session);
        registry_set_options(matview, &options);
        Oid *old_sources;
        int nold = registry_replace_watch(matview, request, static_cast<int>(source_oids.size()),
                                          source_oids.data(), via_oids.data(), &old_sources);
        CommandCounterIncrement();
        // Triggers follow the registry: new sources gain one, dropped ones may lose theirs.
        for (size_t i = 0; i < source_oids.size(); i++)
            if (get_rel_relkind(source_oids[i]) != RELKIND_MATVIEW)
                sync_capture_trigger(source_oids[i]);
        for (int i = 0; i < nold; i++)
            if (get_rel_relkind(old_sources[i]) != RELKIND_MATVIEW)
                sync_capture_trigger(old_sources[i]);
        registry_end(&session);
        if (options.mode == 'a')
            refresh::wake_worker_at_commit();
    });
}

// An orphaned watch of this matview's name comes back, with its options and sources.
void restore_orphan(Oid matview) {
    MatviewOptions options{};
    char **requested = nullptr;
    int nrequested = 0;
    bool restored = pg_call([&] {
        RegistrySession session;
        registry_begin(&session);
        bool r = registry_restore_orphan(matview, &options, &requested, &nrequested);
        registry_end(&session);
        return r;
    });
    if (!restored)
        return;
    for (int i = 0; i < nrequested; i++) {
        std::optional<Oid> source;
        if (requested[i] != nullptr) {
            const char *name = requested[i];
            Oid relid = pg_call([name] {
                return RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(name)), NoLock, true);
            });
            if (!OidIsValid(relid)) {
                pg_call([name] {
                    ereport(WARNING, (errmsg("pgview_auto: source %s of the restored watch no longer exists", name)));
                });
                continue;
            }
            source = relid;
        }
        apply_watch(matview, source, options, false);
    }
    std::string name = relation_name(matview);
    const char *mode = mode_name(options.mode);
    const char *noun = tableview::noun(matview);
    pg_call([&name, mode, noun] {
        ereport(NOTICE, (errmsg("pgview_auto: watch of %s %s restored (mode %s)", noun, name.c_str(), mode),
                         errdetail("A watched relation of this name was dropped; its watch was kept.")));
    });
}

} // namespace pgview::watch
