"""Transactions of the randomized differential test, and what each one wrote.

A client is one connection (as schema.WRITER) with its own random generator, seeded
from (seed, round, client): the statements it sends are reproducible, their
interleaving with the other clients' is not. Every statement reports the relations
it changed rows in (RETURNING tableoid; for a move between partitions, the old and
the new partition), so the record of a transaction says, per relation:
  definite  rows changed (or TRUNCATE) by statements that committed;
  maybe     touched without a changed row, or changed inside a savepoint rolled back
            (pgview_auto may refresh for those, or not: the README allows "one refresh
            too many, never one too few").
A partition's changes are changes of its parent too.
"""

import datetime
import io
import random
import threading
import time
from dataclasses import dataclass, field

import psycopg2

from schema import ACCOUNT_IDS, LEDGER, PARTITIONS, REGION_IDS, REGIONS

# Errors a transaction of this workload may meet and then roll back; any other
# error (a refresh failing at COMMIT, say) is a failure of the test.
EXPECTED_SQLSTATES = {
    "40001": "serialization_failure",  # REPEATABLE READ overtaken; a row moved to another partition
    "40P01": "deadlock_detected",
    "23505": "unique_violation",       # a key-changing UPDATE meeting another client's new id
}

PARENTS = dict(PARTITIONS)                 # partition -> parent
CHILDREN = {}                              # parent -> partitions
for _child, _parent in PARTITIONS.items():
    CHILDREN.setdefault(_parent, set()).add(_child)

EPOCH = datetime.datetime(2024, 1, 1)


def family(rel):
    """A relation with its parent and its partitions: what a statement naming it may touch."""
    out = {rel}
    if rel in PARENTS:
        out.add(PARENTS[rel])
    out |= CHILDREN.get(rel, set())
    return out


def with_parent(rel):
    return {rel, PARENTS[rel]} if rel in PARENTS else {rel}


def events_partition(hours):
    """The partition a row of events lands in, `at` being 2024-01-01 + hours."""
    at = EPOCH + datetime.timedelta(hours=hours)
    if at < datetime.datetime(2024, 2, 1):
        return "events_jan"
    if at < datetime.datetime(2024, 3, 1):
        return "events_feb"
    return "events_other"


def copy_value(v):
    return r"\N" if v is None else str(v)


@dataclass
class Stmt:
    kind: str     # 'dml' (RETURNING the relations changed), 'copy', 'truncate'
    target: str   # the relation named
    sql: str
    params: object = None  # dml: parameters; copy: the data; truncate: the refill statement
    parts: dict = None     # copy: rows per relation they land in


@dataclass
class Txn:
    client: int
    number: int
    isolation: str
    statements: list = field(default_factory=list)  # lines of the log
    definite: dict = field(default_factory=dict)    # relation -> 'rows' | 'truncate'
    maybe: set = field(default_factory=set)
    maybe_truncated: set = field(default_factory=set)  # TRUNCATE in a savepoint rolled back
    committed: bool = False
    ended: str = ""                                  # 'commit', 'rollback', or the error
    unexpected: str = ""                             # an error that fails the test


class Ids:
    """Shared, approximate knowledge of row ids (for choosing rows to update)."""

    def __init__(self, events):
        self.lock = threading.Lock()
        self.ledger_max = LEDGER
        self.events_max = events
        self.next_id = {}

    def grow(self, what, n):
        with self.lock:
            setattr(self, what, getattr(self, what) + n)

    def new(self, what, client, base):
        """A fresh id for a client's new account or region (never taken by another client)."""
        with self.lock:
            key = (what, client)
            self.next_id[key] = self.next_id.get(key, base + 10000 * client) + 1
            return self.next_id[key]


