// pgview_auto — dependency graph algorithms (Boost.Graph; pure C++).
#include "graph/dependency_graph.hpp"

#include <algorithm>
#include <string>

#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/reverse_graph.hpp>
#include <boost/graph/topological_sort.hpp>
#include <boost/graph/visitors.hpp>

#include "pg/error.hpp"

namespace pgview::graph {

const char *kind_name(Kind k) {
    switch (k) {
    case Kind::table: return "table";
    case Kind::partitioned_table: return "partitioned table";
    case Kind::view: return "view";
    case Kind::materialized_view: return "materialized view";
    case Kind::foreign_table: return "foreign table";
    case Kind::table_view: return "table view";
    }
    return "relation";
}

bool is_graph_kind(char relkind) {
    switch (relkind) {
    case 'r': case 'p': case 'v': case 'm': case 'f': return true;
    default: return false;
    }
}

DependencyGraph::DependencyGraph(std::vector<Relation> relations, const std::vector<Edge> &edges)
    : relations_(std::move(relations)) {
    std::sort(relations_.begin(), relations_.end(),
              [](const Relation &a, const Relation &b) { return a.id < b.id; });
    relations_.erase(std::unique(relations_.begin(), relations_.end(),
                                 [](const Relation &a, const Relation &b) { return a.id == b.id; }),
                     relations_.end());
    g_ = Graph(relations_.size());
    index_.reserve(relations_.size());
    for (Vertex v = 0; v < relations_.size(); ++v)
        index_.emplace(relations_[v].id, v);

    // Sorted, de-duplicated edges make adjacency order (and so every result) deterministic.
    std::vector<std::pair<Vertex, Vertex>> pairs;
    pairs.reserve(edges.size());
    for (const Edge &e : edges) {
        auto d = index_.find(e.dependent), r = index_.find(e.referenced);
        if (d == index_.end() || r == index_.end() || d->second == r->second)
            continue;
        pairs.emplace_back(d->second, r->second);
    }
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    for (const auto &p : pairs)
        boost::add_edge(p.first, p.second, g_);
    compute_levels();
}

DependencyGraph::Vertex DependencyGraph::vertex(RelId id) const {
    auto it = index_.find(id);
    if (it == index_.end())
        throw Error(sqlstate::internal_error,
                    "relation " + std::to_string(id) + " is not in the dependency graph");
    return it->second;
}

Kind DependencyGraph::kind(RelId id) const { return relations_[vertex(id)].kind; }

int DependencyGraph::level(RelId id) const { return level_[vertex(id)]; }

std::vector<Edge> DependencyGraph::direct_edges() const {
    std::vector<Edge> out;
    out.reserve(boost::num_edges(g_));
    for (auto [it, end] = boost::edges(g_); it != end; ++it)
        out.push_back({relations_[boost::source(*it, g_)].id, relations_[boost::target(*it, g_)].id});
    std::sort(out.begin(), out.end(), [](const Edge &a, const Edge &b) {
        return a.dependent != b.dependent ? a.dependent < b.dependent : a.referenced < b.referenced;
    });
    return out;
}

std::vector<Reached> DependencyGraph::reach(Vertex from, bool forward, bool transitive) const {
    std::vector<Reached> out;
    if (!transitive) {
        auto add = [&](Vertex v) { out.push_back({relations_[v].id, 1}); };
        if (forward)
            for (auto [it, end] = boost::adjacent_vertices(from, g_); it != end; ++it) add(*it);
        else
            for (auto [it, end] = boost::inv_adjacent_vertices(from, g_); it != end; ++it) add(*it);
    } else {
        // Breadth-first search gives shortest path lengths; unreached vertices keep -1.
        std::vector<int> distance(boost::num_vertices(g_), -1);
        distance[from] = 0;
        auto visitor = boost::make_bfs_visitor(
            boost::record_distances(distance.data(), boost::on_tree_edge()));
        if (forward)
            boost::breadth_first_search(g_, from, boost::visitor(visitor));
        else
            boost::breadth_first_search(boost::make_reverse_graph(g_), from, boost::visitor(visitor));
        for (Vertex v = 0; v < distance.size(); ++v)
            if (distance[v] > 0)
                out.push_back({relations_[v].id, distance[v]});
    }
    std::sort(out.begin(), out.end(), [](const Reached &a, const Reached &b) {
        return a.depth != b.depth ? a.depth < b.depth : a.id < b.id;
    });
    return out;
}

std::vector<Reached> DependencyGraph::dependencies(RelId id, bool transitive) const {
    return reach(vertex(id), true, transitive);
}

std::vector<Reached> DependencyGraph::dependents(RelId id, bool transitive) const {
    return reach(vertex(id), false, transitive);
}

std::size_t DependencyGraph::dependency_count(RelId id) const { return boost::out_degree(vertex(id), g_); }

std::size_t DependencyGraph::dependent_count(RelId id) const { return boost::in_degree(vertex(id), g_); }

void DependencyGraph::compute_levels() {
    // topological_sort emits each vertex after everything it reads.
    std::vector<Vertex> order;
    order.reserve(boost::num_vertices(g_));
    try {
        boost::topological_sort(g_, std::back_inserter(order));
    } catch (const boost::not_a_dag &) {
        throw Error(sqlstate::invalid_recursion, "the view dependency graph has a cycle",
                    "Views and materialized views must not depend on each other in a circle.");
    }
    level_.assign(boost::num_vertices(g_), 0);
    for (Vertex v : order)
        for (auto [it, end] = boost::adjacent_vertices(v, g_); it != end; ++it)
            level_[v] = std::max(level_[v], level_[*it] + 1);
}

std::vector<RelId> DependencyGraph::refresh_order(const std::vector<RelId> &roots) const {
    std::vector<Vertex> chosen;
    if (roots.empty()) {
        for (Vertex v = 0; v < relations_.size(); ++v)
            if (is_refreshable(relations_[v].kind))
                chosen.push_back(v);
    } else {
        std::vector<bool> seen(relations_.size(), false);
        for (RelId root : roots) {
            Vertex r = vertex(root);
            seen[r] = true; // left out below unless it has rows to refresh
            for (const Reached &d : reach(r, false, true))
                seen[vertex(d.id)] = true;
        }
        for (Vertex v = 0; v < relations_.size(); ++v)
            if (seen[v] && is_refreshable(relations_[v].kind))
                chosen.push_back(v);
    }
    std::sort(chosen.begin(), chosen.end(), [this](Vertex a, Vertex b) {
        return level_[a] != level_[b] ? level_[a] < level_[b] : relations_[a].id < relations_[b].id;
    });
    std::vector<RelId> out;
    out.reserve(chosen.size());
    for (Vertex v : chosen)
        out.push_back(relations_[v].id);
    return out;
}

} // namespace pgview::graph
