// pgview_auto — how each source's changes refresh a view (see explain.hpp).
#include "engine/explain.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "graph/dependency_graph.hpp"
#include "analysis/delta_analysis.hpp"
#include "config/settings.hpp"
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

namespace pgview::engine {

using namespace analysis;

namespace {

// One derivation, copied out of PostgreSQL memory.
struct Derived {
    Oid relid;
    char kind;
    std::string key_from, reason, index_hint;
    bool delta;              // delta arithmetic keeps this source's changes
    bool extremes;           // ... inserts only (the view keeps min or max)
    std::string no_delta;    // why it does not
};

std::string text(const char *s) { return s != nullptr ? s : ""; }

std::vector<Derived> derive(const tableview::TableView &tv) {
    std::vector<const char *> names;
    for (const std::string &k : tv.unique_key)
        names.push_back(k.c_str());
    int n = 0;
    SourceKey **sources = nullptr;
    const DeltaShape **shapes = nullptr;
    const char **refusals = nullptr;
    Oid definition = tv.definition, view = tv.table;
    pg_call([&] {
        List *key_names = NIL;
        for (const char *k : names)
            key_names = lappend(key_names, const_cast<char *>(k));
        KeyAnalysis *ka = analyze_keys(definition, key_names);
        DeltaAnalysis *da = ka->view_reason == nullptr ? analyze_delta(view, definition, ka) : nullptr;
        n = list_length(ka->sources);
        sources = static_cast<SourceKey **>(palloc(sizeof(SourceKey *) * (n + 1)));
        shapes = static_cast<const DeltaShape **>(palloc0(sizeof(DeltaShape *) * (n + 1)));
        refusals = static_cast<const char **>(palloc0(sizeof(char *) * (n + 1)));
        for (int i = 0; i < n; i++) {
            sources[i] = static_cast<SourceKey *>(list_nth(ka->sources, i));
            if (da != nullptr) {
                shapes[i] = delta_shape_of(da, sources[i]->relid);
                refusals[i] = delta_refusal_of(da, sources[i]->relid);
            }
        }
    });
    std::vector<Derived> out;
    for (int i = 0; i < n; i++)
        out.push_back({sources[i]->relid, sources[i]->kind, text(sources[i]->key_from), text(sources[i]->reason),
                       text(sources[i]->index_hint), shapes[i] != nullptr,
                       shapes[i] != nullptr && shapes[i]->extremes, text(refusals[i])});
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
        Plan plan = choose(Situation{});
        for (const analysis::ResolvedSource &s : analysis::resolve_sources(g, view, std::nullopt))
            plans.push_back({s.source, false, "", reason, plan.strategy, plan.reason});
        return sorted(plans);
    }
    std::map<Oid, SourcePlan> by_source;
    std::map<Oid, bool> delta, extremes;
    std::map<Oid, std::string> no_delta;
    for (const Derived &d : derive(tv)) {
        auto [it, fresh] = by_source.try_emplace(d.relid, SourcePlan{d.relid, true, "", "", Strategy::full_difference, ""});
        SourcePlan &p = it->second;
        // (A table read twice is kept by deltas only if both readings are.)
        delta[d.relid] = (fresh || delta[d.relid]) && d.delta;
        extremes[d.relid] = extremes[d.relid] || d.extremes;
        if (!d.delta && no_delta[d.relid].empty())
            no_delta[d.relid] = d.no_delta.empty() ? "delta arithmetic does not keep this source" : d.no_delta;
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
                                      "a watch source): its changes cannot be keyed",
                                      Strategy::full_difference, ""};
    for (auto &[oid, p] : by_source) {
        // What the chooser does with a change of this source alone.
        Situation s{};
        s.table_view = true;
        if (tv.unique_key.empty() && !p.incremental) // (one row has the empty key: keyed)
            s.not_keyed = "the table view has no unique key: its rows are compared whole";
        else if (incremental_option == 0)
            s.not_keyed = "the watch says incremental => false";
        s.changes_known = true;
        s.full_reason = p.incremental ? nullptr : p.reason.c_str();
        bool deltas = delta[oid] && config::delta;
        if (delta[oid] && !config::delta)
            no_delta[oid] = "pgview_auto.delta is off";
        s.deltas = p.incremental && deltas;
        s.keys = p.incremental && !deltas;
        s.no_delta = s.keys ? no_delta[oid].c_str() : nullptr;
        s.one_row = tv.unique_key.empty() && p.incremental;
        Plan plan = choose(s);
        p.strategy = plan.strategy;
        p.why = plan.reason;
        if (s.one_row && plan.strategy == Strategy::full_difference) {
            p.incremental = false;
            p.key_from.clear();
            p.reason = plan.reason;
        }
        if (plan.strategy == Strategy::delta && extremes[oid])
            p.why += s.one_row ? "; an update or delete of its rows recomputes the one row whole (the view keeps min or "
                                 "max)"
                               : "; an update or delete of its rows recomputes their keys (the view keeps min or max)";
        if (incremental_option == 0 && p.incremental) {
            p.incremental = false;
            p.key_from.clear();
            p.reason = "the watch says incremental => false";
        }
        plans.push_back(p);
    }
    return sorted(plans);
}

} // namespace pgview::engine
