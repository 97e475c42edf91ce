#!/usr/bin/env bash
# pgview_auto — W2 floor: how fast can any maintenance of user_stats inside the
# writer's transaction go? (The bound behind the commit-mode figures of run.sh.)
#
# No extension at all: user_stats is a plain table filled from W2's query, and each
# pgbench transaction writes the order AND maintains the view row by hand, with the
# least work a maintainer can do, no trigger, no lock bookkeeping, no statistics:
#   none       INSERT the order (insert.pgb / insert_large.pgb)
#   delta      INSERT and UPDATE of the user's row by arithmetic (count + 1, sum +
#              total) in one statement: what a perfect delta maintainer (pg_ivm's
#              way) writes, nothing else; it works only for aggregates with an inverse
#   recompute  INSERT and UPDATE of the user's row from its group (count, sum over
#              the user's orders, through orders(user_id)) in one statement: what
#              recomputing a key costs, the way pgview_auto's keyed refresh works for
#              any aggregate (the statement's snapshot does not see its own INSERT,
#              hence the + 1 and + 9.99)
# W2 (1,000 users, 100,000 orders) and W2 large (100,000 and 1,000,000), 1 and 8
# clients, setups rotated over interleaved repetitions, ratios to none taken within
# a repetition, medians reported. fsync as run.sh (W2_DURABLE=1: on).
#
# Usage: test/bench/w2/floor.sh [--smoke]   (appends its table to FLOOR.md here; not with --smoke)
# Then COPY of W2_COPY_ROWS rows into orders with and without a transition-table
# trigger (the floor of a capture, and of maintaining the view in the COPY's own
# transaction, see below).
# Environment: W2_SECONDS (10) [2], W2_REPEAT (3) [1], W2_COPY_ROWS (1000000) [2000],
# W2_FLOOR_SECTIONS ("tps copy async": which measurements), W2_PORT, W2_DURABLE, W2_WORKLOADS
set -Eeuo pipefail
trap 'exit 3' ERR

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR/../../..
# shellcheck source=scripts/lib.sh
source "$HERE/../../../scripts/lib.sh"
bench_args "$@"
if ((SMOKE)); then SECS=2 REPEAT=1 USERS=100 ORDERS=5000 LUSERS=2000 LORDERS=20000 COPY_ROWS=2000
else
    SECS=${W2_SECONDS:-10} REPEAT=${W2_REPEAT:-3} USERS=1000 ORDERS=100000 LUSERS=100000 LORDERS=1000000
    COPY_ROWS=${W2_COPY_ROWS:-1000000}
fi
if [ -n "${W2_WORKLOADS:-}" ]; then WORKLOADS=$W2_WORKLOADS
elif [ -d "$REPO/../shared/workloads/w2" ]; then WORKLOADS=$REPO/../shared/workloads/w2
else WORKLOADS=$REPO/test/bench/reference/workloads/w2; fi
WORKLOADS=$(cd "$WORKLOADS" && pwd)
ensure_packages "${BUILD_PACKAGES[@]}" >&2

throwaway_dir floor
PORT=${W2_PORT:-$(free_port 54395)}
DURABILITY=off
[ "${W2_DURABLE:-0}" = 1 ] && DURABILITY=on
say "starting a throwaway server on port $PORT (fsync = $DURABILITY)" >&2
start_cluster "$TMP" "$PORT" "max_connections = 50" "fsync = $DURABILITY"
psql_db() { local db=$1; shift; cluster_psql "$TMP" "$PORT" -d "$db" -v ON_ERROR_STOP=1 -qAt "$@"; }

# The view's rows as a plain table (W2's query, table_view.sql's columns).
load() { # NAME USERS ORDERS
    psql_db postgres -c "CREATE DATABASE $1"
    { echo "SET client_min_messages = warning;"; cat "$WORKLOADS/setup.sql"; } |
        psql_db "$1" -v users="$2" -v orders="$3" >/dev/null
    psql_db "$1" -c "CREATE TABLE user_stats AS
        SELECT u.id AS user_id, u.name, count(o.id) AS order_count, coalesce(sum(o.total),0) AS total_spent
          FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id, u.name" \
        -c "ALTER TABLE user_stats ADD PRIMARY KEY (user_id)" -c "VACUUM ANALYZE"
}
SECTIONS=" ${W2_FLOOR_SECTIONS:-tps copy async} "
wanted() { [[ $SECTIONS == *" $1 "* ]]; }
if wanted tps; then load w2_small "$USERS" "$ORDERS"; fi
load w2_large "$LUSERS" "$LORDERS"

