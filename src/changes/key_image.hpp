// pgview_auto — a key (one value per key column) as a byte string: what the
// transaction's key set deduplicates and shared memory carries to the worker.
// Equal images mean equal keys; equal keys may have different images (numeric
// 1.0 and 1.00): then both are refreshed, which is harmless (a superset).
// C-level: may ereport (detoasting).
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/pg_list.h"
}

namespace pgview::changes {

struct KeyImage {
    int len;
    char *data; // palloc'd
};

// The image of values[0..n) of the given types.
KeyImage encode_key(int n, const Datum *values, const bool *nulls, const Oid *types);
// Back to values (palloc'd in the current memory context); false if the image is malformed.
bool decode_key(const KeyImage &image, int n, const Oid *types, Datum *values, bool *nulls);
// Column `col` of keys of ncols columns (KeyImage *s) as an array of types[col]
// (the statements' parameters); *has_null when some element is NULL.
Datum key_column_array(const List *images, int ncols, const Oid *types, int col, bool *has_null);

} // namespace pgview::changes
