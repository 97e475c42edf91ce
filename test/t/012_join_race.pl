# Keys found through a join, and a writer whose commit is not visible yet.
#
# A table view keyed by ledger.id shows each ledger row's account region. Writer
# A moves account 18 to another region: its keys are the ledger rows of account
# 18 its key query finds. Writer B meanwhile inserts a ledger row of account 18:
# A's query cannot see it, and B's refresh (key: the new row) cannot see A's
# move while A's commit waits for a synchronous standby. Neither would wait for
# the other on a key: the new row would keep the old region. Views with keys
# found through joins serialize their keyed refreshes on the table view, so B
# waits for A's commit to show and then refreshes with A's region.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('join_race');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pgview_auto'
synchronous_standby_names = 'nobody'
});
$node->start;
$node->safe_psql('postgres', q{
  SET synchronous_commit = local;
  ALTER DATABASE postgres SET synchronous_commit = local;
  CREATE EXTENSION pgview_auto;
  CREATE TABLE accounts (id int PRIMARY KEY, region int);
  CREATE TABLE ledger (id int PRIMARY KEY, account_id int REFERENCES accounts);
  CREATE INDEX ON ledger (account_id);
  INSERT INTO accounts VALUES (18, 1), (19, 1);
  INSERT INTO ledger VALUES (1, 18), (3, 19);
  SELECT pgview_create('ledger_regions',
    'SELECT l.id AS lid, l.account_id, a.region FROM ledger l JOIN accounts a ON a.id = l.account_id',
    kind => 'table view', unique_key => ARRAY['lid']);
  SELECT pgview_watch('ledger_regions');
});
$node->safe_psql('postgres', q{SET synchronous_commit = local; UPDATE ledger SET id = id WHERE id = 3});  # the watch's first refresh: full
is($node->safe_psql('postgres', q{SELECT string_agg(source::text || ':' || refresh, ',' ORDER BY source::text) FROM pgview_explain('ledger_regions')}),
	'accounts:incremental,ledger:incremental', 'both sources are keyed (accounts through the join)');

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

# A moves account 18; its commit waits for the standby, invisible.
my ($out_a, $err_a) = ('', '');
my $a = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c',
	  q{SET synchronous_commit = on; SET application_name = 'writer_a'; UPDATE accounts SET region = 7 WHERE id = 18} ],
	'>', \$out_a, '2>', \$err_a);
poll(q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'writer_a' AND wait_event = 'SyncRep'},
	'1', 'writer A to wait for the standby');

# B inserts a ledger row of account 18: its refresh must wait for A.
my ($out_b, $err_b) = ('', '');
my $b = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c',
	  q{SET application_name = 'writer_b'; INSERT INTO ledger VALUES (2, 18)} ],
	'>', \$out_b, '2>', \$err_b);
poll(q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'writer_b' AND wait_event_type = 'Lock'},
	'1', 'writer B to wait for A\'s lock on the table view');

# Release A: the standby wait ends once synchronous replication is off.
$node->safe_psql('postgres', q{ALTER SYSTEM SET synchronous_standby_names = ''; SELECT pg_reload_conf()});
$a->finish;
$b->finish;
is($err_a . $err_b, '', 'both writers committed');
is($node->safe_psql('postgres', q{SELECT region FROM ledger_regions WHERE lid = 2}), '7',
	'the new ledger row shows the region A moved its account to');
is($node->safe_psql('postgres', q{
  SELECT count(*) FROM ((TABLE ledger_regions EXCEPT ALL TABLE pgview_query.ledger_regions)
   UNION ALL (TABLE pgview_query.ledger_regions EXCEPT ALL TABLE ledger_regions)) d}), '0',
	'the table view equals its query');
is($node->safe_psql('postgres', q{SELECT refresh_count || '/' || incremental_refreshes FROM pgview_status()}),
	'1/2', 'both refreshes keyed');
$node->stop;
done_testing();
