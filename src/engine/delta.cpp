// pgview_auto — applying deltas (see delta.hpp).
#include "engine/delta.hpp"

#include "engine/apply.hpp"
#include "engine/statement_cache.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
}

namespace pgview::engine {

namespace {

using changes::DeltaArg;
using changes::DeltaGroup;
using changes::DeltaLayout;

constexpr int max_rounds = 4; // UPDATE, INSERT, UPDATE again for groups another writer inserted meanwhile, ...

Datum int128_numeric(__int128 v) {
    char buf[48];
    char *p = buf + sizeof(buf) - 1;
    *p = '\0';
    bool negative = v < 0;
    unsigned __int128 u = negative ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
    do {
        *--p = static_cast<char>('0' + static_cast<int>(u % 10));
        u /= 10;
    } while (u != 0);
    if (negative)
        *--p = '-';
    return DirectFunctionCall3(numeric_in, CStringGetDatum(p), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

Datum sum_of(const DeltaGroup *g, const DeltaArg &a, int i) {
    switch (a.sum) {
    case 'i': return Int64GetDatum(g->summed[i] ? DatumGetInt64(g->sums[i]) : 0);
    case 'w':
        return int128_numeric(g->summed[i] ? *reinterpret_cast<const __int128 *>(DatumGetPointer(g->sums[i])) : 0);
    default: return g->summed[i] ? g->sums[i] : DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
    }
}

bool is_zero_sum(const DeltaGroup *g, const DeltaArg &a, int i) {
    if (!g->summed[i])
        return true;
    switch (a.sum) {
    case 'i': return DatumGetInt64(g->sums[i]) == 0;
    case 'w': return *reinterpret_cast<const __int128 *>(DatumGetPointer(g->sums[i])) == 0;
    default: return numeric_is_nan(DatumGetNumeric(g->sums[i])) ? false
                                                                 : DatumGetInt32(DirectFunctionCall2(
                                                                       numeric_cmp, g->sums[i],
                                                                       DirectFunctionCall1(int4_numeric, Int32GetDatum(0)))) == 0;
    }
}

// A group whose changes cancel out (an UPDATE of a column the view does not
// read: its row out, the same row in) changes nothing.
bool changes_nothing(const DeltaGroup *g, const DeltaLayout &layout) {
    if (g->rows != 0)
        return false;
    for (int i = 0; i < layout.nargs; i++)
        if (g->nonnull[i] != 0 || g->extreme[i] || (layout.args[i].sum != 0 && !is_zero_sum(g, layout.args[i], i)))
            return false;
    return true;
}

Datum array_of(Datum *elems, bool *nulls, int n, Oid type) {
    int16 typlen;
    bool byval;
    char align;
    get_typlenbyvalalign(type, &typlen, &byval, &align);
    int dims[1] = {n};
    int lbs[1] = {1};
    return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, type, typlen, byval, align));
}

// The statements' parameters for `groups`, in statement.hpp's order (single:
// one group, scalars).
Datum *group_args(const KeyedSpec *spec, const DeltaLayout &layout, const List *groups, int nparams, bool single,
                  bool *nulls_out) {
    int n = list_length(groups);
    auto *args = static_cast<Datum *>(palloc(sizeof(Datum) * (nparams + 1)));
    List *images = NIL;
    ListCell *lc;
    foreach (lc, groups)
        images = lappend(images, &static_cast<DeltaGroup *>(lfirst(lc))->key);
    int p = 0;
    bool has_null = false;
    if (single) {
        auto *values = static_cast<Datum *>(palloc(sizeof(Datum) * spec->nkeys));
        auto *key_nulls = static_cast<bool *>(palloc(sizeof(bool) * spec->nkeys));
        if (!changes::decode_key(*static_cast<changes::KeyImage *>(linitial(images)), spec->nkeys, spec->key_types,
                                 values, key_nulls))
            elog(ERROR, "pgview_auto: a captured key could not be read back");
        for (int k = 0; k < spec->nkeys; k++) {
            nulls_out[p] = key_nulls[k];
            args[p++] = values[k];
        }
    } else {
        for (int k = 0; k < spec->nkeys; k++) {
            nulls_out[p] = false;
            args[p++] = changes::key_column_array(images, spec->nkeys, spec->key_types, k, &has_null);
        }
    }
    auto *elems = static_cast<Datum *>(palloc(sizeof(Datum) * (n + 1)));
    auto *nulls = static_cast<bool *>(palloc0(sizeof(bool) * (n + 1)));
    auto column = [&](Oid type, auto value, auto present) {
        int i = 0;
        ListCell *g;
        foreach (g, groups) {
            auto *group = static_cast<const DeltaGroup *>(lfirst(g));
            nulls[i] = !present(group);
            elems[i] = nulls[i] ? (Datum) 0 : value(group);
            i++;
        }
        if (single) {
            nulls_out[p] = nulls[0];
            args[p++] = elems[0];
        } else {
            nulls_out[p] = false;
            args[p++] = array_of(elems, nulls, n, type);
        }
    };
    auto always = [](const DeltaGroup *) { return true; };
    column(INT8OID, [](const DeltaGroup *g) { return Int64GetDatum(g->rows); }, always);
    for (int a = 0; a < layout.nargs; a++) {
        const DeltaArg &arg = layout.args[a];
        column(INT8OID, [a](const DeltaGroup *g) { return Int64GetDatum(g->nonnull[a]); }, always);
        if (arg.sum != 0)
            column(arg.sum == 'i' ? INT8OID : NUMERICOID, [&arg, a](const DeltaGroup *g) { return sum_of(g, arg, a); },
                   always);
        auto seen = [a](const DeltaGroup *g) { return g->extreme[a]; };
        if (arg.min)
            column(arg.type, [a](const DeltaGroup *g) { return g->mins[a]; }, seen);
        if (arg.max)
            column(arg.type, [a](const DeltaGroup *g) { return g->maxs[a]; }, seen);
    }
    if (p != nparams)
        elog(ERROR, "pgview_auto: the deltas of table view %s do not fit its statement", get_rel_name(spec->view));
    return args;
}

enum class Step { update, insert, delete_empty };

// Runs one of the statements for `groups`; returns the rows it wrote.
uint64 run(Step step, const KeyedSpec *spec, const analysis::DeltaShape *shape, const List *groups, int expect) {
    bool single = list_length(groups) == 1;
    const DeltaStatements *st = delta_statements(spec, shape, single);
    const char *sql = step == Step::update ? st->update : step == Step::insert ? st->insert : st->delete_empty;
    SPIPlanPtr plan = saved_plan(sql, st->nparams, st->param_types);
    auto *nulls = static_cast<bool *>(palloc0(sizeof(bool) * (st->nparams + 1)));
    Datum *args = group_args(spec, shape->layout, groups, st->nparams, single, nulls);
    int rc = execute_writing(plan, args, nulls);
    if (rc != expect)
        elog(ERROR, "pgview_auto: applying deltas to table view %s failed (%s)", get_rel_name(spec->view),
             SPI_result_code_string(rc));
    return SPI_processed;
}

// The groups whose ordinal (1-based, in `groups`) SPI_tuptable does not name.
List *not_returned(const List *groups) {
    int n = list_length(groups);
    bool *done = static_cast<bool *>(palloc0(sizeof(bool) * (n + 1)));
    for (uint64 r = 0; r < SPI_processed; r++) {
        bool isnull;
        int64 ordinal = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
        if (!isnull && ordinal >= 1 && ordinal <= n)
            done[ordinal - 1] = true;
    }
    List *rest = NIL;
    for (int i = 0; i < n; i++)
        if (!done[i])
            rest = lappend(rest, list_nth(groups, i));
    return rest;
}

// The groups whose key SPI_tuptable (an INSERT's RETURNING of the key
// columns) does not hold. (Key images compare as the key types' equality
// does: the analysis admits only such key types.)
List *not_inserted(const KeyedSpec *spec, const List *groups) {
    List *rest = NIL;
    auto *values = static_cast<Datum *>(palloc(sizeof(Datum) * spec->nkeys));
    auto *nulls = static_cast<bool *>(palloc(sizeof(bool) * spec->nkeys));
    List *inserted = NIL;
    for (uint64 r = 0; r < SPI_processed; r++) {
        for (int k = 0; k < spec->nkeys; k++)
            values[k] = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, k + 1, &nulls[k]);
        auto *image = static_cast<changes::KeyImage *>(palloc(sizeof(changes::KeyImage)));
        *image = changes::encode_key(spec->nkeys, values, nulls, spec->key_types);
        inserted = lappend(inserted, image);
    }
    ListCell *lc;
    foreach (lc, groups) {
        auto *g = static_cast<DeltaGroup *>(lfirst(lc));
        bool found = false;
        ListCell *i;
        foreach (i, inserted) {
            auto *image = static_cast<changes::KeyImage *>(lfirst(i));
            found = found || (image->len == g->key.len && memcmp(image->data, g->key.data, g->key.len) == 0);
        }
        if (!found)
            rest = lappend(rest, g);
    }
    return rest;
}

} // namespace

