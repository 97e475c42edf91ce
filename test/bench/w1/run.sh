#!/usr/bin/env bash
# pgview_auto — W1 benchmark: a materialized view over a growing table.
#
# Builds and installs the extension, starts one throwaway PostgreSQL cluster and measures,
# side by side in one run, the reference workload W1 (w1_setup.sql: users, orders and the
# matview user_stats) under four setups:
#   (a) unwatched                       the matview is never refreshed (the speed of light)
#   (b) naive trigger recipe            naive_trigger.sql: REFRESH in an AFTER ... FOR EACH
#                                       STATEMENT trigger
#   (c) pgview_auto, commit mode        pgview_watch('user_stats'): refresh once per
#                                       transaction at commit, CONCURRENTLY when possible
#   (d) pgview_auto, commit mode,       pgview_watch('user_stats', concurrently => false)
#       concurrently => false
# For each setup: w1_setup.sql again (fresh data), the setup installed, then
#   pgbench -n -c C -j 2 -T W1_SECONDS
# with w1_insert.pgb (one single-row INSERT per transaction) and w1_insert10.pgb (here:
# BEGIN; ten single-row INSERTs; COMMIT;), each at 1 and at 8 clients. Recorded per run:
# TPS (without initial connection time), transactions processed, failed transactions,
# aborted clients, w1_check_fresh.sql's mismatched_rows right after pgbench stops, and for
# (c)/(d) the refreshes per transaction (pgview_status().refresh_count delta / transactions
# processed). The server log's ERROR/WARNING/FATAL lines are counted per setup.
#
# Usage:
#   test/bench/w1/run.sh            full benchmark, writes RESULTS.md here
#   test/bench/w1/run.sh --smoke    2 s runs, single INSERT at 1 and 8 clients, setups (b)
#                                   and (c) only; fails (exit 1) unless commit mode leaves
#                                   0 mismatched rows; writes nothing (~30-60 s)
# Environment:
#   W1_SECONDS       seconds per pgbench run (default 10; always 2 with --smoke)
#   W1_WORKLOADS     the reference workloads (default $REPO/../shared/bench)
#   W1_SKIP_BUILD    1: use the installed extension as it is (no make / make install)
# Exit status: 0 commit mode left the matview fresh after every run; 1 it did not (a
#              correctness bug); 3 the run itself failed (64: bad arguments).
set -Eeuo pipefail
# Any failing command ends the run with status 3: status 1 is kept for a stale matview.
trap 'exit 3' ERR

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR/../../..
# shellcheck source=scripts/lib.sh
source "$HERE/../../../scripts/lib.sh"

SMOKE=0
for arg in "$@"; do
    case $arg in
    --smoke) SMOKE=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $arg (try --help)" >&2; exit 64 ;;
    esac
done

if ((SMOKE)); then
    SECS=2
    SETUPS=(b c)
    RUNS=(single:1 single:8)
else
    SECS=${W1_SECONDS:-10}
    SETUPS=(a b c d)
    RUNS=(single:1 single:8 ten:1 ten:8)
fi
WORKLOADS=${W1_WORKLOADS:-$REPO/../shared/bench}
DB=pgview_w1_bench
RESULTS=$HERE/RESULTS.md
NAIVE_REFERENCE_STALE=14   # README.md of the reference workloads: naive recipe, 8 clients

declare -A SETUP_NAME=(
    [a]="(a) unwatched"
    [b]="(b) naive trigger recipe"
    [c]="(c) pgview_auto commit mode, default (auto CONCURRENTLY)"
    [d]="(d) pgview_auto commit mode, concurrently => false"
)
declare -A SCRIPT_FILE=([single]=w1_insert.pgb [ten]=w1_insert10.pgb)

log() { say "$*" >&2; }
die() { echo "run.sh: $*" >&2; exit 3; }

for f in w1_setup.sql w1_insert.pgb naive_trigger.sql w1_check_fresh.sql; do
    [ -r "$WORKLOADS/$f" ] || die "reference workload $WORKLOADS/$f not found (set W1_WORKLOADS)"
done
WORKLOADS=$(cd "$WORKLOADS" && pwd)
[ -r "$HERE/w1_insert10.pgb" ] || die "$HERE/w1_insert10.pgb not found"
if ! [[ $SECS =~ ^[0-9]+$ ]] || ((SECS < 1)); then die "W1_SECONDS must be a whole number >= 1 (got $SECS)"; fi

