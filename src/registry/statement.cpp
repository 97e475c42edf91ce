// pgview_auto — see statement.hpp.
#include "registry/statement.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace pgview::registry::detail {

int run(Statement &st, const Datum *values, const char *nulls, int expected) {
    if (st.plan == nullptr) {
        SPIPlanPtr plan = SPI_prepare(st.sql, st.nargs, st.argtypes);
        if (plan == nullptr)
            elog(ERROR, "pgview_auto: could not prepare \"%s\": %s", st.sql,
                 SPI_result_code_string(SPI_result));
        SPI_keepplan(plan);
        st.plan = plan;
    }
    int rc = SPI_execute_plan(st.plan, const_cast<Datum *>(values), nulls, false, 0);
    if (rc != expected)
        elog(ERROR, "pgview_auto: \"%s\" failed: %s", st.sql, SPI_result_code_string(rc));
    return static_cast<int>(SPI_processed);
}

Datum oid_or_null(Oid oid, char *null_flag) {
    *null_flag = OidIsValid(oid) ? ' ' : 'n';
    return ObjectIdGetDatum(oid);
}

Oid column_oid(int row, int col) {
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
    return isnull ? InvalidOid : DatumGetObjectId(d);
}

Oid *oid_column(int n, int col) {
    Oid *out = static_cast<Oid *>(SPI_palloc(sizeof(Oid) * (n + 1))); // outlives SPI_finish
    for (int i = 0; i < n; i++)
        out[i] = column_oid(i, col);
    return out;
}

} // namespace pgview::registry::detail
