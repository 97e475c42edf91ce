// pgview_auto — SQL entry points: pgview_alter, pgview_save_dependents, pgview_restore_dependents,
// pgview_discard_saved_dependents.
#include "alter/alter_table.hpp"
#include "alter/save_restore.hpp"
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

PGVIEW_FUNCTION(pgview_save_dependents) {
    const char *fn = "pgview_save_dependents";
    require_not_null(fcinfo, 0, "rel", fn, "Pass the table (or view) whose dependents are to be saved.");
    std::optional<std::vector<std::string>> columns;
    if (!PG_ARGISNULL(1))
        columns = pgview::api::name_array_arg(fcinfo, 1, "columns", fn);
    PG_RETURN_INT32(pgview::alter::save_dependents(PG_GETARG_OID(0), columns));
}

PGVIEW_FUNCTION(pgview_restore_dependents) {
    (void) fcinfo;
    PG_RETURN_INT32(pgview::alter::restore_dependents());
}

PGVIEW_FUNCTION(pgview_discard_saved_dependents) {
    std::optional<std::string> relation;
    if (!PG_ARGISNULL(0))
        relation = text_arg(fcinfo, 0);
    PG_RETURN_INT32(pgview::alter::discard_dependents(relation));
}
