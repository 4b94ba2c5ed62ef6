#!/usr/bin/env bash
# bench/run.sh - keyhold against nginx on this machine: wrk on loopback,
# keep-alive, 64 connections, each case run ROUNDS times alternating with
# its reference, medians reported, written to bench/RESULTS.md. Bounded:
# DURATION seconds per run.
#
# The reference is fair (issue 14): nginx, with as many workers as keyhold
# has event loops and keepalive_requests high enough never to close a
# benchmark connection, serves keyhold's own answer to the very request as a
# static file (the same bytes), with the same logging as keyhold in each
# case: both off, or both on (nginx's buffered access log). Next to req/s
# and p99, the CPU time each server spent per request (from /proc).
#
# Every store is measured on each backend of BACKENDS: the embedded SQLite
# file, and PostgreSQL (a throwaway cluster from tests/pg/cluster.sh, one
# database per store), side by side in one table; on PostgreSQL also the
# revocation lag between two nodes (bench/lag.py).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-3}
THREADS=${THREADS:-2}
BIG_TOKENS=${BIG_TOKENS:-1000000}
STORES=${STORES:-small big}  # which stores to measure (a partial run does not write RESULTS.md)
BACKENDS=${BACKENDS:-sqlite postgres}
CASES=${CASES:-123456}       # which case numbers to run
BIN=./build/keyhold

need=""
command -v wrk >/dev/null || need="$need wrk"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need="$need nginx-light"
if [ -n "$need" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d /tmp/keyhold-bench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done
  [ -d "$work/pg" ] && tests/pg/cluster.sh stop "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; print(json.load(open('$1'))['$2'])"; }

# --- stores: small (10k tokens) and big ($BIG_TOKENS tokens), on each backend ---
chmod 755 "$work" # the PostgreSQL cluster runs as the postgres user
case " $BACKENDS " in *" postgres "*) PG=$(tests/pg/cluster.sh start "$work/pg") ;; esac
dsn() { # name backend
  if [ "$2" = postgres ]; then echo "${PG%/postgres}/$1"; else echo "$work/$1.db"; fi
}
make_store() { # name tokens backend
  local db; db=$(dsn "$1" "$3")
  [ "$3" = postgres ] && psql -q "$PG" -c "CREATE DATABASE $1" >/dev/null
  export KEYHOLD_SECRET_FILE="$work/$1-$3.secret"
  $BIN init --db "$db" --json > "$work/$1-$3.json"
  $BIN seed --db "$db" --org "$(json "$work/$1-$3.json" org_id)" --owner "$(json "$work/$1-$3.json" user_id)" \
    --tokens "$2" --api-keys 10 >&2
  # What autovacuum would do shortly after a bulk load: statistics for the planner.
  [ "$3" = postgres ] && psql -q "$db" -c "ANALYZE" >/dev/null
  unset KEYHOLD_SECRET_FILE
}
for backend in $BACKENDS; do
  for store in $STORES; do
    if [ "$store" = small ]; then make_store small 10000 "$backend"; else make_store big "$BIG_TOKENS" "$backend"; fi
  done
done

# --- servers ---
start_keyhold() { # name backend [log level] -> sets KPORT, KPID
  KPORT=$(port)
  $BIN serve --db "$(dsn "$1" "$2")" --secret "$work/$1-$2.secret" --listen "127.0.0.1:$KPORT" --threads "$THREADS" \
    --log-level "${3:-warn}" --rate-limit-org 0 --rate-limit-credential 0 --rate-limit-auth-failures 0 2>"$work/$1-$2.log" &
  KPID=$!; pids+=("$KPID")
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$KPORT/api/v1/validate" && break; sleep 0.1; done
}
# nginx serves keyhold's answers (captured into $work/ref/ before each
# case) as static files: on NPORT without a log, on NLPORT with a buffered
# access log, as keyhold's is on in the cases marked "log on".
NPORT=$(port); NLPORT=$(port)
mkdir -p "$work/ref"
cat > "$work/nginx.conf" <<CONF
worker_processes $THREADS;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
events { worker_connections 1024; }
http {
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  default_type application/json;
  server {
    listen 127.0.0.1:$NPORT;
    access_log off;
    location /ref/ { root $work; }
  }
  server {
    listen 127.0.0.1:$NLPORT;
    access_log $work/nginx-access.log combined buffer=64k flush=1s;
    location /ref/ { root $work; }
  }
}
CONF
$NGINX -c "$work/nginx.conf" -p "$work" -g 'daemon off;' &
NGINX_PID=$!
pids+=($NGINX_PID)
sleep 0.5

