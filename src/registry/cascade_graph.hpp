// pgview_auto — the cascade graph: which watched matview is refreshed after which.
// An edge watcher -> source for every watch whose source is a materialized view.
#pragma once

#include <vector>

#include "graph/dependency_graph.hpp"

namespace pgview::registry {

// From the registry (this backend's cache), plus `extra_nodes` (matviews) and
// `extra_edges`. Throws pgview::Error 42P19 when the edges make a cycle.
graph::DependencyGraph cascade_graph(const std::vector<graph::RelId> &extra_nodes,
                                     const std::vector<graph::Edge> &extra_edges = {});

} // namespace pgview::registry
