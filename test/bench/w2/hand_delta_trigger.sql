-- W2's user_stats maintained by hand with triggers, the way a careful DBA writes
-- delta maintenance: a plain table filled from W2's query, and one statement
-- trigger per event (transition tables) adding each statement's changes per
-- user. The baseline commit mode is measured against (run.sh, setup "trigger").
CREATE TABLE user_stats AS
  SELECT u.id AS user_id, u.name, count(o.id) AS order_count, coalesce(sum(o.total), 0) AS total_spent
  FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id, u.name;
ALTER TABLE user_stats ADD PRIMARY KEY (user_id);

CREATE FUNCTION user_stats_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE user_stats s SET order_count = s.order_count + d.n, total_spent = s.total_spent + d.t
      FROM (SELECT user_id, count(*) AS n, sum(total) AS t FROM new_rows GROUP BY user_id) d
      WHERE s.user_id = d.user_id;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE user_stats s SET order_count = s.order_count - d.n, total_spent = s.total_spent - d.t
      FROM (SELECT user_id, count(*) AS n, sum(total) AS t FROM old_rows GROUP BY user_id) d
      WHERE s.user_id = d.user_id;
  ELSE
    UPDATE user_stats s SET order_count = s.order_count + d.n, total_spent = s.total_spent + d.t
      FROM (SELECT user_id, sum(n) AS n, sum(t) AS t
              FROM (SELECT user_id, -1 AS n, -total AS t FROM old_rows
                    UNION ALL SELECT user_id, 1, total FROM new_rows) x
             GROUP BY user_id) d
      WHERE s.user_id = d.user_id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER user_stats_insert AFTER INSERT ON orders REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION user_stats_apply();
CREATE TRIGGER user_stats_delete AFTER DELETE ON orders REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION user_stats_apply();
CREATE TRIGGER user_stats_update AFTER UPDATE ON orders REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION user_stats_apply();
-- (A new user gets its row from the same query: not part of W2's workloads.)