class Client:
    RET = " RETURNING tableoid::regclass::text"
    TS = "(timestamp '2024-01-01' + %s * interval '1 hour')"

    def __init__(self, dsn, number, ids, log, replica=False):
        # replica: writes as logical replication's apply workers do (a superuser
        # session with session_replication_role = replica: only row triggers
        # enabled REPLICA or ALWAYS fire, and the capture of keys is the replica
        # row trigger's).
        self.replica = replica
        self.number = number
        self.ids = ids
        self.log = log
        self.conn = psycopg2.connect(dsn)
        self.conn.autocommit = True  # transactions are begun and ended by hand
        self.my_accounts = []

    def close(self):
        self.conn.close()

    # --- values ------------------------------------------------------------------
    def account_ref(self, rng):
        r = rng.random()
        if r < 0.05:
            return None
        if r < 0.12 and self.my_accounts:
            return rng.choice(self.my_accounts)
        return rng.randint(1, ACCOUNT_IDS)

    def some_account(self, rng):
        if self.my_accounts and rng.random() < 0.2:
            return rng.choice(self.my_accounts)
        return rng.randint(1, ACCOUNT_IDS)

    @staticmethod
    def amount(rng):
        return None if rng.random() < 0.05 else round(rng.uniform(0, 500), 2)

    @staticmethod
    def hours(rng, days=60):
        return None if rng.random() < 0.05 else rng.randrange(days * 24)

    @staticmethod
    def memo(rng):
        return f"m{rng.randrange(40)}"

    def ledger_id(self, rng):
        return rng.randint(1, self.ids.ledger_max)

    def events_id(self, rng):
        return rng.randint(1, max(1, self.ids.events_max))

    def new_account(self):
        new = self.ids.new("account", self.number, 100000)
        self.my_accounts.append(new)
        return new

    # --- the statements -------------------------------------------------------------
    def dml(self, target, sql, params):
        return Stmt("dml", target, sql + self.RET, params)

    def ledger_insert(self, rng):
        rows = [(self.account_ref(rng), self.amount(rng), self.hours(rng), self.memo(rng))
                for _ in range(rng.randint(1, 3))]
        self.ids.grow("ledger_max", len(rows))
        return self.dml("ledger", "INSERT INTO ledger(account_id, amount, day, memo) VALUES "
                        + ", ".join([f"(%s, %s, {self.TS}, %s)"] * len(rows)), [v for row in rows for v in row])

    def ledger_update_amount(self, rng):
        return self.dml("ledger", "UPDATE ledger SET amount = %s WHERE id = %s", [self.amount(rng), self.ledger_id(rng)])

    def ledger_update_account(self, rng):  # a join column (and key column of some views)
        return self.dml("ledger", "UPDATE ledger SET account_id = %s WHERE id = %s",
                        [self.account_ref(rng), self.ledger_id(rng)])

    def ledger_update_day(self, rng):      # the column under an expression key
        return self.dml("ledger", f"UPDATE ledger SET day = {self.TS}, memo = %s WHERE id = %s",
                        [self.hours(rng), self.memo(rng), self.ledger_id(rng)])

    def ledger_update_by_account(self, rng):
        return self.dml("ledger", "UPDATE ledger SET amount = amount + 1 WHERE account_id = %s",
                        [rng.randint(1, ACCOUNT_IDS)])

    def ledger_delete(self, rng):
        return self.dml("ledger", "DELETE FROM ledger WHERE id = %s", [self.ledger_id(rng)])

    def ledger_copy(self, rng):
        lines = []
        for _ in range(rng.randint(1, 8)):
            h = self.hours(rng)
            day = None if h is None else EPOCH + datetime.timedelta(hours=h)
            amt = self.amount(rng)
            lines.append("\t".join(map(copy_value, [self.account_ref(rng), None if amt is None else f"{amt:.2f}",
                                                    day, self.memo(rng)])))
        self.ids.grow("ledger_max", len(lines))
        return Stmt("copy", "ledger", "COPY ledger(account_id, amount, day, memo) FROM STDIN",
                    "\n".join(lines) + "\n", {"ledger": len(lines)})

    def account_insert(self, rng):
        region = None if rng.random() < 0.1 else rng.randint(1, REGION_IDS)
        return self.dml("accounts", "INSERT INTO accounts VALUES (%s, %s, %s, %s)",
                        [self.new_account(), region, f"owner {rng.randrange(7)}",
                         rng.choice([None, "retail", "business"])])

    def account_update_region(self, rng):  # the key of the region views; a join column
        region = None if rng.random() < 0.15 else rng.randint(1, REGION_IDS)
        return self.dml("accounts", "UPDATE accounts SET region = %s WHERE id = %s", [region, self.some_account(rng)])

    def account_update_kind(self, rng):
        return self.dml("accounts", "UPDATE accounts SET kind = %s WHERE id = %s",
                        [rng.choice([None, "retail", "business", "staff"]), self.some_account(rng)])

    def account_update_owner(self, rng):
        return self.dml("accounts", "UPDATE accounts SET owner = %s WHERE id = %s",
                        [f"owner {rng.randrange(9)}", self.some_account(rng)])

    def account_update_id(self, rng):      # the key of the account views, and a join column
        return self.dml("accounts", "UPDATE accounts SET id = %s WHERE id = %s",
                        [self.new_account(), self.some_account(rng)])

    def account_delete(self, rng):
        return self.dml("accounts", "DELETE FROM accounts WHERE id = %s", [self.some_account(rng)])

    def region_update(self, rng):
        return self.dml("regions", "UPDATE regions SET name = %s, tier = %s WHERE id = %s",
                        [f"region {rng.randrange(20)}", rng.choice([None, 0, 1, 2]), rng.randint(1, REGION_IDS)])

    def region_update_id(self, rng):
        return self.dml("regions", "UPDATE regions SET id = %s WHERE id = %s",
                        [self.ids.new("region", self.number, 1000), rng.randint(1, REGION_IDS)])

    def region_insert(self, rng):
        return self.dml("regions", "INSERT INTO regions VALUES (%s, %s, %s) ON CONFLICT (id) DO NOTHING",
                        [rng.randint(1, REGION_IDS), f"region {rng.randrange(20)}", rng.choice([None, 1])])

    def region_delete(self, rng):
        return self.dml("regions", "DELETE FROM regions WHERE id = %s", [rng.randint(1, REGION_IDS)])

    def events_insert(self, rng):          # through the parent: rows routed to partitions
        rows = [(self.account_ref(rng), rng.randrange(75 * 24), rng.randint(1, 9)) for _ in range(rng.randint(1, 3))]
        self.ids.grow("events_max", len(rows))
        return self.dml("events", "INSERT INTO events(account_id, at, qty) VALUES "
                        + ", ".join([f"(%s, {self.TS}, %s)"] * len(rows)), [v for row in rows for v in row])

    def events_insert_partition(self, rng):  # straight into a partition
        part, lo, hi = rng.choice([("events_jan", 0, 31), ("events_feb", 31, 60)])
        self.ids.grow("events_max", 1)
        return self.dml(part, f"INSERT INTO {part}(account_id, at, qty) VALUES (%s, {self.TS}, %s)",
                        [self.account_ref(rng), rng.randrange(lo * 24, hi * 24), rng.randint(1, 9)])

    def events_move(self, rng):
        # Between partitions (a DELETE and an INSERT): report the old and the new one.
        return Stmt("dml", "events",
                    "WITH old AS (SELECT id, tableoid AS part FROM events WHERE id = %s FOR UPDATE) "
                    f"UPDATE events e SET at = {self.TS} FROM old WHERE e.id = old.id "
                    "RETURNING old.part::regclass::text, e.tableoid::regclass::text",
                    [self.events_id(rng), rng.randrange(75 * 24)])

    def events_update_qty(self, rng):
        target = rng.choice(["events", "events_feb"])
        return self.dml(target, f"UPDATE {target} SET qty = qty + 1, account_id = coalesce(%s, account_id) WHERE id = %s",
                        [self.account_ref(rng) if rng.random() < 0.3 else None, self.events_id(rng)])

    def events_delete(self, rng):
        return self.dml("events", "DELETE FROM events WHERE id = %s", [self.events_id(rng)])

    def events_copy(self, rng):            # COPY into the parent: rows routed to partitions
        lines, parts = [], {}
        for _ in range(rng.randint(1, 6)):
            h = rng.randrange(75 * 24)
            part = events_partition(h)
            parts[part] = parts.get(part, 0) + 1
            lines.append("\t".join(map(copy_value, [self.account_ref(rng), EPOCH + datetime.timedelta(hours=h),
                                                    rng.randint(1, 9)])))
        self.ids.grow("events_max", len(lines))
        return Stmt("copy", "events", "COPY events(account_id, at, qty) FROM STDIN", "\n".join(lines) + "\n", parts)

    def truncate(self, rng):               # rare; the table is filled again in the same transaction
        target = rng.choice(["events_feb", "events", "regions"])
        if target == "regions":
            refill = f"INSERT INTO regions SELECT g, 'region ' || g, g % 3 FROM generate_series(1, {REGIONS}) g"
        else:
            refill = ("INSERT INTO events(account_id, at, qty) SELECT 1 + g % 40, "
                      "timestamp '2024-02-01' + g * interval '7 hours', 1 + g % 9 FROM generate_series(1, 20) g")
            self.ids.grow("events_max", 20)
        return Stmt("truncate", target, f"TRUNCATE {target}", refill)

    OPS = (
        (22, ledger_insert), (9, ledger_update_amount), (8, ledger_update_account), (5, ledger_update_day),
        (3, ledger_update_by_account), (7, ledger_delete), (4, ledger_copy), (3, account_insert),
        (6, account_update_region), (3, account_update_kind), (2, account_update_owner), (2, account_update_id),
        (2, account_delete), (3, region_update), (1, region_update_id), (1, region_insert), (1, region_delete),
        (6, events_insert), (3, events_insert_partition), (3, events_move), (3, events_update_qty),
        (3, events_delete), (1, events_copy), (0.6, truncate),
    )

    def statement(self, rng):
        op = rng.choices([op for _, op in self.OPS], [w for w, _ in self.OPS])[0]
        return op(self, rng)

    # --- running ----------------------------------------------------------------------
    def run_txn(self, rng, number):
        """One transaction: 1-4 statements, some in savepoints (kept or rolled back),
        sometimes REPEATABLE READ, sometimes rolled back whole."""
        iso = "REPEATABLE READ" if rng.random() < 0.1 else "READ COMMITTED"
        txn = Txn(self.number, number, iso)
        plan = [self.statement(rng) for _ in range(rng.choices([1, 2, 3, 4], [4, 3, 2, 1])[0])]
        in_savepoint = [rng.choices(["no", "keep", "undo"], [85, 7, 8])[0] for _ in plan]
        rollback = rng.random() < 0.08
        at_commit = False
        cur = self.conn.cursor()
        try:
            self.execute(cur, txn, f"BEGIN ISOLATION LEVEL {iso}")
            if self.replica:
                self.execute(cur, txn, "SET LOCAL session_replication_role = replica")
            for stmt, sp in zip(plan, in_savepoint):
                written = {}
                if sp == "no":
                    self.run(cur, txn, stmt, written)
                    self.merge(txn, written)
                    continue
                self.execute(cur, txn, "SAVEPOINT s")
                try:
                    self.run(cur, txn, stmt, written)
                except psycopg2.Error as e:  # only this statement is lost
                    self.note_error(txn, e)
                    self.execute(cur, txn, "ROLLBACK TO SAVEPOINT s")
                    txn.maybe |= family(stmt.target)
                    if stmt.kind == "truncate":
                        txn.maybe_truncated |= family(stmt.target)
                    continue
                if sp == "keep":
                    self.execute(cur, txn, "RELEASE SAVEPOINT s")
                    self.merge(txn, written)
                else:
                    self.execute(cur, txn, "ROLLBACK TO SAVEPOINT s")
                    txn.maybe |= set(written)
                    txn.maybe_truncated |= {r for r, how in written.items() if how == "truncate"}
            at_commit = not rollback
            self.execute(cur, txn, "ROLLBACK" if rollback else "COMMIT")
            txn.committed = not rollback
            txn.ended = "rollback" if rollback else "commit"
        except psycopg2.Error as e:
            self.note_error(txn, e)
            txn.ended = f"error {e.pgcode}" + (" at COMMIT" if at_commit else "")
            if not self.conn.closed:
                with self.conn.cursor() as c2:
                    c2.execute("ROLLBACK")  # ends the aborted transaction (a WARNING if COMMIT failed)
        finally:
            cur.close()
        if txn.committed:
            txn.maybe -= set(txn.definite)
        elif at_commit:
            # Failed at COMMIT: a background view may still have been marked ("one
            # needless refresh at worst"), a commit-mode refresh went with the rollback.
            txn.maybe |= set(txn.definite)
            txn.maybe_truncated |= {r for r, how in txn.definite.items() if how == "truncate"}
            txn.definite.clear()
        else:
            txn.definite.clear()
            txn.maybe.clear()
            txn.maybe_truncated.clear()
        self.log.txn(txn)
        return txn

    @staticmethod
    def note_error(txn, e):
        state = e.pgcode or "?"
        first = (e.pgerror or str(e)).strip().splitlines()[0] if (e.pgerror or str(e)).strip() else "?"
        txn.statements.append(f"-- error {state}: {first}")
        if state not in EXPECTED_SQLSTATES and not txn.unexpected:
            txn.unexpected = f"{state}: {(e.pgerror or str(e)).strip()}"

    @staticmethod
    def merge(txn, written):
        for rel, how in written.items():
            if txn.definite.get(rel) != "truncate":
                txn.definite[rel] = how

    @staticmethod
    def execute(cur, txn, sql):
        txn.statements.append(sql + ";")
        cur.execute(sql)

    def run(self, cur, txn, stmt, written):
        """Run one planned statement; put the relations it changed rows in into
        `written` (with their parents), and those it may have touched into txn.maybe."""
        txn.maybe |= family(stmt.target)
        if stmt.kind == "dml":
            text = cur.mogrify(stmt.sql, stmt.params).decode()
            txn.statements.append(text + ";")
            cur.execute(text)
            rels = {r for row in cur.fetchall() for r in row}
            txn.statements[-1] += f"  -- {cur.rowcount} row(s)"
            for rel in rels:
                for r in with_parent(rel):
                    written[r] = "rows"
        elif stmt.kind == "copy":
            txn.statements.append(f"{stmt.sql};\n{stmt.params}\\.")
            cur.copy_expert(stmt.sql, io.StringIO(stmt.params))
            for rel in stmt.parts:
                for r in with_parent(rel):
                    written[r] = "rows"
        elif stmt.kind == "truncate":
            self.execute(cur, txn, stmt.sql)
            for r in family(stmt.target):
                written[r] = "truncate"
            self.execute(cur, txn, stmt.params)


