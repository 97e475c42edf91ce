#!/usr/bin/env bash
# pgview_auto — the whole test suite on a throwaway server:
#   unit tests of the pure C++ graph (GoogleTest), pg_regress (sql/ + expected/),
#   isolation specs (test/isolation), the SQL examples of README.md and doc/*.md,
#   doc/reference.md against the extension, the documentation's links, the Python
#   adapter's tests (clients/python), TAP tests (test/t, PostgreSQL::Test::Cluster),
#   and a smoke run of the benchmarks.
# Installs what it needs, builds, installs the extension, and ends with one line
# "N passed, N failed". Exit status is non-zero when anything failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set +e  # count failures instead of stopping at the first

ensure_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" || exit 1
build_and_install || exit 1

PGXS_SRC=$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")   # .../pgxs/src
WORK=$(mktemp -d /tmp/pgview_auto_test.XXXXXX)
chmod 755 "$WORK"
PORT=$(free_port 54340)
passed=0; failed=0
cleanup() { stop_cluster "$WORK/server"; stop_cluster "$WORK/plain"; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT

# Copy the tests where the unprivileged server user can read and write them.
cp -r "$REPO/sql" "$REPO/expected" "$REPO/test" "$WORK/"
[ "$(id -u)" -eq 0 ] && chown -R "$PGUSER_OS" "$WORK"

skipped=()
# regress_for DIR PORT LABEL: the regression tests that server can run, in
# $WORK/runnable.txt; the others are listed as skipped, with what they need.
regress_for() {
    local dir=$1 port=$2 label=$3 line
    # (as the caller, who can read this checkout, unlike the server's user when it is mode 700)
    env PATH="$PGBIN:$PATH" bash "$REPO/scripts/regress_tests.sh" "$WORK/sql" -h "$dir" -p "$port" -U postgres \
        >"$WORK/runnable.txt" 2>"$WORK/skipped.txt" || { cat "$WORK/skipped.txt"; failed=$((failed + 1)); }
    while read -r line; do skipped+=("$line, on the $label"); done < <(sed -n 's/^skipped: //p' "$WORK/skipped.txt")
}

count() { # count LOG PASS_REGEX TOTAL_REGEX: whatever ran and did not pass failed
    local p f
    p=$(grep -cE "$2" "$1"); f=$(( $(grep -cE "$3" "$1") - p ))
    passed=$((passed + p)); failed=$((failed + f))
    echo "   -> $p passed, $f failed"
}

say "META.json (PGXN meta spec 1.0.0)"
if python3 "$REPO/test/meta_check.py" "$REPO"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

# The owner scope is the one way to run as another role (issue 20): nothing
# else in src/ switches the user id or sets a setting.
say "owner scope: the user id is switched, and settings set, in src/pg/owner_scope.cpp only"
elsewhere=$(grep -rlE 'SetUserIdAndSecContext|SetSessionAuthorization|SetCurrentRoleId|set_config_option' \
    "$REPO/src" --include='*.cpp' --include='*.hpp' | grep -v '/src/pg/owner_scope\.cpp$')
if [ -z "$elsewhere" ] && grep -q 'SetUserIdAndSecContext' "$REPO/src/pg/owner_scope.cpp"; then
    passed=$((passed + 1)); echo "   -> ok"
else
    failed=$((failed + 1)); echo "   -> FAILED: also in: $elsewhere"
fi

# The folders of src/ depend one way (issue 21): none includes a folder above it.
say "layers: src/ folders include only folders below them (scripts/check_layers.py)"
if layers=$(python3 "$REPO/scripts/check_layers.py"); then passed=$((passed + 1)); else failed=$((failed + 1)); fi
sed 's/^/   /' <<<"$layers"

say "unit tests (GoogleTest)"
if make -C "$REPO" -s unit-test PG_CONFIG="$PG_CONFIG" >"$WORK/unit.log" 2>&1; then :; fi
grep -E '^\[ +(OK|FAILED) +\]' "$WORK/unit.log" | sed 's/^/   /'
# gtest's own summary: "[  PASSED  ] N tests." and "[  FAILED  ] N tests, listed below:"
up=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) tests?\..*/\1/p' "$WORK/unit.log")
uf=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) tests?, listed below.*/\1/p' "$WORK/unit.log")
if [ -z "$up$uf" ]; then echo "   unit tests did not run"; tail -20 "$WORK/unit.log"; uf=1; fi
passed=$((passed + ${up:-0})); failed=$((failed + ${uf:-0}))
echo "   -> ${up:-0} passed, ${uf:-0} failed"

