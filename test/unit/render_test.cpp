// pgview_auto — GoogleTest unit tests for drawing the dependency graph
// (src/graph/picture.{hpp,cpp}, src/graph/render*.cpp). No PostgreSQL server.
//
// Build and run: `make unit-test`.
#include "graph/picture.hpp"
#include "graph/render.hpp"

#include <algorithm>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "pg/error.hpp"

namespace {

using pgview::graph::Arrow;
using pgview::graph::DependencyGraph;
using pgview::graph::Edge;
using pgview::graph::Format;
using pgview::graph::Kind;
using pgview::graph::Picture;
using pgview::graph::Relation;
using pgview::graph::RelId;
using pgview::graph::Watch;
using Names = std::unordered_map<RelId, std::string>;

// A small shop: orders -> paid (view) -> stats (matview) -> top (view);
// users -> stats; orders, events -> totals (table view); rates (foreign) ->
// prices (view); an unrelated table. Edges as DependencyGraph has them:
// (dependent, referenced).
const std::vector<Relation> shop_relations{
    {1, Kind::table},  {2, Kind::table},         {3, Kind::view},          {4, Kind::materialized_view},
    {5, Kind::view},   {6, Kind::table_view},    {7, Kind::partitioned_table}, {8, Kind::foreign_table},
    {9, Kind::view},   {10, Kind::table},
};
const std::vector<Edge> shop_edges{{3, 1}, {4, 3}, {4, 2}, {5, 4}, {6, 1}, {6, 7}, {9, 8}};
const Names shop_names{
    {1, "public.orders"}, {2, "public.users"},  {3, "public.paid"},   {4, "public.stats"},   {5, "public.top"},
    {6, "public.totals"}, {7, "public.events"}, {8, "public.rates"},  {9, "public.prices"}, {10, "public.lonely"},
};
// stats watches orders through paid (commit), totals watches orders and events (async).
const std::vector<Watch> shop_watches{
    {1, 4, "commit", "full"}, {2, 4, "commit", "full"}, {1, 6, "async", "keyed"}, {7, 6, "async", "full"}};

DependencyGraph shop() { return DependencyGraph(shop_relations, shop_edges); }

std::vector<std::string> node_names(const Picture &p) {
    std::vector<std::string> out;
    for (const auto &n : p.nodes)
        out.push_back(n.name);
    return out;
}

// "from -> to" (+ " [mode, strategy]" when watched, " (through views)" when not a reads edge).
std::vector<std::string> arrow_texts(const Picture &p) {
    std::vector<std::string> out;
    for (const Arrow &a : p.arrows) {
        std::string s = p.nodes[a.from].name + " -> " + p.nodes[a.to].name;
        if (a.watched())
            s += " [" + a.mode + ", " + a.strategy + "]";
        if (!a.reads)
            s += " (through views)";
        out.push_back(s);
    }
    return out;
}

// ---------------------------------------------------------------------------
// What is drawn
// ---------------------------------------------------------------------------

TEST(GraphPicture, WholeGraphByNameArrowsWithTheData) {
    Picture p = make_picture(shop(), shop_names, {}, std::nullopt);
    EXPECT_EQ(node_names(p), (std::vector<std::string>{"public.events", "public.lonely", "public.orders", "public.paid",
                                                      "public.prices", "public.rates", "public.stats", "public.top",
                                                      "public.totals", "public.users"}));
    // From the relation read to the view reading it; one arrow per edge.
    EXPECT_EQ(arrow_texts(p), (std::vector<std::string>{
                                  "public.events -> public.totals",
                                  "public.orders -> public.paid",
                                  "public.orders -> public.totals",
                                  "public.paid -> public.stats",
                                  "public.rates -> public.prices",
                                  "public.stats -> public.top",
                                  "public.users -> public.stats",
                              }));
    for (const auto &n : p.nodes)
        EXPECT_FALSE(n.root);
    EXPECT_EQ(p.nodes[0].kind, Kind::partitioned_table);
    EXPECT_EQ(p.nodes[8].kind, Kind::table_view);
}

TEST(GraphPicture, AroundRootIsWhatItReadsAndWhatReadsIt) {
    // paid reads orders; stats and top read it. users (read by stats, not by
    // paid) and totals (reads orders, not paid) are not around paid.
    Picture p = make_picture(shop(), shop_names, {}, RelId{3});
    EXPECT_EQ(node_names(p),
              (std::vector<std::string>{"public.orders", "public.paid", "public.stats", "public.top"}));
    EXPECT_EQ(arrow_texts(p), (std::vector<std::string>{"public.orders -> public.paid", "public.paid -> public.stats",
                                                        "public.stats -> public.top"}));
    for (const auto &n : p.nodes)
        EXPECT_EQ(n.root, n.name == "public.paid");

    // A table: itself and what reads it, transitively.
    Picture t = make_picture(shop(), shop_names, {}, RelId{2});
    EXPECT_EQ(node_names(t), (std::vector<std::string>{"public.stats", "public.top", "public.users"}));
    // A relation nothing reads and that reads nothing: alone.
    Picture l = make_picture(shop(), shop_names, {}, RelId{10});
    EXPECT_EQ(node_names(l), (std::vector<std::string>{"public.lonely"}));
    EXPECT_TRUE(l.arrows.empty());
}

TEST(GraphPicture, WatchesMarkArrowsOrAddTheirOwn) {
    Picture p = make_picture(shop(), shop_names, shop_watches, std::nullopt);
    EXPECT_EQ(arrow_texts(p), (std::vector<std::string>{
                                  "public.events -> public.totals [async, full]",
                                  "public.orders -> public.paid",
                                  "public.orders -> public.stats [commit, full] (through views)",
                                  "public.orders -> public.totals [async, keyed]",
                                  "public.paid -> public.stats",
                                  "public.rates -> public.prices",
                                  "public.stats -> public.top",
                                  "public.users -> public.stats [commit, full]",
                              }));
}

TEST(GraphPicture, WatchesAroundRootKeepTheirEndsInside) {
    // Around paid: orders -> stats is inside (both ends are), users -> stats is not.
    Picture p = make_picture(shop(), shop_names, shop_watches, RelId{3});
    EXPECT_EQ(arrow_texts(p), (std::vector<std::string>{
                                  "public.orders -> public.paid",
                                  "public.orders -> public.stats [commit, full] (through views)",
                                  "public.paid -> public.stats",
                                  "public.stats -> public.top",
                              }));
}

TEST(GraphPicture, OddWatchesAreIgnored) {
    std::vector<Watch> watches{
        {99, 4, "commit", "full"},   // unknown source
        {1, 99, "commit", "full"},   // unknown view
        {4, 4, "commit", "full"},    // itself
        {2, 4, "", "full"},          // no mode
        {2, 4, "manual", "full"},    // the first of a repeated one counts
        {2, 4, "async", "keyed"},
    };
    Picture p = make_picture(shop(), shop_names, watches, std::nullopt);
    int watched = 0;
    for (const Arrow &a : p.arrows)
        watched += a.watched();
    EXPECT_EQ(watched, 1);
    EXPECT_EQ(p.arrows.size(), shop_edges.size());
    std::vector<std::string> texts = arrow_texts(p);
    EXPECT_NE(std::find(texts.begin(), texts.end(), "public.users -> public.stats [manual, full]"), texts.end());
}

TEST(GraphPicture, MissingNameIsTheId) {
    Names names = shop_names;
    names.erase(10);
    Picture p = make_picture(shop(), names, {}, RelId{10});
    EXPECT_EQ(node_names(p), (std::vector<std::string>{"10"}));
}

TEST(GraphPicture, RootNotInGraphThrows) {
    EXPECT_THROW(make_picture(shop(), shop_names, {}, RelId{99}), pgview::Error);
}

TEST(GraphPicture, EmptyGraph) {
    Picture p = make_picture(DependencyGraph({}, {}), {}, {}, std::nullopt);
    EXPECT_TRUE(p.nodes.empty());
    EXPECT_TRUE(p.arrows.empty());
    EXPECT_EQ(to_dot(p), "digraph G {\nrankdir=LR;\nnode [fontname=\"Helvetica\", fontsize=11];\n"
                         "edge [fontname=\"Helvetica\", fontsize=9];\n}\n");
    EXPECT_EQ(to_mermaid(p), "flowchart LR\n");
}

// The text does not depend on the order the catalog gave things in.
TEST(GraphPicture, OutputIsDeterministic) {
    Picture first = make_picture(shop(), shop_names, shop_watches, std::nullopt);
    std::string dot = to_dot(first), mermaid = to_mermaid(first);
    std::mt19937 rng(24);
    for (int round = 0; round < 20; round++) {
        std::vector<Relation> rels = shop_relations;
        std::vector<Edge> edges = shop_edges;
        std::vector<Watch> watches = shop_watches;
        std::shuffle(rels.begin(), rels.end(), rng);
        std::shuffle(edges.begin(), edges.end(), rng);
        std::shuffle(watches.begin(), watches.end(), rng);
        Picture p = make_picture(DependencyGraph(rels, edges), shop_names, watches, std::nullopt);
        EXPECT_EQ(to_dot(p), dot);
        EXPECT_EQ(to_mermaid(p), mermaid);
    }
}

// ---------------------------------------------------------------------------
// DOT
// ---------------------------------------------------------------------------

TEST(GraphDot, AroundRootExactly) {
    Picture p = make_picture(shop(), shop_names, shop_watches, RelId{3});
    EXPECT_EQ(to_dot(p),
              "digraph G {\n"
              "rankdir=LR;\n"
              "node [fontname=\"Helvetica\", fontsize=11];\n"
              "edge [fontname=\"Helvetica\", fontsize=9];\n"
              "\"public.orders\"[label=\"public.orders\", shape=box, style=filled, fillcolor=\"#f3f4f6\"];\n"
              "\"public.paid\"[label=\"public.paid\", shape=ellipse, penwidth=2.5];\n"
              "\"public.stats\"[label=\"public.stats\", shape=box3d, style=filled, fillcolor=\"#fef3c7\"];\n"
              "\"public.top\"[label=\"public.top\", shape=ellipse];\n"
              "\"public.orders\"->\"public.paid\" ;\n"
              "\"public.orders\"->\"public.stats\" [label=\"commit, full\", color=\"#1d4ed8\", "
              "fontcolor=\"#1d4ed8\", penwidth=2, style=dashed, constraint=false];\n"
              "\"public.paid\"->\"public.stats\" ;\n"
              "\"public.stats\"->\"public.top\" ;\n"
              "}\n");
}

TEST(GraphDot, ShapesPerKindAndModeColours) {
    std::string dot = to_dot(make_picture(shop(), shop_names, shop_watches, std::nullopt));
    EXPECT_NE(dot.find("\"public.events\"[label=\"public.events\", shape=box, peripheries=2"), std::string::npos);
    EXPECT_NE(dot.find("\"public.rates\"[label=\"public.rates\", shape=box, style=\"filled,dashed\""),
              std::string::npos);
    EXPECT_NE(dot.find("\"public.totals\"[label=\"public.totals\", shape=component"), std::string::npos);
    EXPECT_NE(dot.find("\"public.orders\"->\"public.totals\" [label=\"async, keyed\", color=\"#047857\""),
              std::string::npos);
    EXPECT_NE(dot.find("\"public.users\"->\"public.stats\" [label=\"commit, full\", color=\"#1d4ed8\", "
                       "fontcolor=\"#1d4ed8\", penwidth=2];"),
              std::string::npos);
    EXPECT_EQ(dot.find("penwidth=2.5"), std::string::npos); // no root
}

TEST(GraphDot, NamesAreEscaped) {
    // A quoted identifier may hold double quotes and backslashes: Graphviz reads
    // \" as a quote and \\ as a backslash, in ids and labels alike.
    DependencyGraph g({{1, Kind::table}, {2, Kind::view}}, {{2, 1}});
    Names names{{1, "s.\"a\\\"\"\"b\""}, {2, "s.\"back\\\\slash\""}}; // s."a\""b"  s."back\\slash"
    std::string dot = to_dot(make_picture(g, names, {}, std::nullopt));
    EXPECT_NE(dot.find("\"s.\\\"a\\\\\\\"\\\"\\\"b\\\"\"[label=\"s.\\\"a\\\\\\\"\\\"\\\"b\\\"\""), std::string::npos)
        << dot;
    EXPECT_NE(dot.find("\"s.\\\"back\\\\\\\\slash\\\"\"[label="), std::string::npos) << dot;
}

// ---------------------------------------------------------------------------
// Mermaid
// ---------------------------------------------------------------------------

TEST(GraphMermaid, WholeGraphExactly) {
    Picture p = make_picture(shop(), shop_names, shop_watches, std::nullopt);
    EXPECT_EQ(to_mermaid(p), "flowchart LR\n"
                             "    public_events{{\"public.events\"}}\n"
                             "    public_lonely[\"public.lonely\"]\n"
                             "    public_orders[\"public.orders\"]\n"
                             "    public_paid(\"public.paid\")\n"
                             "    public_prices(\"public.prices\")\n"
                             "    public_rates>\"public.rates\"]\n"
                             "    public_stats[(\"public.stats\")]\n"
                             "    public_top(\"public.top\")\n"
                             "    public_totals[[\"public.totals\"]]\n"
                             "    public_users[\"public.users\"]\n"
                             "    public_events ==>|async, full| public_totals\n"
                             "    public_orders --> public_paid\n"
                             "    public_orders -.->|commit, full| public_stats\n"
                             "    public_orders ==>|async, keyed| public_totals\n"
                             "    public_paid --> public_stats\n"
                             "    public_rates --> public_prices\n"
                             "    public_stats --> public_top\n"
                             "    public_users ==>|commit, full| public_stats\n"
                             "    linkStyle 0 stroke:#047857,stroke-width:2px,color:#047857\n"
                             "    linkStyle 2 stroke:#1d4ed8,stroke-width:2px,color:#1d4ed8\n"
                             "    linkStyle 3 stroke:#047857,stroke-width:2px,color:#047857\n"
                             "    linkStyle 7 stroke:#1d4ed8,stroke-width:2px,color:#1d4ed8\n");
}

TEST(GraphMermaid, RootIsStyled) {
    std::string m = to_mermaid(make_picture(shop(), shop_names, {}, RelId{4}));
    EXPECT_NE(m.find("    style public_stats stroke-width:3px\n"), std::string::npos) << m;
    EXPECT_EQ(m.find("linkStyle"), std::string::npos) << m; // nothing watched
}

TEST(GraphMermaid, IdsAreSanitizedAndUnique) {
    // s.a_b and s_a.b both come out as s_a_b; s.a_b_2 (before s_a.b by name)
    // has taken s_a_b_2 by then, so s_a.b gets s_a_b_3.
    DependencyGraph g({{1, Kind::table}, {2, Kind::table}, {3, Kind::table}, {4, Kind::table}}, {});
    Names names{{1, "s.a_b"}, {2, "s_a.b"}, {3, "s.a_b_2"}, {4, "s.\"Ünï cödé\""}};
    std::string m = to_mermaid(make_picture(g, names, {}, std::nullopt));
    EXPECT_NE(m.find("    s_a_b[\"s.a_b\"]\n"), std::string::npos) << m;
    EXPECT_NE(m.find("    s_a_b_2[\"s.a_b_2\"]\n"), std::string::npos) << m;
    EXPECT_NE(m.find("    s_a_b_3[\"s_a.b\"]\n"), std::string::npos) << m;
    // Non-ASCII bytes are not id characters; in the label they stay as they are.
    EXPECT_NE(m.find("    s____n___c__d___[\"s.#quot;Ünï cödé#quot;\"]\n"), std::string::npos) << m;
}

TEST(GraphMermaid, LabelsAreEscaped) {
    DependencyGraph g({{1, Kind::table}}, {});
    Names names{{1, "s.\"a\"\"#1 <b> & *c* `d` |e|\nf\""}};
    std::string m = to_mermaid(make_picture(g, names, {}, std::nullopt));
    EXPECT_NE(m.find("[\"s.#quot;a#quot;#quot;#35;1 #lt;b#gt; #amp; #42;c#42; #96;d#96; #124;e#124;#10;f#quot;\"]"),
              std::string::npos)
        << m;
}

TEST(GraphRender, FormatNames) {
    EXPECT_EQ(pgview::graph::format_named("dot"), Format::dot);
    EXPECT_EQ(pgview::graph::format_named("mermaid"), Format::mermaid);
    EXPECT_FALSE(pgview::graph::format_named("DOT"));
    EXPECT_FALSE(pgview::graph::format_named("svg"));
    EXPECT_FALSE(pgview::graph::format_named(""));
    Picture p = make_picture(shop(), shop_names, shop_watches, std::nullopt);
    EXPECT_EQ(render(p, Format::dot), to_dot(p));
    EXPECT_EQ(render(p, Format::mermaid), to_mermaid(p));
}

} // namespace
