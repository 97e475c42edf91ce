// pgview_auto — resolving watch sources through views (pure C++).
#include "analysis/resolve.hpp"

#include <algorithm>
#include <unordered_set>

namespace pgview::analysis {

using graph::Kind;
using graph::RelId;

namespace {
// Depth-first through plain views; each relation is visited once.
void descend(const graph::DependencyGraph &g, RelId rel, std::optional<RelId> via,
             std::unordered_set<RelId> &seen, std::vector<ResolvedSource> &out) {
    for (const graph::Reached &r : g.dependencies(rel, false)) {
        if (!seen.insert(r.id).second)
            continue;
        switch (g.kind(r.id)) {
        case Kind::view:
            descend(g, r.id, r.id, seen, out);
            break;
        case Kind::materialized_view:
            out.push_back({r.id, via, true});
            break;
        default:
            out.push_back({r.id, via, false});
        }
    }
}
} // namespace

std::vector<ResolvedSource> resolve_sources(const graph::DependencyGraph &g, RelId matview,
                                            std::optional<RelId> requested) {
    std::vector<ResolvedSource> out;
    std::unordered_set<RelId> seen{matview};
    if (!requested) {
        descend(g, matview, std::nullopt, seen, out);
    } else {
        switch (g.kind(*requested)) {
        case Kind::view:
            seen.insert(*requested);
            descend(g, *requested, *requested, seen, out);
            break;
        case Kind::materialized_view:
            out.push_back({*requested, std::nullopt, true});
            break;
        default:
            out.push_back({*requested, std::nullopt, false});
        }
    }
    std::sort(out.begin(), out.end(),
              [](const ResolvedSource &a, const ResolvedSource &b) { return a.source < b.source; });
    return out;
}

} // namespace pgview::analysis
