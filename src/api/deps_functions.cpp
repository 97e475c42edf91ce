// pgview_auto — SQL entry points of the dependency catalog:
// pgview_deps, pgview_dependents, pgview_dependencies, pgview_refresh_order,
// pgview_views. Read the catalog, compute on the graph, emit rows.
#include <string>
#include <vector>

#include "syscat/catalog_reader.hpp"
#include "syscat/relation_info.hpp"
#include "graph/dependency_graph.hpp"
#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "tableview/table_view_registry.hpp"
#include "pg/srf.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "access/htup_details.h"
}

using pgview::Error;
using pgview::SrfOutput;
using pgview::pg_call;
namespace graph = pgview::graph;
namespace sqlstate = pgview::sqlstate;

namespace {

// Datums of the kind names, made once per call.
struct KindTexts {
    Datum table, partitioned_table, view, materialized_view, foreign_table, table_view;
    KindTexts() {
        pg_call([this] {
            table = CStringGetTextDatum("table");
            partitioned_table = CStringGetTextDatum("partitioned table");
            view = CStringGetTextDatum("view");
            materialized_view = CStringGetTextDatum("materialized view");
            foreign_table = CStringGetTextDatum("foreign table");
            table_view = CStringGetTextDatum("table view");
        });
    }
    Datum of(graph::Kind k) const {
        switch (k) {
        case graph::Kind::table: return table;
        case graph::Kind::partitioned_table: return partitioned_table;
        case graph::Kind::view: return view;
        case graph::Kind::materialized_view: return materialized_view;
        case graph::Kind::foreign_table: return foreign_table;
        case graph::Kind::table_view: return table_view;
        }
        return table;
    }
};

// Views, matviews and table views read other relations; tables do not.
bool is_view_kind(graph::Kind k) {
    return k == graph::Kind::view || k == graph::Kind::materialized_view || k == graph::Kind::table_view;
}

void require_argument(FunctionCallInfo fcinfo, int arg, const char *name, const char *function,
                      const char *hint) {
    if (PG_ARGISNULL(arg))
        throw Error(sqlstate::null_value_not_allowed,
                    std::string("argument \"") + name + "\" of " + function + " must not be NULL", {},
                    hint);
}

void require_flag(FunctionCallInfo fcinfo, int arg, const char *name, const char *function) {
    require_argument(fcinfo, arg, name, function, "Pass true or false.");
}

Oid relation_argument(FunctionCallInfo fcinfo, int arg, const char *function) {
    require_argument(fcinfo, arg, "rel", function, "Pass a table, view or materialized view.");
    Oid relid = PG_GETARG_OID(arg);
    pg_call([relid, function] { pgview::syscat::require_catalog_relation(relid, function); });
    return relid;
}

// Rows (relation, kind, depth) for dependents / dependencies.
Datum emit_reached(FunctionCallInfo fcinfo, bool dependents) {
    const char *function = dependents ? "pgview_dependents" : "pgview_dependencies";
    Oid relid = relation_argument(fcinfo, 0, function);
    require_flag(fcinfo, 1, "transitive", function);
    bool transitive = PG_GETARG_BOOL(1);

    graph::DependencyGraph g = pgview::syscat::read_dependency_graph();
    pgview::syscat::require_in_graph(g, relid, function);
    std::vector<graph::Reached> reached =
        dependents ? g.dependents(relid, transitive) : g.dependencies(relid, transitive);
    KindTexts kinds;
    SrfOutput out(fcinfo);
    out.put_rows(reached.size(), [&](std::size_t i, Datum *values, bool *) {
        values[0] = ObjectIdGetDatum(reached[i].id);
        values[1] = kinds.of(g.kind(reached[i].id));
        values[2] = Int32GetDatum(reached[i].depth);
    });
    return (Datum) 0;
}

// regclass[] argument -> OIDs (NULL elements are an error).
std::vector<graph::RelId> regclass_array(FunctionCallInfo fcinfo, int arg) {
    Datum *elems = nullptr;
    bool *elem_nulls = nullptr;
    int count = 0;
    pg_call([&] {
        ArrayType *array = PG_GETARG_ARRAYTYPE_P(arg); // (detoasting may ereport: inside pg_call)
        deconstruct_array(array, REGCLASSOID, sizeof(Oid), true, TYPALIGN_INT, &elems,
                          &elem_nulls, &count);
    });
    std::vector<graph::RelId> out;
    for (int i = 0; i < count; i++) {
        if (elem_nulls[i])
            throw Error(sqlstate::null_value_not_allowed, "matviews must not contain NULL",
                        {}, "Remove the NULL elements, or pass NULL for every materialized view and table view.");
        out.push_back(DatumGetObjectId(elems[i]));
    }
    return out;
}

} // namespace

