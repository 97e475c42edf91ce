# ALTER EXTENSION pgview_auto UPDATE from every version the repo ships: the
# result has the same objects as a fresh install, and watches made under an
# older version keep working across the update; a table view made after the
# update works (created, watched, refreshed at commit, in pgview_deps). (Today CREATE EXTENSION itself
# runs 0.1.0 plus the update scripts; the comparison guards the day a full
# install script of a later version is added.)
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('update');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pgview_auto'\npgview_auto.naptime = '100ms'");
$node->start;

# The extension's objects, described independently of OIDs.
my $objects_sql = q{
  SELECT string_agg(d, E'\n' ORDER BY d) FROM (
    SELECT pg_describe_object(classid, objid, objsubid)
           || CASE WHEN classid = 'pg_proc'::regclass THEN ' ' || md5(pg_get_functiondef(objid)) ELSE '' END
           || CASE WHEN classid = 'pg_class'::regclass THEN ' ' || coalesce(
                (SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum)
                 FROM pg_attribute WHERE attrelid = objid AND attnum > 0 AND NOT attisdropped), '') ELSE '' END AS d
    FROM pg_depend
    WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
      AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pgview_auto')) o};

my @versions = map { /pgview_auto--([0-9.]+)\.sql$/ ? $1 : () }
  glob(`pg_config --sharedir` =~ s/\s+$//r . '/extension/pgview_auto--*.sql');
my $current = $node->safe_psql('postgres',
  q{SELECT default_version FROM pg_available_extensions WHERE name = 'pgview_auto'});
ok(scalar(@versions) >= 1, "install scripts found (@versions), current $current");

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION pgview_auto');
my $fresh = $node->safe_psql('fresh', $objects_sql);

# every earlier version the repo ships that can reach the current one
my @earlier = split /\n/, $node->safe_psql('postgres',
  qq{SELECT source FROM pg_extension_update_paths('pgview_auto')
     WHERE target = '$current' AND path IS NOT NULL ORDER BY 1});
ok(scalar(@earlier) >= 2, "earlier versions to update from: @earlier");
for my $from (@earlier) {
  my $db = "from_" . ($from =~ s/\./_/gr);
  $node->safe_psql('postgres', "CREATE DATABASE $db");
  $node->safe_psql($db, "CREATE EXTENSION pgview_auto VERSION '$from'");
  my $has_watch = $node->safe_psql($db,
    q{SELECT count(*) FROM pg_proc WHERE proname = 'pgview_watch'}) > 0;
  if ($has_watch) {
    # a watch made under the old version
    $node->safe_psql($db, q{
      CREATE TABLE t (v int);
      CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM t;
      SELECT pgview_watch('mv');
      INSERT INTO t VALUES (1);});
  }
  my $had_table_views = $node->safe_psql($db,
    q{SELECT count(*) FROM pg_class WHERE relname = 'table_view' AND relnamespace = 'pgview_auto'::regnamespace}) > 0;
  if ($had_table_views) {
    # table views made under the old version, named alike in two schemas: their
    # definitions (<name>_pgview_query beside each) move to pgview_query
    $node->safe_psql($db, q{
      CREATE SCHEMA other;
      CREATE TABLE old_src (k int PRIMARY KEY, v int);
      INSERT INTO old_src VALUES (1, 10);
      SELECT pgview_create('old_tv', 'SELECT k, v FROM old_src', kind => 'table view', unique_key => ARRAY['k']);
      SELECT pgview_create('other.old_tv', 'SELECT k, v + 1 AS v FROM old_src', kind => 'table view',
                           unique_key => ARRAY['k']);
      SELECT pgview_watch('old_tv');});
  }
  $node->safe_psql($db, 'ALTER EXTENSION pgview_auto UPDATE');
  is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'pgview_auto'}),
     $current, "$from updated to $current");
  is($node->safe_psql($db, $objects_sql), $fresh, "$from -> $current has the objects of a fresh install");
  if ($has_watch) {
    $node->safe_psql($db, q{INSERT INTO t VALUES (2)});
    is($node->safe_psql($db, q{SELECT n FROM mv}), '2', "watch from $from still refreshes at commit");
    is($node->safe_psql($db, q{SELECT mode FROM pgview_status() WHERE matview = 'mv'::regclass}),
       'commit', "watch from $from kept its mode");
  }
  if ($had_table_views) {
    is($node->safe_psql($db, q{SELECT string_agg(relation::text || ' ' || definition::text, ', ' ORDER BY relation::text)
                               FROM pgview_auto.table_view}),
       'old_tv pgview_query.old_tv, other.old_tv pgview_query.old_tv_2',
       "$from -> $current: the definitions of table views moved to pgview_query");
    is($node->safe_psql($db, q{SELECT count(*) FROM pg_class WHERE relname LIKE '%pgview_query'}), '0',
       "$from -> $current: no <name>_pgview_query view left beside a table view");
    $node->safe_psql($db, q{UPDATE old_src SET v = 20});
    $node->safe_psql($db, q{SELECT pgview_refresh('other.old_tv')});
    is($node->safe_psql($db, q{SELECT (SELECT v FROM old_tv) || ',' || (SELECT v FROM other.old_tv)}), '20,21',
       "$from -> $current: the old table views refresh from their moved definitions");
  }
  # a table view (0.5.0) made after the update: created, watched, refreshed at commit
  # (one refresh for the transaction), and in the dependency catalog
  $node->safe_psql($db, q{
    CREATE TABLE tv_src (k int PRIMARY KEY, v int);
    INSERT INTO tv_src VALUES (1, 1), (3, 3);
    SELECT pgview_create('tv', 'SELECT k, v FROM tv_src', kind => 'table view', unique_key => ARRAY['k']);
    SELECT pgview_watch('tv');
    BEGIN; UPDATE tv_src SET v = 5 WHERE k = 1; INSERT INTO tv_src VALUES (2, 2); DELETE FROM tv_src WHERE k = 3; COMMIT;});
  is($node->safe_psql($db, q{SELECT string_agg(k || ':' || v, ',' ORDER BY k) FROM tv}), '1:5,2:2',
     "table view created after $from -> $current refreshes at commit");
  is($node->safe_psql($db, q{SELECT dependent_kind || ' ' || referenced::text FROM pgview_deps()
                             WHERE dependent = 'tv'::regclass}),
     'table view tv_src', "table view after $from -> $current: its edges in pgview_deps");
  # the first refresh after a watch is full (the view may be stale from before it), later ones keyed
  $node->safe_psql($db, q{BEGIN; UPDATE tv_src SET v = 6 WHERE k = 1; UPDATE tv_src SET v = 7 WHERE k = 1; COMMIT;});
  is($node->safe_psql($db, q{SELECT refresh_count || ' full, ' || incremental_refreshes || ' keyed, ' || last_keys
                             FROM pgview_status() WHERE matview = 'tv'::regclass}),
     '1 full, 1 keyed, 1', "table view after $from -> $current: one refresh per transaction, then keyed");
}

$node->stop;
done_testing();