bool apply_deltas(const KeyedSpec *spec, const analysis::DeltaShape *shape, const changes::ViewChanges &c,
                  Applied *out) {
    if (!changes::same_layout(c.layout, &shape->layout))
        return false;
    const DeltaLayout &layout = shape->layout;
    List *groups = NIL, *images = NIL, *emptied = NIL;
    ListCell *lc;
    foreach (lc, c.groups) {
        auto *g = static_cast<DeltaGroup *>(lfirst(lc));
        if (changes_nothing(g, layout))
            continue;
        groups = lappend(groups, g);
        images = lappend(images, &g->key);
        if (g->rows < 0)
            emptied = lappend(emptied, g);
    }
    out->keys = list_length(c.groups);
    out->rows = 0;
    if (groups == NIL)
        return true;
    lock_keys_for_delta(spec->key_types_of(), images);
    // (One group: a plain UPDATE by the key's index, which needs no planner switch.)
    return apply_as_owner(spec->view, list_length(groups) > 1, [&]() -> bool {
        List *pending = groups;
        for (int round = 0; pending != NIL; round++) {
            if (round >= max_rounds)
                ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                                errmsg("groups of table view %s kept appearing and vanishing under concurrent "
                                       "writers", quote_identifier(get_rel_name(spec->view))),
                                errhint("Retry the transaction.")));
            out->rows += run(Step::update, spec, shape, pending, SPI_OK_UPDATE_RETURNING);
            pending = not_returned(pending);
            if (!shape->own_groups)
                break; // the groups are another table's rows: a row not there counts in no group
            // A group with no row in the view gains its first rows here (a group
            // that lost rows it never had in the view cannot be: nothing to do).
            List *fresh = NIL;
            foreach (lc, pending)
                if (static_cast<DeltaGroup *>(lfirst(lc))->rows > 0)
                    fresh = lappend(fresh, lfirst(lc));
            if (fresh == NIL)
                break;
            out->rows += run(Step::insert, spec, shape, fresh, SPI_OK_INSERT_RETURNING);
            pending = not_inserted(spec, fresh); // another writer's row came first: UPDATE it
        }
        if (shape->own_groups && emptied != NIL)
            out->rows += run(Step::delete_empty, spec, shape, emptied, SPI_OK_DELETE);
        return true;
    });
}

} // namespace pgview::engine
