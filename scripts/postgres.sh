#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite, on a free loopback port.
#
#   eval "$(bash scripts/postgres.sh start)"   # exports NEWSDESK_TEST_POSTGRES and _PG_BIN/_PG_DIR
#   bash scripts/postgres.sh stop "$NEWSDESK_TEST_PG_DIR"
#
# Installs Debian's postgresql and postgresql-contrib when missing (unaccent ships there).
# The cluster trusts loopback connections, runs with fsync off (its data is thrown away) and
# accepts replication connections (tests/postgres starts a streaming replica of it). As root
# it runs as the `postgres` user, which PostgreSQL requires.
set -euo pipefail

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

as_owner() {  # run a command as the cluster's owner
    if [[ $(id -u) -eq 0 ]]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

start() {
    if [[ -z $(bin_dir) || ! -e /usr/share/postgresql ]]; then
        echo "installing postgresql and postgresql-contrib" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q postgresql postgresql-contrib >&2 ||
            { apt-get update -q >&2 && apt-get install -y -q postgresql postgresql-contrib >&2; }
    fi
    local bin dir port
    bin=$(bin_dir)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/newsdesk-pg.XXXXXX")
    [[ $(id -u) -eq 0 ]] && chown postgres: "$dir" && chmod 700 "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
    # In the configuration file, not on the command line: a replica copies the file, and it
    # must allow at least as many connections as its primary.
    printf '%s\n' "listen_addresses = '127.0.0.1'" "fsync = off" "synchronous_commit = off" \
        "full_page_writes = off" "max_connections = 200" "wal_level = replica" |
        as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-p $port -k $dir" start >&2
    echo "export NEWSDESK_TEST_POSTGRES=postgresql://postgres@127.0.0.1:$port/postgres"
    echo "export NEWSDESK_TEST_PG_BIN=$bin"
    echo "export NEWSDESK_TEST_PG_DIR=$dir"
}

stop() {
    local dir=$1
    as_owner "$(bin_dir)/pg_ctl" -D "$dir/data" -m immediate stop >&2 || true
    rm -rf "$dir"
}

case ${1:-} in
start) start ;;
stop) stop "${2:?the cluster directory}" ;;
*) echo "usage: $0 start | stop DIR" >&2 && exit 2 ;;
esac
