# pgview_activity (issue 24, item 2) seen from another session while a refresh
# made slow on purpose (its query calls pg_sleep) runs: at commit in a
# writer's backend, and in the worker (async); the worker's row says it is
# refreshing; after the refresh, and after one that failed, nothing is left.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('activity');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pgview_auto'
pgview_auto.naptime = '200ms'
});
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE t (v int);
  CREATE MATERIALIZED VIEW slow AS SELECT count(*) AS n, pg_sleep(3) IS NULL AS slept FROM t;
  SELECT pgview_watch('slow');
});

# Commit mode: the writer's backend refreshes; another session sees it.
my $writer = $node->background_psql('postgres');
$writer->query_until(qr/started/, q{\echo started
INSERT INTO t VALUES (1);
});
ok($node->poll_query_until('postgres',
     q{SELECT count(*) = 1 FROM pgview_activity WHERE kind = 'refresh' AND matview = 'slow'::regclass
         AND origin = 'commit' AND strategy = 'full refresh' AND state = 'running' AND started <= now()}),
   'a commit-mode refresh is seen running from another session');
my $pid = $node->safe_psql('postgres', q{SELECT pid FROM pgview_activity WHERE kind = 'refresh'});
ok($node->safe_psql('postgres', qq{SELECT count(*) = 1 FROM pg_stat_activity WHERE pid = $pid AND backend_type = 'client backend'}),
   'its pid is the writer\'s backend');
$writer->quit;
ok($node->poll_query_until('postgres', q{SELECT count(*) = 0 FROM pgview_activity WHERE kind = 'refresh'}),
   'nothing is left once the refresh is done');

# Async: the worker refreshes; its row and the worker's state.
$node->safe_psql('postgres', q{SELECT pgview_watch('slow', mode => 'async')});
$node->safe_psql('postgres', 'INSERT INTO t VALUES (2)');
ok($node->poll_query_until('postgres',
     q{SELECT count(*) = 1 FROM pgview_activity a JOIN pg_stat_activity s USING (pid)
       WHERE a.kind = 'refresh' AND a.origin = 'worker' AND a.mode = 'async'
         AND s.backend_type = 'pgview_auto worker'}),
   'a background refresh is seen running, with the worker\'s pid');
ok($node->poll_query_until('postgres',
     q{SELECT count(*) = 1 FROM pgview_activity WHERE kind = 'worker' AND database = 'postgres' AND state = 'refreshing'}),
   'the worker\'s row says it is refreshing');
ok($node->poll_query_until('postgres', q{SELECT count(*) = 0 FROM pgview_activity WHERE kind = 'refresh'}),
   'nothing is left once the background refresh is done');

# A refresh that fails: its slot is cleared by the abort.
$node->safe_psql('postgres', q{
  SELECT pgview_unwatch('slow');
  CREATE MATERIALIZED VIEW bad AS SELECT 1 / (count(*) - 3) AS r FROM t;
  SELECT pgview_watch('bad');
});
my ($rc) = $node->psql('postgres', 'INSERT INTO t VALUES (3)');
isnt($rc, 0, 'the writer\'s refresh failed');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pgview_activity WHERE kind = 'refresh'}), '0',
   'a failed refresh leaves no row');

$node->stop;
done_testing();
