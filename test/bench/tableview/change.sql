-- One round's change to src (test/bench/tableview/run.sh), in one transaction: 1% of the
-- query's rows change. psql variables: round (1, 2, ...), nupd, ndel, nins (rows updated,
-- deleted, inserted), n (the initial row count), clustered (true: the updated and deleted
-- rows are a run of consecutive ids from a random start; false: random rows).
--   - nupd rows, picked at random (seeded by the round: every run makes the same
--     changes), get a new val; one in five a new grp; their note changes too: one in
--     ten becomes NULL, a NULL one gets a value, one in three gets another value;
--   - ndel other rows are deleted;
--   - nins rows with new ids (n + (round - 1) * nins + 1 ...) are inserted.
-- The row count stays n. The same change reaches all four relations (they read src).
BEGIN;
SELECT setseed(1.0 / (:round + 1)) \g /dev/null
\if :clustered
CREATE TEMP TABLE pick ON COMMIT DROP AS
SELECT id, row_number() OVER (ORDER BY id) AS k
FROM (SELECT id FROM src WHERE id >= (SELECT floor(random() * (:n - 2 * (:nupd + :ndel)))::int)
      ORDER BY id LIMIT :nupd + :ndel) s;
\else
CREATE TEMP TABLE pick ON COMMIT DROP AS
SELECT id, row_number() OVER () AS k
FROM (SELECT id FROM src ORDER BY random() LIMIT :nupd + :ndel) s;
\endif
UPDATE src SET
    val = src.val + 1,
    grp = CASE WHEN p.k % 5 = 0 THEN src.grp + 1 ELSE src.grp END,
    note = CASE WHEN p.k % 10 = 0 THEN NULL
                WHEN src.note IS NULL THEN md5(src.id::text || '/' || :round)
                WHEN p.k % 3 = 0 THEN md5(src.note)
                ELSE src.note END
FROM pick p WHERE p.id = src.id AND p.k <= :nupd;
DELETE FROM src USING pick p WHERE p.id = src.id AND p.k > :nupd;
INSERT INTO src
SELECT i, i % 1000, round((i::bigint * 7919 % 1000000) / 100.0, 2), md5(i::text)
FROM generate_series(:n + (:round - 1) * :nins + 1, :n + :round * :nins) i;
COMMIT;
