// pgview_auto — commands that need a database to themselves.
//
// DROP DATABASE, CREATE DATABASE ... TEMPLATE, ALTER DATABASE ... RENAME and
// ALTER DATABASE ... SET TABLESPACE fail while another session is connected to
// the database, and our per-database worker is one. A ProcessUtility hook
// (installed when the library is preloaded: there is no worker otherwise)
// pauses the database in shared memory (the launcher starts no worker for it,
// a starting one exits at once), stops its worker (SIGTERM) and waits for it to
// be gone, then runs the command. The pause ends with the command's
// transaction; the launcher then serves the database again if it still exists
// and needs a worker (its pending changes are kept). Only the database's owner
// (or a superuser) can run these commands, and only they pause it.
#pragma once

namespace pgview::worker {
void database_pause_init(void); // from _PG_init, when preloaded
}
