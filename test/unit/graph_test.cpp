// pgview_auto — GoogleTest unit tests for the pure C++ dependency graph
// (src/graph/dependency_graph.{hpp,cpp}). No PostgreSQL server is involved.
//
// Build and run: `make unit-test`.
#include "graph/dependency_graph.hpp"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "pg/error.hpp"

namespace {

using pgview::graph::DependencyGraph;
using pgview::graph::Edge;
using pgview::graph::Kind;
using pgview::graph::Reached;
using pgview::graph::Relation;
using pgview::graph::RelId;

using IdDepths = std::vector<std::pair<RelId, int>>;  // (id, depth)
using IdPairs = std::vector<std::pair<RelId, RelId>>; // (dependent, referenced)

// Reached and Edge have no operator==; compare them as pairs (gtest prints those).
IdDepths as_pairs(const std::vector<Reached> &reached) {
    IdDepths out;
    for (const Reached &r : reached)
        out.emplace_back(r.id, r.depth);
    return out;
}

IdPairs as_pairs(const std::vector<Edge> &edges) {
    IdPairs out;
    for (const Edge &e : edges)
        out.emplace_back(e.dependent, e.referenced);
    return out;
}

// The SQLSTATE of the pgview::Error that `f` throws, or "no error". Any other
// exception escapes and fails the test.
template <class F>
std::string sqlstate_of(F &&f) {
    try {
        f();
    } catch (const pgview::Error &e) {
        return e.sqlstate();
    }
    return "no error";
}

// ---------------------------------------------------------------------------
// kind_name / is_graph_kind
// ---------------------------------------------------------------------------

TEST(GraphKinds, KindNames) {
    EXPECT_STREQ(pgview::graph::kind_name(Kind::table), "table");
    EXPECT_STREQ(pgview::graph::kind_name(Kind::partitioned_table), "partitioned table");
    EXPECT_STREQ(pgview::graph::kind_name(Kind::view), "view");
    EXPECT_STREQ(pgview::graph::kind_name(Kind::materialized_view), "materialized view");
    EXPECT_STREQ(pgview::graph::kind_name(Kind::foreign_table), "foreign table");
}

TEST(GraphKinds, IsGraphKind) {
    for (char c : {'r', 'p', 'v', 'm', 'f'})
        EXPECT_TRUE(pgview::graph::is_graph_kind(c)) << "relkind '" << c << "'";
    // Indexes, sequences, composite types, TOAST tables and junk are not.
    for (char c : {'i', 'I', 'S', 'c', 't', 'x', '\0'})
        EXPECT_FALSE(pgview::graph::is_graph_kind(c)) << "relkind code " << int(c);
}

// ---------------------------------------------------------------------------
// Construction: relations, edge filtering, cycles
// ---------------------------------------------------------------------------

TEST(GraphConstruction, RelationsSortedAndDeduplicated) {
    DependencyGraph g({{30, Kind::view}, {10, Kind::table}, {20, Kind::materialized_view},
                       {10, Kind::table}},
                      {});
    const auto &rels = g.relations();
    ASSERT_EQ(rels.size(), 3u);
    EXPECT_EQ(rels[0].id, 10u);
    EXPECT_EQ(rels[1].id, 20u);
    EXPECT_EQ(rels[2].id, 30u);
    EXPECT_TRUE(g.contains(20));
    EXPECT_FALSE(g.contains(99));
    EXPECT_EQ(g.kind(10), Kind::table);
    EXPECT_EQ(g.kind(20), Kind::materialized_view);
    EXPECT_EQ(g.kind(30), Kind::view);
    EXPECT_EQ(g.edge_count(), 0u);
}

TEST(GraphConstruction, EdgesFilteredDeduplicatedAndSorted) {
    DependencyGraph g({{1, Kind::table}, {2, Kind::view}, {3, Kind::materialized_view}},
                      {
                          {3, 2},
                          {2, 1},
                          {2, 1},  // duplicate
                          {3, 3},  // self edge
                          {3, 99}, // unknown referenced
                          {99, 1}, // unknown dependent
                          {3, 1},
                          {3, 2},  // duplicate
                          {2, 2},  // self edge
                      });
    EXPECT_EQ(g.edge_count(), 3u);
    EXPECT_EQ(as_pairs(g.direct_edges()), (IdPairs{{2, 1}, {3, 1}, {3, 2}}));
    EXPECT_FALSE(g.contains(99));

    EXPECT_EQ(g.dependency_count(2), 1u); // the duplicate counts once
    EXPECT_EQ(g.dependency_count(3), 2u); // no self edge, no unknown
    EXPECT_EQ(g.dependent_count(1), 2u);
    EXPECT_EQ(g.dependent_count(3), 0u);  // its self edge is ignored

    // A self edge is not a cycle: the constructor above did not throw, and the
    // relation does not reach itself.
    EXPECT_EQ(as_pairs(g.dependencies(3, true)), (IdDepths{{1, 1}, {2, 1}}));
    EXPECT_EQ(as_pairs(g.dependents(2, true)), (IdDepths{{3, 1}}));
}

TEST(GraphConstruction, EmptyGraph) {
    DependencyGraph g({}, {{1, 2}});
    EXPECT_TRUE(g.relations().empty());
    EXPECT_EQ(g.edge_count(), 0u);
    EXPECT_TRUE(g.direct_edges().empty());
    EXPECT_TRUE(g.refresh_order({}).empty());
}

TEST(GraphConstruction, TwoViewCycleThrows) {
    const std::vector<Relation> rels{{1, Kind::view}, {2, Kind::view}};
    EXPECT_EQ(sqlstate_of([&] { DependencyGraph g(rels, {{1, 2}, {2, 1}}); }), "42P19");
    // Either edge alone is fine.
    EXPECT_EQ(sqlstate_of([&] { DependencyGraph g(rels, {{1, 2}}); }), "no error");
}

TEST(GraphConstruction, LongerCycleThrows) {
    const std::vector<Relation> rels{{1, Kind::table}, {2, Kind::view},
                                     {3, Kind::materialized_view}, {4, Kind::view}};
    // 2 -> 3 -> 4 -> 2, hanging off a table.
    EXPECT_EQ(sqlstate_of([&] { DependencyGraph g(rels, {{2, 1}, {2, 3}, {3, 4}, {4, 2}}); }),
              "42P19");
    try {
        DependencyGraph g(rels, {{2, 3}, {3, 4}, {4, 2}});
        FAIL() << "a cycle was accepted";
    } catch (const pgview::Error &e) {
        EXPECT_EQ(e.sqlstate(), "42P19");
        EXPECT_FALSE(std::string(e.what()).empty());
    }
}

// ---------------------------------------------------------------------------
// A small hand-made graph. Edges point from dependent to referenced; ids are
// chosen so that id order disagrees with dependency order.
//
//   t100 (table)   t200 (table)   p300 (partitioned)   f400 (foreign)
//   mv30  -> t100
//   v40   -> t100
//   mv20  -> mv30, v40                 (diamond over t100)
//   v50   -> mv20
//   mv10  -> v50, t100                 (t100 both directly and 4 steps down)
//   mv60  -> t200                      (unrelated to t100)
//   mv70  -> mv60, p300, f400
//
// Levels: tables 0; mv30 v40 mv60 1; mv20 mv70 2; v50 3; mv10 4.
// ---------------------------------------------------------------------------

class SampleGraph : public ::testing::Test {
protected:
    static constexpr RelId t100 = 100, t200 = 200, p300 = 300, f400 = 400;
    static constexpr RelId mv10 = 10, mv20 = 20, mv30 = 30, v40 = 40, v50 = 50, mv60 = 60,
                           mv70 = 70;
    static constexpr RelId unknown = 999;

