// pgview_auto — see write_guard.hpp.
#include "tableview/write_guard.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace pgview::tableview {

namespace {
int our_writes = 0; // nesting depth of writing_table_views in this backend
}

void writing_table_views(void (*body)(void *), void *arg) {
    our_writes++;
    PG_TRY();
    {
        body(arg);
    }
    PG_FINALLY();
    {
        our_writes--;
    }
    PG_END_TRY();
}

} // namespace pgview::tableview

PGVIEW_FUNCTION(pgview_guard) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        throw pgview::Error("39P01", "pgview_auto.guard() must be called as a trigger");
    auto *td = reinterpret_cast<TriggerData *>(fcinfo->context);
    if (pgview::tableview::our_writes > 0)
        return PointerGetDatum(nullptr);
    const char *what = TRIGGER_FIRED_BY_INSERT(td->tg_event)   ? "INSERT into"
                       : TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "UPDATE"
                       : TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "DELETE from"
                                                               : "TRUNCATE";
    Relation rel = td->tg_relation;
    pgview::pg_call([what, rel] {
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("cannot %s table view \"%s\"", what, RelationGetRelationName(rel)),
                        errdetail("A table view's rows are those of its query: only its refresh writes them."),
                        errhint("Change the tables its query reads, or refresh it with pgview_refresh('%s').",
                                quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
                                                           RelationGetRelationName(rel)))));
    });
    return PointerGetDatum(nullptr);
}
