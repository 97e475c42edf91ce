# A new user's path (issue 14), where it needs more than one session or a
# server setting: a REPEATABLE READ writer overtaken by a newer refresh is told
# what happened and what to do; pgview_wait says at once that background
# refresh is off; pgview_auto.notify reaches worker refreshes from the server's
# and the database's settings, not from a session's SET.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('user_path');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pgview_auto'
pgview_auto.naptime = '100ms'
});
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE orders (id serial PRIMARY KEY, amount int NOT NULL);
  CREATE MATERIALIZED VIEW order_count AS SELECT count(*) AS n FROM orders;
  SELECT pgview_watch('order_count');
});

# --- A REPEATABLE READ writer whose snapshot predates a newer refresh: 40001,
# saying so, with a hint, and without our internal statement.
my $rr = $node->background_psql('postgres', on_error_stop => 0);
$rr->query_safe(q{\set VERBOSITY verbose});
$rr->query_safe(q{BEGIN ISOLATION LEVEL REPEATABLE READ});
$rr->query_safe(q{SELECT count(*) FROM orders});    # the snapshot
$rr->query_safe(q{INSERT INTO orders (amount) VALUES (1)});
$node->safe_psql('postgres', q{INSERT INTO orders (amount) VALUES (2)});    # refreshed at its commit
$rr->query(q{COMMIT});
my $err = $rr->{stderr};
like($err, qr/ERROR:  40001: materialized view public\.order_count was refreshed by a transaction newer than this transaction's snapshot/,
	'RR writer: 40001 says the view was refreshed by a newer transaction');
like($err, qr/HINT:  Retry the transaction\./, 'RR writer: the hint says to retry');
like($err, qr/CONTEXT:  refreshing materialized view public\.order_count \(pgview_auto, at commit\)/,
	'RR writer: the context names the matview');
unlike($err, qr/refresh_stats|could not serialize access due to concurrent update/,
	'RR writer: our internal statement is not shown');
$rr->quit;
is($node->safe_psql('postgres', q{SELECT n = (SELECT count(*) FROM orders) FROM order_count}), 't',
	'RR writer: the view was not regressed');
$node->safe_psql('postgres', q{SELECT pgview_unwatch('order_count')});

# --- pgview_wait while pgview_auto.enabled = off: a WARNING at once, not a
# silent timeout.
sub set_enabled
{
	my ($value) = @_;
	$node->safe_psql('postgres', "ALTER SYSTEM SET pgview_auto.enabled = $value");
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	$node->poll_query_until('postgres', 'SHOW pgview_auto.enabled', $value)
	  or die "pgview_auto.enabled did not become $value";
}
$node->safe_psql('postgres', q{SELECT pgview_watch('order_count', mode => 'async')});
$node->safe_psql('postgres', q{SELECT pgview_wait('order_count', '10 seconds')});
set_enabled('off');
my ($ret, $out, $warn) = $node->psql('postgres', q{SELECT pgview_wait('order_count', '200 ms')});
is("$out|$warn", 't|', 'enabled = off, nothing pending: true, no warning');
$node->safe_psql('postgres', q{INSERT INTO orders (amount) VALUES (3)});
($ret, $out, $warn) = $node->psql('postgres', q{SELECT pgview_wait('order_count', '200 ms')});
is($out, 'f', 'enabled = off: pgview_wait times out');
like($warn, qr/WARNING:  pgview_auto\.enabled is off: the background worker does not refresh "order_count"/,
	'enabled = off: pgview_wait says why at once');
like($warn, qr/HINT:  Set pgview_auto\.enabled = on in postgresql\.conf and reload, or run pgview_refresh_pending\('order_count'\)\./,
	'enabled = off: the hint says what to do');
# what the hint says works: a refresh in another session serves the waiter
my $waiter = $node->background_psql('postgres', on_error_stop => 0);
$waiter->query_until(qr/waiting/, q{\echo waiting
SELECT pgview_wait('order_count', '30 seconds');
});
$node->safe_psql('postgres', q{SELECT pgview_refresh_pending('order_count')});
my ($served) = $waiter->query(q{SELECT 'after'});
like($served, qr/^t\nafter$/m, 'enabled = off: pgview_refresh_pending serves the waiter');
$waiter->quit;
set_enabled('on');
($ret, $out, $warn) = $node->psql('postgres', q{SELECT pgview_wait('order_count', '10 seconds')});
is($warn, '', 'enabled = on: no warning');
$node->safe_psql('postgres', q{SELECT pgview_unwatch('order_count')});

# --- pgview_auto.notify and the worker: a session's SET reaches only the
# refreshes that session runs; the worker reads the server's and the database's
# settings (the latter when it starts).
sub notifications_after_async_write
{
	my ($db, $listener_setup) = @_;
	my $listener = $node->background_psql($db);
	$listener->query_safe($listener_setup) if $listener_setup;
	$listener->query_safe('LISTEN pgview_refresh');
	$node->safe_psql($db, q{
	  SET pgview_auto.notify = on;  -- the writer's SET: its own refreshes only
	  INSERT INTO orders (amount) VALUES (4);
	  SELECT pgview_wait('order_count', '30 seconds');
	});
	my $seen = '';
	for (1 .. 20)    # the notification arrives once the worker's refresh commits
	{
		$seen .= $listener->query_safe('SELECT pg_sleep(0.1)');
		last if $seen =~ /Asynchronous notification/;
	}
	$listener->quit;
	return $seen;
}
$node->safe_psql('postgres', q{SELECT pgview_watch('order_count', mode => 'async')});
unlike(notifications_after_async_write('postgres'), qr/Asynchronous notification/,
	'notify: a session SET does not reach a worker refresh');

$node->safe_psql('postgres', q{CREATE DATABASE notify_db});
$node->safe_psql('postgres', q{ALTER DATABASE notify_db SET pgview_auto.notify = on});
$node->safe_psql('notify_db', q{
  CREATE EXTENSION pgview_auto;
  CREATE TABLE orders (id serial PRIMARY KEY, amount int NOT NULL);
  CREATE MATERIALIZED VIEW order_count AS SELECT count(*) AS n FROM orders;
  SELECT pgview_watch('order_count', mode => 'async');  -- its worker starts after ALTER DATABASE
});
like(notifications_after_async_write('notify_db', 'SET pgview_auto.notify = off'),
	qr/Asynchronous notification "pgview_refresh" with payload "public\.order_count"/,
	'notify: ALTER DATABASE ... SET reaches the worker started after it');

$node->append_conf('postgresql.conf', 'pgview_auto.notify = on');
$node->reload;
$node->poll_query_until('postgres', 'SHOW pgview_auto.notify', 'on');
like(notifications_after_async_write('postgres'),
	qr/Asynchronous notification "pgview_refresh" with payload "public\.order_count"/,
	'notify: postgresql.conf (reloaded) reaches the worker');

$node->stop;
done_testing();
