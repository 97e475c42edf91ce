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
// Each capture item evaluates the view's key expressions on the row (direct)
// or keeps the row's join columns (join); an item that cannot be keyed marks
// the view for a full refresh (so do TRUNCATE and the key cap).
#include "incremental/capture_plan.hpp"
#include "incremental/key_set.hpp"
#include "pg/guard.hpp"
#include "refresh/dirty_set.hpp"

extern "C" {
#include "commands/trigger.h"
#include "miscadmin.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"
}

namespace pgview::incremental {

namespace {

// Per call: the compiled key expressions of each direct item.
struct Evaluator {
    ExprContext *econtext;
    ExprState ***states; // per item, per key column (direct items only)
};

ExprState **compile(const CaptureItem *item) {
    auto **states = static_cast<ExprState **>(palloc(sizeof(ExprState *) * list_length(item->exprs)));
    for (int k = 0; k < list_length(item->exprs); k++)
        states[k] = ExecInitExpr(static_cast<Expr *>(list_nth(item->exprs, k)), nullptr);
    return states;
}

// The row in slot gives item i its key (or join values).
void add_row(const Evaluator &ev, CaptureItem *item, int i, TupleTableSlot *slot) {
    const KeyedView *kv = item->keyed;
    MemoryContext old = MemoryContextSwitchTo(ev.econtext->ecxt_per_tuple_memory);
    if (item->kind == derive_direct) {
        int n = kv->nkeys;
        Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * n));
        bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * n));
        ev.econtext->ecxt_scantuple = slot;
        Oid saved_user;
        int saved_context;
        GetUserIdAndSecContext(&saved_user, &saved_context);
        SetUserIdAndSecContext(kv->owner, saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
        for (int k = 0; k < n; k++)
            values[k] = ExecEvalExpr(ev.states[i][k], ev.econtext, &nulls[k]);
        SetUserIdAndSecContext(saved_user, saved_context);
        keyset_add(item->view, 0, encode_key(n, values, nulls, kv->key_types));
    } else {
        int n = item->nattrs;
        Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * n));
        bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * n));
        for (int k = 0; k < n; k++)
            values[k] = slot_getattr(slot, item->attnos[k], &nulls[k]);
        keyset_add(item->view, item->sink, encode_key(n, values, nulls, item->types));
    }
    MemoryContextSwitchTo(old);
    ResetExprContext(ev.econtext);
}

void add_store(const Evaluator &ev, CaptureItem *item, int i, Tuplestorestate *store, TupleTableSlot *slot) {
    if (store == nullptr)
        return;
    tuplestore_rescan(store);
    while (!keyset_is_full(item->view) && tuplestore_gettupleslot(store, true, false, slot))
        add_row(ev, item, i, slot);
}

// Items that cannot be keyed mark their views full (every event, TRUNCATE
// included, marks every view full then). Returns whether a keyed item remains.
bool mark_unkeyed(CaptureItem *const *items, bool all) {
    bool keyed = false;
    for (int i = 0; items[i] != nullptr; i++) {
        if (all || items[i]->kind == derive_full)
            keyset_mark_full(items[i]->view);
        else
            keyed = true;
    }
    return keyed;
}

// C-level: the rows of one statement (transition tables) or one row. The key
// expressions are compiled and evaluated as the view's owner, as its refresh
// would run them (the writer needs no EXECUTE right on them), restricted.
void capture(TriggerData *td, CaptureItem *const *items) {
    Relation rel = td->tg_relation;
    if (!mark_unkeyed(items, false))
        return;
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    Evaluator ev{CreateStandaloneExprContext(), nullptr};
    int nitems = 0;
    while (items[nitems] != nullptr)
        nitems++;
    ev.states = static_cast<ExprState ***>(palloc0(sizeof(ExprState **) * (nitems + 1)));
    for (int i = 0; i < nitems; i++) {
        if (items[i]->kind != derive_direct)
            continue;
        SetUserIdAndSecContext(items[i]->keyed->owner,
                               saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
        ev.states[i] = compile(items[i]);
        SetUserIdAndSecContext(saved_user, saved_context);
    }
    TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), TRIGGER_FIRED_FOR_ROW(td->tg_event)
                                                                               ? &TTSOpsHeapTuple
                                                                               : &TTSOpsMinimalTuple);
    for (int i = 0; items[i] != nullptr; i++) {
        CaptureItem *item = items[i];
        if (item->kind == derive_full)
            continue;
        keyset_touch(item->view); // a statement that changed no row still says "keyed, nothing to do"
        if (TRIGGER_FIRED_FOR_ROW(td->tg_event)) {
            if (keyset_is_full(item->view))
                continue;
            ExecStoreHeapTuple(td->tg_trigtuple, slot, false);
            add_row(ev, item, i, slot);
            if (td->tg_newtuple != nullptr) {
                ExecStoreHeapTuple(td->tg_newtuple, slot, false);
                add_row(ev, item, i, slot);
            }
        } else {
            add_store(ev, item, i, td->tg_oldtable, slot);
            add_store(ev, item, i, td->tg_newtable, slot);
        }
    }
    ExecDropSingleTupleTableSlot(slot);
    FreeExprContext(ev.econtext, true);
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

} // namespace pgview::incremental

using namespace pgview::incremental;

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
        pgview::refresh::dirty_add(relid);
        capture(td, items);
    });
    return PointerGetDatum(nullptr);
}

} // namespace

PGVIEW_FUNCTION(pgview_capture_keys) { return capture_trigger(fcinfo, "capture_keys", false); }

PGVIEW_FUNCTION(pgview_capture_replica) { return capture_trigger(fcinfo, "capture_replica", true); }
