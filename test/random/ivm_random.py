#!/usr/bin/env python3
"""pgview_auto — the randomized differential test of table views (issue 12, "Proof").

Creates the tables of schema.py, one table view per shape of shapes.py, and watches
every one of them in commit, immediate, async or manual mode (chosen by the seed, changed now
and then between rounds). Each round, several clients (threads, one connection
each, as a role that owns nothing) run random transactions at once (workload.py);
then manual views get pgview_refresh_pending, async views pgview_wait, and:
  - every table view must equal its query exactly (EXCEPT ALL both ways; the
    differing rows are printed);
  - no refresh may have failed (pgview_status().failures), no transaction may have
    met an error other than a serialization failure, a deadlock or a unique
    violation of its own making;
  - with the prediction check: the numbers of incremental and of full refreshes of
    each view (deltas of pgview_status()) must be what pgview_explain's rows and the
    tables each transaction wrote predict (prediction.py). Before pgview_explain
    exists, every source counts as 'full' and refresh_count as every refresh.
With pgview_explain, each shape's sources must also be reported as the issue says
(shapes.py: `expect`).
The seed makes the statements reproducible (not their interleaving): a failure
prints the seed, the round and the command that repeats the run.
Run it through test/random/run.sh (a throwaway server); this file needs a server
started with shared_preload_libraries = 'pgview_auto' and psycopg2.
"""

import argparse
import random
import sys
import time

import psycopg2

import prediction
import schema
import shapes
from workload import Client, Ids, Log, Refresher, run_clients

MODES = ("commit", "immediate", "async", "manual")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dsn", required=True, help="libpq connection string of a superuser (dbname is replaced)")
    p.add_argument("--db", default="pgview_random", help="database to create (dropped first if it exists)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--txns", type=int, default=10, help="transactions per client per round")
    p.add_argument("--long", action="store_true", help="200 rounds of 6 clients (by hand)")
    p.add_argument("--modes", default="commit,immediate,async,manual", help="watch modes to draw from")
    p.add_argument("--mode-change", type=float, default=0.15,
                   help="chance that a view changes mode between rounds")
    p.add_argument("--predict", choices=("auto", "on", "off"), default="auto",
                   help="the refresh-count check: auto (default) = on, with pgview_explain when it exists; "
                        "on = also fail if only part of the incremental interface exists; off = skip it")
    p.add_argument("--max-keys", type=int, default=None,
                   help="set pgview_auto.max_keys (when it exists) to this; then an incremental refresh "
                        "may turn full. Default: as high as it goes, so that none overflows")
    p.add_argument("--no-race-refresh", dest="race_refresh", action="store_false",
                   help="no pgview_refresh (full) racing the writers (by default up to 3 per round)")
    p.add_argument("--shapes", default="",
                   help="comma-separated shape names; 'all': every one (default: all but those with a known bug)")
    p.add_argument("--log", default="", help="write every transaction's statements here")
    p.add_argument("--mock-explain", action="store_true",
                   help="checks this harness: a stand-in pgview_explain saying what shapes.py expects, "
                        "while pgview_auto refreshes in full; the run must fail (silent fallback to full)")
    a = p.parse_args(argv)
    if a.long:
        a.rounds, a.clients = max(a.rounds, 200), max(a.clients, 6)
    a.modes = [m for m in a.modes.split(",") if m]
    bad = [m for m in a.modes if m not in MODES]
    if bad or not a.modes:
        p.error(f"--modes: choose from {', '.join(MODES)}")
    return a


def dsn_for(base, db, user=None):
    extra = f" dbname={db}" + (f" user={user}" if user else "")
    return base + extra


class Failure(Exception):
    pass


