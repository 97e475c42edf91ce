# pgview_auto — shared shell helpers for the demo, the tests and the benchmarks.
# Sourced, not run. Works as root (Debian 12 fresh machine, CI) or as a user with sudo.

set -euo pipefail

PGVER=15
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
# PGVIEW_PG_ROOT: a private, relocated copy of the PostgreSQL installation
# (scripts/sandbox_pg.sh makes one), so that several checkouts can build, install
# and test side by side without replacing each other's pgview_auto.so.
if [ -n "${PGVIEW_PG_ROOT:-}" ]; then
    PGBIN=$PGVIEW_PG_ROOT/usr/lib/postgresql/$PGVER/bin
    SUDO_INSTALL=""
else
    PGBIN=/usr/lib/postgresql/$PGVER/bin
    SUDO_INSTALL=$SUDO
fi
export PG_CONFIG=$PGBIN/pg_config

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Install what is missing from Debian's packages (never re-installs what is there).
ensure_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        say "installing ${missing[*]}"
        $SUDO apt-get update -qq
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

BUILD_PACKAGES=(build-essential postgresql-$PGVER postgresql-server-dev-$PGVER libboost-graph-dev graphviz)
TEST_PACKAGES=(libipc-run-perl googletest libgtest-dev python3 python3-psycopg2 python3-sqlalchemy python3-alembic)

build_and_install() {
    say "building pgview_auto"
    make -C "$REPO" -s -j2 PG_CONFIG="$PG_CONFIG" 2>&1 | { grep -v '^make' || true; }
    $SUDO_INSTALL make -C "$REPO" -s install PG_CONFIG="$PG_CONFIG" >/dev/null
}

# The OS user the server runs as: PostgreSQL refuses to run as root.
if [ "$(id -u)" -eq 0 ]; then PGUSER_OS=postgres; else PGUSER_OS=$(id -un); fi
# The server's user may not be able to enter the caller's working directory (a
# clone in a mode-700 home directory): then the command runs from /tmp.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        if runuser -u "$PGUSER_OS" -- test -x "$PWD" 2>/dev/null; then
            runuser -u "$PGUSER_OS" -- env PATH="$PGBIN:$PATH" "$@"
        else
            (cd /tmp && runuser -u "$PGUSER_OS" -- env PATH="$PGBIN:$PATH" "$@")
        fi
    else env PATH="$PGBIN:$PATH" "$@"; fi
}

# start_cluster DIR PORT [extra postgresql.conf lines...]: a throwaway server whose
# data directory and socket live in DIR, listening on localhost:PORT only, with
# pgview_auto preloaded and prepared transactions allowed.
start_cluster() {
    local dir=$1 port=$2; shift 2
    start_default_cluster "$dir" "$port" "shared_preload_libraries = 'pgview_auto'" \
        "max_prepared_transactions = 10" "$@"
}

# start_default_cluster DIR PORT [extra lines...]: the same with initdb's defaults
# otherwise (as `make installcheck` may meet on a DBA's server).
start_default_cluster() {
    local dir=$1 port=$2; shift 2
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown "$PGUSER_OS" "$dir"
    as_pg initdb -D "$dir/data" -U postgres -A trust --no-sync >/dev/null
    {
        echo "port = $port"
        echo "listen_addresses = 'localhost'"
        echo "unix_socket_directories = '$dir'"
        echo "fsync = off"
        for line in "$@"; do echo "$line"; done
    } | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
    as_pg pg_ctl -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
}

stop_cluster() {
    local dir=$1
    [ -f "$dir/data/postmaster.pid" ] && as_pg pg_ctl -D "$dir/data" -m fast -w stop >/dev/null || true
}

# psql against a cluster made by start_cluster: cluster_psql DIR PORT [psql args...]
cluster_psql() {
    local dir=$1 port=$2; shift 2
    as_pg psql -X -h "$dir" -p "$port" -U postgres "$@"
}

# throwaway_dir NAME: TMP, a new directory /tmp/pgview_NAME.XXXXXX for one run's
# server (start_cluster "$TMP" ...) and files the server's OS user must read;
# the server is stopped and the directory removed when the script exits.
throwaway_dir() {
    TMP=$(mktemp -d "/tmp/pgview_$1.XXXXXX")
    chmod 755 "$TMP"
    trap 'stop_cluster "$TMP" || true; rm -rf "$TMP"' EXIT
    trap 'exit 130' INT TERM
}

# A port nobody listens on.
free_port() {
    local p
    for p in $(seq "${1:-54320}" 54399); do
        if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return; fi
    done
    echo "no free port" >&2; return 1
}

# A benchmark's arguments: --smoke sets SMOKE=1; --help prints the calling
# script's header comment (up to its `set -e` line).
bench_args() {
    SMOKE=0
    local script=${BASH_SOURCE[1]} arg
    for arg in "$@"; do
        case $arg in
        --smoke) SMOKE=1 ;;
        -h | --help) sed -n '2,/^set -[eE]/p' "$script" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $arg (try --help)" >&2; exit 64 ;;
        esac
    done
}

# The reference workloads (../shared/bench beside the repository, where the
# issues' figures come from; else the copy in test/bench/reference, kept equal to it
# by scripts/test.sh whenever both are there).
if [ -d "$REPO/../shared/bench" ]; then
    REFERENCE_WORKLOADS=$(cd "$REPO/../shared/bench" && pwd)
else
    REFERENCE_WORKLOADS=$REPO/test/bench/reference
fi
