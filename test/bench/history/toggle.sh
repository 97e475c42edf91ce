#!/usr/bin/env bash
# pgview_auto — what the refresh history costs a writer in commit mode (issue 24:
# at most 2% of W2's TPS), measured so that a shared machine's slow drifts
# cancel out: one long pgbench run (W2's insert.pgb, user_stats in commit mode)
# while pgview_auto.history is switched on and off every few seconds
# (ALTER SYSTEM and a reload: the running sessions take it at their next
# statement). pgbench reports its TPS every second (--progress-timestamp); a
# second in which the setting changed, or that began within 0.5 s of a change,
# is left out, and every other second is put in the window of its state. Each
# window with the history on is compared with the mean of the windows beside it
# with the history off (and each off window likewise), so a change of the
# machine's speed slower than two windows cancels; the median of those ratios,
# their quartiles, and the ratio of all on seconds to all off seconds are
# reported. (run.sh measures the same by interleaved runs of 20 s, whose
# ratios the neighbours of a shared machine move by +-15%.)
#
# Usage:
#   test/bench/history/toggle.sh          full run, appends its table to RESULTS.md here
#   test/bench/history/toggle.sh --smoke  small sizes, 12 s, windows of 2 s: checks that
#                                         the view is fresh and that the history grows
#                                         only while on; judges no timing, writes nothing
# Environment (full run defaults; --smoke uses the values in brackets):
#   HIST_USERS, HIST_ORDERS  W2's size (1000, 100000) [100, 5000]
#   HIST_CLIENTS             pgbench clients, one run each (8) [2]
#   TOGGLE_SECONDS           length of each run (600) [12]
#   TOGGLE_WINDOW            seconds per state (5) [2]
#   HIST_PORT                the server's port (default: a free one from 54390)
#   HIST_SKIP_BUILD          1: use the installed extension as it is
#   TOGGLE_SQL               SQL run in the database after the set-up, for an experiment
#                            (say, what the history costs without its index); the
#                            results' heading quotes it
# Exit status: 0 done; 1 a view was stale or the history wrong; 3 the run failed.
set -Eeuo pipefail
trap 'exit 3' ERR

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$HERE/../../../scripts/lib.sh"
bench_args "$@"

if ((SMOKE)); then
    USERS=100 ORDERS=5000 CLIENTS="2" SECONDS_TOTAL=12 WINDOW=2
else
    USERS=${HIST_USERS:-1000} ORDERS=${HIST_ORDERS:-100000} CLIENTS=${HIST_CLIENTS:-8}
    SECONDS_TOTAL=${TOGGLE_SECONDS:-600} WINDOW=${TOGGLE_WINDOW:-5}
fi
log() { say "$*" >&2; }
die() { echo "history/toggle.sh: $*" >&2; exit 3; }
for v in USERS ORDERS SECONDS_TOTAL WINDOW; do
    [[ ${!v} =~ ^[0-9]+$ ]] && ((${!v} >= 1)) || { echo "toggle.sh: $v must be a whole number >= 1" >&2; exit 64; }
done

# shellcheck source=test/bench/history/setup.sh
source "$HERE/setup.sh"
EXPERIMENT=${TOGGLE_SQL:-}
[ -z "$EXPERIMENT" ] || psql_db "$DB" -c "$EXPERIMENT" >/dev/null

logged() {
    psql_db "$DB" -c "SELECT pgview_flush_history()" >/dev/null
    psql_db "$DB" -c "SELECT (SELECT count(*) FROM pgview_refresh_log) + (SELECT dropped FROM pgview_history_buffer())"
}

