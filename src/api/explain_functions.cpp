// pgview_auto — pgview_explain: for each source of a view, how its changes are refreshed.
#include "api/args.hpp"
#include "engine/explain.hpp"
#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "pg/srf.hpp"
#include "tableview/table_view_registry.hpp"
#include "watch/apply_watch.hpp"
#include "registry/watch_cache.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

using pgview::pg_call;

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
    });
    return (Datum) 0;
}