# What is measured: the work tree as it is when the build starts (others may commit meanwhile).
# Only what goes into the build counts (the pg_regress tests in sql/ do not).
BUILD_PATHS=(src 'sql/pgview_auto--*.sql' pgview_auto.control Makefile)
COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
CHANGED=$( { git -C "$REPO" diff --name-only HEAD -- "${BUILD_PATHS[@]}"
    git -C "$REPO" ls-files --others --exclude-standard -- "${BUILD_PATHS[@]}"; } 2>/dev/null |
    sort -u | paste -sd ' ' || true)
[ -z "$CHANGED" ] || COMMIT+=" with uncommitted changes to $CHANGED"
ensure_packages "${BUILD_PACKAGES[@]}" >&2
if [ "${W1_SKIP_BUILD:-0}" != 1 ]; then build_and_install >&2; fi

# --- the throwaway cluster --------------------------------------------------------
TMP=$(mktemp -d /tmp/pgview_w1_bench.XXXXXX)
cleanup() {
    stop_cluster "$TMP" || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
PORT=$(free_port 54320)
log "starting a throwaway cluster on port $PORT ($TMP)"
start_cluster "$TMP" "$PORT" "max_connections = 50"

# pgbench reads its scripts as the postgres OS user: copies it can read.
mkdir -p "$TMP/scripts" "$TMP/out"
cp "$WORKLOADS/w1_insert.pgb" "$HERE/w1_insert10.pgb" "$TMP/scripts/"
[ "$(id -u)" -eq 0 ] && chown -R "$PGUSER_OS" "$TMP/scripts" "$TMP/out"

# psql against the benchmark database; stdin scripts are opened by this shell.
db_psql() { cluster_psql "$TMP" "$PORT" -d "$DB" -v ON_ERROR_STOP=1 "$@"; }
server_log_mark() { db_psql -q -c "DO \$\$BEGIN RAISE LOG 'w1-bench: %', '$1'; END\$\$"; }

cluster_psql "$TMP" "$PORT" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB"
db_psql -q -c "CREATE EXTENSION pgview_auto"
PGVERSION=$(db_psql -At -c "SHOW server_version")

stale_rows() { db_psql -At <"$WORKLOADS/w1_check_fresh.sql"; }
# refresh_count and failures of user_stats in pgview_status() ("0 0" before any refresh).
refresh_stats() {
    db_psql -At -F' ' -c "SELECT coalesce(sum(refresh_count), 0), coalesce(sum(failures), 0)
        FROM pgview_status() WHERE matview = 'user_stats'::regclass"
}

install_setup() {
    local s=$1
    server_log_mark "setup $s: w1_setup.sql"
    { echo "SET client_min_messages = warning;"; cat "$WORKLOADS/w1_setup.sql"; } | db_psql -q
    case $s in
    a) ;;
    b) db_psql -q <"$WORKLOADS/naive_trigger.sql" ;;
    c) db_psql -q -At -c "SELECT pgview_watch('user_stats')" >/dev/null ;;
    d) db_psql -q -At -c "SELECT pgview_watch('user_stats', concurrently => false)" >/dev/null ;;
    esac
    local stale
    stale=$(stale_rows)
    [ "$stale" = 0 ] || die "setup $s: user_stats is not fresh right after w1_setup.sql ($stale rows)"
    server_log_mark "setup $s: running"
}
remove_setup() {
    case $1 in
    c | d) db_psql -q -At -c "SELECT pgview_unwatch('user_stats')" >/dev/null ;;
    esac
}