mkdir -p "$TMP/files"
# Rows of user_stats in database run that differ from W2's query: a floor that
# maintained the view wrongly would prove nothing.
wrong_rows() {
    psql_db run -c "WITH q AS (SELECT u.id AS user_id, count(o.id) AS order_count,
            coalesce(sum(o.total), 0) AS total_spent FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id),
        s AS (SELECT user_id, order_count, total_spent FROM user_stats)
        SELECT (SELECT count(*) FROM (TABLE q EXCEPT ALL TABLE s) a) + (SELECT count(*) FROM (TABLE s EXCEPT ALL TABLE q) b)"
}
script() { # FILE USERS SETUP
    # One statement, one round trip, as none (and as commit mode, which refreshes in
    # the COMMIT of the INSERT's own transaction): BEGIN ... END would add three
    # round trips that no maintainer needs.
    {
        echo "\\set uid random(1, $2)"
        case $3 in
        none) echo "INSERT INTO orders(user_id,total) VALUES (:uid, 9.99);" ;;
        delta) echo "WITH o AS (INSERT INTO orders(user_id,total) VALUES (:uid, 9.99) RETURNING user_id, total) UPDATE user_stats s SET order_count = s.order_count + 1, total_spent = s.total_spent + o.total FROM o WHERE s.user_id = o.user_id;" ;;
        recompute) echo "WITH o AS (INSERT INTO orders(user_id,total) VALUES (:uid, 9.99) RETURNING user_id) UPDATE user_stats s SET (order_count, total_spent) = (SELECT count(x.id) + 1, coalesce(sum(x.total), 0) + 9.99 FROM orders x WHERE x.user_id = :uid) FROM o WHERE s.user_id = o.user_id;" ;;
        esac
    } >"$TMP/files/$1"
}
SETUPS=(none delta recompute)
for s in "${SETUPS[@]}"; do script "small_$s.pgb" "$USERS" "$s"; script "large_$s.pgb" "$LUSERS" "$s"; done
[ "$(id -u)" -eq 0 ] && chown -R "$PGUSER_OS" "$TMP/files"

declare -A TPS WRONG
TABLE=""
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "—" }'; }
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g |
    awk '{ v[NR] = $1 } END { printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
if wanted tps; then
    TABLE="| data | clients | setup | TPS (median) | ratio to none (median) |
