// pgview_auto — capturing the keys of changed rows.
//
//   pgview_auto.capture_keys()     AFTER INSERT / UPDATE / DELETE FOR EACH
//       STATEMENT with transition tables (one trigger per event: PostgreSQL
//       allows transition tables on single-event triggers only), on tables some
//       incremental view derives keys from. One call per statement reads every
//       changed row (old and new) from the transition tables: COPY keeps its
//       multi-row inserts, a partitioned table's rows arrive in the parent's shape.
//   pgview_auto.capture_replica()  AFTER INSERT / UPDATE / DELETE FOR EACH ROW,
//       ENABLE REPLICA, on every captured table: logical replication's apply
//       workers (and sessions with session_replication_role = replica) fire row
//       triggers only; this one marks the table dirty and collects its keys.
// Each capture item evaluates the view's key expressions on the row (direct,
// in the view owner's scope) or keeps the row's join columns (join); an item
// that cannot be keyed marks the view for a full refresh (so do TRUNCATE and
// the key cap).
#include <initializer_list>
#include <utility>

#include "analysis/capture_plan.hpp"
#include "capture/changed.hpp"
#include "changes/change_set.hpp"
#include "config/settings.hpp"
#include "pg/guard.hpp"
#include "pg/hidden_error.hpp"
#include "pg/owner_scope.hpp"
#include "pg/quote.hpp"
#include "changes/dirty_set.hpp"

extern "C" {
#include "commands/trigger.h"
#include "miscadmin.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "utils/acl.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"
}

namespace pgview::capture {

using namespace analysis;

namespace {

// The row in slot gives a join item its join values.
void add_join_values(CaptureItem *item, TupleTableSlot *slot, MemoryContext per_row) {
    MemoryContext old = MemoryContextSwitchTo(per_row);
    int n = item->nattrs;
    Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * n));
    bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * n));
    for (int k = 0; k < n; k++)
        values[k] = slot_getattr(slot, item->attnos[k], &nulls[k]);
    changes::change_add_key(item->view, item->sink, changes::encode_key(n, values, nulls, item->types));
    MemoryContextSwitchTo(old);
    MemoryContextReset(per_row);
}

// The rows a trigger call brings, one by one, with their sign (-1 a row out,
// +1 a row in): the row of a row trigger (old and new), else every row of the
// statement's transition tables.
template <typename F>
void for_each_row(TriggerData *td, TupleTableSlot *slot, const CaptureItem *item, F &&row) {
    if (TRIGGER_FIRED_FOR_ROW(td->tg_event)) {
        int first = TRIGGER_FIRED_BY_INSERT(td->tg_event) ? 1 : -1;
        for (auto [tuple, sign] : {std::pair{td->tg_trigtuple, first}, std::pair{td->tg_newtuple, 1}})
            if (tuple != nullptr && !changes::change_is_full(item->view)) {
                ExecStoreHeapTuple(tuple, slot, false);
                row(slot, sign);
            }
        return;
    }
    for (auto [store, sign] : {std::pair{td->tg_oldtable, -1}, std::pair{td->tg_newtable, 1}}) {
        if (store == nullptr)
            continue;
        tuplestore_rescan(store);
        while (!changes::change_is_full(item->view) && tuplestore_gettupleslot(store, true, false, slot))
            row(slot, sign);
    }
}