PGVIEW_FUNCTION(pgview_deps) {
    require_flag(fcinfo, 0, "transitive", "pgview_deps");
    bool transitive = PG_GETARG_BOOL(0);
    graph::DependencyGraph g = pgview::syscat::read_dependency_graph();
    KindTexts kinds;
    SrfOutput out(fcinfo);

    if (!transitive) {
        std::vector<graph::Edge> edges = g.direct_edges();
        out.put_rows(edges.size(), [&](std::size_t i, Datum *values, bool *) {
            values[0] = ObjectIdGetDatum(edges[i].dependent);
            values[1] = kinds.of(g.kind(edges[i].dependent));
            values[2] = ObjectIdGetDatum(edges[i].referenced);
            values[3] = kinds.of(g.kind(edges[i].referenced));
            values[4] = Int32GetDatum(1);
        });
        return (Datum) 0;
    }
    // Transitive closure, one relation at a time: memory stays at one BFS.
    for (const graph::Relation &r : g.relations()) {
        if (!is_view_kind(r.kind))
            continue; // only views and matviews read anything
        std::vector<graph::Reached> reached = g.dependencies(r.id, true);
        Datum dependent_kind = kinds.of(r.kind);
        out.put_rows(reached.size(), [&](std::size_t i, Datum *values, bool *) {
            values[0] = ObjectIdGetDatum(r.id);
            values[1] = dependent_kind;
            values[2] = ObjectIdGetDatum(reached[i].id);
            values[3] = kinds.of(g.kind(reached[i].id));
            values[4] = Int32GetDatum(reached[i].depth);
        });
        pg_call([] { CHECK_FOR_INTERRUPTS(); });
    }
    return (Datum) 0;
}

PGVIEW_FUNCTION(pgview_dependents) { return emit_reached(fcinfo, true); }

PGVIEW_FUNCTION(pgview_dependencies) { return emit_reached(fcinfo, false); }

PGVIEW_FUNCTION(pgview_refresh_order) {
    std::vector<graph::RelId> roots;
    if (!PG_ARGISNULL(0)) {
        roots = regclass_array(fcinfo, 0);
        for (graph::RelId id : roots) {
            pg_call([id] { pgview::syscat::require_catalog_relation(id, "pgview_refresh_order"); });
        }
    }
    graph::DependencyGraph g = pgview::syscat::read_dependency_graph();
    for (graph::RelId id : roots)
        pgview::syscat::require_in_graph(g, id, "pgview_refresh_order");
    // Any relation of the graph may be a root: a materialized view or table
    // view is ordered with what reads it, a table or plain view stands for
    // what its change makes stale (its refreshable dependents).
    bool empty_list = !PG_ARGISNULL(0) && roots.empty();
    std::vector<graph::RelId> order = empty_list ? std::vector<graph::RelId>{} : g.refresh_order(roots);
    SrfOutput out(fcinfo);
    out.put_rows(order.size(), [&](std::size_t i, Datum *values, bool *) {
        values[0] = Int32GetDatum(static_cast<int32>(i + 1));
        values[1] = ObjectIdGetDatum(order[i]);
    });
    return (Datum) 0;
}

