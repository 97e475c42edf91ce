// pgview_auto — pgview_create and pgview_drop (see create_view.hpp).
//
// Every argument is checked before the first statement runs; the statements
// then run in the caller's transaction, so a failure anywhere (a bad column in
// unique_key, a storage parameter PostgreSQL rejects) leaves nothing behind.
// Names are resolved once, to an OID or a schema, and the statements name the
// relation schema-qualified: search_path cannot move it in between.
#include "create/create_view.hpp"

#include <algorithm>

#include "analysis/derived_key.hpp"
#include "create/definition_schema.hpp"
#include "create/matview_replace.hpp"
#include "create/primary_key.hpp"
#include "create/query_columns.hpp"
#include "create/sql_runner.hpp"
#include "create/view_spec.hpp"
#include "pg/guard.hpp"
#include "pg/owner_scope.hpp"
#include "pg/quote.hpp"
#include "engine/refresh.hpp"
#include "syscat/relation_info.hpp"
#include "tableview/table_view_registry.hpp"
#include "watch/apply_watch.hpp"
#include "capture/triggers.hpp"
#include "registry/events.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/lsyscache.h"
}

namespace pgview::create {

namespace {

constexpr const char *duplicate_table = "42P07";
constexpr const char *undefined_table = "42P01";
constexpr const char *invalid_table_definition = "42P16";
constexpr const char *feature_not_supported = "0A000";

// "a table", "a materialized view", ... for messages.
std::string describe(char relkind) {
    switch (relkind) {
    case RELKIND_RELATION:
        return "a table";
    case RELKIND_PARTITIONED_TABLE:
        return "a partitioned table";
    case RELKIND_VIEW:
        return "a view";
    case RELKIND_MATVIEW:
        return "a materialized view";
    case RELKIND_FOREIGN_TABLE:
        return "a foreign table";
    case RELKIND_SEQUENCE:
        return "a sequence";
    case RELKIND_INDEX:
    case RELKIND_PARTITIONED_INDEX:
        return "an index";
    default:
        return "a relation";
    }
}

std::string article(Kind kind) { return std::string("a ") + kind_name(kind); }

bool is_kind(Oid rel, char relkind, Kind kind) {
    switch (kind) {
    case Kind::view:
        return relkind == RELKIND_VIEW;
    case Kind::matview:
        return relkind == RELKIND_MATVIEW;
    case Kind::table_view:
        return relkind == RELKIND_RELATION && tableview::is_table_view(rel);
    }
    return false;
}

// The relation called `name` in `schema`, or InvalidOid.
Oid relation_in(Oid schema, const std::string &name) {
    return pg_call([schema, &name] { return get_relname_relid(name.c_str(), schema); });
}

constexpr const char *undefined_column = "42703";

// Every unique_key column is a column of the query, of a type with an
// equality its refresh can name: checked before anything is created (CREATE
// INDEX, or the first refresh, would find out only after the view was created
// and filled). A table view has at least one column.
void require_key_columns(SqlRunner &sql, const std::string &query, const std::vector<std::string> &key,
                         Kind kind) {
    if (key.empty() && kind != Kind::table_view)
        return;
    std::vector<Column> columns = query_columns(sql, query);
    if (kind == Kind::table_view && columns.empty())
        throw Error(sqlstate::feature_not_supported, "a table view needs at least one column", {},
                    "Select what you count or compare, e.g. SELECT count(*) AS n FROM ... instead of SELECT FROM ....");
    for (const std::string &k : key) {
        auto c = std::find_if(columns.begin(), columns.end(), [&k](const Column &c) { return c.name == k; });
        if (c != columns.end()) {
            Oid type = c->type;
            if (!pg_call([type] { return equality_operator(type, true) != nullptr; }))
                throw Error("42883", "column \"" + k + "\" of unique_key has type " + c->type_name +
                                         ", which has no default equality operator",
                            {}, "Choose key columns whose types have a default btree or hash operator class.");
            continue;
        }
        std::string names;
        for (const Column &c : columns)
            names += (names.empty() ? "" : ", ") + ident(c.name);
        throw Error(undefined_column, "column \"" + k + "\" of unique_key is not a column of the query", {},
                    "The query's columns are: " + names + ".");
    }
}

bool same_columns(const std::vector<Column> &a, const std::vector<Column> &b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](const Column &x, const Column &y) {
               return x.name == y.name && x.type == y.type && x.typmod == y.typmod;
           });
}

