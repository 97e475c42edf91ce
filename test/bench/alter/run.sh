#!/usr/bin/env bash
# pgview_auto — pgview_alter benchmark (issue 13).
#
# N views (default 1,000) read one column, orders.total. Changing its type means
# dropping them all, running the ALTER TABLE, and creating each again with its owner,
# grant and comment. Two databases are set up identically, side by side on one
# throwaway server:
#   hand     the work done by a hand-written SQL script, in one transaction (psql -1):
#            DROP VIEW for each view, the ALTER TABLE, then for each view CREATE VIEW,
#            ALTER VIEW ... OWNER TO, GRANT SELECT, COMMENT ON VIEW (the script knows the
#            definitions: it was written from the same template that created them)
#   alter    SELECT * FROM pgview_alter('ALTER TABLE ...'), which finds the views, saves
#            them from the catalog, drops, alters and recreates them itself
# Each round widens the column in both (numeric(10+r,2): no table rewrite, so the views
# are what is measured), timing each run from the client (one psql call each, the
# connection included; alternating which goes first). After each round both databases
# must hold the same catalog (definitions, column types, owners, grants, comments of
# every view): a mismatch ends the run with exit status 1.
# Target: pgview_alter within 1.5x of the hand-written script's time.
#
# Usage:
#   test/bench/alter/run.sh           full benchmark, writes RESULTS.md here
#   test/bench/alter/run.sh --smoke   20 views, 2 rounds: checks that both ways run and
#                                     end with the same catalog; judges nothing, writes
#                                     nothing (~10 s)
# Environment:
#   ALTER_N           views (default 1000; 20 with --smoke)
#   ALTER_ROUNDS      rounds (default 5; 2 with --smoke)
#   ALTER_ROWS        rows of the table (default 10000)
#   ALTER_SKIP_BUILD  1: use the installed extension as it is (no make / make install)
#   ALTER_STRICT      1: exit 2 when the target is missed (full runs only)
# Exit status: 0 both databases equal after every round (and, with ALTER_STRICT=1, the
#              target met); 1 they differed; 2 target missed (ALTER_STRICT=1 only);
#              anything else: the run itself failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR/../../..
# shellcheck source=scripts/lib.sh
source "$HERE/../../../scripts/lib.sh"

bench_args "$@"
if ((SMOKE)); then N=${ALTER_N:-20}; ROUNDS=${ALTER_ROUNDS:-2}
else N=${ALTER_N:-1000}; ROUNDS=${ALTER_ROUNDS:-5}; fi
ROWS=${ALTER_ROWS:-10000}

log() { say "$*" >&2; }
die() { echo "run.sh: $*" >&2; exit 3; }
if ! [[ $N =~ ^[0-9]+$ ]] || ((N < 1)); then die "ALTER_N must be a number >= 1 (got $N)"; fi
if ! [[ $ROUNDS =~ ^[0-9]+$ ]] || ((ROUNDS < 1 || ROUNDS > 20)); then
    die "ALTER_ROUNDS must be a number from 1 to 20 (got $ROUNDS)"; fi
if ! [[ $ROWS =~ ^[0-9]+$ ]]; then die "ALTER_ROWS must be a number (got $ROWS)"; fi
RESULTS=$HERE/RESULTS.md

COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
CHANGED=$( { git -C "$REPO" diff --name-only HEAD -- src 'sql/pgview_auto--*.sql' pgview_auto.control Makefile
    git -C "$REPO" ls-files --others --exclude-standard -- src 'sql/pgview_auto--*.sql'; } 2>/dev/null |
    sort -u | wc -l || true)
((CHANGED == 0)) || COMMIT+=" with uncommitted changes in src/ or sql/"

ensure_packages "${BUILD_PACKAGES[@]}" >&2
if [ "${ALTER_SKIP_BUILD:-0}" = 1 ]; then
    BUILD="the installed build, not rebuilt by this run (ALTER_SKIP_BUILD=1; work tree at $COMMIT)"
else
    build_and_install >&2
    BUILD="built and installed by this run from $COMMIT"
fi
LIBFILE=$("$PGBIN/pg_config" --pkglibdir)/pgview_auto.so
LIBSUM=$(md5sum <"$LIBFILE" | cut -d' ' -f1)

