# pgview_save_dependents in one transaction, pgview_restore_dependents in a
# later one; and with pg_dump / pg_restore (plain and custom) of the saved state
# in between, into new databases: the views, matview and table view come back
# with owner, grants, comments, index, watch and schedule, and work.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('saved');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pgview_auto'\npgview_auto.naptime = '100ms'");
$node->start;

$node->safe_psql('postgres', q{
  CREATE ROLE tap_saved_owner;
  CREATE ROLE tap_saved_reader;
  CREATE DATABASE source;
});
$node->safe_psql('source', q{
  CREATE EXTENSION pgview_auto;
  CREATE SCHEMA "Shop";
  GRANT USAGE, CREATE ON SCHEMA "Shop" TO tap_saved_owner;
  GRANT USAGE ON SCHEMA "Shop" TO tap_saved_reader;
  CREATE TABLE "Shop".orders (id int PRIMARY KEY, total numeric(10,2) NOT NULL, note text);
  INSERT INTO "Shop".orders SELECT g, g * 1.5, 'n' || g FROM generate_series(1, 20) g;
  GRANT SELECT, TRIGGER ON "Shop".orders TO tap_saved_owner;
  SET ROLE tap_saved_owner;
  CREATE VIEW "Shop"."Big Orders" AS SELECT id, total FROM "Shop".orders WHERE total > 10;
  COMMENT ON VIEW "Shop"."Big Orders" IS 'over ten';
  COMMENT ON COLUMN "Shop"."Big Orders".total IS 'amount';
  GRANT SELECT ON "Shop"."Big Orders" TO tap_saved_reader;
  CREATE MATERIALIZED VIEW "Shop".big_sum AS SELECT count(*) AS n, sum(total) AS s FROM "Shop"."Big Orders";
  CREATE UNIQUE INDEX big_sum_n ON "Shop".big_sum (n);
  SELECT pgview_watch('"Shop".big_sum');
  SELECT pgview_schedule('"Shop".big_sum', '1 day');
  SELECT pgview_create('"Shop".per_note', 'SELECT note, total FROM "Shop".orders', kind => 'table view',
                       unique_key => ARRAY['note']);
  SELECT pgview_watch('"Shop".per_note');
  CREATE VIEW "Shop".notes AS SELECT id, note FROM "Shop".orders;
});

# Everything about the schema's relations and their registry rows, by name.
my $catalog_sql = q{
  SELECT string_agg(line, E'\n' ORDER BY line) FROM (
    SELECT concat_ws(' ', c.relname, c.relkind, pg_get_userbyid(c.relowner), c.relacl,
                     obj_description(c.oid, 'pg_class'), c.relispopulated) AS line
    FROM pg_class c WHERE c.relnamespace = '"Shop"'::regnamespace
    UNION ALL
    SELECT concat_ws(' ', c.relname || '.' || a.attname, format_type(a.atttypid, a.atttypmod),
                     col_description(c.oid, a.attnum))
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relnamespace = '"Shop"'::regnamespace
    UNION ALL
    SELECT c.relname || ' view ' || pg_get_viewdef(c.oid) FROM pg_class c
    WHERE c.relnamespace = '"Shop"'::regnamespace AND c.relkind IN ('v', 'm')
    UNION ALL
    SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
    WHERE c.relnamespace = '"Shop"'::regnamespace
    UNION ALL
    SELECT concat_ws(' ', 'watch', matview, source, via, mode, orphaned) FROM pgview_watches
    UNION ALL
    SELECT concat_ws(' ', 'schedule', matview, every, only_if_dirty) FROM pgview_auto.schedule
    UNION ALL
    SELECT concat_ws(' ', 'table view', relation, definition, unique_key) FROM pgview_auto.table_view) l};
my $saved_sql = q{SELECT string_agg(relation || ' ' || kind || ' ' || owner, ', ' ORDER BY batch DESC, "position")
                  FROM pgview_saved_dependents};

my $before = $node->safe_psql('source', $catalog_sql);
like($before, qr/watch "Shop"\.big_sum "Shop"\.orders "Shop"\."Big Orders" commit/, 'the matview is watched through the view');

# Save in one transaction, change the column by hand, restore in a later one.
is($node->safe_psql('source', q{SELECT pgview_save_dependents('"Shop".orders', ARRAY['total'])}), '3',
   'three relations read total: the view, the matview, the table view\'s definition');
my $saved = $node->safe_psql('source', $saved_sql);
is($saved, '"Shop"."Big Orders" view tap_saved_owner, pgview_query.per_note table view tap_saved_owner, '
         . '"Shop".big_sum materialized view tap_saved_owner', 'pgview_saved_dependents, in the order to make them again');
is($node->safe_psql('source', q{SELECT count(*) FROM pg_class WHERE relname IN ('Big Orders', 'big_sum')}), '0',
   'saved relations are dropped');
$node->safe_psql('source', q{ALTER TABLE "Shop".orders ALTER COLUMN total TYPE numeric(12,2)});
my $after_alter = $node->safe_psql('source', $catalog_sql);

# The saved state, dumped and restored into new databases before it is restored.
for my $format ('plain', 'custom') {
  my $db = "restored_$format";
  my $file = $node->basedir . "/saved.$format";
  $node->safe_psql('postgres', "CREATE DATABASE $db");
  if ($format eq 'plain') {
    $node->command_ok(['pg_dump', '-Fp', '-f', $file, '-d', $node->connstr('source')], "pg_dump ($format)");
    $node->command_ok(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', $file, '-d', $node->connstr($db)],
                      "restore with psql ($format)");
  } else {
    $node->command_ok(['pg_dump', '-Fc', '-f', $file, '-d', $node->connstr('source')], "pg_dump ($format)");
    $node->command_ok(['pg_restore', '--exit-on-error', '-d', $node->connstr($db), $file], "pg_restore ($format)");
  }
  is($node->safe_psql($db, $saved_sql), $saved, "$format: the saved state came with the dump");
  is($node->safe_psql($db, $catalog_sql), $after_alter, "$format: the database is as it was dumped");
  is($node->safe_psql($db, 'SELECT pgview_restore_dependents()'), '3', "$format: restored there");
}

# Restored in the source too (a later transaction than the save).
is($node->safe_psql('source', 'SELECT pgview_restore_dependents()'), '3', 'restored in a later transaction');
my $restored = $node->safe_psql('source', $catalog_sql);
(my $expected = $before) =~ s/numeric\(10,2\)/numeric(12,2)/g;
is($restored, $expected, 'everything is back; only the type changed');
is($node->safe_psql('source', $saved_sql), '', 'nothing is saved any more');

for my $db ('source', 'restored_plain', 'restored_custom') {
  is($node->safe_psql($db, $catalog_sql), $restored, "$db: the same relations, grants, comments, watches");
  $node->safe_psql($db, q{INSERT INTO "Shop".orders VALUES (100, 1234567890.50, 'big')});
  is($node->safe_psql($db, q{SELECT n || ' ' || s FROM "Shop".big_sum}),
     $node->safe_psql($db, q{SELECT count(*) || ' ' || sum(total) FROM "Shop".orders WHERE total > 10}),
     "$db: the restored watch refreshes the matview at commit");
  is($node->safe_psql($db, q{SELECT total FROM "Shop".per_note WHERE note = 'big'}), '1234567890.50',
     "$db: the restored table view is refreshed at commit");
  is($node->safe_psql($db, q{SET ROLE tap_saved_reader; SELECT count(*) FROM "Shop"."Big Orders"}), '15',
     "$db: the grant is back (15 orders over ten)");
}

$node->stop;
done_testing();
