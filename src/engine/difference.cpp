// pgview_auto — see difference.hpp.
#include "engine/difference.hpp"

#include <algorithm>

#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "pg/owner_scope.hpp"
#include "syscat/relation_info.hpp"
#include "tableview/write_guard.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "nodes/makefuncs.h"
#include "utils/fmgroids.h"
#include "utils/syscache.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace pgview::engine {

namespace {

struct TableColumn {
    std::string name; // quoted
    std::string eq;   // its type's equality operator, with its schema ("" when it has none)
};

std::vector<TableColumn> table_columns(Oid table) {
    char **names = nullptr;
    const char **eqs = nullptr;
    int n = 0;
    pg_call([table, &names, &eqs, &n] {
        Relation rel = relation_open(table, NoLock); // the refresher holds the lock
        TupleDesc desc = RelationGetDescr(rel);
        names = static_cast<char **>(palloc(sizeof(char *) * (desc->natts + 1)));
        eqs = static_cast<const char **>(palloc(sizeof(char *) * (desc->natts + 1)));
        for (int i = 0; i < desc->natts; i++) {
            Form_pg_attribute att = TupleDescAttr(desc, i);
            if (att->attisdropped)
                continue;
            names[n] = pstrdup(quote_identifier(NameStr(att->attname)));
            eqs[n++] = equality_operator(att->atttypid, true);
        }
        relation_close(rel, NoLock);
    });
    std::vector<TableColumn> out;
    for (int i = 0; i < n; i++)
        out.push_back({names[i], eqs[i] != nullptr ? eqs[i] : ""});
    return out;
}

// "a.x = b.x AND a.y = b.y", each with its type's own equality.
std::string key_match(const std::string &a, const std::string &b, const std::vector<TableColumn> &key) {
    std::string out;
    for (const TableColumn &k : key)
        out += (out.empty() ? "" : " AND ") + a + "." + k.name + " " + k.eq + " " + b + "." + k.name;
    return out;
}

std::string list(const std::string &prefix, const std::vector<std::string> &columns) {
    std::string out;
    for (const std::string &c : columns)
        out += (out.empty() ? "" : ", ") + prefix + c;
    return out;
}

// The statement, from quoted names.
std::string difference_sql(const std::string &table, const std::string &definition,
                           const std::vector<std::string> &columns, const std::vector<TableColumn> &key) {
    std::string cols = list("", columns);
    if (!key.empty()) {
        std::vector<std::string> rest, key_names;
        for (const TableColumn &k : key)
            key_names.push_back(k.name);
        for (const std::string &c : columns)
            if (std::find(key_names.begin(), key_names.end(), c) == key_names.end())
                rest.push_back(c);
        std::string update =
            rest.empty() ? std::string("u AS (SELECT 1 WHERE false), ")
                         : "u AS (UPDATE " + table + " t SET (" + list("", rest) + ") = ROW(" + list("n.", rest) +
                               ") FROM n WHERE " + key_match("n", "t", key) +
                               " AND NOT (t.*)::pg_catalog.text OPERATOR(pg_catalog.=) (n.*)::pg_catalog.text RETURNING 1), ";
        return "WITH n AS MATERIALIZED (SELECT " + cols + " FROM " + definition + "), " +
               "d AS (DELETE FROM " + table + " t WHERE NOT EXISTS (SELECT FROM n WHERE " + key_match("n", "t", key) +
               ") RETURNING 1), " + update + "i AS (INSERT INTO " + table + " (" + cols + ") SELECT " + cols +
               " FROM n WHERE NOT EXISTS (SELECT FROM " + table + " o WHERE " + key_match("o", "n", key) +
               ") RETURNING 1) " +
               "SELECT (SELECT pg_catalog.count(*) FROM d), (SELECT pg_catalog.count(*) FROM u), (SELECT pg_catalog.count(*) FROM i), " +
               "EXISTS (SELECT FROM n GROUP BY " + list("", key_names) + " HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1)";
    }
    // A multiset: the k-th copy of a row on one side matches the k-th on the other.
    return "WITH n AS MATERIALIZED (SELECT " + cols +
           ", pgview_row, pg_catalog.row_number() OVER (PARTITION BY pgview_row) AS pgview_copy FROM (SELECT q.*, (q.*)::pg_catalog.text "
           "AS pgview_row FROM (SELECT " + cols + " FROM " + definition + ") q) s), " +
           "o AS MATERIALIZED (SELECT ctid AS pgview_ctid, pgview_row, pg_catalog.row_number() OVER (PARTITION BY pgview_row) "
           "AS pgview_copy FROM (SELECT t.ctid, (t.*)::pg_catalog.text AS pgview_row FROM " + table + " t) s), " +
           "d AS (DELETE FROM " + table + " t USING o WHERE t.ctid OPERATOR(pg_catalog.=) o.pgview_ctid AND NOT EXISTS (SELECT FROM n "
           "WHERE n.pgview_row OPERATOR(pg_catalog.=) o.pgview_row AND n.pgview_copy OPERATOR(pg_catalog.=) o.pgview_copy) RETURNING 1), " +
           "i AS (INSERT INTO " + table + " (" + cols + ") SELECT " + cols + " FROM n WHERE NOT EXISTS (SELECT FROM o "
           "WHERE o.pgview_row OPERATOR(pg_catalog.=) n.pgview_row AND o.pgview_copy OPERATOR(pg_catalog.=) n.pgview_copy) RETURNING 1) " +
           "SELECT (SELECT pg_catalog.count(*) FROM d), 0::pg_catalog.int8, (SELECT pg_catalog.count(*) FROM i), false";
}

// PostgreSQL refuses to queue a deferred trigger inside a security-restricted
// operation (trigger.c, afterTriggerMarkEvents), where the refresh runs: the
// table view's deferrable constraints (its keys, its foreign keys, the foreign
// keys referencing it, constraint triggers on it) are made IMMEDIATE, as SET
// CONSTRAINTS ... IMMEDIATE does, for the rest of the transaction; they are
// checked at the end of the refresh statement. C-level.
} // namespace

