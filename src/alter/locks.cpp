// pgview_auto — see locks.hpp.
#include "alter/locks.hpp"

#include <algorithm>

#include "pg/guard.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/lmgr.h"
}

namespace pgview::alter {

void lock_all_or_wait(std::vector<LockRequest> locks) {
    std::sort(locks.begin(), locks.end(), [](const LockRequest &a, const LockRequest &b) {
        return a.table != b.table ? a.table : a.relid < b.relid;
    });
    std::vector<bool> held(locks.size(), false);
    for (;;) {
        size_t busy = locks.size();
        for (size_t i = 0; i < locks.size() && busy == locks.size(); i++) {
            if (held[i])
                continue;
            const LockRequest l = locks[i];
            if (pg_call([l] { return ConditionalLockRelationOid(l.relid, l.mode); }))
                held[i] = true;
            else
                busy = i;
        }
        if (busy == locks.size())
            return;
        for (size_t i = 0; i < locks.size(); i++)
            if (held[i]) {
                const LockRequest l = locks[i];
                pg_call([l] { UnlockRelationOid(l.relid, l.mode); });
                held[i] = false;
            }
        const LockRequest l = locks[busy];
        pg_call([l] {
            CHECK_FOR_INTERRUPTS();
            LockRelationOid(l.relid, l.mode); // holding none of the others
        });
        held[busy] = true;
    }
}

} // namespace pgview::alter
