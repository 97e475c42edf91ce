# A table view published with logical replication (a materialized view cannot
# be): its refresh writes only the changed rows, and they arrive on the
# subscriber as ordinary INSERTs, UPDATEs and DELETEs.
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
$subscriber->start;

$publisher->safe_psql('postgres', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE orders (id int PRIMARY KEY, user_id int, amount numeric);
  INSERT INTO orders SELECT g, g % 5, g FROM generate_series(1, 100) g;
  SELECT pgview_create('user_totals', 'SELECT user_id, count(*) AS n, sum(amount) AS total FROM orders GROUP BY user_id',
                       kind => 'table view', unique_key => ARRAY['user_id']);
  SELECT pgview_create('big_orders', 'SELECT user_id, amount FROM orders WHERE amount > 90', kind => 'table view');
  CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x;
});
my ($rc, $out, $err) = $publisher->psql('postgres', 'CREATE PUBLICATION nope FOR TABLE mv');
isnt($rc, 0, 'a materialized view cannot be published');
$publisher->safe_psql('postgres', 'CREATE PUBLICATION views FOR TABLE user_totals, big_orders');

# The subscriber has plain tables of the same shape.
$subscriber->safe_psql('postgres', q{
  CREATE TABLE user_totals (user_id int, n bigint, total numeric);
  CREATE TABLE big_orders (user_id int, amount numeric);
});
my $connstr = $publisher->connstr() . ' dbname=postgres';
$subscriber->safe_psql('postgres', "CREATE SUBSCRIPTION s CONNECTION '$connstr' PUBLICATION views");
$publisher->wait_for_catchup('s');
$subscriber->poll_query_until('postgres',
	q{SELECT count(*) = 0 FROM pg_subscription_rel WHERE srsubstate NOT IN ('r', 's')})
  or die 'the initial copy did not finish';

my $totals = q{SELECT string_agg(user_id || ':' || n || ':' || total, ',' ORDER BY user_id) FROM user_totals};
my $big = q{SELECT string_agg(user_id || ':' || amount, ',' ORDER BY user_id, amount) FROM big_orders};
is($subscriber->safe_psql('postgres', $totals), $publisher->safe_psql('postgres', $totals),
	'the initial copy arrived');

# Change a little, refresh, and watch the change arrive.
$publisher->safe_psql('postgres', q{
  UPDATE orders SET amount = amount + 1000 WHERE id = 3;
  DELETE FROM orders WHERE user_id = 4;
  INSERT INTO orders VALUES (1000, 7, 5), (1001, 2, 95);
  SELECT pgview_refresh('user_totals');
  SELECT pgview_refresh('big_orders');
});
$publisher->wait_for_catchup('s');
is($subscriber->safe_psql('postgres', $totals), $publisher->safe_psql('postgres', $totals),
	'the keyed table view\'s refresh arrived');
is($subscriber->safe_psql('postgres', $big), $publisher->safe_psql('postgres', $big),
	'the multiset table view\'s refresh arrived');
is($publisher->safe_psql('postgres',
		q{SELECT count(*) FROM ((TABLE user_totals EXCEPT ALL SELECT user_id, count(*), sum(amount) FROM orders GROUP BY user_id)
		  UNION ALL (SELECT user_id, count(*), sum(amount) FROM orders GROUP BY user_id EXCEPT ALL TABLE user_totals)) d}),
	'0', 'and it equals the query');

# Only the changed rows travelled: the subscriber's row counters say so.
# (initial copy: 5 rows; the refresh: user 3 and user 2 updated, user 4 deleted, user 7 inserted)
ok($subscriber->poll_query_until('postgres',
		q{SELECT n_tup_ins || ' ' || n_tup_upd || ' ' || n_tup_del FROM pg_stat_user_tables WHERE relname = 'user_totals'},
		'6 2 1'),
	'the subscriber applied 1 insert, 2 updates and 1 delete after the copy of 5 rows');

$subscriber->stop;
$publisher->stop;
done_testing();
