// pgview_auto — pgview_explain: for each source of a view, how its changes are refreshed.
#include "api/args.hpp"
#include <algorithm>
#include "analysis/derived_key.hpp"
#include "engine/explain.hpp"
#include "engine/statement.hpp"
#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "pg/srf.hpp"
#include "tableview/table_view_registry.hpp"
#include "watch/apply_watch.hpp"
#include "registry/watch_cache.hpp"

extern "C" {
#include "access/relation.h"
#include "lib/stringinfo.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

using pgview::pg_call;

namespace {

// The view's key and where it comes from, the same on every row (issue 22):
// a table view's unique_key as the registry has it, compared with the key its
// query's shape gives (analysis/derived_key.hpp) to tell a derived key from one
// the user gave. NULLs for a materialized view.
struct ViewKey {
    const char *key;  // "(a, b)", or nullptr
    const char *from; // "from its GROUP BY", "unique_key (given ...)", "none, ...", or nullptr
};

// C++ (the registry's row is read with pgview::Error on failure); the query is
// read and analyzed inside pg_call.
ViewKey view_key(Oid view) {
    pgview::tableview::TableView tv;
    if (!pgview::tableview::lookup(view, &tv) || tv.table != view)
        return {nullptr, nullptr};
    Oid definition = tv.definition;
    pgview::analysis::DerivedKey d{};
    pg_call([definition, &d] {
        Relation rel = relation_open(definition, AccessShareLock);
        auto *q = static_cast<Query *>(copyObjectImpl(get_view_query(rel)));
        relation_close(rel, AccessShareLock);
        d = pgview::analysis::derive_key(q);
    });
    std::vector<std::string> derived;
    ListCell *lc; // (reading the list allocates nothing on PostgreSQL's side)
    foreach (lc, d.columns)
        derived.emplace_back(static_cast<const char *>(lfirst(lc)));
    std::string from = d.from != nullptr ? d.from : "";
    if (tv.unique_key.empty() && d.one_row) {
        std::string one = "from " + from;
        return {pg_call([] { return pstrdup("()"); }), pg_call([&one] { return pstrdup(one.c_str()); })};
    }
    if (tv.unique_key.empty()) {
        // No key: the shape gives none (why), or it does and the table view
        // was made without it (before 0.7.0, or a key column without equality).
        std::string none = "none, rows are compared whole: ";
        if (d.why_not != nullptr)
            none += d.why_not;
        else {
            std::string shaped;
            for (const std::string &k : derived)
                shaped += (shaped.empty() ? "(" : ", ") + pgview::ident(k);
            none += "its shape gives " + shaped + ") from " + from + ", which it was not created with";
        }
        return {nullptr, pg_call([&none] { return pstrdup(none.c_str()); })};
    }
    std::string key;
    for (const std::string &k : tv.unique_key)
        key += (key.empty() ? "(" : ", ") + pgview::ident(k);
    key += ")";
    std::vector<std::string> given = tv.unique_key, shaped = derived;
    std::sort(given.begin(), given.end());
    std::sort(shaped.begin(), shaped.end());
    // The shape's partition is not unique; the same columns given as
    // unique_key have a unique index (what the refresh goes by).
    // Unique as the refresh sees it (engine/statement.hpp: a unique index holds it).
    bool unique = pg_call([view, definition, &tv] {
        Relation rel = relation_open(view, AccessShareLock); // (table_shape reads it locked)
        List *names = NIL;
        for (const std::string &k : tv.unique_key)
            names = lappend(names, pstrdup(k.c_str()));
        bool u = !pgview::engine::table_shape(view, definition, names)->partition;
        relation_close(rel, AccessShareLock);
        return u;
    });
    std::string origin = given == shaped && unique != d.partition ? "from " + from
                         : unique ? "unique_key (given at creation)"
                                  : "unique_key (given at creation), not unique (no unique index holds it): rows are "
                                    "compared whole within a key value";
    return {pg_call([&key] { return pstrdup(key.c_str()); }), pg_call([&origin] { return pstrdup(origin.c_str()); })};
}

} // namespace

PGVIEW_FUNCTION(pgview_explain) {
    pgview::api::require_not_null(fcinfo, 0, "view", "pgview_explain", "Pass a table view or a materialized view.");
    Oid view = PG_GETARG_OID(0);
    if (!pgview::tableview::is_refreshable(view))
        throw pgview::Error(pgview::sqlstate::wrong_object_type,
                            "\"" + pgview::relation_name(view) + "\" is not a table view or a materialized view",
                            {}, "pgview_explain tells how table views and materialized views are refreshed.");
    int option = pg_call([view] {
        const pgview::registry::MatviewOptions *o = pgview::registry::options_of(view);
        return o != nullptr ? o->incremental : -1;
    });
    std::vector<pgview::engine::SourcePlan> plans = pgview::engine::source_plans(view, option);
    ViewKey key = view_key(view);
    pgview::SrfOutput out(fcinfo);
    out.put_rows(plans.size(), [&](size_t i, Datum *values, bool *nulls) {
        const pgview::engine::SourcePlan &p = plans[i];
        values[0] = ObjectIdGetDatum(p.source);
        values[1] = CStringGetTextDatum(p.incremental ? "incremental" : "full");
        values[2] = p.key_from.empty() ? (Datum) 0 : CStringGetTextDatum(p.key_from.c_str());
        nulls[2] = p.key_from.empty();
        values[3] = p.reason.empty() ? (Datum) 0 : CStringGetTextDatum(p.reason.c_str());
        nulls[3] = p.reason.empty();
        values[4] = CStringGetTextDatum(pgview::engine::strategy_name(p.strategy)); // (0.7.0)
        values[5] = CStringGetTextDatum(p.why.c_str());
        values[6] = key.key != nullptr ? CStringGetTextDatum(key.key) : (Datum) 0;
        nulls[6] = key.key == nullptr;
        values[7] = key.from != nullptr ? CStringGetTextDatum(key.from) : (Datum) 0;
        nulls[7] = key.from == nullptr;
    });
    return (Datum) 0;
}
