# pgview_auto's background refresh as a running server sees it: the launcher
# and per-database workers, async refresh with debounce and max_delay, schedules,
# manual mode, a crash, workers killed, SIGHUP, a failing refresh, a hot standby.
#
# The worker's timing is not deterministic, so every check either polls for the
# expected state or compares counts before and after an action. After each
# server start (or crash restart) every async/manual/scheduled matview is marked
# dirty once, which may cause one extra refresh: the checks tolerate it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('primary');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pgview_auto'
pgview_auto.naptime = '100ms'
pgview_auto.retry_delay = '200ms'
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pgview_auto');

# A table tN (id serial, v int) and a matview mvN (n, s) over it.
sub make_pair
{
	my ($n) = @_;
	$node->safe_psql('postgres', qq{
	  CREATE TABLE t$n (id serial PRIMARY KEY, v int);
	  CREATE MATERIALIZED VIEW mv$n AS SELECT count(*) AS n, coalesce(sum(v), 0) AS s FROM t$n;
	});
}

# SQL: does mvN hold what its query gives now?
sub fresh_sql
{
	my ($n) = @_;
	return qq{SELECT (SELECT (n, s) FROM mv$n) = (SELECT (count(*), coalesce(sum(v), 0)) FROM t$n)};
}

sub is_fresh
{
	my ($n, $on) = @_;
	return ($on // $node)->safe_psql('postgres', fresh_sql($n)) eq 't';
}

sub status_of
{
	my ($mv, $column, $on) = @_;
	return ($on // $node)->safe_psql('postgres',
		qq{SELECT $column FROM pgview_status() WHERE matview = '$mv'::regclass});
}

sub refresh_count { return status_of($_[0], 'refresh_count', $_[1]); }

sub worker_pid
{
	return $node->safe_psql('postgres', q{
	  SELECT pid FROM pg_stat_activity
	  WHERE backend_type = 'pgview_auto worker' AND datname = 'postgres'});
}

# Setting pgview_auto.enabled by reload. Once a new session sees the value, the
# postmaster has re-read the file and already forwarded SIGHUP to its children
# (it signals them before it forks another backend). A worker then seen asleep
# on its latch reloads before its next pass; a pass that was under way when the
# signal came is over.
sub set_enabled
{
	my ($value) = @_;
	$node->safe_psql('postgres', $value eq 'default'
		? 'ALTER SYSTEM RESET pgview_auto.enabled'
		: "ALTER SYSTEM SET pgview_auto.enabled = $value");
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	$node->poll_query_until('postgres', 'SHOW pgview_auto.enabled', $value eq 'off' ? 'off' : 'on')
	  or die "pgview_auto.enabled did not become $value";
	$node->poll_query_until('postgres', q{SELECT count(*) = 0 FROM pg_stat_activity
	                                      WHERE backend_type = 'pgview_auto worker'
	                                        AND wait_event IS DISTINCT FROM 'Extension'})
	  or die 'the worker does not go to sleep';
}

# ---------------------------------------------------------------------------
# 1. async: the worker refreshes after commit.
make_pair(1);
$node->safe_psql('postgres', q{SELECT pgview_watch('mv1', mode => 'async')});
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
                                         WHERE backend_type = 'pgview_auto launcher'}),
	'the launcher runs');
$node->poll_query_until('postgres', q{SELECT NOT pending FROM pgview_status() WHERE matview = 'mv1'::regclass})
  or die 'mv1 stays pending';
my $c = refresh_count('mv1');
$node->safe_psql('postgres', 'INSERT INTO t1 (v) VALUES (1), (2), (3)');
ok($node->poll_query_until('postgres', fresh_sql(1)), 'async: the worker refreshes mv1 after the insert');
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
                                         WHERE backend_type = 'pgview_auto worker' AND datname = 'postgres'}),
	'async: one worker runs for the database');
