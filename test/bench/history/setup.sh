# pgview_auto — the history benchmarks' common part (sourced by run.sh and
# toggle.sh): W2 loaded on a throwaway preloaded server, user_stats a table view
# watched in commit mode, insert.pgb sized to it, and set_history on|off (ALTER
# SYSTEM and a reload: running sessions take it at their next statement).
# Needs USERS, ORDERS, REPO, HERE, log, die (the caller's).
if [ -d "$REPO/../shared/workloads/w2" ]; then WORKLOADS=$REPO/../shared/workloads/w2
else WORKLOADS=$REPO/test/bench/reference/workloads/w2; fi
for f in setup.sql table_view.sql insert.pgb check_fresh.sql; do
    [ -r "$WORKLOADS/$f" ] || die "workload file $WORKLOADS/$f not found"
done

COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
ensure_packages "${BUILD_PACKAGES[@]}" >&2
if [ "${HIST_SKIP_BUILD:-0}" = 1 ]; then BUILD="the installed build (work tree at $COMMIT)"
else build_and_install >&2; BUILD="built and installed by this run from $COMMIT"; fi

throwaway_dir history
PORT=${HIST_PORT:-$(free_port 54390)}
log "starting a throwaway server on port $PORT ($TMP)"
start_cluster "$TMP" "$PORT" "max_connections = 50" "fsync = off"
mkdir -p "$TMP/files"
cp "$WORKLOADS"/*.pgb "$WORKLOADS"/*.sql "$TMP/files/"
[ "$(id -u)" -eq 0 ] && chown -R "$PGUSER_OS" "$TMP/files"
psql_db() { local db=$1; shift; cluster_psql "$TMP" "$PORT" -d "$db" -v ON_ERROR_STOP=1 -qAt "$@"; }

DB=pgview_history_bench
psql_db postgres -c "CREATE DATABASE $DB"
{ echo "SET client_min_messages = warning;"; cat "$WORKLOADS/setup.sql"; } |
    psql_db "$DB" -v users="$USERS" -v orders="$ORDERS" >/dev/null
psql_db "$DB" -c "CREATE EXTENSION pgview_auto"
psql_db "$DB" -c "SET client_min_messages = warning" -f "$TMP/files/table_view.sql" >/dev/null
psql_db "$DB" -c "SELECT pgview_watch('user_stats')" -c "SELECT pgview_refresh('user_stats')" >/dev/null
psql_db "$DB" -c "VACUUM ANALYZE" -c "CHECKPOINT"
# insert.pgb draws users from 1..1000: keep them inside this size
sed "s/random(1, *[0-9]*)/random(1, $USERS)/" "$WORKLOADS/insert.pgb" >"$TMP/files/insert.pgb"
[ "$(id -u)" -eq 0 ] && chown "$PGUSER_OS" "$TMP/files/insert.pgb"

set_history() {
    psql_db postgres -c "ALTER SYSTEM SET pgview_auto.history = $1" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.2
}
