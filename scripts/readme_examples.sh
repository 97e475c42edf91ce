#!/usr/bin/env bash
# pgview_auto — the SQL examples of a Markdown file (README.md by default), in
# the order they appear: every block fenced as ```sql. scripts/test.sh runs each
# file's examples through psql with ON_ERROR_STOP on an empty database of its
# own, so the examples cannot drift from what the extension does:
#     bash scripts/readme_examples.sh [FILE.md] > examples.sql
# A block that must not run (one that shows an error, say) is preceded by the
# line <!-- no-run --> (blank lines between are allowed); sketches can also be
# indented blocks, or fenced otherwise. Use it sparingly: an example that does
# not run is not checked.
set -euo pipefail
file=${1:-$(dirname "${BASH_SOURCE[0]}")/../README.md}
name=$(basename "$file")
awk -v name="$name" '
    /^<!-- no-run -->[[:space:]]*$/  { skip_next = 1; next }
    /^```sql[[:space:]]*$/           { inside = 1; skipping = skip_next; skip_next = 0
                                       if (!skipping) print "-- " name ", line " NR + 1; next }
    inside && /^```[[:space:]]*$/    { inside = 0; if (!skipping) print ""; next }
    inside                           { if (!skipping) print; next }
    /[^[:space:]]/                   { skip_next = 0 }
    END { if (inside) { print name ": unterminated ```sql block" > "/dev/stderr"; exit 1 } }
' "$file"
