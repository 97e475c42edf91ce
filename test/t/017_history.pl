# The refresh history (issue 24, item 3) on a preloaded server: the worker
# writes the buffered entries of refreshes made by writers in commit mode (no
# async watch in their database: the history alone asks for a worker) and its
# own refreshes (origin 'worker'); it deletes rows older than
# pgview_auto.history_days when it starts (and every 10 minutes); a full
# buffer drops entries and counts them, and writers go on.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('history');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pgview_auto'
pgview_auto.naptime = '200ms'
pgview_auto.history_buffer = 8
pgview_auto.history_days = 3
});
$node->start;

# Commit mode only: the worker comes for the history.
$node->safe_psql('postgres', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE t (v int);
  CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM t;
  SELECT pgview_watch('mv');
  -- old refreshes, one batch (a row of the table) each, to be pruned by the
  -- worker's first pass
  INSERT INTO pgview_auto.refresh_log (last_finished, matview, started_at, finished_at, origin, strategy, keys,
                                       rows_changed, failed, error, pid)
  SELECT now() - d * interval '1 day', ARRAY['mv'::regclass::oid], ARRAY[now() - d * interval '1 day'],
         ARRAY[now() - d * interval '1 day'], '{c}', '{R}', '{NULL}', '{NULL}', '{f}', '{NULL}', '{0}'
  FROM generate_series(1, 6) d;
});
$node->safe_psql('postgres', 'INSERT INTO t VALUES (1)');
ok($node->poll_query_until('postgres',
     q{SELECT count(*) = 1 FROM pgview_refresh_log WHERE origin = 'commit' AND pid <> 0}),
   'a commit-mode refresh reaches pgview_refresh_log without pgview_flush_history (the worker wrote it)');
ok($node->poll_query_until('postgres',
     q{SELECT count(*) = 2 FROM pgview_refresh_log WHERE pid = 0}),
   'rows older than pgview_auto.history_days (3) were pruned by the worker, the newer ones kept');
is($node->safe_psql('postgres',
     q{SELECT string_agg(extract(day FROM now() - finished_at)::text, ',' ORDER BY finished_at DESC)
       FROM pgview_refresh_log WHERE pid = 0}), '1,2', 'the rows kept are those of the last 3 days');

# A full buffer (8 entries) drops entries and counts them; the writers go on
# (here while the history table is locked: the worker waits, they do not).
my $before = $node->safe_psql('postgres', 'SELECT dropped FROM pgview_history_buffer()');
my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN; LOCK pgview_auto.refresh_log;');
$node->safe_psql('postgres', q{
  DO $$ BEGIN FOR i IN 1 .. 40 LOOP INSERT INTO t VALUES (i); COMMIT; END LOOP; END $$;
});
is($node->safe_psql('postgres', 'SELECT n FROM mv'), '41', 'every writer committed and refreshed, the history table locked');
$locker->query_safe('COMMIT;');
$locker->quit;
my ($dropped, $logged) = split /\|/, $node->safe_psql('postgres', q{
  SELECT (SELECT dropped FROM pgview_history_buffer()), (SELECT count(*) FROM pgview_refresh_log WHERE pid <> 0)});
ok($dropped > $before, "a full buffer counts what it drops ($dropped)");
$node->poll_query_until('postgres', 'SELECT waiting = 0 FROM pgview_history_buffer()');
my $rows = $node->safe_psql('postgres', q{SELECT count(*) FROM pgview_refresh_log WHERE pid <> 0});
is($rows + $dropped - $before, 41, 'each refresh is either in the history or counted as dropped');

# Async: the worker's own refreshes.
$node->safe_psql('postgres', q{
  CREATE TABLE a (v int);
  CREATE MATERIALIZED VIEW amv AS SELECT count(*) AS n FROM a;
  SELECT pgview_watch('amv', mode => 'async');
  INSERT INTO a VALUES (1);
});
ok($node->poll_query_until('postgres',
     q{SELECT count(*) >= 1 FROM pgview_refresh_log WHERE matview = 'amv'::regclass AND origin = 'worker'
         AND outcome = 'refreshed' AND pid <> pg_backend_pid()}),
   'the worker\'s refreshes are in the history, with its pid');

# A failing background refresh: outcome 'failed' with its error.
$node->safe_psql('postgres', q{
  CREATE TABLE b (x int);
  INSERT INTO b VALUES (1);
  CREATE MATERIALIZED VIEW bmv AS SELECT 1 / x AS r FROM b;
  SELECT pgview_watch('bmv', mode => 'async');
  UPDATE b SET x = 0;
});
ok($node->poll_query_until('postgres',
     q{SELECT count(*) >= 1 FROM pgview_refresh_log WHERE matview = 'bmv'::regclass AND origin = 'worker'
         AND outcome = 'failed' AND error = 'division by zero'}),
   'a failed background refresh is in the history with its error');

$node->stop;
done_testing();