bad=0
ROWS=()
for c in $CLIENTS; do
    set_history off
    progress="$TMP/progress.$c" switches="$TMP/switches.$c"
    : >"$switches"
    as_pg pgbench -n -h "$TMP" -p "$PORT" -U postgres -c "$c" -j "$c" -T "$SECONDS_TOTAL" --progress=1 \
        --progress-timestamp -f "$TMP/files/insert.pgb" "$DB" >"$progress.out" 2>"$progress" &
    bench=$!
    sleep 1
    state=off
    before=$(logged)
    while kill -0 "$bench" 2>/dev/null; do
        state=$([ "$state" = on ] && echo off || echo on)
        echo "$(date +%s.%N) $state" >>"$switches"
        set_history "$state"
        sleep "$WINDOW"
    done
    wait "$bench" || die "pgbench failed: $(tail -3 "$progress")"
    set_history on
    stale=$(psql_db "$DB" <"$WORKLOADS/check_fresh.sql" | tail -1)
    [ "$stale" = 0 ] || { log "stale rows after the run ($c clients): $stale"; bad=1; }
    after=$(logged)
    ((after > before)) || { log "the history did not grow while on"; bad=1; }
    result=$(python3 - "$progress" "$switches" "$WINDOW" <<'PY'
import re, statistics, sys
progress, switches, window = sys.argv[1], sys.argv[2], float(sys.argv[3])
changes = [(float(t), s) for t, s in (l.split() for l in open(switches) if l.strip())]
seconds = []  # (end time, tps)
for line in open(progress):
    m = re.match(r"progress: ([0-9.]+) s, ([0-9.]+) tps", line)
    if m:
        seconds.append((float(m.group(1)), float(m.group(2))))
def state_of(start, end):
    """The state in force over [start, end], or None when it changed within it (or 0.5 s before)."""
    current = None
    for t, s in changes:
        if t <= start - 0.5:
            current = s
        elif t < end:
            return None
    return current
windows = []  # [state, [tps...]] in order
for end, tps in seconds:
    s = state_of(end - 1.0, end)
    if s is None:
        continue
    index = sum(1 for t, _ in changes if t <= end - 1.5)
    if not windows or windows[-1][0] != index:
        windows.append([index, s, []])
    windows[-1][2].append(tps)
means = [(s, statistics.mean(v)) for _, s, v in windows if v]
ratios = []  # on / mean of the neighbouring off windows
for i, (s, m) in enumerate(means):
    if s != "on":
        continue
    near = [means[j][1] for j in (i - 1, i + 1) if 0 <= j < len(means) and means[j][0] == "off"]
    if near:
        ratios.append(m / statistics.mean(near))
on = [m for s, m in means if s == "on"]
off = [m for s, m in means if s == "off"]
if len(ratios) < 2 or not on or not off:
    print("none")
    sys.exit(0)
q = statistics.quantiles(ratios, n=4)
print(f"{statistics.mean(off):.1f} {statistics.mean(on):.1f} {statistics.median(ratios):.4f} {q[0]:.4f} {q[2]:.4f} "
      f"{statistics.mean(on) / statistics.mean(off):.4f} {len(ratios)} {sum(len(v) for _, _, v in windows)}")
PY
)
    [ "$result" != none ] || die "too few windows to compare (a longer TOGGLE_SECONDS?)"
    read -r off on median q1 q3 overall pairs used <<<"$result"
    log "clients $c: history off $off TPS, on $on TPS; on/off per window pair: median $median (quartiles $q1, $q3) of $pairs; all seconds: $overall ($used seconds used)"
    ROWS+=("| $c | $SECONDS_TOTAL s, windows of $WINDOW s | $off | $on | $median | $q1 – $q3 | $pairs | $overall |")
done
dropped=$(psql_db "$DB" -c "SELECT dropped FROM pgview_history_buffer()")

if ((SMOKE)); then
    printf '%s\n' "${ROWS[@]}"
    exit $bad
fi
{
    echo
    echo "## $(date -u +%Y-%m-%d) — switched on and off within one run (toggle.sh); $BUILD"
    echo
    echo "W2 ($USERS users, $ORDERS orders), insert.pgb, user_stats in commit mode, fsync off, PostgreSQL"
    echo "$(psql_db postgres -c 'SHOW server_version'). pgview_auto.history switched every window; each on window's"
    echo "mean TPS over the mean of the off windows beside it. Target: ratio >= 0.98. Entries the buffer"
    echo "dropped (full): $dropped.${EXPERIMENT:+ Experiment, run after the set-up: \`$EXPERIMENT\`.}"
    echo
    echo "| clients | run | TPS history off | TPS history on | on/off (median of window pairs) | quartiles | pairs | all on seconds / all off seconds |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
    printf '%s\n' "${ROWS[@]}"
} >>"$HERE/RESULTS.md"
log "appended to $HERE/RESULTS.md"
exit $bad
