// pgview_auto — see args.hpp.
#include "api/args.hpp"

#include "pg/guard.hpp"
#include "watch/registry.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "common/int.h"
#include "utils/array.h"
#include "utils/builtins.h"
}

namespace pgview::api {

void require_not_null(FunctionCallInfo fcinfo, int arg, const char *name, const char *function, const char *hint) {
    if (PG_ARGISNULL(arg))
        throw Error(sqlstate::null_value_not_allowed,
                    std::string("argument \"") + name + "\" of " + function + " must not be NULL", {}, hint);
}

std::string text_arg(FunctionCallInfo fcinfo, int arg) {
    const char *s = pg_call([fcinfo, arg] { return text_to_cstring(PG_GETARG_TEXT_PP(arg)); });
    return s;
}

std::vector<std::string> text_array_arg(FunctionCallInfo fcinfo, int arg, const char *name, const char *function) {
    std::vector<std::string> out;
    if (PG_ARGISNULL(arg))
        return out;
    Datum *elems;
    bool *nulls;
    int n;
    pg_call([fcinfo, arg, &elems, &nulls, &n] {
        deconstruct_array(PG_GETARG_ARRAYTYPE_P(arg), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
    });
    for (int i = 0; i < n; i++) {
        if (nulls[i])
            throw Error(sqlstate::null_value_not_allowed,
                        std::string("argument \"") + name + "\" of " + function + " must not hold NULL");
        out.emplace_back(pg_call([&elems, i] { return text_to_cstring(DatumGetTextPP(elems[i])); }));
    }
    return out;
}

std::vector<std::string> name_array_arg(FunctionCallInfo fcinfo, int arg, const char *name, const char *function) {
    std::vector<std::string> out;
    if (PG_ARGISNULL(arg))
        return out;
    Datum *elems;
    bool *nulls;
    int n;
    pg_call([fcinfo, arg, &elems, &nulls, &n] {
        deconstruct_array(PG_GETARG_ARRAYTYPE_P(arg), NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &elems, &nulls, &n);
    });
    for (int i = 0; i < n; i++) {
        if (nulls[i])
            throw Error(sqlstate::null_value_not_allowed,
                        std::string("argument \"") + name + "\" of " + function + " must not hold NULL");
        out.emplace_back(NameStr(*DatumGetName(elems[i])));
    }
    return out;
}

int64 interval_us(const Interval *i, const char *name, const char *function) {
    int64 months_us, days_us, sum, us;
    bool overflow = pg_mul_s64_overflow(i->month, static_cast<int64>(DAYS_PER_MONTH) * USECS_PER_DAY, &months_us) ||
                    pg_mul_s64_overflow(i->day, USECS_PER_DAY, &days_us) ||
                    pg_add_s64_overflow(months_us, days_us, &sum) || pg_add_s64_overflow(sum, i->time, &us);
    if (overflow || us > watch::max_interval_us || us < -watch::max_interval_us)
        throw Error("22008", std::string("argument \"") + name + "\" of " + function + " is out of range",
                    "pgview_auto takes intervals of at most 1000 years (a month counted as 30 days).",
                    "Pass a shorter interval.");
    return us;
}

} // namespace pgview::api
