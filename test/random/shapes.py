"""The view shapes of the randomized differential test.

Each shape becomes a table view (pgview_create(..., kind => 'table view',
unique_key => key)) named rt_<name>, owned by schema.OWNER. Its unique key is truly
unique in the query's output (a refresh fails with 21000 otherwise); a shape with
no key is created without unique_key, keyed by what its query gives (a key that
may only partition its rows, issue 22: bags and joins without keys). Its result
is deterministic (ordered string_agg with a tie-breaker, no float columns, ranks
over values with ties ranked alike), so that "the table equals its query" is exact.

`expect` says how pgview_explain must report a source once incremental refresh
exists (issue 12): 'incremental' for the cases the issue says must be keyed, 'full'
for those it says must fall back, and nothing for the sources either answer is
correct for (the test then only holds the refresh to what pgview_explain says).
Whatever pgview_explain says, every shape must stay equal to its query.
"""

from dataclasses import dataclass, field

INC = "incremental"
FULL = "full"


@dataclass(frozen=True)
class Shape:
    name: str
    query: str
    key: tuple
    expect: dict = field(default_factory=dict)  # source table -> INC | FULL
    covers: str = ""                              # what it is there to test
    known_bug: str = ""                           # left out of the default run until fixed
    delta: tuple = ()                             # the sources whose changes are kept as deltas
    may_turn_full: str = ""                       # why an incremental refresh may be full instead

    @property
    def relation(self):
        return "rt_" + self.name


# Plain views under some shapes (nested: rt_v_positive_named reads both others).
VIEWS_SQL = """
CREATE VIEW rt_v_account_regions AS
  SELECT a.id, a.owner, a.region, r.name AS region_name, r.tier
  FROM accounts a LEFT JOIN regions r ON r.id = a.region;
CREATE VIEW rt_v_positive AS
  SELECT id, account_id, amount, day FROM ledger WHERE amount > 0;
CREATE VIEW rt_v_positive_named AS
  SELECT p.id, p.account_id, p.amount, p.day, v.owner, v.region_name
  FROM rt_v_positive p JOIN rt_v_account_regions v ON v.id = p.account_id;
"""

