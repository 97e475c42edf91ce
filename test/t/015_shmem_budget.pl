# Shared memory is a budget (issue 20): pgview_auto's shared tables are sized at
# server start and never grow. A manual table view never refreshed, whose
# pending keys pass pgview_auto.max_pending_keys, and more watched matviews than
# pgview_auto.max_matviews, take none of the server's spare shared memory (which
# every other database, lock and extension needs): the views that overflow are
# refreshed in full instead, counted in pgview_status and said in the server log.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('budget');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pgview_auto'
pgview_auto.naptime = '100ms'
pgview_auto.max_pending_keys = 500
pgview_auto.max_matviews = 16
});
$node->start;

# What the server has left of its shared memory, and what was handed out
# piecemeal after start (a shared hash table growing takes it from there).
my $free_sql = q{SELECT coalesce(sum(allocated_size), 0) FROM pg_shmem_allocations WHERE name IS NULL};
my $anon_sql = q{SELECT coalesce(sum(allocated_size), 0) FROM pg_shmem_allocations WHERE name = '<anonymous>'};

$node->safe_psql('postgres', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE orders (id int PRIMARY KEY, user_id int, amount numeric);
  SELECT pgview_create('order_amounts', 'SELECT id, amount FROM orders',
                       kind => 'table view', unique_key => ARRAY['id']);
  SELECT pgview_watch('order_amounts', mode => 'manual');
});
$node->safe_psql('postgres', q{INSERT INTO orders VALUES (0, 0, 0)});
$node->safe_psql('postgres', q{SELECT pgview_refresh_pending()}); # a watch's first refresh is full
my $free_before = $node->safe_psql('postgres', $free_sql);
my $anon_before = $node->safe_psql('postgres', $anon_sql);

# 5,000 new keys, ten times what the pending-key table holds.
for my $batch (0 .. 49) {
  my $from = 1 + 100 * $batch;
  $node->safe_psql('postgres', qq{INSERT INTO orders SELECT g, g % 50, g FROM generate_series($from, $from + 99) g});
}
my $free_after = $node->safe_psql('postgres', $free_sql);
my $anon_after = $node->safe_psql('postgres', $anon_sql);
cmp_ok($free_after, '>=', $free_before - 8192,
       "spare shared memory untouched by 5,000 pending keys (before $free_before, after $free_after)");
cmp_ok($anon_after, '<=', $anon_before + 8192,
       "no shared memory handed out after start (before $anon_before, after $anon_after)");
cmp_ok($node->safe_psql('postgres', q{SELECT shmem_overflows FROM pgview_status() WHERE matview = 'order_amounts'::regclass}),
       '>', 0, 'pgview_status counts the overflow');
my $full_before = $node->safe_psql('postgres',
  q{SELECT refresh_count FROM pgview_status() WHERE matview = 'order_amounts'::regclass});
is($node->safe_psql('postgres', q{SELECT pgview_refresh_pending()}), '1', 'the overflowed view is refreshed');
is($node->safe_psql('postgres', q{SELECT refresh_count FROM pgview_status() WHERE matview = 'order_amounts'::regclass}),
   $full_before + 1, '... in full');
my $differing = q{SELECT count(*) FROM ((TABLE order_amounts EXCEPT ALL TABLE pgview_query.order_amounts)
                  UNION ALL (TABLE pgview_query.order_amounts EXCEPT ALL TABLE order_amounts)) d};
is($node->safe_psql('postgres', $differing), '0', '... and exact');
ok($node->log_contains('did not fit in shared memory'), 'the server log says why it was full');

# The shared table of pending changes has room for 16 views: the 16th
# background watch (the table view holds one) is refused when it is asked for,
# with the setting to raise, instead of failing some writer's commit later.
$node->safe_psql('postgres', join("\n", map {
  qq{CREATE MATERIALIZED VIEW mv$_ AS SELECT count(*) AS n FROM orders WHERE user_id = $_;
     SELECT pgview_watch('mv$_', mode => 'manual');} } 1 .. 15));
$node->safe_psql('postgres', q{CREATE MATERIALIZED VIEW mv16 AS SELECT count(*) AS n FROM orders WHERE user_id = 16});
my ($rc, $out, $err) = $node->psql('postgres', q{SELECT pgview_watch('mv16', mode => 'manual')},
                                   extra_params => ['-v', 'VERBOSITY=verbose']);
like($err, qr/53400: pgview_watch: no room in shared memory to track mv16/, 'the 16th background watch is refused (53400)');
like($err, qr/HINT:  Raise pgview_auto.max_matviews/, '... with the setting to raise');
is($node->safe_psql('postgres', q{SELECT pgview_watch('mv16')}), 'orders', 'mode commit needs no room');

# A server restarted with less room than its watches need (max_matviews 8 for
# 16 background views): the restart rule finds no room for some; the database
# is tracked as all dirty, nothing is lost and nothing more is taken.
$node->append_conf('postgresql.conf', 'pgview_auto.max_matviews = 8');
$node->restart;
$free_before = $node->safe_psql('postgres', $free_sql);
$node->safe_psql('postgres', q{INSERT INTO orders SELECT g, g % 50, 1 FROM generate_series(10001, 10100) g});
cmp_ok($node->safe_psql('postgres', $free_sql), '>=', $free_before - 8192,
       'spare shared memory untouched by 16 background views against room for 8');
is($node->safe_psql('postgres', q{SHOW pgview_auto.max_matviews}), '8', 'restarted with room for 8');
cmp_ok($node->safe_psql('postgres', q{SELECT max(shmem_overflows) FROM pgview_status()}), '>', 0,
       'the overflow is counted');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pgview_status() WHERE mode = 'manual' AND pending}), '16',
   'every background view shows as pending');
$node->safe_psql('postgres', q{SELECT pgview_refresh_pending()});
my $stale = join(' + ', map { qq{(SELECT count(*) FROM mv$_ WHERE n <> (SELECT count(*) FROM orders WHERE user_id = $_))} } 1 .. 16);
is($node->safe_psql('postgres', "SELECT $stale"), '0', 'every matview is exact after pgview_refresh_pending');
is($node->safe_psql('postgres', $differing), '0', 'and the table view');
$node->stop;
done_testing();
