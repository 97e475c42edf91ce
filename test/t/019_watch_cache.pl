# A session whose first load of the watch cache failed still captures later
# writes (issue 11, item 6). 0.5.0 marked the cache valid before loading it: a
# load cancelled or timed out (here: lock_timeout while another session holds
# the registry table) left it valid and empty for the life of the backend, so
# that backend (and a pooled connection using it) silently refreshed nothing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cache');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pgview_auto'");
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE t (v int);
  CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM t;
  SELECT pgview_watch('mv');
});

# The writer connects first; it has not loaded its cache yet.
my $writer = $node->background_psql('postgres', on_error_stop => 0);
$writer->query_safe(q{SET lock_timeout = '300ms'});

# Another session holds the registry table: the writer's first load (at its
# commit) waits for the lock and times out.
my $holder = $node->background_psql('postgres');
$holder->query_safe(q{BEGIN; LOCK TABLE pgview_auto.watch IN ACCESS EXCLUSIVE MODE;});
my ($out, $failed) = $writer->query(q{INSERT INTO t VALUES (1)});
ok($failed && $writer->{stderr} =~ /lock timeout/, 'the first load times out, and the commit with it')
  or diag($writer->{stderr});
$writer->{stderr} = '';
$holder->query_safe('ROLLBACK');
$holder->quit;

# The same backend writes again: the cache loads now, the write is captured.
$writer->query_safe(q{INSERT INTO t VALUES (2)});
is($writer->query_safe(q{SELECT n FROM mv}), '1', 'the next write in that session refreshes the view');
is($writer->query_safe(q{SELECT (SELECT n FROM mv) = (SELECT count(*) FROM t)}), 't', 'the view equals its query');
$writer->quit;

$node->stop;
done_testing();