$node->safe_psql('postgres', 'INSERT INTO t1 (v) VALUES (10)');
is($node->safe_psql('postgres', q{SELECT pgview_wait('mv1')}), 't', 'async: pgview_wait returns true');
ok(is_fresh(1), 'async: the view is right once pgview_wait returned');
cmp_ok(refresh_count('mv1'), '>', $c, 'async: refresh_count increased');

# ---------------------------------------------------------------------------
# 2. debounce coalesces a burst of 20 commits into one or two refreshes.
make_pair(2);
$node->safe_psql('postgres', q{SELECT pgview_watch('mv2', mode => 'async', debounce => '1 second')});
$node->poll_query_until('postgres', q{SELECT NOT pending FROM pgview_status() WHERE matview = 'mv2'::regclass})
  or die 'mv2 stays pending';
$c = refresh_count('mv2');
$node->safe_psql('postgres', join('', map { "INSERT INTO t2 (v) VALUES ($_);\n" } 1 .. 20));
is($node->safe_psql('postgres', q{SELECT pgview_wait('mv2', '10 s')}), 't', 'debounce: pgview_wait returns true');
my $d = refresh_count('mv2') - $c;
ok($d >= 1 && $d <= 2, "debounce: 20 commits, $d refresh(es) (1 or 2 expected)");
ok(is_fresh(2), 'debounce: the view is right');

# ---------------------------------------------------------------------------
# 3. max_delay bounds staleness under continuous writes: a row every ~100 ms
# for 2.5 s never leaves the 2 s debounce quiet, yet max_delay (500 ms) forces
# refreshes while the writes go on.
make_pair(3);
$node->safe_psql('postgres',
	q{SELECT pgview_watch('mv3', mode => 'async', debounce => '2 seconds', max_delay => '500 ms')});
$node->poll_query_until('postgres', q{SELECT NOT pending FROM pgview_status() WHERE matview = 'mv3'::regclass})
  or die 'mv3 stays pending';
$c = refresh_count('mv3');
my $writer = $node->background_psql('postgres');
my ($first_seen, $last, $writes, $longest_gap) = (undef, $c, 0, 0);
my $t0 = time;
my $prev = $t0;
while (time - $t0 < 2.5)
{
	$last = $writer->query_safe(q{INSERT INTO t3 (v) VALUES (1);
	  SELECT refresh_count FROM pgview_status() WHERE matview = 'mv3'::regclass});
	$writes++;
	my $now = time;
	$longest_gap = $now - $prev if $now - $prev > $longest_gap;
	$prev = $now;
	$first_seen = $now - $t0 if !defined $first_seen && $last > $c;
	usleep(100_000);
}
$writer->quit;
cmp_ok($longest_gap, '<', 1.0, sprintf('max_delay: %d writes, never 1 s apart (longest gap %.2fs)', $writes, $longest_gap));
ok(defined $first_seen && $first_seen < 2.0,
	sprintf('max_delay: refreshed while writes went on, %s after the first write (before any 2 s debounce)',
		defined $first_seen ? sprintf('%.2fs', $first_seen) : 'never'));
cmp_ok($last - $c, '>=', 2, 'max_delay: it applies again after each refresh (2+ refreshes during the writes)');
is($node->safe_psql('postgres', q{SELECT pgview_wait('mv3', '10 s')}), 't', 'max_delay: pgview_wait after the writes');
ok(is_fresh(3), 'max_delay: the view is right at the end');

# ---------------------------------------------------------------------------
# 4. schedules: only_if_dirty with a manual watch, and unconditional.
make_pair(4);
$node->safe_psql('postgres', q{
  SELECT pgview_watch('mv4', mode => 'manual');
  SELECT pgview_schedule('mv4', '300 ms', true);
});
$node->poll_query_until('postgres', q{SELECT NOT pending FROM pgview_status() WHERE matview = 'mv4'::regclass})
  or die 'mv4 stays pending';
ok($node->poll_query_until('postgres',
		q{SELECT schedule = '300 ms' AND next_refresh IS NOT NULL FROM pgview_status() WHERE matview = 'mv4'::regclass}),
	'schedule: the worker plans the next run of mv4');
