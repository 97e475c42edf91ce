#!/usr/bin/env bash
# pgview_auto's Python adapter: its unittest tests against a running server with pgview_auto
# installed (and preloaded: one test watches in async mode).
#     bash clients/python/run_tests.sh [HOST [PORT [USER]]]
# or PGVIEW_TEST_HOST, PGVIEW_TEST_PORT, PGVIEW_TEST_USER (default localhost, 5432, postgres).
# USER must be a superuser: the tests create roles, databases and the extension, and drop them.
# Python: Debian's /usr/bin/python3 with python3-sqlalchemy, python3-alembic, python3-psycopg2
# (PYTHON=... to use another). Prints unittest's verbose output; exit status 0 when all pass.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PGVIEW_TEST_HOST=${1:-${PGVIEW_TEST_HOST:-localhost}}
export PGVIEW_TEST_PORT=${2:-${PGVIEW_TEST_PORT:-5432}}
export PGVIEW_TEST_USER=${3:-${PGVIEW_TEST_USER:-postgres}}
export PYTHONPATH=$here${PYTHONPATH:+:$PYTHONPATH}
export PYTHONDONTWRITEBYTECODE=1
cd "$here"
exec "${PYTHON:-/usr/bin/python3}" -m unittest discover -v -s tests -t .
