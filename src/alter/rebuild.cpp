// pgview_auto — dropping and recreating saved relations (see rebuild.hpp).
#include "alter/rebuild.hpp"
#include <algorithm>

#include "create/definition_schema.hpp"
#include "create/primary_key.hpp"

#include "alter/registry_moves.hpp"
#include "alter/steps.hpp"
#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "pg/owner_scope.hpp"
#include "engine/refresh.hpp"
#include "syscat/relation_info.hpp"

extern "C" {
#include "miscadmin.h"
}

namespace pgview::alter {

namespace {

// Columns of a table view's table whose type (or collation) differs from its
// definition's, matched by position as CREATE TABLE AS made them; the new type
// as format_type spells it with search_path = pg_catalog, pg_temp.
constexpr const char *changed_types_sql =
    "WITH t AS (SELECT a.*, pg_catalog.row_number() OVER (ORDER BY a.attnum) AS pos FROM pg_catalog.pg_attribute a "
    "           WHERE a.attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND a.attnum OPERATOR(pg_catalog.>) 0 "
    "             AND NOT a.attisdropped), "
    "     d AS (SELECT a.*, pg_catalog.row_number() OVER (ORDER BY a.attnum) AS pos FROM pg_catalog.pg_attribute a "
    "           WHERE a.attrelid OPERATOR(pg_catalog.=) $2::pg_catalog.oid AND a.attnum OPERATOR(pg_catalog.>) 0 "
    "             AND NOT a.attisdropped) "
    "SELECT t.attnum, t.attname, pg_catalog.format_type(d.atttypid, d.atttypmod), "
    "  CASE WHEN d.attcollation OPERATOR(pg_catalog.<>) t.attcollation AND d.attcollation OPERATOR(pg_catalog.<>) 0 "
    "       THEN (SELECT pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
    "                    pg_catalog.quote_ident(c.collname) FROM pg_catalog.pg_collation c "
    "             JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.collnamespace "
    "             WHERE c.oid OPERATOR(pg_catalog.=) d.attcollation) ELSE '' END "
    "FROM t JOIN d ON d.pos OPERATOR(pg_catalog.=) t.pos "
    "WHERE t.atttypid OPERATOR(pg_catalog.<>) d.atttypid OR t.atttypmod OPERATOR(pg_catalog.<>) d.atttypmod "
    "   OR t.attcollation OPERATOR(pg_catalog.<>) d.attcollation "
    "ORDER BY t.attnum";

// The table view's table gets the column types its rebuilt definition gives.
void follow_definition(create::SqlRunner &sql, Oid table, Oid definition, const Wording &wording, ActionRows &rows) {
    auto changed = [&] {
        OwnerScope caller(pg_call([] { return GetUserId(); })); // format_type spells types with a safe search_path
        return sql.rows(changed_types_sql, {std::to_string(table), std::to_string(definition)});
    }();
    if (changed.empty())
        return;

    std::string name = qualified_name(table);
    std::string alter = "ALTER TABLE " + name;
    std::vector<ColumnRef> columns;
    for (size_t i = 0; i < changed.size(); i++) {
        const auto &c = changed[i];
        std::string column = ident(c[1]);
        alter += std::string(i ? "," : "") + " ALTER COLUMN " + column + " TYPE " + c[2] +
                 (c[3].empty() ? "" : " COLLATE " + c[3]) + " USING " + column + "::" + c[2];
        columns.push_back({table, std::stoi(c[0]), c[1], false});
    }
    Plan plan = plan_dependents(sql, columns);
    check_plan(sql, plan, wording.who, "rebuild");
    std::string owner = pg_call([table] { return GetUserNameFromId(syscat::relation_owner(table), false); });
    rebuild_around(
        sql, plan,
        [&] {
            run_statements({{owner, alter, "table view " + name}}, "change the column types of",
                           "Its rebuilt definition gives other types; drop the table view first, or change its "
                           "query so that the types stay.");
            rows.push_back({name, "table view", "altered"});
        },
        wording, rows);
}

} // namespace

void drop_saved(const std::vector<SavedRelation> &saved, const Wording &wording) {
    std::vector<Statement> drops;
    for (auto r = saved.rbegin(); r != saved.rend(); ++r)
        drops.push_back({r->owner,
                         std::string(r->kind == RebuildKind::matview ? "DROP MATERIALIZED VIEW " : "DROP VIEW ") +
                             r->name,
                         r->describe()});
    run_statements(drops, "drop", wording.who + " rebuilds views, materialized views and table views only.");
}

namespace {

std::vector<Oid> recreate_in_order(create::SqlRunner &sql, const std::vector<SavedRelation> &saved,
                                   const Wording &wording, ActionRows &rows) {
    std::vector<Oid> created(saved.size(), InvalidOid);
    // CREATE statements in runs; a table view's definition ends a run, as its
    // table may have to follow it before anything that reads the table is made.
    std::vector<Statement> run;
    size_t run_start = 0;
    for (size_t i = 0; i < saved.size(); i++) {
        const SavedRelation &r = saved[i];
        run.push_back({r.owner, r.create_sql, r.describe()});
        bool last = i + 1 == saved.size();
        if (r.kind != RebuildKind::definition && !last)
            continue;
        run_statements(run, "recreate", wording.create_hint);
        run.clear();
        for (size_t j = run_start; j <= i; j++) {
            created[j] = relation_named(saved[j].name);
            rows.push_back({saved[j].kind == RebuildKind::definition ? saved[j].table_view : saved[j].name,
                            kind_text(saved[j].kind),
                            saved[j].kind == RebuildKind::definition ? "definition dropped and recreated"
                                                                     : "dropped and recreated"});
        }
        run_start = i + 1;
        if (r.kind == RebuildKind::definition)
            follow_definition(sql, relation_named(r.table_view), created[i], wording, rows);
    }
    // Everything else once every relation exists (a rule may name a later one).
    std::vector<Statement> rest;
    for (const SavedRelation &r : saved)
        for (const Step &s : r.steps)
            rest.push_back({s.role, s.sql, r.describe()});
    run_statements(rest, "recreate", wording.create_hint);
    return created;
}

} // namespace

std::vector<Oid> recreate_saved(create::SqlRunner &sql, const std::vector<SavedRelation> &saved,
                                const Wording &wording, ActionRows &rows) {
    // A table view's definition is made again in pgview_query, where its
    // owner may create only while we do (create/definition_schema.hpp).
    bool definitions = std::any_of(saved.begin(), saved.end(),
                                   [](const SavedRelation &r) { return r.kind == RebuildKind::definition; });
    if (!definitions)
        return recreate_in_order(sql, saved, wording, rows);
    std::vector<Oid> created;
    create::with_definition_rights([&](Oid) { created = recreate_in_order(sql, saved, wording, rows); });
    return created;
}

void sync_primary_keys(create::SqlRunner &sql, const std::vector<SavedRelation> &saved) {
    for (const SavedRelation &r : saved)
        if (r.kind == RebuildKind::definition) {
            Oid table = relation_named(r.table_view);
            if (OidIsValid(table))
                create::sync_primary_key(sql, table);
        }
}

void populate(const std::vector<SavedRelation> &saved, const std::vector<Oid> &created, ActionRows &rows) {
    for (size_t i = 0; i < saved.size(); i++) {
        const SavedRelation &r = saved[i];
        if (!r.populated)
            continue;
        bool matview = r.kind == RebuildKind::matview;
        Oid target = matview ? created[i] : relation_named(r.table_view);
        const std::string &name = matview ? r.name : r.table_view;
        try {
            // A new matview is read by no one yet: a plain refresh.
            (void) engine::refresh_matviews({target}, false, matview ? 0 : -1, engine::Origin::manual);
        } catch (const Error &e) {
            throw Error(e.sqlstate(), "cannot refresh " + std::string(kind_text(r.kind)) + " " + name +
                                          " after rebuilding it: " + e.what(),
                        e.detail(), "Its query fails on the changed table; drop it first, or change the statement.");
        }
        rows.push_back({name, kind_text(r.kind), "refreshed"});
    }
}

void rebuild_around(create::SqlRunner &sql, const Plan &plan, const std::function<void()> &change,
                    const Wording &wording, ActionRows &rows) {
    std::vector<SavedRelation> saved = capture(sql, plan.order);
    drop_saved(saved, wording);
    change();
    std::vector<Oid> created = recreate_saved(sql, saved, wording, rows);
    Moves moves, matviews;
    for (size_t i = 0; i < saved.size(); i++) {
        moves.emplace_back(saved[i].old_relid, created[i]);
        if (saved[i].kind == RebuildKind::matview)
            matviews.emplace_back(saved[i].old_relid, created[i]);
    }
    repoint_registry(moves);
    move_pending_at_commit(matviews);
    sync_primary_keys(sql, saved);
    populate(saved, created, rows);
}

} // namespace pgview::alter