// What a table view must be before anything is created: permanent (a
// temporary one would leave its registry row behind at the end of the session).
void require_permanent_table_view(const QualifiedName &name, Oid schema, const std::string &query) {
    if (pg_call([schema] { return isAnyTempNamespace(schema); }))
        throw Error(feature_not_supported, "table views cannot be temporary", {},
                    "Create the table view in a permanent schema.");
    if (reads_temporary_relation(query))
        throw Error(feature_not_supported, "table views must not use temporary tables or views",
                    "The query of table view \"" + name.name + "\" reads a temporary relation.",
                    "Read permanent tables and views only.");
}

// A new table view: its definition view, then the table filled from it; with
// `owner` (another role's matview converted), both owned by that role.
Oid create_table_view(SqlRunner &sql, const QualifiedName &name, Oid schema, const std::string &query,
                      const std::vector<Option> &options, bool with_data, const std::vector<std::string> &key,
                      const std::string &owner = {}) {
    // Its query in pgview_query (create/definition_schema.hpp), under the
    // table's name where that is free there.
    QualifiedName definition{definition_schema, {}};
    Oid query_schema = InvalidOid;
    with_definition_rights([&](Oid schema_of_queries) {
        // Chosen once our turn has come: a concurrent pgview_create's name is
        // committed by then.
        query_schema = schema_of_queries;
        definition.name = free_definition_name(query_schema, name.name);
        sql.run("CREATE VIEW " + definition.sql() + " AS\n" + query + "\n");
        if (!owner.empty() && owner != pg_call([] { return GetUserNameFromId(GetUserId(), false); }))
            sql.run("ALTER VIEW " + definition.sql() + " OWNER TO " + ident(owner));
    });
    sql.run("CREATE TABLE " + name.sql() + with_clause(options) + " AS SELECT * FROM " + definition.sql() +
            " WITH NO DATA");
    if (with_data) {
        // Filled as every refresh fills it: in the owner scope (here the
        // caller's own), so that text computed from dates, intervals or floats
        // does not depend on the caller's DateStyle or extra_float_digits.
        std::string fill = "INSERT INTO " + qualified_name(relation_in(schema, name.name)) + " SELECT * FROM " +
                           qualified_name(relation_in(query_schema, definition.name));
        OwnerScope caller(pg_call([] { return GetUserId(); }));
        sql.run(fill);
    }
    // Publishable as it is: its refresh updates and deletes rows, which logical
    // replication sends only for a table with a replica identity, and a query's
    // columns need not make a primary key. (It costs nothing below wal_level logical.)
    sql.run("ALTER TABLE " + name.sql() + " REPLICA IDENTITY FULL");
    if (!owner.empty() && owner != pg_call([] { return GetUserNameFromId(GetUserId(), false); }))
        sql.run("ALTER TABLE " + name.sql() + " OWNER TO " + ident(owner));
    tableview::TableView tv;
    tv.table = relation_in(schema, name.name);
    tv.definition = relation_in(query_schema, definition.name);
    tv.unique_key = key;
    tv.populated = with_data; // until its first refresh
    tableview::add(tv);
    // Only its refresh writes it from now on (tableview/write_guard.hpp).
    Oid table = tv.table;
    pg_call([table] { registry::with_registry([table] { capture::guard_table_view(table); }); });
    // A watched table view (or matview) of this name dropped earlier, say by a
    // migration, gets its watch back, as a new matview does (event trigger).
    pg_call([] { CommandCounterIncrement(); });
    watch::restore_orphan(tv.table);
    return tv.table;
}

// or_replace of a materialized view by a table view of its name: the matview
// goes, the table view comes with what the matview had (owner, grants,
// comments, storage parameters and tablespace, indexes that apply), its watch
// (the orphan rule brings it back; the first refresh is full, then keyed) and
// its schedule. Refused like a matview's or_replace when views read it.
void convert_matview(SqlRunner &sql, Oid matview, const QualifiedName &name, Oid schema, const std::string &query,
                     const std::vector<Option> &options, bool with_data, const std::vector<std::string> &key) {
    const std::string qualified = name.sql();
    const std::string shown = "\"" + name.schema + "." + name.name + "\"";
    KeptMatview kept = keep_matview(sql, matview, shown);
    auto schedule = sql.rows("SELECT every::text, only_if_dirty::text FROM pgview_auto.schedule WHERE matview = $1",
                             matview);
    sql.run("DROP MATERIALIZED VIEW " + qualified);
    Oid table = create_table_view(sql, name, schema, query, options.empty() ? kept.reloptions : options, with_data,
                                  key, kept.owner);
    if (!kept.tablespace.empty())
        sql.run("ALTER TABLE " + qualified + " SET TABLESPACE " + ident(kept.tablespace));
    give_back(sql, qualified, shown, kept, "TABLE");
    if (!schedule.empty()) {
        std::string every = schedule[0][0];
        bool only_if_dirty = schedule[0][1] == "true";
        pg_call([table, &every, only_if_dirty] {
            Interval *i = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(every.c_str()),
                                                                ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
            registry::with_registry([&] {
                registry::registry_set_schedule(table, i, only_if_dirty);
            });
            registry::report_event(NOTICE, {"schedule restored", quote_relation(table), syscat::relation_owner(table),
                                            psprintf("pgview_auto: schedule of table view %s restored (every %s)",
                                                     get_rel_name(table), every.c_str()),
                                            nullptr, nullptr});
        });
    }
}