say "starting a throwaway server on port $PORT"
start_cluster "$WORK/server" "$PORT" || { echo "server did not start"; cat "$WORK/server/server.log"; echo "0 passed, 1 failed"; exit 1; }

COMMON=(--bindir="$PGBIN" --host="$WORK/server" --port="$PORT" --user=postgres --load-extension=pgview_auto)

say "pg_regress"
REGRESS_TESTS=$(cd "$REPO/sql" && ls *.sql | grep -v '^pgview_auto--' | sed 's/\.sql$//')
# This server has everything every test requires: none may be skipped here.
regress_for "$WORK/server" "$PORT" "preloaded server"
if [ "$(echo $(cat "$WORK/runnable.txt"))" != "$(echo $REGRESS_TESTS)" ] || ((${#skipped[@]})); then
    echo "   a test that should run here would be skipped: ${skipped[*]}"; failed=$((failed + 1)); skipped=()
fi
as_pg "$PGXS_SRC/test/regress/pg_regress" "${COMMON[@]}" --inputdir="$WORK" \
    --outputdir="$WORK/regress" --dbname=pgview_regress $REGRESS_TESTS >"$WORK/regress.log" 2>&1
grep -E '^(ok|not ok|test) |\.\.\. ' "$WORK/regress.log" | sed 's/^/   /'
count "$WORK/regress.log" '\.\.\. ok' '^(test| ) .*\.\.\. '
[ -s "$WORK/regress/regression.diffs" ] && cat "$WORK/regress/regression.diffs"

say "isolation specs"
ISO_TESTS=$(cd "$REPO/test/isolation/specs" && ls *.spec | sed 's/\.spec$//')
as_pg "$PGXS_SRC/test/isolation/pg_isolation_regress" "${COMMON[@]}" \
    --inputdir="$WORK/test/isolation" --outputdir="$WORK/isolation" --dbname=pgview_isolation \
    $ISO_TESTS >"$WORK/isolation.log" 2>&1
grep -E '\.\.\. ' "$WORK/isolation.log" | sed 's/^/   /'
count "$WORK/isolation.log" '\.\.\. ok' '^(test| ) .*\.\.\. '
[ -s "$WORK/isolation/regression.diffs" ] && cat "$WORK/isolation/regression.diffs"

# Every ```sql block of README.md and of each doc/*.md, in order, on an empty
# database per file: the examples a new user copies must run as written. Each
# file with examples is one test (a file without any is not counted).
say "documentation examples (every \`\`\`sql block of README.md and doc/*.md, in order, on an empty database per file)"
n=0
for doc in "$REPO/README.md" "$REPO"/doc/*.md; do
    name=${doc#$REPO/}; n=$((n + 1))
    sqlfile=$WORK/examples_$n.sql; log=$WORK/examples_$n.log
    if ! bash "$REPO/scripts/readme_examples.sh" "$doc" >"$sqlfile" 2>"$log"; then
        failed=$((failed + 1)); echo "   $name -> FAILED"; cat "$log"; continue
    fi
    blocks=$(grep -c "^-- $(basename "$doc"), line" "$sqlfile")
    if [ "$blocks" -eq 0 ]; then echo "   $name: no sql examples"; continue; fi
    if as_pg createdb -h "$WORK/server" -p "$PORT" -U postgres "pgview_examples_$n" &&
        cluster_psql "$WORK/server" "$PORT" -d "pgview_examples_$n" -v ON_ERROR_STOP=1 \
            -f "$sqlfile" >"$log" 2>&1; then
        passed=$((passed + 1)); echo "   $name: $blocks blocks ran: ok"
    else
        failed=$((failed + 1)); echo "   $name -> FAILED"; tail -20 "$log"
    fi
done

# doc/reference.md against the extension as installed: a section per function
# (with the signature \df shows), per view, a row per setting, and nothing else.
say "reference: doc/reference.md against the extension's functions, views and settings (scripts/check_reference.py)"
if as_pg createdb -h "$WORK/server" -p "$PORT" -U postgres pgview_reference &&
    cluster_psql "$WORK/server" "$PORT" -d pgview_reference -qc 'CREATE EXTENSION pgview_auto' &&
    reference=$(python3 "$REPO/scripts/check_reference.py" --psql "$PGBIN/psql" localhost "$PORT" postgres pgview_reference 2>&1); then
    passed=$((passed + 1)); sed 's/^/   /' <<<"$reference"; echo "   -> ok"
else
    failed=$((failed + 1)); sed 's/^/   /' <<<"${reference:-}"; echo "   -> FAILED"
fi

# The README's comparison with pg_ivm quotes the summary rows of sql/pg_ivm_suite and
# sql/pg_ivm_refused, which pg_regress held to expected/ above.
say "pg_ivm comparison: README.md quotes expected/pg_ivm_suite.out and pg_ivm_refused.out (scripts/check_ivm_comparison.py)"
if ivm=$(python3 "$REPO/scripts/check_ivm_comparison.py" 2>&1); then
    passed=$((passed + 1)); echo "   -> ok"
else
    failed=$((failed + 1)); sed 's/^/   /' <<<"$ivm"; echo "   -> FAILED"
fi

# Every relative link and #anchor of the documentation resolves.
say "links: every relative link and anchor of README.md, doc/, test/README.md, CHANGELOG.md, clients/python/README.md (scripts/check_links.py)"
if links=$(python3 "$REPO/scripts/check_links.py" 2>&1); then
    passed=$((passed + 1)); sed 's/^/   /' <<<"$links"; echo "   -> ok"
else
    failed=$((failed + 1)); sed 's/^/   /' <<<"$links"; echo "   -> FAILED"
fi

# The Python adapter's unittest tests (clients/python), against this server: each test
# counts. unittest -v ends a test's line with "... ok", "... FAIL", "... ERROR" or
# "... skipped 'why'"; a test whose subtests failed gets none, so whatever ran and neither
# passed, failed nor was skipped failed; a failed setUpClass is one failure; a missing
# script, or a run that crashed (no "Ran N tests", or a non-zero exit with nothing failed),
# is one failure.
say "Python adapter (clients/python: SQLAlchemy and Alembic, against this server)"
pylog=$WORK/python.log
if [ -f "$REPO/clients/python/run_tests.sh" ]; then
    bash "$REPO/clients/python/run_tests.sh" localhost "$PORT" postgres >"$pylog" 2>&1; pyrc=$?
else
    echo "clients/python/run_tests.sh is missing" >"$pylog"; pyrc=127
fi
grep -E ' \.\.\. (ok|FAIL|ERROR|skipped .*)$' "$pylog" | sed 's/^/   /'
pyp=$(grep -cE ' \.\.\. ok$' "$pylog")
pyf=$(grep -cE ' \.\.\. (FAIL|ERROR)$' "$pylog")
pys=$(grep -cE ' \.\.\. skipped ' "$pylog")
pyfixture=$(grep -cE '^(setUpClass|tearDownClass|setUpModule|tearDownModule) .* \.\.\. (FAIL|ERROR)$' "$pylog")
pyran=$(sed -nE 's/^Ran ([0-9]+) tests? in .*/\1/p' "$pylog")
if [ -z "$pyran" ]; then
    pyf=$((pyf > 0 ? pyf : 1))
else
    unreported=$((pyran - pyp - pys - (pyf - pyfixture)))
    ((unreported > 0)) && pyf=$((pyf + unreported))
fi
((pyrc != 0 && pyf == 0)) && pyf=1
passed=$((passed + pyp)); failed=$((failed + pyf))
echo "   -> $pyp passed, $pyf failed$( ((pys == 0)) || echo ", $pys skipped")"
((pyf > 0)) && { sed -n '/^=\{20,\}$/,$p' "$pylog" | head -80; tail -5 "$pylog"; }

# The monitoring queries (issue 24): each query of doc/monitoring/postgres_exporter.yml
# runs here and returns the columns it declares (one check).
say "postgres_exporter queries (doc/monitoring/postgres_exporter.yml: each runs, with the columns it declares)"
if as_pg createdb -h "$WORK/server" -p "$PORT" -U postgres pgview_exporter &&
    cluster_psql "$WORK/server" "$PORT" -d pgview_exporter -v ON_ERROR_STOP=1 -q >"$WORK/exporter.log" 2>&1 <<'SQL' &&
CREATE EXTENSION pgview_auto;
CREATE TABLE ex_t (k int PRIMARY KEY, v int);
CREATE MATERIALIZED VIEW ex_mv AS SELECT count(*) AS n FROM ex_t;
SELECT pgview_watch('ex_mv');
SELECT pgview_create('ex_tv', 'SELECT k, sum(v) AS s, count(*) AS n FROM public.ex_t GROUP BY k',
                     kind => 'table view', unique_key => ARRAY['k']);
SELECT pgview_watch('ex_tv', mode => 'manual');
INSERT INTO ex_t VALUES (1, 1), (2, 2);
SELECT pgview_flush_history();
SQL
    PGHOST="$WORK/server" PGPORT=$PORT PGUSER=postgres PGDATABASE=pgview_exporter PATH="$PGBIN:$PATH" \
        python3 "$REPO/scripts/check_exporter.py" "$REPO/doc/monitoring/postgres_exporter.yml" >>"$WORK/exporter.log" 2>&1; then
    passed=$((passed + 1)); sed 's/^/   /' "$WORK/exporter.log"; echo "   -> ok"
else
    failed=$((failed + 1)); sed 's/^/   /' "$WORK/exporter.log"; echo "   -> FAILED"
fi

stop_cluster "$WORK/server"

# `make installcheck` against a DBA's own server: initdb's defaults, no
# shared_preload_libraries, no prepared transactions. Files that need more
# ("-- requires:") are not run there, and listed as skipped below; everything
# else must pass as is.
PLAIN_PORT=$(free_port $((PORT + 1)))
say "pg_regress and isolation again, on a server with default settings (no preload), port $PLAIN_PORT"
if start_default_cluster "$WORK/plain" "$PLAIN_PORT"; then
    PLAIN=(--bindir="$PGBIN" --host="$WORK/plain" --port="$PLAIN_PORT" --user=postgres --load-extension=pgview_auto)
    regress_for "$WORK/plain" "$PLAIN_PORT" "server with default settings"
    PLAIN_TESTS=$(cat "$WORK/runnable.txt")
    as_pg "$PGXS_SRC/test/regress/pg_regress" "${PLAIN[@]}" --inputdir="$WORK" \
        --outputdir="$WORK/regress_plain" --dbname=pgview_regress $PLAIN_TESTS >"$WORK/regress_plain.log" 2>&1
    grep -E '\.\.\. ' "$WORK/regress_plain.log" | sed 's/^/   /'
    count "$WORK/regress_plain.log" '\.\.\. ok' '^(test| ) .*\.\.\. '
    [ -s "$WORK/regress_plain/regression.diffs" ] && cat "$WORK/regress_plain/regression.diffs"
    as_pg "$PGXS_SRC/test/isolation/pg_isolation_regress" "${PLAIN[@]}" \
        --inputdir="$WORK/test/isolation" --outputdir="$WORK/isolation_plain" --dbname=pgview_isolation \
        $ISO_TESTS >"$WORK/isolation_plain.log" 2>&1
    grep -E '\.\.\. ' "$WORK/isolation_plain.log" | sed 's/^/   /'
    count "$WORK/isolation_plain.log" '\.\.\. ok' '^(test| ) .*\.\.\. '
    [ -s "$WORK/isolation_plain/regression.diffs" ] && cat "$WORK/isolation_plain/regression.diffs"
    stop_cluster "$WORK/plain"
else
    echo "   server with default settings did not start"; cat "$WORK/plain/server.log"; failed=$((failed + 1))
fi

say "TAP tests"
(cd "$WORK" && as_pg env PERL5LIB="$PGXS_SRC/test/perl" TESTDIR="$WORK" \
    PG_REGRESS="$PGXS_SRC/test/regress/pg_regress" PGVIEW_REPO="$WORK" \
    prove -v test/t/*.pl >"$WORK/tap.log" 2>&1)
grep -E '^(ok|not ok) ' "$WORK/tap.log" | sed 's/^/   /'
count "$WORK/tap.log" '^ok ' '^(ok|not ok) '
grep -qE '^Result: PASS' "$WORK/tap.log" || { echo "   prove did not pass:"; grep -vE '^(ok|not ok) ' "$WORK/tap.log" | tail -40; grep -qE '^not ok ' "$WORK/tap.log" || failed=$((failed + 1)); }

# random_run LOG ARGS...: the randomized differential test of table views, one test.
random_run() {
    local log=$WORK/$1; shift
    say "randomized differential test of table views (test/random/run.sh $*)"
    if IVM_SKIP_BUILD=1 bash "$REPO/test/random/run.sh" "$@" >"$log" 2>&1; then
        passed=$((passed + 1)); tail -2 "$log" | sed 's/^/   /'; echo "   -> ok"
    else
        failed=$((failed + 1)); echo "   -> FAILED"; tail -40 "$log"
    fi
}
random_run random.log --seed 1 --rounds 30
random_run random_overflow.log --seed 2 --rounds 10 --max-keys 5   # keyed refreshes overflow to full

# The soak (issue 20): every view exact, no deadlock, no "out of shared memory",
# no statement failing that would succeed without the extension.
say "soak: 60 s of writers, pgview_alter, save/restore and pending keys on three databases (test/soak/run.sh)"
if SOAK_SKIP_BUILD=1 bash "$REPO/test/soak/run.sh" --seconds 60 >"$WORK/soak.log" 2>&1; then
    passed=$((passed + 1)); tail -2 "$WORK/soak.log" | sed 's/^/   /'; echo "   -> ok"
else
    failed=$((failed + 1)); echo "   -> FAILED"; tail -40 "$WORK/soak.log"
fi

# The copy of the reference workloads must not drift from the original.
if [ -d "$REPO/../shared/bench" ]; then
    say "reference workloads: test/bench/reference equals ../shared/bench (and workloads/ ../shared/workloads)"
    if diff -r -x COPIED.md -x workloads "$REPO/../shared/bench" "$REPO/test/bench/reference" >"$WORK/reference.diff" 2>&1 &&
        { [ ! -d "$REPO/../shared/workloads" ] ||
          diff -r "$REPO/../shared/workloads" "$REPO/test/bench/reference/workloads" >>"$WORK/reference.diff" 2>&1; }; then
        passed=$((passed + 1)); echo "   -> ok"
    else
        failed=$((failed + 1)); echo "   -> FAILED"; head -30 "$WORK/reference.diff"
    fi
fi

# smoke LABEL LOG SCRIPT [VAR=value ...]: one benchmark's smoke run, counted as one test.
smoke() {
    local label=$1 log=$WORK/$2 script=$REPO/$3
    shift 3
    if [ ! -f "$script" ]; then
        say "benchmark smoke run ($label)"; echo "   -> FAILED: ${script#$REPO/} is missing"; failed=$((failed + 1)); return
    fi
    say "benchmark smoke run ($label)"
    if env "$@" bash "$script" --smoke >"$log" 2>&1; then
        passed=$((passed + 1)); echo "   -> ok"
    else
        failed=$((failed + 1)); echo "   -> FAILED"; tail -30 "$log"
    fi
}
smoke "dependency catalog, small" bench.log test/bench/deps/run.sh DEPS_N=300 DEPS_SKIP_BUILD=1
smoke "W1: naive recipe vs commit and async mode, freshness after concurrent writers" bench_w1.log \
    test/bench/w1/run.sh W1_SKIP_BUILD=1
smoke "W1 async at 8 clients, interleaved: the view fresh after pgview_wait" bench_pairs.log \
    test/bench/w1/async_pairs.sh W1_SKIP_BUILD=1
smoke "table view vs REFRESH and REFRESH CONCURRENTLY, equal to the query after each round" bench_tv.log \
    test/bench/tableview/run.sh TV_SKIP_BUILD=1
smoke "W2: table view in commit and async mode (pg_ivm when installed), fresh after the writers" bench_w2.log \
    test/bench/w2/run.sh W2_SKIP_BUILD=1
smoke "W2 floor: user_stats maintained by hand, equal to the query where the method is exact" bench_floor.log \
    test/bench/w2/floor.sh
smoke "pgview_alter vs a hand-written script, the same views after each round" bench_alter.log test/bench/alter/run.sh ALTER_SKIP_BUILD=1

# Citus (issue 25): needs Citus, which Debian does not package; test/citus/run.sh
# builds it from a source snapshot the caller gives (CITUS_SRC) into a private
# copy of PostgreSQL, or reuses one made before (CITUS_PREFIX).
if [ -n "${CITUS_SRC:-}" ] || [ -f "${CITUS_PREFIX:-/nonexistent}/usr/lib/postgresql/15/lib/citus.so" ]; then
    say "Citus: a coordinator and two workers (test/citus/run.sh)"
    if bash "$REPO/test/citus/run.sh" >"$WORK/citus.log" 2>&1; then
        passed=$((passed + 1)); grep -E '^(ok|not ok) ' "$WORK/citus.log" | sed 's/^/   /'; echo "   -> ok"
    else
        failed=$((failed + 1)); tail -40 "$WORK/citus.log" | sed 's/^/   /'; echo "   -> FAILED"
    fi
else
    skipped+=("test/citus/run.sh: Citus is not installed (Debian has no package): give CITUS_SRC=<a Citus source tree or git repository> to build it")
fi

echo
if ((${#skipped[@]})); then
    echo "skipped, as they must be where the server lacks what they need (not counted):"
    printf '   %s\n' "${skipped[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