# --- measuring ---
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.3f", v}'; }
run_wrk() { # url script headers... -> "rps p50 p99"
  local url=$1 script=$2; shift 2
  local out
  out=$(wrk -t1 -c64 -d"${DURATION}s" --timeout 30s --latency ${script:+-s "$script"} "$@" "$url")
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}' | to_ms)
  p99=$(echo "$out" | awk '$1=="99%" {print $2}' | to_ms)
  echo "$rps $p50 $p99"
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# CPU time (user + system, clock ticks) of a process and its children
# threads: keyhold's threads, or nginx's master and workers.
cpu_ticks() { # pid...
  local t=0 p
  for p in "$@"; do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
nginx_pids() { echo "$NGINX_PID" $(pgrep -P "$NGINX_PID"); }
# Runs wrk against url; prints "rps p50 p99 cpu_us_per_request" for the pids.
measure() { # url script pids -- headers...
  local url=$1 script=$2 pids=$3; shift 3
  local before after r a b
  before=$(cpu_ticks $pids)
  read -r r a b < <(run_wrk "$url" "$script" "$@")
  after=$(cpu_ticks $pids)
  echo "$r $a $b $(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v r="$r" -v d="$DURATION" \
    'BEGIN {printf "%.1f", (r > 0 ? t / hz * 1e6 / (r * d) : 0)}')"
}
# keyhold's answer to the request, as nginx will serve it: same bytes.
capture() { # slug path method body headers...
  local slug=$1 path=$2 method=$3 body=$4; shift 4
  curl -s -o "$work/ref/$slug.json" -X "$method" ${body:+--data "$body"} "$@" "http://127.0.0.1:$KPORT$path"
}
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

results="$work/results.txt"
: > "$results"
bench_case() { # label store path script method body headers... (BACKEND is the backend measured; NREF the
  #              nginx port of the reference: NPORT without a log, NLPORT with one)
  local label=$1 store=$2 path=$3 script=$4 method=$5 body=$6; shift 6
  case "$CASES" in *"${label%%.*}"*) ;; *) return 0 ;; esac
  local slug; slug=$(echo "$label-$store-$BACKEND" | tr -c 'A-Za-z0-9' _)
  capture "$slug" "$path" "$method" "$body" "$@"
  local k_rps=() k50=() k99=() kcpu=() n_rps=() n99=() ncpu=()
  for _ in $(seq "$ROUNDS"); do
    read -r r a b c < <(measure "http://127.0.0.1:$KPORT$path" "$script" "$KPID" "$@")
    k_rps+=("$r"); k50+=("$a"); k99+=("$b"); kcpu+=("$c")
    read -r r a b c < <(measure "http://127.0.0.1:${NREF:-$NPORT}/ref/$slug.json" "" "$(nginx_pids)")
    n_rps+=("$r"); n99+=("$b"); ncpu+=("$c")
  done
  local kr kp50 kp99 kc nr np99 nc
  kr=$(printf '%s\n' "${k_rps[@]}" | median); kp50=$(printf '%s\n' "${k50[@]}" | median)
  kp99=$(printf '%s\n' "${k99[@]}" | median); kc=$(printf '%s\n' "${kcpu[@]}" | median)
  nr=$(printf '%s\n' "${n_rps[@]}" | median); np99=$(printf '%s\n' "${n99[@]}" | median)
  nc=$(printf '%s\n' "${ncpu[@]}" | median)
  local ratio; ratio=$(awk -v a="$kr" -v b="$nr" 'BEGIN {printf "%.2f", a/b}')
  local bytes; bytes=$(stat -c %s "$work/ref/$slug.json")
  echo "| $label | $store | $BACKEND | $kr | $kp50 | $kp99 | $kc | $nr | $np99 | $nc | $ratio | $bytes | $(rss_mb "$KPID") |" >> "$results"
  echo "$label ($store, $BACKEND): $kr req/s, p50 $kp50 ms, p99 $kp99 ms, $kc us CPU/req; nginx (same $bytes bytes)" \
    "$nr req/s, p99 $np99 ms, $nc us CPU/req; ratio $ratio" >&2
}