    DependencyGraph g{
        {
            {t100, Kind::table},
            {t200, Kind::table},
            {p300, Kind::partitioned_table},
            {f400, Kind::foreign_table},
            {mv10, Kind::materialized_view},
            {mv20, Kind::materialized_view},
            {mv30, Kind::materialized_view},
            {v40, Kind::view},
            {v50, Kind::view},
            {mv60, Kind::materialized_view},
            {mv70, Kind::materialized_view},
        },
        {
            {mv30, t100},
            {v40, t100},
            {mv20, mv30},
            {mv20, v40},
            {v50, mv20},
            {mv10, v50},
            {mv10, t100},
            {mv60, t200},
            {mv70, mv60},
            {mv70, p300},
            {mv70, f400},
        }};
};

TEST_F(SampleGraph, DirectEdges) {
    EXPECT_EQ(g.edge_count(), 11u);
    EXPECT_EQ(as_pairs(g.direct_edges()),
              (IdPairs{{mv10, v50}, {mv10, t100}, {mv20, mv30}, {mv20, v40}, {mv30, t100},
                       {v40, t100}, {v50, mv20}, {mv60, t200}, {mv70, mv60}, {mv70, p300},
                       {mv70, f400}}));
}

TEST_F(SampleGraph, DirectDependenciesAndDependents) {
    EXPECT_EQ(as_pairs(g.dependencies(mv10, false)), (IdDepths{{v50, 1}, {t100, 1}}));
    EXPECT_EQ(as_pairs(g.dependencies(mv20, false)), (IdDepths{{mv30, 1}, {v40, 1}}));
    EXPECT_EQ(as_pairs(g.dependencies(mv70, false)), (IdDepths{{mv60, 1}, {p300, 1}, {f400, 1}}));
    EXPECT_TRUE(g.dependencies(t100, false).empty());

    EXPECT_EQ(as_pairs(g.dependents(t100, false)), (IdDepths{{mv10, 1}, {mv30, 1}, {v40, 1}}));
    EXPECT_EQ(as_pairs(g.dependents(mv20, false)), (IdDepths{{v50, 1}}));
    EXPECT_TRUE(g.dependents(mv10, false).empty());
}

TEST_F(SampleGraph, TransitiveDependenciesUseShortestDepth) {
    // mv10 reaches t100 directly (depth 1) and through v50/mv20/mv30 (depth 4).
    // Order is by depth first: v50 (50) before mv20 (20).
    EXPECT_EQ(as_pairs(g.dependencies(mv10, true)),
              (IdDepths{{v50, 1}, {t100, 1}, {mv20, 2}, {mv30, 3}, {v40, 3}}));
    // The diamond: t100 is two steps away on both sides, listed once.
    EXPECT_EQ(as_pairs(g.dependencies(mv20, true)), (IdDepths{{mv30, 1}, {v40, 1}, {t100, 2}}));
    EXPECT_EQ(as_pairs(g.dependencies(mv70, true)),
              (IdDepths{{mv60, 1}, {p300, 1}, {f400, 1}, {t200, 2}}));
    EXPECT_TRUE(g.dependencies(f400, true).empty());
}

TEST_F(SampleGraph, TransitiveDependentsUseShortestDepth) {
    // mv10 reads t100 directly (depth 1), not at depth 4 through v50.
    EXPECT_EQ(as_pairs(g.dependents(t100, true)),
              (IdDepths{{mv10, 1}, {mv30, 1}, {v40, 1}, {mv20, 2}, {v50, 3}}));
    EXPECT_EQ(as_pairs(g.dependents(mv30, true)), (IdDepths{{mv20, 1}, {v50, 2}, {mv10, 3}}));
    EXPECT_EQ(as_pairs(g.dependents(t200, true)), (IdDepths{{mv60, 1}, {mv70, 2}}));
    EXPECT_TRUE(g.dependents(mv10, true).empty());
}

TEST_F(SampleGraph, Counts) {
    EXPECT_EQ(g.dependency_count(mv10), 2u);
    EXPECT_EQ(g.dependency_count(mv20), 2u);
    EXPECT_EQ(g.dependency_count(mv70), 3u);
    EXPECT_EQ(g.dependency_count(t100), 0u);
    EXPECT_EQ(g.dependent_count(t100), 3u);
    EXPECT_EQ(g.dependent_count(mv60), 1u);
    EXPECT_EQ(g.dependent_count(mv10), 0u);
    EXPECT_EQ(g.dependent_count(p300), 1u);
}

TEST_F(SampleGraph, Levels) {
    for (RelId table : {t100, t200, p300, f400})
        EXPECT_EQ(g.level(table), 0) << table;
    EXPECT_EQ(g.level(mv30), 1);
    EXPECT_EQ(g.level(v40), 1);
    EXPECT_EQ(g.level(mv60), 1);
    EXPECT_EQ(g.level(mv20), 2);
    EXPECT_EQ(g.level(mv70), 2);
    EXPECT_EQ(g.level(v50), 3);
    EXPECT_EQ(g.level(mv10), 4); // longest chain, not the direct edge to t100
}

TEST_F(SampleGraph, RefreshOrderAll) {
    // Matviews only; by level, then id: mv30 and mv60 tie at level 1, mv20 and
    // mv70 at level 2; mv10 comes last although the plain view v50 separates it
    // from mv20 and its id is the smallest.
    EXPECT_EQ(g.refresh_order({}), (std::vector<RelId>{mv30, mv60, mv20, mv70, mv10}));
}

TEST_F(SampleGraph, RefreshOrderFromRoots) {
    // mv30 and every matview reading it, also through the plain view v50;
    // mv60/mv70 are unrelated.
    EXPECT_EQ(g.refresh_order({mv30}), (std::vector<RelId>{mv30, mv20, mv10}));
    EXPECT_EQ(g.refresh_order({mv20}), (std::vector<RelId>{mv20, mv10}));
    EXPECT_EQ(g.refresh_order({mv10}), (std::vector<RelId>{mv10}));
    EXPECT_EQ(g.refresh_order({mv60}), (std::vector<RelId>{mv60, mv70}));
    EXPECT_EQ(g.refresh_order({mv70}), (std::vector<RelId>{mv70}));
    // Several (and repeated) roots: one list, in the global order.
    EXPECT_EQ(g.refresh_order({mv70, mv20, mv70}), (std::vector<RelId>{mv20, mv70, mv10}));
    EXPECT_EQ(g.refresh_order({mv10, mv60, mv30}), g.refresh_order({}));
}

TEST_F(SampleGraph, RefreshOrderFromTableOrViewRoot) {
    // A table, plain view or foreign table stands for what its change makes
    // stale: the matviews reading it, not itself.
    EXPECT_EQ(g.refresh_order({t100}), (std::vector<RelId>{mv30, mv20, mv10}));
    EXPECT_EQ(g.refresh_order({v40}), (std::vector<RelId>{mv20, mv10}));
    EXPECT_EQ(g.refresh_order({v50}), (std::vector<RelId>{mv10}));
    EXPECT_EQ(g.refresh_order({f400}), (std::vector<RelId>{mv70}));
    EXPECT_EQ(g.refresh_order({p300, mv30}), (std::vector<RelId>{mv30, mv20, mv70, mv10}));
}

TEST(GraphRefreshOrder, TableViewsAreOrderedWithMatviews) {
    // t1 <- tv2 (table view) <- mv3 <- tv4; v5 reads tv2 and is left out.
    DependencyGraph g({{1, Kind::table}, {2, Kind::table_view}, {3, Kind::materialized_view},
                       {4, Kind::table_view}, {5, Kind::view}},
                      {{2, 1}, {3, 2}, {4, 3}, {5, 2}});
    EXPECT_EQ(g.refresh_order({}), (std::vector<RelId>{2, 3, 4}));
    EXPECT_EQ(g.refresh_order({2}), (std::vector<RelId>{2, 3, 4}));
    EXPECT_EQ(g.refresh_order({4, 3}), (std::vector<RelId>{3, 4}));
    EXPECT_EQ(g.refresh_order({1}), (std::vector<RelId>{2, 3, 4}));
    EXPECT_TRUE(g.refresh_order({5}).empty());
}

TEST_F(SampleGraph, UnknownRelationThrowsInternalError) {
    EXPECT_EQ(sqlstate_of([&] { g.refresh_order({unknown}); }), "XX000");
    EXPECT_EQ(sqlstate_of([&] { g.refresh_order({mv30, unknown}); }), "XX000");
    EXPECT_EQ(sqlstate_of([&] { g.kind(unknown); }), "XX000");
    EXPECT_EQ(sqlstate_of([&] { g.level(unknown); }), "XX000");
    EXPECT_EQ(sqlstate_of([&] { g.dependencies(unknown, false); }), "XX000");
    EXPECT_EQ(sqlstate_of([&] { g.dependents(unknown, true); }), "XX000");
    EXPECT_EQ(sqlstate_of([&] { g.dependency_count(unknown); }), "XX000");
    EXPECT_EQ(sqlstate_of([&] { g.dependent_count(unknown); }), "XX000");
}

// ---------------------------------------------------------------------------
// Randomized: a ~300-node DAG against a by-hand reference.
// ---------------------------------------------------------------------------

using Adjacency = std::map<RelId, std::set<RelId>>;

// Shortest distances from `from` by breadth-first search, ordered by (depth, id).
IdDepths reference_reach(const Adjacency &adj, RelId from) {
    std::map<RelId, int> dist{{from, 0}};
    std::deque<RelId> queue{from};
    while (!queue.empty()) {
        RelId u = queue.front();
        queue.pop_front();
        auto it = adj.find(u);
        if (it == adj.end())
            continue;
        for (RelId v : it->second)
            if (dist.emplace(v, dist[u] + 1).second)
                queue.push_back(v);
    }
    IdDepths out;
    for (const auto &[id, depth] : dist)
        if (id != from)
            out.emplace_back(id, depth);
    std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) {
        return a.second != b.second ? a.second < b.second : a.first < b.first;
    });
    return out;
}