// Runs body (C-level) in the view owner's scope, as its refresh runs the
// view's expressions (the writer needs no EXECUTE right on them, and neither
// the writer's search_path nor output settings choose what they call or what
// they print). An error is shown whole only to a writer who may read the
// view: its text can quote a row the writer may not read. C-level.
template <typename F>
void as_view_owner(const KeyedView *kv, F &&body) {
    bool may_read = pg_class_aclcheck(kv->view, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
    MemoryContext caller = CurrentMemoryContext;
    PG_TRY();
    {
        run_as_owner(kv->owner, OwnerScope::restricted, body);
    }
    PG_CATCH();
    {
        if (may_read)
            PG_RE_THROW();
        MemoryContextSwitchTo(caller);
        ErrorData *edata = CopyErrorData();
        FlushErrorState();
        const char *view = quote_relation(kv->view);
        hide_error(edata, psprintf("a key of table view %s could not be computed from the changed rows", view),
                   "The error is shown only to roles that may read the table view; the server log has it.",
                   "The table view's owner can find the error in the server log.",
                   psprintf("capturing the changed keys of table view %s (pgview_auto)", view));
        ReThrowError(edata);
    }
    PG_END_TRY();
}

// Whether every expression only reads a column of the row (no function or
// operator runs: nothing any role or setting could change).
bool only_columns(std::initializer_list<const List *> lists) {
    for (const List *exprs : lists) {
        const ListCell *lc;
        foreach (lc, exprs) {
            const Node *e = static_cast<const Node *>(lfirst(lc));
            while (IsA(e, RelabelType))
                e = reinterpret_cast<const Node *>(reinterpret_cast<const RelabelType *>(e)->arg);
            if (!IsA(e, Var))
                return false;
        }
    }
    return true;
}

ExprState **compile(List *exprs) {
    int n = list_length(exprs);
    auto **states = static_cast<ExprState **>(palloc(sizeof(ExprState *) * (n + 1)));
    for (int i = 0; i < n; i++)
        states[i] = ExecInitExpr(static_cast<Expr *>(list_nth(exprs, i)), nullptr);
    return states;
}

// A direct item's keys: its key expressions on every changed row.
void add_keys(TriggerData *td, CaptureItem *item, TupleTableSlot *slot) {
    const KeyedView *kv = item->keyed;
    auto body = [td, item, kv, slot] {
        ExprContext *econtext = CreateStandaloneExprContext();
        int n = kv->nkeys;
        ExprState **states = compile(item->exprs);
        Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * n));
        bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * n));
        for_each_row(td, slot, item, [&](TupleTableSlot *row, int) {
            MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
            econtext->ecxt_scantuple = row;
            for (int k = 0; k < n; k++)
                values[k] = ExecEvalExpr(states[k], econtext, &nulls[k]);
            changes::change_add_key(item->view, 0, changes::encode_key(n, values, nulls, kv->key_types));
            MemoryContextSwitchTo(old);
            ResetExprContext(econtext);
        });
        FreeExprContext(econtext, true);
    };
    if (only_columns({item->exprs}))
        body(); // (plain columns run nothing: no scope needed)
    else
        as_view_owner(kv, body);
}

// A delta item's changes: each changed row that passes the shape's filters
// adds its aggregate arguments, with its sign, to its key's group. A row whose
// key has a NULL part counts in no group of a LEFT JOIN's preserved side; in a
// view grouped by its own table it is a group the deltas cannot find by
// equality: its key is recomputed instead.
void add_deltas(TriggerData *td, CaptureItem *item, TupleTableSlot *slot) {
    const KeyedView *kv = item->keyed;
    const DeltaShape *shape = item->delta;
    auto body = [td, item, kv, shape, slot] {
        ExprContext *econtext = CreateStandaloneExprContext();
        int n = kv->nkeys, nargs = shape->layout.nargs;
        ExprState **keys = compile(shape->key_exprs);
        ExprState **args = compile(shape->arg_exprs);
        ExprState *filter = ExecInitQual(shape->filters, nullptr);
        Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * (n + nargs + 1)));
        bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * (n + nargs + 1)));
        for_each_row(td, slot, item, [&](TupleTableSlot *row, int sign) {
            MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
            econtext->ecxt_scantuple = row;
            if (filter == nullptr || ExecQual(filter, econtext)) {
                bool null_key = false;
                for (int k = 0; k < n; k++) {
                    values[k] = ExecEvalExpr(keys[k], econtext, &nulls[k]);
                    null_key = null_key || nulls[k];
                }
                changes::KeyImage key = changes::encode_key(n, values, nulls, kv->key_types);
                if (!null_key) {
                    for (int a = 0; a < nargs; a++)
                        values[n + a] = ExecEvalExpr(args[a], econtext, &nulls[n + a]);
                    changes::change_add_delta(item->view, &shape->layout, key, sign, values + n, nulls + n);
                } else if (shape->own_groups) {
                    changes::change_add_key(item->view, 0, key);
                }
            }
            MemoryContextSwitchTo(old);
            ResetExprContext(econtext);
        });
        FreeExprContext(econtext, true);
    };
    if (only_columns({shape->key_exprs, shape->arg_exprs, shape->filters}))
        body(); // (plain columns run nothing: no scope needed)
    else
        as_view_owner(kv, body);
}

