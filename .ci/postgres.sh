#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the test suite, in a temp dir, on a free port.
#
#   source .ci/postgres.sh; trap stop_test_postgres EXIT; start_test_postgres   (what .ci/run does)
#   bash .ci/postgres.sh npx jest test/store                                    (one command against it)
#
# start_test_postgres installs Debian's postgresql if no server binaries are there (root only), runs initdb
# as the postgres user when run as root, waits until the server accepts connections, creates a login role
# and a database for the tests, and exports TEST_DATABASE_URL. The password is random per run and never
# printed. The server trades durability for speed (fsync off): its data is deleted on stop anyway.

PG_TEST_DIR=${PG_TEST_DIR:-}
PG_TEST_BINDIR=
PG_TEST_RUN_AS=()

pg_say() { echo "[postgres] $*" >&2; }

# Newest installed server version's bin dir, e.g. /usr/lib/postgresql/15/bin.
pg_find_bindir() {
  local dir
  while read -r dir; do
    if [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/pg_isready && -x $dir/psql ]]; then
      echo "$dir"
      return 0
    fi
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
  return 1
}

pg_ensure_installed() {
  if PG_TEST_BINDIR=$(pg_find_bindir); then
    pg_say "using $("$PG_TEST_BINDIR/postgres" --version) from $PG_TEST_BINDIR"
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    pg_say "no PostgreSQL server under /usr/lib/postgresql and not root: install the postgresql package"
    return 1
  fi
  pg_say "no PostgreSQL server found: apt-get install postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends postgresql
  PG_TEST_BINDIR=$(pg_find_bindir) || { pg_say "postgresql installed but no server binaries found"; return 1; }
  pg_say "installed $("$PG_TEST_BINDIR/postgres" --version)"
}

pg_free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

start_test_postgres() {
  local timeout_s=${PG_TEST_START_TIMEOUT:-60}
  pg_ensure_installed || return 1

  PG_TEST_DIR=$(mktemp -d /tmp/cockpit-pg.XXXXXX)
  PG_TEST_RUN_AS=()
  if [[ $(id -u) -eq 0 ]]; then
    # initdb and postgres refuse to run as root.
    id postgres >/dev/null 2>&1 || { pg_say "running as root but there is no postgres user"; return 1; }
    chown postgres: "$PG_TEST_DIR"
    PG_TEST_RUN_AS=(runuser -u postgres --)
  fi

  pg_say "initdb in $PG_TEST_DIR/data"
  "${PG_TEST_RUN_AS[@]}" "$PG_TEST_BINDIR/initdb" -D "$PG_TEST_DIR/data" --username=postgres \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$PG_TEST_DIR/initdb.log" 2>&1 \
    || { pg_say "initdb failed:"; cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }

  local port='' attempt
  for attempt in 1 2 3; do
    # The port is free when picked but could be taken before postgres binds it, hence the retries.
    port=$(pg_free_port)
    pg_say "starting on 127.0.0.1:$port (attempt $attempt)"
    if "${PG_TEST_RUN_AS[@]}" "$PG_TEST_BINDIR/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" \
      -w -t "$timeout_s" -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TEST_DIR -c max_connections=200 \
      -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null; then
      break
    fi
    pg_say "start failed; server log:"
    tail -n 20 "$PG_TEST_DIR/server.log" >&2 || true
    port=''
  done
  [[ -n $port ]] || return 1

  local deadline=$((SECONDS + timeout_s))
  until "$PG_TEST_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres; do
    if ((SECONDS >= deadline)); then
      pg_say "not accepting connections after ${timeout_s}s; server log:"
      tail -n 20 "$PG_TEST_DIR/server.log" >&2 || true
      return 1
    fi
    sleep 0.5
  done

  local password
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  pg_say "creating role and database cockpit_test"
  # Through stdin, so the password is not in any process's arguments.
  "${PG_TEST_RUN_AS[@]}" "$PG_TEST_BINDIR/psql" -h "$PG_TEST_DIR" -p "$port" -U postgres -d postgres \
    -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL || { pg_say "could not create the test role"; return 1; }
create role cockpit_test login password '$password';
create database cockpit_test owner cockpit_test;
SQL

  export TEST_DATABASE_URL="postgres://cockpit_test:${password}@127.0.0.1:${port}/cockpit_test"
  pg_say "ready: TEST_DATABASE_URL=postgres://cockpit_test:***@127.0.0.1:${port}/cockpit_test"
}

stop_test_postgres() {
  [[ -n ${PG_TEST_DIR:-} && -d $PG_TEST_DIR ]] || return 0
  if [[ -f $PG_TEST_DIR/data/postmaster.pid ]]; then
    pg_say "stopping"
    "${PG_TEST_RUN_AS[@]}" "$PG_TEST_BINDIR/pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w -t 30 stop >/dev/null \
      || pg_say "stop failed"
  fi
  case $PG_TEST_DIR in
    /tmp/cockpit-pg.*) rm -rf "$PG_TEST_DIR" ;;
  esac
  PG_TEST_DIR=''
  unset TEST_DATABASE_URL
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  if [[ $# -eq 0 ]]; then
    echo "usage: bash .ci/postgres.sh <command> [args...]   (runs it with TEST_DATABASE_URL set)" >&2
    exit 2
  fi
  trap stop_test_postgres EXIT
  start_test_postgres
  "$@"
fi