void check_constraints_immediately(Oid table) {
    List *constraints = NIL;
    Relation triggers = table_open(TriggerRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(table));
    SysScanDesc scan = systable_beginscan(triggers, TriggerRelidNameIndexId, true, nullptr, 1, &key);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        auto *form = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tup));
        if (form->tgdeferrable && OidIsValid(form->tgconstraint))
            constraints = list_append_unique_oid(constraints, form->tgconstraint);
    }
    systable_endscan(scan);
    table_close(triggers, AccessShareLock);
    if (constraints == NIL)
        return;
    ConstraintsSetStmt *stmt = makeNode(ConstraintsSetStmt);
    stmt->deferred = false;
    ListCell *lc;
    foreach (lc, constraints) {
        HeapTuple con = SearchSysCache1(CONSTROID, ObjectIdGetDatum(lfirst_oid(lc)));
        if (!HeapTupleIsValid(con))
            continue;
        auto *form = reinterpret_cast<Form_pg_constraint>(GETSTRUCT(con));
        stmt->constraints = lappend(stmt->constraints, makeRangeVar(get_namespace_name(form->connamespace),
                                                                    pstrdup(NameStr(form->conname)), -1));
        ReleaseSysCache(con);
    }
    AfterTriggerSetState(stmt);
}

std::string difference_statement(const tableview::TableView &tv) {
    std::vector<TableColumn> all = table_columns(tv.table);
    std::vector<std::string> columns;
    for (const TableColumn &c : all)
        columns.push_back(c.name);
    std::vector<TableColumn> key;
    for (const std::string &k : tv.unique_key) {
        std::string name = ident(k);
        auto c = std::find_if(all.begin(), all.end(), [&name](const TableColumn &t) { return t.name == name; });
        if (c == all.end() || c->eq.empty())
            throw Error("42883", "key column " + name + " of table view " + qualified_name(tv.table) +
                                     " has no type with a default equality operator");
        key.push_back(*c);
    }
    return difference_sql(qualified_name(tv.table), qualified_name(tv.definition), columns, key);
}

void run_difference(Oid table, const char *statement) {
    // As the owner, as REFRESH does: restricted (no temporary objects, no SET
    // ROLE from the query's functions), with search_path = pg_catalog, pg_temp
    // for the query's functions and the table's triggers (as PostgreSQL 17's
    // REFRESH). Our own statement names every operator and function with its
    // schema besides.
    check_constraints_immediately(table);
    run_as_owner(syscat::relation_owner(table), OwnerScope::restricted, [table, statement] {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "pgview_auto: SPI_connect failed");
        PushActiveSnapshot(GetTransactionSnapshot());
        int rc = 0;
        tableview::writing_table_views([statement, &rc] { rc = SPI_execute(statement, false, 0); });
        if (rc != SPI_OK_SELECT || SPI_processed != 1)
            elog(ERROR, "pgview_auto: the refresh of table view %s failed", get_rel_name(table));
        bool isnull;
        HeapTuple row = SPI_tuptable->vals[0];
        TupleDesc desc = SPI_tuptable->tupdesc;
        elog(DEBUG1, "pgview_auto: table view %s refreshed: " INT64_FORMAT " rows deleted, " INT64_FORMAT
                     " updated, " INT64_FORMAT " inserted",
             get_rel_name(table), DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull)),
             DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull)), DatumGetInt64(SPI_getbinval(row, desc, 3, &isnull)));
        // As REFRESH ... CONCURRENTLY: a key the query gives twice is an error (the
        // whole statement, already applied, goes with the transaction).
        if (DatumGetBool(SPI_getbinval(row, desc, 4, &isnull)))
            ereport(ERROR, (errcode(ERRCODE_CARDINALITY_VIOLATION),
                            errmsg("the query of table view \"%s\" gives some unique key more than once",
                                   get_rel_name(table)),
                            errhint("Fix the query, or the table view's unique_key.")));
        PopActiveSnapshot();
        SPI_finish();
    });
    CommandCounterIncrement();
}

} // namespace pgview::engine