// Items that cannot be keyed mark their views full (every event, TRUNCATE
// included, marks every view full then); the others say "keyed, possibly no
// row" (under logical replication the keys come from a row trigger, which a
// statement changing no row never fires). Returns whether a keyed item remains.
bool mark_unkeyed(CaptureItem *const *items, bool all) {
    bool keyed = false;
    for (int i = 0; items[i] != nullptr; i++) {
        if (all) {
            changes::change_mark_full(items[i]->view, "a TRUNCATE, or rows changed without the capture trigger");
        } else if (items[i]->kind == derive_full) {
            changes::change_mark_full(items[i]->view, "a change whose rows cannot be keyed");
        } else {
            changes::change_touch(items[i]->view);
            keyed = true;
        }
    }
    return keyed;
}

// C-level: the rows of one statement (transition tables) or one row.
void capture(TriggerData *td, CaptureItem *const *items) {
    if (!mark_unkeyed(items, false))
        return;
    TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(td->tg_relation),
                                                    TRIGGER_FIRED_FOR_ROW(td->tg_event) ? &TTSOpsHeapTuple
                                                                                        : &TTSOpsMinimalTuple);
    MemoryContext per_row = AllocSetContextCreate(CurrentMemoryContext, "pgview_auto capture row",
                                                  ALLOCSET_SMALL_SIZES);
    for (int i = 0; items[i] != nullptr; i++) {
        CaptureItem *item = items[i];
        if (item->kind == derive_full)
            continue;
        changes::change_touch(item->view); // a statement that changed no row still says "keyed, nothing to do"
        if (changes::change_is_full(item->view))
            continue;
        if (item->kind == derive_direct && item->delta != nullptr && config::delta)
            add_deltas(td, item, slot);
        else if (item->kind == derive_direct)
            add_keys(td, item, slot);
        else
            for_each_row(td, slot, item,
                         [item, per_row](TupleTableSlot *row, int) { add_join_values(item, row, per_row); });
    }
    MemoryContextDelete(per_row);
    ExecDropSingleTupleTableSlot(slot);
}

TriggerData *trigger_data(FunctionCallInfo fcinfo, const char *name) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        throw Error("39P01", std::string("pgview_auto.") + name + "() must be called as a trigger");
    return reinterpret_cast<TriggerData *>(fcinfo->context);
}

} // namespace

// The plain capture trigger's share: TRUNCATE (every view full), and the
// views that cannot key this table's changes (full).
void capture_unkeyed(Oid table, bool truncate) {
    CaptureItem *const *items = capture_items(table);
    pg_call([items, truncate] { (void) mark_unkeyed(items, truncate); });
}

} // namespace pgview::capture

using namespace pgview::capture;
using namespace pgview::analysis;

namespace {

// Both capture triggers do the same work; they differ in when they fire (a statement
// trigger with transition tables on a primary, a row trigger where only ENABLE REPLICA
// triggers run) and so in what they must be declared as.
Datum capture_trigger(FunctionCallInfo fcinfo, const char *name, bool for_row) {
    TriggerData *td = trigger_data(fcinfo, name);
    bool right_level = for_row ? TRIGGER_FIRED_FOR_ROW(td->tg_event) : TRIGGER_FIRED_FOR_STATEMENT(td->tg_event);
    if (!right_level || !TRIGGER_FIRED_AFTER(td->tg_event))
        throw pgview::Error("39P01", std::string("pgview_auto.") + name + "() must be an AFTER ... FOR EACH " +
                                         (for_row ? "ROW" : "STATEMENT") + " trigger");
    Oid relid = RelationGetRelid(td->tg_relation);
    CaptureItem *const *items = capture_items(relid);
    pgview::pg_call([td, items, relid] {
        pgview::changes::dirty_add(relid);
        capture(td, items);
    });
    if (!for_row) // (a row trigger fires per row: its statement ends at commit, for mode 'immediate')
        pgview::capture::statement_captured();
    return PointerGetDatum(nullptr);
}

} // namespace

PGVIEW_FUNCTION(pgview_capture_keys) { return capture_trigger(fcinfo, "capture_keys", false); }

PGVIEW_FUNCTION(pgview_capture_replica) { return capture_trigger(fcinfo, "capture_replica", true); }
