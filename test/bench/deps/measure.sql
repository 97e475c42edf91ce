-- Helpers of the dependency-catalog benchmark (test/bench/deps/run.sh), created in the
-- throwaway benchmark database before anything else. No view is created here, so the
-- helpers add nothing to the dependency catalog being measured.
CREATE SCHEMA bench;

-- A memory figure (kB) of this backend, read server-side from /proc/<pid>/status:
-- VmHWM (peak resident set so far), RssShmem (shared memory mapped, i.e. the shared
-- buffers this backend has touched), ...
CREATE FUNCTION bench.proc_kb(field text) RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT substring(pg_read_file('/proc/' || pg_backend_pid() || '/status')
                   FROM field || ':\s*([0-9]+) kB')::bigint
$$;

-- Run one query returning a single count (the text may end with ';' and hold comments),
-- timing it server-side with clock_timestamp() (parse + plan + execute, no client
-- round trip), and read the backend's memory figures just before and just after.
CREATE FUNCTION bench.measure(q text,
    OUT ms double precision, OUT n bigint,
    OUT hwm_before_kb bigint, OUT hwm_after_kb bigint,
    OUT shmem_before_kb bigint, OUT shmem_after_kb bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  t0 timestamptz;
BEGIN
  hwm_before_kb := bench.proc_kb('VmHWM');
  shmem_before_kb := bench.proc_kb('RssShmem');
  t0 := clock_timestamp();
  EXECUTE q INTO STRICT n;
  ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
  hwm_after_kb := bench.proc_kb('VmHWM');
  shmem_after_kb := bench.proc_kb('RssShmem');
END
$$;
