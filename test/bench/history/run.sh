#!/usr/bin/env bash
# pgview_auto — what the refresh history costs a writer in commit mode (issue 24:
# at most 2% of W2's TPS). W2 (../shared/workloads/w2, else
# test/bench/reference/workloads/w2): user_stats a table view watched in commit
# mode, insert.pgb; pgview_auto.history on against off on one throwaway
# preloaded server, in interleaved repetitions (the order alternates), the
# ratio on/off taken within each repetition and its median reported. After
# each run with the history on, its rows are counted (written by the worker,
# or counted as dropped by the buffer); the view must be fresh after every run.
# Beside TPS, each run measures the server's CPU time per transaction (all of
# the cluster's processes, from /proc: the postmaster's reaped children, the
# backends and workers still running), a measure of the history's cost that the
# neighbours of a shared machine disturb much less than TPS.
#
# Usage:
#   test/bench/history/run.sh          full run, appends its table to RESULTS.md here
#   test/bench/history/run.sh --smoke  small sizes, 2 s runs, one repetition: checks
#                                      the view fresh and the history written;
#                                      judges no timing, writes nothing
# Environment (full run defaults; --smoke uses the values in brackets):
#   HIST_USERS, HIST_ORDERS  W2's size (1000, 100000) [100, 5000]
#   HIST_SECONDS             seconds per pgbench run (20) [2]
#   HIST_REPEAT              interleaved repetitions (5) [1]
#   HIST_CLIENTS             pgbench clients (1 8) [2]
#   HIST_PORT                the server's port (default: a free one from 54390)
#   HIST_SKIP_BUILD          1: use the installed extension as it is
# Exit status: 0 done; 1 a view was stale or the history empty; 3 the run failed.
set -Eeuo pipefail
trap 'exit 3' ERR

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$HERE/../../../scripts/lib.sh"
bench_args "$@"

if ((SMOKE)); then
    USERS=100 ORDERS=5000 SECS=2 REPEAT=1 CLIENTS="2"
else
    USERS=${HIST_USERS:-1000} ORDERS=${HIST_ORDERS:-100000} SECS=${HIST_SECONDS:-20}
    REPEAT=${HIST_REPEAT:-5} CLIENTS=${HIST_CLIENTS:-"1 8"}
fi
log() { say "$*" >&2; }
die() { echo "history/run.sh: $*" >&2; exit 3; }

# shellcheck source=test/bench/history/setup.sh
source "$HERE/setup.sh"

