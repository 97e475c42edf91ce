#!/usr/bin/env bash
# pgview_auto — table-view refresh benchmark (issue 6).
#
# A 1,000,000-row query result of which 1% changes between refreshes: time and WAL bytes
# of a table-view refresh (pgview_refresh: the difference only) against REFRESH
# MATERIALIZED VIEW and REFRESH MATERIALIZED VIEW CONCURRENTLY of the same query, side by
# side in one run on one throwaway server. Targets: the table view's WAL at most 0.1 of
# the plain refresh's; its time no worse than the concurrent refresh's.
#
# setup.sql loads src(id, grp, val, note) with N rows and creates, over the same query
# (SELECT id, grp, val, note FROM src):
#   mv_plain       materialized view                      REFRESH MATERIALIZED VIEW
#   mv_concurrent  materialized view, unique index on id  REFRESH ... CONCURRENTLY
#   tv             table view, unique_key id              pgview_refresh('tv')
#   tv_multiset    table view without unique_key          pgview_refresh('tv_multiset')
#                  (a multiset of whole rows; reported for information)
# Each round: change.sql changes 1% of src in one transaction (0.5% updated, 0.25%
# deleted, 0.25% new ids inserted; random rows, the same in every run), then VACUUM
# (ANALYZE) of src and of the four relations (what autovacuum would do between
# refreshes; it also sets src's hint bits, so no refresh pays for that), then each of the
# four is refreshed (the order rotates from round to round), each right after a
# CHECKPOINT, measuring on the server:
#   time  clock_timestamp() before and after the refresh statement (autocommit: the
#         commit is included; one psql session, no connection set-up)
#   WAL   pg_wal_lsn_diff of pg_current_wal_insert_lsn() before and after, and the part
#         of it that is full-page images (pg_walinspect's pg_get_wal_stats)
# After each round every relation must equal the query, row for row (count of
# (TABLE x EXCEPT ALL query) UNION ALL (query EXCEPT ALL TABLE x) is 0): a mismatch ends
# the run with exit status 1.
#
# Usage:
#   test/bench/tableview/run.sh           full benchmark, writes RESULTS.md here
#   test/bench/tableview/run.sh --smoke   10,000 rows, 2 rounds: checks that everything
#                                         runs and that all four relations stay equal to
#                                         the query; judges nothing, writes nothing (~10 s)
# Environment:
#   TV_N           rows of the query result (default 1000000; 10000 with --smoke)
#   TV_ROUNDS      rounds (default 5; 2 with --smoke)
#   TV_CHANGE      random (default): the updated and deleted rows are random, spread over
#                  most pages of the table; clustered: a run of consecutive ids (few pages:
#                  few full-page images after the CHECKPOINT)
#   TV_SKIP_BUILD  1: use the installed extension as it is (no make / make install)
#   TV_STRICT      1: exit 2 when a target is missed (full runs only)
# Exit status: 0 every relation equal to the query after every round (and, with
#              TV_STRICT=1, both targets met); 1 a relation differed from the query;
#              2 a target missed (TV_STRICT=1 only); anything else: the run itself failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR/../../..
# shellcheck source=scripts/lib.sh
source "$HERE/../../../scripts/lib.sh"

bench_args "$@"
if ((SMOKE)); then N=${TV_N:-10000}; ROUNDS=${TV_ROUNDS:-2}
else N=${TV_N:-1000000}; ROUNDS=${TV_ROUNDS:-5}; fi

log() { say "$*" >&2; }
die() { echo "run.sh: $*" >&2; exit 3; }
if ! [[ $N =~ ^[0-9]+$ ]] || ((N < 1000)); then die "TV_N must be a number >= 1000 (got $N)"; fi
if ! [[ $ROUNDS =~ ^[0-9]+$ ]] || ((ROUNDS < 1)); then die "TV_ROUNDS must be a number >= 1 (got $ROUNDS)"; fi
CHANGE_MODE=${TV_CHANGE:-random}
case $CHANGE_MODE in
random) CLUSTERED=false ;;
clustered) CLUSTERED=true ;;
*) die "TV_CHANGE must be random or clustered (got $CHANGE_MODE)" ;;
esac

