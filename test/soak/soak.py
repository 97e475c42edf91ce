"""pgview_auto soak (issue 20): a busy server for a while, then every view checked.

Three databases, each with the same schema:
  orders (alice's)           written by bob's writers: INSERT, UPDATE, DELETE,
                             rollbacks and rolled-back savepoints
  catalog (carol's)          written by the writers too, while carol runs
                             pgview_alter and pgview_save_dependents /
                             pgview_restore_dependents on it in a loop
  events (dave's)            dave fills a manual table view's pending keys and
                             never refreshes it until the end (past
                             pgview_auto.max_pending_keys: it falls back to full)
and views in every mode over them: a matview refreshed at commit (concurrently),
keyed table views at commit, async and manual, a manual matview, and carol's
matview and table view over catalog.

Passes when every view equals its query at the end, no statement failed that
would have succeeded without the extension (no deadlock, no "out of shared
memory", nothing else), and the server log has neither.
"""
import argparse
import random
import sys
import threading
import time

import psycopg2
import psycopg2.errors

DATABASES = ["soak_a", "soak_b", "soak_c"]
ROLES = ["regress_soak_alice", "regress_soak_bob", "regress_soak_carol", "regress_soak_dave"]

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS pgview_auto;
SET ROLE regress_soak_alice;
CREATE TABLE public.orders (id bigserial PRIMARY KEY, user_id int NOT NULL, amount numeric(10,2) NOT NULL);
CREATE INDEX ON public.orders (user_id);
INSERT INTO public.orders (user_id, amount) SELECT g % 200, g % 97 FROM generate_series(1, 4000) g;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.orders TO regress_soak_bob;
GRANT USAGE ON SEQUENCE public.orders_id_seq TO regress_soak_bob;
CREATE MATERIALIZED VIEW public.order_totals AS
  SELECT user_id, count(*) AS n, sum(amount) AS total FROM public.orders GROUP BY user_id;
CREATE UNIQUE INDEX ON public.order_totals (user_id);
SELECT pgview_watch('public.order_totals');
SELECT pgview_create('public.tv_commit',
  'SELECT user_id, count(*) AS n, sum(amount) AS total FROM public.orders GROUP BY user_id',
  kind => 'table view', unique_key => ARRAY['user_id']);
SELECT pgview_watch('public.tv_commit');
SELECT pgview_create('public.tv_async',
  'SELECT user_id % 20 AS bucket, count(*) AS n, max(amount) AS top FROM public.orders GROUP BY 1',
  kind => 'table view', unique_key => ARRAY['bucket']);
SELECT pgview_watch('public.tv_async', mode => 'async');
SELECT pgview_create('public.tv_manual',
  'SELECT user_id, min(amount) AS low FROM public.orders GROUP BY user_id',
  kind => 'table view', unique_key => ARRAY['user_id']);
SELECT pgview_watch('public.tv_manual', mode => 'manual');
CREATE MATERIALIZED VIEW public.mv_manual AS SELECT count(*) AS n, sum(amount) AS total FROM public.orders;
SELECT pgview_watch('public.mv_manual', mode => 'manual');
SET ROLE regress_soak_carol;
CREATE TABLE public.catalog (id bigserial PRIMARY KEY, kind int NOT NULL, price numeric(10,2) NOT NULL);
INSERT INTO public.catalog (kind, price) SELECT g % 10, g FROM generate_series(1, 500) g;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.catalog TO regress_soak_bob;
GRANT USAGE ON SEQUENCE public.catalog_id_seq TO regress_soak_bob;
CREATE VIEW public.catalog_prices AS SELECT id, kind, price FROM public.catalog;
CREATE MATERIALIZED VIEW public.kind_totals AS
  SELECT kind, count(*) AS n, sum(price) AS total FROM public.catalog_prices GROUP BY kind;
SELECT pgview_watch('public.kind_totals');
SELECT pgview_create('public.kind_max',
  'SELECT kind, max(price) AS top FROM public.catalog_prices GROUP BY kind',
  kind => 'table view', unique_key => ARRAY['kind']);