# The cluster's CPU time so far, in clock ticks: the postmaster's own and its
# reaped children's, plus its children still running.
POSTMASTER=$(head -1 "$TMP/data/postmaster.pid")
cpu_ticks() {
    local total=0 pid f
    f=($(sed 's/^.*) //' "/proc/$POSTMASTER/stat"))
    total=$((f[11] + f[12] + f[13] + f[14]))
    for pid in $(ps -o pid= --ppid "$POSTMASTER"); do
        f=($(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null)) || continue
        ((${#f[@]} > 12)) && total=$((total + f[11] + f[12]))
    done
    echo "$total"
}
# run CLIENTS: "TPS CPU-microseconds-per-transaction" of one pgbench run
run() {
    local out t0 t1 txns tps
    t0=$(cpu_ticks)
    out=$(as_pg pgbench -n -h "$TMP" -p "$PORT" -U postgres -c "$1" -j "$1" -T "$SECS" -f "$TMP/files/insert.pgb" "$DB" 2>&1)
    sleep 0.5 # (the run's backends exit and are reaped)
    t1=$(cpu_ticks)
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")
    txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
    [ -n "$tps" ] && [ -n "$txns" ] && ((txns > 0)) || return 0
    echo "$tps $(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$txns" 'BEGIN {printf "%.2f", d * 1e6 / hz / n}')"
}
logged() {
    psql_db "$DB" -c "SELECT pgview_flush_history()" >/dev/null
    psql_db "$DB" -c "SELECT (SELECT count(*) FROM pgview_refresh_log) + (SELECT dropped FROM pgview_history_buffer())"
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.4f\n", (a[NR/2]+a[NR/2+1])/2}'; }

bad=0
ROWS=(); CPU_ROWS=()
for c in $CLIENTS; do
    ratios=(); ons=(); offs=(); cpu_ratios=(); cpu_ons=(); cpu_offs=()
    for ((r = 1; r <= REPEAT; r++)); do
        order="on off"; ((r % 2)) || order="off on"
        for h in $order; do
            set_history "$h"
            before=$(logged)
            read -r tps cpu <<<"$(run "$c")"
            [ -n "$tps" ] || die "pgbench gave no TPS"
            after=$(logged)
            stale=$(psql_db "$DB" <"$WORKLOADS/check_fresh.sql" | tail -1)
            [ "$stale" = 0 ] || { log "stale rows after a run ($h, $c clients): $stale"; bad=1; }
            if [ "$h" = on ]; then
                ons+=("$tps"); cpu_ons+=("$cpu")
                ((after > before)) || { log "the history did not grow with the history on"; bad=1; }
            else
                offs+=("$tps"); cpu_offs+=("$cpu")
                ((after == before)) || { log "the history grew with the history off"; bad=1; }
            fi
            log "clients $c, repetition $r, history $h: $tps TPS, $cpu us CPU per transaction (history rows + dropped: $before -> $after)"
        done
        ratios+=("$(awk -v a="${ons[-1]}" -v b="${offs[-1]}" 'BEGIN {printf "%.4f", a / b}')")
        cpu_ratios+=("$(awk -v a="${cpu_ons[-1]}" -v b="${cpu_offs[-1]}" 'BEGIN {printf "%.4f", a / b}')")
    done
    on=$(printf '%s\n' "${ons[@]}" | median); off=$(printf '%s\n' "${offs[@]}" | median)
    ratio=$(printf '%s\n' "${ratios[@]}" | median)
    cpu_on=$(printf '%s\n' "${cpu_ons[@]}" | median); cpu_off=$(printf '%s\n' "${cpu_offs[@]}" | median)
    cpu_ratio=$(printf '%s\n' "${cpu_ratios[@]}" | median)
    ROWS+=("| $c | $off | $on | $ratio | ${ratios[*]} |")
    CPU_ROWS+=("| $c | $cpu_off | $cpu_on | $cpu_ratio | ${cpu_ratios[*]} |")
    log "clients $c: history off $off TPS, on $on TPS, ratio on/off (median of repetitions) $ratio; CPU per transaction on/off $cpu_ratio"
done
dropped=$(psql_db "$DB" -c "SELECT dropped FROM pgview_history_buffer()")

if ((SMOKE)); then
    printf '%s\n' "${ROWS[@]}" "${CPU_ROWS[@]}"
    exit $bad
fi
{
    echo
    echo "## $(date -u +%Y-%m-%d) — $BUILD"
    echo
    echo "W2 ($USERS users, $ORDERS orders), insert.pgb, user_stats in commit mode, $SECS s per run, $REPEAT interleaved"
    echo "repetitions, fsync off, PostgreSQL $(psql_db postgres -c 'SHOW server_version'). Target: ratio >= 0.98."
    echo "Entries the buffer dropped (full) over the whole run: $dropped."
    echo
    echo "| clients | TPS history off | TPS history on | on/off (median) | per repetition |"
    echo "| --- | --- | --- | --- | --- |"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "The server's CPU time per transaction (microseconds, all of the cluster's processes; on/off"
    echo "above 1 is the history's cost, target <= 1.02):"
    echo
    echo "| clients | CPU history off | CPU history on | on/off (median) | per repetition |"
    echo "| --- | --- | --- | --- | --- |"
    printf '%s\n' "${CPU_ROWS[@]}"
} >>"$HERE/RESULTS.md"
log "appended to $HERE/RESULTS.md"
exit $bad
