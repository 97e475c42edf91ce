// pgview_auto — what a watch captures: the tables under a materialized view
// (or under a named view), found through plain views. Pure C++ on the graph.
#pragma once

#include <optional>
#include <vector>

#include "graph/dependency_graph.hpp"

namespace pgview::analysis {

struct ResolvedSource {
    graph::RelId source;             // a table (captured by a trigger) or a matview (cascade)
    std::optional<graph::RelId> via; // the nearest view it was found through
    bool is_matview;
};

// Sources for `matview` watching `requested` (nullopt: everything it reads).
// A table is itself; a view is resolved down to tables; a materialized view is a
// source of its own and is not resolved through. Ordered by source id.
std::vector<ResolvedSource> resolve_sources(const graph::DependencyGraph &g, graph::RelId matview,
                                            std::optional<graph::RelId> requested);

} // namespace pgview::analysis
