#!/usr/bin/env bash
# pgview_auto — the randomized differential test of table views (issue 12, "Proof").
#
# Starts a throwaway server (shared_preload_libraries = 'pgview_auto'), then runs
# ivm_random.py against it: 30 table views over small tables with NULLs in key and
# join columns (joins of 2-3 tables, LEFT JOINs, GROUP BY with count, sum, avg, min,
# max, count(DISTINCT), ordered string_agg and a user aggregate, HAVING, windows by
# the key and not, DISTINCT, UNION ALL, subqueries, nested views, expression and
# multi-column keys, a partitioned table, bags and joins without a key given (keys that
# only partition the rows); and the shapes that must be refreshed in
# full: LIMIT/OFFSET, subqueries reading tables, volatile functions, rank() over
# everything), watched in commit, async and manual mode; several clients run random
# transactions at once (INSERT, UPDATE of key and join columns, DELETE, COPY, rare
# TRUNCATE, savepoints rolled back, transactions rolled back, REPEATABLE READ; with three
# clients or more the last writes as logical replication's apply does: superuser,
# session_replication_role = replica). Views kept by delta arithmetic among them: what
# pgview_explain says is delta must be the shape's, and a view with no delta source never
# has a delta refresh, one with some has some (pgview_maintenance()).
# After every round every table view must equal its query (EXCEPT ALL both ways),
# no refresh may fail, and the numbers of incremental and full refreshes must be what
# pgview_explain predicts (before pgview_explain exists: every refresh full).
#
# Usage:
#   test/random/run.sh                 the test command's run: seed 1, 20 rounds (~1-2 min)
#   test/random/run.sh --long          200 rounds of 6 clients, by hand
#   test/random/run.sh --seed 7 --rounds 50 --clients 6 --log /tmp/txns.sql
#   test/random/run.sh --help          every option of ivm_random.py
# Options are passed to ivm_random.py (see --help): --seed, --rounds, --clients,
# --txns, --long, --modes, --mode-change, --predict auto|on|off, --max-keys, --shapes,
# --log.
# Environment:
#   IVM_PORT        port of the throwaway server (default: a free one from 54360)
#   IVM_SKIP_BUILD  1: use the installed extension as it is (no make / make install)
#   KEEP            1: keep the server's directory (its log) afterwards
# Exit status: 0 passed; 1 a table view differed from its query, a refresh failed or
# a count was not as predicted; anything else: the run itself failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR/../..
# shellcheck source=scripts/lib.sh
source "$HERE/../../scripts/lib.sh"

# Debian's python3 has python3-psycopg2; another python3 first on PATH may not.
PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
    for p in /usr/bin/python3 python3; do
        if "$p" -c 'import psycopg2' 2>/dev/null; then PYTHON=$p; break; fi
    done
fi
if [ -z "$PYTHON" ]; then
    ensure_packages python3-psycopg2
    PYTHON=/usr/bin/python3
fi

for arg in "$@"; do
    case $arg in -h | --help)
        sed -n '2,/^set -[eE]/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
        echo
        exec "$PYTHON" -B "$HERE/ivm_random.py" --help
        ;;
    esac
done

# The harness's own arithmetic first (no server needed).
if ! out=$(cd "$HERE" && "$PYTHON" -B -m unittest -q test_prediction 2>&1); then
    echo "$out" >&2
    echo "run.sh: test/random/test_prediction.py failed" >&2
    exit 2
fi

[ "${IVM_SKIP_BUILD:-0}" = 1 ] || build_and_install >&2

TMP=$(mktemp -d /tmp/pgview_random.XXXXXX)
chmod 755 "$TMP"
cleanup() {
    stop_cluster "$TMP" || true
    if [ -n "${KEEP:-}" ]; then echo "kept $TMP (server log: $TMP/server.log)" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
PORT=${IVM_PORT:-$(free_port 54360)}
say "starting a throwaway server on port $PORT" >&2
start_cluster "$TMP" "$PORT" "max_connections = 40" "log_min_messages = warning"

rc=0
"$PYTHON" -B "$HERE/ivm_random.py" --dsn "host=$TMP port=$PORT user=postgres" "$@" || rc=$?
if ((rc != 0)); then
    echo "server log (ERROR/WARNING/FATAL/PANIC lines, last 30):" >&2
    grep -E 'ERROR|WARNING|FATAL|PANIC|TRAP' "$TMP/server.log" | tail -30 >&2 || true
fi
exit $rc
