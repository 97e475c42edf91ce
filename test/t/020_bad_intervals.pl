# One bad registry row never stops the worker nor pgview_status() (issue 11,
# item 7). 0.5.0 accepted pgview_schedule(mv, '292300 years'); reading it as
# microseconds overflowed bigint, so the worker failed every pass (no async view
# of the database was refreshed) and, after a restart, pgview_status() failed for
# everyone (and every writer's commit failed loading it). Such a row can still come from 0.5.0 or from a dump: it is written
# here directly, as a superuser. The functions now refuse such intervals (22008,
# in the pg_regress file inputs); rows read from the registry saturate.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('intervals');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pgview_auto'
pgview_auto.naptime = '100ms'
});
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE good_t (v int);
  CREATE MATERIALIZED VIEW good_mv AS SELECT count(*) AS n FROM good_t;
  SELECT pgview_watch('good_mv', mode => 'async');
  CREATE TABLE bad_t (v int);
  CREATE MATERIALIZED VIEW bad_mv AS SELECT count(*) AS n FROM bad_t;
  SELECT pgview_watch('bad_mv', mode => 'async', debounce => '1 second');
  SELECT pgview_schedule('bad_mv', '1 hour');
  -- what 0.5.0 let through, or a dump restores
  UPDATE pgview_auto.schedule SET every = '292300 years' WHERE matview = 'bad_mv'::regclass;
  UPDATE pgview_auto.watched SET debounce = '292300 years', max_delay = '178000000 years'
    WHERE matview = 'bad_mv'::regclass;
});

sub served
{
	my ($what) = @_;
	my ($r, $o, $e) = $node->psql('postgres', 'INSERT INTO good_t VALUES (1)');
	is($r, 0, "$what: a writer commits (its cache loads the bad row)") or diag($e);
	is($node->safe_psql('postgres', q{SELECT pgview_wait('good_mv', '20 seconds')}), 't',
		"$what: the worker serves another matview");
	is($node->safe_psql('postgres', q{SELECT n = (SELECT count(*) FROM good_t) FROM good_mv}), 't',
		"$what: that view is right");
	my ($ret, $out, $err) = $node->psql('postgres',
		q{SELECT matview, schedule, next_refresh FROM pgview_status() ORDER BY 1});
	is($ret, 0, "$what: pgview_status() works") or diag($err);
	like($out, qr/bad_mv\|292300 years\|/, "$what: pgview_status() shows the bad row as it is");
}

served('with the bad rows');
$node->psql('postgres', 'INSERT INTO bad_t VALUES (1)');   # its debounce: never, in effect
served('with the bad matview pending');
$node->restart;
served('after a restart');
unlike(slurp_file($node->logfile), qr/out of range/, 'no out-of-range error in the server log');

$node->stop;
done_testing();
