// pgview_auto — the set of relations to rebuild (see dependents.hpp).
#include "alter/dependents.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "graph/dependency_graph.hpp"
#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "syscat/catalog_reader.hpp"
#include "syscat/relation_info.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
}

namespace pgview::alter {

namespace {

constexpr const char *dependent_objects_still_exist = "2BP01";
constexpr const char *insufficient_privilege = "42501";
constexpr const char *feature_not_supported = "0A000";

// The views and matviews whose rules read the columns (attnum 0: any column),
// with the index of the column read. Rules on tables are left out: PostgreSQL
// refuses the ALTER for those itself.
constexpr const char *readers_sql =
    "SELECT DISTINCT r.ev_class, col.ord OPERATOR(pg_catalog.-) 1 "
    "FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.oid[]), pg_catalog.unnest($2::pg_catalog.int4[])) "
    "     WITH ORDINALITY AS col(rel, att, ord) "
    "JOIN pg_catalog.pg_depend d "
    "  ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
    " AND d.refobjid OPERATOR(pg_catalog.=) col.rel "
    " AND (col.att OPERATOR(pg_catalog.=) 0 OR d.refobjsubid OPERATOR(pg_catalog.=) col.att) "
    " AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
    " AND d.deptype OPERATOR(pg_catalog.=) 'n' "
    "JOIN pg_catalog.pg_rewrite r ON r.oid OPERATOR(pg_catalog.=) d.objid "
    "JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.ev_class "
    "WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{v,m}'::pg_catalog.\"char\"[]) "
    "  AND r.ev_class OPERATOR(pg_catalog.<>) col.rel";

// Rules other than SELECT rules, on views and matviews, and the relations they
// name: such a view must go before (and come back after) what its rule names.
constexpr const char *rule_edges_sql =
    "SELECT DISTINCT r.ev_class, d.refobjid FROM pg_catalog.pg_rewrite r "
    "JOIN pg_catalog.pg_depend d "
    "  ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
    " AND d.objid OPERATOR(pg_catalog.=) r.oid "
    " AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
    " AND d.deptype OPERATOR(pg_catalog.=) 'n' "
    "JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.ev_class "
    "WHERE r.rulename OPERATOR(pg_catalog.<>) '_RETURN' "
    "  AND c.relkind OPERATOR(pg_catalog.=) ANY ('{v,m}'::pg_catalog.\"char\"[]) "
    "  AND d.refobjid OPERATOR(pg_catalog.<>) r.ev_class";

// Objects outside the set that depend on a relation of it (or on its row type):
// a DROP would need CASCADE for them. The set's own rules are not counted.
constexpr const char *outside_sql =
    "WITH s AS (SELECT pg_catalog.unnest($1::pg_catalog.oid[]) AS rel), "
    "t AS (SELECT c.oid AS rel, ty.oid AS typ FROM pg_catalog.pg_class c "
    "      JOIN pg_catalog.pg_type ty ON ty.oid OPERATOR(pg_catalog.=) c.reltype "
    "                                 OR ty.typelem OPERATOR(pg_catalog.=) c.reltype "
    "      WHERE c.oid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) AND c.reltype OPERATOR(pg_catalog.<>) 0) "
    "SELECT DISTINCT coalesce(s.rel, t.rel), "
    "       pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) "
    "       OPERATOR(pg_catalog.||) ' depends on ' OPERATOR(pg_catalog.||) "
    "       pg_catalog.pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) "
    "FROM pg_catalog.pg_depend d "
    "LEFT JOIN s ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
    "           AND d.refobjid OPERATOR(pg_catalog.=) s.rel "
    "LEFT JOIN t ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass "
    "           AND d.refobjid OPERATOR(pg_catalog.=) t.typ "
    "WHERE d.deptype OPERATOR(pg_catalog.=) 'n' AND (s.rel IS NOT NULL OR t.rel IS NOT NULL) "
    "  AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND EXISTS ("
    "        SELECT FROM pg_catalog.pg_rewrite r WHERE r.oid OPERATOR(pg_catalog.=) d.objid "
    "        AND r.ev_class OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]))) "
    "ORDER BY 1, 2";

Oid to_oid(const std::string &s) { return static_cast<Oid>(std::stoul(s)); }

// definition view -> table, from pgview_auto.table_view (read as the registry
// owner: the table is not readable by everyone).
std::unordered_map<Oid, Oid> table_view_definitions() {
    std::unordered_map<Oid, Oid> out;
    Oid *pairs = nullptr;
    int n = pg_call([&pairs] {
        if (!OidIsValid(registry::registry_relid("table_view")))
            return 0;
        int rows{};
        registry::with_registry([&] {
            // Not read-only: a fresh snapshot, so that a plan made again after
            // waiting for a concurrent pgview_alter sees the definitions it made.
            if (SPI_execute("SELECT definition::pg_catalog.oid, relation::pg_catalog.oid FROM pgview_auto.table_view",
                            false, 0) != SPI_OK_SELECT)
                elog(ERROR, "pgview_auto: reading pgview_auto.table_view failed");
            rows = static_cast<int>(SPI_processed);
            pairs = static_cast<Oid *>(SPI_palloc(sizeof(Oid) * (2 * rows + 1)));
            for (int i = 0; i < rows; i++)
                for (int c = 0; c < 2; c++) {
                    bool isnull;
                    pairs[2 * i + c] =
                        DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c + 1, &isnull));
                }
        });
        return rows;
    });
    for (int i = 0; i < n; i++)
        out[pairs[2 * i]] = pairs[2 * i + 1];
    return out;
}

