#!/usr/bin/env bash
# pgview_auto — the soak test (issue 20): a throwaway server made busy for a
# while (8 writers on three databases, views in commit, async and manual mode,
# one role running pgview_alter and save/restore in a loop, one role filling
# pending keys past pgview_auto.max_pending_keys, workers taking turns between
# databases), then every view compared with its query.
# Passes when every view equals its query, no statement failed that would have
# succeeded without the extension, and the server log has no deadlock and no
# "out of shared memory".
#   test/soak/run.sh [--seconds 60] [--writers 8] [--seed 1]
# Environment: SOAK_SKIP_BUILD=1 uses the installed extension; KEEP=1 keeps the
# server's directory (its log).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib.sh"
PYTHON=/usr/bin/python3
"$PYTHON" -c 'import psycopg2' 2>/dev/null || ensure_packages python3-psycopg2
[ "${SOAK_SKIP_BUILD:-0}" = 1 ] || build_and_install >&2

TMP=$(mktemp -d /tmp/pgview_soak.XXXXXX)
chmod 755 "$TMP"
cleanup() {
    stop_cluster "$TMP" || true
    if [ -n "${KEEP:-}" ]; then echo "kept $TMP (server log: $TMP/server.log)" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
PORT=$(free_port 54380)
start_cluster "$TMP" "$PORT" "max_connections = 40" "pgview_auto.naptime = '100ms'" \
    "pgview_auto.max_workers = 2" "pgview_auto.max_pending_keys = 2000" "deadlock_timeout = '200ms'"

rc=0
"$PYTHON" -B "$HERE/soak.py" --dsn "host=$TMP port=$PORT user=postgres" "$@" || rc=$?
bad=$(grep -cE 'deadlock detected|out of shared memory' "$TMP/server.log" || true)
if [ "$bad" != 0 ]; then
    echo "server log: $bad lines with a deadlock or 'out of shared memory':"
    grep -E 'deadlock detected|out of shared memory' "$TMP/server.log" | head -20
    rc=1
fi
exit $rc
