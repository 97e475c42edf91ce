// pgview_auto — writing a Picture (graph/picture.hpp) as text: Graphviz DOT or
// Mermaid. Pure C++ (unit-tested without a server).
//
// Both show the same things the same way: a shape per kind (DOT: table box,
// partitioned table double box, foreign table dashed box, view ellipse,
// materialized view box3d, table view component; Mermaid: rectangle, hexagon,
// flag, rounded box, cylinder, subroutine), the root drawn heavier, a watched
// arrow bold in its mode's colour with the label "mode, strategy", and a watch of
// a source read through other views as a dashed arrow of its own. Names are
// escaped for each language, so any identifier comes out as it is.
#pragma once

#include <optional>
#include <string>

#include "graph/picture.hpp"

namespace pgview::graph {

enum class Format { dot, mermaid };

// "dot" or "mermaid", exactly; nullopt for anything else.
std::optional<Format> format_named(const std::string &name);

std::string render(const Picture &p, Format format);
std::string to_dot(const Picture &p);     // through Boost.Graph's write_graphviz
std::string to_mermaid(const Picture &p); // a flowchart, left to right

// Shared by both writers.
std::string watch_label(const Arrow &a);         // "commit, keyed"
const char *mode_colour(const std::string &mode); // "#rrggbb"

} // namespace pgview::graph
