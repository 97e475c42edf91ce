# pgview_auto as a server sees it: preloaded and not, restart, and a
# pg_dump / pg_restore round trip of a database that uses the extension.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('primary');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pgview_auto'");
$node->start;

$node->safe_psql('postgres', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE orders (id int PRIMARY KEY, total numeric);
  CREATE VIEW big AS SELECT * FROM orders WHERE total > 10;
  CREATE MATERIALIZED VIEW big_count AS SELECT count(*) AS n FROM big;
});
my $deps_sql = q{SELECT string_agg(dependent || '>' || referenced || ':' || depth, ' ' ORDER BY 1)
                 FROM (SELECT dependent::text, referenced::text, depth FROM pgview_deps(true)) d};
is($node->safe_psql('postgres', $deps_sql), 'big>orders:1 big_count>big:1 big_count>orders:2',
   'transitive edges with a preloaded library');

$node->restart;
is($node->safe_psql('postgres', $deps_sql), 'big>orders:1 big_count>big:1 big_count>orders:2',
   'same edges after a restart');

# pg_dump / pg_restore into a new database: the extension comes back whole.
my $dump = $node->basedir . '/db.dump';
$node->command_ok(['pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres')], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok(['pg_restore', '-d', $node->connstr('restored'), $dump], 'pg_restore');
is($node->safe_psql('restored', $deps_sql), 'big>orders:1 big_count>big:1 big_count>orders:2',
   'edges in the restored database');
is($node->safe_psql('restored', q{SELECT string_agg(matview::text, ',') FROM pgview_refresh_order()}),
   'big_count', 'refresh order in the restored database');

# The dependency catalog needs no shared_preload_libraries.
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init;
$plain->start;
$plain->safe_psql('postgres', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE t (a int);
  CREATE VIEW v AS SELECT a FROM t;
});
is($plain->safe_psql('postgres', q{SELECT relation::text FROM pgview_dependents('t')}), 'v',
   'works without shared_preload_libraries');

# Without shared_preload_libraries: no worker, so no async/manual mode and no
# schedule (a clear error with a hint), while commit mode works.
$plain->safe_psql('postgres', q{CREATE MATERIALIZED VIEW v_count AS SELECT count(*) AS n FROM t});
my ($rc, $stdout, $stderr) = $plain->psql('postgres', q{SELECT pgview_watch('v_count', mode => 'async')},
                                          extra_params => ['-v', 'VERBOSITY=verbose']);
like($stderr, qr/55000: mode 'async' needs the pgview_auto background worker/, 'async refused without preload');
like($stderr, qr/HINT:  Add pgview_auto to shared_preload_libraries/, '... with a hint');
($rc, $stdout, $stderr) = $plain->psql('postgres', q{SELECT pgview_schedule('v_count', '1 minute')});
like($stderr, qr/pgview_schedule needs the pgview_auto background worker/, 'schedule refused without preload');
$plain->safe_psql('postgres', q{SELECT pgview_watch('v_count'); INSERT INTO t VALUES (1), (2);});
is($plain->safe_psql('postgres', q{SELECT n FROM v_count}), '2', 'commit mode refreshes without preload');

# A C++ error reaches the client as a PostgreSQL error, and the backend lives on.
my ($ret, $out, $err) = $plain->psql('postgres', q{SELECT * FROM pgview_refresh_order(ARRAY['t'::regclass, NULL])},
                                     extra_params => ['-v', 'VERBOSITY=verbose']);
isnt($ret, 0, 'error for a NULL in pgview_refresh_order');
like($err, qr/ERROR:  22004: matviews must not contain NULL/, 'error carries SQLSTATE 22004 and the argument');
unlike($plain->logfile ? slurp_file($plain->logfile) : '', qr/terminated by signal|PANIC/, 'no crash in the server log');

$plain->stop;
$node->stop;
done_testing();