QUERY="SELECT id, grp, val, note FROM src"
NUPD=$((N / 200)); NDEL=$((N / 400)); NINS=$((N / 400))   # 1% of the rows in all
RELS=(mv_plain mv_concurrent tv tv_multiset)
declare -A STMT=(
    [mv_plain]="REFRESH MATERIALIZED VIEW mv_plain"
    [mv_concurrent]="REFRESH MATERIALIZED VIEW CONCURRENTLY mv_concurrent"
    [tv]="SELECT pgview_refresh('tv')"
    [tv_multiset]="SELECT pgview_refresh('tv_multiset')"
)
DB=pgview_tableview_bench
RESULTS=$HERE/RESULTS.md

# What is measured: the work tree when the build starts (or the installed build).
COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
CHANGED=$( { git -C "$REPO" diff --name-only HEAD -- src 'sql/pgview_auto--*.sql' pgview_auto.control Makefile
    git -C "$REPO" ls-files --others --exclude-standard -- src 'sql/pgview_auto--*.sql'; } 2>/dev/null |
    sort -u | wc -l || true)
((CHANGED == 0)) || COMMIT+=" with uncommitted changes in src/ or sql/"

ensure_packages "${BUILD_PACKAGES[@]}" >&2
if [ "${TV_SKIP_BUILD:-0}" = 1 ]; then
    BUILD="the installed build, not rebuilt by this run (TV_SKIP_BUILD=1; work tree at $COMMIT)"
else
    build_and_install >&2
    BUILD="built and installed by this run from $COMMIT"
fi
# Others may `make install` while this runs: say so if the installed library changes.
LIBFILE=$("$PGBIN/pg_config" --pkglibdir)/pgview_auto.so
LIBSUM=$(md5sum <"$LIBFILE" | cut -d' ' -f1)

# --- the throwaway cluster --------------------------------------------------------
throwaway_dir tableview_bench
PORT=$(free_port 54370)
log "starting a throwaway cluster on port $PORT ($TMP)"
# wal_level stays at its default (replica): every refresh writes the WAL it would on a
# primary. fsync off (start_cluster). No autovacuum during the timings (the rounds vacuum
# explicitly); shared buffers hold src and the four relations; no checkpoint other than
# the benchmark's own (max_wal_size, checkpoint_timeout).
start_cluster "$TMP" "$PORT" "autovacuum = off" "shared_buffers = '1GB'" \
    "max_wal_size = '20GB'" "checkpoint_timeout = '1h'"

# psql against the benchmark database; stdin scripts are opened by this shell, so the
# postgres OS user needs no access to the repository.
db_psql() { cluster_psql "$TMP" "$PORT" -d "$DB" -v ON_ERROR_STOP=1 -qAt "$@"; }

cluster_psql "$TMP" "$PORT" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB"
log "loading src ($N rows) and creating the four relations"
t0=$(date +%s.%N)
db_psql -v n="$N" -v query="$QUERY" <"$HERE/setup.sql" >/dev/null
LOAD_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
[ "$(db_psql -c "SELECT string_agg(relkind::text, '' ORDER BY relname) FROM pg_class
        WHERE relname IN ('tv', 'tv_multiset') AND relnamespace = 'public'::regnamespace")" = rr ] ||
    die "tv and tv_multiset are not ordinary tables"
