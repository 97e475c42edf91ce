// pgview_auto — catalog scans behind the dependency graph.
//
// Phase one of three (read, compute, emit): plain catalog scans that fill plain
// vectors. Each scan runs inside pg_call; the scan loops own no C++ object.
#include "syscat/catalog_reader.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "pg/guard.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_rewrite.h"  // RewriteRelationId
#include "utils/fmgroids.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace pgview::syscat {

namespace {

bool is_user_namespace(Oid nsp, Oid information_schema) {
    return nsp != PG_CATALOG_NAMESPACE && nsp != information_schema && !IsToastNamespace(nsp);
}

// Relations that are members of pgview_auto itself (its views and registry
// tables): plumbing, not the user's catalog. Caller-owned set (longjmp rule).
void scan_own_members(std::unordered_set<Oid> &members) {
    Oid extension = get_extension_oid("pgview_auto", true);
    if (!OidIsValid(extension))
        return;
    Relation rel = table_open(DependRelationId, AccessShareLock);
    ScanKeyData keys[2];
    ScanKeyInit(&keys[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(ExtensionRelationId));
    ScanKeyInit(&keys[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(extension));
    SysScanDesc scan = systable_beginscan(rel, DependReferenceIndexId, true, nullptr, 2, keys);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        auto *form = reinterpret_cast<Form_pg_depend>(GETSTRUCT(tup));
        if (form->classid == RelationRelationId && form->deptype == DEPENDENCY_EXTENSION)
            members.insert(form->objid);
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

void scan_relations(const std::unordered_set<Oid> &own, std::vector<graph::Relation> &out) {
    Oid information_schema = get_namespace_oid("information_schema", true);
    Relation rel = table_open(RelationRelationId, AccessShareLock);
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, nullptr, 0, nullptr);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        auto *form = reinterpret_cast<Form_pg_class>(GETSTRUCT(tup));
        if (graph::is_graph_kind(form->relkind) && is_user_namespace(form->relnamespace, information_schema) &&
            own.count(form->oid) == 0)
            out.push_back({form->oid, static_cast<graph::Kind>(form->relkind)});
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

// Table views from pgview_auto.table_view: (table, definition view). Read as a
// catalog: a plain heap scan with the catalog snapshot.
void scan_table_views(std::vector<std::pair<Oid, Oid>> &out) {
    Oid nsp = get_namespace_oid("pgview_auto", true);
    Oid registry = OidIsValid(nsp) ? get_relname_relid("table_view", nsp) : InvalidOid;
    if (!OidIsValid(registry))
        return; // installed SQL older than 0.5.0
    Relation rel = table_open(registry, AccessShareLock);
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, nullptr, 0, nullptr);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        bool isnull[2];
        Datum table = heap_getattr(tup, 1, RelationGetDescr(rel), &isnull[0]);
        Datum definition = heap_getattr(tup, 2, RelationGetDescr(rel), &isnull[1]);
        if (!isnull[0] && !isnull[1])
            out.emplace_back(DatumGetObjectId(table), DatumGetObjectId(definition));
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

// One pass over the rewrite rules' dependencies. A view's or matview's SELECT
// rule depends on its relation with DEPENDENCY_INTERNAL; other rules (CREATE
// RULE ... ON INSERT TO a table) depend on theirs with DEPENDENCY_AUTO and are
// not "reads" edges. The normal dependencies of the SELECT rules on relations are
// the edges. (pg_rewrite itself, mostly rule text, need not be read.)
// The containers belong to the caller: this frame may be left by longjmp.
void scan_rule_dependencies(std::unordered_map<Oid, Oid> &rule_owner,
                            std::vector<std::pair<Oid, Oid>> &rule_reads /* (rule, relation) */) {
    Relation rel = table_open(DependRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(RewriteRelationId));
    SysScanDesc scan = systable_beginscan(rel, DependDependerIndexId, true, nullptr, 1, &key);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        auto *form = reinterpret_cast<Form_pg_depend>(GETSTRUCT(tup));
        if (form->refclassid != RelationRelationId)
            continue;
        if (form->deptype == DEPENDENCY_INTERNAL)
            rule_owner[form->objid] = form->refobjid;
        else if (form->deptype == DEPENDENCY_NORMAL &&
                 (rule_reads.empty() || rule_reads.back() != std::make_pair(form->objid, form->refobjid)))
            rule_reads.emplace_back(form->objid, form->refobjid);
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

// Why relid is not in the graph, as an ERROR (C-level). `table` is the table
// view whose definition it is, if it is one.
void explain_left_out(Oid relid, Oid table, const char *function) {
    Oid extension = get_extension_oid("pgview_auto", true);
    const char *name = get_rel_name(relid);
    if (OidIsValid(table)) {
        name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), name);
        const char *table_name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(table)),
                                                            get_rel_name(table));
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("%s is the definition of table view %s", name, table_name),
                        errdetail("pgview_auto keeps a table view's query in this view; the dependency catalog "
                                  "shows the table view in its place, with the definition's edges."),
                        strcmp(function, "pgview_watch") == 0
                            ? errhint("Name the table view %s, or a table its query reads, as source.", table_name)
                            : errhint("Pass the table view %s.", table_name)));
    }
    if (OidIsValid(extension) && getExtensionOfObject(RelationRelationId, relid) == extension)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("relation %s belongs to extension pgview_auto",
                               quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), name)),
                        errdetail("The dependency catalog leaves out pgview_auto's own tables and views; %s takes "
                                  "relations of user schemas.",
                                  function)));
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("relation \"%s\" is not in the dependency catalog", name != nullptr ? name : "?"),
                    errdetail("It was created or dropped while %s read the catalog.", function),
                    errhint("Try again.")));
}

} // namespace