SHAPES = (
    # --- keyed: the issue lists these as incremental ------------------------------
    Shape("join_inner",
          "SELECT l.id AS lid, l.account_id, a.owner, a.region, l.amount "
          "FROM ledger l JOIN accounts a ON a.id = l.account_id",
          ("lid",), {"ledger": INC, "accounts": INC},
          "inner join; for accounts the key (ledger.id) is reached through the join"),
    Shape("account_stats",
          "SELECT a.id AS account_id, a.owner, count(l.id) AS n, coalesce(sum(l.amount), 0) AS total, "
          "avg(l.amount) AS mean, min(l.day) AS first_day, max(l.amount) AS top "
          "FROM accounts a LEFT JOIN ledger l ON l.account_id = a.id GROUP BY a.id, a.owner",
          ("account_id",), {"accounts": INC, "ledger": INC},
          "W2's shape: LEFT JOIN, key from the preserved side, count/sum/avg/min/max (no delta: avg(amount) "
          "without count(amount))"),
    Shape("delta_own",
          "SELECT account_id, count(*) AS n, count(amount) AS amounts, sum(amount) AS total, "
          "avg(amount) AS mean, coalesce(sum(amount), 0) AS total0 FROM ledger WHERE memo IS DISTINCT FROM 'm3' "
          "GROUP BY account_id",
          ("account_id",), {"ledger": INC},
          "delta arithmetic on groups of the table's own: groups appear and vanish, NULL amounts, a filter, "
          "the NULL key group (recomputed)",
          delta=("ledger",)),
    Shape("delta_partitioned",
          "SELECT account_id, count(*) AS n, sum(qty) AS qty, max(at) AS last_at, min(qty) AS least "
          "FROM events WHERE qty > 1 GROUP BY account_id",
          ("account_id",), {"events": INC},
          "delta arithmetic over a partitioned table (rows moving between partitions), insert-only min/max",
          delta=("events",)),
    Shape("region_via_join",
          "SELECT a.region, count(*) AS n, sum(l.amount) AS total, count(DISTINCT l.account_id) AS accounts "
          "FROM ledger l JOIN accounts a ON a.id = l.account_id GROUP BY a.region",
          ("region",), {"ledger": INC, "accounts": INC},
          "key accounts.region through ledger.account_id = accounts.id; NULL key group; count(DISTINCT)"),
    Shape("region_tree",
          "SELECT r.id AS region_id, r.name, count(a.id) AS accounts, count(l.id) AS entries, "
          "coalesce(sum(l.amount), 0) AS total "
          "FROM regions r LEFT JOIN accounts a ON a.region = r.id LEFT JOIN ledger l ON l.account_id = a.id "
          "GROUP BY r.id, r.name",
          ("region_id",), {"regions": INC, "accounts": INC, "ledger": INC},
          "three tables, two LEFT JOINs, key through two joins"),
    Shape("daily",
          "SELECT date_trunc('day', day) AS d, count(*) AS n, sum(amount) AS total, max(memo) AS last_memo "
          "FROM ledger GROUP BY 1",
          ("d",), {"ledger": INC},
          "expression key: a time bucket of a timestamp (NULL bucket too)"),
    Shape("amount_bucket",
          "SELECT floor(amount / 100) AS bucket, count(*) AS n, string_agg(memo, ',' ORDER BY memo, id) AS memos "
          "FROM ledger GROUP BY 1",
          ("bucket",), {"ledger": INC},
          "expression key amount / 100; ordered string_agg"),
    Shape("having",
          "SELECT account_id, count(*) AS n, sum(amount) AS total FROM ledger "
          "WHERE amount > 100 GROUP BY account_id HAVING count(*) >= 3",
          ("account_id",), {"ledger": INC},
          "WHERE filter and HAVING; groups appear and vanish"),
    Shape("aggregates",
          "SELECT account_id, string_agg(memo, '|' ORDER BY memo, id) AS memos, ivm_sumsq(amount) AS sumsq, "
          "count(DISTINCT memo) AS distinct_memos, bool_and(amount > 50) AS all_big "
          "FROM ledger GROUP BY account_id",
          ("account_id",), {"ledger": INC},
          "a user-defined aggregate, ordered string_agg, count(DISTINCT), NULL key group"),
    Shape("window_by_key",
          "SELECT account_id, max(running) AS peak, count(*) AS n FROM "
          "(SELECT account_id, sum(amount) OVER (PARTITION BY account_id ORDER BY day, id) AS running "
          "FROM ledger) s GROUP BY account_id",
          ("account_id",), {"ledger": INC},
          "a window partitioned by the key, in a subquery in FROM"),
    Shape("distinct",
          "SELECT DISTINCT region, kind FROM accounts",
          ("region", "kind"), {"accounts": INC},
          "DISTINCT; a multi-column key with NULLs"),
    Shape("union_all",
          "SELECT 'ledger' AS origin, account_id, count(*) AS n FROM ledger GROUP BY account_id "
          "UNION ALL SELECT 'events', account_id, count(*) FROM events GROUP BY account_id",
          ("origin", "account_id"), {"ledger": INC, "events": INC},
          "UNION ALL of branches keyed alike (a literal branch column in the key)"),
    Shape("subquery_from",
          "SELECT s.account_id, s.total, a.owner FROM "
          "(SELECT account_id, sum(amount) AS total FROM ledger GROUP BY account_id) s "
          "LEFT JOIN accounts a ON a.id = s.account_id",
          ("account_id",), {"ledger": INC, "accounts": INC},
          "a grouped subquery in FROM, LEFT JOIN to the nullable side's key"),
    Shape("nested_views",
          "SELECT account_id, owner, region_name, count(*) AS n, sum(amount) AS total "
          "FROM rt_v_positive_named GROUP BY account_id, owner, region_name",
          ("account_id",), {"ledger": INC, "accounts": INC, "regions": INC},
          "plain views nested two deep; regions reached through accounts.region"),
    Shape("events_daily",
          "SELECT account_id, date_trunc('day', at) AS d, count(*) AS n, sum(qty) AS qty "
          "FROM events GROUP BY 1, 2",
          ("account_id", "d"), {"events": INC},
          "a partitioned table; a multi-column key, one column an expression, NULLs",
          delta=("events",)),
    Shape("events_february",
          "SELECT account_id, count(*) AS n, sum(qty) AS qty FROM events_feb GROUP BY account_id",
          ("account_id",), {"events_feb": INC},
          "one partition read directly, written through the parent and directly",
          known_bug="rows written through the parent (INSERT, UPDATE, COPY into events) that land in "
                    "events_feb are not captured for a view reading events_feb: statement triggers of a "
                    "partition do not fire for DML through its parent, so the view stays stale"),
    Shape("kind_totals",
          "SELECT a.region, a.kind, count(l.id) AS n, coalesce(sum(l.amount), 0) AS total "
          "FROM accounts a LEFT JOIN ledger l ON l.account_id = a.id GROUP BY a.region, a.kind",
          ("region", "kind"), {"accounts": INC, "ledger": INC},
          "a multi-column key with NULLs, reached through a LEFT JOIN"),

    # --- no unique_key: keyed by columns that partition the rows (a value may repeat)
    Shape("bag_amounts",
          "SELECT account_id, amount FROM ledger WHERE amount > 0",
          (), {"ledger": INC},
          "a bag (copies of a row), no key given: partitioned by its plain columns, NULLs in them"),
    Shape("join_bag",
          "SELECT a.region, l.amount, l.memo FROM ledger l JOIN accounts a ON a.id = l.account_id",
          (), {"ledger": INC, "accounts": INC},
          "an inner join without the tables' keys in its select list: a partition from one side, the "
          "other's changes mapped through the join"),
    Shape("left_join_bag",
          "SELECT a.owner, a.kind, l.amount FROM accounts a LEFT JOIN ledger l ON l.account_id = a.id",
          (), {"accounts": INC, "ledger": INC},
          "a LEFT JOIN without keys: the partition from the preserved side, null-extended rows coming and going"),
    Shape("self_join_bag",
          "SELECT l1.account_id, l1.amount AS first_amount, l2.amount AS later_amount "
          "FROM ledger l1 JOIN ledger l2 ON l2.account_id = l1.account_id AND l2.id > l1.id "
          "WHERE l1.amount > 300 AND l2.amount > 300",
          (), {"ledger": INC},
          "a self join (pg_ivm's mv_self): both occurrences of ledger give the partition (account_id)"),
    Shape("cte_join_bag",
          "WITH big AS (SELECT account_id, amount FROM ledger WHERE amount > 100) "
          "SELECT b.account_id, b.amount, a.kind FROM big b JOIN accounts a ON a.id = b.account_id",
          (), {"ledger": INC, "accounts": INC},
          "a CTE joined to a table, no key: partitioned by the join column"),

    Shape("one_row_totals",
          "SELECT count(*) AS n, count(amount) AS amounts, sum(amount) AS total, avg(amount) AS mean "
          "FROM ledger WHERE memo IS DISTINCT FROM 'm3'",
          (), {"ledger": INC},
          "aggregates without GROUP BY: one row keyed by (), kept by delta arithmetic",
          delta=("ledger",),
          may_turn_full="where delta arithmetic cannot apply (a rolled-back savepoint, say), its one row is "
                        "recomputed whole: a full difference"),

    Shape("sublink_where",
          "SELECT a.id AS account_id, a.owner FROM accounts a "
          "WHERE EXISTS (SELECT FROM ledger l WHERE l.account_id = a.id AND l.amount > 400)",
          ("account_id",), {"accounts": INC, "ledger": INC},
          "EXISTS correlated by an equality: ledger's changes touch their account_id's row only"),
    Shape("sublink_select",
          "SELECT r.id AS region_id, r.name, (SELECT count(*) FROM accounts a WHERE a.region = r.id) AS accounts "
          "FROM regions r",
          ("region_id",), {"regions": INC, "accounts": INC},
          "a scalar subquery in SELECT correlated by an equality (NULL regions count nowhere)"),
    Shape("not_exists_bag",
          "SELECT l.account_id, l.amount FROM ledger l "
          "WHERE NOT EXISTS (SELECT FROM accounts a WHERE a.id = l.account_id AND a.kind IS NOT NULL)",
          (), {"ledger": INC, "accounts": INC},
          "NOT EXISTS correlated by an equality, no key given: partitioned by account_id, which the "
          "subquery's changes give"),

    # --- keys found by lookup in the view's rows (FULL JOINs, cross joins) ---------
    Shape("full_join_bag",
          "SELECT a.id AS aid, a.owner, l.id AS lid, l.account_id AS l_account, l.amount "
          "FROM accounts a FULL JOIN ledger l "
          "ON l.account_id = a.id",
          (), {"accounts": INC, "ledger": INC},
          "a FULL JOIN: every plain column the partition, each side's changes looked up in the view's rows "
          "through the ON equality (rows losing or gaining their NULL extension)"),
    Shape("full_full_join",
          "SELECT r.id AS rid, a.id AS aid, a.region, l.id AS lid, l.account_id AS l_account "
          "FROM regions r FULL JOIN accounts a ON a.region = r.id FULL JOIN ledger l ON l.account_id = a.id",
          (), {"regions": INC, "accounts": INC, "ledger": INC},
          "two FULL JOINs in a chain: a change in the middle flips rows on both sides"),
    Shape("inner_then_full",
          "SELECT a.id AS aid, l.id AS lid, r.id AS rid FROM accounts a JOIN ledger l ON l.account_id = a.id "
          "FULL JOIN regions r ON r.id = a.region",
          (), {"regions": INC, "accounts": INC, "ledger": INC},
          "a FULL JOIN after an inner join: a ledger row flips the regions of its account's region, found "
          "through accounts' rows (rid = regions.id where accounts.id = ledger.account_id)"),
    Shape("cross_join",
          "SELECT r.id AS region_id, r.tier, a.id AS account_id FROM regions r CROSS JOIN accounts a "
          "WHERE a.region IS DISTINCT FROM r.id",
          ("region_id", "account_id"), {"regions": INC, "accounts": INC},
          "a cross join filtered by an inequality: each side's changes are the rows of its values"),
    Shape("exists_distinct",
          "SELECT DISTINCT a.id AS account_id, a.kind FROM accounts a "
          "WHERE EXISTS (SELECT FROM ledger l WHERE l.account_id = a.id AND l.amount > 300)",
          (), {"accounts": INC, "ledger": INC},
          "EXISTS under DISTINCT: the key (account_id, kind) needs more than the correlation column, so "
          "ledger's changes are looked up by account_id"),

    # --- either answer is correct: held to what pgview_explain says -----------------
    Shape("window_part_key",
          "SELECT account_id, d, n, sum(n) OVER (PARTITION BY account_id ORDER BY d) AS cumulative FROM "
          "(SELECT account_id, date_trunc('day', at) AS d, count(*) AS n FROM events GROUP BY 1, 2) s",
          ("account_id", "d"), {},
          "a window partitioned by part of a multi-column key"),
    Shape("nullable_side_key",
          "SELECT a.id AS account_id, count(l.id) AS n, sum(l.amount) AS total "
          "FROM ledger l LEFT JOIN accounts a ON a.id = l.account_id GROUP BY a.id",
          ("account_id",), {"accounts": FULL},
          "key from the nullable side of an outer join: unmatched rows fall into the NULL group"),
    Shape("grand_total",
          "SELECT 1 AS one, count(*) AS n, sum(amount) AS total FROM ledger",
          ("one",), {},
          "an aggregate without GROUP BY (a constant key)"),

    # --- must fall back to full (the list) --------------------------------
    Shape("window_global",
          "SELECT account_id, total, rank() OVER (ORDER BY total DESC NULLS LAST) AS place FROM "
          "(SELECT account_id, sum(amount) AS total FROM ledger GROUP BY account_id) s",
          ("account_id",), {"ledger": FULL},
          "rank() over everything"),
    Shape("window_not_by_key",
          "SELECT id AS lid, account_id, amount, sum(amount) OVER (PARTITION BY account_id) AS account_total "
          "FROM ledger",
          ("lid",), {"ledger": FULL},
          "a window partitioned by something other than the key"),
    Shape("limit_offset",
          "SELECT id AS lid, account_id, amount FROM ledger ORDER BY amount DESC NULLS LAST, id LIMIT 15 OFFSET 2",
          ("lid",), {"ledger": FULL},
          "LIMIT/OFFSET"),
    Shape("sublink_or",
          "SELECT a.id AS account_id, a.owner FROM accounts a "
          "WHERE EXISTS (SELECT FROM ledger l WHERE l.account_id = a.id OR l.amount > 400)",
          ("account_id",), {"ledger": FULL},
          "a subquery in WHERE not correlated by an equality alone (full for that table)"),
    Shape("volatile",
          "SELECT id AS lid, ivm_volatile(amount) AS amount FROM ledger WHERE account_id IS NOT NULL",
          ("lid",), {"ledger": FULL},
          "a volatile function"),
)


def by_name(names):
    """The shapes named (when names is empty: all but those with a known bug, or all
    of them with names == ['all']); unknown names are an error."""
    if not names:
        return [s for s in SHAPES if not s.known_bug]
    if names == ["all"]:
        return list(SHAPES)
    known = {s.name: s for s in SHAPES}
    missing = [n for n in names if n not in known]
    if missing:
        raise SystemExit(f"unknown shape(s): {', '.join(missing)} (known: {', '.join(known)})")
    return [known[n] for n in names]