throwaway_dir alter_bench
PORT=$(free_port 54380)
log "starting a throwaway cluster on port $PORT ($TMP)"
start_cluster "$TMP" "$PORT" "autovacuum = off" "max_locks_per_transaction = 256"

on() { local db=$1; shift; cluster_psql "$TMP" "$PORT" -d "$db" -v ON_ERROR_STOP=1 -qAt "$@"; }

# The same setup in both databases: the table, then N views of another role, each
# with a grant and a comment.
VIEW_SQL() { # VIEW_SQL I: the definition of view I (the hand-written script uses it too)
    echo "SELECT id, total + $1 AS total_plus FROM bench.orders WHERE id % 100 = $(($1 % 100))"
}
{
    echo "CREATE SCHEMA bench;"
    echo "GRANT USAGE, CREATE ON SCHEMA bench TO bench_owner;"
    echo "GRANT USAGE ON SCHEMA bench TO bench_reader;"
    echo "CREATE TABLE bench.orders (id int PRIMARY KEY, total numeric(10,2) NOT NULL, note text);"
    echo "INSERT INTO bench.orders SELECT g, g % 1000, 'n' || g FROM generate_series(1, $ROWS) g;"
    echo "GRANT SELECT ON bench.orders TO bench_owner;"
    echo "SET ROLE bench_owner;"
    for ((i = 1; i <= N; i++)); do
        echo "CREATE VIEW bench.v_$i AS $(VIEW_SQL $i);"
        echo "GRANT SELECT ON bench.v_$i TO bench_reader;"
        echo "COMMENT ON VIEW bench.v_$i IS 'view $i';"
    done
    echo "RESET ROLE;"
} >"$TMP/setup.sql"
# hand_script TYPE: what a DBA would write to change the column under the views.
hand_script() {
    for ((i = N; i >= 1; i--)); do echo "DROP VIEW bench.v_$i;"; done
    echo "ALTER TABLE bench.orders ALTER COLUMN total TYPE $1;"
    for ((i = 1; i <= N; i++)); do
        echo "CREATE VIEW bench.v_$i AS $(VIEW_SQL $i);"
        echo "ALTER VIEW bench.v_$i OWNER TO bench_owner;"
        echo "GRANT SELECT ON bench.v_$i TO bench_reader;"
        echo "COMMENT ON VIEW bench.v_$i IS 'view $i';"
    done
}
# Everything about the views, by name (OIDs differ between the databases).
CATALOG_SQL="SELECT md5(string_agg(line, E'\n' ORDER BY line)), count(*) FROM (
    SELECT concat_ws(' ', c.relname, pg_get_userbyid(c.relowner), c.relacl, obj_description(c.oid, 'pg_class'),
                     pg_get_viewdef(c.oid),
                     (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                      FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0)) AS line
    FROM pg_class c WHERE c.relnamespace = 'bench'::regnamespace AND c.relkind IN ('v', 'r')) l"

cluster_psql "$TMP" "$PORT" -q -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE bench_owner" -c "CREATE ROLE bench_reader" \
    -c "CREATE DATABASE bench_hand" -c "CREATE DATABASE bench_alter"
for db in bench_hand bench_alter; do
    on "$db" -c "CREATE EXTENSION pgview_auto"
    on "$db" -f - <"$TMP/setup.sql" >/dev/null
    on "$db" -c "VACUUM ANALYZE"
done
[ "$(on bench_hand -c "$CATALOG_SQL")" = "$(on bench_alter -c "$CATALOG_SQL")" ] || die "the setups differ"
log "$N views over bench.orders.total ($ROWS rows) in both databases"

now() { date +%s.%N; }
elapsed_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
run_hand() {
    hand_script "$1" >"$TMP/hand.sql"
    local t0; t0=$(now)
    on bench_hand -1 -f - <"$TMP/hand.sql" >/dev/null
    elapsed_ms "$t0" "$(now)"
}
run_alter() {
    local t0 rows; t0=$(now)
    rows=$(on bench_alter -c "SELECT count(*) FROM pgview_alter('ALTER TABLE bench.orders ALTER COLUMN total TYPE $1')")
    local ms; ms=$(elapsed_ms "$t0" "$(now)")
    [ "$rows" = $((N + 1)) ] || die "pgview_alter gave $rows rows, not $((N + 1))"
    echo "$ms"
}