COMPANION=$(db_psql -c "SELECT to_regclass('pgview_query.tv') IS NOT NULL")
[ "$COMPANION" = t ] || log "note: no companion view pgview_query.tv"
PGVERSION=$(db_psql -c "SHOW server_version")
EXTVERSION=$(db_psql -c "SELECT extversion FROM pg_extension WHERE extname = 'pgview_auto'")
SIZES=$(db_psql -F' ' -c "SELECT relname, pg_relation_size(oid), pg_indexes_size(oid) FROM pg_class
    WHERE relname IN ('src', 'mv_plain', 'mv_concurrent', 'tv', 'tv_multiset') AND relnamespace = 'public'::regnamespace ORDER BY relname")
log "loaded in $LOAD_S s; relation sizes (bytes: heap, indexes):"
sed 's/^/  /' <<<"$SIZES" >&2

# mismatches REL...: the rows each relation and the query do not have in common.
mismatches() {
    local rel sql="SET work_mem = '256MB';"
    for rel; do
        sql+="SELECT '$rel', count(*) FROM ((TABLE $rel EXCEPT ALL $QUERY)
                  UNION ALL ($QUERY EXCEPT ALL TABLE $rel)) d;"
    done
    db_psql -F' ' -c "$sql"
}
# measure REL: "MS WAL_BYTES FPI_BYTES" of one refresh, right after a CHECKPOINT.
measure() {
    db_psql -F' ' -v stmt="${STMT[$1]}" <<'SQL' | tail -1
CHECKPOINT;
SELECT pg_current_wal_insert_lsn() AS l0, clock_timestamp() AS t0 \gset
:stmt;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 1) AS ms,
       pg_current_wal_insert_lsn() AS l1 \gset
SELECT :ms, pg_wal_lsn_diff(:'l1', :'l0'),
       (SELECT coalesce(sum(fpi_size), 0) FROM pg_get_wal_stats(:'l0', least(:'l1', pg_current_wal_flush_lsn())));
SQL
}