// or_replace of a table view: a new query for the same columns, applied by a
// refresh (only the difference is written).
void replace_table_view(SqlRunner &sql, Oid table, const std::string &query, const std::vector<Option> &options,
                        bool with_data) {
    tableview::require_owned_refreshable(table, "pgview_create");
    tableview::TableView tv;
    (void) tableview::lookup(table, &tv);
    std::string definition = qualified_name(tv.definition);
    std::string table_sql = qualified_name(table);
    // The table keeps its columns: the query must give exactly those (names and
    // types, in order). CREATE OR REPLACE VIEW alone would accept new ones.
    std::vector<Column> has = relation_columns(sql, table), gives = query_columns(sql, query);
    if (!same_columns(has, gives))
        throw Error(invalid_table_definition,
                    "the new query of table view " + table_sql + " does not give the columns of the table",
                    "The table has (" + describe_columns(has) + "); the query gives (" + describe_columns(gives) +
                        ").",
                    "A table view's columns cannot change: give a query with those columns, or drop the table view "
                    "with pgview_drop and create it again.");
    with_definition_rights([&](Oid) { sql.run("CREATE OR REPLACE VIEW " + definition + " AS\n" + query + "\n"); });
    if (!options.empty())
        sql.run("ALTER TABLE " + table_sql + " SET (" + option_list(options) + ")");
    if (with_data) {
        (void) engine::refresh_matviews({table}, false, -1, engine::Origin::manual);
    } else {
        // Its rows are the old query's: a keyed refresh would mend only the keys
        // it meets, so the next refresh of its watch is full.
        pg_call([table] {
            registry::with_registry([&] {
                if (registry::registry_at_least("0.6.0"))
                    registry::registry_needs_full(table);
            });
        });
    }
}

std::string display(const QualifiedName &name) { return name.schema.empty() ? name.name : name.schema + "." + name.name; }

// C-level (call it inside pg_call).
RangeVar *range_var(const QualifiedName &name) {
    return makeRangeVar(name.schema.empty() ? nullptr : pstrdup(name.schema.c_str()), pstrdup(name.name.c_str()), -1);
}

void notice(const char *sqlstate_code, const std::string &message) {
    pg_call([sqlstate_code, &message] {
        ereport(NOTICE, (errcode(MAKE_SQLSTATE(sqlstate_code[0], sqlstate_code[1], sqlstate_code[2],
                                               sqlstate_code[3], sqlstate_code[4])),
                         errmsg("%s", message.c_str())));
    });
}

