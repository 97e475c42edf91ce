#!/usr/bin/env bash
# pgview_auto — the regression tests a server can run.
#   regress_tests.sh SQLDIR [psql connection arguments...]
# Prints, one per line, the tests of SQLDIR (sql/*.sql but the extension's own
# scripts) whose requirements the server meets; for every other one, a line
# "skipped: NAME (needs ...)" on stderr. A test states what it needs in a line
#   -- requires: preload                 (shared_preload_libraries has pgview_auto)
#   -- requires: prepared_transactions   (max_prepared_transactions > 0)
# The server is asked with psql (PGHOST, PGPORT, ... or the arguments).
set -euo pipefail
sqldir=$1; shift
read -r preload prepared < <(psql -XAt -F ' ' "$@" -d "${PGDATABASE:-postgres}" -c \
    "SELECT current_setting('shared_preload_libraries') ~ 'pgview_auto',
            current_setting('max_prepared_transactions')::int > 0")
for file in $(cd "$sqldir" && ls *.sql | grep -v '^pgview_auto--'); do
    name=${file%.sql}
    needs=()
    for req in $(sed -n 's/^-- requires: *//p' "$sqldir/$file"); do
        case $req in
        preload) [ "$preload" = t ] || needs+=("shared_preload_libraries = 'pgview_auto'") ;;
        prepared_transactions) [ "$prepared" = t ] || needs+=("max_prepared_transactions > 0") ;;
        *) echo "regress_tests.sh: $file requires unknown '$req'" >&2; exit 2 ;;
        esac
    done
    if ((${#needs[@]})); then
        echo "skipped: $name (needs ${needs[*]})" >&2
    else
        echo "$name"
    fi
done
