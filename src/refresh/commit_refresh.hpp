// pgview_auto — refresh at commit: the transaction callback.
#pragma once

namespace pgview::refresh {
void commit_refresh_init(void); // from _PG_init
}
