// pgview_auto — SQL entry points: pgview_create, pgview_drop.
#include "api/args.hpp"
#include "create/create_view.hpp"
#include "pg/guard.hpp"

using pgview::api::require_not_null;
using pgview::api::text_arg;
using pgview::api::text_array_arg;

PGVIEW_FUNCTION(pgview_create) {
    const char *fn = "pgview_create";
    require_not_null(fcinfo, 0, "name", fn, "Pass the view's name, e.g. 'reports.daily'.");
    require_not_null(fcinfo, 1, "query", fn, "Pass a SELECT statement.");
    require_not_null(fcinfo, 2, "kind", fn, "Pass kind => 'view', 'materialized view' or 'table view'.");
    require_not_null(fcinfo, 3, "or_replace", fn, "Pass true or false.");
    require_not_null(fcinfo, 4, "if_not_exists", fn, "Pass true or false.");
    require_not_null(fcinfo, 5, "with_data", fn, "Pass true or false.");
    pgview::create::CreateRequest request{text_arg(fcinfo, 0),
                                          text_arg(fcinfo, 1),
                                          text_arg(fcinfo, 2),
                                          PG_GETARG_BOOL(3) != 0,
                                          PG_GETARG_BOOL(4) != 0,
                                          PG_GETARG_BOOL(5) != 0,
                                          text_array_arg(fcinfo, 6, "options", fn),
                                          text_array_arg(fcinfo, 7, "unique_key", fn)};
    request.no_key = !PG_ARGISNULL(7) && request.unique_key.empty();
    PG_RETURN_OID(pgview::create::create_view(request));
}

PGVIEW_FUNCTION(pgview_drop) {
    const char *fn = "pgview_drop";
    require_not_null(fcinfo, 0, "name", fn, "Pass the view's name.");
    require_not_null(fcinfo, 1, "cascade", fn, "Pass true or false.");
    require_not_null(fcinfo, 2, "if_exists", fn, "Pass true or false.");
    PG_RETURN_BOOL(pgview::create::drop_view(text_arg(fcinfo, 0), PG_GETARG_BOOL(1), PG_GETARG_BOOL(2)));
}
