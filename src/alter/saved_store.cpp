// pgview_auto — the saved state of dependents (see saved_store.hpp).
#include "alter/saved_store.hpp"

#include <map>
#include <optional>

#include "alter/steps.hpp"
#include "changes/dirty_set.hpp"
#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "commit/commit_refresh.hpp"
#include "syscat/relation_info.hpp"
#include "tableview/table_view_registry.hpp"
#include "watch/apply_watch.hpp"
#include "registry/events.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace pgview::alter {

namespace {

constexpr const char *duplicate_object = "42710";

// A text or text[] parameter of a registry statement (C-level view of it).
struct Param {
    const char *text = nullptr;           // nullptr: NULL (unless an array)
    const char *const *elems = nullptr;   // an array of n texts
    int n = -1;
};

struct Cells {
    int nrows;
    int ncols;
    char **cells; // row-major; nullptr for NULL
};

// C-level: runs one statement in a registry session; the rows as strings
// palloc'd in the caller's memory context.
void run_registry(const char *sql, const Param *params, int nparams, Cells *result) {
    MemoryContext caller = CurrentMemoryContext;
    Oid *types = static_cast<Oid *>(palloc(sizeof(Oid) * (nparams + 1)));
    Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * (nparams + 1)));
    char *nulls = static_cast<char *>(palloc(nparams + 1));
    for (int i = 0; i < nparams; i++) {
        nulls[i] = ' ';
        if (params[i].n >= 0) {
            Datum *elems = static_cast<Datum *>(palloc(sizeof(Datum) * (params[i].n + 1)));
            for (int e = 0; e < params[i].n; e++)
                elems[e] = CStringGetTextDatum(params[i].elems[e]);
            types[i] = TEXTARRAYOID;
            values[i] = PointerGetDatum(construct_array(elems, params[i].n, TEXTOID, -1, false, TYPALIGN_INT));
        } else {
            types[i] = TEXTOID;
            values[i] = params[i].text != nullptr ? CStringGetTextDatum(params[i].text) : (Datum) 0;
            if (params[i].text == nullptr)
                nulls[i] = 'n';
        }
    }
    Cells out{0, 0, nullptr};
    registry::with_registry([&] {
        if (SPI_execute_with_args(sql, nparams, types, values, nulls, false, 0) < 0)
            elog(ERROR, "pgview_auto: \"%s\" failed", sql);
        if (SPI_tuptable != nullptr) {
            out.nrows = static_cast<int>(SPI_processed);
            out.ncols = SPI_tuptable->tupdesc->natts;
            out.cells = static_cast<char **>(MemoryContextAlloc(caller, sizeof(char *) * (out.nrows * out.ncols + 1)));
            for (int r = 0; r < out.nrows; r++)
                for (int c = 0; c < out.ncols; c++) {
                    char *v = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c + 1);
                    out.cells[r * out.ncols + c] = v != nullptr ? MemoryContextStrdup(caller, v) : nullptr;
                }
        }
    });
    *result = out;
}

using Row = std::vector<std::optional<std::string>>;

struct Arg {
    std::optional<std::string> text;
    std::optional<std::vector<std::string>> array;
};

