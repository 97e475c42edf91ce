"""How many incremental and full refreshes a round must give each table view.

From the view's sources (pgview_explain: 'incremental' or 'full' per source; before
incremental refresh exists, pgview_status().sources, every one 'full') and the
transactions' records (workload.Txn), per the rules of issue 12:
  commit mode  each committed transaction that wrote a source gives exactly one
               refresh of the view: full if it wrote a 'full' source or truncated a
               source, else incremental; a rolled-back one gives none.
  async        keys accumulate until the worker's refresh: a full refresh at least
               once if some transaction wrote a 'full' source, none otherwise; at
               least one incremental refresh if only 'incremental' sources were
               written; never more refreshes of a kind than transactions that could
               cause one.
  manual       pgview_refresh_pending at the end of the round: exactly one refresh,
               of the kind of everything pending, or none if nothing was written.
A relation a transaction only *maybe* wrote (workload.py) allows, not requires, the
refresh it would cause (full for a TRUNCATE in a savepoint rolled back: "TRUNCATE means
full", and a rolled-back savepoint keeps its dirt). With `overflow` (pgview_auto.max_keys set low) an incremental
refresh may turn full.
Each prediction is a range [lo, hi] of incremental and of full refreshes.
"""

from dataclasses import dataclass

NONE, INC, FULL = "none", "incremental", "full"


@dataclass
class Range:
    lo: int = 0
    hi: int = 0

    def holds(self, n):
        return self.lo <= n <= self.hi

    def __str__(self):
        return str(self.lo) if self.lo == self.hi else f"{self.lo}..{self.hi}"


@dataclass
class Prediction:
    incremental: Range
    full: Range
    total: Range
    why: str  # the transactions behind it, in words, for a failure report

    def holds(self, incremental, full):
        return self.incremental.holds(incremental) and self.full.holds(full) and self.total.holds(incremental + full)

    def __str__(self):
        return f"incremental {self.incremental}, full {self.full}, in all {self.total}"


def outcomes(txn, sources, overflow):
    """The refreshes one transaction may cause alone: a set of NONE, INC, FULL."""
    definite = {r: how for r, how in txn.definite.items() if r in sources}
    maybe = {r for r in txn.maybe if r in sources}
    if definite:
        full = any(how == "truncate" or sources[r] == FULL for r, how in definite.items())
        result = {FULL} if full else {INC}
    else:
        result = {NONE}
    if any(sources[r] == FULL for r in maybe) or any(r in sources for r in txn.maybe_truncated):
        result.add(FULL)
    if NONE in result and maybe:
        result.add(INC if any(sources[r] == INC for r in maybe) else FULL)
    if overflow and INC in result:
        result.add(FULL)
    return result


def predict(mode, txns, sources, overflow=False, forced=0):
    """sources: relation name -> INC | FULL (the view's sources, partitions included
    when pgview_explain lists them). txns: every transaction of the round. forced:
    full refreshes by pgview_refresh during the round (each one counts; in async and
    manual mode it may also take over what was pending)."""
    p = predict_writes(mode, txns, sources, overflow)
    if forced:
        p.full.lo += forced
        p.full.hi += forced
        p.total.hi += forced
        p.total.lo += forced
        if mode != "commit":
            p.incremental.lo = 0
            p.total.lo = forced
            p.full.lo = forced
        p.why += f"; and {forced} pgview_refresh call(s)"
    return p


def predict_writes(mode, txns, sources, overflow):
    per_txn = [outcomes(t, sources, overflow) for t in txns]  # rolled back: nothing written
    per_txn = [o for o in per_txn if o != {NONE}]
    must_inc = sum(1 for o in per_txn if o == {INC})
    must_full = sum(1 for o in per_txn if o == {FULL})
    may_inc = sum(1 for o in per_txn if INC in o)
    may_full = sum(1 for o in per_txn if FULL in o)
    why = (f"{len(per_txn)} committed transaction(s) wrote its sources "
           f"({must_inc} only 'incremental' ones, {must_full} a 'full' one or TRUNCATE, "
           f"{len(per_txn) - must_inc - must_full} maybe)")
    must_any = sum(1 for o in per_txn if NONE not in o)
    if mode == "commit":
        return Prediction(Range(must_inc, may_inc), Range(must_full, may_full), Range(must_any, len(per_txn)), why)
    if mode == "immediate":
        # One refresh per writing statement that reached the end, whose figures roll
        # back with a rolled-back transaction (not always with a savepoint's): at
        # least one per committed transaction that surely wrote, no upper bound here.
        many = 10 ** 9
        return Prediction(Range(0, many), Range(1 if must_full else 0, many), Range(1 if must_any else 0, many), why)
    if mode == "async":
        return Prediction(Range(1 if must_inc and not may_full else 0, may_inc),
                          Range(1 if must_full else 0, may_full),
                          Range(1 if must_any else 0, len(per_txn)), why)
    if mode == "manual":
        if must_full:
            return Prediction(Range(0, 0), Range(1, 1), Range(1, 1), why)
        if must_any:
            return Prediction(Range(0 if may_full else 1, 1), Range(0, 1 if may_full else 0), Range(1, 1), why)
        return Prediction(Range(0, 1 if may_inc else 0), Range(0, 1 if may_full else 0),
                          Range(0, 1 if per_txn else 0), why)
    raise ValueError(mode)
