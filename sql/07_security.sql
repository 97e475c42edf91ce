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

-- clean up
SELECT pgview_unwatch(matview) FROM (SELECT DISTINCT matview FROM pgview_watches WHERE matview IS NOT NULL) m ORDER BY matview::text;
DROP SCHEMA sec CASCADE;
SELECT count(*) AS orphans_left FROM pgview_watches;
DROP OWNED BY regress_sec_writer;
DROP ROLE regress_sec_owner, regress_sec_writer, regress_sec_watcher;
