-- The refresh history (issue 24): pgview_refresh_log, one row per refresh of
-- any mode and strategy, its error only for roles that may read the view;
-- pgview_history_buffer(), pgview_flush_history(), pgview_prune_history().
-- (Runs with and without shared_preload_libraries: wait_history() writes what
-- the buffer holds and waits for what the worker is writing.)
CREATE ROLE regress_hist_owner;
CREATE ROLE regress_hist_reader;
CREATE ROLE regress_hist_other;
CREATE SCHEMA hist AUTHORIZATION regress_hist_owner;
GRANT USAGE ON SCHEMA hist TO regress_hist_reader, regress_hist_other;

CREATE FUNCTION hist_wait(n int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. 400 LOOP
    PERFORM pgview_flush_history();
    IF (SELECT count(*) FROM pgview_refresh_log WHERE matview::text LIKE 'hist.%') >= n THEN
      RETURN true;
    END IF;
    PERFORM pg_sleep(0.05);
  END LOOP;
  RETURN false;
END $$;

SET ROLE regress_hist_owner;
CREATE TABLE hist.src (k int PRIMARY KEY, x int NOT NULL);
INSERT INTO hist.src VALUES (1, 1), (2, 2);
CREATE MATERIALIZED VIEW hist.inv AS SELECT k, 10 / x AS r FROM hist.src;
CREATE UNIQUE INDEX ON hist.inv (k);
SELECT pgview_watch('hist.inv', on_error => 'warn');
SELECT pgview_create('hist.sums', 'SELECT k, sum(x) AS s, count(*) AS n FROM hist.src GROUP BY k',
                     kind => 'table view', unique_key => ARRAY['k']);
SELECT pgview_watch('hist.sums');
GRANT SELECT ON hist.inv, hist.sums TO regress_hist_reader;
GRANT SELECT, INSERT, UPDATE ON hist.src TO regress_hist_reader, regress_hist_other;
RESET ROLE;

-- Commit mode: a full refresh of the matview, a delta or keyed refresh of the table view.
SET ROLE regress_hist_reader;
INSERT INTO hist.src VALUES (3, 3);
UPDATE hist.src SET x = 4 WHERE k = 3;
RESET ROLE;
SELECT pgview_refresh('hist.sums');
SELECT hist_wait(5);
SELECT matview, origin, strategy, keys, rows_changed, outcome, error IS NULL AS no_error,
       duration >= '0' AS timed, finished_at >= started_at AS ordered
FROM pgview_refresh_log WHERE matview::text LIKE 'hist.%'
ORDER BY finished_at, matview::text;

-- A refresh that fails (on_error 'warn': the writer's transaction goes on).
SET ROLE regress_hist_other;
UPDATE hist.src SET x = 0 WHERE k = 1;
RESET ROLE;
SELECT hist_wait(7);
-- The owner and a role that may read the view see the error; another role does not.
SET ROLE regress_hist_owner;
SELECT matview, origin, strategy, outcome, error FROM pgview_refresh_log WHERE outcome = 'failed' AND matview::text LIKE 'hist.%';
SET ROLE regress_hist_reader;
SELECT matview, origin, strategy, outcome, error FROM pgview_refresh_log WHERE outcome = 'failed' AND matview::text LIKE 'hist.%';
SET ROLE regress_hist_other;
SELECT matview, origin, strategy, outcome, error FROM pgview_refresh_log WHERE outcome = 'failed' AND matview::text LIKE 'hist.%';
-- ... and may not read the table behind the view, nor write or prune the history.
SELECT count(*) FROM pgview_auto.refresh_log;
SELECT pgview_prune_history();
SELECT pgview_flush_history();
DELETE FROM pgview_refresh_log;
SELECT capacity >= 0 AND waiting >= 0 AND dropped >= 0 AS buffer_ok FROM pgview_history_buffer();
RESET ROLE;

-- pgview_auto.history off (superusers only): nothing is written.
SET ROLE regress_hist_owner;
SET pgview_auto.history = off;
RESET ROLE;
SET pgview_auto.history = off;
SELECT pgview_refresh('hist.sums');
SET pgview_auto.history = on;
SELECT pgview_refresh('hist.sums');
SELECT hist_wait(8);
SELECT count(*) FROM pgview_refresh_log WHERE matview = 'hist.sums'::regclass AND origin = 'manual';

-- Pruning: refreshes older than pgview_auto.history_days (7) go, a batch (a
-- row of the table) once its newest is. Here every batch holding a commit-mode
-- refresh is made 8 days older. (In one transaction: a worker starting
-- meanwhile prunes at its start, and would otherwise take them first.)
BEGIN;
UPDATE pgview_auto.refresh_log
   SET last_finished = last_finished - interval '8 days',
       started_at = ARRAY(SELECT t - interval '8 days' FROM unnest(started_at) WITH ORDINALITY u(t, o) ORDER BY o),
       finished_at = ARRAY(SELECT t - interval '8 days' FROM unnest(finished_at) WITH ORDINALITY u(t, o) ORDER BY o)
 WHERE 'c' = ANY (origin);
SELECT pgview_prune_history() >= 1 AS pruned;
COMMIT;
SELECT count(*) FILTER (WHERE origin = 'commit') AS commit_left,
       count(*) FILTER (WHERE finished_at < now() - interval '7 days') AS old_left
  FROM pgview_refresh_log WHERE matview::text LIKE 'hist.%';

-- A dropped view's rows stay (its OID shown), without their error.
DROP MATERIALIZED VIEW hist.inv;
SELECT count(*) FROM pgview_refresh_log WHERE matview::text NOT LIKE 'hist.%' AND error IS NOT NULL;

-- Leave no watch behind (a dropped view's watch would stay as an orphan).
SELECT count(pgview_unwatch(w.matview)) >= 0 AS unwatched FROM (SELECT DISTINCT matview FROM pgview_watches
  WHERE matview IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'hist'::regnamespace)) w;
DROP SCHEMA hist CASCADE;
SELECT count(pgview_unwatch(orphaned)) AS orphans_removed FROM pgview_watches WHERE orphaned LIKE 'hist.%';
DROP FUNCTION hist_wait(int);
DELETE FROM pgview_auto.refresh_log;
DROP ROLE regress_hist_owner, regress_hist_reader, regress_hist_other;
