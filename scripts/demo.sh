#!/usr/bin/env bash
# pgview_auto — set everything up and run the demo on a throwaway local server.
# Installs Debian packages if missing, builds and installs the extension, starts a
# server as the unprivileged 'postgres' user in a temporary directory, runs
# scripts/demo.sql through psql, draws the demo's dependency graph with Graphviz
# into doc/images/demo_graph.svg, and removes the server again (KEEP=1 keeps it).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_packages "${BUILD_PACKAGES[@]}"
build_and_install

DIR=$(mktemp -d /tmp/pgview_auto_demo.XXXXXX)
chmod 755 "$DIR"
PORT=$(free_port 54330)
if [ -z "${KEEP:-}" ]; then trap 'stop_cluster "$DIR"; rm -rf "$DIR"' EXIT; fi

say "starting a throwaway PostgreSQL $PGVER server in $DIR (port $PORT)"
start_cluster "$DIR" "$PORT"

say "demo"
cp "$REPO/scripts/demo.sql" "$DIR/demo.sql"
cluster_psql "$DIR" "$PORT" -d postgres -e -v ON_ERROR_STOP=0 -f "$DIR/demo.sql" 2>&1

# The picture README.md shows: pgview_graph() as DOT, drawn by Debian's graphviz.
if command -v dot >/dev/null; then
    say "the dependency graph, drawn by Graphviz: doc/images/demo_graph.svg"
    mkdir -p "$REPO/doc/images"
    cluster_psql "$DIR" "$PORT" -d postgres -At -c "SELECT pgview_graph()" | dot -Tsvg -o "$REPO/doc/images/demo_graph.svg"
else
    say "graphviz is not installed: no picture drawn (apt-get install graphviz)"
fi

if [ -n "${KEEP:-}" ]; then
    say "server kept running: psql -h $DIR -p $PORT -U postgres   (stop: pg_ctl -D $DIR/data stop)"
fi
