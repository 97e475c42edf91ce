#!/usr/bin/env bash
# pgview_auto — dependency-catalog benchmark.
#
# Builds and installs the extension, starts a throwaway PostgreSQL cluster, loads the
# reference catalog (gen_deps.py: 100 tables and N views, every tenth a matview) and
# measures, side by side in one run, pgview_auto's catalog functions against the
# pure-SQL baselines of the reference workloads:
#   pgview_deps(true)          vs deps_closure_cte.sql     (target: >= 20x faster)
#   pgview_deps()              vs deps_direct.sql          (target: no slower)
#   pgview_dependents('dg.t7') vs deps_dependents_cte.sql  (target: at most half the time)
#   pgview_refresh_order()     over the N/10 matviews      (target: < 100 ms)
#   peak backend memory (VmHWM) of the closure, in a fresh connection
# and checks that the extension returns exactly the rows plain SQL computes (a mismatch
# fails the run, exit 1). Times are server-side (clock_timestamp() around EXECUTE), the
# median of several runs, each in a fresh connection: "cold" (the backend's first query)
# and "warm" (the same query again); the targets are judged on the warm times.
#
# Usage:
#   test/bench/deps/run.sh            full benchmark (N=10000), writes RESULTS.md here
#   DEPS_N=300 test/bench/deps/run.sh --smoke
#                                     everything once at a small size, checks the
#                                     counts, writes nothing (a smoke test, ~10-30 s)
# Environment:
#   DEPS_N           number of views (default 10000; 300 with --smoke)
#   DEPS_REPS        runs of each fast query (default 5; 1 with --smoke)
#   DEPS_CTE_REPS    runs of the slow closure CTE baseline (default 2; 1 with --smoke)
#   DEPS_WORKLOADS   the reference workloads (default ../shared/bench, else test/bench/reference)
#   DEPS_SKIP_BUILD  1: use the installed extension as it is (no make / make install)
#   DEPS_STRICT      1: exit 2 when a performance target is not met
# Exit status: 0 all rows agree (and, with DEPS_STRICT=1, every target met);
#              1 the extension and the SQL baselines disagree; 2 a target missed
#              (DEPS_STRICT=1 only); anything else: the run itself failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR/../../..
# shellcheck source=scripts/lib.sh
source "$HERE/../../../scripts/lib.sh"

bench_args "$@"

if ((SMOKE)); then
    N=${DEPS_N:-300}; REPS=${DEPS_REPS:-1}; CTE_REPS=${DEPS_CTE_REPS:-1}
else
    N=${DEPS_N:-10000}; REPS=${DEPS_REPS:-5}; CTE_REPS=${DEPS_CTE_REPS:-2}
fi
WORKLOADS=${DEPS_WORKLOADS:-$REFERENCE_WORKLOADS}
DEP_REL=dg.t7          # the relation deps_dependents_cte.sql asks about
DB=pgview_deps_bench
RESULTS=$HERE/RESULTS.md

