-- Security (issue 11): what a writer, a watcher and an owner can and cannot do
-- to each other. Roles: the owner of the views, a writer (INSERT on one table,
-- CREATE on public, nothing else), and a watcher (owner of matviews of her own).
CREATE ROLE regress_sec_owner;
CREATE ROLE regress_sec_writer;
CREATE ROLE regress_sec_watcher;
CREATE SCHEMA sec AUTHORIZATION regress_sec_owner;
GRANT USAGE ON SCHEMA sec TO regress_sec_writer, regress_sec_watcher;
GRANT CREATE ON SCHEMA public TO regress_sec_writer;

-------------------------------------------------------------------------------
-- 1. A writer's search_path never chooses what runs with the owner's rights:
-- every refresh runs with search_path = pg_catalog, pg_temp.
SET ROLE regress_sec_owner;
CREATE TABLE sec.notes (v text);
GRANT INSERT ON sec.notes TO regress_sec_writer;
-- a function that resolves lower() through the search_path
CREATE FUNCTION sec.norm(t text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN lower(t); END $$;
CREATE MATERIALIZED VIEW sec.norm_notes AS SELECT sec.norm(v) AS v FROM sec.notes;
SELECT pgview_create('sec.note_keys', 'SELECT v, pg_catalog.count(*) AS n FROM sec.notes GROUP BY v',
                     kind => 'table view', unique_key => ARRAY['v']);
SELECT pgview_watch('sec.norm_notes'), pgview_watch('sec.note_keys');
RESET ROLE;

-- The writer plants public.lower and public.> (bigint, integer), both recording
-- who runs them in a table of hers, puts public before pg_catalog, and writes.
SET ROLE regress_sec_writer;
CREATE TABLE public.loot (who text);
GRANT INSERT ON public.loot TO PUBLIC;
CREATE FUNCTION public.lower(t text) RETURNS text LANGUAGE plpgsql
  AS $$ BEGIN INSERT INTO public.loot VALUES (current_user || ' ran lower'); RETURN t; END $$;
CREATE FUNCTION public.gt(bigint, integer) RETURNS boolean LANGUAGE plpgsql
  AS $$ BEGIN INSERT INTO public.loot VALUES (current_user || ' ran >'); RETURN $1::int8 OPERATOR(pg_catalog.>) $2::int8; END $$;
CREATE OPERATOR public.> (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = public.gt);
SET search_path = public, pg_catalog;
INSERT INTO sec.notes VALUES ('Mixed Case');   -- refreshes both at commit, as their owner
SELECT * FROM public.loot;                     -- empty: neither of her functions ran
RESET search_path;
RESET ROLE;
SELECT * FROM sec.norm_notes;                  -- pg_catalog.lower
SELECT * FROM sec.note_keys;

-- A view whose query relied on the session's search_path fails, with a hint.
SET ROLE regress_sec_owner;
SET search_path = sec, public;
CREATE FUNCTION shout(t text) RETURNS text LANGUAGE sql AS 'SELECT pg_catalog.upper(t)';
CREATE FUNCTION loud(t text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN shout(t); END $$;
CREATE MATERIALIZED VIEW loud_notes AS SELECT loud(v) AS v FROM notes;
SELECT pgview_refresh('loud_notes');
\echo :SQLSTATE
-- the fix the hint gives: the function sets its own search_path
ALTER FUNCTION loud(text) SET search_path = sec;
SELECT pgview_refresh('loud_notes');
SELECT * FROM loud_notes;
RESET search_path;
RESET ROLE;

-------------------------------------------------------------------------------
-- 2. Nobody attaches work to another role's writes without the power to do so
-- by hand: TRIGGER privilege on what a watch hooks.
SET ROLE regress_sec_owner;
CREATE TABLE sec.orders (id int, amount int);
GRANT INSERT ON sec.orders TO regress_sec_writer;
CREATE MATERIALIZED VIEW sec.totals AS SELECT pg_catalog.sum(amount) AS total FROM sec.orders;
CREATE VIEW sec.totals_v AS SELECT total FROM sec.totals;
SELECT pgview_watch('sec.totals');
GRANT SELECT ON sec.totals, sec.totals_v TO regress_sec_watcher;
RESET ROLE;
GRANT CREATE ON SCHEMA sec TO regress_sec_watcher;

-- The watcher's matview over the owner's: watching it (named, or found through
-- a view) would make the owner's writers refresh hers. It needs TRIGGER on it.
SET ROLE regress_sec_watcher;
CREATE MATERIALIZED VIEW sec.her_totals AS SELECT total FROM sec.totals_v;
SELECT pgview_watch('sec.her_totals', source => 'sec.totals');
\echo :SQLSTATE
SELECT pgview_watch('sec.her_totals');
\echo :SQLSTATE
SET ROLE regress_sec_owner;
GRANT TRIGGER ON sec.totals TO regress_sec_watcher;
SET ROLE regress_sec_watcher;
SELECT pgview_watch('sec.her_totals');
SET ROLE regress_sec_writer;
INSERT INTO sec.orders VALUES (1, 10);   -- refreshes totals, then her_totals (cascade)
RESET ROLE;
SELECT * FROM sec.her_totals;

-- An orphan belongs to the owner of the dropped relation.
SET ROLE regress_sec_watcher;
DROP MATERIALIZED VIEW sec.her_totals;
SELECT orphaned FROM pgview_watches WHERE orphaned IS NOT NULL;
-- another role's matview of that name does not get it, and she may not remove it
SET ROLE regress_sec_owner;
CREATE MATERIALIZED VIEW sec.her_totals AS SELECT 1 AS one;
SELECT pgview_unwatch('sec.her_totals');
\echo :SQLSTATE
DROP MATERIALIZED VIEW sec.her_totals;
-- CREATE MATERIALIZED VIEW IF NOT EXISTS on a table of that name restores nothing onto the table
SET ROLE regress_sec_watcher;
CREATE TABLE sec.her_totals (total bigint);
CREATE MATERIALIZED VIEW IF NOT EXISTS sec.her_totals AS SELECT total FROM sec.totals_v;
SELECT orphaned FROM pgview_watches WHERE orphaned IS NOT NULL;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'sec.her_totals'::regclass;
DROP TABLE sec.her_totals;
-- her own matview of that name gets it back
CREATE MATERIALIZED VIEW sec.her_totals AS SELECT total FROM sec.totals_v;
SELECT matview, source, orphaned FROM pgview_watches WHERE matview = 'sec.her_totals'::regclass OR orphaned IS NOT NULL;
-- ... but only while she may still trigger what it would capture
DROP MATERIALIZED VIEW sec.her_totals;
SET ROLE regress_sec_owner;
REVOKE TRIGGER ON sec.totals FROM regress_sec_watcher;
SET ROLE regress_sec_watcher;
CREATE MATERIALIZED VIEW sec.her_totals AS SELECT total FROM sec.totals_v;
SELECT matview, source, orphaned FROM pgview_watches WHERE matview = 'sec.her_totals'::regclass OR orphaned IS NOT NULL;
-- she removes her own orphan (by the name of the new matview, which is not watched)
SELECT pgview_unwatch('sec.her_totals');
SELECT count(*) AS orphans FROM pgview_watches WHERE orphaned IS NOT NULL;
DROP MATERIALIZED VIEW sec.her_totals;

-- The owner replaces a view under the watcher's matview: a table she may not
-- trigger is not captured for her (WARNING); the owner's DDL goes through, and
-- his writes to that table run nothing of hers.
SET ROLE regress_sec_owner;
CREATE TABLE sec.refunds (id int, amount int);
CREATE VIEW sec.money AS SELECT amount FROM sec.orders;
GRANT SELECT ON sec.money TO regress_sec_watcher;
GRANT TRIGGER ON sec.orders TO regress_sec_watcher;
SET ROLE regress_sec_watcher;
CREATE MATERIALIZED VIEW sec.her_money AS SELECT pg_catalog.sum(amount) AS s FROM sec.money;
SELECT pgview_watch('sec.her_money');
SET ROLE regress_sec_owner;
CREATE OR REPLACE VIEW sec.money AS SELECT amount FROM sec.orders UNION ALL SELECT amount FROM sec.refunds;
INSERT INTO sec.refunds VALUES (1, 5);
RESET ROLE;
SELECT matview, source, via FROM pgview_watches WHERE matview = 'sec.her_money'::regclass;
SELECT tgrelid::regclass AS captured FROM pg_trigger WHERE tgname = 'pgview_auto_capture' ORDER BY tgrelid::regclass::text;

-------------------------------------------------------------------------------
-- 4. An error's text can quote data: only roles that may read the view see it.
-- The owner's matview joins what the writer inserts with codes she may not read.
SET ROLE regress_sec_owner;
CREATE TABLE sec.codes (prefix text);
INSERT INTO sec.codes VALUES ('TOPSECRET');
CREATE TABLE sec.inputs (v text);
GRANT INSERT ON sec.inputs TO regress_sec_writer;
CREATE MATERIALIZED VIEW sec.parsed AS SELECT (c.prefix || i.v)::int AS n FROM sec.codes c, sec.inputs i;
GRANT SELECT ON sec.parsed TO regress_sec_watcher;            -- a reader of the view
SELECT pgview_watch('sec.parsed', on_error => 'warn');
SET ROLE regress_sec_writer;
INSERT INTO sec.inputs VALUES ('1');                          -- kept; the WARNING has no text
SET ROLE regress_sec_watcher;
SELECT failures, last_error FROM pgview_status() WHERE matview = 'sec.parsed'::regclass;
SET ROLE regress_sec_writer;
SELECT failures, last_error FROM pgview_status() WHERE matview = 'sec.parsed'::regclass;
SELECT failures, last_error_at IS NOT NULL AS failed FROM pgview_auto.refresh_stats WHERE matview = 'sec.parsed'::regclass;
SELECT last_error FROM pgview_auto.refresh_stats;
\echo :SQLSTATE
-- on_error 'error': the writer's transaction fails, without the text
SET ROLE regress_sec_owner;
SELECT pgview_watch('sec.parsed', on_error => 'error');
SET ROLE regress_sec_writer;
INSERT INTO sec.inputs VALUES ('2');
\echo :SQLSTATE
-- the owner sees the error itself
SET ROLE regress_sec_owner;
SELECT pgview_refresh('sec.parsed');
RESET ROLE;

-- clean up
SELECT pgview_unwatch(matview) FROM (SELECT DISTINCT matview FROM pgview_watches WHERE matview IS NOT NULL) m ORDER BY matview::text;
DROP SCHEMA sec CASCADE;
SELECT count(*) AS orphans_left FROM pgview_watches;
DROP OWNED BY regress_sec_writer;
DROP ROLE regress_sec_owner, regress_sec_writer, regress_sec_watcher;