# --- measuring ----------------------------------------------------------------------
declare -A TPS XACTS FAILED ABORTED LAT STALE RPT RFAIL RC ABORTMSG LASTCONC
# run_one SETUP WORKLOAD CLIENTS
run_one() {
    local s=$1 w=$2 c=$3 key="$1.$2.$3" out rc=0 before=(0 0) after=(0 0) failed
    out="$TMP/out/$key.txt"
    case $s in c | d) read -r -a before <<<"$(refresh_stats)" ;; esac
    (cd "$TMP" && as_pg pgbench -n -c "$c" -j 2 -T "$SECS" -h "$TMP" -p "$PORT" -U postgres \
        -f "$TMP/scripts/${SCRIPT_FILE[$w]}" "$DB") >"$out" 2>&1 || rc=$?
    STALE[$key]=$(stale_rows)   # right after the writers stopped
    case $s in c | d) read -r -a after <<<"$(refresh_stats)" ;; esac

    TPS[$key]=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' "$out")
    XACTS[$key]=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
    FAILED[$key]=${failed:-0}
    LAT[$key]=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$out")
    ABORTED[$key]=$(grep -c 'aborted in command' "$out" || true)
    ABORTMSG[$key]=$(grep -m1 'aborted in command' "$out" | sed 's/^pgbench: error: //' || true)
    RC[$key]=$rc
    if [ -z "${TPS[$key]}" ] || [ -z "${XACTS[$key]}" ]; then
        cat "$out" >&2
        die "$key: pgbench gave no result (exit status $rc)"
    fi
    case $s in
    c | d)
        RFAIL[$key]=$((after[1] - before[1]))
        RPT[$key]=$(awk -v r=$((after[0] - before[0])) -v x="${XACTS[$key]}" \
            'BEGIN { if (x > 0) printf "%.3f", r / x; else print "n/a" }')
        ;;
    *) RPT[$key]="—"; RFAIL[$key]="—" ;;
    esac
    printf '  %-4s %-6s %d client(s): %9s TPS  %8s xacts  %4s failed  %s aborted  stale %5s  refreshes/xact %s%s\n' \
        "$s" "$w" "$c" "${TPS[$key]}" "${XACTS[$key]}" "${FAILED[$key]}" "${ABORTED[$key]}" \
        "${STALE[$key]}" "${RPT[$key]}" "$( ((rc == 0)) || echo "  (pgbench exit status $rc)")" >&2
    if [ -n "${ABORTMSG[$key]}" ]; then echo "       ${ABORTMSG[$key]}" >&2; fi
}