// "view s.v", "table view s.t" (for a definition), ...
std::string describe(const Dependent &d) {
    if (d.kind == RebuildKind::definition)
        return "table view " + qualified_name(d.table_view);
    return std::string(kind_text(d.kind)) + " " + qualified_name(d.relid);
}

std::string role_name(Oid role) {
    return pg_call([role] { return GetUserNameFromId(role, false); });
}

} // namespace

const char *kind_text(RebuildKind kind) {
    switch (kind) {
    case RebuildKind::view: return "view";
    case RebuildKind::matview: return "materialized view";
    case RebuildKind::definition: return "table view";
    }
    return "relation";
}

std::string oid_array(const std::vector<Oid> &oids) {
    std::string out = "{";
    for (size_t i = 0; i < oids.size(); i++)
        out += (i ? "," : "") + std::to_string(oids[i]);
    return out + "}";
}

std::vector<Oid> relids(const Plan &plan) {
    std::vector<Oid> out;
    for (const Dependent &d : plan.order)
        out.push_back(d.relid);
    std::sort(out.begin(), out.end());
    return out;
}

Plan plan_dependents(create::SqlRunner &sql, const std::vector<ColumnRef> &columns) {
    Plan plan;
    if (columns.empty())
        return plan;
    std::vector<Oid> rels;
    std::string atts = "{";
    for (size_t i = 0; i < columns.size(); i++) {
        rels.push_back(columns[i].rel);
        atts += (i ? "," : "") + std::to_string(columns[i].attnum);
    }
    std::set<Oid> start;
    for (const auto &row : sql.rows(readers_sql, {oid_array(rels), atts + "}"})) {
        Oid reader = to_oid(row[0]);
        start.insert(reader);
        const ColumnRef &c = columns[std::stoul(row[1])];
        if (c.dropped)
            plan.readers_of_dropped.emplace_back(reader, c);
    }
    if (start.empty())
        return plan;

    // The graph as pg_depend has it (a table view's definition is a view of its
    // own), plus the edges of non-SELECT rules.
    graph::DependencyGraph raw = syscat::read_dependency_graph(false);
    std::vector<graph::Edge> rule_edges;
    for (const auto &row : sql.rows(rule_edges_sql, std::vector<std::string>{}))
        rule_edges.push_back({to_oid(row[0]), to_oid(row[1])});
    std::vector<graph::Edge> edges = raw.direct_edges();
    if (!rule_edges.empty()) {
        edges.insert(edges.end(), rule_edges.begin(), rule_edges.end());
        raw = graph::DependencyGraph(raw.relations(), edges);
    }

    std::unordered_set<Oid> members;
    for (Oid s : start) {
        if (!raw.contains(s))
            continue;
        members.insert(s);
        for (const graph::Reached &r : raw.dependents(s, true))
            members.insert(r.id);
    }

    // Table views: a definition in the set is rebuilt, its table stays; what in
    // the set reads the table comes after the definition (the table's column
    // types may have to follow the new definition first).
    std::unordered_map<Oid, Oid> definitions = table_view_definitions();
    std::unordered_map<Oid, Oid> definition_of_table;
    for (Oid m : members) {
        auto d = definitions.find(m);
        if (d != definitions.end())
            definition_of_table[d->second] = m;
    }
    std::vector<graph::Relation> relations;
    std::vector<graph::Edge> inner;
    for (const graph::Relation &r : raw.relations())
        if (members.count(r.id) != 0)
            relations.push_back(r);
    for (const graph::Edge &e : edges) {
        if (members.count(e.dependent) == 0)
            continue;
        if (members.count(e.referenced) != 0)
            inner.push_back(e);
        auto d = definition_of_table.find(e.referenced);
        if (d != definition_of_table.end())
            inner.push_back({e.dependent, d->second});
    }
    graph::DependencyGraph set(relations, inner);
    std::vector<Oid> order(members.begin(), members.end());
    std::sort(order.begin(), order.end(), [&set](Oid a, Oid b) {
        return set.level(a) != set.level(b) ? set.level(a) < set.level(b) : a < b;
    });
    for (Oid relid : order) {
        Dependent d{relid, RebuildKind::view, InvalidOid, InvalidOid};
        if (set.kind(relid) == graph::Kind::materialized_view)
            d.kind = RebuildKind::matview;
        auto def = definitions.find(relid);
        if (def != definitions.end()) {
            d.kind = RebuildKind::definition;
            d.table_view = def->second;
        }
        d.owner = pg_call([relid] { return syscat::relation_owner(relid); });
        plan.order.push_back(d);
    }
    return plan;
}