// A table view created without unique_key gets the key its query's shape gives
// (analysis/derived_key.hpp), said in a NOTICE: a unique key when every column
// of it has an equality a refresh can name, else none (rows compared whole,
// refreshed in full); or a partition of its rows (*partition set), made of
// those of its plain columns that have a btree operator class (their index).
std::vector<std::string> derive_key(SqlRunner &sql, const std::string &query, const std::string &view,
                                    bool *partition) {
    std::vector<std::string> key;
    std::string from, why_not;
    const char *text = query.c_str();
    analysis::DerivedKey d{};
    pg_call([text, &d] { d = analysis::derive_key_of_text(text); });
    ListCell *lc; // (reading the result allocates nothing on PostgreSQL's side)
    foreach (lc, d.columns)
        key.emplace_back(static_cast<const char *>(lfirst(lc)));
    from = d.from != nullptr ? d.from : "";
    why_not = d.why_not != nullptr ? d.why_not : "";
    *partition = d.partition;
    if (!key.empty()) {
        std::vector<Column> columns = query_columns(sql, query);
        std::vector<std::string> usable;
        for (const std::string &k : key) {
            auto c = std::find_if(columns.begin(), columns.end(), [&k](const Column &c) { return c.name == k; });
            Oid type = c != columns.end() ? c->type : InvalidOid;
            bool ok = OidIsValid(type) && pg_call([type, partition] {
                          return equality_operator(type, true) != nullptr &&
                                 (!*partition || OidIsValid(GetDefaultOpClass(type, BTREE_AM_OID)));
                      });
            if (ok) {
                usable.push_back(k);
            } else if (!*partition) {
                why_not = "column \"" + k + "\" of the key its shape gives has no default equality operator";
                usable.clear();
                break;
            }
        }
        key = usable;
        if (key.empty() && *partition)
            why_not = "none of its plain columns has a default btree operator class";
    }
    if (key.empty())
        *partition = false;
    std::string names;
    for (const std::string &k : key)
        names += (names.empty() ? "" : ", ") + ident(k);
    // (An event too: most drivers drop NOTICEs. The view does not exist yet: no owner.)
    bool reads_nothing = why_not.rfind("it reads no table", 0) == 0;
    std::string message = key.empty() && reads_nothing
                              ? "table view \"" + view + "\" reads no table: no write changes it, it needs no maintenance"
                          : key.empty() && d.one_row
                              ? "table view \"" + view + "\" is keyed by (), from " + from +
                                    ": every change is to that row"
                          : key.empty() ? "table view \"" + view + "\" has no unique key (" + why_not +
                                              "): every change refreshes it in full"
                          : *partition ? "table view \"" + view + "\" is keyed by (" + names + "), from " + from +
                                             ": rows are compared whole within a key value"
                                       : "table view \"" + view + "\" is keyed by (" + names + "), from " + from;
    const char *what = !key.empty() || d.one_row ? "key derived" : "no key derived";
    const char *m = message.c_str(), *v = view.c_str();
    pg_call([what, m, v] {
        registry::report_event(NOTICE, {what, v, InvalidOid, m, nullptr, nullptr});
    });
    return key;
}

// The unique index unique_key asks for, unless one on exactly those columns is
// there already (kept by or_replace).
void ensure_unique_key(SqlRunner &sql, Oid rel, const std::string &qualified, std::vector<std::string> key) {
    std::sort(key.begin(), key.end());
    std::string wanted;
    for (const std::string &c : key)
        wanted += (wanted.empty() ? "" : ",") + ident(c);
    auto existing = sql.rows("SELECT (SELECT string_agg(quote_ident(a.attname), ',' ORDER BY a.attname) "
                             "        FROM pg_catalog.pg_attribute a "
                             "        WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)) "
                             "FROM pg_catalog.pg_index i "
                             "WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL",
                             rel);
    for (const auto &row : existing)
        if (row[0] == wanted)
            return;
    sql.run("CREATE UNIQUE INDEX ON " + qualified + " (" + wanted + ")");
}

// The index a key that only partitions the rows is found by (not unique: the
// refresh then compares rows whole within a value, engine/statement.hpp).
void ensure_partition_index(SqlRunner &sql, const std::string &qualified, const std::vector<std::string> &key) {
    std::string columns;
    for (const std::string &c : key)
        columns += (columns.empty() ? "" : ", ") + ident(c);
    sql.run("CREATE INDEX ON " + qualified + " (" + columns + ")");
}

} // namespace

