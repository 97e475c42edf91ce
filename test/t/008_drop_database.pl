# Commands that need a database to themselves work while its pgview_auto
# worker is connected (issue 11, item 8): DROP DATABASE, CREATE DATABASE ...
# TEMPLATE, ALTER DATABASE ... RENAME and ... SET TABLESPACE, without FORCE.
# 0.5.0 failed them after 5 s ("being accessed by other users"). The worker
# leaves for the command and comes back only if the database still exists and
# needs it; someone who may not run the command does not disturb the worker.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dropdb');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pgview_auto'
pgview_auto.naptime = '100ms'
});
$node->start;

sub worker_pid
{
	my ($db) = @_;
	return $node->safe_psql('postgres', qq{
	  SELECT coalesce(max(pid), 0) FROM pg_stat_activity
	  WHERE backend_type = 'pgview_auto worker' AND datname = '$db'});
}

sub wait_for_worker
{
	my ($db) = @_;
	return $node->poll_query_until('postgres', qq{
	  SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pgview_auto worker' AND datname = '$db'});
}

# A database with an async watch and a schedule: its worker stays connected.
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE t (v int);
  CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM t;
  SELECT pgview_watch('mv', mode => 'async');
  CREATE MATERIALIZED VIEW daily AS SELECT count(*) AS n FROM t;
  SELECT pgview_schedule('daily', '1 hour');
});
ok(wait_for_worker('app'), 'a worker serves the database');

sub serves
{
	my ($db, $what) = @_;
	ok(wait_for_worker($db), "$what: the worker is back");
	$node->safe_psql($db, 'INSERT INTO t VALUES (1)');
	is($node->safe_psql($db, q{SELECT pgview_wait('mv', '20 s')}), 't', "$what: it refreshes again");
	is($node->safe_psql($db, q{SELECT n = (SELECT count(*) FROM t) FROM mv}), 't', "$what: the view is right");
}

# Someone who may not drop it: the command fails as usual, the worker is untouched.
$node->safe_psql('postgres', 'CREATE ROLE regress_stranger LOGIN');
my $pid = worker_pid('app');
my ($ret, $out, $err) = $node->psql('postgres', 'SET ROLE regress_stranger; DROP DATABASE app');
like($err, qr/must be owner of database app/, 'a non-owner cannot drop it');
is(worker_pid('app'), $pid, '... and its worker was not stopped');

# CREATE DATABASE ... TEMPLATE
($ret, $out, $err) = $node->psql('postgres', 'CREATE DATABASE app_copy TEMPLATE app');
is($ret, 0, 'CREATE DATABASE ... TEMPLATE a database with a worker') or diag($err);
is($node->safe_psql('app_copy', q{SELECT count(*) FROM pgview_watches}), '1', 'the copy has the watch');
serves('app', 'after CREATE DATABASE ... TEMPLATE');

# ALTER DATABASE ... RENAME
($ret, $out, $err) = $node->psql('postgres', 'ALTER DATABASE app RENAME TO app2');
is($ret, 0, 'ALTER DATABASE ... RENAME') or diag($err);
serves('app2', 'after RENAME');

# ALTER DATABASE ... SET TABLESPACE
my $dir = PostgreSQL::Test::Utils::tempdir_short();
$node->safe_psql('postgres', "CREATE TABLESPACE elsewhere LOCATION '$dir'");
($ret, $out, $err) = $node->psql('postgres', 'ALTER DATABASE app2 SET TABLESPACE elsewhere');
is($ret, 0, 'ALTER DATABASE ... SET TABLESPACE') or diag($err);
serves('app2', 'after SET TABLESPACE');

# DROP DATABASE, in a transaction of its own (no FORCE)
($ret, $out, $err) = $node->psql('postgres', 'DROP DATABASE app2');
is($ret, 0, 'DROP DATABASE') or diag($err);
($ret, $out, $err) = $node->psql('postgres', 'DROP DATABASE app_copy');
is($ret, 0, 'DROP DATABASE of the copy') or diag($err);
# the launcher goes on: another database is served as before
$node->safe_psql('postgres', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE t (v int);
  CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM t;
  SELECT pgview_watch('mv', mode => 'async');
});
serves('postgres', 'another database afterwards');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity
                                  WHERE backend_type = 'pgview_auto worker' AND datname IS NULL}),
   '0', 'no worker is left for a dropped database');
unlike(slurp_file($node->logfile), qr/being accessed by other users/, 'no command waited for the worker in vain');

# Databases created and dropped, more of them than the shared memory has database
# slots (64): each drop frees its slot, so async stays async in the next one. (A
# slot left behind by each drop ran them out: a database without a slot has its
# async matviews refreshed at commit, as a server without the worker.) A write to
# a commit-mode watch takes a slot and starts no worker, so only the drop can
# free it.
for my $i (1 .. 70)
{
	$node->safe_psql('postgres', 'DROP DATABASE IF EXISTS churn');
	$node->safe_psql('postgres', 'CREATE DATABASE churn');
	$node->safe_psql('churn', q{
	  CREATE EXTENSION pgview_auto;
	  CREATE TABLE t (v int);
	  CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM t;
	  SELECT pgview_watch('mv', mode => 'commit');
	  INSERT INTO t VALUES (1);
	});
}
$node->safe_psql('postgres', 'DROP DATABASE churn');
$node->safe_psql('postgres', 'CREATE DATABASE churn');
my $n = $node->safe_psql('churn', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE t (v int);
  CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM t;
  SELECT pgview_watch('mv', mode => 'async', debounce => '1 hour');
  INSERT INTO t VALUES (1);
  SELECT n FROM mv;
});
is((split /\n/, $n)[-1], '0', 'after 70 databases created and dropped, an async watch in a new one stays async');
$node->safe_psql('churn', q{SELECT pgview_refresh_pending('mv')});
$node->safe_psql('postgres', 'DROP DATABASE churn');

$node->stop;
done_testing();
