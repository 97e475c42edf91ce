-- Setup of the table-view benchmark (test/bench/tableview/run.sh), run once in its
-- throwaway database. psql variables: n (rows of src), query (the SELECT all four
-- relations hold).
--
-- src: the base table; val and note change between refreshes, 1 row in 100 has a NULL
-- note (so a refresh that compares with = instead of IS DISTINCT FROM shows up as a
-- mismatch). The values are a function of id: every run loads the same data.
CREATE EXTENSION pgview_auto;
CREATE EXTENSION pg_walinspect;    -- WAL statistics (full-page images) of each refresh

CREATE TABLE src (id int PRIMARY KEY, grp int NOT NULL, val numeric NOT NULL, note text);
INSERT INTO src
SELECT g, g % 1000, round((g::bigint * 7919 % 1000000) / 100.0, 2),
       CASE WHEN g % 100 = 0 THEN NULL ELSE md5(g::text) END
FROM generate_series(1, :n) g;

-- The same query four times over:
--   mv_plain       materialized view, REFRESH MATERIALIZED VIEW (no index: it needs none)
--   mv_concurrent  materialized view with a unique index on id,
--                  REFRESH MATERIALIZED VIEW CONCURRENTLY
--   tv             table view keyed on id, pgview_refresh (the one the targets judge)
--   tv_multiset    table view without unique_key (rows compared whole, as a multiset),
--                  pgview_refresh; for information
CREATE MATERIALIZED VIEW mv_plain AS :query;
CREATE MATERIALIZED VIEW mv_concurrent AS :query;
CREATE UNIQUE INDEX mv_concurrent_id ON mv_concurrent (id);
SELECT pgview_create('tv', :'query', kind => 'table view', unique_key => ARRAY['id']);
SELECT pgview_create('tv_multiset', :'query', kind => 'table view');

VACUUM (ANALYZE) src, mv_plain, mv_concurrent, tv, tv_multiset;
