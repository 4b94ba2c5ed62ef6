#!/usr/bin/env bash
# cluster.sh - a throwaway PostgreSQL cluster for the tests, from Debian's
# postgresql package: in a directory of its own, on a free loopback port (and
# a socket in that directory), trust authentication for the user keyhold,
# torn down with its directory at the end. Run as root, the server runs as
# the postgres user (PostgreSQL refuses root).
#
#   cluster.sh start DIR [PORT] [EXTRA postgres -c options...]   prints the DSN
#   cluster.sh stop DIR                                           stops it, removes DIR
#   cluster.sh kill DIR                                           SIGKILLs the server (crash tests)
#   cluster.sh restart DIR [PAUSE]                                stops (fast) and starts it again,
#                                                                 PAUSE seconds later (default 0)
#   cluster.sh standby DIR PRIMARY_DIR                            a synchronous streaming standby of
#                                                                 PRIMARY_DIR's cluster (started with
#                                                                 synchronous_standby_names=standby1); prints its DSN
#   cluster.sh promote DIR                                        promotes a standby to primary
set -euo pipefail

BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$BIN" ] || { echo "cluster.sh: no PostgreSQL server (make deps installs postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cmd=${1:?usage: cluster.sh start|stop|kill|restart DIR}
dir=${2:?usage: cluster.sh start|stop|kill|restart DIR}

case "$cmd" in
start)
  port=${3:-$(free_port)}
  shift 3 2>/dev/null || shift $#
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_owner "$BIN/initdb" -D "$dir/data" -A trust -U keyhold -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on -c synchronous_commit=on"
  for o in "$@"; do opts="$opts -c $o"; done
  echo "$port" > "$dir/port"
  as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$opts" -w -t 30 start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "postgres://keyhold@127.0.0.1:$port/postgres"
  ;;
stop)
  [ -d "$dir/data" ] && as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
kill)
  pid=$(head -1 "$dir/data/postmaster.pid")
  kill -9 "$pid"
  ;;
standby)
  primary=${3:?usage: cluster.sh standby DIR PRIMARY_DIR}
  pport=$(cat "$primary/port")
  port=$(free_port)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_owner "$BIN/pg_basebackup" -d "host=127.0.0.1 port=$pport user=keyhold application_name=standby1" \
    -D "$dir/data" -R -X stream --no-sync >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
  echo "$port" > "$dir/port"
  as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" -w -t 30 start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "postgres://keyhold@127.0.0.1:$port/postgres"
  ;;
promote)
  as_owner "$BIN/pg_ctl" -D "$dir/data" -w -t 30 promote >/dev/null
  ;;
restart)
  as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  sleep "${3:-0}"
  port=$(cat "$dir/port")
  as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" -w -t 30 start >/dev/null
  ;;
*)
  echo "cluster.sh: unknown command $cmd" >&2
  exit 2
  ;;
esac