$c = refresh_count('mv4');
# Nothing can be polled for "nothing happens": watch ~3 periods of the schedule.
$node->safe_psql('postgres', 'SELECT pg_sleep(1)');
is(refresh_count('mv4'), $c, 'schedule only_if_dirty: no refresh while nothing changes');
$node->safe_psql('postgres', 'INSERT INTO t4 (v) VALUES (7)');
my $t_insert = time;
ok($node->poll_query_until('postgres', fresh_sql(4)), 'schedule only_if_dirty: an insert makes it refresh');
my $took = time - $t_insert;
cmp_ok($took, '<', 5, sprintf('schedule only_if_dirty: ... within a few seconds (%.2fs)', $took));
cmp_ok(refresh_count('mv4'), '>', $c, 'schedule only_if_dirty: refresh_count increased');

$node->safe_psql('postgres', q{
  CREATE MATERIALIZED VIEW mv4b AS SELECT count(*) AS n FROM t4;
  SELECT pgview_schedule('mv4b', '300 ms', false);
});
$node->poll_query_until('postgres', q{SELECT refresh_count > 0 FROM pgview_status() WHERE matview = 'mv4b'::regclass})
  or die 'mv4b never refreshed';
$c = refresh_count('mv4b');
ok($node->poll_query_until('postgres',
		qq{SELECT refresh_count >= $c + 3 FROM pgview_status() WHERE matview = 'mv4b'::regclass}),
	'schedule without only_if_dirty: refresh_count keeps growing with no writes');
is($node->safe_psql('postgres', q{SELECT pgview_unschedule('mv4b')}), 't', 'pgview_unschedule: true');
my ($rc, $out, $err) = $node->psql('postgres', q{SELECT pgview_unschedule('mv4b')});
is($out, 'f', 'pgview_unschedule: false when not scheduled');
like($err, qr/NOTICE:  materialized view "mv4b" has no schedule, skipping/, '... with a NOTICE');
is($node->safe_psql('postgres', q{SELECT pgview_unschedule('mv4')}), 't', 'pgview_unschedule of mv4: true');
$c = refresh_count('mv4b');
$node->safe_psql('postgres', 'SELECT pg_sleep(1)');
cmp_ok(refresh_count('mv4b'), '<=', $c + 1, 'unscheduled: mv4b is no longer refreshed (one in flight at most)');

# ---------------------------------------------------------------------------
# 5. manual: writers only mark the matview dirty.
make_pair(5);
$node->safe_psql('postgres', q{SELECT pgview_watch('mv5', mode => 'manual')});
$node->safe_psql('postgres', 'SELECT pgview_refresh_pending()');
$node->safe_psql('postgres', 'INSERT INTO t5 (v) VALUES (5)');
is(status_of('mv5', 'pending'), 't', 'manual: pending after an insert');
is($node->safe_psql('postgres', q{SELECT pgview_wait('mv5', '300 ms')}), 'f', 'manual: pgview_wait times out');
ok(!is_fresh(5), 'manual: nobody refreshed it');
cmp_ok($node->safe_psql('postgres', 'SELECT pgview_refresh_pending()'), '>=', 1,
	'manual: pgview_refresh_pending refreshes it');
is(status_of('mv5', 'pending'), 'f', 'manual: no longer pending');
ok(is_fresh(5), 'manual: the view is right');

# ---------------------------------------------------------------------------
# 6. Pending changes survive a crash. Shared memory (where the dirty bits live)
# is lost; the crash rule must make up for it. With pgview_auto.enabled = off the
# worker refreshes nothing, so the rows inserted before the immediate stop are
# surely not in the view when the server goes down (an async watch with a long
# debounce would not do: after the restart the rule's "change" is new, and the
# debounce would again hold it back). The server comes back with enabled still
# off: the view is still stale; once enabled, the view must become fresh.
make_pair(6);
$node->safe_psql('postgres', q{SELECT pgview_watch('mv6', mode => 'async')});
ok($node->poll_query_until('postgres', fresh_sql(6)), 'crash: mv6 fresh before');
set_enabled('off');
$node->safe_psql('postgres', 'INSERT INTO t6 (v) VALUES (1), (2)');
is(status_of('mv6', 'pending'), 't', 'crash: pending with the worker disabled');
is($node->safe_psql('postgres', q{SELECT pgview_wait('mv6', '300 ms')}), 'f', 'crash: nothing refreshes it');
$c = refresh_count('mv6');
$node->stop('immediate');
$node->start;
ok(!is_fresh(6), 'crash: after the restart, still disabled, the view is still stale');
set_enabled('default');
ok($node->poll_query_until('postgres', fresh_sql(6)), 'crash: once enabled, the change from before the crash is refreshed');
cmp_ok(refresh_count('mv6'), '>', $c, 'crash: refresh_count (kept in a table) increased');