class RandomDag : public ::testing::Test {
protected:
    static constexpr int kNodes = 300;
    static constexpr int kLeaves = 30; // the first positions are tables of some sort

    void SetUp() override {
        std::mt19937 rng(20240611u);
        auto below = [&rng](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };

        // Ids shuffled (by hand, so the result does not depend on the library)
        // so that id order has nothing to do with topological order.
        std::vector<RelId> ids(kNodes);
        for (int i = 0; i < kNodes; ++i)
            ids[i] = 1000 + 7 * static_cast<RelId>(i);
        for (int i = kNodes - 1; i > 0; --i)
            std::swap(ids[i], ids[below(static_cast<std::uint32_t>(i) + 1)]);
        by_position = ids;

        const Kind leaf_kinds[] = {Kind::table, Kind::partitioned_table, Kind::foreign_table};
        std::vector<Relation> rels;
        std::vector<Edge> edges;
        for (int p = 0; p < kNodes; ++p) {
            RelId id = ids[p];
            Kind k = p < kLeaves ? leaf_kinds[below(3)]
                                 : (below(5) < 2 ? Kind::materialized_view : Kind::view);
            kinds[id] = k;
            rels.push_back({id, k});
            forward[id];
            backward[id];
            if (p < kLeaves)
                continue;
            // Each view reads 1-4 relations placed before it: a DAG.
            int refs = 1 + static_cast<int>(below(4));
            for (int r = 0; r < refs; ++r) {
                RelId target = ids[below(static_cast<std::uint32_t>(p))];
                edges.push_back({id, target});
                forward[id].insert(target);
                backward[target].insert(id);
            }
        }
        // Noise the graph must ignore: duplicates, self edges, unknown ids.
        const std::size_t real = edges.size();
        for (int i = 0; i < 50; ++i)
            edges.push_back(edges[below(static_cast<std::uint32_t>(real))]);
        for (int i = 0; i < 20; ++i) {
            RelId id = ids[below(kNodes)];
            edges.push_back({id, id});
            edges.push_back({id, 5});      // 5 is not an id
            edges.push_back({999999, id}); // nor is 999999
        }
        // Hand the input over in a scrambled order.
        std::reverse(rels.begin(), rels.end());
        std::reverse(edges.begin(), edges.end());
        graph = std::make_unique<DependencyGraph>(std::move(rels), edges);

        // Reference levels: longest chain below, in topological (position) order.
        for (RelId id : by_position) {
            int lv = 0;
            for (RelId dep : forward[id])
                lv = std::max(lv, levels.at(dep) + 1);
            levels[id] = lv;
        }
    }

