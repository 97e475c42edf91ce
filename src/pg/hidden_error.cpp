// pgview_auto — see hidden_error.hpp.
#include "pg/hidden_error.hpp"

namespace pgview {

void hide_error(ErrorData *edata, const char *message, const char *detail, const char *hint, const char *context) {
    ereport(LOG_SERVER_ONLY, (errcode(edata->sqlerrcode), errmsg("pgview_auto: %s: %s", message, edata->message),
                              edata->detail ? errdetail_internal("%s", edata->detail) : 0,
                              edata->context ? errcontext("%s", edata->context) : 0));
    edata->message = pstrdup(message);
    edata->detail = detail != nullptr ? pstrdup(detail) : nullptr;
    edata->detail_log = nullptr;
    edata->hint = hint != nullptr ? pstrdup(hint) : nullptr;
    edata->context = context != nullptr ? pstrdup(context) : nullptr;
    edata->internalquery = nullptr;
    edata->internalpos = 0;
    edata->cursorpos = 0;
    edata->schema_name = edata->table_name = edata->column_name = edata->datatype_name = edata->constraint_name =
        nullptr;
}

} // namespace pgview