class Log:
    """Every transaction's statements and outcome, for reproducing a failure (optional)."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.file = open(path, "w") if path else None

    def write(self, text):
        if self.file:
            with self.lock:
                self.file.write(text if text.endswith("\n") else text + "\n")
                self.file.flush()

    def txn(self, txn):
        if self.file:
            self.write("\n".join([f"-- client {txn.client}, transaction {txn.number} ({txn.isolation}): {txn.ended}"]
                                 + txn.statements
                                 + [f"--   wrote {sorted(txn.definite.items())}; maybe {sorted(txn.maybe)}"]))


class Refresher:
    """A full refresh racing the writers: pgview_refresh of a random view now and
    then while the clients run (as the views' owner), counted per view."""

    def __init__(self, dsn, owner, log):
        self.log = log
        self.conn = psycopg2.connect(dsn)
        self.conn.autocommit = True
        with self.conn.cursor() as c:
            c.execute(f"SET ROLE {owner}")

    def close(self):
        self.conn.close()

    def run(self, rng, views, busy, most=3):
        done, errors = {}, []
        while busy() and len(done) < most and sum(done.values()) < most:
            time.sleep(rng.uniform(0.01, 0.1))
            view = rng.choice(views)
            try:
                with self.conn.cursor() as c:
                    c.execute("SELECT pgview_refresh(%s, cascade => false)", (view,))
                done[view] = done.get(view, 0) + 1
                self.log.write(f"-- refresher: pgview_refresh('{view}')")
            except psycopg2.Error as e:
                errors.append(f"pgview_refresh('{view}'): {e.pgcode}: {(e.pgerror or str(e)).strip()}")
        return done, errors


def run_clients(clients, seed, round_no, ntx, refresher=None, views=()):
    """Every client runs ntx transactions at once (one thread each), with the
    refresher (if any) alongside: the transactions' records, and the refresher's
    refreshes per view and errors."""
    results = [[] for _ in clients]
    crashed = []
    refreshed = ({}, [])

    def work(i, client):
        try:
            rng = random.Random(f"{seed}:{round_no}:{client.number}")
            for n in range(ntx):
                results[i].append(client.run_txn(rng, n))
        except Exception as e:  # a bug of the harness or a lost connection: not to be lost in a thread
            crashed.append(f"client {client.number}: {e!r}")

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    if refresher is not None and views:
        refreshed = refresher.run(random.Random(f"{seed}:{round_no}:refresher"), list(views),
                                  lambda: any(t.is_alive() for t in threads))
    for t in threads:
        t.join()
    if crashed:
        raise RuntimeError("; ".join(crashed))
    return [t for r in results for t in r], refreshed
