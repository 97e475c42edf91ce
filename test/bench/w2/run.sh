#!/usr/bin/env bash
# pgview_auto — W2 benchmark: incremental refresh of a keyed table view (issue 12, "Speed").
#
# The reference workload W2 (../shared/workloads/w2, else test/bench/reference/workloads/w2):
# users, orders with orders(user_id) indexed, and user_stats as a table view keyed by
# user_id (table_view.sql). "W2" is 1,000 users and 100,000 orders; "W2 large" 100,000 and
# 1,000,000. Everything is measured side by side in one run on one throwaway server, in
# interleaved repetitions (the order of the setups rotates from one repetition to the
# next), and ratios are taken within a repetition, then their median reported (as
# test/bench/w1/async_pairs.sh does). Every run starts from the same data: a database
# copied from a template loaded once per size (setup.sql, then VACUUM ANALYZE), the
# extension created, the setup installed, CHECKPOINT.
#
# Setups:
#   none      no view (the extension installed, nothing watched)
#   commit    user_stats watched in commit mode (incremental when pgview_explain says so)
#   async     user_stats watched in async mode, debounce 0
#   batched   user_stats watched in async mode, debounce 50 ms (async section: what asking for
#             batching buys, in throughput and in latency)
#   manual    user_stats watched in manual mode (async section): the capture alone, nothing is
#             refreshed during the run; pgview_refresh_pending after it must leave 0 stale rows
#   pg_ivm    pg_ivm's view of the same data (pg_ivm.sql), when `CREATE EXTENSION pg_ivm`
#             works in the server this runs against; else a line says it was skipped
#   immediate user_stats watched in mode 'immediate' (maintained at the end of each writing
#             statement, in the writer's transaction, as pg_ivm's views are)
#   immediate_same  pg_ivm's view (pg_ivm.sql's query: orders grouped by user_id, no
#             LEFT JOIN) as a table view in mode 'immediate': the same view as pg_ivm's
#   trigger   no extension at work: user_stats a plain table kept by hand-written delta
#             triggers (hand_delta_trigger.sql), what a careful DBA writes
#   statement no extension at work: user_stats kept inside each pgbench statement
#             (hand_delta_statement.sh, data-modifying CTEs): the floor of any delta
#             maintenance, the "hand-written delta" of floor.sh
# Measurements:
#   1. commit mode vs no view (and pg_ivm): insert.pgb and mixed.pgb on W2, insert_large.pgb
#      on W2 large, 1 and 8 clients: TPS; stale rows (check_fresh.sql) right after the
#      writers stop (must be 0).
#   2. async vs no view, 8 clients, insert.pgb on W2 and insert_large.pgb on W2 large: TPS;
#      stale rows after pgview_wait (must be 0); then a latency run (8 writers for
#      W2_LATENCY_SECONDS while one more connection INSERTs for a probe user and times
#      pgview_wait server-side, as test/bench/w1/run.sh does): p50, p95, max.
#   3. refresh time against the number of affected keys (W2_KEYS, of W2 large's users):
#      user_stats watched in manual mode; rows touching N distinct users are inserted, then
#      pgview_refresh_pending('user_stats') is timed (the keyed refresh, when it exists);
#      the same write again, then pgview_refresh('user_stats') is timed (the full
#      differential refresh); each after a CHECKPOINT, server-side, commit included; order
#      alternating, W2_KEY_REPEAT times, medians.
#   5. mode 'immediate' vs pg_ivm (W2_SECTIONS=immediate; not in the default sections):
#      insert.pgb on W2, 1 and 8 clients: no view, immediate (user_stats), immediate_same
#      (pg_ivm's view as a table view) and pg_ivm; TPS; stale rows after the writers.
#   4. COPY of W2_COPY_ROWS rows into orders (W2 large), no view vs commit vs async (and
#      pg_ivm): time of the COPY statement, commit included (for async also until
#      pgview_wait returns).
#
# Usage:
#   test/bench/w2/run.sh            full benchmark, appends its tables to RESULTS.md here
#   test/bench/w2/run.sh --smoke    small sizes, 2 s runs, one repetition: checks that every
#                                   view is fresh after the writers (commit mode) or after
#                                   pgview_wait (async); judges no timing, writes nothing
# Environment (full run defaults; --smoke uses the values in brackets):
#   W2_USERS, W2_ORDERS              W2's size (1000, 100000) [100, 5000]
#   W2_LARGE_USERS, W2_LARGE_ORDERS  W2 large's size (100000, 1000000) [20000, 40000]
#   W2_SECONDS                       seconds per pgbench run (10) [2]
#   W2_LATENCY_SECONDS               seconds of each latency run (20) [2]
#   W2_REPEAT                        interleaved repetitions (3) [1]
#   W2_KEYS                          affected keys (1 10 100 1000 10000) [1 100]
#   W2_KEY_REPEAT                    repetitions per number of keys (5) [1]
#   W2_COPY_ROWS                     rows of the COPY (1000000) [2000]
#   W2_IVM_COPY_MAX                  largest COPY measured with pg_ivm (20000)
#   W2_WORKLOADS                     the workload files (default as above)
#   W2_PORT                          the server's port (default: a free one from 54390)
#   W2_SKIP_BUILD                    1: use the installed extension as it is
#   W2_DURABLE                       1: fsync on (default off, as every throwaway server here)
#   W2_SECTIONS                      the measurements to make, of: commit async keys copy
#                                    (default: those four) immediate
# Exit status: 0 every view fresh after every run; 1 a view was stale (a correctness bug);
#              3 the run itself failed (64: bad arguments).
set -Eeuo pipefail
trap 'exit 3' ERR

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR/../../..
# shellcheck source=scripts/lib.sh
source "$HERE/../../../scripts/lib.sh"
bench_args "$@"