log "W1: ${#SETUPS[@]} setups x ${#RUNS[@]} runs of $SECS s (pgbench -n -c C -j 2 -T $SECS)"
for s in "${SETUPS[@]}"; do
    log "${SETUP_NAME[$s]}"
    install_setup "$s"
    for r in "${RUNS[@]}"; do
        run_one "$s" "${r%%:*}" "${r##*:}"
    done
    case $s in
    c | d) LASTCONC[$s]=$(db_psql -At -c "SELECT last_concurrently FROM pgview_status()
               WHERE matview = 'user_stats'::regclass") ;;
    esac
    remove_setup "$s"
done
server_log_mark "done"

# --- the server log -------------------------------------------------------------------
# ERROR / WARNING / FATAL / PANIC lines, numbers replaced by N, counted per setup.
LOGSUMMARY=$(awk '
    /w1-bench: setup [a-d]:/ { match($0, /setup [a-d]/); phase = substr($0, RSTART + 6, 1) }
    /w1-bench: done/ { phase = "after" }
    /(ERROR|WARNING|FATAL|PANIC):/ {
        msg = $0; sub(/^.*(ERROR|WARNING|FATAL|PANIC):  */, "", msg)
        match($0, /(ERROR|WARNING|FATAL|PANIC):/); lvl = substr($0, RSTART, RLENGTH - 1)
        gsub(/[0-9]+/, "N", msg)
        n[(phase == "" ? "start" : phase) "\t" lvl "\t" msg]++
    }
    END { for (k in n) print k "\t" n[k] }' "$TMP/server.log" | sort)

# --- reporting --------------------------------------------------------------------------
fmt_tps() { awk -v t="$1" 'BEGIN { if (t == "") print "—"; else if (t >= 100) printf "%.0f", t; else printf "%.1f", t }'; }
cell() { local k="$1.$2.$3"; [ -n "${TPS[$k]:-}" ] && fmt_tps "${TPS[$k]}" || echo "—"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "—"; else if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "—" && a != "" && a >= b) }'; }
verdict() { if "$@"; then echo yes; else echo "**no**"; fi; }
join_runs() { # join_runs ARRAYNAME SETUP: the values of the four runs, "/" separated
    local -n arr=$1
    local parts=() r
    for r in "${RUNS[@]}"; do parts+=("${arr[$2.${r%%:*}.${r##*:}]:-—}"); done
    local joined
    joined=$(IFS=/; echo "${parts[*]}")
    echo "${joined//\// / }"
}
sum_runs() {
    local -n arr=$1
    local t=0 r
    for r in "${RUNS[@]}"; do t=$((t + ${arr[$2.${r%%:*}.${r##*:}]:-0})); done
    echo "$t"
}

TABLE="| setup | TPS 1 client, single INSERT | TPS 8 clients, single INSERT | TPS 1 client, 10-INSERT txn | TPS 8 clients, 10-INSERT txn | stale rows after 8 writers (single / 10-INSERT) | refreshes per transaction (single 1c / 8c, 10-INSERT 1c / 8c) | failed txns / aborted clients |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for s in "${SETUPS[@]}"; do
    stale="${STALE[$s.single.8]:-—}"
    ((SMOKE)) || stale+=" / ${STALE[$s.ten.8]:-—}"
    TABLE+="
| ${SETUP_NAME[$s]} | $(cell "$s" single 1) | $(cell "$s" single 8) | $(cell "$s" ten 1) | $(cell "$s" ten 8) | $stale | $(join_runs RPT "$s") | $(sum_runs FAILED "$s") / $(sum_runs ABORTED "$s") |"
done

DETAIL="| setup | workload | clients | TPS | transactions | failed | aborted clients | pgbench exit | latency avg (ms) | stale rows after | refreshes per txn | refresh failures |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for s in "${SETUPS[@]}"; do
    for r in "${RUNS[@]}"; do
        w=${r%%:*}; c=${r##*:}; k="$s.$w.$c"
        DETAIL+="
| ${s} | ${SCRIPT_FILE[$w]} | $c | ${TPS[$k]} | ${XACTS[$k]} | ${FAILED[$k]} | ${ABORTED[$k]} | ${RC[$k]} | ${LAT[$k]:-—} | ${STALE[$k]} | ${RPT[$k]} | ${RFAIL[$k]} |"
    done
done

# Correctness: commit mode must leave user_stats fresh after every run.
BUGS=()
for s in c d; do
    for r in "${RUNS[@]}"; do
        k="$s.${r%%:*}.${r##*:}"
        [ -z "${STALE[$k]:-}" ] && continue
        [ "${STALE[$k]}" = 0 ] || BUGS+=("$k: ${STALE[$k]} mismatched rows in user_stats right after pgbench stopped")
        [ "${XACTS[$k]}" -gt 0 ] || BUGS+=("$k: no transaction was processed, freshness not tested")
    done
done
for s in c d; do
    [ -n "${LASTCONC[$s]:-}" ] || continue
    want=t; [ "$s" = d ] && want=f
    [ "${LASTCONC[$s]}" = "$want" ] ||
        BUGS+=("setup $s: pgview_status().last_concurrently = ${LASTCONC[$s]}, expected $want")
done

if ((!SMOKE)); then
    T=${TPS[b.ten.1]}; T8=${TPS[b.ten.8]}; S1=${TPS[b.single.1]}; S8=${TPS[b.single.8]}
    declare -A R
    for s in c d; do
        R[$s.ten.1]=$(ratio "${TPS[$s.ten.1]}" "$T"); R[$s.ten.8]=$(ratio "${TPS[$s.ten.8]}" "$T8")
        R[$s.single.1]=$(ratio "${TPS[$s.single.1]}" "$S1"); R[$s.single.8]=$(ratio "${TPS[$s.single.8]}" "$S8")
    done
    TARGETS="| target (ratios in this run) | (c) auto CONCURRENTLY | met? | (d) concurrently => false | met? |
| --- | ---: | --- | ---: | --- |
| 10-INSERT transactions, 1 client: commit-mode TPS / naive TPS (>= 5) | ${R[c.ten.1]} | $(verdict ge "${R[c.ten.1]}" 5) | ${R[d.ten.1]} | $(verdict ge "${R[d.ten.1]}" 5) |
| 10-INSERT transactions, 8 clients: commit-mode TPS / naive TPS (>= 5) | ${R[c.ten.8]} | $(verdict ge "${R[c.ten.8]}" 5) | ${R[d.ten.8]} | $(verdict ge "${R[d.ten.8]}" 5) |
| single INSERT, 1 client: commit-mode TPS / naive TPS (>= 1) | ${R[c.single.1]} | $(verdict ge "${R[c.single.1]}" 1) | ${R[d.single.1]} | $(verdict ge "${R[d.single.1]}" 1) |
| single INSERT, 8 clients: commit-mode TPS / naive TPS (>= 1) | ${R[c.single.8]} | $(verdict ge "${R[c.single.8]}" 1) | ${R[d.single.8]} | $(verdict ge "${R[d.single.8]}" 1) |
| stale rows after 8 writers, single INSERT (0; naive: ${STALE[b.single.8]} in this run, reference $NAIVE_REFERENCE_STALE) | ${STALE[c.single.8]} | $(verdict [ "${STALE[c.single.8]}" = 0 ]) | ${STALE[d.single.8]} | $(verdict [ "${STALE[d.single.8]}" = 0 ]) |
| stale rows after 8 writers, 10-INSERT txn (0; naive: ${STALE[b.ten.8]} in this run) | ${STALE[c.ten.8]} | $(verdict [ "${STALE[c.ten.8]}" = 0 ]) | ${STALE[d.ten.8]} | $(verdict [ "${STALE[d.ten.8]}" = 0 ]) |"
fi

if [ -n "$LOGSUMMARY" ]; then
    LOGTABLE="| during setup | level | message (numbers as N) | count |
| --- | --- | --- | ---: |
$(awk -F'\t' '{ gsub(/\|/, "\\|", $3); printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' <<<"$LOGSUMMARY")"
else
    LOGTABLE="No ERROR, WARNING, FATAL or PANIC line in the server log."
fi

echo
echo "$TABLE"
if ((!SMOKE)); then echo; echo "$TARGETS"; fi
echo
echo "$DETAIL"
echo
echo "Server log:"
echo "$LOGTABLE"
echo
if ((${#BUGS[@]})); then
    echo "COMMIT MODE CORRECTNESS FAILURES:"
    printf '  - %s\n' "${BUGS[@]}"
else
    echo "Commit mode left user_stats fresh (0 mismatched rows) after every run."
fi

if ((!SMOKE)); then
    CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    [ -n "$CPU" ] || CPU=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
    if [ "${W1_SKIP_BUILD:-0}" = 1 ]; then
        BUILD="the installed build, not rebuilt by this run (W1_SKIP_BUILD=1; work tree at $COMMIT)"
    else
        BUILD="built and installed by this run from $COMMIT (as of the build, at the start of the run)"
    fi
    {
        echo "# W1 benchmark: a materialized view over a growing table"
        echo
        echo "Written by \`test/bench/w1/run.sh\` (full run); rerun it rather than editing this file."
        echo
        echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "- PostgreSQL: $PGVERSION (throwaway cluster: fsync off, max_connections 50, otherwise defaults)"
        echo "- machine: $(nproc) CPUs (nproc), ${CPU:-unknown CPU}"
        echo "- pgview_auto: $BUILD"
        echo "- each run: \`pgbench -n -c C -j 2 -T $SECS\` ($SECS s per run), C = 1 or 8; \`w1_insert.pgb\` (one single-row INSERT per transaction, reference workload) or \`test/bench/w1/w1_insert10.pgb\` (BEGIN; ten single-row INSERTs; COMMIT)"
        echo "- per setup: \`w1_setup.sql\` again (fresh data: 1,000 users, 100,000 orders), the setup installed, then the four runs in the order of the detail table; the rows keep growing across a setup's runs"
        echo "- TPS: pgbench's \"without initial connection time\"; stale rows: \`w1_check_fresh.sql\` right after pgbench stopped; refreshes per transaction: delta of \`pgview_status().refresh_count\` / transactions processed"
        echo "- (a) is never refreshed: its stale rows only show how much the data moved"
        echo
        echo "$TABLE"
        echo
        echo "## Targets"
        echo
        echo "$TARGETS"
        echo
        echo "## Every run"
        echo
        echo "$DETAIL"
        echo
        echo "## Server log"
        echo
        echo "$LOGTABLE"
        echo
        if ((${#BUGS[@]})); then
            echo "**Commit mode correctness failures:**"
            echo
            printf -- '- %s\n' "${BUGS[@]}"
        else
            echo "Commit mode left user_stats fresh (0 mismatched rows) after every run."
        fi
    } >"$RESULTS"
    log "wrote $RESULTS"
fi

((${#BUGS[@]} == 0)) || exit 1
exit 0
