// pgview_auto — key images (see key_image.hpp). Per value: a null flag byte,
// then the value: fixed-length types their bytes, varlena types a 4-byte
// length and the detoasted bytes, cstrings their bytes with the terminator.
#include "changes/key_image.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/lsyscache.h"
}

namespace pgview::changes {

namespace {

// A by-value datum's bytes, independent of the machine's byte order in Datum.
void put_byval(StringInfo buf, Datum d, int16 typlen) {
    char bytes[8];
    switch (typlen) {
    case 1: { char v = DatumGetChar(d); memcpy(bytes, &v, 1); break; }
    case 2: { int16 v = DatumGetInt16(d); memcpy(bytes, &v, 2); break; }
    case 4: { int32 v = DatumGetInt32(d); memcpy(bytes, &v, 4); break; }
    default: { int64 v = DatumGetInt64(d); memcpy(bytes, &v, 8); typlen = 8; break; }
    }
    appendBinaryStringInfo(buf, bytes, typlen);
}

Datum get_byval(const char *p, int16 typlen) {
    switch (typlen) {
    case 1: { char v; memcpy(&v, p, 1); return CharGetDatum(v); }
    case 2: { int16 v; memcpy(&v, p, 2); return Int16GetDatum(v); }
    case 4: { int32 v; memcpy(&v, p, 4); return Int32GetDatum(v); }
    default: { int64 v; memcpy(&v, p, 8); return Int64GetDatum(v); }
    }
}

} // namespace

KeyImage encode_key(int n, const Datum *values, const bool *nulls, const Oid *types) {
    StringInfoData buf;
    initStringInfo(&buf);
    for (int i = 0; i < n; i++) {
        appendStringInfoChar(&buf, nulls[i] ? 'n' : 'v');
        if (nulls[i])
            continue;
        int16 typlen;
        bool byval;
        get_typlenbyval(types[i], &typlen, &byval);
        if (byval) {
            put_byval(&buf, values[i], typlen);
        } else if (typlen > 0) {
            appendBinaryStringInfo(&buf, DatumGetPointer(values[i]), typlen);
        } else if (typlen == -1) {
            struct varlena *v = pg_detoast_datum_packed(reinterpret_cast<struct varlena *>(DatumGetPointer(values[i])));
            int32 len = VARSIZE_ANY_EXHDR(v);
            appendBinaryStringInfo(&buf, reinterpret_cast<const char *>(&len), sizeof len);
            appendBinaryStringInfo(&buf, VARDATA_ANY(v), len);
        } else {
            const char *s = DatumGetCString(values[i]);
            appendBinaryStringInfo(&buf, s, static_cast<int>(strlen(s)) + 1);
        }
    }
    return {buf.len, buf.data};
}

bool decode_key(const KeyImage &image, int n, const Oid *types, Datum *values, bool *nulls) {
    const char *p = image.data, *end = image.data + image.len;
    for (int i = 0; i < n; i++) {
        if (p >= end)
            return false;
        nulls[i] = *p++ == 'n';
        values[i] = (Datum) 0;
        if (nulls[i])
            continue;
        int16 typlen;
        bool byval;
        get_typlenbyval(types[i], &typlen, &byval);
        if (byval) {
            int16 size = typlen == 1 || typlen == 2 || typlen == 4 ? typlen : 8;
            if (end - p < size)
                return false;
            values[i] = get_byval(p, size);
            p += size;
        } else if (typlen > 0) {
            if (end - p < typlen)
                return false;
            char *copy = static_cast<char *>(palloc(typlen));
            memcpy(copy, p, typlen);
            values[i] = PointerGetDatum(copy);
            p += typlen;
        } else if (typlen == -1) {
            int32 len;
            if (end - p < static_cast<long>(sizeof len))
                return false;
            memcpy(&len, p, sizeof len);
            p += sizeof len;
            if (len < 0 || end - p < len)
                return false;
            auto *v = static_cast<struct varlena *>(palloc(len + VARHDRSZ));
            SET_VARSIZE(v, len + VARHDRSZ);
            memcpy(VARDATA(v), p, len);
            values[i] = PointerGetDatum(v);
            p += len;
        } else {
            size_t len = strnlen(p, end - p);
            if (p + len >= end)
                return false;
            values[i] = CStringGetDatum(pstrdup(p));
            p += len + 1;
        }
    }
    return p == end;
}

// Column `col` of the given images as an array of `type`; *has_null when one is NULL.
Datum key_column_array(const List *images, int ncols, const Oid *types, int col, bool *has_null) {
    int n = list_length(images);
    Datum *elems = static_cast<Datum *>(palloc(sizeof(Datum) * (n + 1)));
    bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * (n + 1)));
    Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * ncols));
    bool *value_nulls = static_cast<bool *>(palloc(sizeof(bool) * ncols));
    for (int i = 0; i < n; i++) {
        auto *image = static_cast<KeyImage *>(list_nth(images, i));
        if (!decode_key(*image, ncols, types, values, value_nulls))
            elog(ERROR, "pgview_auto: a captured key could not be read back");
        elems[i] = values[col];
        nulls[i] = value_nulls[col];
        *has_null = *has_null || nulls[i];
    }
    int16 typlen;
    bool byval;
    char align;
    get_typlenbyvalalign(types[col], &typlen, &byval, &align);
    int dims[1] = {n};
    int lbs[1] = {1};
    return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, types[col], typlen, byval, align));
}

} // namespace pgview::changes
