# No input may crash the server (issue 11, item 3). 0.5.0 registered OID 0 for a
# table view whose definition name PostgreSQL truncated, and the next refresh
# died with SIGSEGV quoting the missing relation; a registry row pointing at a
# relation dropped behind the event triggers' back did the same. Each case here
# must end in an error with a SQLSTATE, and the postmaster must never restart.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pgview_auto'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pgview_auto');
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# Runs SQL expected to fail; returns its SQLSTATE (psql -v VERBOSITY=verbose).
sub sqlstate_of
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return $err =~ /ERROR:\s+([0-9A-Z]{5}):/ ? $1 : "no error (exit $ret): $err";
}

# 1. The name of 0.5.0's crash: a 60-byte table view name (its definition's
# name, <name>_pgview_query then, was truncated and OID 0 registered). The
# definition is named after the table in pgview_query now: the longest names
# work end to end, also when two schemas have the same one.
$node->safe_psql('postgres', q{
  CREATE SCHEMA other;
  SELECT pgview_create(repeat('z', 63), 'SELECT 1 AS a', kind => 'table view');
  SELECT pgview_create('other.' || repeat('z', 63), 'SELECT 2 AS a', kind => 'table view');});
is($node->safe_psql('postgres', q{SELECT count(*) FROM pgview_auto.table_view
                                  WHERE relation::oid <> 0 AND definition::oid <> 0}),
	'2', 'two 63-byte table views registered, with their definitions');
is($node->safe_psql('postgres', q{SELECT pgview_refresh(repeat('z', 63)) + pgview_refresh('other.' || repeat('z', 63))}),
	'2', 'both refresh');
is($node->safe_psql('postgres', q{SELECT (SELECT a FROM zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz)
                                         || ',' || (SELECT a FROM other.zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz)}),
	'1,2', 'each from its own query');

# 2. A definition dropped where the event triggers do not see it (they do not
# fire under session_replication_role = replica): the registry row points at a
# missing relation. Refreshing must fail cleanly.
$node->safe_psql('postgres', q{
  CREATE TABLE src (k int PRIMARY KEY);
  SELECT pgview_create('tv', 'SELECT k FROM src', kind => 'table view', unique_key => ARRAY['k']);
  SELECT pgview_watch('tv');
  SET session_replication_role = replica;
  DROP VIEW pgview_query.tv;
});
is(sqlstate_of(q{SELECT pgview_refresh('tv')}), '42P01', 'refresh of a table view whose definition is gone: 42P01');
is(sqlstate_of(q{INSERT INTO src VALUES (1)}), '42P01', 'the same at commit');

# 3. A temporary table view, or one reading a temporary table, is refused.
is(sqlstate_of(q{SELECT pgview_create('pg_temp.tt', 'SELECT 1 AS a', kind => 'table view')}),
	'0A000', 'a temporary table view: 0A000');
is(sqlstate_of(q{CREATE TEMP TABLE tmp (a int);
                 SELECT pgview_create('reads_tmp', 'SELECT a FROM tmp', kind => 'table view')}),
	'0A000', 'a table view reading a temporary table: 0A000');

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $started,
	'the server never restarted');
$node->stop;
done_testing();
