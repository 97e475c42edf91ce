// pgview_auto — catalog scans behind the dependency graph.
//
// Phase one of three (read, compute, emit): plain catalog scans that fill plain
// vectors. Each scan runs inside pg_call; the scan loops own no C++ object.
#include "syscat/catalog_reader.hpp"

#include <unordered_map>

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
#include "catalog/pg_namespace.h"
#include "catalog/pg_rewrite.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
}

namespace pgview::syscat {

namespace {

bool is_user_namespace(Oid nsp, Oid information_schema) {
    return nsp != PG_CATALOG_NAMESPACE && nsp != information_schema && !IsToastNamespace(nsp);
}

void scan_relations(std::vector<graph::Relation> &out) {
    Oid information_schema = get_namespace_oid("information_schema", true);
    Relation rel = table_open(RelationRelationId, AccessShareLock);
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, nullptr, 0, nullptr);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        auto *form = reinterpret_cast<Form_pg_class>(GETSTRUCT(tup));
        if (graph::is_graph_kind(form->relkind) && is_user_namespace(form->relnamespace, information_schema))
            out.push_back({form->oid, static_cast<graph::Kind>(form->relkind)});
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

// rule OID -> the view or matview it belongs to
void scan_rules(std::unordered_map<Oid, Oid> &rule_owner) {
    Relation rel = table_open(RewriteRelationId, AccessShareLock);
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, nullptr, 0, nullptr);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        auto *form = reinterpret_cast<Form_pg_rewrite>(GETSTRUCT(tup));
        rule_owner.emplace(form->oid, form->ev_class);
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

// Normal dependencies of rewrite rules on relations (column references count
// once per relation; the graph drops duplicates and self edges).
void scan_rule_dependencies(const std::unordered_map<Oid, Oid> &rule_owner,
                            std::vector<graph::Edge> &out) {
    Relation rel = table_open(DependRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(RewriteRelationId));
    SysScanDesc scan = systable_beginscan(rel, DependDependerIndexId, true, nullptr, 1, &key);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        auto *form = reinterpret_cast<Form_pg_depend>(GETSTRUCT(tup));
        if (form->refclassid != RelationRelationId || form->deptype != DEPENDENCY_NORMAL)
            continue;
        auto owner = rule_owner.find(form->objid);
        if (owner != rule_owner.end() && (out.empty() || out.back().dependent != owner->second ||
                                          out.back().referenced != form->refobjid))
            out.push_back({owner->second, form->refobjid});
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

} // namespace

graph::DependencyGraph read_dependency_graph() {
    std::vector<graph::Relation> relations;
    std::unordered_map<Oid, Oid> rule_owner;
    std::vector<graph::Edge> edges;
    pg_call([&] { scan_relations(relations); });
    pg_call([&] { scan_rules(rule_owner); });
    pg_call([&] { scan_rule_dependencies(rule_owner, edges); });
    return graph::DependencyGraph(std::move(relations), edges);
}

} // namespace pgview::syscat