log() { say "$*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }

for f in gen_deps.py deps_direct.sql deps_closure_cte.sql deps_dependents_cte.sql; do
    [ -r "$WORKLOADS/$f" ] || die "reference workload $WORKLOADS/$f not found (set DEPS_WORKLOADS)"
done
WORKLOADS=$(cd "$WORKLOADS" && pwd)
if ! [[ $N =~ ^[0-9]+$ ]] || ((N < 10)); then die "DEPS_N must be a number >= 10 (got $N)"; fi
grep -q "'$DEP_REL'" "$WORKLOADS/deps_dependents_cte.sql" ||
    die "deps_dependents_cte.sql no longer asks about $DEP_REL; update DEP_REL in run.sh"

ensure_packages "${BUILD_PACKAGES[@]}" python3 >&2
if [ "${DEPS_SKIP_BUILD:-0}" != 1 ]; then build_and_install >&2; fi

# --- the throwaway cluster --------------------------------------------------------
throwaway_dir deps_bench
PORT=$(free_port 54320)
log "starting a throwaway cluster on port $PORT ($TMP)"
# autovacuum off: no background work during the timings; the catalogs are analyzed
# explicitly after loading instead.
start_cluster "$TMP" "$PORT" "autovacuum = off"

# psql against the benchmark database; stdin scripts are opened by this shell, so the
# postgres OS user needs no access to the repository.
db_psql() { cluster_psql "$TMP" "$PORT" -d "$DB" -v ON_ERROR_STOP=1 "$@"; }

cluster_psql "$TMP" "$PORT" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB"
db_psql -q <"$HERE/measure.sql"

# --- measuring ----------------------------------------------------------------------
# Each run opens a fresh connection and runs the query twice:
#  - cold: the first query of the backend. It pays for mapping the shared buffers that
#    hold the catalogs (~45 MB at N=10000) and for filling the catalog caches; its
#    memory figures are the "fresh connection" ones;
#  - warm: the same query again in the same connection; this is what the targets judge.
# The slow closure CTE runs once per connection (cold only; mapping costs ~40 ms of its
# ~20 s), and its cold time also stands for its warm time.
declare -A COLD WARM COUNT HWM_PEAK HWM_DELTA SHM_DELTA
# measure KEY QUERY [cold]: one run; appends the times (ms) to COLD[KEY] and WARM[KEY],
# keeps the highest VmHWM seen and the largest growths during the cold query, and fails
# when two runs of the same query disagree on the count.
measure() {
    local key=$1 query=$2 warm=1 out line kind ms n hb ha sb sa
    [ "${3:-}" = cold ] && warm=0
    out=$(db_psql -At -F' ' -v "q=$query" -v "warm=$warm" <<'SQL'
\o /dev/null
SELECT * FROM bench.measure('SELECT 1::bigint');
\o
SELECT 'cold', round(ms::numeric, 3), n, hwm_before_kb, hwm_after_kb, shmem_before_kb, shmem_after_kb
  FROM bench.measure(:'q');
\if :warm
SELECT 'warm', round(ms::numeric, 3), n, 0, 0, 0, 0 FROM bench.measure(:'q');
\endif
SQL
)
    while read -r kind ms n hb ha sb sa; do
        [ -n "${sa:-}" ] || die "measuring $key: unexpected output: $out"
        if [ -n "${COUNT[$key]:-}" ] && [ "${COUNT[$key]}" != "$n" ]; then
            die "$key returned $n rows, an earlier run returned ${COUNT[$key]}"
        fi
        COUNT[$key]=$n
        if [ "$kind" = cold ]; then
            COLD[$key]="${COLD[$key]:-} $ms"
            ((warm)) || WARM[$key]="${WARM[$key]:-} $ms"
            ((ha > ${HWM_PEAK[$key]:-0})) && HWM_PEAK[$key]=$ha
            ((ha - hb > ${HWM_DELTA[$key]:-0})) && HWM_DELTA[$key]=$((ha - hb))
            ((sa - sb > ${SHM_DELTA[$key]:-0})) && SHM_DELTA[$key]=$((sa - sb))
            line=$(printf '  %-16s cold %9.1f ms' "$key" "$ms")
            extra=$(printf '%9s rows  VmHWM %6.1f -> %6.1f MB (shared buffers %5.1f -> %5.1f MB)' \
                "$n" "$(kb_mb "$hb")" "$(kb_mb "$ha")" "$(kb_mb "$sb")" "$(kb_mb "$sa")")
        else
            WARM[$key]="${WARM[$key]:-} $ms"
            line+=$(printf '  warm %9.1f ms' "$ms")
        fi
    done <<<"$out"
    ((warm)) || line+=$(printf "%19s" "")
    echo "$line  $extra" >&2
}
kb_mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g |
    awk '{ a[NR] = $1 } END { printf "%.1f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

Q_CLOSURE_OURS="SELECT count(*) FROM pgview_deps(true)"
Q_DIRECT_OURS="SELECT count(*) FROM pgview_deps()"
Q_DEPENDENTS_OURS="SELECT count(*) FROM pgview_dependents('$DEP_REL')"
Q_ORDER_OURS="SELECT count(*) FROM pgview_refresh_order()"
Q_CLOSURE_SQL=$(cat "$WORKLOADS/deps_closure_cte.sql")
Q_DIRECT_SQL=$(cat "$WORKLOADS/deps_direct.sql")
Q_DEPENDENTS_SQL=$(cat "$WORKLOADS/deps_dependents_cte.sql")

# The SQL baselines read every view of the database, PostgreSQL's own ones in pg_catalog
# and information_schema (and pgview_auto's own views) included; pgview_auto's catalog
# leaves those out. Their share is what the baselines count before any user view exists.
db_psql -q -c "CREATE EXTENSION pgview_auto"

log "SQL baselines on the bare catalog (PostgreSQL's and pgview_auto's own views)"
measure sys_direct "$Q_DIRECT_SQL" cold
measure sys_closure "$Q_CLOSURE_SQL" cold

log "loading the catalog: gen_deps.py $N (autocommit, one statement per transaction)"
t0=$(date +%s.%N)
python3 "$WORKLOADS/gen_deps.py" "$N" | db_psql -q
db_psql -q -c "VACUUM (ANALYZE) pg_catalog.pg_class, pg_catalog.pg_depend, pg_catalog.pg_rewrite"
LOAD_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
log "loaded in $LOAD_S s"

log "timing ($REPS runs each, $CTE_REPS of the closure CTE; a fresh connection per run, interleaved)"
for ((r = 1; r <= REPS; r++)); do
    measure closure_ours "$Q_CLOSURE_OURS"
    if ((r <= CTE_REPS)); then measure closure_sql "$Q_CLOSURE_SQL" cold; fi
    measure direct_ours "$Q_DIRECT_OURS"
    measure direct_sql "$Q_DIRECT_SQL"
    measure dependents_ours "$Q_DEPENDENTS_OURS"
    measure dependents_sql "$Q_DEPENDENTS_SQL"
    measure order_ours "$Q_ORDER_OURS"
done

log "checking every row against plain SQL"
declare -A CHECK
EXAMPLES=()
while IFS='|' read -r kind name value; do
    case $kind in
    check) CHECK[$name]=$value ;;
    example) EXAMPLES+=("$name: $value") ;;
    esac
