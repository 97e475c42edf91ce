"""The prediction rules on hand-made transactions (no server): run.sh runs these
first, so that a mistake in the harness's own arithmetic cannot pass for a bug
of pgview_auto, or hide one."""

import unittest

from prediction import FULL, INC, predict
from workload import Txn

SOURCES = {"ledger": INC, "accounts": INC, "events": FULL}


def txn(definite=None, maybe=(), committed=True):
    t = Txn(0, 0, "READ COMMITTED", committed=committed)
    t.definite = dict(definite or {})
    t.maybe = set(maybe)
    return t


class CommitMode(unittest.TestCase):
    def test_one_refresh_per_transaction_of_its_kind(self):
        p = predict("commit", [txn({"ledger": "rows"}), txn({"ledger": "rows", "accounts": "rows"}),
                               txn({"ledger": "rows", "events": "rows"})], SOURCES)
        self.assertTrue(p.holds(2, 1))
        self.assertFalse(p.holds(1, 2), "a silent fallback to full must fail")
        self.assertFalse(p.holds(3, 0))
        self.assertFalse(p.holds(2, 2))

    def test_truncate_of_an_incremental_source_is_full(self):
        p = predict("commit", [txn({"ledger": "truncate"})], SOURCES)
        self.assertTrue(p.holds(0, 1))
        self.assertFalse(p.holds(1, 0))

    def test_other_tables_and_rollbacks_give_nothing(self):
        p = predict("commit", [txn({"regions": "rows"}), txn(committed=False)], SOURCES)
        self.assertTrue(p.holds(0, 0))
        self.assertFalse(p.holds(0, 1))

    def test_maybe_allows_without_requiring(self):
        p = predict("commit", [txn({"ledger": "rows"}, maybe={"events"}), txn(maybe={"accounts"})], SOURCES)
        for inc, full in ((1, 0), (0, 1), (2, 0), (1, 1)):
            self.assertTrue(p.holds(inc, full), (inc, full))
        self.assertFalse(p.holds(0, 0))
        self.assertFalse(p.holds(0, 2))

    def test_truncate_rolled_back_allows_full(self):
        t = txn({"ledger": "rows"}, maybe={"accounts"})
        t.maybe_truncated = {"accounts"}
        p = predict("commit", [t], SOURCES)
        self.assertTrue(p.holds(1, 0) and p.holds(0, 1))
        self.assertFalse(p.holds(0, 0))

    def test_overflow_allows_full(self):
        p = predict("commit", [txn({"ledger": "rows"})], SOURCES, overflow=True)
        self.assertTrue(p.holds(1, 0) and p.holds(0, 1))
        self.assertFalse(p.holds(0, 0))


class Background(unittest.TestCase):
    def test_async_accumulates(self):
        p = predict("async", [txn({"ledger": "rows"}), txn({"accounts": "rows"})], SOURCES)
        self.assertTrue(p.holds(1, 0) and p.holds(2, 0))
        self.assertFalse(p.holds(0, 1), "only incremental sources were written: no full refresh")
        self.assertFalse(p.holds(0, 0))
        self.assertFalse(p.holds(3, 0))

    def test_async_full_source(self):
        p = predict("async", [txn({"ledger": "rows"}), txn({"events": "rows"})], SOURCES)
        self.assertTrue(p.holds(0, 1) and p.holds(1, 1))
        self.assertFalse(p.holds(1, 0))

    def test_manual_is_one_refresh_of_everything_pending(self):
        self.assertTrue(predict("manual", [txn({"ledger": "rows"}), txn({"accounts": "rows"})], SOURCES).holds(1, 0))
        self.assertFalse(predict("manual", [txn({"ledger": "rows"}), txn({"accounts": "rows"})], SOURCES).holds(2, 0))
        p = predict("manual", [txn({"ledger": "rows"}), txn({"events": "rows"})], SOURCES)
        self.assertTrue(p.holds(0, 1))
        self.assertFalse(p.holds(1, 0) or p.holds(1, 1))
        self.assertTrue(predict("manual", [], SOURCES).holds(0, 0))
        self.assertFalse(predict("manual", [], SOURCES).holds(0, 1))


class RacingFullRefresh(unittest.TestCase):
    def test_pgview_refresh_counts_as_full(self):
        p = predict("commit", [txn({"ledger": "rows"})], SOURCES, forced=2)
        self.assertTrue(p.holds(1, 2))
        self.assertFalse(p.holds(1, 1) or p.holds(0, 3))
        p = predict("manual", [txn({"ledger": "rows"})], SOURCES, forced=1)
        self.assertTrue(p.holds(0, 1) and p.holds(1, 1))
        self.assertFalse(p.holds(0, 0) or p.holds(0, 2))


if __name__ == "__main__":
    unittest.main()