# ---------------------------------------------------------------------------
# 7. Workers killed. SIGTERM: the launcher starts a new worker. SIGKILL: the
# postmaster restarts everything.
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
                                         WHERE backend_type = 'pgview_auto worker' AND datname = 'postgres'}),
	'kill: a worker runs');
my $pid = worker_pid();
is($node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)"), 't', 'kill: SIGTERM the worker');
ok($node->poll_query_until('postgres', qq{SELECT count(*) = 1 FROM pg_stat_activity
                                          WHERE backend_type = 'pgview_auto worker' AND datname = 'postgres'
                                            AND pid <> $pid}),
	'kill: a new worker replaces it');
$node->safe_psql('postgres', 'INSERT INTO t1 (v) VALUES (100)');
ok($node->poll_query_until('postgres', fresh_sql(1)), 'kill: async refresh works after SIGTERM');

$pid = worker_pid();
my $log_offset = -s $node->logfile;
ok(kill('KILL', $pid), "kill: SIGKILL the worker ($pid)");
$log_offset = $node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
ok($node->poll_query_until('postgres', 'SELECT 1', '1'), 'kill: the server accepts connections again');
ok($node->poll_query_until('postgres', qq{SELECT count(*) = 1 FROM pg_stat_activity
                                          WHERE backend_type = 'pgview_auto worker' AND datname = 'postgres'
                                            AND pid <> $pid}),
	'kill: a new worker after the crash restart');
$node->safe_psql('postgres', 'INSERT INTO t1 (v) VALUES (1000)');
ok($node->poll_query_until('postgres', fresh_sql(1)), 'kill: async refresh works after the crash restart');
is($node->safe_psql('postgres', q{SELECT pgview_wait('mv1', '10 s')}), 't', 'kill: pgview_wait after the crash restart');

# ---------------------------------------------------------------------------
# 8. SIGHUP: pgview_auto.enabled off and on again, by reload.
$node->poll_query_until('postgres', q{SELECT NOT pending FROM pgview_status() WHERE matview = 'mv1'::regclass})
  or die 'mv1 stays pending';
set_enabled('off');
$c = refresh_count('mv1');
$node->safe_psql('postgres', 'INSERT INTO t1 (v) VALUES (5)');
is($node->safe_psql('postgres', q{SELECT pgview_wait('mv1', '1 s')}), 'f', 'SIGHUP off: no refresh for 1 s');
is(status_of('mv1', 'pending'), 't', 'SIGHUP off: mv1 stays pending');
is(refresh_count('mv1'), $c, 'SIGHUP off: refresh_count unchanged');
ok(!is_fresh(1), 'SIGHUP off: the view is stale');
set_enabled('default');
ok($node->poll_query_until('postgres', fresh_sql(1)), 'SIGHUP on: the view becomes fresh');
is($node->safe_psql('postgres', q{SELECT pgview_wait('mv1', '10 s')}), 't', 'SIGHUP on: pgview_wait returns true');

# ---------------------------------------------------------------------------
# 9. A failing refresh: writers are not affected, the failure is recorded and
# logged, other matviews go on, and it heals once the data does.
$node->safe_psql('postgres', q{
  CREATE TABLE r (x int);
  INSERT INTO r VALUES (1);
  CREATE MATERIALIZED VIEW inv AS SELECT 100 / min(x) AS q FROM r;
  SELECT pgview_watch('inv', mode => 'async');
});
$node->poll_query_until('postgres', q{SELECT NOT pending FROM pgview_status() WHERE matview = 'inv'::regclass})
  or die 'inv stays pending';
