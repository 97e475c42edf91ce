// pgview_auto — the dependency graph: which relation reads which.
//
// Pure C++ over Boost.Graph; no PostgreSQL call at all (it is unit-tested
// without a server). An edge dependent -> referenced means "dependent reads
// referenced" (a view's query names the relation). Relations are identified by
// their OID, kept as a plain 32-bit number here.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

namespace pgview::graph {

using RelId = std::uint32_t;

// pg_class.relkind letters of the relations the graph holds.
enum class Kind : char {
    table = 'r',
    partitioned_table = 'p',
    view = 'v',
    materialized_view = 'm',
    foreign_table = 'f',
    table_view = 't', // not a relkind: a table pgview_auto keeps equal to a query
};
const char *kind_name(Kind k);          // 'table', 'materialized view', ...
// Materialized views and table views: the relations that keep rows of a query.
inline bool is_refreshable(Kind k) { return k == Kind::materialized_view || k == Kind::table_view; }
bool is_graph_kind(char relkind);       // one of the five above

struct Relation {
    RelId id;
    Kind kind;
};

struct Edge {
    RelId dependent;
    RelId referenced;
};

// A relation reached from another, with the shortest path length (1 = direct).
struct Reached {
    RelId id;
    int depth;
};

class DependencyGraph {
public:
    // Edges that name a relation not in `relations`, and self edges, are ignored;
    // duplicate edges count once.
    DependencyGraph(std::vector<Relation> relations, const std::vector<Edge> &edges);

    bool contains(RelId id) const { return index_.count(id) != 0; }
    Kind kind(RelId id) const;                      // throws if unknown
    const std::vector<Relation> &relations() const { return relations_; } // ordered by id

    std::vector<Edge> direct_edges() const;         // ordered by (dependent, referenced)
    std::size_t edge_count() const { return boost::num_edges(g_); }

    // What `id` reads (dependencies) or who reads `id` (dependents): direct only,
    // or transitively with shortest depth; ordered by (depth, id).
    std::vector<Reached> dependencies(RelId id, bool transitive) const;
    std::vector<Reached> dependents(RelId id, bool transitive) const;
    std::size_t dependency_count(RelId id) const;   // direct
    std::size_t dependent_count(RelId id) const;    // direct

    // Materialized views and table views, dependencies first. Each one's place
    // is fixed for the whole graph (longest chain of relations under it, then
    // OID), so any subset comes out in the same relative order: a global lock
    // order. `roots` empty: every one of them; else the roots that are
    // refreshable and every refreshable relation that reads a root, transitively
    // (a table or plain view root stands for what its change makes stale).
    std::vector<RelId> refresh_order(const std::vector<RelId> &roots) const;

    // The level used by refresh_order: 0 for a relation that reads nothing.
    int level(RelId id) const;

private:
    using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
    using Vertex = Graph::vertex_descriptor;

    Vertex vertex(RelId id) const;
    std::vector<Reached> reach(Vertex from, bool forward, bool transitive) const;
    void compute_levels();

    std::vector<Relation> relations_;               // vertex i is relations_[i]
    std::unordered_map<RelId, Vertex> index_;
    Graph g_;
    std::vector<int> level_;
};

} // namespace pgview::graph
