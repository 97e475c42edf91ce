#!/usr/bin/env bash
# pgview_auto — the SQL examples of README.md, in the order they appear: every
# block fenced as ```sql (sketches that are not meant to run are indented
# blocks, or fenced otherwise). scripts/test.sh runs them through psql with
# ON_ERROR_STOP on an empty database, so the examples cannot drift from what
# the extension does:
#     bash scripts/readme_examples.sh [README.md] > examples.sql
set -euo pipefail
readme=${1:-$(dirname "${BASH_SOURCE[0]}")/../README.md}
awk '
    /^```sql[[:space:]]*$/           { inside = 1; print "-- README.md, line " NR + 1; next }
    inside && /^```[[:space:]]*$/    { inside = 0; print ""; next }
    inside                           { print }
    END { if (inside) { print "README.md: unterminated ```sql block" > "/dev/stderr"; exit 1 } }
' "$readme"
