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

struct PendingKey {
    Oid dbid;
    Oid view;
    int32 sink;
    int32 len;
    char image[image_room]; // zero-padded: the whole struct is the hash key
};

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
    ctl.keysize = sizeof(PendingKey);
    ctl.entrysize = sizeof(PendingKey);
    // HASH_FIXED_SIZE: a full table refuses new keys (the view falls back to
    // a full refresh) instead of taking the server's spare shared memory, which
    // every other database, lock and extension needs.
    pending = ShmemInitHash("pgview_auto pending keys", config::max_pending_keys, config::max_pending_keys, &ctl,
                            HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
}

bool pending_keys_add(Oid dbid, Oid view, int sink, const changes::KeyImage &image, bool *added) {
    *added = false;
    if (pending == nullptr || image.len > image_room)
        return false;
    PendingKey key;
    make_key(&key, dbid, view, sink, image);
    bool found;
    if (hash_search(pending, &key, HASH_ENTER_NULL, &found) == nullptr)
        return false;
    *added = !found;
    return true;
}

void pending_keys_take(Oid dbid, Oid view, int expected, List **out) {
    if (pending == nullptr || expected <= 0)
        return;
    // Copied out first, removed after: an allocation that fails (an ERROR)
    // leaves every key where it was, for the next claim.
    PendingKey *copies = nullptr;
    if (out != nullptr)
        copies = static_cast<PendingKey *>(palloc(sizeof(PendingKey) * expected));
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, pending);
    PendingKey *k;
    int found = 0;
    while (found < expected && (k = static_cast<PendingKey *>(hash_seq_search(&seq))) != nullptr) {
        if (k->dbid != dbid || k->view != view)
            continue;
        if (copies != nullptr) {
            copies[found] = *k;
            auto *sk = static_cast<changes::SinkKey *>(palloc(sizeof(changes::SinkKey)));
            sk->sink = k->sink;
            sk->image.len = k->len;
            sk->image.data = copies[found].image;
            *out = lappend(*out, sk);
        }
        found++;
    }
    if (found == expected)
        hash_seq_term(&seq);
    if (found == 0)
        return;
    // Nothing below allocates.
    hash_seq_init(&seq, pending);
    int removed = 0;
    while (removed < found && (k = static_cast<PendingKey *>(hash_seq_search(&seq))) != nullptr) {
        if (k->dbid != dbid || k->view != view)
            continue;
        (void) hash_search(pending, k, HASH_REMOVE, nullptr); // allowed for the entry just returned
        removed++;
    }
    if (removed == found) // (else the scan ran to its end, which ends it)
        hash_seq_term(&seq);
}

} // namespace pgview::shmem