SELECT pgview_watch('public.kind_max');
SET ROLE regress_soak_dave;
CREATE TABLE public.events (id bigserial PRIMARY KEY, v int NOT NULL);
SELECT pgview_create('public.event_values', 'SELECT id, v FROM public.events',
  kind => 'table view', unique_key => ARRAY['id']);
SELECT pgview_watch('public.event_values', mode => 'manual');
RESET ROLE;
"""

# (view, query): each view equals its query at the end.
CHECKS = [
    ("order_totals", "SELECT user_id, count(*) AS n, sum(amount) AS total FROM orders GROUP BY user_id"),
    ("tv_commit", "SELECT * FROM pgview_query.tv_commit"),
    ("tv_async", "SELECT * FROM pgview_query.tv_async"),
    ("tv_manual", "SELECT * FROM pgview_query.tv_manual"),
    ("mv_manual", "SELECT count(*) AS n, sum(amount) AS total FROM orders"),
    ("kind_totals", "SELECT kind, count(*) AS n, sum(price) AS total FROM catalog GROUP BY kind"),
    ("kind_max", "SELECT * FROM pgview_query.kind_max"),
    ("event_values", "SELECT * FROM pgview_query.event_values"),
]


class Failures:
    def __init__(self):
        self.lock = threading.Lock()
        self.errors = []
        self.statements = 0

    def add(self, who, sql, err):
        with self.lock:
            self.errors.append(f"{who}: {type(err).__name__} ({getattr(err, 'pgcode', None)}): "
                               f"{str(err).strip().splitlines()[0]} -- in: {sql[:120]}")

    def count(self, n=1):
        with self.lock:
            self.statements += n


def connect(dsn, db, role=None):
    conn = psycopg2.connect(f"{dsn} dbname={db}")
    conn.autocommit = False
    if role:
        with conn.cursor() as cur:
            cur.execute(f"SET ROLE {role}")
        conn.commit()
    return conn


def run(conn, failures, who, statements, rollback=False):
    """One transaction; a failure of any statement is recorded (and rolled back)."""
    cur = conn.cursor()
    sql = ""
    try:
        for sql in statements:
            cur.execute(sql)
            failures.count()
        if rollback:
            conn.rollback()
        else:
            conn.commit()
    except psycopg2.Error as e:
        failures.add(who, sql, e)
        conn.rollback()


def writer(dsn, db, seed, stop, failures):
    rnd = random.Random(seed)
    conn = connect(dsn, db, "regress_soak_bob")
    who = f"writer {seed} in {db}"
    while not stop.is_set():
        u = rnd.randrange(200)
        choice = rnd.random()
        if choice < 0.45:
            stmts = [f"INSERT INTO orders (user_id, amount) VALUES ({u}, {rnd.randrange(1, 500)})"
                     for _ in range(rnd.randrange(1, 4))]
        elif choice < 0.6:
            stmts = [f"UPDATE orders SET amount = amount + 1 WHERE id = (SELECT max(id) FROM orders WHERE user_id = {u})"]
        elif choice < 0.7:
            stmts = [f"DELETE FROM orders WHERE id = (SELECT min(id) FROM orders WHERE user_id = {u})"]
        elif choice < 0.8:
            stmts = [f"INSERT INTO orders (user_id, amount) VALUES ({u}, 1)", "SAVEPOINT s",
                     f"UPDATE orders SET user_id = {(u + 1) % 200} WHERE user_id = {u}", "ROLLBACK TO SAVEPOINT s"]
        elif choice < 0.85:
            run(conn, failures, who, [f"INSERT INTO orders (user_id, amount) VALUES ({u}, 7)"], rollback=True)
            continue
        else:
            k = rnd.randrange(10)
            stmts = [f"INSERT INTO catalog (kind, price) VALUES ({k}, {rnd.randrange(1, 900)})",
                     f"UPDATE catalog SET price = price + 1 WHERE id = (SELECT max(id) FROM catalog WHERE kind = {k})"]
        run(conn, failures, who, stmts)
    conn.close()


def migrator(dsn, db, seed, stop, failures):
    """carol: pgview_alter and save/restore of her catalog, in a loop."""
    rnd = random.Random(seed)
    conn = connect(dsn, db, "regress_soak_carol")
    who = f"carol in {db}"
    scale = 10
    while not stop.is_set():
        scale = 12 if scale == 10 else 10
        if rnd.random() < 0.6:
            run(conn, failures, who,
                [f"SELECT count(*) FROM pgview_alter('ALTER TABLE catalog ALTER COLUMN price TYPE numeric({scale},2)')"])
        else:
            run(conn, failures, who, ["SELECT pgview_save_dependents('catalog', ARRAY['price'])",
                                      f"ALTER TABLE catalog ALTER COLUMN price TYPE numeric({scale},2)"])
            time.sleep(rnd.random() * 0.2)  # saved across transactions, as a migration tool does
            run(conn, failures, who, ["SELECT pgview_restore_dependents()"])
        time.sleep(rnd.random() * 0.3)
    conn.close()


def filler(dsn, db, stop, failures):
    """dave: distinct keys for a manual table view nobody refreshes."""
    conn = connect(dsn, db, "regress_soak_dave")
    who = f"dave in {db}"
    while not stop.is_set():
        run(conn, failures, who, ["INSERT INTO events (v) SELECT g FROM generate_series(1, 200) g"])
        time.sleep(0.05)
    conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dsn", required=True, help="libpq connection string without dbname (a superuser)")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    admin = psycopg2.connect(f"{args.dsn} dbname=postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        for role in ROLES:
            cur.execute(f"DROP ROLE IF EXISTS {role}")
            cur.execute(f"CREATE ROLE {role}")
        for db in DATABASES:
            cur.execute(f"DROP DATABASE IF EXISTS {db}")
            cur.execute(f"CREATE DATABASE {db}")
    admin.close()
    for db in DATABASES:
        conn = psycopg2.connect(f"{args.dsn} dbname={db}")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("GRANT CREATE ON SCHEMA public TO " + ", ".join(ROLES))
            cur.execute(SCHEMA)
            # First refreshes (a new watch's is full), so that the run's are keyed.
            cur.execute("SELECT pgview_refresh_pending()")
        conn.close()

    failures = Failures()
    stop = threading.Event()
    threads = []
    for i in range(args.writers):
        threads.append(threading.Thread(target=writer, args=(args.dsn, DATABASES[i % 3], args.seed * 100 + i, stop,
                                                              failures)))
    threads.append(threading.Thread(target=migrator, args=(args.dsn, DATABASES[0], args.seed, stop, failures)))
    threads.append(threading.Thread(target=filler, args=(args.dsn, DATABASES[1], stop, failures)))
    for t in threads:
        t.start()
    time.sleep(args.seconds)
    stop.set()
    for t in threads:
        t.join()

    # The end: refresh what waits, wait for the worker, compare.
    differing = []
    for db in DATABASES:
        conn = psycopg2.connect(f"{args.dsn} dbname={db}")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pgview_restore_dependents()")  # a save the stop interrupted
            cur.execute("SELECT pgview_refresh_pending()")
            cur.execute("SELECT pgview_wait('tv_async', '60 seconds')")
            if not cur.fetchone()[0]:
                differing.append(f"{db}: pgview_wait('tv_async') timed out")
            for view, query in CHECKS:
                cur.execute(f"SELECT count(*) FROM ((TABLE {view} EXCEPT ALL ({query})) "
                            f"UNION ALL (({query}) EXCEPT ALL TABLE {view})) d")
                n = cur.fetchone()[0]
                if n:
                    differing.append(f"{db}: {view} differs from its query in {n} rows")
            cur.execute("SELECT matview, shmem_overflows, failures, last_error FROM pgview_status() "
                        "WHERE failures > 0 OR shmem_overflows > 0 ORDER BY 1")
            for row in cur.fetchall():
                print(f"{db}: status {row}")
        conn.close()

    print(f"{failures.statements} statements by {len(threads)} sessions over {args.seconds:.0f} s")
    for e in failures.errors[:30]:
        print("FAILED STATEMENT", e)
    for d in differing:
        print("STALE", d)
    ok = not failures.errors and not differing
    print("soak: " + ("ok" if ok else f"{len(failures.errors)} failed statements, {len(differing)} stale views"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
