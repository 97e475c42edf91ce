# pg_dump / pg_restore of a database that uses pgview_auto, into new databases,
# plain and custom format: watches, their options and schedules come back and
# work, each capture trigger exists exactly once, the registry holds no stale
# OID, and DROP EXTENSION still needs no CASCADE.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pgview_auto'\npgview_auto.naptime = '100ms'");
$node->start;

$node->safe_psql('postgres', q{
  CREATE DATABASE source;
});
$node->safe_psql('source', q{
  CREATE EXTENSION pgview_auto;
  CREATE SCHEMA shop;
  CREATE TABLE shop.orders (id serial PRIMARY KEY, total int NOT NULL);
  CREATE TABLE shop.events (d int, n int) PARTITION BY RANGE (d);
  CREATE TABLE shop.events_1 PARTITION OF shop.events FOR VALUES FROM (0) TO (10);
  CREATE VIEW shop.big AS SELECT * FROM shop.orders WHERE total > 10;
  CREATE MATERIALIZED VIEW shop.big_sum AS SELECT count(*) AS n, coalesce(sum(total), 0) AS s FROM shop.big;
  CREATE UNIQUE INDEX ON shop.big_sum (n);
  CREATE MATERIALIZED VIEW shop.event_sum AS SELECT coalesce(sum(n), 0) AS s FROM shop.events;
  CREATE MATERIALIZED VIEW shop.nightly AS SELECT count(*) AS n FROM shop.orders;
  SELECT pgview_watch('shop.big_sum', on_error => 'warn', concurrently => true);
  SELECT pgview_watch('shop.event_sum', mode => 'async', debounce => '10 ms');
  SELECT pgview_watch('shop.nightly', mode => 'manual');
  SELECT pgview_schedule('shop.nightly', '1 day', only_if_dirty => true);
  SELECT pgview_create('shop.by_total', 'SELECT total, count(*) AS n FROM shop.orders GROUP BY total',
                       kind => 'table view', unique_key => ARRAY['total']);
  SELECT pgview_watch('shop.by_total');
  INSERT INTO shop.orders (total) VALUES (50), (5);
});

my $watches_sql = q{SELECT string_agg(concat_ws(' ', matview, source, via, mode, "concurrently", on_error), '; '
                    ORDER BY matview::text, source::text) FROM pgview_watches};
my $schedules_sql = q{SELECT string_agg(matview || ' ' || every || ' ' || only_if_dirty, '; ') FROM pgview_auto.schedule};
my $triggers_sql = q{SELECT string_agg(tgrelid::regclass::text, ',' ORDER BY tgrelid::regclass::text)
                     FROM pg_trigger WHERE tgname = 'pgview_auto_capture'};
# Registry rows whose regclass resolves to nothing: stale OIDs.
my $stale_sql = q{SELECT count(*) FROM pgview_auto.watch w
                  WHERE NOT EXISTS (SELECT FROM pg_class WHERE oid = w.matview)
                     OR NOT EXISTS (SELECT FROM pg_class WHERE oid = w.source)};

my $watches = $node->safe_psql('source', $watches_sql);
my $schedules = $node->safe_psql('source', $schedules_sql);
my $triggers = $node->safe_psql('source', $triggers_sql);
like($watches, qr/shop\.big_sum shop\.orders shop\.big commit t warn/, 'source database has its watches');

for my $format ('plain', 'custom') {
  my $db = "restored_$format";
  my $file = $node->basedir . "/source.$format";
  $node->safe_psql('postgres', "CREATE DATABASE $db");
  if ($format eq 'plain') {
    $node->command_ok(['pg_dump', '-Fp', '-f', $file, '-d', $node->connstr('source')], "pg_dump ($format)");
    $node->command_ok(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', $file, '-d', $node->connstr($db)],
                      "restore with psql ($format)");
  } else {
    $node->command_ok(['pg_dump', '-Fc', '-f', $file, '-d', $node->connstr('source')], "pg_dump ($format)");
    $node->command_ok(['pg_restore', '--exit-on-error', '-d', $node->connstr($db), $file], "pg_restore ($format)");
  }
  is($node->safe_psql($db, $watches_sql), $watches, "$format: watches and options came back");
  is($node->safe_psql($db, $schedules_sql), $schedules, "$format: schedules came back");
  is($node->safe_psql($db, $triggers_sql), $triggers, "$format: each capture trigger exactly once");
  is($node->safe_psql($db, $stale_sql), '0', "$format: no stale OID in the registry");
  is($node->safe_psql($db, q{SELECT relation || ' ' || definition || ' ' || unique_key::text FROM pgview_auto.table_view}),
     'shop.by_total pgview_query.by_total {total}', "$format: the table view is registered again");

  # They work: commit mode at once, async through the worker, manual on request.
  $node->safe_psql($db, q{INSERT INTO shop.orders (total) VALUES (100)});
  is($node->safe_psql($db, q{SELECT s FROM shop.big_sum}), '150', "$format: commit-mode watch refreshes");
  is($node->safe_psql($db, q{SELECT string_agg(total || ':' || n, ',' ORDER BY total) FROM shop.by_total}),
     '5:1,50:1,100:1', "$format: the watched table view refreshes");
  $node->safe_psql($db, q{INSERT INTO shop.events VALUES (1, 7)});
  is($node->safe_psql($db, q{SELECT pgview_wait('shop.event_sum', '30 s')}), 't', "$format: async watch refreshes");
  is($node->safe_psql($db, q{SELECT s FROM shop.event_sum}), '7', "$format: ... with the new row");
  is($node->safe_psql($db, q{SELECT pending FROM pgview_status() WHERE matview = 'shop.nightly'::regclass}),
     't', "$format: manual watch marks pending");

  # The restored triggers belong to the extension again.
  $node->safe_psql($db, 'DROP EXTENSION pgview_auto');
  is($node->safe_psql($db, q{SELECT count(*) FROM pg_trigger WHERE tgname = 'pgview_auto_capture'}), '0',
     "$format: DROP EXTENSION without CASCADE removes the restored capture triggers");
}

$node->stop;
done_testing();