if ((SMOKE)); then
    USERS=100 ORDERS=5000 LUSERS=20000 LORDERS=40000 SECS=2 LSECS=2 REPEAT=1
    KEYS="1 100" KEY_REPEAT=1 COPY_ROWS=2000
else
    USERS=${W2_USERS:-1000} ORDERS=${W2_ORDERS:-100000}
    LUSERS=${W2_LARGE_USERS:-100000} LORDERS=${W2_LARGE_ORDERS:-1000000}
    SECS=${W2_SECONDS:-10} LSECS=${W2_LATENCY_SECONDS:-20} REPEAT=${W2_REPEAT:-3}
    KEYS=${W2_KEYS:-"1 10 100 1000 10000"} KEY_REPEAT=${W2_KEY_REPEAT:-5} COPY_ROWS=${W2_COPY_ROWS:-1000000}
fi
SECTIONS=${W2_SECTIONS:-commit async keys copy}
log() { say "$*" >&2; }
die() { echo "w2/run.sh: $*" >&2; exit 3; }
for v in USERS ORDERS LUSERS LORDERS SECS LSECS REPEAT KEY_REPEAT COPY_ROWS; do
    [[ ${!v} =~ ^[0-9]+$ ]] && ((${!v} >= 1)) || { echo "w2/run.sh: $v must be a whole number >= 1 (got ${!v})" >&2; exit 64; }
done
for k in $KEYS; do
    [[ $k =~ ^[0-9]+$ ]] && ((k >= 1 && k <= LUSERS)) || { echo "w2/run.sh: W2_KEYS: $k is not between 1 and $LUSERS" >&2; exit 64; }
done

if [ -n "${W2_WORKLOADS:-}" ]; then WORKLOADS=$W2_WORKLOADS
elif [ -d "$REPO/../shared/workloads/w2" ]; then WORKLOADS=$REPO/../shared/workloads/w2
else WORKLOADS=$REPO/test/bench/reference/workloads/w2; fi
for f in setup.sql table_view.sql insert.pgb insert_large.pgb mixed.pgb check_fresh.sql pg_ivm.sql; do
    [ -r "$WORKLOADS/$f" ] || die "workload file $WORKLOADS/$f not found (set W2_WORKLOADS)"
done
WORKLOADS=$(cd "$WORKLOADS" && pwd)

COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
ensure_packages "${BUILD_PACKAGES[@]}" >&2
if [ "${W2_SKIP_BUILD:-0}" = 1 ]; then BUILD="the installed build (W2_SKIP_BUILD=1; work tree at $COMMIT)"
else build_and_install >&2; BUILD="built and installed by this run from $COMMIT"; fi

# pg_ivm, if this PostgreSQL has it: it must be preloaded to maintain its views correctly.
PRELOAD=pgview_auto
if [ -r "$("$PG_CONFIG" --sharedir)/extension/pg_ivm.control" ] && [ -r "$("$PG_CONFIG" --pkglibdir)/pg_ivm.so" ]; then
    PRELOAD="pgview_auto, pg_ivm"
fi

