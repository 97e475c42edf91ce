// pgview_auto — the transaction's change set, per view: what the capture
// triggers collect and what a refresh (at commit, or through shared memory by
// the worker) consumes.
//   keys    sink 0 holds the view's keys; sink i > 0 the captured join values
//           of the view's i-th join source, which its key query turns into
//           keys at refresh time (a keyed recompute);
//   deltas  for a view kept by delta arithmetic: per key, the change of each
//           aggregate's state (rows, non-null values, sums, insert-only
//           extremes), summed over every changed row (+1 new rows, -1 old);
//   full    a change that cannot be keyed, with its reason.
// Past pgview_auto.max_keys distinct keys (pgview_auto.max_delta_groups delta
// groups) a view is "full": collection stops.
// Kept in TopTransactionContext. A rolled-back savepoint keeps its keys (at
// worst keys refreshed for nothing, never one missed) but makes the deltas it
// contributed to unusable (they would count rows that are gone): the refresh
// then recomputes the keys instead. C-level: may ereport.
#pragma once

#include "changes/key_image.hpp"

extern "C" {
#include "nodes/pg_list.h"
}

namespace pgview::changes {

struct SinkKey {
    int sink;
    KeyImage image;
};

// What a delta keeps of one aggregate argument.
struct DeltaArg {
    Oid type;     // the argument's type
    Oid collation; // ... and collation (min, max)
    bool nonnull; // count its non-null values
    char sum;     // 0: no sum; 'i': int64 (int2, int4); 'w': int128 (int8); 'n': numeric
    bool min;     // smallest inserted value
    bool max;     // largest inserted value
};
struct DeltaLayout {
    int nargs;
    const DeltaArg *args;
};

bool same_layout(const DeltaLayout *a, const DeltaLayout *b);

// One key's accumulated change (arrays per argument).
struct DeltaGroup {
    KeyImage key;
    int64 rows;      // rows in minus rows out
    int64 *nonnull;  // non-null values in minus out
    Datum *sums;     // 'i': int64; 'w': pointer to int128; 'n': Numeric (NULL while nothing summed)
    bool *summed;    // a value was summed
    Datum *mins;
    Datum *maxs;
    bool *extreme;   // an extreme was seen (mins/maxs valid)
};

// Capture.
void change_add_key(Oid view, int sink, const KeyImage &image);
// A changed row's contribution to view's deltas: sign +1 (a row in) or -1 (a
// row out), the row's key and the values of the layout's arguments.
void change_add_delta(Oid view, const DeltaLayout *layout, const KeyImage &key, int sign, const Datum *args,
                      const bool *nulls);
void change_touch(Oid view);                        // a keyed change (possibly of no row) happened
void change_mark_full(Oid view, const char *reason); // a change that cannot be keyed (reason: static text)
bool change_is_full(Oid view);                      // (collecting more is pointless)

// What was collected for a view, taken out of the set (a later change
// collects afresh).
struct ViewChanges {
    bool full;
    const char *full_reason;
    List *keys;                // SinkKey *
    const DeltaLayout *layout; // nullptr: no delta was collected
    List *groups;              // DeltaGroup *
    bool removals;             // some delta came from a row out (extremes are unusable then)
    const char *no_delta;      // why the deltas cannot be used (a savepoint rolled back, ...), or nullptr
};
// False when nothing was collected (the view's changes were not keyed at all:
// refresh it in full).
bool change_take(Oid view, ViewChanges *out);
bool change_known(Oid view);
// The keys of every change: the key list and the delta groups' keys (sink 0),
// for a keyed recompute (or the worker) instead of the deltas.
List *change_all_keys(const ViewChanges &c);

// (Sub)transaction ends (from the transaction callbacks).
void change_subxact_end(bool committed, int level); // a savepoint at `level` released or rolled back
void change_forget(void);                           // end of transaction

} // namespace pgview::changes
