// pgview_auto — see primary_key.hpp.
#include "create/primary_key.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "analysis/not_null.hpp"
#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "tableview/table_view_registry.hpp"

namespace pgview::create {

namespace {

// The columns of a constraint or index as "a,b" (quoted, sorted by name).
constexpr const char *columns_of = "(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ',' "
                                   "                                ORDER BY a.attname) "
                                   " FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) $1 "
                                   "  AND a.attnum OPERATOR(pg_catalog.=) ANY (%s))";

std::string columns_sql(const char *array) {
    std::string s = columns_of;
    return s.replace(s.find("%s"), 2, array);
}

} // namespace

void sync_primary_key(SqlRunner &sql, Oid table) {
    tableview::TableView tv;
    if (!tableview::lookup(table, &tv) || tv.unique_key.empty())
        return;
    std::vector<std::string> key = tv.unique_key;
    std::sort(key.begin(), key.end());
    std::string wanted;
    for (const std::string &c : key)
        wanted += (wanted.empty() ? "" : ",") + ident(c);
    std::vector<const char *> names;
    for (const std::string &c : key)
        names.push_back(c.c_str());
    Oid definition = tv.definition;
    bool never_null = pg_call([definition, &names] {
        return analysis::columns_never_null(definition, names.data(), static_cast<int>(names.size()));
    });
    const std::string qualified = qualified_name(table);
    auto pk = sql.rows("SELECT c.conname, " + columns_sql("c.conkey") +
                           " FROM pg_catalog.pg_constraint c "
                           "WHERE c.conrelid OPERATOR(pg_catalog.=) $1 AND c.contype OPERATOR(pg_catalog.=) 'p'",
                       table);
    if (!pk.empty()) {
        if (never_null || pk[0][1] != wanted)
            return; // ours and still right, or one the owner made on other columns
        // The new query can give a NULL key: a unique index again, on nullable columns.
        sql.run("ALTER TABLE " + qualified + " DROP CONSTRAINT " + ident(pk[0][0]));
        for (const std::string &c : key)
            sql.run("ALTER TABLE " + qualified + " ALTER COLUMN " + ident(c) + " DROP NOT NULL");
        sql.run("CREATE UNIQUE INDEX ON " + qualified + " (" + wanted + ")");
        return;
    }
    if (!never_null)
        return;
    auto index = sql.rows("SELECT c.relname, " + columns_sql("i.indkey") +
                              " FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) "
                              "i.indexrelid "
                              "WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND i.indisunique AND i.indimmediate "
                              "AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL "
                              "ORDER BY c.relname",
                          table);
    for (const auto &row : index)
        if (row[1] == wanted) {
            sql.run("ALTER TABLE " + qualified + " ADD PRIMARY KEY USING INDEX " + ident(row[0]));
            return;
        }
}

} // namespace pgview::create
