#!/usr/bin/env bash
# pgview_auto — W1 async throughput at 8 clients, measured in interleaved repetitions.
#
# run.sh measures each setup once, in a fixed order; on a shared 2-core machine one
# 10 s pgbench run at 8 clients varies by more than the 5% the async target allows (runs
# of the same setup, back to back, have differed by up to a third). This script measures
# only the 8-client single-INSERT throughput of four setups, from fresh data each time:
#   (a) unwatched
#   (e) pgview_watch('user_stats', mode => 'async')                         debounce 0
#   (f) pgview_watch('user_stats', mode => 'async', debounce => '1 second')
#   (m) pgview_watch('user_stats', mode => 'manual')   for information: the writers'
#       own cost (capture trigger, commit bookkeeping) without any refresh
# in R repetitions whose order rotates (a e f m, e f m a, ...), so that drift over the
# run hits every setup alike. Per repetition: the ratios e/a, f/a, m/a of TPS; reported:
# every run, and the median of the per-repetition ratios. After each async run,
# pgview_wait, then w1_check_fresh.sql must give 0 (else exit 1).
#
# Usage:
#   test/bench/w1/async_pairs.sh          writes ASYNC_PAIRS.md here
#   test/bench/w1/async_pairs.sh --smoke  2 s runs, 1 repetition; judges nothing, writes nothing
# Environment:
#   W1_SECONDS     seconds per pgbench run (default 10)
#   W1_REPEAT      repetitions (default 5)
#   W1_WORKLOADS   the reference workloads (default ../shared/bench, else test/bench/reference)
#   W1_SKIP_BUILD  1: use the installed extension as it is
# Exit status: 0 the view was fresh after every async run; 1 it was not; 3 the run failed.
set -Eeuo pipefail
trap 'exit 3' ERR

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR/../../..
# shellcheck source=scripts/lib.sh
source "$HERE/../../../scripts/lib.sh"
bench_args "$@"
if ((SMOKE)); then SECS=2; REPEAT=1; else SECS=${W1_SECONDS:-10}; REPEAT=${W1_REPEAT:-5}; fi
[[ $SECS =~ ^[0-9]+$ && $REPEAT =~ ^[0-9]+$ ]] && ((SECS >= 1 && REPEAT >= 1)) ||
    { echo "async_pairs.sh: W1_SECONDS and W1_REPEAT must be whole numbers >= 1" >&2; exit 64; }
WORKLOADS=$(cd "${W1_WORKLOADS:-$REFERENCE_WORKLOADS}" && pwd)
SETUPS=(a e f m)
declare -A WATCH=(
    [a]=""
    [m]="SELECT pgview_watch('user_stats', mode => 'manual')"
    [e]="SELECT pgview_watch('user_stats', mode => 'async')"
    [f]="SELECT pgview_watch('user_stats', mode => 'async', debounce => '1 second')"
)
log() { say "$*" >&2; }

COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
ensure_packages "${BUILD_PACKAGES[@]}" >&2
if [ "${W1_SKIP_BUILD:-0}" = 1 ]; then BUILD="the installed build (W1_SKIP_BUILD=1; work tree at $COMMIT)"
else build_and_install >&2; BUILD="built and installed by this run from $COMMIT"; fi

throwaway_dir w1_pairs
PORT=$(free_port 54380)
# As run.sh: fsync off (start_cluster), the worker preloaded, otherwise defaults.
start_cluster "$TMP" "$PORT" "shared_preload_libraries = 'pgview_auto'" "max_connections = 50" >&2
# pgbench reads its script as the server's OS user, who may not enter the
# clone (a mode-700 home directory): a copy it can read.
cp "$WORKLOADS/w1_insert.pgb" "$TMP/"
[ "$(id -u)" -eq 0 ] && chown "$PGUSER_OS" "$TMP/w1_insert.pgb"
DB=pgview_w1_pairs
cluster_psql "$TMP" "$PORT" -q -c "CREATE DATABASE $DB"
db_psql() { cluster_psql "$TMP" "$PORT" -d "$DB" -v ON_ERROR_STOP=1 -qAt "$@"; }
db_psql -c "CREATE EXTENSION pgview_auto"
PGVERSION=$(db_psql -c "SHOW server_version")

