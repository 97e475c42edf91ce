# pgview_wait and a commit that is not visible yet.
#
# Between a writer's PRE_COMMIT (where it takes its ticket) and the moment its
# commit becomes visible there is a window: the WAL flush, or, as here, a wait
# for a synchronous standby that never answers. A refresh claimed in that
# window cannot see the writer's rows, so it must not count the writer's ticket
# as done: once the writer's commit shows, pgview_wait has to wait for another
# refresh rather than report the view fresh.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('sync');
$node->init(allows_streaming => 1); # max_wal_senders > 0: commits wait for the standby
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pgview_auto'
pgview_auto.naptime = '100ms'
synchronous_standby_names = 'nobody'
});
$node->start;
# Every session but the stuck writer commits without waiting for the standby.
$node->safe_psql('postgres', q{
  SET synchronous_commit = local;
  ALTER DATABASE postgres SET synchronous_commit = local;
  CREATE EXTENSION pgview_auto;
  CREATE TABLE t (id int);
  CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM t;
  SELECT pgview_watch('mv', 't', mode => 'manual');
});
# Settle the restart rule (every manual matview starts dirty).
$node->safe_psql('postgres', q{SELECT pgview_refresh_pending('mv')});
is($node->safe_psql('postgres', q{SELECT pgview_wait('mv', '5 seconds')}), 't', 'nothing pending at the start');

sub poll
{
	my ($sql, $want, $what) = @_;
	for (1 .. 300)
	{
		return 1 if $node->safe_psql('postgres', $sql) eq $want;
		usleep(100_000);
	}
	fail("timed out waiting for $what");
	return 0;
}

# Writer A: takes its ticket at PRE_COMMIT, then waits for the standby with its
# commit not yet visible.
my ($out, $err) = ('', '');
my $writer_a = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c',
	  q{SET synchronous_commit = on; SET application_name = 'writer_a'; INSERT INTO t VALUES (1)} ],
	'>', \$out, '2>', \$err);
poll(q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'writer_a' AND wait_event = 'SyncRep'},
	'1', 'writer A to wait for the standby');

# Writer B commits; the refresh runs while A is still in flight.
$node->safe_psql('postgres', q{INSERT INTO t VALUES (2)});
is($node->safe_psql('postgres', q{SELECT pgview_refresh_pending('mv')}), '1', 'refreshed while A is in flight');
is($node->safe_psql('postgres', q{SELECT n FROM mv}), '1', 'that refresh saw B, not A (A is not visible yet)');
is($node->safe_psql('postgres', q{SELECT pgview_wait('mv', '1 second')}), 't',
	'pgview_wait called before A is visible is served: B is in the view');

# Let A's commit show (cancelling the standby wait keeps the local commit).
$node->safe_psql('postgres', q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'writer_a'});
$writer_a->finish;
like($err, qr/already committed locally/, 'writer A committed locally');
is($node->safe_psql('postgres', q{SELECT count(*) FROM t}), '2', 'both rows are in the table');

# Called now, pgview_wait must not trust the refresh made while A was in flight.
is($node->safe_psql('postgres', q{SELECT pgview_wait('mv', '1 second')}), 'f',
	'pgview_wait after A became visible is not served by the refresh that missed A');
is($node->safe_psql('postgres', q{SELECT pending FROM pgview_status() WHERE matview = 'mv'::regclass}), 't',
	'A marked mv dirty at its commit');
is($node->safe_psql('postgres', q{SELECT pgview_refresh_pending('mv')}), '1', 'manual refresh');
is($node->safe_psql('postgres', q{SELECT pgview_wait('mv', '5 seconds')}), 't', 'now pgview_wait is served');
is($node->safe_psql('postgres', q{SELECT n FROM mv}), '2', 'and the view has A\'s row');

# The same through the worker: async with a debounce long enough that A's
# commit comes before the next refresh would.
$node->safe_psql('postgres', q{
  SELECT pgview_watch('mv', 't', mode => 'async', debounce => '2 seconds');
});
is($node->safe_psql('postgres', q{SELECT pgview_wait('mv', '30 seconds')}), 't', 'async: settled');
($out, $err) = ('', '');
$writer_a = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c',
	  q{SET synchronous_commit = on; SET application_name = 'writer_a'; INSERT INTO t VALUES (3)} ],
	'>', \$out, '2>', \$err);
poll(q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'writer_a' AND wait_event = 'SyncRep'},
	'1', 'writer A to wait for the standby again');
my $before = $node->safe_psql('postgres', q{SELECT refresh_count FROM pgview_status() WHERE matview = 'mv'::regclass});
$node->safe_psql('postgres', q{INSERT INTO t VALUES (4)});
poll(qq{SELECT refresh_count > $before FROM pgview_status() WHERE matview = 'mv'::regclass}, 't',
	'the worker to refresh while A is in flight');
is($node->safe_psql('postgres', q{SELECT n FROM mv}), '3', 'async: the worker saw B, not A');
$node->safe_psql('postgres', q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'writer_a'});
$writer_a->finish;
# (Two statements: a statement's snapshot is taken before pgview_wait waits.)
is($node->safe_psql('postgres', q{SELECT pgview_wait('mv', '30 seconds')}), 't', 'async: pgview_wait is served');
is($node->safe_psql('postgres', q{SELECT n FROM mv}), '4',
	'async: pgview_wait after A became visible returned only once A\'s row was in the view');

$node->stop;
done_testing();
