// pgview_auto — replacing a materialized view (see matview_replace.hpp).
#include "create/matview_replace.hpp"

#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "registry/events.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
}

namespace pgview::create {

namespace {

constexpr const char *insufficient_privilege = "42501";
constexpr const char *dependent_objects_still_exist = "2BP01";

KeptMatview read_old(SqlRunner &sql, Oid matview) {
    KeptMatview k;
    auto rel = sql.rows("SELECT pg_catalog.pg_get_userbyid(c.relowner), "
                        "       coalesce((SELECT spcname FROM pg_catalog.pg_tablespace WHERE oid = c.reltablespace), ''), "
                        "       pg_catalog.obj_description(c.oid, 'pg_class') IS NOT NULL, "
                        "       coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), '') "
                        "FROM pg_catalog.pg_class c WHERE c.oid = $1",
                        matview);
    k.owner = rel[0][0];
    k.tablespace = rel[0][1];
    k.has_comment = rel[0][2] == "t";
    k.comment = rel[0][3];
    for (auto &row : sql.rows("SELECT o.option_name, o.option_value FROM pg_catalog.pg_class c, "
                              "pg_catalog.pg_options_to_table(c.reloptions) o WHERE c.oid = $1",
                              matview))
        k.reloptions.push_back({row[0], row[1]});
    for (auto &row : sql.rows("SELECT a.attname, d.description FROM pg_catalog.pg_description d "
                              "JOIN pg_catalog.pg_attribute a ON a.attrelid = d.objoid AND a.attnum = d.objsubid "
                              "WHERE d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objoid = $1 "
                              "  AND d.objsubid > 0 ORDER BY a.attnum",
                              matview))
        k.column_comments.emplace_back(row[0], row[1]);
    // Grants other than the owner's own (a new matview has those already).
    k.grants = sql.rows("SELECT CASE WHEN a.grantee = 0 THEN '' ELSE pg_catalog.pg_get_userbyid(a.grantee) END, "
                        "       a.privilege_type, a.is_grantable::text "
                        "FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a "
                        "WHERE c.oid = $1 AND a.grantee <> c.relowner ORDER BY 1, 2",
                        matview);
    for (auto &row : sql.rows("SELECT i.relname, pg_catalog.pg_get_indexdef(x.indexrelid), "
                              "       pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' "
                              "         OPERATOR(pg_catalog.||) pg_catalog.quote_ident(i.relname), "
                              "       pg_catalog.obj_description(x.indexrelid, 'pg_class') IS NOT NULL, "
                              "       COALESCE(pg_catalog.obj_description(x.indexrelid, 'pg_class'), '') "
                              "FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid "
                              "JOIN pg_catalog.pg_namespace n ON n.oid = i.relnamespace "
                              "WHERE x.indrelid = $1 ORDER BY i.relname",
                              matview)) {
        k.indexes.emplace_back(row[0], row[1]);
        if (row[3] == "t")
            k.index_comments[row[0]] = {row[2], row[4]};
    }
    return k;
}

} // namespace

KeptMatview keep_matview(SqlRunner &sql, Oid matview, const std::string &shown) {
    bool owner = pg_call([matview] { return pg_class_ownercheck(matview, GetUserId()); });
    if (!owner)
        throw Error(insufficient_privilege, "must be owner of materialized view " + shown);
    // Views (and rules) reading the matview would go with it: refuse.
    auto readers = sql.rows("SELECT DISTINCT r.ev_class::pg_catalog.regclass::text "
                            "FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
                            "WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
                            "  AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
                            "  AND d.refobjid = $1 AND r.ev_class <> $1 ORDER BY 1",
                            matview);
    if (!readers.empty()) {
        std::string list;
        for (const auto &row : readers)
            list += (list.empty() ? "" : ", ") + row[0];
        throw Error(dependent_objects_still_exist,
                    "cannot replace materialized view " + shown + " because other objects depend on it",
                    "Read by: " + list + ".",
                    "Keep them: SELECT pgview_save_dependents(" + literal(relation_name(matview)) +
                        ") saves and drops them, then create it again, then SELECT pgview_restore_dependents() "
                        "makes them again (in the same transaction). To change a table under views, use pgview_alter.");
    }
    KeptMatview kept = read_old(sql, matview);
    // What pgview_status counted: taken out now (the DROP would forget it), given back by give_back.
    kept.stats = pg_call([matview] {
        return registry::with_registry([matview] { return registry::stats_take(matview); });
    });
    return kept;
}

void give_back(SqlRunner &sql, const std::string &qualified, const std::string &shown, const KeptMatview &kept,
               const std::string &kind) {
    if (kept.stats != nullptr) {
        Oid relation = pg_call([&qualified] {
            return RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(qualified.c_str())), NoLock,
                                    false);
        });
        const char *stats = kept.stats;
        pg_call([relation, stats] { registry::with_registry([&] { registry::stats_give(relation, stats); }); });
    }
    for (const auto &g : kept.grants)
        sql.run("GRANT " + g[1] + " ON " + qualified + " TO " + (g[0].empty() ? "PUBLIC" : ident(g[0])) +
                (g[2] == "true" ? " WITH GRANT OPTION" : ""));
    const char *noun = kind == "TABLE" ? "table view" : "materialized view";
    if (kept.has_comment)
        sql.run("COMMENT ON " + kind + " " + qualified + " IS " + literal(kept.comment));
    for (const auto &[column, text] : kept.column_comments) {
        // Only columns the new query still has.
        std::string failure = sql.try_run("COMMENT ON COLUMN " + qualified + "." + ident(column) + " IS " + literal(text));
        if (!failure.empty())
            pg_call([&column, &shown, &qualified, &kept, noun] {
                registry::report_event(NOTICE, {"comment not kept", qualified.c_str(), get_role_oid(kept.owner.c_str(), true),
                                                psprintf("the comment on column \"%s\" of %s %s was not kept: the new "
                                                         "query has no such column",
                                                         column.c_str(), noun, shown.c_str()),
                                                nullptr, nullptr});
            });
    }
    for (const auto &[index, statement] : kept.indexes) {
        std::string failure = sql.try_run(statement);
        auto comment = kept.index_comments.find(index);
        if (failure.empty() && comment != kept.index_comments.end())
            sql.run("COMMENT ON INDEX " + comment->second.first + " IS " + literal(comment->second.second));
        if (!failure.empty())
            pg_call([&index, &shown, &failure, &qualified, &kept, noun] {
                registry::report_event(NOTICE, {"index not kept", qualified.c_str(), get_role_oid(kept.owner.c_str(), true),
                                                psprintf("index \"%s\" of %s %s was not kept: %s", index.c_str(), noun,
                                                         shown.c_str(), failure.c_str()),
                                                nullptr, nullptr});
            });
    }
}

void replace_matview(SqlRunner &sql, Oid old_matview, const MatviewDefinition &def) {
    const std::string qualified = def.name.sql();
    const std::string shown = "\"" + def.name.schema + "." + def.name.name + "\"";
    KeptMatview kept = keep_matview(sql, old_matview, shown);

    sql.run("DROP MATERIALIZED VIEW " + qualified);
    const std::vector<Option> &options = def.options.empty() ? kept.reloptions : def.options;
    sql.run("CREATE MATERIALIZED VIEW " + qualified + with_clause(options) +
            (kept.tablespace.empty() ? "" : " TABLESPACE " + ident(kept.tablespace)) + " AS\n" + def.query + "\n" +
            (def.with_data ? "WITH DATA" : "WITH NO DATA"));

    std::string me = pg_call([] { return GetUserNameFromId(GetUserId(), false); });
    if (kept.owner != me)
        sql.run("ALTER MATERIALIZED VIEW " + qualified + " OWNER TO " + ident(kept.owner));
    give_back(sql, qualified, shown, kept, "MATERIALIZED VIEW");
}

} // namespace pgview::create