HAND_MS=""; ALTER_MS=""; MISMATCH=()
for ((r = 1; r <= ROUNDS; r++)); do
    type="numeric($((10 + r)),2)"
    if ((r % 2)); then h=$(run_hand "$type"); a=$(run_alter "$type")
    else a=$(run_alter "$type"); h=$(run_hand "$type"); fi
    HAND_MS+=" $h"; ALTER_MS+=" $a"
    printf '  round %d (%s): hand-written script %9.1f ms, pgview_alter %9.1f ms\n' "$r" "$type" "$h" "$a" >&2
    hand=$(on bench_hand -c "$CATALOG_SQL"); alter=$(on bench_alter -c "$CATALOG_SQL")
    if [ "$hand" != "$alter" ]; then
        MISMATCH+=("round $r: the catalogs differ ($hand vs $alter)")
        echo "  MISMATCH: the catalogs differ" >&2
    fi
done
[ "$(md5sum <"$LIBFILE" | cut -d' ' -f1)" = "$LIBSUM" ] ||
    die "the installed $LIBFILE changed during the run (someone ran make install): run again"

median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g |
    awk '{ a[NR] = $1 } END { printf "%.1f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
MH=$(median "$HAND_MS"); MA=$(median "$ALTER_MS")
RATIO=$(awk -v a="$MA" -v b="$MH" 'BEGIN { printf "%.2f", a / b }')
MET=$(awk -v r="$RATIO" 'BEGIN { print (r <= 1.5) ? "yes" : "**no**" }')
((SMOKE)) && MET="n/a (smoke)"
TABLE=$(cat <<EOF
| $N views over one column (median of $ROUNDS rounds) | pgview_alter | hand-written script | ratio | target | met? |
| --- | ---: | ---: | ---: | --- | --- |
| drop, ALTER TABLE, recreate with owner, grant, comment | $MA ms | $MH ms | $RATIO | <= 1.5 | $MET |
EOF
)
echo
echo "$TABLE"
echo
if ((${#MISMATCH[@]})); then
    echo "CORRECTNESS FAILURES:"; printf '  - %s\n' "${MISMATCH[@]}"
else
    echo "Both databases hold the same views (definitions, types, owners, grants, comments) after every round."
fi

if ((!SMOKE)); then
    PGVERSION=$(on bench_alter -c "SHOW server_version")
    EXTVERSION=$(on bench_alter -c "SELECT extversion FROM pg_extension WHERE extname = 'pgview_auto'")
    CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    runs() { local t=${1# }; echo "${t// /, }"; }
    {
        echo "# pgview_alter benchmark"
        echo
        echo "Written by \`test/bench/alter/run.sh\` (full run); rerun it rather than editing this file."
        echo
        echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "- PostgreSQL: $PGVERSION (fsync off, autovacuum off); machine: $(nproc) CPUs, ${CPU:-unknown CPU}"
        echo "- pgview_auto $EXTVERSION: $BUILD"
        echo "- data: \`bench.orders(id int PRIMARY KEY, total numeric(10,2), note text)\`, $ROWS rows; $N views \`bench.v_i\` (\`$(VIEW_SQL 1)\`, ...) owned by another role, each with a grant and a comment"
        echo "- each round widens total to numeric(10+r,2) in both databases (no table rewrite); times are client-side, one psql call each, alternating which goes first"
        echo
        echo "$TABLE"
        echo
        echo "Runs (ms, in order of rounds): pgview_alter $(runs "$ALTER_MS"); hand-written script $(runs "$HAND_MS")."
        echo
        if ((${#MISMATCH[@]})); then
            echo "**Correctness failures:**"; echo; printf -- '- %s\n' "${MISMATCH[@]}"
        else
            echo "Both databases hold the same views after every round."
        fi
    } >"$RESULTS"
    log "wrote $RESULTS"
fi

((${#MISMATCH[@]} == 0)) || exit 1
if ((!SMOKE)) && [ "$MET" != yes ] && [ "${ALTER_STRICT:-0}" = 1 ]; then exit 2; fi
exit 0