Oid create_view(const CreateRequest &r) {
    Kind kind = parse_kind(r.kind);
    if (r.or_replace && r.if_not_exists)
        throw Error(sqlstate::invalid_parameter_value, "or_replace and if_not_exists cannot both be true", {},
                    "or_replace replaces an existing view; if_not_exists keeps it.");
    QualifiedName name = parse_name(r.name);
    std::string query = parse_query(r.query, display(name));
    std::vector<Option> options = parse_options(r.options, kind);
    std::vector<std::string> key = parse_unique_key(r.unique_key, kind);
    bool partition = false; // the key derived only partitions the rows
    if (kind == Kind::view && !r.with_data)
        throw Error(sqlstate::invalid_parameter_value, "with_data applies to materialized views, not to a view");

    // Where CREATE would put it, and what is there already.
    Oid schema = pg_call([&name] { return RangeVarGetCreationNamespace(range_var(name)); });
    const char *schema_name = pg_call([schema] { return get_namespace_name(schema); });
    if (schema_name == nullptr) // dropped meanwhile
        throw Error("3F000", "the schema of \"" + display(name) + "\" no longer exists");
    name.schema = schema_name;
    const std::string qualified = name.sql();
    Oid existing = relation_in(schema, name.name);
    if (kind == Kind::table_view)
        require_permanent_table_view(name, schema, query);

    SqlRunner sql;
    if (OidIsValid(existing)) {
        char relkind = pg_call([existing] { return get_rel_relkind(existing); });
        bool same = is_kind(existing, relkind, kind);
        if (r.if_not_exists) {
            if (!same)
                throw Error(duplicate_table,
                            "relation \"" + display(name) + "\" already exists and is " + describe(relkind) +
                                ", not " + article(kind),
                            {}, "Choose another name.");
            notice(duplicate_table, std::string(kind_name(kind)) + " \"" + display(name) +
                                        "\" already exists, skipping");
            return existing;
        }
        if (!r.or_replace)
            throw Error(duplicate_table, "relation \"" + display(name) + "\" already exists", {},
                        same ? "Use or_replace => true to replace it, or if_not_exists => true to keep it."
                             : "It is " + describe(relkind) + "; choose another name.");
        bool conversion = !same && kind == Kind::table_view && relkind == RELKIND_MATVIEW;
        if (!same && !conversion)
            throw Error(sqlstate::wrong_object_type, "\"" + display(name) + "\" is " + describe(relkind) + ", not " +
                                                         article(kind),
                        {}, "or_replace replaces a relation of the same kind only (and converts a materialized view "
                            "into a table view).");
        if (conversion && r.unique_key.empty() && !r.no_key)
            key = derive_key(sql, query, display(name), &partition);
        require_key_columns(sql, query, key, kind);
        if (conversion)
            convert_matview(sql, existing, name, schema, query, options, r.with_data, key);
        else if (kind == Kind::matview)
            replace_matview(sql, existing, MatviewDefinition{name, query, options, r.with_data});
        else if (kind == Kind::table_view)
            replace_table_view(sql, existing, query, options, r.with_data);
        else
            sql.run("CREATE OR REPLACE VIEW " + qualified + with_clause(options) + " AS\n" + query + "\n");
    } else {
        if (kind == Kind::table_view && r.unique_key.empty() && !r.no_key)
            key = derive_key(sql, query, display(name), &partition);
        require_key_columns(sql, query, key, kind);
        if (kind == Kind::table_view) {
            (void) create_table_view(sql, name, schema, query, options, r.with_data, key);
        } else if (kind == Kind::view) {
            sql.run("CREATE VIEW " + qualified + with_clause(options) + " AS\n" + query + "\n");
        } else {
            // The newline ends a trailing "--" comment the query may hold.
            sql.run("CREATE MATERIALIZED VIEW " + qualified + with_clause(options) + " AS\n" + query + "\n" +
                    (r.with_data ? "WITH DATA" : "WITH NO DATA"));
        }
    }
    Oid created = relation_in(schema, name.name);
    if (!key.empty() && partition)
        ensure_partition_index(sql, qualified, key);
    else if (!key.empty())
        ensure_unique_key(sql, created, qualified, key);
    if (kind == Kind::table_view)
        sync_primary_key(sql, created);
    return created;
}

bool drop_view(const std::string &text, bool cascade, bool if_exists) {
    QualifiedName name = parse_name(text);
    Oid rel = pg_call([&name] { return RangeVarGetRelid(range_var(name), NoLock, true); });
    if (!OidIsValid(rel)) {
        if (!if_exists)
            throw Error(undefined_table, "view \"" + display(name) + "\" does not exist", {},
                        "Use if_exists => true to ignore a missing view.");
        notice("00000", "view \"" + display(name) + "\" does not exist, skipping");
        return false;
    }
    std::string system_schema = pg_call([rel] {
        Oid nsp = get_rel_namespace(rel);
        return syscat::is_system_namespace(nsp) ? get_namespace_name(nsp) : "";
    });
    if (!system_schema.empty())
        throw Error(sqlstate::wrong_object_type,
                    "\"" + display(name) + "\" is in system schema \"" + system_schema + "\"", {},
                    "pgview_drop drops views of user schemas only.");
    char relkind = pg_call([rel] { return get_rel_relkind(rel); });
    const char *what = relkind == RELKIND_VIEW      ? "VIEW"
                       : relkind == RELKIND_MATVIEW ? "MATERIALIZED VIEW"
                       : tableview::is_table_view(rel) ? "TABLE" // its definition goes with it (sql_drop)
                                                    : nullptr;
    if (what == nullptr)
        throw Error(sqlstate::wrong_object_type, "\"" + display(name) + "\" is " + describe(relkind) + ", not a view",
                    {}, "pgview_drop drops views, materialized views and table views only.");
    SqlRunner sql;
    // Its watch (and those of what CASCADE drops with it) goes with it: the
    // caller asked for the view to go, not to come back by name (sql_drop).
    registry::WatchesGoWithDrop watches_go;
    sql.run(std::string("DROP ") + what + " " + qualified_name(rel) + (cascade ? " CASCADE" : ""));
    return true;
}

} // namespace pgview::create
