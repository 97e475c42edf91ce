// pgview_auto — choosing and ordering what pgview_graph draws (pure C++).
#include "graph/picture.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

namespace pgview::graph {

namespace {

// The relations to draw: all, or root and what it reaches either way.
std::vector<RelId> chosen(const DependencyGraph &g, std::optional<RelId> root) {
    std::vector<RelId> out;
    if (!root) {
        for (const Relation &r : g.relations())
            out.push_back(r.id);
        return out;
    }
    (void) g.kind(*root); // throws for a relation not in g
    out.push_back(*root);
    for (const Reached &r : g.dependencies(*root, true))
        out.push_back(r.id);
    for (const Reached &r : g.dependents(*root, true))
        out.push_back(r.id); // (no relation is both: the graph has no cycle)
    return out;
}

} // namespace

Picture make_picture(const DependencyGraph &g, const std::unordered_map<RelId, std::string> &names,
                     const std::vector<Watch> &watches, std::optional<RelId> root) {
    Picture p;
    for (RelId id : chosen(g, root)) {
        auto name = names.find(id);
        p.nodes.push_back({id, g.kind(id), name != names.end() ? name->second : std::to_string(id),
                           root && *root == id});
    }
    // By name; equal names (only ids standing in for names could be) by id.
    std::sort(p.nodes.begin(), p.nodes.end(), [](const Node &a, const Node &b) {
        return std::tie(a.name, a.id) < std::tie(b.name, b.id);
    });
    std::unordered_map<RelId, std::size_t> at;
    for (std::size_t i = 0; i < p.nodes.size(); i++)
        at.emplace(p.nodes[i].id, i);

    // (from, to) -> arrow; std::map keeps them ordered by their ends' places.
    std::map<std::pair<std::size_t, std::size_t>, Arrow> arrows;
    for (const Edge &e : g.direct_edges()) {
        auto from = at.find(e.referenced), to = at.find(e.dependent);
        if (from != at.end() && to != at.end())
            arrows.emplace(std::make_pair(from->second, to->second),
                           Arrow{from->second, to->second, true, {}, {}});
    }
    for (const Watch &w : watches) {
        auto from = at.find(w.source), to = at.find(w.view);
        if (from == at.end() || to == at.end() || from->second == to->second || w.mode.empty())
            continue;
        auto [it, added] = arrows.emplace(std::make_pair(from->second, to->second),
                                          Arrow{from->second, to->second, false, {}, {}});
        (void) added;
        if (!it->second.watched()) {
            it->second.mode = w.mode;
            it->second.strategy = w.strategy;
        }
    }
    for (auto &[ends, arrow] : arrows)
        p.arrows.push_back(std::move(arrow));
    return p;
}

} // namespace pgview::graph