namespace {
// fn(arg) for a built-in that may return NULL (DirectFunctionCall1 raises then).
Datum call_nullable(PGFunction fn, Datum arg, bool *isnull) {
    LOCAL_FCINFO(fcinfo, 1);
    InitFunctionCallInfoData(*fcinfo, nullptr, 1, InvalidOid, nullptr, nullptr);
    fcinfo->args[0].value = arg;
    fcinfo->args[0].isnull = false;
    Datum result = fn(fcinfo);
    *isnull = fcinfo->isnull;
    return result;
}

// One pgview_views row; C-level (catalog look-ups and functions that may ereport).
// False when the relation was dropped since the graph was read.
bool fill_view_row(Oid relid, Oid definition, bool tv_populated, Datum *values, bool *nulls) {
    // Its definition and size need the relation itself: lock it as a SELECT
    // would (waiting for a concurrent DROP or REFRESH, as pg_matviews does),
    // then check it still exists.
    LockRelationOid(relid, AccessShareLock);
    HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tup)) {
        UnlockRelationOid(relid, AccessShareLock);
        return false;
    }
    auto *form = reinterpret_cast<Form_pg_class>(GETSTRUCT(tup));
    bool is_matview = form->relkind == RELKIND_MATVIEW;
    bool is_table_view = OidIsValid(definition);
    values[0] = ObjectIdGetDatum(relid);
    values[1] = CStringGetTextDatum(is_matview ? "materialized view" : is_table_view ? "table view" : "view");
    const char *owner = GetUserNameFromId(form->relowner, true);
    if (owner != nullptr)
        values[2] = DirectFunctionCall1(namein, CStringGetDatum(owner));
    else
        nulls[2] = true; // owner role dropped concurrently
    if (is_matview) {
        values[3] = BoolGetDatum(form->relispopulated);
        values[4] = BoolGetDatum(pgview::syscat::concurrent_refresh_ok(relid));
    } else if (is_table_view) {
        values[3] = BoolGetDatum(tv_populated); // false until the first refresh of one created without data
        values[4] = BoolGetDatum(true); // its refresh never blocks readers
    } else {
        nulls[3] = true; // a plain view has no stored rows to be populated
        values[4] = BoolGetDatum(false);
    }
    ReleaseSysCache(tup);
    // Both give NULL when the view went away meanwhile.
    values[5] = call_nullable(pg_total_relation_size, ObjectIdGetDatum(relid), &nulls[5]);
    values[8] = call_nullable(pg_get_viewdef, ObjectIdGetDatum(is_table_view ? definition : relid), &nulls[8]);
    return true;
}
} // namespace

PGVIEW_FUNCTION(pgview_views) {
    Oid schema = InvalidOid;
    if (!PG_ARGISNULL(0)) {
        Name name = PG_GETARG_NAME(0);
        schema = pg_call([name] { return get_namespace_oid(NameStr(*name), false); });
    }
    graph::DependencyGraph g = pgview::syscat::read_dependency_graph();
    std::vector<graph::RelId> views;
    for (const graph::Relation &r : g.relations()) {
        if (!is_view_kind(r.kind))
            continue;
        if (OidIsValid(schema) && pg_call([&r] { return get_rel_namespace(r.id); }) != schema)
            continue;
        views.push_back(r.id);
    }
    std::vector<Oid> definitions(views.size(), InvalidOid);
    std::vector<char> populated(views.size(), true);
    for (std::size_t i = 0; i < views.size(); i++) {
        pgview::tableview::TableView tv;
        if (g.kind(views[i]) == graph::Kind::table_view && pgview::tableview::lookup(views[i], &tv)) {
            definitions[i] = tv.definition;
            populated[i] = tv.populated;
        }
    }
    SrfOutput out(fcinfo);
    out.put_rows(views.size(), [&](std::size_t i, Datum *values, bool *nulls) {
        values[6] = Int32GetDatum(static_cast<int32>(g.dependency_count(views[i])));
        values[7] = Int32GetDatum(static_cast<int32>(g.dependent_count(views[i])));
        return fill_view_row(views[i], definitions[i], populated[i], values, nulls);
    });
    return (Datum) 0;
}
