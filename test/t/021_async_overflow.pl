# An async table view whose changed keys overflow shared memory
# (pgview_auto.max_pending_keys) is refreshed in full by the worker, which must
# live through it: the worker claims a view before its refresh's transaction
# starts, and the log line of the overflow looked up the view's name there (a
# catalog look-up outside a transaction: signal 11, found by the W2 COPY
# benchmark). Fails without the fix.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('async_overflow');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pgview_auto'
pgview_auto.naptime = '100ms'
pgview_auto.max_pending_keys = 500
});
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE orders (id int PRIMARY KEY, user_id int, amount numeric);
  SELECT pgview_create('order_amounts', 'SELECT id, amount FROM orders',
                       kind => 'table view', unique_key => ARRAY['id']);
  SELECT pgview_watch('order_amounts', mode => 'async');
});
is($node->safe_psql('postgres', q{SELECT pgview_wait('order_amounts', '60 seconds')}), 't', 'the watch settled');
$node->safe_psql('postgres', q{INSERT INTO orders SELECT g, g % 50, g FROM generate_series(1, 1000) g});
is($node->safe_psql('postgres', q{SELECT pgview_wait('order_amounts', '60 seconds')}), 't',
   '1,000 new keys (twice the room) are refreshed by the worker');
my $differing = q{SELECT count(*) FROM ((TABLE order_amounts EXCEPT ALL TABLE pgview_query.order_amounts)
                  UNION ALL (TABLE pgview_query.order_amounts EXCEPT ALL TABLE order_amounts)) d};
is($node->safe_psql('postgres', $differing), '0', '... exactly');
ok($node->log_contains('did not fit in shared memory'), 'the server log says the keys did not fit');
ok(!$node->log_contains('terminated by signal'), 'no server process crashed');
# And again, with the worker already serving the database.
$node->safe_psql('postgres', q{INSERT INTO orders SELECT g, g % 50, g FROM generate_series(1001, 2000) g});
is($node->safe_psql('postgres', q{SELECT pgview_wait('order_amounts', '60 seconds')}), 't', 'a second overflow too');
is($node->safe_psql('postgres', $differing), '0', '... exactly');
ok(!$node->log_contains('terminated by signal'), 'no server process crashed');
$node->stop;
done_testing();
