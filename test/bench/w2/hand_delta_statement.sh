#!/usr/bin/env bash
# pgview_auto — W2's pgbench scripts with user_stats maintained inside each
# statement (data-modifying CTEs): the floor of any delta maintenance, no
# trigger, no lock, no bookkeeping (run.sh's setup "statement", floor.sh's
# "delta"). Usage: hand_delta_statement.sh SCRIPT USERS > FILE, where SCRIPT is
# insert, insert_large or mixed.
set -euo pipefail
script=$1 users=$2
insert="WITH o AS (INSERT INTO orders(user_id,total) VALUES (:uid, 9.99) RETURNING user_id, total) UPDATE user_stats s SET order_count = s.order_count + 1, total_spent = s.total_spent + o.total FROM o WHERE s.user_id = o.user_id;"
case $script in
insert | insert_large)
    printf '%s\n' "\\set uid random(1, $users)" "$insert" ;;
mixed)
    printf '%s\n' "\\set uid random(1, $users)" "\\set uid2 random(1, $users)" "\\set oid random(1, 100000)" "BEGIN;" "$insert" \
        "WITH o AS (UPDATE orders SET total = total + 1 WHERE id = :oid RETURNING user_id) UPDATE user_stats s SET total_spent = s.total_spent + 1 FROM o WHERE s.user_id = o.user_id;" \
        "WITH old AS (SELECT user_id, total FROM orders WHERE id = :oid + 1 FOR UPDATE), o AS (UPDATE orders SET user_id = :uid2 WHERE id = :oid + 1 RETURNING user_id, total), d AS (SELECT user_id, -1 AS n, -total AS t FROM old UNION ALL SELECT user_id, 1, total FROM o) UPDATE user_stats s SET order_count = s.order_count + x.n, total_spent = s.total_spent + x.t FROM (SELECT user_id, sum(n) AS n, sum(t) AS t FROM d GROUP BY user_id) x WHERE s.user_id = x.user_id;" \
        "WITH o AS (DELETE FROM orders WHERE id = :oid + 2 RETURNING user_id, total) UPDATE user_stats s SET order_count = s.order_count - 1, total_spent = s.total_spent - o.total FROM o WHERE s.user_id = o.user_id;" \
        "END;" ;;
*) echo "hand_delta_statement.sh: unknown script $script" >&2; exit 64 ;;
esac