    std::vector<RelId> by_position;   // topological: everything an id reads is earlier
    std::map<RelId, Kind> kinds;
    Adjacency forward;                // dependent -> referenced
    Adjacency backward;               // referenced -> dependent
    std::map<RelId, int> levels;
    std::unique_ptr<DependencyGraph> graph;
};

TEST_F(RandomDag, EdgesMatchReference) {
    IdPairs expected;
    for (const auto &[from, targets] : forward)
        for (RelId to : targets)
            expected.emplace_back(from, to);
    EXPECT_GT(expected.size(), 300u);
    EXPECT_EQ(as_pairs(graph->direct_edges()), expected);
    EXPECT_EQ(graph->edge_count(), expected.size());
    EXPECT_EQ(graph->relations().size(), static_cast<std::size_t>(kNodes));
}

TEST_F(RandomDag, ReachMatchesReferenceBfs) {
    bool saw_deep = false;
    for (RelId id : by_position) {
        SCOPED_TRACE("relation " + std::to_string(id));
        IdDepths deps = reference_reach(forward, id);
        ASSERT_EQ(as_pairs(graph->dependencies(id, true)), deps);
        ASSERT_EQ(as_pairs(graph->dependents(id, true)), reference_reach(backward, id));
        ASSERT_EQ(graph->dependency_count(id), forward[id].size());
        ASSERT_EQ(graph->dependent_count(id), backward[id].size());
        ASSERT_EQ(graph->dependencies(id, false).size(), forward[id].size());
        ASSERT_EQ(graph->dependents(id, false).size(), backward[id].size());
        ASSERT_EQ(graph->level(id), levels[id]);
        ASSERT_EQ(graph->kind(id), kinds[id]);
        if (!deps.empty() && deps.back().second >= 4)
            saw_deep = true;
    }
    EXPECT_TRUE(saw_deep) << "the random graph should have some long chains";
}

