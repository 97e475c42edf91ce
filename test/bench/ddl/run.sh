#!/usr/bin/env bash
# pgview_auto — unrelated DDL stays cheap: 1,000 CREATE TABLE statements in a
# database with pgview_auto installed (and a few watches) against one without,
# side by side on one throwaway server, alternating, several rounds; the ratio
# of the medians is the result (target: at most 1.1). Not a test: numbers.
#   test/bench/ddl/run.sh [--smoke]      (DDL_N=1000 DDL_ROUNDS=5 by default)
source "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/lib.sh"

SMOKE=0; [ "${1:-}" = "--smoke" ] && SMOKE=1
N=${DDL_N:-1000}; ROUNDS=${DDL_ROUNDS:-5}
if [ $SMOKE = 1 ]; then N=${DDL_N:-50}; ROUNDS=1; fi

ensure_packages "${BUILD_PACKAGES[@]}"
[ -n "${DDL_SKIP_BUILD:-}" ] || build_and_install
DIR=$(mktemp -d /tmp/pgview_ddl_bench.XXXXXX); chmod 755 "$DIR"
PORT=$(free_port 54360)
trap 'stop_cluster "$DIR"; rm -rf "$DIR"' EXIT
start_cluster "$DIR" "$PORT" "autovacuum = off"
q() { cluster_psql "$DIR" "$PORT" -v ON_ERROR_STOP=1 -qAt "$@"; }

q -d postgres -c "CREATE DATABASE plain" -c "CREATE DATABASE watched"
q -d watched -c "CREATE EXTENSION pgview_auto" -c "
  CREATE TABLE t (v int); CREATE VIEW v AS SELECT v FROM t;
  CREATE MATERIALIZED VIEW mv AS SELECT count(*) FROM v;
  SELECT pgview_watch('mv');" >/dev/null

# One round: N CREATE TABLE statements, each its own transaction (autocommit),
# timed by the server; then the tables go again.
round() { # db round -> milliseconds
    local db=$1 r=$2
    local f="$DIR/create_${db}_$r.sql"
    {
        echo "SELECT clock_timestamp() AS t0 \\gset"
        for i in $(seq 1 "$N"); do echo "CREATE TABLE bench_${r}_$i (id int PRIMARY KEY, v text);"; done
        echo "SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 1);"
    } >"$f"
    chmod 644 "$f"
    local ms
    ms=$(q -d "$db" -f "$f" | tail -1)
    q -d "$db" -c "DO \$\$ DECLARE r record; BEGIN FOR r IN SELECT relname FROM pg_class WHERE relname LIKE 'bench\_${r}\_%' AND relkind = 'r' LOOP EXECUTE format('DROP TABLE %I', r.relname); END LOOP; END \$\$"
    echo "$ms"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
plain=(); watched=()
for r in $(seq 1 "$ROUNDS"); do
    # alternate the order so drift hits both sides alike
    if [ $((r % 2)) = 1 ]; then plain+=("$(round plain $r)"); watched+=("$(round watched $r)")
    else watched+=("$(round watched $r)"); plain+=("$(round plain $r)"); fi
done
mp=$(printf '%s\n' "${plain[@]}" | median); mw=$(printf '%s\n' "${watched[@]}" | median)
ratio=$(awk -v a="$mw" -v b="$mp" 'BEGIN { printf "%.3f", a / b }')
met=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.1) ? "yes" : "no" }')

# The watch still works after all that DDL.
q -d watched -c "INSERT INTO t VALUES (1)"
fresh=$(q -d watched -c "SELECT count = 1 FROM mv")
[ "$fresh" = "t" ] || { echo "the watch stopped working during the DDL benchmark" >&2; exit 1; }

table="| workload | without pgview_auto (median) | with pgview_auto (median) | ratio | target | met? |
| --- | ---: | ---: | ---: | --- | --- |
| $N CREATE TABLE, autocommit ($ROUNDS rounds, alternating) | $mp ms | $mw ms | $ratio | <= 1.1 | $met |"
echo "$table"
echo "rounds without: ${plain[*]} ms; with: ${watched[*]} ms"
if [ $SMOKE = 0 ]; then
    {
        echo "# Unrelated DDL with pgview_auto installed"
        echo
        echo "Written by \`test/bench/ddl/run.sh\`; rerun it rather than editing this file."
        echo
        echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); PostgreSQL $(q -d postgres -c 'SHOW server_version'); $(nproc) CPUs"
        echo "- commit: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "- one throwaway server (fsync off, autovacuum off); database \`plain\` without the extension, \`watched\` with it and one commit-mode watch; each round creates $N tables in autocommit, timed on the server, then drops them"
        echo
        echo "$table"
        echo
        echo "All rounds: without ${plain[*]} ms; with ${watched[*]} ms."
    } >"$REPO/test/bench/ddl/RESULTS.md"
fi
