// pgview_auto — a Picture as Graphviz DOT, written by Boost.Graph's
// write_graphviz with our own vertex, edge and graph property writers (pure C++).
#include <sstream>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/graphviz.hpp>
#include <boost/property_map/function_property_map.hpp>

#include "graph/render.hpp"

namespace pgview::graph {

namespace {

struct ArrowRef {
    std::size_t index; // into Picture::arrows
};
// Vertex i is Picture::nodes[i]. bidirectionalS keeps one list of every edge,
// which write_graphviz walks in insertion order: the arrows' order. (Its
// directedS edge iterator also trips GCC 12's -Wmaybe-uninitialized at -O2.)
using DotGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, boost::no_property, ArrowRef>;
using Vertex = DotGraph::vertex_descriptor;
using EdgeRef = DotGraph::edge_descriptor;

// Graphviz reads "\\" in a quoted string as one escaped backslash (and in a
// label, an escString, a lone backslash starts an escape: \n, \N, \l, ...), so a
// name's own backslashes are doubled before escape_dot_string quotes the text
// and escapes its double quotes. Ids get the same, so that a name with a
// backslash before a quote does not end its string early.
std::string backslashes_doubled(const std::string &text) {
    std::string out;
    for (char c : text) {
        if (c == '\\')
            out += '\\';
        out += c;
    }
    return out;
}

std::string label_text(const std::string &text) { return boost::escape_dot_string(backslashes_doubled(text)); }

const char *shape_of(Kind kind) {
    switch (kind) {
    case Kind::table: return "shape=box, style=filled, fillcolor=\"#f3f4f6\"";
    case Kind::partitioned_table: return "shape=box, peripheries=2, style=filled, fillcolor=\"#f3f4f6\"";
    case Kind::foreign_table: return "shape=box, style=\"filled,dashed\", fillcolor=\"#f3f4f6\"";
    case Kind::view: return "shape=ellipse";
    case Kind::materialized_view: return "shape=box3d, style=filled, fillcolor=\"#fef3c7\"";
    case Kind::table_view: return "shape=component, style=filled, fillcolor=\"#dbeafe\"";
    }
    return "shape=box";
}

struct NodeWriter {
    const Picture &p;
    void operator()(std::ostream &out, Vertex v) const {
        const Node &n = p.nodes[v];
        out << "[label=" << label_text(n.name) << ", " << shape_of(n.kind) << (n.root ? ", penwidth=2.5" : "")
            << "]";
    }
};

struct ArrowWriter {
    const Picture &p;
    const DotGraph &g;
    void operator()(std::ostream &out, EdgeRef e) const {
        const Arrow &a = p.arrows[g[e].index];
        if (!a.watched())
            return; // a plain "reads" arrow: Graphviz's defaults
        const char *colour = mode_colour(a.mode);
        out << "[label=" << label_text(watch_label(a)) << ", color=\"" << colour << "\", fontcolor=\"" << colour
            << "\", penwidth=2";
        // A watch through other views does not rank its ends: the "reads" arrows do.
        out << (a.reads ? "" : ", style=dashed, constraint=false") << "]";
    }
};

struct GraphWriter {
    void operator()(std::ostream &out) const {
        out << "rankdir=LR;\n"
            << "node [fontname=\"Helvetica\", fontsize=11];\n"
            << "edge [fontname=\"Helvetica\", fontsize=9];\n";
    }
};

} // namespace

std::string to_dot(const Picture &p) {
    DotGraph g(p.nodes.size());
    for (std::size_t i = 0; i < p.arrows.size(); i++)
        boost::add_edge(p.arrows[i].from, p.arrows[i].to, ArrowRef{i}, g);
    // Node ids are the names (readable edges: "public.orders"->"public.paid_orders");
    // write_graphviz quotes them with escape_dot_string.
    auto id = boost::make_function_property_map<Vertex, std::string>(
        [&p](Vertex v) { return backslashes_doubled(p.nodes[v].name); });
    std::ostringstream out;
    boost::write_graphviz(out, g, NodeWriter{p}, ArrowWriter{p, g}, GraphWriter{}, id);
    return out.str();
}

} // namespace pgview::graph
