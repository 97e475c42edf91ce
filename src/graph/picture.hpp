// pgview_auto — what pgview_graph draws: the relations and arrows of the
// dependency graph, whole or around one relation, with the watches on them.
//
// Pure C++ (no PostgreSQL call; unit-tested without a server). Arrows point the
// way data flows, from a relation to the view that reads it: the reverse of
// DependencyGraph's edges, and each such arrow is one pgview_deps() row
// (referenced -> dependent). A watched view's arrow from a source it is
// refreshed for carries the watch (mode, strategy); a source it watches through
// other views (so not read directly) gets an arrow of its own, `reads` false.
// The order is fixed (relations by name, arrows by their ends' names), so the
// same catalog always gives the same text.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "graph/dependency_graph.hpp"

namespace pgview::graph {

// A watched view is refreshed when `source` changes: in `mode` (commit, async,
// manual), by `strategy` (keyed, full).
struct Watch {
    RelId source;
    RelId view;
    std::string mode;
    std::string strategy;
};

struct Node {
    RelId id;
    Kind kind;
    std::string name; // schema-qualified, quoted as SQL quotes it
    bool root;        // the relation the picture was drawn around
};

struct Arrow {
    std::size_t from, to;  // indexes into Picture::nodes: `to` reads `from`, or watches it
    bool reads;            // a dependency edge; false: a watched source read through other views
    std::string mode;      // the watch's; empty: not watched
    std::string strategy;
    bool watched() const { return !mode.empty(); }
};

struct Picture {
    std::vector<Node> nodes;   // ordered by name
    std::vector<Arrow> arrows; // ordered by (from, to)
};

// The relations of `g` (with `root`: root and everything it reads or that reads
// it, transitively) and the arrows between them. `names` gives each relation's
// name (one missing is named by its id); a watch naming a relation left out is
// ignored, and of a repeated one the first counts. Throws pgview::Error when root is not in g.
Picture make_picture(const DependencyGraph &g, const std::unordered_map<RelId, std::string> &names,
                     const std::vector<Watch> &watches, std::optional<RelId> root);

} // namespace pgview::graph