$log_offset = -s $node->logfile;
($rc, $out, $err) = $node->psql('postgres', 'INSERT INTO r VALUES (0)');
is($rc, 0, 'failing refresh: the INSERT succeeds');
is($node->safe_psql('postgres', 'SELECT count(*) FROM r WHERE x = 0'), '1', 'failing refresh: the row is there');
ok($node->poll_query_until('postgres',
		q{SELECT failures >= 1 AND last_error LIKE '%division by zero%' AND last_error_at IS NOT NULL
		  FROM pgview_status() WHERE matview = 'inv'::regclass}),
	'failing refresh: pgview_status shows the failure');
$node->wait_for_log(qr/pgview_auto: background refresh of materialized view \d+ failed: division by zero/, $log_offset);
ok($node->log_contains(qr/pgview_auto: background refresh of materialized view \d+ failed: division by zero/, $log_offset),
	'failing refresh: the server log has it');
$node->safe_psql('postgres', 'INSERT INTO t1 (v) VALUES (42)');
ok($node->poll_query_until('postgres', fresh_sql(1)), 'failing refresh: another async matview is still refreshed');
is($node->safe_psql('postgres', 'SELECT q FROM inv'), '100', 'failing refresh: inv keeps its last good contents');
# (polled: each retry clears the bit before it fails and sets it again)
ok($node->poll_query_until('postgres', q{SELECT pending FROM pgview_status() WHERE matview = 'inv'::regclass}),
	'failing refresh: inv is still pending');
$c = refresh_count('inv');
$node->safe_psql('postgres', 'DELETE FROM r WHERE x = 0; UPDATE r SET x = 4');
ok($node->poll_query_until('postgres',
		qq{SELECT (SELECT q FROM inv) = 25 AND refresh_count > $c AND NOT pending
		   FROM pgview_status() WHERE matview = 'inv'::regclass}),
	'failing refresh: refreshed again once the bad row is gone (q = 100 / 4)');

# ---------------------------------------------------------------------------
# 10. A hot standby: it receives the refreshed views, answers the status
# functions, and runs no worker.
$node->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'b', has_streaming => 1);
$standby->start;
$node->safe_psql('postgres', 'INSERT INTO t1 (v) VALUES (7), (8)');
is($node->safe_psql('postgres', q{SELECT pgview_wait('mv1')}), 't', 'standby: refreshed on the primary');
ok(is_fresh(1), 'standby: fresh on the primary');
$node->wait_for_catchup($standby);
ok($standby->poll_query_until('postgres', fresh_sql(1)), 'standby: sees the refreshed view');
is($standby->safe_psql('postgres', 'SELECT sum(v) FROM t1'), $node->safe_psql('postgres', 'SELECT sum(v) FROM t1'),
	'standby: same data as the primary');
cmp_ok($standby->safe_psql('postgres', 'SELECT count(*) FROM pgview_status()'), '>=', 7,
	'standby: pgview_status() returns rows');
is(refresh_count('mv1', $standby), refresh_count('mv1'), 'standby: same refresh_count as the primary');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'pgview_auto%'}),
	'0', 'standby: no pgview_auto launcher or worker');
my @errors = grep { /ERROR/ && /pgview/i } split /\n/, slurp_file($standby->logfile);
is(scalar(@errors), 0, 'standby: no ERROR about pgview in its log') or diag(join("\n", @errors));
($rc, $out, $err) = $standby->psql('postgres', 'SELECT pgview_refresh_pending()');
like($err, qr/cannot refresh materialized views during recovery/, 'standby: pgview_refresh_pending refused');

$standby->stop;
unlike(slurp_file($node->logfile), qr/PANIC|terminated by signal (?!9)/, 'primary: no PANIC, no crash but the SIGKILL');
$node->stop;
done_testing();