std::vector<Row> registry_rows(const char *sql, const std::vector<Arg> &args = {}) {
    std::vector<std::vector<const char *>> arrays(args.size());
    std::vector<Param> params(args.size());
    for (size_t i = 0; i < args.size(); i++) {
        if (args[i].array) {
            for (const std::string &e : *args[i].array)
                arrays[i].push_back(e.c_str());
            params[i].elems = arrays[i].data();
            params[i].n = static_cast<int>(arrays[i].size());
        } else if (args[i].text) {
            params[i].text = args[i].text->c_str();
        }
    }
    Cells cells{0, 0, nullptr};
    pg_call([sql, &params, &cells] { run_registry(sql, params.data(), static_cast<int>(params.size()), &cells); });
    std::vector<Row> rows;
    for (int r = 0; r < cells.nrows; r++) {
        Row row;
        for (int c = 0; c < cells.ncols; c++) {
            const char *v = cells.cells[r * cells.ncols + c];
            row.push_back(v != nullptr ? std::optional<std::string>(v) : std::nullopt);
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

Arg text(const std::string &s) { return Arg{s, std::nullopt}; }
Arg null_text() { return Arg{}; }
Arg array(const std::vector<std::string> &v) { return Arg{std::nullopt, v}; }

const char *kind_word(RebuildKind kind) { return kind_text(kind); }

RebuildKind kind_of(const std::string &word) {
    if (word == "materialized view")
        return RebuildKind::matview;
    if (word == "table view")
        return RebuildKind::definition;
    return RebuildKind::view;
}

// The schedule of a matview or table view, taken out of the registry as jsonb
// (its statistics and key-lock counts: registry::stats_take).
constexpr const char *take_schedule_sql =
    "WITH s AS (DELETE FROM pgview_auto.schedule s WHERE s.matview OPERATOR(pg_catalog.=) $1::pg_catalog.oid "
    "           RETURNING s.every, s.only_if_dirty) "
    "SELECT (SELECT pg_catalog.jsonb_build_object('every', s.every, 'only_if_dirty', s.only_if_dirty) FROM s)";

constexpr const char *put_schedule_sql =
    "INSERT INTO pgview_auto.schedule (matview, every, only_if_dirty) "
    "SELECT $1::pg_catalog.oid, ($2::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'every')::pg_catalog.interval, "
    "       ($2::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'only_if_dirty')::pg_catalog.bool "
    "ON CONFLICT (matview) DO NOTHING";

constexpr const char *insert_sql =
    "INSERT INTO pgview_auto.saved_dependent (batch, \"position\", relation, kind, owner, populated, table_view, "
    "  unique_key, create_statement, statements, schedule, refresh_stats, saved_by) "
    "SELECT $1::pg_catalog.int4, $2::pg_catalog.int4, $3, $4, $5::pg_catalog.name, $6::pg_catalog.bool, $7, "
    "  $8::pg_catalog.text[], $9, "
    "  coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('role', s.role, 'sql', s.sql) ORDER BY s.n) "
    "            FROM ROWS FROM (pg_catalog.unnest($10::pg_catalog.text[]), pg_catalog.unnest($11::pg_catalog.text[])) "
    "                 WITH ORDINALITY AS s(role, sql, n)), '[]'), "
    "  $12::pg_catalog.jsonb, $13::pg_catalog.jsonb, $14::pg_catalog.name";

// C-level: the watch of a saved matview (or of a table view whose definition
// is saved) becomes an orphan kept by name; `saved` are the relations being
// saved (a requested source among them is kept by name too).
void orphan_watch(Oid target, const registry::DroppedRelation *saved, int nsaved) {
    registry::with_registry([&] {
        if (registry::registry_is_watched(target)) {
            Oid *old_sources;
            char *name;
            Oid owner = syscat::relation_owner(target);
            (void) registry::registry_orphan(target, saved, nsaved, &old_sources, &name);
            registry::report_event(NOTICE, {"watch orphaned", name, owner,
                                            psprintf("pgview_auto: the watch of %s is kept as orphaned until "
                                                     "pgview_restore_dependents() makes it again",
                                                     name),
                                            nullptr, nullptr});
        }
    });
    CommandCounterIncrement();
}

// C-level: watches of relations not saved that name a saved one as a source
// lose those rows, as when it is dropped.
void forget_as_source(Oid relid) {
    registry::with_registry([&] {
        Oid *matviews, *sources;
        int n = registry::registry_forget_source(relid, &matviews, &sources);
        if (n > 0)
            registry::report_event(NOTICE, {"watch removed", quote_relation(relid), syscat::relation_owner(matviews[0]),
                                            psprintf("pgview_auto: %s was saved and dropped; %d watch%s on it removed",
                                                     get_rel_name(relid), n, n == 1 ? "" : "es"),
                                            nullptr, nullptr});
    });
    CommandCounterIncrement();
}

} // namespace

void store(const std::vector<SavedRelation> &saved, const std::string &saved_by) {
    if (saved.empty())
        return;
    // One save at a time: batch numbers and names stay unique.
    registry_rows("LOCK TABLE pgview_auto.saved_dependent IN SHARE ROW EXCLUSIVE MODE");
    std::vector<std::string> names;
    for (const SavedRelation &r : saved)
        names.push_back(r.name);
    auto taken = registry_rows("SELECT relation FROM pgview_auto.saved_dependent "
                               "WHERE relation OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[]) LIMIT 1",
                               {array(names)});
    if (!taken.empty())
        throw Error(duplicate_object, "relation " + *taken[0][0] + " is saved already",
                    "pgview_saved_dependents shows what is saved.",
                    "Make the saved relations again with pgview_restore_dependents() first.");
    int batch = std::stoi(*registry_rows("SELECT coalesce(pg_catalog.max(batch), 0) OPERATOR(pg_catalog.+) 1 "
                                         "FROM pgview_auto.saved_dependent")[0][0]);

    std::vector<registry::DroppedRelation> dropped(saved.size());
    for (size_t i = 0; i < saved.size(); i++)
        dropped[i] = {saved[i].old_relid, const_cast<char *>(saved[i].name.c_str()),
                      saved[i].kind == RebuildKind::matview};
    std::vector<Arg> schedules(saved.size(), null_text()), stats(saved.size(), null_text()),
        keys(saved.size(), null_text());
    for (size_t i = 0; i < saved.size(); i++) {
        const SavedRelation &r = saved[i];
        // Registry state lives on the matview, or on a table view's table.
        Oid target = r.kind == RebuildKind::matview      ? r.old_relid
                     : r.kind == RebuildKind::definition ? relation_named(r.table_view)
                                                         : InvalidOid;
        if (!OidIsValid(target))
            continue;
        auto taken_state = registry_rows(take_schedule_sql, {text(std::to_string(target))});
        if (taken_state[0][0])
            schedules[i] = text(*taken_state[0][0]);
        // Statistics and keyed-refresh counts: pgview_status shows them again after the restore.
        const char *taken = pg_call([target] {
            return registry::with_registry([target] { return registry::stats_take(target); });
        });
        if (taken != nullptr)
            stats[i] = text(taken);
        if (r.kind == RebuildKind::definition) {
            tableview::TableView tv;
            if (tableview::lookup(target, &tv))
                keys[i] = array(tv.unique_key);
            (void) tableview::forget(r.old_relid);
        }
        pg_call([target, &dropped] { orphan_watch(target, dropped.data(), static_cast<int>(dropped.size())); });
    }
    // Only then: a saved matview's own watch rows name saved views as sources.
    for (const SavedRelation &r : saved) {
        Oid relid = r.old_relid;
        pg_call([relid] { forget_as_source(relid); });
    }
    for (size_t i = 0; i < saved.size(); i++) {
        const SavedRelation &r = saved[i];
        std::vector<std::string> roles, statements;
        for (const Step &s : r.steps) {
            roles.push_back(s.role);
            statements.push_back(s.sql);
        }
        registry_rows(insert_sql, {text(std::to_string(batch)), text(std::to_string(i + 1)), text(r.name),
                                   text(kind_word(r.kind)), text(r.owner), text(r.populated ? "true" : "false"),
                                   r.table_view.empty() ? null_text() : text(r.table_view), keys[i],
                                   text(r.create_sql), array(roles), array(statements), schedules[i], stats[i],
                                   text(saved_by)});
    }
}

std::vector<StoredRelation> load(const std::string &saved_by) {
    std::vector<StoredRelation> out;
    std::map<std::pair<int, int>, size_t> index;
    // FOR UPDATE: a concurrent restore waits, then finds nothing left to do.
    auto rows = registry_rows(
        "SELECT batch, \"position\", relation, kind, owner, populated, table_view, unique_key IS NOT NULL, "
        "  create_statement, schedule, refresh_stats "
        "FROM pgview_auto.saved_dependent WHERE saved_by OPERATOR(pg_catalog.=) $1 "
        "ORDER BY batch DESC, \"position\" FOR UPDATE",
        {text(saved_by)});
    for (const Row &row : rows) {
        StoredRelation s;
        s.relation.kind = kind_of(*row[3]);
        s.relation.name = *row[2];
        s.relation.owner = *row[4];
        s.relation.populated = *row[5] == "t";
        s.relation.table_view = row[6].value_or("");
        s.keyed = *row[7] == "t";
        s.relation.create_sql = *row[8];
        s.schedule = row[9].value_or("");
        s.refresh_stats = row[10].value_or("");
        index[{std::stoi(*row[0]), std::stoi(*row[1])}] = out.size();
        out.push_back(std::move(s));
    }
    if (out.empty())
        return out;
    for (const Row &row : registry_rows(
             "SELECT d.batch, d.\"position\", s.value OPERATOR(pg_catalog.->>) 'role', "
             "       s.value OPERATOR(pg_catalog.->>) 'sql' "
             "FROM pgview_auto.saved_dependent d, pg_catalog.jsonb_array_elements(d.statements) WITH ORDINALITY s(value, n) "
             "WHERE d.saved_by OPERATOR(pg_catalog.=) $1 ORDER BY d.batch, d.\"position\", s.n",
             {text(saved_by)}))
        out[index.at({std::stoi(*row[0]), std::stoi(*row[1])})].relation.steps.push_back({*row[2], *row[3]});
    for (const Row &row : registry_rows(
             "SELECT d.batch, d.\"position\", k.k FROM pgview_auto.saved_dependent d, "
             "  pg_catalog.unnest(d.unique_key) WITH ORDINALITY k(k, n) WHERE d.saved_by OPERATOR(pg_catalog.=) $1 "
             "ORDER BY d.batch, d.\"position\", k.n",
             {text(saved_by)}))
        out[index.at({std::stoi(*row[0]), std::stoi(*row[1])})].unique_key.push_back(*row[2]);
    return out;
}

void reattach(const std::vector<StoredRelation> &stored, const std::vector<Oid> &created) {
    bool scheduled = false;
    for (size_t i = 0; i < stored.size(); i++) {
        const SavedRelation &r = stored[i].relation;
        Oid target = InvalidOid;
        if (r.kind == RebuildKind::matview) {
            target = created[i];
        } else if (r.kind == RebuildKind::definition) {
            target = relation_named(r.table_view);
            if (!OidIsValid(target)) {
                std::string name = r.table_view;
                pg_call([&name] {
                    registry::report_event(WARNING,
                                           {"table view ended", name.c_str(), InvalidOid,
                                            psprintf("pgview_auto: table view %s no longer exists; its definition was "
                                                     "made again as a plain view",
                                                     name.c_str()),
                                            nullptr, nullptr});
                });
                continue;
            }
            tableview::TableView tv;
            tv.table = target;
            tv.definition = created[i];
            tv.unique_key = stored[i].unique_key;
            tableview::add(tv);
        } else {
            continue;
        }
        if (!stored[i].schedule.empty())
            registry_rows(put_schedule_sql, {text(std::to_string(target)), text(stored[i].schedule)});
        if (!stored[i].refresh_stats.empty()) {
            const char *taken = stored[i].refresh_stats.c_str();
            pg_call([target, taken] { registry::with_registry([&] { registry::stats_give(target, taken); }); });
        }
        scheduled = scheduled || !stored[i].schedule.empty();
        pg_call([] { CommandCounterIncrement(); });
        watch::restore_orphan(target);
    }
    if (scheduled)
        changes::request_worker_at_commit();
}

void forget_saved(const std::string &saved_by) {
    registry_rows("DELETE FROM pgview_auto.saved_dependent WHERE saved_by OPERATOR(pg_catalog.=) $1",
                  {text(saved_by)});
}

namespace {
// Rows `$2` may give up: saved by it, or by a role it is a member of (a
// superuser is a member of every role; a saver since dropped: superusers only).
constexpr const char *may_discard =
    "(saved_by OPERATOR(pg_catalog.=) $2 "
    " OR (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) $2) "
    " OR EXISTS (SELECT FROM pg_catalog.pg_roles s WHERE s.rolname OPERATOR(pg_catalog.=) saved_by "
    "            AND pg_catalog.pg_has_role($2::pg_catalog.name, s.oid, 'MEMBER')))";
} // namespace

std::vector<std::pair<std::string, std::string>> saved_owners(const std::optional<std::string> &relation,
                                                                const std::string &role) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const Row &row : registry_rows((std::string("SELECT relation, owner FROM pgview_auto.saved_dependent "
                                                    "WHERE ($1 IS NULL OR relation OPERATOR(pg_catalog.=) $1) AND ") +
                                            may_discard + " ORDER BY batch DESC, \"position\" FOR UPDATE")
                                            .c_str(),
                                        {relation ? text(*relation) : null_text(), text(role)}))
        out.emplace_back(*row[0], *row[1]);
    return out;
}

int discard_saved(const std::optional<std::string> &relation, const std::string &role) {
    return static_cast<int>(registry_rows((std::string("DELETE FROM pgview_auto.saved_dependent "
                                                      "WHERE ($1 IS NULL OR relation OPERATOR(pg_catalog.=) $1) AND ") +
                                              may_discard + " RETURNING 1")
                                              .c_str(),
                                          {relation ? text(*relation) : null_text(), text(role)})
                                .size());
}

} // namespace pgview::alter