done < <(db_psql -q -At -F'|' -v "dep_rel=$DEP_REL" <"$HERE/verify.sql")
[ -n "${CHECK[order_violations]:-}" ] || die "verify.sql did not run to the end"

# --- judging ------------------------------------------------------------------------
FAILURES=()
must_be_zero() { local k; for k; do [ "${CHECK[$k]}" = 0 ] || FAILURES+=("$k = ${CHECK[$k]}"); done; }
must_be_zero direct_duplicates direct_only_ours direct_only_sql direct_bad_depth direct_bad_kind \
    closure_duplicates closure_only_ours closure_only_sql closure_depth_differs closure_bad_kind \
    dependents_only_ours dependents_only_sql dependents_depth_differs dependents_bad_kind \
    order_not_a_matview order_missing order_bad_positions order_violations

# The counts of the timed runs against the baselines' counts minus PostgreSQL's own views
# (and against verify.sql's own count of the same thing).
declare -A OURS BASE SYS UVIEWS ORACLE
OURS=([direct]=${COUNT[direct_ours]} [closure]=${COUNT[closure_ours]} [dependents]=${COUNT[dependents_ours]})
BASE=([direct]=${COUNT[direct_sql]} [closure]=${COUNT[closure_sql]} [dependents]=${COUNT[dependents_sql]})
SYS=([direct]=${COUNT[sys_direct]} [closure]=${COUNT[sys_closure]} [dependents]=0)
ORACLE=([direct]=${CHECK[direct_oracle_rows]} [closure]=${CHECK[closure_oracle_rows]}
    [dependents]=${CHECK[dependents_oracle_rows]})
for k in direct closure dependents; do
    UVIEWS[$k]=$((${BASE[$k]} - ${SYS[$k]}))
    [ "${OURS[$k]}" = "${UVIEWS[$k]}" ] ||
        FAILURES+=("$k: pgview_auto counts ${OURS[$k]}, the SQL baseline ${BASE[$k]} - ${SYS[$k]} = ${UVIEWS[$k]}")
    [ "${ORACLE[$k]}" = "${UVIEWS[$k]}" ] ||
        FAILURES+=("$k: verify.sql counts ${ORACLE[$k]}, the SQL baseline ${BASE[$k]} - ${SYS[$k]} = ${UVIEWS[$k]}")
done
NMAT=${CHECK[order_oracle_matviews]}
[ "${COUNT[order_ours]}" = "$NMAT" ] ||
    FAILURES+=("refresh order: ${COUNT[order_ours]} matviews, the catalog has $NMAT")

declare -A MED MEDC RATIO RATIOC
for k in closure_ours closure_sql direct_ours direct_sql dependents_ours dependents_sql order_ours; do
    MED[$k]=$(median "${WARM[$k]}")
    MEDC[$k]=$(median "${COLD[$k]}")
