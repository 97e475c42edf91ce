// pgview_auto — events: what a NOTICE tells an application (a watch removed,
// orphaned or restored, a schedule gone, an index not kept, ...) is also kept
// in pgview_auto.event, which pgview_events shows: most drivers drop NOTICEs.
// An event belongs to its transaction (a rollback takes it back, as it takes
// back what the event tells). The table keeps the newest `max_events` rows:
// each insert prunes the oldest. C-level.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pgview::registry {

inline constexpr int max_events = 1000;

struct Event {
    const char *event;    // what happened, in a few stable words: "watch removed", ...
    const char *relation; // the view it is about, as shown in the message (nullptr: none)
    Oid owner;            // that view's owner when known (else InvalidOid): it may read the event
    const char *message;
    const char *detail;   // nullptr: none
    const char *hint;     // nullptr: none
};

// Raises the message at `level` (NOTICE or WARNING) and keeps the event, with
// the role that ran the command (SET ROLE's, not the owner scope's). Opens its
// own registry session (nested in the caller's, if any). Without the 0.7.0 SQL
// (the library before ALTER EXTENSION UPDATE) only the message is raised.
void report_event(int level, const Event &e);

} // namespace pgview::registry
