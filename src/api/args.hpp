// pgview_auto — reading SQL function arguments from C++ (entry points only).
#pragma once

#include <string>
#include <vector>

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "datatype/timestamp.h"
}

namespace pgview::api {

// 22004 naming the argument and the function, with a hint.
void require_not_null(FunctionCallInfo fcinfo, int arg, const char *name, const char *function, const char *hint);
std::string text_arg(FunctionCallInfo fcinfo, int arg);
// NULL gives an empty list; a NULL element is an error (22004) naming the argument.
std::vector<std::string> text_array_arg(FunctionCallInfo fcinfo, int arg, const char *name, const char *function);
// The same for a name[] argument.
std::vector<std::string> name_array_arg(FunctionCallInfo fcinfo, int arg, const char *name, const char *function);

// An interval in microseconds, a month counted as 30 days; 22008 naming the
// argument when it is longer than registry::max_interval_us either way.
int64 interval_us(const Interval *i, const char *name, const char *function);

} // namespace pgview::api