done
ratio() { awk -v b="$1" -v o="$2" 'BEGIN { if (o > 0) printf "%.1f", b / o; else print "inf" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
for k in closure direct dependents; do
    RATIO[$k]=$(ratio "${MED[${k}_sql]}" "${MED[${k}_ours]}")
    RATIOC[$k]=$(ratio "${MEDC[${k}_sql]}" "${MEDC[${k}_ours]}")
done
# The targets, on the warm medians (judged on full runs only: a smoke run's catalog is
# too small to judge).
declare -A VERDICT
MISSED=0
target() { # target NAME COMMAND...
    local name=$1; shift
    if ((SMOKE)); then VERDICT[$name]="n/a (smoke)"
    elif "$@"; then VERDICT[$name]=yes
    else VERDICT[$name]="**no**"; MISSED=1; fi
}
target closure ge "${RATIO[closure]}" 20
target direct ge "${RATIO[direct]}" 1
target dependents ge "${RATIO[dependents]}" 2
target order lt "${MED[order_ours]}" 100

mem() {
    printf 'peak %s MB; +%s MB, of which %s MB shared buffers' "$(kb_mb "${HWM_PEAK[$1]}")" \
        "$(kb_mb "${HWM_DELTA[$1]}")" "$(kb_mb "${SHM_DELTA[$1]}")"
}
ok() { [ "$1" = "$2" ] && echo yes || echo "**NO**"; }
set_check() {
    local s=0 k
    for k; do s=$((s + ${CHECK[$k]})); done
    if ((s == 0)); then echo identical; else echo "**$s rows differ**"; fi
}

TABLE=$(cat <<EOF
| metric (warm: median, server-side) | pgview_auto | SQL baseline | ratio | target | met? |
| --- | ---: | ---: | ---: | --- | --- |
| transitive closure: \`pgview_deps(true)\` vs \`deps_closure_cte.sql\` | ${MED[closure_ours]} ms | ${MED[closure_sql]} ms | ${RATIO[closure]}x | >= 20x faster | ${VERDICT[closure]} |
| direct edges: \`pgview_deps()\` vs \`deps_direct.sql\` | ${MED[direct_ours]} ms | ${MED[direct_sql]} ms | ${RATIO[direct]}x | no slower (>= 1x) | ${VERDICT[direct]} |
| dependents of $DEP_REL: \`pgview_dependents('$DEP_REL')\` vs \`deps_dependents_cte.sql\` | ${MED[dependents_ours]} ms | ${MED[dependents_sql]} ms | ${RATIO[dependents]}x | at most half the time (>= 2x) | ${VERDICT[dependents]} |
| refresh order of $NMAT matviews: \`pgview_refresh_order()\` | ${MED[order_ours]} ms | — | — | < 100 ms | ${VERDICT[order]} |
| backend memory (VmHWM) of the closure query in a fresh connection | $(mem closure_ours) | $(mem closure_sql) | — | (reported) | — |

| first query of a new connection (cold: median) | pgview_auto | SQL baseline | ratio |
| --- | ---: | ---: | ---: |
| transitive closure | ${MEDC[closure_ours]} ms | ${MEDC[closure_sql]} ms | ${RATIOC[closure]}x |
| direct edges | ${MEDC[direct_ours]} ms | ${MEDC[direct_sql]} ms | ${RATIOC[direct]}x |
| dependents of $DEP_REL | ${MEDC[dependents_ours]} ms | ${MEDC[dependents_sql]} ms | ${RATIOC[dependents]}x |
| refresh order | ${MEDC[order_ours]} ms | — | — |

| rows | pgview_auto | SQL baseline | of which PostgreSQL's own views | baseline, user views | row-by-row check | agree? |
| --- | ---: | ---: | ---: | ---: | --- | --- |
| direct edges | ${OURS[direct]} | ${BASE[direct]} | ${SYS[direct]} | ${UVIEWS[direct]} | $(set_check direct_only_ours direct_only_sql direct_bad_depth direct_bad_kind direct_duplicates) | $(ok "${OURS[direct]}" "${UVIEWS[direct]}") |
| transitive closure edges (with shortest depth) | ${OURS[closure]} | ${BASE[closure]} | ${SYS[closure]} | ${UVIEWS[closure]} | $(set_check closure_only_ours closure_only_sql closure_depth_differs closure_bad_kind closure_duplicates) | $(ok "${OURS[closure]}" "${UVIEWS[closure]}") |
| dependents of $DEP_REL (with depth) | ${OURS[dependents]} | ${BASE[dependents]} | 0 | ${BASE[dependents]} | $(set_check dependents_only_ours dependents_only_sql dependents_depth_differs dependents_bad_kind) | $(ok "${OURS[dependents]}" "${BASE[dependents]}") |
| matviews in refresh order (each after all it reads) | ${COUNT[order_ours]} | $NMAT | — | $NMAT | $(set_check order_not_a_matview order_missing order_bad_positions order_violations) | $(ok "${COUNT[order_ours]}" "$NMAT") |
EOF
)

echo
echo "$TABLE"
echo
if ((${#FAILURES[@]})); then
    echo "CORRECTNESS FAILURES:"
    printf '  - %s\n' "${FAILURES[@]}"
    if ((${#EXAMPLES[@]})); then echo "examples:"; printf '  - %s\n' "${EXAMPLES[@]}"; fi
else
    echo "All rows agree with plain SQL."
fi

if ((!SMOKE)); then
    PGVERSION=$(db_psql -At -c "SHOW server_version")
    SETTINGS=$(db_psql -At -F' = ' -c "SELECT name, setting || coalesce(unit, '') FROM pg_settings
        WHERE name IN ('work_mem', 'shared_buffers', 'jit', 'max_parallel_workers_per_gather') ORDER BY name" |
        paste -sd ';' | sed 's/;/; /g')
    CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    MEMTOTAL=$(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)
    EXTVERSION=$(db_psql -At -c "SELECT extversion FROM pg_extension WHERE extname = 'pgview_auto'")
    COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if ! git -C "$REPO" diff --quiet HEAD -- src sql Makefile 2>/dev/null ||
        [ -n "$(git -C "$REPO" ls-files --others --exclude-standard -- src sql 2>/dev/null)" ]; then
        COMMIT+=" with uncommitted changes in src/ or sql/"
    fi
    if [ "${DEPS_SKIP_BUILD:-0}" = 1 ]; then
        BUILD="the installed build, not rebuilt by this run (DEPS_SKIP_BUILD=1; work tree at $COMMIT)"
    else
        BUILD="built and installed by this run from $COMMIT"
    fi
    runs() { local t=${1# }; echo "${t// /, }"; }
    {
        echo "# Dependency-catalog benchmark"
        echo
        echo "Written by \`test/bench/deps/run.sh\` (full run); rerun it rather than editing this file."
        echo
        echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "- PostgreSQL: $PGVERSION ($SETTINGS; autovacuum off, catalogs analyzed after loading)"
        echo "- catalog: \`gen_deps.py $N\`: 100 tables, $N views of which $NMAT materialized (loaded in $LOAD_S s)"
        echo "- machine: $(nproc) CPUs, ${CPU:-unknown CPU}, $MEMTOTAL RAM"
        echo "- pgview_auto $EXTVERSION: $BUILD"
        echo "- method: server-side time (clock_timestamp() around EXECUTE in PL/pgSQL: parse, plan, execute, no client round trip); a fresh connection per run, the queries interleaved, $REPS runs each ($CTE_REPS for the closure CTE). In each connection the query runs twice: *cold* (the backend's first query: it maps the shared buffers holding the catalogs and fills its catalog caches) and *warm* (the same query again). The targets are judged on the warm medians. The closure CTE runs once per connection (cold; mapping costs ~40 ms of its ~20 s)."
        echo "- memory: VmHWM (peak resident set) of the backend from /proc/<pid>/status, read just before and just after the cold run in a fresh connection; the increase includes the shared buffers the query maps for the first time (the RssShmem growth, shown), the rest is the backend's own memory."
        echo "- row counts: the SQL baselines also count PostgreSQL's own views (pg_catalog, information_schema), which pgview_auto leaves out; their share is measured by running the baselines on the bare catalog before loading. Every row (with its depth and kinds) is also compared one by one with plain SQL (\`verify.sql\`)."
        echo
        echo "$TABLE"
        echo
        echo "Runs (ms, in order):"
        echo
        for k in closure_ours closure_sql direct_ours direct_sql dependents_ours dependents_sql order_ours; do
            if [ "$k" = closure_sql ]; then
                echo "- $k: cold $(runs "${COLD[$k]}")"
            else
                echo "- $k: warm $(runs "${WARM[$k]}"); cold $(runs "${COLD[$k]}")"
            fi
        done
        echo
        if ((${#FAILURES[@]})); then
            echo "**Correctness failures:**"
            echo
            printf -- '- %s\n' "${FAILURES[@]}"
            if ((${#EXAMPLES[@]})); then printf -- '- example, %s\n' "${EXAMPLES[@]}"; fi
        else
            echo "All rows agree with plain SQL."
        fi
    } >"$RESULTS"
    log "wrote $RESULTS"
fi

((${#FAILURES[@]} == 0)) || exit 1
if ((MISSED)) && [ "${DEPS_STRICT:-0}" = 1 ]; then exit 2; fi
exit 0