declare -A TPS
STALE=()
for ((r = 0; r < REPEAT; r++)); do
    for ((i = 0; i < ${#SETUPS[@]}; i++)); do
        s=${SETUPS[$(((i + r) % ${#SETUPS[@]}))]}
        { echo "SET client_min_messages = warning;"; cat "$WORKLOADS/w1_setup.sql"; } | db_psql >/dev/null
        [ -z "${WATCH[$s]}" ] || db_psql -c "${WATCH[$s]}" >/dev/null
        db_psql -c "CHECKPOINT"
        out=$(as_pg "$PGBIN/pgbench" -h "$TMP" -p "$PORT" -n -f "$TMP/w1_insert.pgb" \
            -c 8 -j 2 -T "$SECS" "$DB" 2>&1)
        tps=$(awk '/without initial connection time/ { print $3 }' <<<"$out")
        [ -n "$tps" ] || { echo "$out" >&2; exit 3; }
        TPS[$r.$s]=$tps
        if [ -n "${WATCH[$s]}" ]; then
            [ "$s" = m ] || [ "$(db_psql -c "SELECT pgview_wait('user_stats', '60 seconds')")" = t ] || STALE+=("repetition $((r + 1)) ($s): pgview_wait timed out")
            [ "$s" = m ] || stale=$(db_psql <"$WORKLOADS/w1_check_fresh.sql" | tail -1)
            [ "$s" = m ] || [ "$stale" = 0 ] || STALE+=("repetition $((r + 1)) ($s): $stale rows differ after pgview_wait")
            # Else the next w1_setup.sql's DROP would keep the watch as orphaned, and its
            # CREATE MATERIALIZED VIEW bring it back: (a) would not be unwatched.
            db_psql -c "SELECT pgview_unwatch('user_stats')" >/dev/null
        fi
        log "repetition $((r + 1))/$REPEAT ($s): $tps TPS"
    done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g |
    awk '{ v[NR] = $1 } END { printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ROWS="" RE="" RF="" RM=""
for ((r = 0; r < REPEAT; r++)); do
    order=""
    for ((i = 0; i < ${#SETUPS[@]}; i++)); do order+="${SETUPS[$(((i + r) % ${#SETUPS[@]}))]} "; done
    e=$(ratio "${TPS[$r.e]}" "${TPS[$r.a]}"); f=$(ratio "${TPS[$r.f]}" "${TPS[$r.a]}")
    m=$(ratio "${TPS[$r.m]}" "${TPS[$r.a]}")
    RE+=" $e"; RF+=" $f"; RM+=" $m"
    ROWS+="| $((r + 1)) | ${order% } | ${TPS[$r.a]} | ${TPS[$r.e]} | ${TPS[$r.f]} | ${TPS[$r.m]} | $e | $f | $m |"$'\n'
done
ME=$(median "$RE"); MF=$(median "$RF"); MM=$(median "$RM")
met() { if ((SMOKE)); then echo "n/a (smoke)"; elif awk -v a="$1" 'BEGIN { exit !(a >= 0.95) }'; then echo yes; else echo "**no**"; fi; }
TABLE="| target: async TPS / unwatched TPS, 8 clients, single INSERT (median of $REPEAT repetitions) | ratio | >= 0.95 met? |
| --- | ---: | --- |
| (e) async, debounce 0 | $ME | $(met "$ME") |
| (f) async, debounce 1 s | $MF | $(met "$MF") |
| for information, (m) manual mode: capture and commit bookkeeping, no refresh | $MM | — |

| repetition | order | (a) unwatched TPS | (e) debounce 0 TPS | (f) debounce 1 s TPS | (m) manual TPS | e / a | f / a | m / a |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${ROWS%$'\n'}"
echo "$TABLE"
if ((${#STALE[@]})); then printf 'STALE: %s\n' "${STALE[@]}"; else echo "user_stats was fresh after pgview_wait after every async run."; fi

if ((!SMOKE)); then
    {
        echo "# W1 async throughput at 8 clients, interleaved repetitions"
        echo
        echo "Written by \`test/bench/w1/async_pairs.sh\`; rerun it rather than editing this file."
        echo
        echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); PostgreSQL $PGVERSION (throwaway cluster: fsync off, shared_preload_libraries = 'pgview_auto', otherwise defaults); $(nproc) CPUs"
        echo "- pgview_auto: $BUILD"
        echo "- each run: fresh data (\`w1_setup.sql\`), the watch, CHECKPOINT, \`pgbench -n -f w1_insert.pgb -c 8 -j 2 -T $SECS\` (TPS without initial connection time); the order of the four setups rotates from one repetition to the next; ratios are taken within a repetition, and the median of them is reported"
        echo
        echo "$TABLE"
        echo
        if ((${#STALE[@]})); then printf -- '- STALE: %s\n' "${STALE[@]}"
        else echo "user_stats was fresh (w1_check_fresh.sql: 0) after pgview_wait after every async run."; fi
    } >"$HERE/ASYNC_PAIRS.md"
    log "wrote $HERE/ASYNC_PAIRS.md"
fi
((${#STALE[@]} == 0)) || exit 1
