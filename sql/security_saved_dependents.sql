-- requires: preload
-- Saved dependents belong to the role that saved them (issue 20): each role sees
-- and restores its own; one role's saved rows never block another's restore;
-- the table behind them (whose statistics can hold refresh errors, which can
-- quote data) is not for PUBLIC. 0.6.0: the rows were global, a restore tried to
-- make every role's views (and failed on the others'), the view was readable by
-- superusers only, and the table by everyone.
CREATE ROLE regress_sd_ann;
CREATE ROLE regress_sd_ben;
CREATE SCHEMA sd;
GRANT USAGE, CREATE ON SCHEMA sd TO regress_sd_ann, regress_sd_ben;
SET ROLE regress_sd_ann;
CREATE TABLE sd.ann_items (id int, price int);
CREATE VIEW sd.ann_prices AS SELECT id, price FROM sd.ann_items;
CREATE MATERIALIZED VIEW sd.ann_total AS SELECT sum(price) AS total FROM sd.ann_items;
SELECT pgview_watch('sd.ann_total');
SELECT pgview_save_dependents('sd.ann_items', ARRAY['price']);
SET ROLE regress_sd_ben;
CREATE TABLE sd.ben_items (id int, price int);
CREATE VIEW sd.ben_prices AS SELECT id, price FROM sd.ben_items;
SELECT pgview_save_dependents('sd.ben_items', ARRAY['price']);
SELECT relation, saved_by FROM pgview_saved_dependents;          -- his own only
SELECT count(*) FROM pgview_auto.saved_dependent;                 -- not for him
\echo :SQLSTATE
ALTER TABLE sd.ben_items ALTER COLUMN price TYPE bigint;
SELECT pgview_restore_dependents();                               -- his one view; ann's stay saved
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'sd.ben_prices'::regclass AND attname = 'price';
SELECT pgview_discard_saved_dependents('sd.ann_prices');          -- not his to give up: he does not see it
\echo :SQLSTATE
SET ROLE regress_sd_ann;
SELECT relation, saved_by FROM pgview_saved_dependents ORDER BY relation;
SELECT pgview_restore_dependents();
SELECT count(*) AS ann_watched FROM pgview_watches WHERE matview = 'sd.ann_total'::regclass;
RESET ROLE;
SELECT count(*) AS left_saved FROM pgview_saved_dependents;
SELECT pgview_unwatch('sd.ann_total');
DROP SCHEMA sd CASCADE;
DROP ROLE regress_sd_ann, regress_sd_ben;
