// pgview_auto — saving relations as SQL (see saved_relation.hpp).
#include "alter/saved_relation.hpp"

#include <map>

#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "pg/owner_scope.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/ruleutils.h"
}

namespace pgview::alter {

namespace {

// One row per relation. The owner's default privileges count as "no grants":
// a new relation has them; a first ACL item equal to them is not replayed.
constexpr const char *relations_sql =
    "SELECT c.oid, "
    "  CASE WHEN c.relnamespace OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema() THEN 'pg_temp' "
    "       ELSE pg_catalog.quote_ident(n.nspname) END OPERATOR(pg_catalog.||) '.' "
    "       OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname), "
    "  pg_catalog.pg_get_userbyid(c.relowner), c.relispopulated, pg_catalog.pg_get_viewdef(c.oid), "
    "  coalesce((SELECT pg_catalog.string_agg(o.option_name OPERATOR(pg_catalog.||) ' = ' OPERATOR(pg_catalog.||) "
    "                   pg_catalog.quote_literal(o.option_value), ', ') "
    "            FROM pg_catalog.pg_options_to_table(c.reloptions) o), ''), "
    "  coalesce((SELECT pg_catalog.quote_ident(s.spcname) FROM pg_catalog.pg_tablespace s "
    "            WHERE s.oid OPERATOR(pg_catalog.=) c.reltablespace), ''), "
    "  coalesce((SELECT pg_catalog.quote_ident(a.amname) FROM pg_catalog.pg_am a "
    "            WHERE a.oid OPERATOR(pg_catalog.=) c.relam), ''), "
    "  coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), ''), "
    "  c.relacl IS NOT NULL AND NOT coalesce(c.relacl[1] OPERATOR(pg_catalog.=) "
    "      (pg_catalog.acldefault('r', c.relowner))[1], false) "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
    "WHERE c.oid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[])";

constexpr const char *column_comments_sql =
    "SELECT d.objoid, pg_catalog.quote_ident(a.attname), d.description "
    "FROM pg_catalog.pg_description d JOIN pg_catalog.pg_attribute a "
    "  ON a.attrelid OPERATOR(pg_catalog.=) d.objoid AND a.attnum OPERATOR(pg_catalog.=) d.objsubid "
    "WHERE d.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
    "  AND d.objoid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) AND d.objsubid OPERATOR(pg_catalog.>) 0 "
    "ORDER BY d.objoid, a.attnum";

constexpr const char *defaults_sql =
    "SELECT ad.adrelid, pg_catalog.quote_ident(a.attname), pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) "
    "FROM pg_catalog.pg_attrdef ad JOIN pg_catalog.pg_attribute a "
    "  ON a.attrelid OPERATOR(pg_catalog.=) ad.adrelid AND a.attnum OPERATOR(pg_catalog.=) ad.adnum "
    "WHERE ad.adrelid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) ORDER BY ad.adrelid, a.attnum";

// Matview columns with settings of their own. Of attoptions only the options
// ALTER ... SET accepts (a server may keep other entries there of its own).
constexpr const char *column_settings_sql =
    "SELECT a.attrelid, pg_catalog.quote_ident(a.attname), a.attstattarget, "
    "  coalesce((SELECT pg_catalog.string_agg(o.option_name OPERATOR(pg_catalog.||) ' = ' OPERATOR(pg_catalog.||) "
    "                   pg_catalog.quote_literal(o.option_value), ', ') "
    "            FROM pg_catalog.pg_options_to_table(a.attoptions) o "
    "            WHERE o.option_name OPERATOR(pg_catalog.=) ANY ('{n_distinct,n_distinct_inherited}')), ''), "
    "  CASE WHEN a.attstorage OPERATOR(pg_catalog.<>) t.typstorage THEN a.attstorage::pg_catalog.text ELSE '' END, "
    "  a.attcompression::pg_catalog.text "
    "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid "
    "JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid "
    "WHERE a.attrelid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) AND a.attnum OPERATOR(pg_catalog.>) 0 "
    "  AND c.relkind OPERATOR(pg_catalog.=) 'm' AND NOT a.attisdropped "
    "  AND (a.attstattarget OPERATOR(pg_catalog.>=) 0 OR a.attoptions IS NOT NULL "
    "       OR a.attstorage OPERATOR(pg_catalog.<>) t.typstorage OR a.attcompression OPERATOR(pg_catalog.<>) '') "
    "ORDER BY a.attrelid, a.attnum";

constexpr const char *indexes_sql =
    "SELECT x.indrelid, x.indexrelid, "
    "  pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
    "  pg_catalog.quote_ident(i.relname), pg_catalog.quote_ident(i.relname), x.indisclustered, "
    "  coalesce(pg_catalog.obj_description(x.indexrelid, 'pg_class'), '') "
    "FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid OPERATOR(pg_catalog.=) x.indexrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) i.relnamespace "
    "WHERE x.indrelid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) ORDER BY x.indrelid, i.relname";

constexpr const char *statistics_sql =
    "SELECT s.stxrelid, pg_catalog.pg_get_statisticsobjdef(s.oid), pg_catalog.pg_get_userbyid(s.stxowner), "
    "  pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
    "  pg_catalog.quote_ident(s.stxname), s.stxstattarget, "
    "  coalesce(pg_catalog.obj_description(s.oid, 'pg_statistic_ext'), '') "
    "FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) s.stxnamespace "
    "WHERE s.stxrelid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) ORDER BY s.stxrelid, s.stxname";

constexpr const char *rules_sql =
    "SELECT r.ev_class, pg_catalog.pg_get_ruledef(r.oid), pg_catalog.quote_ident(r.rulename), "
    "  coalesce(pg_catalog.obj_description(r.oid, 'pg_rewrite'), '') "
    "FROM pg_catalog.pg_rewrite r WHERE r.ev_class OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) "
    "  AND r.rulename OPERATOR(pg_catalog.<>) '_RETURN' ORDER BY r.ev_class, r.rulename";

constexpr const char *triggers_sql =
    "SELECT t.tgrelid, pg_catalog.pg_get_triggerdef(t.oid), pg_catalog.quote_ident(t.tgname), "
    "  coalesce(pg_catalog.obj_description(t.oid, 'pg_trigger'), '') "
    "FROM pg_catalog.pg_trigger t WHERE t.tgrelid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) "
    "  AND NOT t.tgisinternal ORDER BY t.tgrelid, t.tgname";

// Privileges in the order of the ACL (a grant option is given before it is
// used): one row per ACL item and grantability, relation first, then columns.
constexpr const char *grants_sql =
    "SELECT g.rel, g.col, g.grantor, g.grantee, g.grantable, g.privileges FROM ("
    "  SELECT c.oid AS rel, 0 AS attnum, '' AS col, x.ord, pg_catalog.pg_get_userbyid(a.grantor) AS grantor, "
    "    CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' "
    "         ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END AS grantee, "
    "    a.is_grantable AS grantable, "
    "    pg_catalog.string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type) AS privileges "
    "  FROM pg_catalog.pg_class c, pg_catalog.unnest(c.relacl) WITH ORDINALITY AS x(item, ord), "
    "       pg_catalog.aclexplode(ARRAY[x.item]) a "
    "  WHERE c.oid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) "
    "    AND NOT (x.ord OPERATOR(pg_catalog.=) 1 AND x.item OPERATOR(pg_catalog.=) "
    "             (pg_catalog.acldefault('r', c.relowner))[1]) "
    "  GROUP BY 1, 2, 3, 4, 5, 6, 7 "
    "  UNION ALL "
    "  SELECT t.attrelid, t.attnum, pg_catalog.quote_ident(t.attname), x.ord, pg_catalog.pg_get_userbyid(a.grantor), "
    "    CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' "
    "         ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END, "
    "    a.is_grantable, pg_catalog.string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type) "
    "  FROM pg_catalog.pg_attribute t, pg_catalog.unnest(t.attacl) WITH ORDINALITY AS x(item, ord), "
    "       pg_catalog.aclexplode(ARRAY[x.item]) a "
    "  WHERE t.attrelid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) AND NOT t.attisdropped "
    "  GROUP BY 1, 2, 3, 4, 5, 6, 7) g "
    "ORDER BY g.rel, g.attnum, g.ord, g.grantable";

Oid to_oid(const std::string &s) { return static_cast<Oid>(std::stoul(s)); }

// pg_get_viewdef ends the query with a semicolon; CREATE MATERIALIZED VIEW
// goes on after it.
std::string without_semicolon(std::string query) {
    while (!query.empty() && (query.back() == ';' || query.back() == ' ' || query.back() == '\n'))
        query.pop_back();
    return query;
}

const char *object_word(RebuildKind kind) { return kind == RebuildKind::matview ? "MATERIALIZED VIEW" : "VIEW"; }

std::string storage_word(const std::string &letter) {
    switch (letter.empty() ? ' ' : letter[0]) {
    case 'p': return "PLAIN";
    case 'e': return "EXTERNAL";
    case 'm': return "MAIN";
    default: return "EXTENDED";
    }
}

} // namespace

std::string SavedRelation::describe() const {
    return kind == RebuildKind::definition ? "table view " + table_view + " (its definition " + name + ")"
                                           : std::string(kind_text(kind)) + " " + name;
}

std::vector<SavedRelation> capture(create::SqlRunner &sql, const std::vector<Dependent> &order) {
    std::vector<SavedRelation> saved;
    if (order.empty())
        return saved;
    std::vector<Oid> oids;
    for (const Dependent &d : order)
        oids.push_back(d.relid);
    const std::vector<std::string> param{oid_array(oids)};

    // Deparse with nothing on the search_path but pg_catalog: every other name
    // comes out with its schema.
    OwnerScope safe(pg_call([] { return GetUserId(); }));

    std::map<Oid, size_t> index;
    saved.resize(order.size());
    for (size_t i = 0; i < order.size(); i++) {
        index[order[i].relid] = i;
        saved[i].old_relid = order[i].relid;
        saved[i].kind = order[i].kind;
        if (OidIsValid(order[i].table_view))
            saved[i].table_view = qualified_name(order[i].table_view);
    }
    auto of = [&](const std::string &oid) -> SavedRelation & { return saved[index.at(to_oid(oid))]; };
    auto add = [](SavedRelation &r, const std::string &role, std::string statement) {
        r.steps.push_back({role, std::move(statement)});
    };

    std::vector<std::vector<std::string>> replay_acl; // relations whose ACL starts from nothing
    for (const auto &row : sql.rows(relations_sql, param)) {
        SavedRelation &r = of(row[0]);
        r.name = row[1];
        r.owner = row[2];
        std::string query = without_semicolon(row[4]);
        std::string with = row[5].empty() ? "" : " WITH (" + row[5] + ")";
        if (r.kind == RebuildKind::matview) {
            r.populated = row[3] == "t";
            r.create_sql = "CREATE MATERIALIZED VIEW " + r.name + (row[7].empty() ? "" : " USING " + row[7]) + with +
                           (row[6].empty() ? "" : " TABLESPACE " + row[6]) + " AS\n" + query + "\nWITH NO DATA";
        } else {
            r.populated = r.kind == RebuildKind::definition; // the table view is refreshed after
            r.create_sql = "CREATE VIEW " + r.name + with + " AS\n" + query;
        }
        if (!row[8].empty())
            add(r, r.owner, std::string("COMMENT ON ") + object_word(r.kind) + " " + r.name + " IS " + literal(row[8]));
        if (row[9] == "t") // the owner gave up some of its own privileges: start from none
            replay_acl.push_back({row[0]});
    }
    for (const auto &row : sql.rows(column_comments_sql, param)) {
        SavedRelation &r = of(row[0]);
        add(r, r.owner, "COMMENT ON COLUMN " + r.name + "." + row[1] + " IS " + literal(row[2]));
    }
    for (const auto &row : sql.rows(defaults_sql, param)) {
        SavedRelation &r = of(row[0]);
        add(r, r.owner, "ALTER VIEW " + r.name + " ALTER COLUMN " + row[1] + " SET DEFAULT " + row[2]);
    }
    for (const auto &row : sql.rows(column_settings_sql, param)) {
        SavedRelation &r = of(row[0]);
        std::string column = "ALTER MATERIALIZED VIEW " + r.name + " ALTER COLUMN " + row[1];
        if (std::stoi(row[2]) >= 0)
            add(r, r.owner, column + " SET STATISTICS " + row[2]);
        if (!row[3].empty())
            add(r, r.owner, column + " SET (" + row[3] + ")");
        if (!row[4].empty())
            add(r, r.owner, column + " SET STORAGE " + storage_word(row[4]));
        if (!row[5].empty())
            add(r, r.owner, column + " SET COMPRESSION " + (row[5] == "l" ? "lz4" : "pglz"));
    }
    for (const auto &row : sql.rows(indexes_sql, param)) {
        SavedRelation &r = of(row[0]);
        Oid index_oid = to_oid(row[1]);
        // With its tablespace (pg_get_indexdef leaves that out).
        std::string definition = pg_call([index_oid] { return pg_get_indexdef_string(index_oid); });
        add(r, r.owner, definition);
        if (!row[5].empty())
            add(r, r.owner, "COMMENT ON INDEX " + row[2] + " IS " + literal(row[5]));
        if (row[4] == "t")
            add(r, r.owner, "ALTER MATERIALIZED VIEW " + r.name + " CLUSTER ON " + row[3]);
    }
    for (const auto &row : sql.rows(statistics_sql, param)) {
        SavedRelation &r = of(row[0]);
        add(r, row[2], row[1]);
        if (std::stoi(row[4]) >= 0)
            add(r, row[2], "ALTER STATISTICS " + row[3] + " SET STATISTICS " + row[4]);
        if (!row[5].empty())
            add(r, row[2], "COMMENT ON STATISTICS " + row[3] + " IS " + literal(row[5]));
    }
    for (const auto &row : sql.rows(rules_sql, param)) {
        SavedRelation &r = of(row[0]);
        add(r, r.owner, without_semicolon(row[1]));
        if (!row[3].empty())
            add(r, r.owner, "COMMENT ON RULE " + row[2] + " ON " + r.name + " IS " + literal(row[3]));
    }
    for (const auto &row : sql.rows(triggers_sql, param)) {
        SavedRelation &r = of(row[0]);
        add(r, r.owner, row[1]);
        if (!row[3].empty())
            add(r, r.owner, "COMMENT ON TRIGGER " + row[2] + " ON " + r.name + " IS " + literal(row[3]));
    }
    for (const auto &row : replay_acl) {
        SavedRelation &r = of(row[0]);
        add(r, r.owner, "REVOKE ALL ON TABLE " + r.name + " FROM " + ident(r.owner));
    }
    for (const auto &row : sql.rows(grants_sql, param)) {
        SavedRelation &r = of(row[0]);
        std::string privileges = row[5];
        if (!row[1].empty()) { // column privileges: "SELECT (c), UPDATE (c)"
            std::string listed;
            size_t from = 0;
            while (from <= privileges.size()) {
                size_t comma = privileges.find(", ", from);
                std::string one = privileges.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
                listed += (listed.empty() ? "" : ", ") + one + " (" + row[1] + ")";
                if (comma == std::string::npos)
                    break;
                from = comma + 2;
            }
            privileges = listed;
        }
        add(r, row[2], "GRANT " + privileges + " ON TABLE " + r.name + " TO " + row[3] +
                           (row[4] == "t" ? " WITH GRANT OPTION" : ""));
    }

    return saved;
}

} // namespace pgview::alter
