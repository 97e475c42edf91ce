// pgview_auto — the cascade graph (see cascade_graph.hpp).
#include "registry/cascade_graph.hpp"

#include "pg/guard.hpp"
#include "registry/watch_cache.hpp"

namespace pgview::registry {

graph::DependencyGraph cascade_graph(const std::vector<graph::RelId> &extra_nodes,
                                     const std::vector<graph::Edge> &extra_edges) {
    std::vector<graph::Edge> edges(extra_edges);
    std::vector<graph::Relation> relations;
    pg_call([&] {
        const WatchRow *rows;
        int n;
        matview_sources(&rows, &n);
        for (int i = 0; i < n; i++)
            edges.push_back({rows[i].matview, rows[i].source});
    });
    for (const graph::Edge &e : edges) {
        relations.push_back({e.dependent, graph::Kind::materialized_view});
        relations.push_back({e.referenced, graph::Kind::materialized_view});
    }
    for (graph::RelId id : extra_nodes)
        relations.push_back({id, graph::Kind::materialized_view});
    return graph::DependencyGraph(std::move(relations), edges);
}

} // namespace pgview::registry
