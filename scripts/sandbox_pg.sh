#!/usr/bin/env bash
# pgview_auto — make a private, relocated copy of Debian's PostgreSQL 15 in DIR, for
# building and testing several checkouts side by side (each installs its own
# pgview_auto.so there instead of into /usr):
#     bash scripts/sandbox_pg.sh /tmp/pg-mine
#     PGVIEW_PG_ROOT=/tmp/pg-mine bash scripts/test.sh
# PostgreSQL finds its share and lib directories relative to its binaries, so the
# copy works from anywhere the server's user can read.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
dir=${1:?usage: sandbox_pg.sh DIR}
ensure_packages "${BUILD_PACKAGES[@]}"
mkdir -p "$dir/usr/lib/postgresql" "$dir/usr/share/postgresql" "$dir/usr/include"
cp -a "/usr/lib/postgresql/$PGVER" "$dir/usr/lib/postgresql/"
cp -a "/usr/share/postgresql/$PGVER" "$dir/usr/share/postgresql/"
ln -sfn /usr/include/postgresql "$dir/usr/include/postgresql"
chmod 755 "$dir"
"$dir/usr/lib/postgresql/$PGVER/bin/pg_config" --pkglibdir
