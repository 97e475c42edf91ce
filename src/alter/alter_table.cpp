// pgview_auto — pgview_alter (see alter_table.hpp).
#include "alter/alter_table.hpp"

#include <algorithm>

#include "alter/alter_statement.hpp"
#include "alter/dependents.hpp"
#include "alter/locks.hpp"
#include "alter/saved_relation.hpp"
#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "tableview/table_view_registry.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
}

namespace pgview::alter {

namespace {

constexpr const char *invalid_table_definition = "42P16";

const Wording wording{"pgview_alter",
                      "Its query no longer works on the changed table; drop it first (and create it again "
                      "afterwards), or change the statement (a dropped column can be replaced in the same "
                      "statement: ..., ADD COLUMN ...)."};

const char *table_kind(char relkind) {
    switch (relkind) {
    case RELKIND_PARTITIONED_TABLE: return "partitioned table";
    case RELKIND_FOREIGN_TABLE: return "foreign table";
    default: return "table";
    }
}

// ALTER TABLE needs ownership (every subcommand): say so before anything runs.
void require_owner(Oid table) {
    pg_call([table] {
        if (!pg_class_ownercheck(table, GetUserId()))
            aclcheck_error(ACLCHECK_NOT_OWNER, get_relkind_objtype(get_rel_relkind(table)), get_rel_name(table));
    });
}

// The table and every dependent at once, or waited for holding none (locks.hpp).
void lock_all(const Plan &plan, Oid table, int table_lockmode) {
    std::vector<LockRequest> locks{{table, table_lockmode, true}};
    for (const Dependent &d : plan.order)
        locks.push_back({d.relid, AccessExclusiveLock, false});
    lock_all_or_wait(locks);
}

// A table view's table altered by the user must still match its definition.
void require_matching_table_view(create::SqlRunner &sql, Oid table) {
    tableview::TableView tv;
    if (!tableview::lookup(table, &tv))
        return;
    auto rows = sql.rows(
        "WITH t AS (SELECT a.atttypid, a.atttypmod, a.attname, "
        "                  pg_catalog.row_number() OVER (ORDER BY a.attnum) AS pos FROM pg_catalog.pg_attribute a "
        "           WHERE a.attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND a.attnum OPERATOR(pg_catalog.>) 0 "
        "             AND NOT a.attisdropped), "
        "     d AS (SELECT a.atttypid, a.atttypmod, a.attname, "
        "                  pg_catalog.row_number() OVER (ORDER BY a.attnum) AS pos FROM pg_catalog.pg_attribute a "
        "           WHERE a.attrelid OPERATOR(pg_catalog.=) $2::pg_catalog.oid AND a.attnum OPERATOR(pg_catalog.>) 0 "
        "             AND NOT a.attisdropped) "
        "SELECT coalesce(t.attname::pg_catalog.text, d.attname::pg_catalog.text) FROM t FULL JOIN d "
        "  ON d.pos OPERATOR(pg_catalog.=) t.pos "
        "WHERE t.pos IS NULL OR d.pos IS NULL OR t.atttypid OPERATOR(pg_catalog.<>) d.atttypid "
        "   OR t.atttypmod OPERATOR(pg_catalog.<>) d.atttypmod ORDER BY coalesce(t.pos, d.pos) LIMIT 1",
        {std::to_string(tv.table), std::to_string(tv.definition)});
    if (!rows.empty())
        throw Error(invalid_table_definition,
                    "table view " + qualified_name(table) + " would no longer match its query (column \"" +
                        rows[0][0] + "\")",
                    "A table view's columns are those of its query (" + qualified_name(tv.definition) + ").",
                    "Change the tables its query reads instead, or drop the table view and create it again.");
}

ActionRows dry_run_rows(create::SqlRunner &sql, const Plan &plan, const std::string &table_row,
                        const char *table_kind_text) {
    ActionRows rows{{table_row, table_kind_text, "altered"}};
    std::vector<SavedRelation> saved = capture(sql, plan.order);
    for (const SavedRelation &r : saved)
        rows.push_back({r.kind == RebuildKind::definition ? r.table_view : r.name, kind_text(r.kind),
                        r.kind == RebuildKind::definition ? "definition dropped and recreated"
                                                          : "dropped and recreated"});
    for (const SavedRelation &r : saved)
        if (r.populated)
            rows.push_back({r.kind == RebuildKind::definition ? r.table_view : r.name, kind_text(r.kind),
                            "refreshed"});
    return rows;
}

} // namespace

ActionRows alter_table(const std::string &statement, bool dry_run) {
    AlterStatement st = parse_statement(statement);
    create::SqlRunner sql;
    ActionRows rows;
    if (!OidIsValid(st.table)) { // IF EXISTS of a missing table: PostgreSQL's NOTICE
        if (!dry_run)
            sql.run(statement);
        return rows;
    }
    require_owner(st.table);
    const char *kind = table_kind(pg_call([&st] { return get_rel_relkind(st.table); }));

    std::vector<ColumnRef> columns = changed_columns(st);
    Plan plan = plan_dependents(sql, columns);
    check_plan(sql, plan, "pgview_alter", "rebuild");
    if (dry_run)
        return dry_run_rows(sql, plan, qualified_name(st.table), kind);

    if (!plan.order.empty()) {
        lock_all(plan, st.table, st.lockmode);
        // Views made or dropped while we waited for the locks.
        Plan again = plan_dependents(sql, changed_columns(st));
        if (relids(again) != relids(plan)) {
            check_plan(sql, again, "pgview_alter", "rebuild");
            lock_all(again, st.table, st.lockmode);
            plan = std::move(again);
        }
    }
    Oid table = st.table;
    rebuild_around(
        sql, plan,
        [&] {
            sql.run(statement); // the caller's own statement: with their rights, seen by every event trigger
            rows.push_back({qualified_name(table), kind, "altered"});
        },
        wording, rows);
    require_matching_table_view(sql, table);
    return rows;
}

} // namespace pgview::alter