class Run:
    def __init__(self, args):
        self.a = args
        self.rng = random.Random(args.seed)
        self.shapes = shapes.by_name([s for s in args.shapes.split(",") if s])
        self.failures = []
        self.notes = []
        self.log = Log(args.log)
        self.totals = {"incremental": 0, "full": 0, "txns": 0, "committed": 0, "errors": {}}

    # --- set-up --------------------------------------------------------------------------
    def setup(self):
        a = self.a
        admin = psycopg2.connect(dsn_for(a.dsn, "postgres"))
        admin.autocommit = True
        with admin.cursor() as c:
            c.execute(f"DROP DATABASE IF EXISTS {a.db} WITH (FORCE)")
            c.execute(f"CREATE DATABASE {a.db}")
        admin.close()
        self.conn = psycopg2.connect(dsn_for(a.dsn, a.db))
        self.conn.autocommit = True
        self.sql("CREATE EXTENSION pgview_auto")
        self.sql(schema.ROLES_SQL)
        self.configure_max_keys()
        self.sql(f"SET ROLE {schema.OWNER}")
        self.sql(schema.TABLES_SQL)
        self.sql(schema.data_sql(a.seed))
        self.sql(schema.GRANTS_SQL)
        self.sql(shapes.VIEWS_SQL)
        for s in self.shapes:
            # (no key given: the one its query gives, issue 22)
            self.sql("SELECT pgview_create(%s, %s, kind => 'table view', unique_key => %s)",
                     (s.relation, s.query, list(s.key) if s.key else None))
        self.sql("RESET ROLE")
        self.events_rows = self.one("SELECT count(*) FROM events")
        if self.a.mock_explain:
            self.mock_explain()
        self.detect_interface()
        self.modes = {}
        self.commit_rounds = {}  # view -> rounds it spent in commit mode
        for s in self.shapes:
            self.set_mode(s, self.rng.choice(self.a.modes), first=True)
        self.settle(self.shapes)
        self.check_explain()

    def configure_max_keys(self):
        row = self.row("SELECT context, max_val::bigint FROM pg_settings WHERE name = 'pgview_auto.max_keys'")
        self.overflow = False
        self.max_keys = None
        if row is None:
            self.max_keys_note = "pgview_auto.max_keys: no such setting (yet)"
            return
        context, max_val = row
        value = self.a.max_keys if self.a.max_keys is not None else min(max_val or 1000000, 1000000)
        self.overflow = self.a.max_keys is not None
        if context in ("user", "superuser"):
            self.sql(f"ALTER DATABASE {self.a.db} SET pgview_auto.max_keys = {int(value)}")
            self.sql(f"SET pgview_auto.max_keys = {int(value)}")
        elif context == "sighup":
            self.sql(f"ALTER SYSTEM SET pgview_auto.max_keys = {int(value)}")
            self.sql("SELECT pg_reload_conf()")
            time.sleep(0.5)
        else:
            self.max_keys_note = f"pgview_auto.max_keys is a {context} setting: left as it is"
            self.overflow = True
            return
        self.max_keys = int(value)
        self.max_keys_note = f"pgview_auto.max_keys = {value}" + (" (refreshes may overflow to full)" if self.overflow else "")

    def mock_explain(self):
        """For checking this harness, not pgview_auto: a stand-in pgview_explain that
        says what shapes.py expects (unlisted sources 'full'), and a pgview_status
        with incremental_refreshes = 0, found first on this connection's search_path.
        Against a pgview_auto that refreshes everything in full, the prediction check
        must then fail: that is how a silent fallback to full shows."""
        self.sql("CREATE SCHEMA ivm_mock")
        self.sql("CREATE TABLE ivm_mock.expect(view regclass, source regclass, refresh text)")
        for s in self.shapes:
            for source, refresh in s.expect.items():
                self.sql("INSERT INTO ivm_mock.expect VALUES (%s, %s, %s)", (s.relation, source, refresh))
        self.sql("""CREATE FUNCTION ivm_mock.pgview_explain(view regclass)
                      RETURNS TABLE (source regclass, refresh text, key_from text, reason text)
                      LANGUAGE sql AS $$
                        SELECT w.s, coalesce(e.refresh, 'full'), 'mock', 'mock'
                        FROM public.pgview_status() p CROSS JOIN unnest(p.sources) w(s)
                        LEFT JOIN ivm_mock.expect e ON e.view = p.matview AND e.source = w.s
                        WHERE p.matview = $1 $$""")
        self.sql("""CREATE FUNCTION ivm_mock.pgview_status()
                      RETURNS TABLE (matview regclass, sources regclass[], refresh_count bigint,
                                     failures bigint, last_error text, incremental_refreshes bigint)
                      LANGUAGE sql AS $$ SELECT matview, sources, refresh_count, failures, last_error, 0::bigint
                                          FROM public.pgview_status() $$""")
        self.sql("SET search_path = ivm_mock, public")
        print("mock pgview_explain: says what shapes.py expects; the prediction check must fail", flush=True)

    def detect_interface(self):
        has_explain = self.one("SELECT to_regprocedure('pgview_explain(regclass)') IS NOT NULL")
        with self.conn.cursor() as c:
            c.execute("SELECT * FROM pgview_status() LIMIT 0")
            columns = {d.name for d in c.description}
        has_counts = "incremental_refreshes" in columns
        mode = self.a.predict
        if has_explain and has_counts:
            self.interface = "incremental"
        elif not has_explain and not has_counts:
            self.interface = "full only"
        else:
            self.interface = "partial"
            if mode == "on":
                raise Failure("--predict on: pgview_explain and pgview_status().incremental_refreshes "
                              f"must both exist (pgview_explain: {has_explain}, incremental_refreshes: {has_counts})")
        self.predicting = mode != "off" and self.interface != "partial"
        print(f"interface: {self.interface}; prediction check "
              f"{'on' if self.predicting else 'off'}; {self.max_keys_note}", flush=True)

    # --- helpers ---------------------------------------------------------------------------
    def sql(self, text, params=None):
        with self.conn.cursor() as c:
            c.execute(text, params)

    def row(self, text, params=None):
        with self.conn.cursor() as c:
            c.execute(text, params)
            return c.fetchone()

    def one(self, text, params=None):
        r = self.row(text, params)
        return None if r is None else r[0]

    def rows(self, text, params=None):
        with self.conn.cursor() as c:
            c.execute(text, params)
            return c.fetchall()

    def fail(self, text):
        self.failures.append(text)
        print("FAILED: " + text, flush=True)

    # --- modes --------------------------------------------------------------------------
    def set_mode(self, s, mode, first=False):
        if not first and self.modes.get(s.relation) == mode:
            return
        self.sql(f"SET ROLE {schema.OWNER}")
        self.sql("SELECT pgview_watch(%s, mode => %s)", (s.relation, mode))
        self.sql("RESET ROLE")
        self.modes[s.relation] = mode

    def settle(self, which):
        """Nothing pending for these views, and their watches' first refresh (full:
        a new or changed watch cannot trust the table) done: whatever comes next is
        the round's."""
        for s in which:
            mode = self.modes[s.relation]
            self.sql("SELECT pgview_refresh(%s, cascade => false)", (s.relation,))
            if mode == "async" and not self.one("SELECT pgview_wait(%s, '60 seconds')", (s.relation,)):
                raise Failure(f"{s.relation}: pgview_wait timed out after a change of mode")
            if mode == "manual":
                self.sql("SELECT pgview_refresh_pending(%s)", (s.relation,))

    # --- what pgview_auto says ---------------------------------------------------------------
    def sources(self, s):
        """The view's sources: relation name -> 'incremental' | 'full'."""
        if self.interface == "incremental":
            out = {}
            for source, refresh in self.rows("SELECT source::text, refresh FROM pgview_explain(%s::regclass)",
                                             (s.relation,)):
                if out.get(source) != prediction.FULL:
                    out[source] = refresh
            return out
        found = self.one("SELECT sources::text[] FROM pgview_status() WHERE matview = %s::regclass", (s.relation,))
        return {r: prediction.FULL for r in (found or [])}

    def check_explain(self):
        self.view_sources = {s.relation: self.sources(s) for s in self.shapes}
        if self.interface != "incremental":
            return
        for s in self.shapes:
            rows = self.rows("SELECT source::text, refresh, key_from, reason FROM pgview_explain(%s::regclass)",
                             (s.relation,))
            shown = "\n".join(f"      {r}" for r in rows)
            for source, refresh, key_from, reason in rows:
                if refresh not in (prediction.INC, prediction.FULL):
                    self.fail(f"{s.relation}: pgview_explain says refresh = {refresh!r} for {source}")
                if refresh == prediction.FULL and not reason:
                    self.fail(f"{s.relation}: pgview_explain gives no reason why {source} is refreshed in full")
                if refresh == prediction.INC and not key_from:
                    self.fail(f"{s.relation}: pgview_explain does not say how the key of {source} is found")
            for table, expected in s.expect.items():
                got = {refresh for source, refresh, _, _ in rows if source == table}
                if not got:
                    self.fail(f"{s.relation} ({s.covers}): pgview_explain has no row for {table}\n{shown}")
                elif expected == prediction.INC and got != {prediction.INC}:
                    self.fail(f"{s.relation} ({s.covers}): {table} must be refreshed incrementally, "
                              f"pgview_explain says:\n{shown}")
                elif expected == prediction.FULL and prediction.FULL not in got:
                    self.fail(f"{s.relation} ({s.covers}): {table} must be refreshed in full, "
                              f"pgview_explain says:\n{shown}")
        self.check_strategies()
        if self.failures:  # reported; the rounds still run, for what else they find
            print(f"{len(self.failures)} failure(s) of pgview_explain's report; the rounds run on", flush=True)

    def explained_delta(self, s):
        """The sources pgview_explain says are kept by delta arithmetic (None: it has no strategy column)."""
        if not self.one("SELECT count(*) FROM pg_proc p, unnest(p.proargnames) a "
                        "WHERE p.proname = 'pgview_explain' AND a = 'strategy'"):
            return None
        return {src for src, strategy in self.rows(
            "SELECT source::text, strategy FROM pgview_explain(%s::regclass)", (s.relation,)) if strategy == "delta"}

    def check_strategies(self):
        """pgview_explain's strategy per source is the shape's: delta for exactly its delta sources."""
        for s in self.shapes:
            said = self.explained_delta(s)
            if said is not None and said != set(s.delta):
                self.fail(f"{s.relation} ({s.covers}): pgview_explain says delta for {sorted(said)}, "
                          f"the shape for {sorted(s.delta)}")

    def check_strategies_ran(self):
        """What ran is what pgview_explain says: no delta refresh of a view it gives no delta
        source, and some delta refresh of one it does (in the rounds it spent in commit mode)."""
        if not self.one("SELECT to_regprocedure('pgview_maintenance()') IS NOT NULL"):
            return
        ran = {}
        for view, strategy, n in self.rows("SELECT matview::text, strategy, refreshes FROM pgview_maintenance() "
                                           "WHERE matview::text LIKE 'rt\\_%%'"):
            ran.setdefault(view, {})[strategy] = n
        for s in self.shapes:
            said = self.explained_delta(s)
            deltas = ran.get(s.relation, {}).get("delta", 0)
            if said is not None and not said and deltas:
                self.fail(f"{s.relation}: {deltas} delta refresh(es), though pgview_explain gives it no delta source")
            if said and self.commit_rounds.get(s.relation, 0) > 0 and not deltas:
                self.fail(f"{s.relation}: no delta refresh in {self.commit_rounds[s.relation]} round(s) in commit "
                          f"mode, though pgview_explain says {sorted(said)} are kept by deltas")

    def counts(self):
        """view -> (incremental refreshes, full refreshes, failures) so far."""
        inc = "incremental_refreshes" if self.interface == "incremental" else "0"
        return {name: (i, f, e) for name, i, f, e in self.rows(
            f"SELECT matview::text, {inc}, refresh_count, failures FROM pgview_status() "
            "WHERE matview::text LIKE 'rt\\_%%'")}

    # --- a round ------------------------------------------------------------------------
    def round(self, n, clients):
        t0 = time.monotonic()
        changed = [s for s in self.shapes if self.rng.random() < self.a.mode_change]
        for s in changed:
            self.set_mode(s, self.rng.choice(self.a.modes))
        self.settle(changed)
        before = self.counts()
        self.log.write(f"-- round {n}: modes {sorted(self.modes.items())}")
        for name, mode in self.modes.items():
            if mode == "commit":
                self.commit_rounds[name] = self.commit_rounds.get(name, 0) + 1
        txns, (refreshed, refresh_errors) = run_clients(clients, self.a.seed, n, self.a.txns, self.refresher,
                                                        [s.relation for s in self.shapes])
        truncated = any(x.startswith("TRUNCATE") for t in txns for x in t.statements)
        # Writers in mode immediate hold a table view's lock from one statement to
        # their commit while they write rows the next writer waits for: two of them
        # can deadlock (each then fails with 40P01, a writer's error), and a racing
        # full refresh queued between them on the view's lock may be the one the
        # deadlock detector picks.
        immediate = any(mode == "immediate" for mode in self.modes.values())
        for e in refresh_errors:
            if (truncated or immediate) and ": 40P01:" in e:  # the lock-order deadlocks above and below
                self.notes.append(e)
                why = "TRUNCATE" if truncated else "writers in mode immediate"
                print(f"note: round {n}: the racing full refresh lost a deadlock in a round with {why}: {e}")
            else:
                self.fail(f"round {n}: the racing full refresh failed: {e}")
        for s in self.shapes:
            if self.modes[s.relation] == "manual":
                self.sql("SELECT pgview_refresh_pending(%s)", (s.relation,))
        for s in self.shapes:
            if self.modes[s.relation] == "async" and not self.one("SELECT pgview_wait(%s, '60 seconds')",
                                                                    (s.relation,)):
                self.fail(f"round {n}: {s.relation}: pgview_wait timed out (60 s)")
        after = self.counts()

        for t in txns:
            self.totals["txns"] += 1
            self.totals["committed"] += t.committed
            if t.ended.startswith("error"):
                self.totals["errors"][t.ended] = self.totals["errors"].get(t.ended, 0) + 1
            if t.unexpected:
                self.fail(f"round {n}: client {t.client} transaction {t.number} ({t.isolation}): "
                          f"unexpected error {t.unexpected}\n" + "\n".join("      " + x for x in t.statements))
        inc_n = full_n = 0
        for s in self.shapes:
            b, e = before.get(s.relation, (0, 0, 0)), after.get(s.relation, (0, 0, 0))
            d_inc, d_full, d_fail = e[0] - b[0], e[1] - b[1], e[2] - b[2]
            inc_n += d_inc
            full_n += d_full
            if d_fail:
                err = self.one("SELECT last_error FROM pgview_status() WHERE matview = %s::regclass", (s.relation,))
                msg = f"round {n}: {s.relation} ({self.modes[s.relation]} mode): {d_fail} refresh(es) failed; last error: {err}"
                # A TRUNCATE of a partition then of its parent, in one transaction, takes their
                # locks in the opposite order to any reader of the parent (a refresh too):
                # PostgreSQL breaks that deadlock, the worker retries. Nothing else may fail.
                if truncated and "deadlock detected" in (err or "") and self.modes[s.relation] != "commit":
                    self.notes.append(msg)
                    print("note: " + msg + " (a round with TRUNCATE: retried)", flush=True)
                else:
                    self.fail(msg)
            self.check_equal(n, s, txns)
            if self.predicting:
                p = prediction.predict(self.modes[s.relation], txns, self.view_sources[s.relation],
                                       self.overflow or bool(s.may_turn_full),
                                       refreshed.get(s.relation, 0))
                if not p.holds(d_inc, d_full):
                    self.fail(f"round {n}: {s.relation} ({self.modes[s.relation]} mode): "
                              f"{d_inc} incremental and {d_full} full refreshes; predicted {p}: {p.why}; "
                              f"sources {self.view_sources[s.relation]}")
        if self.interface == "incremental" and self.max_keys is not None:
            # A commit's keys stop at max_keys; keys claimed from shared memory (the
            # worker, pgview_refresh_pending) at max_pending_keys; delta groups at
            # pgview_auto.max_delta_groups (a delta costs per group what a trigger's
            # UPDATE costs: it goes on past max_keys).
            for name, last in self.rows("SELECT matview::text, last_keys FROM pgview_status() "
                                        "WHERE matview::text LIKE 'rt\\_%%' AND last_keys > %s "
                                        "AND last_strategy IS DISTINCT FROM 'delta'", (self.max_keys,)):
                if self.modes.get(name) == "commit":
                    self.fail(f"round {n}: {name}: last_keys = {last}, more than pgview_auto.max_keys = {self.max_keys}")
        self.totals["incremental"] += inc_n
        self.totals["full"] += full_n
        committed = sum(t.committed for t in txns)
        print(f"round {n}: {committed}/{len(txns)} transactions committed; refreshes: {inc_n} incremental, "
              f"{full_n} full; {time.monotonic() - t0:.1f} s", flush=True)

    def check_equal(self, n, s, txns):
        with self.conn.cursor() as c:
            c.execute(f"SELECT * FROM ({s.query}) q LIMIT 0")
            cols = ", ".join(d.name for d in c.description)
        diff = self.rows(
            f"(SELECT 'in the query only' AS side, * FROM (SELECT {cols} FROM ({s.query}) q "
            f"EXCEPT ALL SELECT {cols} FROM {s.relation}) a LIMIT 20) "
            f"UNION ALL (SELECT 'in the table view only', * FROM (SELECT {cols} FROM {s.relation} "
            f"EXCEPT ALL SELECT {cols} FROM ({s.query}) q) b LIMIT 20)")
        if diff:
            wrote = [t for t in txns if set(t.definite) & set(self.view_sources[s.relation])]
            self.fail(f"seed {self.a.seed}, round {n}: {s.relation} ({s.covers}; {self.modes[s.relation]} mode) "
                      f"differs from its query ({cols}):\n"
                      + "\n".join(f"      {r}" for r in diff)
                      + f"\n    {len(wrote)} committed transaction(s) of the round wrote its sources")

    # --- the whole run -------------------------------------------------------------------
    def main(self):
        a = self.a
        for s in shapes.SHAPES:
            if s not in self.shapes and s.known_bug:
                print(f"left out: {s.relation} (known bug: {s.known_bug}); run it with --shapes all or --shapes {s.name}")
        print(f"seed {a.seed}: {len(self.shapes)} table views, {a.rounds} rounds of {a.clients} clients x "
              f"{a.txns} transactions, modes {','.join(a.modes)}", flush=True)
        t0 = time.monotonic()
        self.setup()
        # The clients' database settings (max_keys) apply to connections made after them.
        ids = Ids(self.events_rows)
        # With three clients or more, the last one writes as logical replication's apply does.
        clients = [Client(dsn_for(a.dsn, a.db, schema.WRITER), i, ids, self.log) if i < 2 or i < a.clients - 1
                   else Client(dsn_for(a.dsn, a.db), i, ids, self.log, replica=True) for i in range(a.clients)]
        self.refresher = Refresher(dsn_for(a.dsn, a.db), schema.OWNER, self.log) if a.race_refresh else None
        try:
            for n in range(1, a.rounds + 1):
                known = len(self.failures)
                self.round(n, clients)
                if len(self.failures) > known:  # later rounds would only repeat it
                    break
        finally:
            for c in clients:
                c.close()
            if self.refresher:
                self.refresher.close()
        t = self.totals
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(t["errors"].items())) or "none"
        print(f"{t['txns']} transactions, {t['committed']} committed (errors: {errors}); "
              f"refreshes: {t['incremental']} incremental, {t['full']} full; {time.monotonic() - t0:.0f} s"
              + (f"; {len(self.notes)} refresh(es) outside commit mode lost a deadlock (TRUNCATE, or writers in mode immediate)"
                 if self.notes else ""))
        self.check_strategies_ran()
        if self.interface == "incremental" and t["incremental"] == 0 and any(
                v == prediction.INC for src in self.view_sources.values() for v in src.values()):
            self.fail("no incremental refresh at all, though pgview_explain says some sources are incremental")
        if self.failures:
            print(f"{len(self.failures)} failure(s). Repeat the statements with: test/random/run.sh "
                  f"--seed {a.seed} --rounds {a.rounds} --clients {a.clients} --txns {a.txns} "
                  f"--modes {','.join(a.modes)} --mode-change {a.mode_change} --predict {a.predict}"
                  + (f" --max-keys {a.max_keys}" if a.max_keys is not None else "")
                  + (f" --shapes {a.shapes}" if a.shapes else "") + " --log FILE")
            return 1
        print("every table view equalled its query after every round"
              + ("; refresh counts as predicted" if self.predicting else ""))
        return 0


def main(argv):
    args = parse_args(argv)
    run = Run(args)
    try:
        return run.main()
    except Failure as e:
        print(f"FAILED: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
