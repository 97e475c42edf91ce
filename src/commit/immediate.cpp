// pgview_auto — mode 'immediate' (see immediate.hpp).
#include "commit/immediate.hpp"

#include <unordered_set>
#include <vector>

#include "capture/changed.hpp"
#include "changes/change_set.hpp"
#include "changes/dirty_set.hpp"
#include "engine/refresh.hpp"
#include "pg/error.hpp"
#include "pg/guard.hpp"
#include "registry/watch_cache.hpp"

extern "C" {
#include "access/xact.h"
}

namespace pgview::commit {

namespace {

// A refresh's own statements end inside it: views over the table view it wrote
// follow at once (nested), up to this depth; deeper is a loop.
constexpr int max_depth = 8;
int depth = 0;

bool take_changes(Oid view, changes::ViewChanges *out) { return changes::change_take(view, out); }

} // namespace

void immediate_init(void) { capture::on_statement_end(refresh_immediate); }

void refresh_immediate(void) {
    std::vector<Oid> roots;
    std::unordered_set<Oid> seen; // (out here: pg_call's lambda may own nothing with a destructor)
    pg_call([&roots, &seen] {
        if (!IsTransactionState())
            return;
        List *tables = changes::statement_dirty_take();
        if (!registry::any_immediate_watch())
            return;
        ListCell *lc;
        foreach (lc, tables) {
            int n;
            const Oid *views = registry::watchers_of(lfirst_oid(lc), &n);
            for (int i = 0; i < n; i++) {
                const registry::MatviewOptions *o = registry::options_of(views[i]);
                if (o != nullptr && o->mode == 'i' && seen.insert(views[i]).second)
                    roots.push_back(views[i]); // (bad_alloc: caught by pg_call)
            }
        }
    });
    if (roots.empty())
        return;
    if (depth >= max_depth)
        throw Error("54000", "table views in mode 'immediate' keep refreshing each other",
                    "Refreshing them wrote watched tables again " + std::to_string(max_depth) + " times.",
                    "Check the functions the table views call for writes to watched tables.");
    depth++;
    try {
        engine::refresh_matviews(roots, false, engine::use_watch_option, engine::Origin::statement, nullptr,
                                 take_changes);
    } catch (const Error &e) {
        depth--;
        // A REPEATABLE READ / SERIALIZABLE writer met a view row another
        // transaction changed after its snapshot: maintaining it from this
        // snapshot would undo that. Said in our words, with what to do.
        if (e.sqlstate() != "40001")
            throw;
        throw Error("40001", "a table view in mode 'immediate' was changed by a transaction newer than this one's "
                             "snapshot",
                    e.what(),
                    "Retry the transaction; writers of the same keys in REPEATABLE READ or SERIALIZABLE take turns "
                    "this way (READ COMMITTED writers wait instead).");
    } catch (...) {
        depth--;
        throw;
    }
    depth--;
}

} // namespace pgview::commit