void check_plan(create::SqlRunner &sql, const Plan &plan, const std::string &who, const std::string &verb) {
    std::vector<Oid> oids;
    for (const Dependent &d : plan.order) {
        std::string name = describe(d);
        bool other_temp = pg_call([&d] { return isOtherTempNamespace(get_rel_namespace(d.relid)); });
        if (other_temp) // its schema, pg_temp_N, says nothing useful
            throw Error(feature_not_supported,
                        "cannot " + verb + " view \"" + pg_call([&d] { return get_rel_name(d.relid); }) +
                            "\": it is a temporary view of another session",
                        {}, "Wait for that session to end, or ask it to drop the view.");
        // A table view's table may have to follow its new definition's column types.
        std::vector<Oid> owners{d.owner};
        if (OidIsValid(d.table_view))
            owners.push_back(pg_call([&d] { return syscat::relation_owner(d.table_view); }));
        for (Oid owner : owners) {
            bool member = pg_call([owner] { return is_member_of_role(GetUserId(), owner); });
            if (!member)
                throw Error(insufficient_privilege,
                            "must be a member of role \"" + role_name(owner) + "\" to " + verb + " " + name,
                            who + " drops the views that read those columns and makes them again as their "
                                  "owners; " + qualified_name(d.relid) + " belongs to role \"" + role_name(owner) + "\".",
                            "Run it as a member of that role, or as a superuser.");
        }
        oids.push_back(d.relid);
    }
    if (!plan.readers_of_dropped.empty()) {
        const ColumnRef &column = plan.readers_of_dropped.front().second;
        std::string detail;
        for (const auto &[reader, c] : plan.readers_of_dropped)
            detail += (detail.empty() ? "" : "\n") + qualified_name(reader) + " reads column \"" + c.name + "\" of " +
                      qualified_name(c.rel) + ".";
        throw Error(dependent_objects_still_exist,
                    "cannot drop column \"" + column.name + "\" of " + qualified_name(column.rel) +
                        " because views read it",
                    detail,
                    "Drop the view first, or add a replacement column of the same name in the same statement "
                    "(..., ADD COLUMN \"" + column.name + "\" ...).");
    }
    if (oids.empty())
        return;
    auto outside = sql.rows(outside_sql, {oid_array(oids)});
    if (!outside.empty()) {
        std::string detail;
        for (const auto &row : outside)
            detail += (detail.empty() ? "" : "\n") + row[1];
        Oid blocked = to_oid(outside[0][0]);
        auto d = std::find_if(plan.order.begin(), plan.order.end(), [blocked](const Dependent &x) {
            return x.relid == blocked;
        });
        throw Error(dependent_objects_still_exist,
                    "cannot " + verb + " " + (d != plan.order.end() ? describe(*d) : qualified_name(blocked)) +
                        " because other objects depend on it",
                    detail,
                    who + " makes views, materialized views and table views again, nothing else: drop those "
                    "objects first, and create them again afterwards.");
    }
}

} // namespace pgview::alter