TEST_F(RandomDag, RefreshOrderPutsDependenciesFirst) {
    const std::vector<RelId> order = graph->refresh_order({});
    std::map<RelId, std::size_t> pos;
    for (std::size_t i = 0; i < order.size(); ++i) {
        ASSERT_EQ(kinds[order[i]], Kind::materialized_view) << order[i];
        ASSERT_TRUE(pos.emplace(order[i], i).second) << "listed twice: " << order[i];
    }
    std::size_t matviews = 0;
    for (const auto &[id, k] : kinds)
        matviews += k == Kind::materialized_view;
    ASSERT_EQ(order.size(), matviews);
    ASSERT_GT(matviews, 50u);

    // Every matview comes after every matview it reaches (through views or not).
    std::size_t checked = 0;
    for (RelId mv : order)
        for (const auto &[dep, depth] : reference_reach(forward, mv))
            if (kinds[dep] == Kind::materialized_view) {
                EXPECT_LT(pos.at(dep), pos.at(mv)) << mv << " reads " << dep;
                ++checked;
            }
    EXPECT_GT(checked, 0u);
    // And the order is (level, id).
    for (std::size_t i = 1; i < order.size(); ++i) {
        std::pair<int, RelId> prev{levels[order[i - 1]], order[i - 1]};
        std::pair<int, RelId> cur{levels[order[i]], order[i]};
        EXPECT_LT(prev, cur);
    }
}

