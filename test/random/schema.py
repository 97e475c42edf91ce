"""The randomized differential test's tables, functions, roles and first rows.

Small tables whose key and join columns allow NULL (and dangling references: there
is no foreign key), so that NULL groups, unmatched outer-join rows and rows moving
between groups all occur:

    regions(id, name, tier)                 a handful of rows
    accounts(id, region, owner, kind)       region and kind NULL sometimes
    ledger(id, account_id, amount, day, memo)  account_id, amount, day NULL sometimes
    events(id, account_id, at, qty)         partitioned by range of `at`: two monthly
                                            partitions and a default one

Two roles: ivm_owner owns the tables, the views and the table views (a refresh runs
as the view's owner); ivm_writer, who owns nothing, writes the rows.
"""

OWNER = "ivm_owner"
WRITER = "ivm_writer"

# The tables the generator writes, and the partitions of events.
TABLES = ("regions", "accounts", "ledger", "events")
PARTITIONS = {"events_jan": "events", "events_feb": "events", "events_other": "events"}

ROLES_SQL = f"""
DO $$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OWNER}') THEN CREATE ROLE {OWNER}; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{WRITER}') THEN CREATE ROLE {WRITER} LOGIN; END IF;
END$$;
GRANT CREATE, USAGE ON SCHEMA public TO {OWNER};
"""

# Run as OWNER. Sizes are psql-free: filled in by setup_sql().
TABLES_SQL = """
CREATE TABLE regions(id int PRIMARY KEY, name text NOT NULL, tier int);
CREATE TABLE accounts(id int PRIMARY KEY, region int, owner text NOT NULL, kind text);
CREATE INDEX accounts_region ON accounts(region);
CREATE TABLE ledger(id serial PRIMARY KEY, account_id int, amount numeric(10,2),
                    day timestamp, memo text);
CREATE INDEX ledger_account_id ON ledger(account_id);
CREATE TABLE events(id serial, account_id int, at timestamp NOT NULL, qty int NOT NULL)
  PARTITION BY RANGE (at);
CREATE TABLE events_jan PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE events_feb PARTITION OF events FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
CREATE TABLE events_other PARTITION OF events DEFAULT;
CREATE INDEX events_id ON events(id);
CREATE INDEX events_account_id ON events(account_id);

-- A user-defined aggregate (sum of squares), and a volatile function that changes
-- nothing (so that the view's result stays deterministic while the query is volatile).
CREATE FUNCTION ivm_sumsq_step(s numeric, x numeric) RETURNS numeric
  LANGUAGE sql IMMUTABLE AS 'SELECT s + coalesce(x * x, 0)';
CREATE AGGREGATE ivm_sumsq(numeric) (sfunc = ivm_sumsq_step, stype = numeric, initcond = '0');
CREATE FUNCTION ivm_volatile(x numeric) RETURNS numeric
  LANGUAGE plpgsql VOLATILE AS 'BEGIN RETURN x; END';
"""

# Sizes of the first data set.
REGIONS = 6
ACCOUNTS = 40
LEDGER = 600
EVENTS = 200
# Reference ranges the generator draws from: ids a little past the real ones, so
# that some references dangle.
ACCOUNT_IDS = ACCOUNTS + 5
REGION_IDS = REGIONS + 1


def data_sql(seed):
    """The first rows, reproducible from the seed (setseed in the same session)."""
    s = (seed % 1000003) / 1000003.0
    return f"""
SELECT setseed({s:.6f});
INSERT INTO regions SELECT g, 'region ' || g, CASE WHEN g % 4 = 0 THEN NULL ELSE g % 3 END
  FROM generate_series(1, {REGIONS}) g;
INSERT INTO accounts
  SELECT g,
         CASE WHEN random() < 0.1 THEN NULL ELSE 1 + floor(random() * {REGION_IDS})::int END,
         'owner ' || (g % 7),
         CASE WHEN random() < 0.2 THEN NULL WHEN random() < 0.5 THEN 'retail' ELSE 'business' END
  FROM generate_series(1, {ACCOUNTS}) g;
INSERT INTO ledger(account_id, amount, day, memo)
  SELECT CASE WHEN random() < 0.05 THEN NULL ELSE 1 + floor(random() * {ACCOUNT_IDS})::int END,
         CASE WHEN random() < 0.05 THEN NULL ELSE round((random() * 500)::numeric, 2) END,
         CASE WHEN random() < 0.05 THEN NULL
              ELSE timestamp '2024-01-01' + floor(random() * 60 * 24)::int * interval '1 hour' END,
         'm' || floor(random() * 40)::int
  FROM generate_series(1, {LEDGER});
INSERT INTO events(account_id, at, qty)
  SELECT CASE WHEN random() < 0.05 THEN NULL ELSE 1 + floor(random() * {ACCOUNT_IDS})::int END,
         timestamp '2024-01-01' + floor(random() * 75 * 24)::int * interval '1 hour',
         1 + floor(random() * 9)::int
  FROM generate_series(1, {EVENTS});
ANALYZE regions, accounts, ledger, events;
"""


GRANTS_SQL = f"""
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON regions, accounts, ledger, events,
  events_jan, events_feb, events_other TO {WRITER};
GRANT USAGE ON SEQUENCE ledger_id_seq, events_id_seq TO {WRITER};
"""