| --- | --- | --- | --- | --- |"
    for data in small large; do
        for c in 1 8; do
            for ((r = 1; r <= REPEAT; r++)); do
                for ((i = 0; i < ${#SETUPS[@]}; i++)); do
                    s=${SETUPS[$(((i + r - 1) % ${#SETUPS[@]}))]}
                    # every run from the same data: a copy of the loaded database
                    psql_db postgres -c "DROP DATABASE IF EXISTS run WITH (FORCE)" -c "CREATE DATABASE run TEMPLATE w2_$data"
                    psql_db run -c "CHECKPOINT"
                    out=$(cd "$TMP" && as_pg pgbench -n -c "$c" -j 2 -T "$SECS" -h "$TMP" -p "$PORT" -U postgres -f "$TMP/files/${data}_$s.pgb" run 2>&1)
                    tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' <<<"$out")
                    [ -n "$tps" ] || { echo "$out" >&2; exit 3; }
                    TPS[$data.$c.$r.$s]=$tps
                    say "W2 $data, $c client(s), repetition $r, $s: $tps TPS" >&2
                    if [ "$s" != none ]; then
                        # delta is exact under concurrency (the UPDATE re-reads a row a concurrent
                        # writer changed); recompute only at 1 client: its group read uses the
                        # statement's snapshot, so concurrent writers of a key lose each other's
                        # orders. It is a lower bound there, cheaper than anything correct (a
                        # correct one locks the key before reading, as pgview_auto does).
                        wrong=$(wrong_rows)
                        if [ "$wrong" != 0 ] && { [ "$s" = delta ] || [ "$c" = 1 ]; }; then
                            echo "$s at $c client(s) left $wrong wrong rows in user_stats" >&2; exit 3
                        fi
                        [ "$wrong" = 0 ] || WRONG[$data.$c.$s]=$wrong
                    fi
                done
            done
            for s in "${SETUPS[@]}"; do
                vals="" ratios=""
                for ((r = 1; r <= REPEAT; r++)); do
                    vals+=" ${TPS[$data.$c.$r.$s]}"; ratios+=" $(ratio "${TPS[$data.$c.$r.$s]}" "${TPS[$data.$c.$r.none]}")"
                done
                TABLE+=$'\n'"| W2${data/small/} | $c | $s | $(median "$vals") | $(median "$ratios") |"
            done
        done
    done
    for k in "${!WRONG[@]}"; do
        IFS=. read -r data c setup <<<"$k"
        TABLE+=$'\n\n'"W2${data/small/}, $c clients, $setup: the view was wrong after a run (${WRONG[$k]} rows): a lower bound only, cheaper than any correct maintenance."
    done
    TABLE=${TABLE//W2large/W2 large}
fi

# COPY into orders (W2 large): the floor of capturing a statement's changed rows
# through a transition table, as pgview_auto's capture triggers do. PostgreSQL keeps
# every new row in the transition table's tuplestore once any AFTER ... REFERENCING
# trigger exists; reading it for the distinct keys is the least a capture can do.
#   none       no trigger
#   transition an AFTER INSERT ... REFERENCING NEW TABLE statement trigger that
#              reads nothing (the tuplestore alone)
#   keys       the same trigger reading the distinct user_ids of the new rows
# and, for commit mode, maintaining user_stats in the COPY's transaction (1M orders
# over 100,000 users change nearly every row of the view):
#   delta      the trigger adds each user's count and sum of new rows to its row
#              (one UPDATE from a hash aggregate of the transition table)
#   recompute  the trigger recomputes the group of every user in the new rows
#              (one UPDATE, each row's count and sum through orders(user_id))
if wanted copy; then
    psql_db w2_large -c "COPY (SELECT 1 + floor(random() * $LUSERS)::int, round((random() * 100)::numeric, 2)
        FROM generate_series(1, $COPY_ROWS)) TO '$TMP/files/copy.tsv'"
    COPY_SETUPS=(none transition keys delta recompute)
    copy_trigger_body() { # SETUP: the PL/pgSQL statements of the trigger
        case $1 in
        transition) ;;
        keys) echo "PERFORM count(DISTINCT user_id) FROM n;" ;;
        delta) echo "UPDATE user_stats s SET order_count = s.order_count + d.c, total_spent = s.total_spent + d.t
                    FROM (SELECT user_id, count(*) AS c, sum(total) AS t FROM n GROUP BY user_id) d WHERE s.user_id = d.user_id;" ;;
        recompute) echo "UPDATE user_stats s SET (order_count, total_spent) =
                    (SELECT count(x.id), coalesce(sum(x.total), 0) FROM orders x WHERE x.user_id = s.user_id)
                    WHERE s.user_id IN (SELECT DISTINCT user_id FROM n);" ;;
        esac
    }
    declare -A COPYMS
    for ((r = 1; r <= REPEAT; r++)); do
        for ((i = 0; i < ${#COPY_SETUPS[@]}; i++)); do
            s=${COPY_SETUPS[$(((i + r - 1) % ${#COPY_SETUPS[@]}))]}
            psql_db postgres -c "DROP DATABASE IF EXISTS run WITH (FORCE)" -c "CREATE DATABASE run TEMPLATE w2_large"
            [ "$s" = none ] || psql_db run -c "CREATE FUNCTION capture() RETURNS trigger LANGUAGE plpgsql AS \$\$
                BEGIN $(copy_trigger_body "$s") RETURN NULL; END \$\$" \
                -c "CREATE TRIGGER capture AFTER INSERT ON orders REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION capture()"
            psql_db run -c "CHECKPOINT"
            COPYMS[$r.$s]=$(printf '%s\n' "SELECT clock_timestamp() AS t0 \\gset" \
                "COPY orders(user_id, total) FROM '$TMP/files/copy.tsv';" \
                "SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 2);" | psql_db run | tail -1)
            say "COPY of $COPY_ROWS rows, repetition $r, $s: ${COPYMS[$r.$s]} ms" >&2
            if [ "$s" = delta ] || [ "$s" = recompute ]; then
                wrong=$(wrong_rows)
                [ "$wrong" = 0 ] || { echo "COPY floor $s left $wrong wrong rows in user_stats" >&2; exit 3; }
            fi
        done
    done
    COPY_TABLE="| COPY of $COPY_ROWS rows (W2 large) | ms (median) | ratio to none (median) |
| --- | --- | --- |"
    for s in "${COPY_SETUPS[@]}"; do
        vals="" ratios=""
        for ((r = 1; r <= REPEAT; r++)); do vals+=" ${COPYMS[$r.$s]}"; ratios+=" $(ratio "${COPYMS[$r.$s]}" "${COPYMS[$r.none]}")"; done
        COPY_TABLE+=$'\n'"| $s | $(median "$vals") | $(median "$ratios") |"
    done
    TABLE+=${TABLE:+$'\n\n'}"$COPY_TABLE"
fi
# Async (W2 large, 8 writers, insert_large.pgb): what a perfect background maintainer
# costs the writers on these cores, the floor of async mode ("a hand-written batched
# applier running beside the same writers"):
#   none     the writers alone
#   log      each INSERT also appends (user_id, 1, total) to a log table (a row
#            trigger): the capture a batched applier needs, nothing applied
#   applier  the same, and one more connection applying the log in a loop for as long
#            as the writers run: it deletes the log's rows it sees and adds their
#            count and sum per user to user_stats in one statement (delta arithmetic,
#            batched: what pgview_auto's worker would do if it knew the values);
#            after the writers, one last round, and the view must be exact
if wanted async; then
    ASYNC_SETUPS=(none log applier)
    cat >"$TMP/files/apply.pgb" <<'SQL'
WITH d AS (DELETE FROM user_stats_log RETURNING user_id, n, t),
     a AS (SELECT user_id, sum(n) AS n, sum(t) AS t FROM d GROUP BY user_id)
UPDATE user_stats s SET order_count = s.order_count + a.n, total_spent = s.total_spent + a.t
  FROM a WHERE s.user_id = a.user_id;
SQL
    [ "$(id -u)" -eq 0 ] && chown -R "$PGUSER_OS" "$TMP/files"
    declare -A ATPS ARUNS
    for ((r = 1; r <= REPEAT; r++)); do
        for ((i = 0; i < ${#ASYNC_SETUPS[@]}; i++)); do
            s=${ASYNC_SETUPS[$(((i + r - 1) % ${#ASYNC_SETUPS[@]}))]}
            psql_db postgres -c "DROP DATABASE IF EXISTS run WITH (FORCE)" -c "CREATE DATABASE run TEMPLATE w2_large"
            [ "$s" = none ] || psql_db run -c "CREATE TABLE user_stats_log (user_id int NOT NULL, n bigint NOT NULL, t numeric NOT NULL)" \
                -c "CREATE FUNCTION log_order() RETURNS trigger LANGUAGE plpgsql AS \$\$
                    BEGIN INSERT INTO user_stats_log VALUES (NEW.user_id, 1, NEW.total); RETURN NULL; END \$\$" \
                -c "CREATE TRIGGER log_order AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION log_order()"
            psql_db run -c "CHECKPOINT"
            apid=""
            if [ "$s" = applier ]; then
                (cd "$TMP" && as_pg pgbench -n -c 1 -T "$SECS" -h "$TMP" -p "$PORT" -U postgres -f "$TMP/files/apply.pgb" run \
                    >"$TMP/files/applier.out" 2>&1) &
                apid=$!
            fi
            out=$(cd "$TMP" && as_pg pgbench -n -c 8 -j 2 -T "$SECS" -h "$TMP" -p "$PORT" -U postgres -f "$TMP/files/large_none.pgb" run 2>&1)
            tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' <<<"$out")
            [ -n "$tps" ] || { echo "$out" >&2; exit 3; }
            ATPS[$r.$s]=$tps
            if [ -n "$apid" ]; then
                wait "$apid"
                ARUNS[$r]=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$TMP/files/applier.out")
                left=$(psql_db run -c "SELECT count(*) FROM user_stats_log")
                psql_db run -f "$TMP/files/apply.pgb" >/dev/null
                wrong=$(wrong_rows)
                [ "$wrong" = 0 ] || { echo "the batched applier left $wrong wrong rows in user_stats" >&2; exit 3; }
                ARUNS[$r]+=" rounds, $left log rows left when the writers stopped"
            fi
            say "W2 large, 8 writers, repetition $r, $s: $tps TPS${apid:+ (applier: ${ARUNS[$r]})}" >&2
        done
    done
    ASYNC_TABLE="| async floor: W2 large, 8 writers | TPS (median) | ratio to none (median) |
| --- | --- | --- |"
    for s in "${ASYNC_SETUPS[@]}"; do
        vals="" ratios=""
        for ((r = 1; r <= REPEAT; r++)); do vals+=" ${ATPS[$r.$s]}"; ratios+=" $(ratio "${ATPS[$r.$s]}" "${ATPS[$r.none]}")"; done
        ASYNC_TABLE+=$'\n'"| $s | $(median "$vals") | $(median "$ratios") |"
    done
    for ((r = 1; r <= REPEAT; r++)); do ASYNC_TABLE+=$'\n\n'"Applier, repetition $r: ${ARUNS[$r]}."; done
    TABLE+=${TABLE:+$'\n\n'}"$ASYNC_TABLE"
fi
echo "$TABLE"
if ((!SMOKE)); then
    {
        echo
        echo "## $(date -u +%Y-%m-%d) — commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown), fsync = $DURABILITY, $REPEAT repetitions of $SECS s, $(nproc) cores"
        echo
        echo "$TABLE"
    } >>"$HERE/FLOOR.md"
fi