TEST_F(RandomDag, RefreshOrderFromRootsMatchesReference) {
    const std::vector<RelId> all = graph->refresh_order({});
    std::map<RelId, std::size_t> pos;
    for (std::size_t i = 0; i < all.size(); ++i)
        pos[all[i]] = i;

    std::mt19937 rng(7u);
    for (int trial = 0; trial < 20; ++trial) {
        std::vector<RelId> roots;
        std::set<RelId> expected;
        for (int r = 0, n = 1 + static_cast<int>(rng() % 3); r < n; ++r) {
            RelId root = all[rng() % all.size()];
            roots.push_back(root);
            expected.insert(root);
            for (const auto &[dep, depth] : reference_reach(backward, root))
                if (kinds[dep] == Kind::materialized_view)
                    expected.insert(dep);
        }
        SCOPED_TRACE("trial " + std::to_string(trial));
        const std::vector<RelId> order = graph->refresh_order(roots);
        EXPECT_EQ(std::set<RelId>(order.begin(), order.end()), expected);
        EXPECT_EQ(order.size(), expected.size()); // no repeats
        for (std::size_t i = 1; i < order.size(); ++i)
            EXPECT_LT(pos.at(order[i - 1]), pos.at(order[i])) << "not in the global order";
    }
}

} // namespace
