-- pgview_auto 0.5.0 -> 0.6.0: security and reliability fixes, incremental refresh of
-- table views, pgview_alter.
\echo Use "ALTER EXTENSION pgview_auto UPDATE TO '0.6.0'" to load this file. \quit
