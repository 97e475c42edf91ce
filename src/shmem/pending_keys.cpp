// pgview_auto — pending keys in shared memory (see pending_keys.hpp).
#include "shmem/pending_keys.hpp"

#include "config/settings.hpp"

extern "C" {
#include "storage/shmem.h"
#include "utils/hsearch.h"
}

namespace pgview::shmem {


namespace {

// Room for the image of most keys (integers, dates, uuids, short text).
constexpr int image_room = 52;

} // namespace

struct PendingKey {
    Oid dbid;
    Oid view;
    int32 sink;
    int32 len;
    char image[image_room]; // zero-padded: everything up to here is the hash key
    PendingKey *next;       // the view's next pending key (not part of the key)
};

namespace {

constexpr Size key_size = offsetof(PendingKey, next);
HTAB *pending = nullptr;

void make_key(PendingKey *k, Oid dbid, Oid view, int sink, const changes::KeyImage &image) {
    memset(k, 0, sizeof *k);
    k->dbid = dbid;
    k->view = view;
    k->sink = sink;
    k->len = image.len;
    memcpy(k->image, image.data, image.len);
}

} // namespace

Size pending_keys_shmem_size(void) {
    return config::max_pending_keys > 0 ? hash_estimate_size(config::max_pending_keys, sizeof(PendingKey)) : 0;
}

void pending_keys_shmem_init(void) {
    if (config::max_pending_keys <= 0)
        return;
    HASHCTL ctl;
    ctl.keysize = key_size;
    ctl.entrysize = sizeof(PendingKey);
    // HASH_FIXED_SIZE: a full table refuses new keys (the view falls back to
    // a full refresh) instead of taking the server's spare shared memory, which
    // every other database, lock and extension needs.
    pending = ShmemInitHash("pgview_auto pending keys", config::max_pending_keys, config::max_pending_keys, &ctl,
                            HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
}

bool pending_keys_add(Oid dbid, Oid view, KeyChain *chain, int sink, const changes::KeyImage &image, bool *added) {
    *added = false;
    if (pending == nullptr || image.len > image_room)
        return false;
    PendingKey key;
    make_key(&key, dbid, view, sink, image);
    bool found;
    auto *k = static_cast<PendingKey *>(hash_search(pending, &key, HASH_ENTER_NULL, &found));
    if (k == nullptr)
        return false;
    if (!found) {
        k->next = *chain;
        *chain = k;
    }
    *added = !found;
    return true;
}

void pending_keys_take(KeyChain *chain, int expected, List **out) {
    if (pending == nullptr || *chain == nullptr)
        return;
    // Copied out first, removed after: an allocation that fails (an ERROR)
    // leaves every key where it was, for the next claim.
    if (out != nullptr) {
        // (Counted, not trusted to `expected`: the copies must not move once a
        // SinkKey points into them.)
        int count = 0;
        for (PendingKey *k = *chain; k != nullptr; k = k->next)
            count++;
        (void) expected;
        auto *copies = static_cast<PendingKey *>(palloc(sizeof(PendingKey) * count));
        int n = 0;
        for (PendingKey *k = *chain; k != nullptr; k = k->next, n++) {
            copies[n] = *k;
            auto *sk = static_cast<changes::SinkKey *>(palloc(sizeof(changes::SinkKey)));
            sk->sink = k->sink;
            sk->image.len = k->len;
            sk->image.data = copies[n].image;
            *out = lappend(*out, sk);
        }
    }
    // Nothing below allocates. (A removed entry goes to the free list, which
    // reuses its header, not its data: its link is read before anyway.)
    PendingKey *k = *chain;
    *chain = nullptr;
    while (k != nullptr) {
        PendingKey *next = k->next;
        (void) hash_search(pending, k, HASH_REMOVE, nullptr);
        k = next;
    }
}

} // namespace pgview::shmem
