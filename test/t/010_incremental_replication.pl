# Rows arriving by logical replication into a watched source are captured on the
# subscriber: apply workers fire row triggers only (never statement triggers), and
# the capture's row trigger is enabled REPLICA. A table view there is refreshed
# incrementally (commit mode, in the apply worker's transaction; async mode, by the
# worker), a matview in full; TRUNCATE arrives as a full refresh.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $publisher = PostgreSQL::Test::Cluster->new('publisher');
$publisher->init(allows_streaming => 'logical');
$publisher->start;
my $subscriber = PostgreSQL::Test::Cluster->new('subscriber');
$subscriber->init;
$subscriber->append_conf('postgresql.conf', "shared_preload_libraries = 'pgview_auto'\npgview_auto.naptime = '100ms'");
$subscriber->start;

$publisher->safe_psql('postgres', q{
  CREATE TABLE orders (id int PRIMARY KEY, user_id int, amount numeric);
  INSERT INTO orders SELECT g, g % 10, g FROM generate_series(1, 200) g;
  CREATE PUBLICATION orders_pub FOR TABLE orders;
});
$subscriber->safe_psql('postgres', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE orders (id int PRIMARY KEY, user_id int, amount numeric);
  CREATE INDEX ON orders (user_id);
  SELECT pgview_create('user_totals', 'SELECT user_id, count(*) AS n, sum(amount) AS total FROM orders GROUP BY user_id',
                       kind => 'table view', unique_key => ARRAY['user_id']);
  SELECT pgview_create('user_totals_async', 'SELECT user_id, max(amount) AS top FROM orders GROUP BY user_id',
                       kind => 'table view', unique_key => ARRAY['user_id']);
  CREATE MATERIALIZED VIEW order_count AS SELECT count(*) AS n FROM orders;
  SELECT pgview_watch('user_totals');
  SELECT pgview_watch('user_totals_async', mode => 'async');
  SELECT pgview_watch('order_count');
});
is($subscriber->safe_psql('postgres',
	q{SELECT string_agg(tgname || ':' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'orders'::regclass}),
	'pgview_auto_capture:A,pgview_auto_keys_delete:O,pgview_auto_keys_insert:O,pgview_auto_keys_update:O,pgview_auto_replica:R',
	'the subscriber\'s source has the capture triggers, the row trigger enabled REPLICA');

my $connstr = $publisher->connstr() . ' dbname=postgres';
$subscriber->safe_psql('postgres', "CREATE SUBSCRIPTION s CONNECTION '$connstr' PUBLICATION orders_pub");
$publisher->wait_for_catchup('s');
$subscriber->poll_query_until('postgres',
	q{SELECT count(*) = 0 FROM pg_subscription_rel WHERE srsubstate NOT IN ('r', 's')})
  or die 'the initial copy did not finish';

my $differing = q{
  SELECT (SELECT count(*) FROM ((TABLE user_totals EXCEPT ALL TABLE pgview_query.user_totals)
          UNION ALL (TABLE pgview_query.user_totals EXCEPT ALL TABLE user_totals)) d)
       + (SELECT count(*) FROM ((TABLE user_totals_async EXCEPT ALL TABLE pgview_query.user_totals_async)
          UNION ALL (TABLE pgview_query.user_totals_async EXCEPT ALL TABLE user_totals_async)) d)
       + (SELECT count(*) FROM order_count WHERE n <> (SELECT count(*) FROM orders))};
my $stats = q{SELECT refresh_count || '/' || incremental_refreshes FROM pgview_status() WHERE matview = 'user_totals'::regclass};

$subscriber->safe_psql('postgres', q{SELECT pgview_wait('user_totals_async')});
is($subscriber->safe_psql('postgres', $differing), '0', 'after the initial copy every view equals its query');
my $before = $subscriber->safe_psql('postgres', $stats);
my ($full_before, $keyed_before) = split m{/}, $before;

# Single-row changes, as an application makes them.
$publisher->safe_psql('postgres', q{INSERT INTO orders VALUES (1001, 3, 50)});
$publisher->safe_psql('postgres', q{UPDATE orders SET amount = amount + 1 WHERE id = 7});
$publisher->safe_psql('postgres', q{UPDATE orders SET user_id = 4 WHERE id = 8});
$publisher->safe_psql('postgres', q{DELETE FROM orders WHERE id = 9});
$publisher->wait_for_catchup('s');
$subscriber->safe_psql('postgres', q{SELECT pgview_wait('user_totals_async')});
is($subscriber->safe_psql('postgres', $differing), '0', 'rows applied by the subscription refreshed every view');
my ($full_after, $keyed_after) = split m{/}, $subscriber->safe_psql('postgres', $stats);
is($full_after, $full_before, 'no full refresh for the applied rows');
cmp_ok($keyed_after - $keyed_before, '>=', 4, 'each applied transaction refreshed the table view incrementally');
is($subscriber->safe_psql('postgres', q{SELECT n FROM user_totals WHERE user_id = 3}),
   $subscriber->safe_psql('postgres', q{SELECT count(*) FROM orders WHERE user_id = 3}),
   'the applied insert is in the table view');

# TRUNCATE arrives as a full refresh.
$publisher->safe_psql('postgres', q{TRUNCATE orders; INSERT INTO orders VALUES (1, 1, 1)});
$publisher->wait_for_catchup('s');
$subscriber->safe_psql('postgres', q{SELECT pgview_wait('user_totals_async')});
is($subscriber->safe_psql('postgres', $differing), '0', 'a replicated TRUNCATE refreshed every view');
is($subscriber->safe_psql('postgres', q{SELECT count(*) FROM user_totals}), '1', 'only the new row is left');

$subscriber->stop;
$publisher->stop;
done_testing();