throwaway_dir w2
PORT=${W2_PORT:-$(free_port 54390)}
log "starting a throwaway server on port $PORT ($TMP)"
# W2_DURABLE=1: fsync on (commits wait for the disk, as in production); the
# default throwaway server runs with fsync off.
DURABILITY=off
[ "${W2_DURABLE:-0}" = 1 ] && DURABILITY=on
start_cluster "$TMP" "$PORT" "shared_preload_libraries = '$PRELOAD'" "max_connections = 50" "fsync = $DURABILITY"
mkdir -p "$TMP/files"
# The server's user reads the workload files: copies it can enter (a clone may be
# in a mode-700 home directory).
cp "$WORKLOADS"/*.pgb "$WORKLOADS"/*.sql "$HERE/hand_delta_trigger.sql" "$TMP/files/"
for f in insert insert_large mixed; do # (each with its own users: the random(1, N) of the workload's script)
    bash "$HERE/hand_delta_statement.sh" "$f" "$(grep -o -m1 'random(1, *[0-9]*)' "$WORKLOADS/$f.pgb" | grep -o '[0-9]*)' | tr -d ')')" \
        >"$TMP/files/statement_$f.pgb"
done
[ "$(id -u)" -eq 0 ] && chown -R "$PGUSER_OS" "$TMP/files"

DB=pgview_w2_run
psql_db() { local db=$1; shift; cluster_psql "$TMP" "$PORT" -d "$db" -v ON_ERROR_STOP=1 -qAt "$@"; }
run_psql() { psql_db "$DB" "$@"; }
PGVERSION=$(psql_db postgres -c "SHOW server_version")

HAS_IVM=0
IVM_NOTE="pg_ivm: skipped (CREATE EXTENSION pg_ivm does not work in this PostgreSQL)"
if [ "$PRELOAD" != pgview_auto ]; then
    psql_db postgres -c "CREATE DATABASE pgview_w2_probe"
    if psql_db pgview_w2_probe -c "CREATE EXTENSION pg_ivm" >/dev/null 2>&1; then
        HAS_IVM=1
        IVM_NOTE="pg_ivm $(psql_db pgview_w2_probe -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_ivm'"): measured (pg_ivm.sql: its simpler view of the same aggregate, maintained in the writer's transaction)"
    fi
    psql_db postgres -c "DROP DATABASE pgview_w2_probe"
fi
log "$IVM_NOTE"

# --- data: one template per size --------------------------------------------------------
load_template() { # NAME USERS ORDERS
    psql_db postgres -c "CREATE DATABASE $1"
    { echo "SET client_min_messages = warning;"; cat "$WORKLOADS/setup.sql"; } |
        psql_db "$1" -v users="$2" -v orders="$3" >/dev/null
    psql_db "$1" -c "VACUUM ANALYZE"
}
log "loading W2 ($USERS users, $ORDERS orders) and W2 large ($LUSERS users, $LORDERS orders)"
load_template w2_small "$USERS" "$ORDERS"
load_template w2_large "$LUSERS" "$LORDERS"

HAS_INC=0
# fresh_db TEMPLATE SETUP [probe]: the run database, a copy of the template, with SETUP
# installed (probe: a latency probe user 0 first, whose orders only the probe writes).
fresh_db() {
    psql_db postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE $1"
    run_psql -c "CREATE EXTENSION pgview_auto"
    [ "${3:-}" != probe ] || run_psql -c "INSERT INTO users VALUES (0, 'latency probe')"
    case $2 in
    none) ;;
    pg_ivm) run_psql -c "SET client_min_messages = warning" -f "$TMP/files/pg_ivm.sql" >/dev/null ;;
    trigger) run_psql -f "$TMP/files/hand_delta_trigger.sql" >/dev/null ;;
    statement)
        run_psql -f "$TMP/files/hand_delta_trigger.sql" >/dev/null
        run_psql -c "DROP TRIGGER user_stats_insert ON orders" -c "DROP TRIGGER user_stats_delete ON orders" \
            -c "DROP TRIGGER user_stats_update ON orders" >/dev/null ;;
    immediate_same)
        run_psql -c "SET client_min_messages = warning" \
            -c "SELECT pgview_create('user_stats_ivm', 'SELECT user_id, count(*) AS n, sum(total) AS total FROM orders GROUP BY user_id', kind => 'table view')" >/dev/null
        run_psql -c "SELECT pgview_watch('user_stats_ivm', mode => 'immediate')" >/dev/null ;;
    commit | async | manual | batched | immediate)
        run_psql -c "SET client_min_messages = warning" -f "$TMP/files/table_view.sql" >/dev/null
        local watch="mode => '$2'"
        [ "$2" = batched ] && watch="mode => 'async', debounce => '50 milliseconds'"
        run_psql -c "SELECT pgview_watch('user_stats', $watch)" >/dev/null
        # A new watch's first refresh is full (writes before the watch were not
        # captured): part of the setup, as in a deployment, not of the timed run.
        run_psql -c "SELECT pgview_refresh('user_stats')" >/dev/null ;;
    *) die "unknown setup $2" ;;
    esac
    HAS_INC=$(run_psql -c "SELECT count(*) FROM pg_proc WHERE proname = 'pgview_status' AND 'incremental_refreshes' = ANY(proargnames)")
    run_psql -c "CHECKPOINT"
}
# Rows that differ between the view and its query (0 = fresh); "—" without a view.
stale_rows() {
    case $1 in
    commit | async | manual | batched | trigger | statement | immediate) run_psql <"$WORKLOADS/check_fresh.sql" | tail -1 ;;
    pg_ivm | immediate_same) run_psql -c "SELECT count(*) FROM (
          (SELECT user_id, n, total FROM user_stats_ivm
           EXCEPT ALL SELECT user_id, count(*), sum(total) FROM orders GROUP BY user_id)
          UNION ALL
          (SELECT user_id, count(*), sum(total) FROM orders GROUP BY user_id
           EXCEPT ALL SELECT user_id, n, total FROM user_stats_ivm)) d" ;;
    *) echo "—" ;;
    esac
}
# "full incremental keys" refresh counts of user_stats so far.
refresh_counts() {
    local inc="0, 0"
    ((HAS_INC)) && inc="coalesce(sum(incremental_refreshes), 0), coalesce(sum(keys_refreshed), 0)"
    run_psql -F' ' -c "SELECT coalesce(sum(refresh_count), 0), $inc FROM pgview_status()
                       WHERE matview = 'user_stats'::regclass"
}
wait_fresh() { # "t|f MS": pgview_wait, timed from the start of its statement
    run_psql -F' ' -c "SELECT s.ok, round(extract(epoch FROM clock_timestamp() - s.t0) * 1000, 1)
        FROM (SELECT statement_timestamp() AS t0, pgview_wait('user_stats', '120 seconds') AS ok OFFSET 0) s"
}
pgbench_run() { # CLIENTS SECONDS SCRIPT -> pgbench's output
    (cd "$TMP" && as_pg pgbench -n -c "$1" -j 2 -T "$2" -h "$TMP" -p "$PORT" -U postgres -f "$TMP/files/$3" "$DB" 2>&1)
}

BUGS=()
DETAIL=""
declare -A TPS
# pgbench_setup GROUP REP SETUP TEMPLATE SCRIPT CLIENTS: one measured run.
pgbench_setup() {
    local group=$1 rep=$2 s=$3 tpl=$4 script=$5 c=$6 out tps xacts before after stale waitok="—" waitms="—" stalew="—"
    fresh_db "$tpl" "$s"
    [[ $s = none || $s = pg_ivm || $s = trigger || $s = statement || $s = immediate_same ]] || before=$(refresh_counts)
    [ "$s" != statement ] || script="statement_$script"
    out=$(pgbench_run "$c" "$SECS" "$script")
    tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' <<<"$out")
    xacts=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
    [ -n "$tps" ] || { echo "$out" >&2; die "$group $s: pgbench gave no result"; }
    stale=$(stale_rows "$s")
    if [ "$s" = async ] || [ "$s" = batched ]; then
        read -r waitok waitms <<<"$(wait_fresh)"
        stalew=$(stale_rows "$s")
        [ "$waitok" = t ] && [ "$stalew" = 0 ] ||
            BUGS+=("$group, repetition $rep, async: pgview_wait $waitok, then $stalew stale rows")
    elif [ "$s" = manual ]; then
        # nothing refreshes during the run (capture only); the keys it kept must do
        run_psql -c "SELECT pgview_refresh_pending('user_stats')" >/dev/null
        stalew=$(stale_rows "$s")
        [ "$stalew" = 0 ] || BUGS+=("$group, repetition $rep, manual: $stalew stale rows after pgview_refresh_pending")
    elif [ "$stale" != — ] && [ "$stale" != 0 ]; then
        BUGS+=("$group, repetition $rep, $s: $stale stale rows after the writers stopped")
    fi
    local refreshes="—"
    if [[ $s != none && $s != pg_ivm && $s != trigger && $s != statement && $s != immediate_same ]]; then
        after=$(refresh_counts)
        refreshes=$(awk -v b="$before" -v a="$after" 'BEGIN { split(b, x, " "); split(a, y, " ")
            printf "%d full, %d incremental (%d keys)", y[1] - x[1], y[2] - x[2], y[3] - x[3] }')
    fi
    TPS[$group.$rep.$s]=$tps
    DETAIL+="| $group | $rep | $s | $tps | $xacts | $refreshes | $stale | $waitok $waitms | $stalew |"$'\n'
    log "$group, repetition $rep, $s: $tps TPS, $xacts transactions, refreshes: $refreshes, stale $stale, after pgview_wait $stalew"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "—" }'; }
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d; /—/d' | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) { print "—"; exit }
        printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
median_of() { # GROUP SETUP: median TPS
    local r vals=""
    for ((r = 1; r <= REPEAT; r++)); do vals+=" ${TPS[$1.$r.$2]:-—}"; done
    median "$vals"
}
median_ratio() { # GROUP SETUP BASE: median of per-repetition ratios
    local r vals=""
    for ((r = 1; r <= REPEAT; r++)); do vals+=" $(ratio "${TPS[$1.$r.$2]:-0}" "${TPS[$1.$r.$3]:-0}")"; done
    median "$vals"
}
# interleave GROUP TEMPLATE SCRIPT CLIENTS SETUP...: REPEAT repetitions, the order rotating.
interleave() {
    local group=$1 tpl=$2 script=$3 c=$4 r i
    shift 4
    local setups=("$@")
    for ((r = 1; r <= REPEAT; r++)); do
        for ((i = 0; i < ${#setups[@]}; i++)); do
            pgbench_setup "$group" "$r" "${setups[$(((i + r - 1) % ${#setups[@]}))]}" "$tpl" "$script" "$c"
        done
    done
}
met() { # VALUE OP TARGET
    if ((SMOKE)); then echo "n/a (smoke)"; elif [ "$1" = — ]; then echo "—"
    elif awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { exit !(op == ">=" ? v >= t : v <= t) }'; then echo yes
    else echo "**no**"; fi
}

# timed SQL: milliseconds of one statement (autocommit, commit included), server-side.
timed() {
    printf '%s\n' "SELECT clock_timestamp() AS t0 \\gset" "$1;" \
        "SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 2);" | run_psql | tail -1
}

# --- 1. commit mode vs no view -----------------------------------------------------------
wanted() { [[ " $SECTIONS " == *" $1 "* ]]; }
COMMIT_SETUPS=(none commit trigger statement)
((HAS_IVM)) && COMMIT_SETUPS+=(pg_ivm)
if ((SMOKE)); then
    COMMIT_GROUPS=("W2 mixed.pgb|w2_small|mixed.pgb|8" "W2 large insert_large.pgb|w2_large|insert_large.pgb|8")
else
    COMMIT_GROUPS=()
    for c in 1 8; do
        COMMIT_GROUPS+=("W2 insert.pgb|w2_small|insert.pgb|$c" "W2 mixed.pgb|w2_small|mixed.pgb|$c"
            "W2 large insert_large.pgb|w2_large|insert_large.pgb|$c")
    done
fi
wanted commit || COMMIT_GROUPS=()
COMMIT_TABLE="| workload | clients | no view TPS | commit mode TPS | ratio to no view | hand-written trigger TPS | commit / trigger | hand-written statement TPS | commit / statement (target >= 0.9) | met? | pg_ivm TPS | commit / pg_ivm (target >= 2 at 8 clients) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"
for g in "${COMMIT_GROUPS[@]}"; do
    IFS='|' read -r name tpl script c <<<"$g"
    group="$name, ${c}c, commit"
    log "$group: ${COMMIT_SETUPS[*]}, $REPEAT repetition(s) of $SECS s"
    interleave "$group" "$tpl" "$script" "$c" "${COMMIT_SETUPS[@]}"
    rc=$(median_ratio "$group" commit none)
    rs=$(median_ratio "$group" commit statement)
    if ((HAS_IVM)); then ivm="$(median_of "$group" pg_ivm) | $(median_ratio "$group" commit pg_ivm)"; else ivm="skipped | —"; fi
    COMMIT_TABLE+=$'\n'"| $name | $c | $(median_of "$group" none) | $(median_of "$group" commit) | $rc | $(median_of "$group" trigger) | $(median_ratio "$group" commit trigger) | $(median_of "$group" statement) | $rs | $(met "$rs" ">=" 0.9) | $ivm |"
done

# --- 2. async, debounce 0, 8 clients --------------------------------------------------------
ASYNC_GROUPS=("W2 large insert_large.pgb|w2_large|insert_large.pgb|8")
((SMOKE)) || ASYNC_GROUPS=("W2 insert.pgb|w2_small|insert.pgb|8" "${ASYNC_GROUPS[@]}")
wanted async || ASYNC_GROUPS=()
ASYNC_TABLE="| workload | clients | no view TPS | async TPS | ratio (median) | target | met? | manual TPS (capture only) | manual ratio | batched TPS (debounce 50 ms) | batched ratio |
| --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |"
for g in "${ASYNC_GROUPS[@]}"; do
    IFS='|' read -r name tpl script c <<<"$g"
    group="$name, ${c}c, async"
    log "$group: none async manual batched (manual: the capture alone, nothing refreshed during the run; batched: debounce 50 ms), $REPEAT repetition(s) of $SECS s"
    interleave "$group" "$tpl" "$script" "$c" none async manual batched
    ra=$(median_ratio "$group" async none)
    if [ "$tpl" = w2_large ]; then target=">= 0.75"; ok=$(met "$ra" ">=" 0.75); else target="report"; ok="—"; fi
    ASYNC_TABLE+=$'\n'"| $name | $c | $(median_of "$group" none) | $(median_of "$group" async) | $ra | $target | $ok | $(median_of "$group" manual) | $(median_ratio "$group" manual none) | $(median_of "$group" batched) | $(median_ratio "$group" batched none) |"
done

# --- 5. mode 'immediate' vs pg_ivm ------------------------------------------------------------
IMMEDIATE_SETUPS=(none immediate immediate_same)
((HAS_IVM)) && IMMEDIATE_SETUPS+=(pg_ivm)
IMMEDIATE_GROUPS=()
wanted immediate && for c in 1 8; do IMMEDIATE_GROUPS+=("W2 insert.pgb|w2_small|insert.pgb|$c"); done
IMMEDIATE_TABLE="| workload | clients | no view TPS | immediate TPS (user_stats) | ratio to no view | immediate TPS (pg_ivm's view) | ratio to no view | pg_ivm TPS | ratio to no view | immediate, same view / pg_ivm (target >= 1) | met? |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
for g in "${IMMEDIATE_GROUPS[@]}"; do
    IFS='|' read -r name tpl script c <<<"$g"
    group="$name, ${c}c, immediate"
    log "$group: ${IMMEDIATE_SETUPS[*]}, $REPEAT repetition(s) of $SECS s"
    interleave "$group" "$tpl" "$script" "$c" "${IMMEDIATE_SETUPS[@]}"
    if ((HAS_IVM)); then
        ri=$(median_ratio "$group" immediate_same pg_ivm)
        ivm="$(median_of "$group" pg_ivm) | $(median_ratio "$group" pg_ivm none) | $ri | $(met "$ri" ">=" 1)"
    else
        ivm="skipped | — | — | —"
    fi
    IMMEDIATE_TABLE+=$'\n'"| $name | $c | $(median_of "$group" none) | $(median_of "$group" immediate) | $(median_ratio "$group" immediate none) | $(median_of "$group" immediate_same) | $(median_ratio "$group" immediate_same none) | $ivm |"
done

# Commit-to-view latency under 8 writers (async): a probe connection INSERTs for user 0,
# then times pgview_wait server-side, until the writers are gone (test/bench/w1/run.sh's method).
write_probe() {
    local i
    for ((i = 1; i <= $1; i++)); do
        printf '%s\n' "INSERT INTO orders(user_id, total) VALUES (0, 9.99);" \
            "SELECT s.ok, round(extract(epoch FROM clock_timestamp() - s.t0) * 1000, 3) AS ms" \
            "  FROM (SELECT statement_timestamp() AS t0, pgview_wait('user_stats', '60 seconds') AS ok OFFSET 0) s \\gset" \
            "SELECT :'ok', :'ms', coalesce((SELECT order_count FROM user_stats WHERE user_id = 0), 0) >= $i;"
        ((i < 5)) || printf '%s\n' \
            "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'pgbench') AS done \\gset" \
            "\\if :done" "\\q" "\\endif"
    done
}
LATENCY_TABLE="| workload | writers | samples | p50 ms | p95 ms | max ms | target p95 | met? | refreshes in the run | timed out / row missing |
| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |"
for g in "${ASYNC_GROUPS[@]}"; do
    for lat in async batched; do
        IFS='|' read -r name tpl script c <<<"$g"
        [ "$lat" = async ] || name="$name (debounce 50 ms)"
        log "$name: commit-to-view latency, $lat, $c writers, $LSECS s"
        fresh_db "$tpl" "$lat" probe
        before=$(refresh_counts)
        write_probe $((SMOKE ? 5 : LSECS * 500)) >"$TMP/probe.sql"
        (pgbench_run "$c" "$LSECS" "$script" >"$TMP/latency_pgbench.txt") &
        pid=$!
        for ((i = 0; i < 200; i++)); do
            (($(run_psql -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'") >= c)) && break
            sleep 0.05
        done
        run_psql -F' ' <"$TMP/probe.sql" >"$TMP/probe.txt" || die "$name: the latency probe failed"
        wait "$pid" || true
        after=$(refresh_counts)
        read -r n p50 p95 pmax timeouts missing <<<"$(awk '$1 == "t" || $1 == "f" { n++; ms[n] = $2; if ($1 != "t") to++; if ($3 != "t") miss++ }
            END { if (n == 0) { print 0, "—", "—", "—", 0, 0; exit }
                for (i = 2; i <= n; i++) { v = ms[i]; for (j = i - 1; j >= 1 && ms[j] > v; j--) ms[j + 1] = ms[j]; ms[j + 1] = v }
                r50 = int(n * 0.50); if (r50 < n * 0.50) r50++; r95 = int(n * 0.95); if (r95 < n * 0.95) r95++
                printf "%d %.1f %.1f %.1f %d %d\n", n, ms[r50], ms[r95], ms[n], to + 0, miss + 0 }' "$TMP/probe.txt")"
        ((timeouts == 0 && missing == 0)) || BUGS+=("$name latency run: $timeouts pgview_wait timed out, $missing probe rows missing after it")
        [ "$(wait_fresh | cut -d' ' -f1)" = t ] && [ "$(stale_rows async)" = 0 ] || BUGS+=("$name latency run: stale after pgview_wait")
        refreshes=$(awk -v b="$before" -v a="$after" 'BEGIN { split(b, x, " "); split(a, y, " ")
            printf "%d full, %d incremental", y[1] - x[1], y[2] - x[2] }')
        if [ "$tpl" = w2_large ] && [ "$lat" = async ]; then target="<= 5"; ok=$(met "$p95" "<=" 5); else target="report"; ok="—"; fi
        LATENCY_TABLE+=$'\n'"| $name | $c | $n | $p50 | $p95 | $pmax | $target | $ok | $refreshes | $timeouts / $missing |"
        log "$name latency: $n samples, p50 $p50 ms, p95 $p95 ms, max $pmax ms ($refreshes)"
    done
done

# --- 3. refresh time against the number of affected keys ----------------------------------------
if wanted keys; then
touch_keys() { # N: one transaction inserting an order for each of N distinct random users
    run_psql -c "INSERT INTO orders(user_id, total) SELECT id, 1.00 FROM users ORDER BY random() LIMIT $1"
}
log "refresh time against affected keys ($KEYS of $LUSERS users), manual mode, $KEY_REPEAT repetition(s)"
fresh_db w2_large manual
FULL_ONCE=$(timed "SELECT pgview_refresh('user_stats')")
# Untimed warm-up: a new watch's first refresh is full, and the first keyed one plans.
touch_keys 1
run_psql -c "SELECT pgview_refresh_pending('user_stats')" >/dev/null
KEYS_TABLE="| affected keys | pgview_refresh_pending ms (median) | of which incremental | keys refreshed | pgview_refresh (full) ms (median) | pending / full |
| ---: | ---: | --- | ---: | ---: | ---: |"
CROSS="—" ALL_INCS=0
for k in $KEYS; do
    kt="" ft="" incs=0 keys=0
    for ((r = 1; r <= KEY_REPEAT; r++)); do
        for which in $( ((r % 2)) && echo "pending full" || echo "full pending"); do
            touch_keys "$k"
            run_psql -c "CHECKPOINT"
            if [ "$which" = pending ]; then
                before=$(refresh_counts)
                kt+=" $(timed "SELECT pgview_refresh_pending('user_stats')")"
                after=$(refresh_counts)
                read -r di dk <<<"$(awk -v b="$before" -v a="$after" 'BEGIN { split(b, x, " "); split(a, y, " "); print y[2] - x[2], y[3] - x[3] }')"
                incs=$((incs + di)); keys=$((keys + dk))
            else
                ft+=" $(timed "SELECT pgview_refresh('user_stats')")"
                run_psql -c "SELECT pgview_refresh_pending('user_stats')" >/dev/null  # whatever the full one left pending
            fi
        done
    done
    ALL_INCS=$((ALL_INCS + incs))
    s=$(stale_rows manual)
    [ "$s" = 0 ] || BUGS+=("$k affected keys: $s stale rows after the refreshes")
    mk=$(median "$kt") mf=$(median "$ft")
    rk=$(ratio "$mk" "$mf")
    [ "$CROSS" != — ] || ! awk -v a="$mk" -v b="$mf" 'BEGIN { exit !(a >= b) }' || CROSS=$k
    KEYS_TABLE+=$'\n'"| $k | $mk | $incs of $KEY_REPEAT | $((keys / KEY_REPEAT)) | $mf | $rk |"
    log "$k keys: pgview_refresh_pending $mk ms ($incs incremental), pgview_refresh $mf ms"
done
if ((ALL_INCS == 0)); then CROSS="— (no keyed refresh happened: pgview_refresh_pending refreshed in full)"
elif [ "$CROSS" = — ]; then CROSS="— (the keyed refresh stayed faster up to $k keys)"
else CROSS="$CROSS affected keys"; fi

fi
# --- 4. COPY into a watched source ------------------------------------------------------------
if wanted copy; then
log "COPY of $COPY_ROWS rows into orders (W2 large)"
psql_db w2_large -c "COPY (SELECT 1 + floor(random() * $LUSERS)::int, round((random() * 100)::numeric, 2)
    FROM generate_series(1, $COPY_ROWS)) TO '$TMP/files/copy.tsv'"
COPY_SETUPS=(none commit async trigger)
# pg_ivm's maintenance of one large COPY grows faster than its rows: up to a bound.
IVM_COPY_MAX=${W2_IVM_COPY_MAX:-20000}
if ((HAS_IVM && COPY_ROWS <= IVM_COPY_MAX)); then COPY_SETUPS+=(pg_ivm)
elif ((HAS_IVM)); then IVM_NOTE+="; its COPY run skipped: $COPY_ROWS rows > W2_IVM_COPY_MAX = $IVM_COPY_MAX (its time grows faster than the rows)"; fi
declare -A COPYMS WAITMS
for ((r = 1; r <= REPEAT; r++)); do
    for ((i = 0; i < ${#COPY_SETUPS[@]}; i++)); do
        s=${COPY_SETUPS[$(((i + r - 1) % ${#COPY_SETUPS[@]}))]}
        fresh_db w2_large "$s"
        COPYMS[$r.$s]=$(timed "COPY orders(user_id, total) FROM '$TMP/files/copy.tsv'")
        WAITMS[$r.$s]="—"
        if [ "$s" = async ]; then
            read -r ok ms <<<"$(wait_fresh)"
            WAITMS[$r.$s]=$ms
            [ "$ok" = t ] || BUGS+=("COPY, repetition $r, async: pgview_wait timed out")
        fi
        st=$(stale_rows "$s")
        [ "$st" = — ] || [ "$st" = 0 ] || BUGS+=("COPY, repetition $r, $s: $st stale rows")
        log "COPY, repetition $r, $s: ${COPYMS[$r.$s]} ms$([ "$s" != async ] || echo ", then pgview_wait ${WAITMS[$r.$s]} ms"); stale $st"
        DETAIL+="| COPY $COPY_ROWS rows | $r | $s | ${COPYMS[$r.$s]} ms | — | — | $st | ${WAITMS[$r.$s]} | — |"$'\n'
    done
done
COPY_TABLE="| setup | COPY ms (median) | ratio to no view (median) | ratio to the hand-written trigger (median) | target | met? | then pgview_wait ms |
| --- | ---: | ---: | ---: | --- | --- | ---: |"
for s in "${COPY_SETUPS[@]}"; do
    vals="" rats="" trats="" waits=""
    for ((r = 1; r <= REPEAT; r++)); do
        vals+=" ${COPYMS[$r.$s]}"; rats+=" $(ratio "${COPYMS[$r.$s]}" "${COPYMS[$r.none]}")"; waits+=" ${WAITMS[$r.$s]}"
        trats+=" $(ratio "${COPYMS[$r.$s]}" "${COPYMS[$r.trigger]}")"
    done
    mr=$(median "$rats") mt=$(median "$trats")
    case $s in
    commit) target="<= 1.1 of the trigger"; ok=$(met "$mt" "<=" 1.1) ;;
    async) target="<= 1.10 of no view"; ok=$(met "$mr" "<=" 1.10) ;;
    *) target="—"; ok="—" ;;
    esac
    COPY_TABLE+=$'\n'"| $s | $(median "$vals") | $mr | $mt | $target | $ok | $(median "$waits") |"
done

fi
# --- report -------------------------------------------------------------------------------------
REPORT=""
wanted commit && REPORT+="Commit mode, table view watched vs no view (TPS: pgbench's \"without initial connection time\"; ratios per repetition, median of $REPEAT):

$COMMIT_TABLE

"
wanted async && REPORT+="Async mode, debounce 0, vs no view:

$ASYNC_TABLE

Commit-to-view latency, async, under the writers (server-side: from the start of pgview_wait right after the probe's INSERT to its return; nearest-rank percentiles):

$LATENCY_TABLE

"
wanted immediate && REPORT+="Mode 'immediate' vs pg_ivm (both maintain the view in the writer's transaction, at the end of each statement; ratios per repetition, median of $REPEAT):

$IMMEDIATE_TABLE

"
wanted keys && REPORT+="Refresh time against the number of affected keys (W2 large, $LUSERS users; manual mode; one full refresh right after set-up: $FULL_ONCE ms); the keyed refresh first takes as long as the full one at: $CROSS:

$KEYS_TABLE

"
wanted copy && REPORT+="COPY of $COPY_ROWS rows into orders (W2 large), commit included:

$COPY_TABLE

"
REPORT+="$IVM_NOTE

Every run:

| group | repetition | setup | TPS / time | transactions | refreshes | stale after the writers | pgview_wait (ok, ms) | stale after pgview_wait |
| --- | ---: | --- | ---: | ---: | --- | ---: | --- | ---: |
${DETAIL%$'\n'}"
echo
echo "$REPORT"
echo
if ((${#BUGS[@]})); then
    echo "CORRECTNESS FAILURES:"; printf '  - %s\n' "${BUGS[@]}"
else
    echo "Every view was fresh after the writers (commit mode, pg_ivm) or after pgview_wait (async)."
fi

if ((!SMOKE)); then
    {
        echo
        echo "## Run of $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo
        echo "Appended by \`test/bench/w2/run.sh\`. PostgreSQL $PGVERSION (throwaway server: fsync $DURABILITY, shared_preload_libraries = '$PRELOAD', max_connections 50, otherwise defaults); $(nproc) CPUs; pgview_auto: $BUILD; W2 $USERS users / $ORDERS orders, W2 large $LUSERS users / $LORDERS orders; $SECS s per pgbench run (\`pgbench -n -c C -j 2 -T $SECS\`), $REPEAT interleaved repetitions; each run from a fresh copy of the loaded data; measurements: $SECTIONS."
        echo
        echo "$REPORT"
        echo
        if ((${#BUGS[@]})); then echo "**Correctness failures:**"; printf -- '- %s\n' "${BUGS[@]}"
        else echo "Every view was fresh after the writers (commit mode, pg_ivm) or after pgview_wait (async)."; fi
    } >>"$HERE/RESULTS.md"
    log "appended to $HERE/RESULTS.md"
fi
((${#BUGS[@]} == 0)) || exit 1
