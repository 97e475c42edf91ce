// pgview_auto — pgview_graph: the dependency graph as Graphviz DOT or Mermaid
// text, whole or around one relation, watched arrows marked with the watch's
// mode and the source's refresh strategy.
//
// Read (catalog graph, names, watch registry, strategies), draw (pure C++:
// graph/picture, graph/render), return one text value. It shows what
// pgview_deps shows, to every role alike: the catalog's relations and edges
// (pg_class and pg_depend are readable by all), the watches (pgview_watches is
// PUBLIC) and the strategy (pgview_explain's, for any view).
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/args.hpp"
#include "graph/dependency_graph.hpp"
#include "graph/picture.hpp"
#include "graph/render.hpp"
#include "engine/explain.hpp"
#include "pg/guard.hpp"
#include "syscat/catalog_reader.hpp"
#include "syscat/relation_info.hpp"
#include "registry/watches.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

using pgview::Error;
using pgview::pg_call;
namespace graph = pgview::graph;
namespace sqlstate = pgview::sqlstate;

namespace {

// How changes of each source refresh a watched view, in short ("delta",
// "keyed" or "full"): the maintenance engine's chooser, as pgview_explain
// reports it (a matview is always refreshed in full).
std::map<Oid, std::string> refresh_strategies(Oid view, graph::Kind kind, int incremental_option) {
    std::map<Oid, std::string> out;
    if (kind != graph::Kind::table_view)
        return out;
    for (const pgview::engine::SourcePlan &p : pgview::engine::source_plans(view, incremental_option))
        out[p.source] = p.strategy == pgview::engine::Strategy::delta             ? "delta"
                        : p.strategy == pgview::engine::Strategy::keyed_recompute ? "keyed"
                                                                                  : "full";
    return out;
}

// Every (source, view) pair of the watch registry between relations of the
// graph, with the view's mode and the source's strategy. Orphaned watches
// (their view dropped) have no view and are not drawn.
std::vector<graph::Watch> read_watches(const graph::DependencyGraph &g) {
    pgview::registry::WatchRow *rows = nullptr;
    pgview::registry::OptionsRow *options = nullptr;
    int nrows = 0, noptions = 0;
    pg_call([&] {
        MemoryContext into = CurrentMemoryContext;
        pgview::registry::with_registry(
            [&] { pgview::registry::registry_load(&rows, &nrows, &options, &noptions, into); });
    });
    std::map<Oid, const pgview::registry::MatviewOptions *> options_of;
    for (int i = 0; i < noptions; i++)
        options_of[options[i].matview] = &options[i].options;

    std::map<Oid, std::map<Oid, std::string>> strategies; // view -> source -> strategy
    std::vector<graph::Watch> out;
    for (int i = 0; i < nrows; i++) {
        const pgview::registry::WatchRow &row = rows[i];
        auto o = options_of.find(row.matview);
        if (o == options_of.end() || !g.contains(row.matview) || !g.contains(row.source))
            continue;
        auto s = strategies.find(row.matview);
        if (s == strategies.end())
            s = strategies.emplace(row.matview, refresh_strategies(row.matview, g.kind(row.matview),
                                                                   o->second->incremental)).first;
        auto strategy = s->second.find(row.source);
        out.push_back({row.source, row.matview, pgview::registry::mode_name(o->second->mode),
                       strategy != s->second.end() ? strategy->second : "full"});
    }
    return out;
}

// schema.name of every relation, quoted as SQL quotes it; one dropped since the
// graph was read keeps its OID (as regclass prints it).
std::unordered_map<graph::RelId, std::string> relation_names(const graph::DependencyGraph &g) {
    const std::vector<graph::Relation> &relations = g.relations();
    std::vector<const char *> names(relations.size(), nullptr);
    pg_call([&] {
        for (std::size_t i = 0; i < relations.size(); i++) {
            Oid relid = relations[i].id;
            const char *name = get_rel_name(relid);
            const char *schema = name != nullptr ? get_namespace_name(get_rel_namespace(relid)) : nullptr;
            if (schema != nullptr)
                names[i] = quote_qualified_identifier(schema, name);
        }
    });
    std::unordered_map<graph::RelId, std::string> out;
    for (std::size_t i = 0; i < relations.size(); i++)
        if (names[i] != nullptr)
            out.emplace(relations[i].id, names[i]);
    return out;
}

} // namespace

PGVIEW_FUNCTION(pgview_graph) {
    pgview::api::require_not_null(fcinfo, 0, "format", "pgview_graph", "Pass 'dot' or 'mermaid'.");
    std::string format_name = pgview::api::text_arg(fcinfo, 0);
    std::optional<graph::Format> format = graph::format_named(format_name);
    if (!format)
        throw Error(sqlstate::invalid_parameter_value, "unknown format '" + format_name + "'", {},
                    "Use format => 'dot' (Graphviz: pipe it to dot -Tsvg) or 'mermaid' (a flowchart for "
                    "Markdown).");
    std::optional<graph::RelId> root;
    if (!PG_ARGISNULL(1)) {
        Oid relid = PG_GETARG_OID(1);
        pg_call([relid] { pgview::syscat::require_catalog_relation(relid, "pgview_graph"); });
        root = relid;
    }

    graph::DependencyGraph g = pgview::syscat::read_dependency_graph();
    if (root)
        pgview::syscat::require_in_graph(g, *root, "pgview_graph");
    std::vector<graph::Watch> watches = read_watches(g);
    graph::Picture picture = graph::make_picture(g, relation_names(g), watches, root);
    std::string text = graph::render(picture, *format);
    return pg_call([&text] {
        return PointerGetDatum(cstring_to_text_with_len(text.data(), static_cast<int>(text.size())));
    });
}
