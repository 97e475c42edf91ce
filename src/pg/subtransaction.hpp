// pgview_auto — run a piece of work so that its failure does not abort the
// caller's transaction: an internal subtransaction, as PL/pgSQL's EXCEPTION
// blocks use. C-level: body must not throw C++ exceptions (run it through
// pg_call from C++ code); PostgreSQL errors it raises are caught here.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/elog.h"
}

namespace pgview {

// nullptr when body succeeded (the subtransaction is committed into the
// caller's); else the error, copied into the caller's memory context, after
// the subtransaction was rolled back.
ErrorData *run_in_subtransaction(void (*body)(void *arg), void *arg);

} // namespace pgview
