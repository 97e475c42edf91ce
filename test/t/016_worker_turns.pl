# Workers serve every database that has work (issue 20): with more databases
# wanting refreshes than pgview_auto.max_workers, workers take turns (one that
# has had its slice leaves when another database waits), the server log says
# that databases wait, and pgview_status shows the wait. In 0.6.0 the first
# databases kept their workers and the others were never refreshed, silently.
# Also: a schedule changed to a shorter period takes effect at once (0.6.0
# kept the old next run), and its clock survives the workers coming and going.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('turns');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pgview_auto'
pgview_auto.naptime = '200ms'
pgview_auto.max_workers = 1
});
$node->start;

my @dbs = map { "turns$_" } 1 .. 3;
for my $db (@dbs) {
  $node->safe_psql('postgres', "CREATE DATABASE $db");
  $node->safe_psql($db, q{
    CREATE EXTENSION pgview_auto;
    CREATE TABLE t (v int);
    CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM t;
    SELECT pgview_watch('mv', mode => 'async');
  });
}
my $fresh = q{SELECT n = (SELECT count(*) FROM t) FROM mv};

for my $round (1 .. 4) {
  $node->safe_psql($_, "INSERT INTO t SELECT g FROM generate_series(1, $round) g") for @dbs;
  for my $db (@dbs) {
    ok($node->poll_query_until($db, $fresh), "round $round: $db refreshed (one worker for three databases)");
  }
}
ok($node->log_contains(qr/waits? for a worker: all 1 \(pgview_auto.max_workers\) are busy/),
   'the server log says databases wait for a worker');

# pgview_status shows since when a database waits for a worker: the only
# worker is busy in another database with a refresh that takes seconds.
$node->safe_psql('turns1', q{
  CREATE MATERIALIZED VIEW slow AS SELECT count(*) AS n, pg_sleep(4) IS NULL AS slept FROM t;
  SELECT pgview_watch('slow', mode => 'async');
  INSERT INTO t VALUES (0);
});
$node->poll_query_until('postgres',
  q{SELECT count(*) = 1 FROM pg_stat_activity WHERE datname = 'turns1' AND backend_type = 'pgview_auto worker' AND wait_event = 'PgSleep'});
$node->safe_psql('turns2', q{INSERT INTO t VALUES (0)});
like($node->safe_psql('turns2',
       q{SELECT worker_pid IS NULL, waiting_for_worker_since IS NOT NULL FROM pgview_status() WHERE matview = 'mv'::regclass}),
     qr/^t\|t$/, 'pgview_status shows that the database waits for a worker');
ok($node->poll_query_until('turns2', $fresh), '... and it is served once the busy worker has had its turn');

# Reschedule to a shorter period: the next run comes within it.
$node->safe_psql('turns3', q{
  CREATE MATERIALIZED VIEW sm AS SELECT max(v) AS m FROM t;
  SELECT pgview_schedule('sm', '1 hour', only_if_dirty => false);
});
sleep 1; # the worker plans the hourly run
my $before = $node->safe_psql('turns3', q{SELECT refresh_count FROM pgview_status() WHERE matview = 'sm'::regclass});
$node->safe_psql('turns3', q{SELECT pgview_schedule('sm', '1 second', only_if_dirty => false)});
ok($node->poll_query_until('turns3',
     qq{SELECT refresh_count > $before FROM pgview_status() WHERE matview = 'sm'::regclass}),
   'rescheduled from 1 hour to 1 second: refreshed within seconds');
$node->stop;
done_testing();
