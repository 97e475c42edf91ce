-- pgview_auto 0.5.0 -> 0.6.0: security and reliability fixes, incremental refresh of
-- table views, pgview_alter.
\echo Use "ALTER EXTENSION pgview_auto UPDATE TO '0.6.0'" to load this file. \quit

-- Issue 14 (a new user's path: every README claim holds).
-- A table view created with_data => false is not populated until its first refresh.
ALTER TABLE pgview_auto.table_view ADD COLUMN populated boolean NOT NULL DEFAULT true;
