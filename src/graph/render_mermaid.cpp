// pgview_auto — a Picture as a Mermaid flowchart (pure C++).
#include <set>

#include "graph/render.hpp"

namespace pgview::graph {

namespace {

// Node ids: the name with every character but ASCII letters, digits and '_'
// made '_' (a qualified name always has one, from its dot, so no id is a bare
// keyword such as `end`), then _2, _3, ... where two names come out the same.
std::vector<std::string> node_ids(const Picture &p) {
    std::vector<std::string> ids;
    std::set<std::string> taken;
    for (const Node &n : p.nodes) {
        std::string id;
        for (char c : n.name) {
            bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
            id += plain ? c : '_';
        }
        std::string unique = id;
        for (int i = 2; taken.count(unique) != 0; i++)
            unique = id + "_" + std::to_string(i);
        taken.insert(unique);
        ids.push_back(unique);
    }
    return ids;
}

// Text for a label: Mermaid's entity codes for what it would read as syntax
// ('"', '|', '#' that starts a code), as HTML or as Markdown (GitHub renders
// labels as Markdown), and for control characters.
std::string escaped(const std::string &text) {
    std::string out;
    for (char c : text) {
        switch (c) {
        case '"': out += "#quot;"; break;
        case '#': out += "#35;"; break;
        case '|': out += "#124;"; break;
        case '<': out += "#lt;"; break;
        case '>': out += "#gt;"; break;
        case '&': out += "#amp;"; break;
        case '*': out += "#42;"; break;
        case '`': out += "#96;"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                out += "#" + std::to_string(static_cast<unsigned char>(c)) + ";";
            else
                out += c;
        }
    }
    return out;
}

// The brackets of a node's shape around its quoted label.
std::pair<const char *, const char *> shape_of(Kind kind) {
    switch (kind) {
    case Kind::table: return {"[", "]"};
    case Kind::partitioned_table: return {"{{", "}}"};
    case Kind::foreign_table: return {">", "]"};
    case Kind::view: return {"(", ")"};
    case Kind::materialized_view: return {"[(", ")]"};
    case Kind::table_view: return {"[[", "]]"};
    }
    return {"[", "]"};
}

} // namespace

std::string to_mermaid(const Picture &p) {
    std::vector<std::string> ids = node_ids(p);
    std::string out = "flowchart LR\n";
    for (std::size_t i = 0; i < p.nodes.size(); i++) {
        auto [open, close] = shape_of(p.nodes[i].kind);
        out += "    " + ids[i] + open + "\"" + escaped(p.nodes[i].name) + "\"" + close + "\n";
    }
    std::string styles; // linkStyle counts the arrows in the order they are written
    for (std::size_t i = 0; i < p.arrows.size(); i++) {
        const Arrow &a = p.arrows[i];
        out += "    " + ids[a.from];
        if (!a.watched()) {
            out += " --> ";
        } else {
            out += std::string(a.reads ? " ==>|" : " -.->|") + escaped(watch_label(a)) + "| ";
            styles += "    linkStyle " + std::to_string(i) + " stroke:" + mode_colour(a.mode) +
                      ",stroke-width:2px,color:" + mode_colour(a.mode) + "\n";
        }
        out += ids[a.to] + "\n";
    }
    out += styles;
    for (std::size_t i = 0; i < p.nodes.size(); i++)
        if (p.nodes[i].root)
            out += "    style " + ids[i] + " stroke-width:3px\n";
    return out;
}

} // namespace pgview::graph
