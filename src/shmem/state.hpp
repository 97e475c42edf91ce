// pgview_auto — shared memory set up at server start (shmem_request_hook /
// shmem_startup_hook, chained), when the library is preloaded.
#pragma once

namespace pgview::shmem {

void shared_state_init(void); // from _PG_init when preloaded: shmem hooks
bool shared_state_ready(void);

} // namespace pgview::shmem
