// pgview_auto — how each source's changes refresh a view (see source_plan.hpp).
#include "analysis/source_plan.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "graph/dependency_graph.hpp"
#include "analysis/key_analysis.hpp"
#include "pg/error.hpp"
#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "syscat/catalog_reader.hpp"
#include "tableview/table_view_registry.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"
#include "analysis/resolve.hpp"

namespace pgview::analysis {

namespace {

// One derivation, copied out of PostgreSQL memory.
struct Derived {
    Oid relid;
    char kind;
    std::string key_from, reason, index_hint;
};

std::string text(const char *s) { return s != nullptr ? s : ""; }

std::vector<Derived> derive(const tableview::TableView &tv) {
    std::vector<const char *> names;
    for (const std::string &k : tv.unique_key)
        names.push_back(k.c_str());
    int n = 0;
    SourceKey **sources = nullptr;
    const char *view_reason = nullptr;
    Oid definition = tv.definition;
    pg_call([&] {
        List *key_names = NIL;
        for (const char *k : names)
            key_names = lappend(key_names, const_cast<char *>(k));
        KeyAnalysis *ka = analyze_keys(definition, key_names);
        view_reason = ka->view_reason;
        n = list_length(ka->sources);
        sources = static_cast<SourceKey **>(palloc(sizeof(SourceKey *) * (n + 1)));
        for (int i = 0; i < n; i++)
            sources[i] = static_cast<SourceKey *>(list_nth(ka->sources, i));
    });
    std::vector<Derived> out;
    for (int i = 0; i < n; i++)
        out.push_back({sources[i]->relid, sources[i]->kind, text(sources[i]->key_from), text(sources[i]->reason),
                       text(sources[i]->index_hint)});
    (void) view_reason;
    return out;
}

void append_distinct(std::string &to, const std::string &what) {
    if (what.empty() || to == what || to.find(what + "; ") == 0 || to.find("; " + what) != std::string::npos)
        return;
    to += (to.empty() ? "" : "; ") + what;
}

std::vector<SourcePlan> sorted(std::vector<SourcePlan> plans) {
    std::vector<std::pair<std::string, SourcePlan>> named;
    for (SourcePlan &p : plans)
        named.emplace_back(pgview::relation_name(p.source), std::move(p));
    std::sort(named.begin(), named.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    std::vector<SourcePlan> out;
    for (auto &np : named)
        out.push_back(std::move(np.second));
    return out;
}

// Tables a watch names that the query does not read itself (a table read in a function, say).
std::vector<Oid> watched_tables(Oid view) {
    Oid *tables = nullptr;
    int n = pg_call([&tables, view] {
        if (!registry::registry_installed())
            return 0;
        int count = registry::with_registry([&] { return registry::registry_captured_tables(view, &tables); });
        return count;
    });
    return std::vector<Oid>(tables, tables + n);
}

} // namespace

std::vector<SourcePlan> source_plans(Oid view, int incremental_option) {
    tableview::TableView tv;
    std::vector<SourcePlan> plans;
    if (!tableview::lookup(view, &tv)) {
        // A materialized view: PostgreSQL writes it only by REFRESH.
        graph::DependencyGraph g = syscat::read_dependency_graph();
        std::string reason = "a materialized view is written only by REFRESH, which recomputes the whole query; "
                             "pgview_create(name, query, kind => 'table view', unique_key => ..., or_replace => "
                             "true) converts it into a table view that is refreshed incrementally";
        for (const analysis::ResolvedSource &s : analysis::resolve_sources(g, view, std::nullopt))
            plans.push_back({s.source, false, "", reason});
        return sorted(plans);
    }
    std::map<Oid, SourcePlan> by_source;
    for (const Derived &d : derive(tv)) {
        auto [it, fresh] = by_source.try_emplace(d.relid, SourcePlan{d.relid, true, "", ""});
        SourcePlan &p = it->second;
        (void) fresh;
        if (d.kind == derive_full) {
            if (p.incremental) { // the first reason to refresh in full replaces the key descriptions
                p.incremental = false;
                p.key_from.clear();
                p.reason.clear();
            }
            append_distinct(p.reason, d.reason);
        } else if (p.incremental) {
            append_distinct(p.key_from, d.key_from);
            if (!d.index_hint.empty())
                append_distinct(p.reason, "no index to find a key's rows (each key would scan the table): " +
                                              d.index_hint);
        }
    }
    for (Oid t : watched_tables(view))
        if (by_source.count(t) == 0)
            by_source[t] = SourcePlan{t, false, "",
                                      "the query does not read it itself (it is read inside a function, or named as "
                                      "a watch source): its changes cannot be keyed"};
    for (auto &[oid, p] : by_source) {
        if (incremental_option == 0 && p.incremental) {
            p.incremental = false;
            p.key_from.clear();
            p.reason = "the watch says incremental => false";
        }
        plans.push_back(p);
    }
    return sorted(plans);
}

} // namespace pgview::analysis