declare -A MS WAL FPI NOFPI
MISMATCH=()
for ((r = 1; r <= ROUNDS; r++)); do
    log "round $r/$ROUNDS: $NUPD rows updated, $NDEL deleted ($CHANGE_MODE), $NINS inserted; vacuum"
    db_psql -v round="$r" -v n="$N" -v nupd="$NUPD" -v ndel="$NDEL" -v nins="$NINS" -v clustered="$CLUSTERED" \
        <"$HERE/change.sql" >/dev/null
    db_psql -c "VACUUM (ANALYZE) src, mv_plain, mv_concurrent, tv, tv_multiset"
    for ((i = 0; i < ${#RELS[@]}; i++)); do   # the order rotates: drift hits all alike
        rel=${RELS[$(((i + r - 1) % ${#RELS[@]}))]}
        out=$(measure "$rel")
        read -r ms wal fpi <<<"$out"
        [ -n "${fpi:-}" ] || die "measuring $rel: unexpected output: $out"
        MS[$rel]+=" $ms"; WAL[$rel]+=" $wal"; FPI[$rel]+=" $fpi"; NOFPI[$rel]+=" $((wal - fpi))"
        printf '  %-14s %9.1f ms  WAL %12s bytes (full-page images %12s)\n' "$rel" "$ms" "$wal" "$fpi" >&2
    done
    out=$(mismatches "${RELS[@]}")
    [ "$(wc -l <<<"$out")" = ${#RELS[@]} ] || die "checking round $r: unexpected output: $out"
    while read -r rel n; do
        if [ "$n" != 0 ]; then
            MISMATCH+=("round $r: $rel differs from the query by $n rows")
            echo "  MISMATCH: $rel differs from the query by $n rows" >&2
        fi
    done <<<"$out"
done
[ "$(md5sum <"$LIBFILE" | cut -d' ' -f1)" = "$LIBSUM" ] ||
    die "the installed $LIBFILE changed during the run (someone ran make install): run again"

# --- judging ------------------------------------------------------------------------
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g |
    awk '{ a[NR] = $1 } END { printf "%.1f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "inf" }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
declare -A MMS MWAL MFPI MNOFPI
for rel in "${RELS[@]}"; do
    MMS[$rel]=$(median "${MS[$rel]}"); MWAL[$rel]=$(median "${WAL[$rel]}"); MFPI[$rel]=$(median "${FPI[$rel]}")
    MNOFPI[$rel]=$(median "${NOFPI[$rel]}")
done
WAL_RATIO=$(ratio "${MWAL[tv]}" "${MWAL[mv_plain]}")
TIME_RATIO=$(ratio "${MMS[tv]}" "${MMS[mv_concurrent]}")
WAL_RATIO_M=$(ratio "${MWAL[tv_multiset]}" "${MWAL[mv_plain]}")
TIME_RATIO_M=$(ratio "${MMS[tv_multiset]}" "${MMS[mv_concurrent]}")
NOFPI_RATIO=$(ratio "${MNOFPI[tv]}" "${MNOFPI[mv_plain]}")
verdict() { # verdict RATIO LIMIT [info]: the met? column (a smoke run's size is too small to judge)
    if ((SMOKE)); then echo "n/a (smoke)"
    elif [ "${3:-}" = info ]; then if le "$1" "$2"; then echo "(yes)"; else echo "(no)"; fi
    elif le "$1" "$2"; then echo yes
    else echo "**no**"; fi
}
V_WAL=$(verdict "$WAL_RATIO" 0.1); V_TIME=$(verdict "$TIME_RATIO" 1)
V_WAL_M=$(verdict "$WAL_RATIO_M" 0.1 info); V_TIME_M=$(verdict "$TIME_RATIO_M" 1 info)
MISSED=0
if ((!SMOKE)) && { ! le "$WAL_RATIO" 0.1 || ! le "$TIME_RATIO" 1; }; then MISSED=1; fi

row() { # row REL LABEL: the side-by-side line of one relation
    local rel=$1
    printf '| %s | %s ms | %s MB | %s MB | %s | %s |\n' "$2" "${MMS[$rel]}" "$(mb "${MWAL[$rel]}")" \
        "$(mb "${MFPI[$rel]}")" "$(ratio "${MMS[$rel]}" "${MMS[mv_concurrent]}")" \
        "$(ratio "${MWAL[$rel]}" "${MWAL[mv_plain]}")"
}
CHANGE="$NUPD updated, $NDEL deleted, $NINS inserted; $CHANGE_MODE rows"
TABLE=$(cat <<EOF
| $N-row query, 1% changed ($CHANGE; median of $ROUNDS rounds) | table view | baseline | ratio | target | met? |
| --- | ---: | ---: | ---: | --- | --- |
| WAL of a refresh: \`pgview_refresh('tv')\` (unique_key id) vs REFRESH MATERIALIZED VIEW | $(mb "${MWAL[tv]}") MB | $(mb "${MWAL[mv_plain]}") MB | $WAL_RATIO | <= 0.1 | $V_WAL |
| time of a refresh: \`pgview_refresh('tv')\` (unique_key id) vs REFRESH ... CONCURRENTLY | ${MMS[tv]} ms | ${MMS[mv_concurrent]} ms | $TIME_RATIO | <= 1 | $V_TIME |
| for information, WAL without its full-page images: \`pgview_refresh('tv')\` vs REFRESH MATERIALIZED VIEW | $(mb "${MNOFPI[tv]}") MB | $(mb "${MNOFPI[mv_plain]}") MB | $NOFPI_RATIO | — | — |
| for information, without unique_key (multiset): WAL vs REFRESH MATERIALIZED VIEW | $(mb "${MWAL[tv_multiset]}") MB | $(mb "${MWAL[mv_plain]}") MB | $WAL_RATIO_M | (<= 0.1) | $V_WAL_M |
| for information, without unique_key (multiset): time vs REFRESH ... CONCURRENTLY | ${MMS[tv_multiset]} ms | ${MMS[mv_concurrent]} ms | $TIME_RATIO_M | (<= 1) | $V_TIME_M |

| refresh (median of $ROUNDS rounds, each right after a CHECKPOINT) | time | WAL | of which full-page images | time / concurrent | WAL / plain |
| --- | ---: | ---: | ---: | ---: | ---: |
$(row mv_plain "REFRESH MATERIALIZED VIEW mv_plain")
$(row mv_concurrent "REFRESH MATERIALIZED VIEW CONCURRENTLY mv_concurrent (unique index on id)")
$(row tv "\`pgview_refresh('tv')\`: table view, unique_key id")
$(row tv_multiset "\`pgview_refresh('tv_multiset')\`: table view, no unique_key (multiset)")
EOF
)

echo
echo "$TABLE"
echo
if ((${#MISMATCH[@]})); then
    echo "CORRECTNESS FAILURES:"; printf '  - %s\n' "${MISMATCH[@]}"
else
    echo "All four relations equal the query after every round."
fi

if ((!SMOKE)); then
    SETTINGS=$(db_psql -F' = ' -c "SELECT name, setting || coalesce(unit, '') FROM pg_settings
        WHERE name IN ('shared_buffers', 'work_mem', 'maintenance_work_mem', 'wal_level', 'full_page_writes',
                       'wal_compression', 'fsync', 'synchronous_commit', 'jit', 'max_parallel_workers_per_gather')
        ORDER BY name" | paste -sd ';' | sed 's/;/; /g')
    CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    MEMTOTAL=$(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)
    runs() { local t=${1# }; echo "${t// /, }"; }
    {
        echo "# Table-view refresh benchmark"
        echo
        echo "Written by \`test/bench/tableview/run.sh\` (full run); rerun it rather than editing this file."
        echo
        echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "- PostgreSQL: $PGVERSION ($SETTINGS; autovacuum off; max_wal_size 20GB, checkpoint_timeout 1h: no checkpoint but the benchmark's own)"
        echo "- machine: $(nproc) CPUs, ${CPU:-unknown CPU}, $MEMTOTAL RAM"
        echo "- pgview_auto $EXTVERSION: $BUILD"
        echo "- data: \`src(id int PRIMARY KEY, grp int, val numeric, note text)\`, $N rows (1 in 100 with a NULL note); the query \`$QUERY\`; four relations over it: \`mv_plain\` (materialized view, no index), \`mv_concurrent\` (materialized view, unique index on id), \`tv\` (\`pgview_create('tv', query, kind => 'table view', unique_key => ARRAY['id'])\`), \`tv_multiset\` (the same without unique_key); loaded in $LOAD_S s"
        echo "- each round: \`change.sql\` changes 1% of src in one transaction ($CHANGE, seeded: every run makes the same changes; updates change val, some grp and note, NULL to a value and back); VACUUM (ANALYZE) of src and the four relations; then each relation is refreshed (autocommit) right after a CHECKPOINT, in an order rotating from round to round"
        echo "- time: server-side, clock_timestamp() before and after the refresh statement in one psql session (the commit included); WAL: pg_wal_lsn_diff of pg_current_wal_insert_lsn() around it, and the full-page-image part of that range (pg_walinspect pg_get_wal_stats); MB = 2^20 bytes. Right after a CHECKPOINT, the first change to each page of the table (and of its indexes) logs a full image of the page: random changes spread over most pages pay for it; the plain refresh writes a new relation and logs no images"
        echo "- check: after every round each relation equals the query row for row (EXCEPT ALL both ways)"
        echo
        echo "$TABLE"
        echo
        echo "Runs (in order of rounds):"
        echo
        for rel in "${RELS[@]}"; do
            echo "- $rel: time $(runs "${MS[$rel]}") ms; WAL $(runs "${WAL[$rel]}") bytes; full-page images $(runs "${FPI[$rel]}") bytes"
        done
        echo
        if ((${#MISMATCH[@]})); then
            echo "**Correctness failures:**"; echo
            printf -- '- %s\n' "${MISMATCH[@]}"
        else
            echo "All four relations equal the query after every round."
        fi
    } >"$RESULTS"
    log "wrote $RESULTS"
fi

((${#MISMATCH[@]} == 0)) || exit 1
if ((MISSED)) && [ "${TV_STRICT:-0}" = 1 ]; then exit 2; fi
exit 0
