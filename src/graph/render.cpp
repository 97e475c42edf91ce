// pgview_auto — what the DOT and Mermaid writers share (pure C++).
#include "graph/render.hpp"

namespace pgview::graph {

std::optional<Format> format_named(const std::string &name) {
    if (name == "dot")
        return Format::dot;
    if (name == "mermaid")
        return Format::mermaid;
    return std::nullopt;
}

std::string render(const Picture &p, Format format) {
    return format == Format::dot ? to_dot(p) : to_mermaid(p);
}

std::string watch_label(const Arrow &a) { return a.mode + ", " + a.strategy; }

// Dark enough for white paper and for the arrow's label in the same colour.
const char *mode_colour(const std::string &mode) {
    if (mode == "commit")
        return "#1d4ed8"; // blue
    if (mode == "async")
        return "#047857"; // green
    if (mode == "manual")
        return "#b45309"; // amber
    return "#4b5563";     // grey: a mode this version does not know
}

} // namespace pgview::graph