void require_in_graph(const graph::DependencyGraph &g, Oid relid, const char *function) {
    if (g.contains(relid))
        return;
    std::vector<std::pair<Oid, Oid>> table_views;
    pg_call([&] { scan_table_views(table_views); });
    Oid table = InvalidOid;
    for (const auto &[t, definition] : table_views)
        if (definition == relid)
            table = t;
    pg_call([relid, table, function] { explain_left_out(relid, table, function); });
}

graph::DependencyGraph read_dependency_graph(bool fold_table_views) {
    std::vector<graph::Relation> relations;
    std::unordered_set<Oid> own;
    std::unordered_map<Oid, Oid> rule_owner;
    std::vector<std::pair<Oid, Oid>> rule_reads;
    pg_call([&] { scan_own_members(own); });
    pg_call([&] { scan_relations(own, relations); });
    pg_call([&] { scan_rule_dependencies(rule_owner, rule_reads); });
    std::vector<std::pair<Oid, Oid>> table_views;
    if (fold_table_views)
        pg_call([&] { scan_table_views(table_views); });
    // A table view reads what its definition reads; the definition itself is
    // plumbing and leaves the graph.
    std::unordered_map<Oid, Oid> table_of; // definition -> table
    std::unordered_set<Oid> tables;
    for (const auto &[table, definition] : table_views) {
        table_of[definition] = table;
        tables.insert(table);
    }
    relations.erase(std::remove_if(relations.begin(), relations.end(),
                                   [&](const graph::Relation &r) { return table_of.count(r.id) != 0; }),
                    relations.end());
    for (graph::Relation &r : relations)
        if (tables.count(r.id) != 0)
            r.kind = graph::Kind::table_view;
    std::vector<graph::Edge> edges;
    edges.reserve(rule_reads.size());
    for (const auto &[rule, referenced] : rule_reads) {
        auto owner = rule_owner.find(rule);
        if (owner == rule_owner.end() || table_of.count(referenced) != 0)
            continue;
        auto tv = table_of.find(owner->second);
        edges.push_back({tv != table_of.end() ? tv->second : owner->second, referenced});
    }
    return graph::DependencyGraph(std::move(relations), edges);
}

} // namespace pgview::syscat
