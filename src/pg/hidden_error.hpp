// pgview_auto — an error as a role that may not read the data may see it.
//
// Refreshes and key capture run the owner's query and key expressions on
// behalf of whoever wrote; their errors can quote rows (an invalid input
// value, a key, a constraint's failing row) that the writer may not read. For
// such a writer the error keeps its SQLSTATE and says what failed, not why:
// the full error goes to the server log first. C-level.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/elog.h"
}

namespace pgview {

// Logs edata whole (LOG_SERVER_ONLY), then replaces its message, detail, hint
// and context with the given texts and drops every field that can quote data
// (internal query, positions, schema/table/column/constraint names).
void hide_error(ErrorData *edata, const char *message, const char *detail, const char *hint, const char *context);

} // namespace pgview
