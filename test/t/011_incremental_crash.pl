# Keys waiting in shared memory for the worker (async and manual table views)
# are gone after a crash; the restart rule makes every such view dirty, and its
# next refresh is full: the view ends up exact, nothing is lost.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pgview_auto'\npgview_auto.naptime = '100ms'");
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE orders (id int PRIMARY KEY, user_id int, amount numeric);
  CREATE INDEX ON orders (user_id);
  INSERT INTO orders SELECT g, g % 20, g FROM generate_series(1, 400) g;
  SELECT pgview_create('manual_tv', 'SELECT user_id, sum(amount) AS total FROM orders GROUP BY user_id',
                       kind => 'table view', unique_key => ARRAY['user_id']);
  SELECT pgview_create('async_tv', 'SELECT user_id, count(*) AS n FROM orders GROUP BY user_id',
                       kind => 'table view', unique_key => ARRAY['user_id']);
  SELECT pgview_watch('manual_tv', mode => 'manual');
  SELECT pgview_watch('async_tv', mode => 'async', debounce => '1 hour', max_delay => '1 hour');
});
# A first refresh each (a watch's first is full), then changes whose keys wait.
$node->safe_psql('postgres', q{UPDATE orders SET amount = amount + 1 WHERE id = 1});
$node->safe_psql('postgres', q{SELECT pgview_refresh_pending()});
$node->safe_psql('postgres', q{
  INSERT INTO orders VALUES (1001, 3, 500), (1002, 4, 600);
  UPDATE orders SET user_id = 5 WHERE id = 10;
  DELETE FROM orders WHERE id = 11;});
is($node->safe_psql('postgres', q{SELECT count(*) FROM pgview_status() WHERE pending}), '2',
   'both table views have keys pending');
my $full = q{SELECT string_agg(matview::text || ':' || refresh_count, ',' ORDER BY matview::text) FROM pgview_status()};
my $full_before = $node->safe_psql('postgres', $full);

$node->stop('immediate');
$node->start;
my $differing = q{
  SELECT (SELECT count(*) FROM ((TABLE manual_tv EXCEPT ALL TABLE pgview_query.manual_tv)
          UNION ALL (TABLE pgview_query.manual_tv EXCEPT ALL TABLE manual_tv)) d)
       + (SELECT count(*) FROM ((TABLE async_tv EXCEPT ALL TABLE pgview_query.async_tv)
          UNION ALL (TABLE pgview_query.async_tv EXCEPT ALL TABLE async_tv)) d)};
isnt($node->safe_psql('postgres', $differing), '0', 'after the crash the views are stale');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pgview_status() WHERE pending}), '2',
   'after the crash both are pending again (the restart rule)');
# The worker waits for the debounce: refresh both now, in this session.
is($node->safe_psql('postgres', q{SELECT pgview_refresh_pending()}), '2', 'both refreshed');
is($node->safe_psql('postgres', $differing), '0', 'and exact');
is($node->safe_psql('postgres', $full), 'async_tv:2,manual_tv:2',
   "the refresh after the crash was full (before: $full_before)");
$node->stop;
done_testing();
