// pgview_auto — SQL entry points: pgview_alter (and the save / restore pair).
#include "alter/alter_table.hpp"
#include "api/args.hpp"
#include "pg/guard.hpp"
#include "pg/srf.hpp"

extern "C" {
#include "utils/builtins.h"
}

using pgview::api::require_not_null;
using pgview::api::text_arg;

PGVIEW_FUNCTION(pgview_alter) {
    const char *fn = "pgview_alter";
    require_not_null(fcinfo, 0, "statement", fn, "Pass one ALTER TABLE statement.");
    require_not_null(fcinfo, 1, "dry_run", fn, "Pass true or false.");
    pgview::alter::ActionRows rows = pgview::alter::alter_table(text_arg(fcinfo, 0), PG_GETARG_BOOL(1));
    pgview::SrfOutput out(fcinfo);
    out.put_rows(rows.size(), [&rows](std::size_t i, Datum *values, bool *) {
        values[0] = CStringGetTextDatum(rows[i].relation.c_str());
        values[1] = CStringGetTextDatum(rows[i].kind.c_str());
        values[2] = CStringGetTextDatum(rows[i].action.c_str());
    });
    return (Datum) 0;
}
