// pgview_auto — the refreshes running now (see activity.hpp).
#include "shmem/activity.hpp"

#include "shmem/layout.hpp"

extern "C" {
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"
}

namespace pgview::shmem {

namespace {

struct Slot {
    volatile uint32 changecount; // odd while its backend writes it
    bool active;
    ActivityRow row;
};
Slot *slots = nullptr;

Slot *mine() {
    int procno = MyProc != nullptr ? MyProc->pgprocno : -1;
    return slots != nullptr && procno >= 0 && procno < MaxBackends ? &slots[procno] : nullptr;
}

template <typename F>
void write_slot(F change) {
    Slot *s = mine();
    if (s == nullptr)
        return;
    s->changecount++;
    pg_write_barrier();
    change(s);
    pg_write_barrier();
    s->changecount++;
}

// A consistent copy of slot i.
Slot read_slot(int i) {
    Slot copy;
    for (;;) {
        uint32 before = slots[i].changecount;
        pg_read_barrier();
        memcpy(&copy, &slots[i], sizeof(Slot));
        pg_read_barrier();
        if (before == slots[i].changecount && (before & 1) == 0)
            return copy;
        CHECK_FOR_INTERRUPTS();
    }
}

} // namespace

Size activity_shmem_size(void) { return MAXALIGN(mul_size(MaxBackends, sizeof(Slot))); }

void activity_shmem_init(void) {
    bool found;
    slots = static_cast<Slot *>(ShmemInitStruct("pgview_auto activity", activity_shmem_size(), &found));
    if (!found)
        memset(slots, 0, activity_shmem_size());
}

void activity_begin(Oid view, char origin, char strategy, int64 keys_claimed) {
    write_slot([&](Slot *s) {
        s->active = true;
        s->row = {MyProcPid, MyDatabaseId, view, origin, strategy, GetCurrentTimestamp(), keys_claimed, 0, 0};
    });
}

void activity_progress(char strategy, int64 keys_done, int64 rows) {
    write_slot([&](Slot *s) {
        s->row.strategy = strategy;
        s->row.keys_done = keys_done;
        s->row.rows = rows;
    });
}

void activity_end(void) {
    Slot *s = mine();
    if (s == nullptr || !s->active)
        return;
    write_slot([](Slot *slot) { slot->active = false; });
}

int activity_rows(Oid dbid, ActivityRow **out) {
    *out = nullptr;
    if (slots == nullptr)
        return 0;
    auto *rows = static_cast<ActivityRow *>(palloc(sizeof(ActivityRow) * (MaxBackends + 1)));
    int n = 0;
    for (int i = 0; i < MaxBackends; i++) {
        if (!slots[i].active)
            continue;
        Slot s = read_slot(i);
        if (s.active && s.row.dbid == dbid)
            rows[n++] = s.row;
    }
    *out = rows;
    return n;
}

bool activity_running_in(int pid) {
    if (slots == nullptr || pid == 0)
        return false;
    for (int i = 0; i < MaxBackends; i++)
        if (slots[i].active && slots[i].row.pid == pid)
            return true;
    return false;
}

} // namespace pgview::shmem
