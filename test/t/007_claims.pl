# A refresh claimed by pgview_refresh_pending follows the (sub)transaction that
# made it (issue 11, item 5). The claim clears the matview's pending mark; in
# 0.5.0 a claim made in a subtransaction that rolled back (or a PREPARE
# TRANSACTION then ROLLBACK PREPARED) lost the mark: the view stayed stale for
# good and pgview_wait returned true. Now: rolled back, it is pending again;
# committed (released savepoint, then commit), done; prepared, pending again
# (one needless refresh after COMMIT PREPARED, never a lost one).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('claims');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pgview_auto'
pgview_auto.naptime = '100ms'
max_prepared_transactions = 5
});
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE t (v int);
  CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM t;
  SELECT pgview_watch('mv', mode => 'manual');
});
# the restart rule marks it pending once: clear that first
$node->safe_psql('postgres', q{SELECT pgview_refresh_pending('mv')});

sub pending { return $node->safe_psql('postgres', q{SELECT pending FROM pgview_status() WHERE matview = 'mv'::regclass}); }
sub fresh { return $node->safe_psql('postgres', q{SELECT n = (SELECT count(*) FROM t) FROM mv}); }
sub waited { return $node->safe_psql('postgres', q{SELECT pgview_wait('mv', '300 ms')}); }

is(pending(), 'f', 'nothing pending at the start');

# Each case: a write makes mv pending; the claim happens in the given
# transaction shape; then what must hold.
my @rolled_back = (
	[ 'a savepoint rolled back',
	  q{BEGIN; SAVEPOINT s; SELECT pgview_refresh_pending('mv'); ROLLBACK TO SAVEPOINT s; COMMIT;} ],
	[ 'a released savepoint inside one rolled back',
	  q{BEGIN; SAVEPOINT a; SAVEPOINT b; SELECT pgview_refresh_pending('mv'); RELEASE SAVEPOINT b;
	    ROLLBACK TO SAVEPOINT a; COMMIT;} ],
	[ 'a PL/pgSQL exception block',
	  q{DO $$ BEGIN PERFORM pgview_refresh_pending('mv'); RAISE EXCEPTION 'undo';
	           EXCEPTION WHEN raise_exception THEN NULL; END $$;} ],
	[ 'PREPARE TRANSACTION, then ROLLBACK PREPARED',
	  q{BEGIN; SELECT pgview_refresh_pending('mv'); PREPARE TRANSACTION 'claim'; ROLLBACK PREPARED 'claim';} ],
);
for my $case (@rolled_back) {
	my ($what, $sql) = @$case;
	$node->safe_psql('postgres', 'INSERT INTO t VALUES (1)');
	is(pending(), 't', "$what: pending after a write");
	$node->safe_psql('postgres', $sql);
	is(pending(), 't', "$what: still pending after the claim rolled back");
	is(fresh(), 'f', "$what: the view is stale (its refresh was rolled back)");
	is(waited(), 'f', "$what: pgview_wait does not return true");
	# the next claim refreshes it for good
	is($node->safe_psql('postgres', q{SELECT pgview_refresh_pending('mv')}), '1', "$what: refreshed afterwards");
	is(pending(), 'f', "$what: no longer pending");
	is(fresh(), 't', "$what: the view is right");
	is(waited(), 't', "$what: pgview_wait returns true");
}

# Claims that stand: a released savepoint in a committed transaction.
$node->safe_psql('postgres', 'INSERT INTO t VALUES (1)');
$node->safe_psql('postgres',
	q{BEGIN; SAVEPOINT s; SELECT pgview_refresh_pending('mv'); RELEASE SAVEPOINT s; COMMIT;});
is(pending(), 'f', 'released savepoint, committed: done');
is(fresh(), 't', 'released savepoint, committed: the view is right');
is(waited(), 't', 'released savepoint, committed: pgview_wait returns true');

# PREPARE then COMMIT PREPARED: the refresh is kept, and the matview is
# pending again until one more refresh (never less than needed).
$node->safe_psql('postgres', 'INSERT INTO t VALUES (1)');
$node->safe_psql('postgres',
	q{BEGIN; SELECT pgview_refresh_pending('mv'); PREPARE TRANSACTION 'claim2';});
is(pending(), 't', 'prepared: pending again');
$node->safe_psql('postgres', q{COMMIT PREPARED 'claim2'});
is(fresh(), 't', 'COMMIT PREPARED: the view is right');
is(pending(), 't', 'COMMIT PREPARED: still pending (one more refresh to come)');
is($node->safe_psql('postgres', q{SELECT pgview_refresh_pending('mv')}), '1', 'COMMIT PREPARED: one more refresh');
is(waited(), 't', 'COMMIT PREPARED: pgview_wait returns true after it');

$node->stop;
done_testing();