# memory when idle with an empty store (no tokens, just the first org)
$BIN init --db "$work/empty.db" --secret "$work/empty-sqlite.secret" --json > "$work/empty.json"
start_keyhold empty sqlite
sleep 1
IDLE_RSS=$(rss_mb "$KPID")
kill "$KPID"; wait "$KPID" 2>/dev/null || true

for BACKEND in $BACKENDS; do
for store in $STORES; do
  start_keyhold "$store" "$BACKEND"
  API=$(json "$work/$store-$BACKEND.json" api_key); APP=$(json "$work/$store-$BACKEND.json" app_key)
  H=(-H "DD-API-KEY: $API" -H "DD-APPLICATION-KEY: $APP")
  if [ "$store" = small ]; then
    bench_case "1. GET /api/v1/validate, logs off" "$store" /api/v1/validate "" GET "" -H "DD-API-KEY: $API"
    bench_case "2. GET /api/v2/validate_keys" "$store" /api/v2/validate_keys "" GET "" "${H[@]}"
    bench_case "5. bad API key (403)" "$store" /api/v1/validate "" GET "" -H "DD-API-KEY: 0123456789abcdef0123456789abcdef"
    exp=$(python3 -c 'import datetime; print((datetime.datetime.utcnow()+datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
    cat > "$work/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"data":{"type":"personal_access_tokens","attributes":{"name":"bench","scopes":["api_keys_read"],"expires_at":"$exp"}}}'
LUA
    bench_case "4. POST /api/v2/personal_access_tokens" "$store" /api/v2/personal_access_tokens "$work/create.lua" \
      POST "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$work/create.lua")" -H "Content-Type: application/json" "${H[@]}"
    SA=$(curl -s -X POST "${H[@]}" -H "Content-Type: application/json" "http://127.0.0.1:$KPORT/api/v2/service_accounts" \
      --data '{"data":{"type":"users","attributes":{"email":"bench-sa@example.com","service_account":true}}}' |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
    curl -s -o /dev/null -X POST "${H[@]}" -H "Content-Type: application/json" \
      "http://127.0.0.1:$KPORT/api/v2/service_accounts/$SA/access_tokens" \
      --data '{"data":{"type":"service_access_tokens","attributes":{"name":"bench","scopes":["api_keys_read"]}}}'
    bench_case "6. v2 API keys, include=created_by,modified_by" "$store" "/api/v2/api_keys?include=created_by%2Cmodified_by" "" GET "" "${H[@]}"
    bench_case "6. v1 API keys" "$store" /api/v1/api_key "" GET "" "${H[@]}"
    bench_case "6. a service account's tokens" "$store" "/api/v2/service_accounts/$SA/access_tokens" "" GET "" "${H[@]}"
  fi
  bench_case "3. list PATs, 100, -created_at" "$store" "/api/v2/personal_access_tokens?page%5Bsize%5D=100&sort=-created_at" "" GET "" "${H[@]}"
  bench_case "3. list PATs, 100, filter" "$store" "/api/v2/personal_access_tokens?page%5Bsize%5D=100&filter=token%200000" "" GET "" "${H[@]}"
  kill "$KPID"; wait "$KPID" 2>/dev/null || true
  # validate with both access logs on (keyhold's at info, nginx's buffered)
  if [ "$store" = small ]; then
    start_keyhold "$store" "$BACKEND" info
    NREF=$NLPORT bench_case "1. GET /api/v1/validate, access log on" "$store" /api/v1/validate "" GET "" -H "DD-API-KEY: $API"
    kill "$KPID"; wait "$KPID" 2>/dev/null || true
  fi
done
done

# --- revocation lag between two PostgreSQL nodes, under validate load ---
LAG=""
case " $BACKENDS " in *" postgres "*)
  if [[ " $STORES " == *" small "* ]]; then
    start_keyhold small postgres; A_PORT=$KPORT
    start_keyhold small postgres; B_PORT=$KPORT
    LAG=$(python3 bench/lag.py "$A_PORT" "$B_PORT" "$(json "$work/small-postgres.json" api_key)" \
      "$(json "$work/small-postgres.json" app_key)" "${LAG_REVOCATIONS:-300}")
    echo "revocation lag: $LAG" >&2
  fi
  ;;
