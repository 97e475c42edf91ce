-- Bad input (issue 11): every case is an error with a SQLSTATE, a message that
-- names the object and a hint; nothing is left behind, nothing crashes (the
-- crash of 0.5.0 itself is in test/t/013_crash_inputs.pl). The same output with
-- or without shared_preload_libraries: arguments are checked first.
CREATE SCHEMA inp;
SET search_path = inp, public;
CREATE TABLE t (k int PRIMARY KEY, v int);
CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM t;

-- Table view names: any name PostgreSQL takes (0.5.0 registered OID 0 for a
-- name whose <name>_pgview_query definition it truncated). The definitions are
-- in pgview_query under the table's name; one taken there by a table view of
-- another schema gets a suffix, within 63 bytes.
SELECT pgview_create(repeat('z', 63), 'SELECT 1 AS a', kind => 'table view');
CREATE SCHEMA inp2;
SELECT pgview_create('inp2.' || repeat('z', 63), 'SELECT 2 AS a', kind => 'table view');
SELECT relation::text = 'inp2.' || repeat('z', 63) AS second,
       definition::text = 'pgview_query.' || repeat('z', 61) || '_2' AS clipped_with_suffix
  FROM pgview_auto.table_view WHERE relation::text LIKE 'inp2.%';
SELECT * FROM inp2.zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz;
SELECT pgview_drop('inp2.' || repeat('z', 63));
DROP SCHEMA inp2;
SELECT count(*) AS table_views, bool_and(relation::oid <> 0 AND definition::oid <> 0) AS valid
  FROM pgview_auto.table_view;

-- Temporary table views would leave their registry rows behind.
CREATE TEMP TABLE scratch (a int);
SELECT pgview_create('pg_temp.tv', 'SELECT 1 AS a', kind => 'table view');
\echo :SQLSTATE
SELECT pgview_create('reads_scratch', 'SELECT a FROM scratch', kind => 'table view');
\echo :SQLSTATE
SELECT pgview_create(repeat('z', 63), 'SELECT a FROM scratch', kind => 'table view', or_replace => true);
\echo :SQLSTATE
-- ... and a temporary table is no watch source
CREATE TEMP VIEW scratch_v AS SELECT * FROM scratch;
SELECT pgview_watch('mv', 'scratch');
\echo :SQLSTATE
SELECT pgview_watch('mv', 'scratch_v');
\echo :SQLSTATE
SELECT count(*) AS table_views FROM pgview_auto.table_view;
SELECT count(*) AS watches FROM pgview_watches;

-- Intervals past what pgview_auto takes (1000 years) are refused, not wrapped
-- around (0.5.0 stored '292300 years', then failed reading it back; a huge
-- pgview_wait timeout wrapped around to no wait at all).
SELECT pgview_schedule('mv', '292300 years');
\echo :SQLSTATE
SELECT pgview_schedule('mv', '-292300 years');
\echo :SQLSTATE
SELECT pgview_watch('mv', mode => 'async', debounce => '1001 years');
\echo :SQLSTATE
SELECT pgview_watch('mv', mode => 'async', max_delay => '178000000 years');
\echo :SQLSTATE
SELECT pgview_wait('mv', '300000 years');
\echo :SQLSTATE
SELECT pgview_wait('mv', '1 day 2147483647 hours');
\echo :SQLSTATE
SELECT pgview_wait('mv', '1000 years');                 -- the longest: mv is not watched, true at once
SELECT count(*) AS schedules FROM pgview_auto.schedule;

-- A relation that no longer exists
SELECT pgview_wait(999999999::regclass);
\echo :SQLSTATE

-- clean up
SELECT pgview_drop(repeat('z', 63));
RESET search_path;
DROP SCHEMA inp CASCADE;
