// pgview_auto — mode 'immediate': table views maintained at the end of each
// writing statement, inside the writer's transaction, so that the writer reads
// its own writes and a rollback (of the transaction or of a savepoint) takes
// the view's changes with the statement's.
//
// When the last of our statement triggers on a written table has collected the
// statement's changes (capture/changed.hpp: statement_captured), the table
// views watching the tables written since in mode 'immediate' are refreshed
// from the transaction's change set, by the same engine as at commit (keys
// locked, then the snapshot: in READ COMMITTED a writer waits for another that
// holds its keys, then sees its commit; in REPEATABLE READ it gets a
// serialization failure instead). The keys stay locked until the transaction
// ends. The refresh's own writes end statements too, so views over the table
// view follow. Whatever no statement trigger saw (a logical replication apply,
// session_replication_role = replica) is refreshed at commit.
#pragma once

namespace pgview::commit {

void immediate_init(void); // from _PG_init: registers the statement end with capture
// The 'immediate' views watching tables written since the last call,
// refreshed now. C++ (may throw); no-op when nothing was written.
void refresh_immediate(void);

} // namespace pgview::commit