esac

if [ "$STORES" != "small big" ] || [ "$CASES" != 123456 ]; then
  echo "partial run (STORES=$STORES CASES=$CASES): bench/RESULTS.md left as it was" >&2
  cat "$results"
  exit 0
fi
{
  echo "# keyhold benchmark results"
  echo
  echo "Measured by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%d), $(nproc) CPUs: wrk -t1 -c64, keep-alive,"
  echo "${DURATION} s per run, ${ROUNDS} runs per case alternating with the reference, medians. The reference is"
  echo "nginx (worker_processes $THREADS, keepalive_requests never reached) serving keyhold's own answer to the same"
  echo "request as a static file (the same bytes), with the same logging: off, or on (nginx's buffered access log)"
  echo "where the case says so. keyhold: --threads $THREADS, rate limits off, --log-level warn unless the case says"
  echo "\"access log on\". Stores: small = 10,000 tokens, big = $BIG_TOKENS tokens. Latencies in ms; CPU in"
  echo "microseconds of user + system time per request; answer size in bytes; RSS of keyhold after the case, in MB."
  echo
  echo "| case | store | backend | keyhold req/s | p50 | p99 | CPU/req | nginx req/s | nginx p99 | nginx CPU/req | ratio | bytes | RSS |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  cat "$results"
  echo
  echo "Derived (same run):"
  awk -F' [|] ' '
    { key = $1 "/" $2 "/" $3; rps[key] = $4; p99[key] = $6 }
    END {
      ok = rps["| 1. GET /api/v1/validate, logs off/small/sqlite"]; bad = rps["| 5. bad API key (403)/small/sqlite"]
      if (ok > 0) printf "- refusing vs accepting (case 5 req/s / case 1 req/s, SQLite): %.2f\n", bad / ok
      for (c in p99) if (c ~ /3\. .*\/big\/sqlite$/) {
        s = c; sub(/big\/sqlite$/, "small/sqlite", s)
        if (p99[s] > 0) printf "- %s: p99 at %s tokens / p99 at 10,000 (SQLite): %.1f\n", substr(c, 3, length(c) - 13), big, p99[c] / p99[s]
      }
      for (c in rps) if (c ~ /\/postgres$/) {
        s = c; sub(/\/postgres$/, "/sqlite", s)
        if (rps[s] > 0) printf "- PostgreSQL / SQLite, %s: %.2f\n", substr(c, 3, length(c) - 11), rps[c] / rps[s]
      }
    }' big="$BIG_TOKENS" "$results" | sort
  [ -n "$LAG" ] && echo "- revocation lag between two PostgreSQL nodes (204 on one to the first 403 on the other, under validate load): $LAG"
  echo "- idle RSS with an empty store: ${IDLE_RSS} MB"
  echo
  echo "Reproduce: \`make bench\` (ROUNDS, DURATION, THREADS, BIG_TOKENS are environment knobs)."
} > bench/RESULTS.md
cat bench/RESULTS.md
