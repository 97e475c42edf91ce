// pgview_auto — see args.hpp.
#include "api/args.hpp"

#include "pg/guard.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "common/int.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
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

namespace {

// The elements of a one-dimensional text[] or name[] argument, which must hold no NULL.
std::vector<std::string> string_array_arg(FunctionCallInfo fcinfo, int arg, const char *name, const char *function,
                                          Oid elem_type) {
    std::vector<std::string> out;
    if (PG_ARGISNULL(arg))
        return out;
    Datum *elems;
    bool *nulls;
    int n;
    pg_call([fcinfo, arg, elem_type, &elems, &nulls, &n] {
        int16 typlen;
        bool byval;
        char align;
        get_typlenbyvalalign(elem_type, &typlen, &byval, &align);
        deconstruct_array(PG_GETARG_ARRAYTYPE_P(arg), elem_type, typlen, byval, align, &elems, &nulls, &n);
    });
    for (int i = 0; i < n; i++) {
        if (nulls[i])
            throw Error(sqlstate::null_value_not_allowed,
                        std::string("argument \"") + name + "\" of " + function + " must not hold NULL");
        if (elem_type == NAMEOID)
            out.emplace_back(NameStr(*DatumGetName(elems[i])));
        else
            out.emplace_back(pg_call([&elems, i] { return text_to_cstring(DatumGetTextPP(elems[i])); }));
    }
    return out;
}

} // namespace

std::vector<std::string> text_array_arg(FunctionCallInfo fcinfo, int arg, const char *name, const char *function) {
    return string_array_arg(fcinfo, arg, name, function, TEXTOID);
}

std::vector<std::string> name_array_arg(FunctionCallInfo fcinfo, int arg, const char *name, const char *function) {
    return string_array_arg(fcinfo, arg, name, function, NAMEOID);
}

int64 interval_us(const Interval *i, const char *name, const char *function) {
    int64 months_us, days_us, sum, us;
    bool overflow = pg_mul_s64_overflow(i->month, static_cast<int64>(DAYS_PER_MONTH) * USECS_PER_DAY, &months_us) ||
                    pg_mul_s64_overflow(i->day, USECS_PER_DAY, &days_us) ||
                    pg_add_s64_overflow(months_us, days_us, &sum) || pg_add_s64_overflow(sum, i->time, &us);
    if (overflow || us > registry::max_interval_us || us < -registry::max_interval_us)
        throw Error("22008", std::string("argument \"") + name + "\" of " + function + " is out of range",
                    "pgview_auto takes intervals of at most 1000 years (a month counted as 30 days).",
                    "Pass a shorter interval.");
    return us;
}

} // namespace pgview::api
