#!/usr/bin/env bash
# bench/run.sh - keyhold against nginx on this machine, as issue 5 asks:
# wrk on loopback, keep-alive, 64 connections, each case run ROUNDS times
# alternating with the reference (nginx answering a fixed 200 JSON body with
# as many workers as keyhold has event loops), medians reported, written to
# bench/RESULTS.md. Bounded: DURATION seconds per run.
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
CASES=${CASES:-12345}        # which case numbers to run
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
start_keyhold() { # name backend -> sets KPORT, KPID
  KPORT=$(port)
  $BIN serve --db "$(dsn "$1" "$2")" --secret "$work/$1-$2.secret" --listen "127.0.0.1:$KPORT" --threads "$THREADS" \
    --log-level warn --rate-limit-org 0 --rate-limit-credential 0 --rate-limit-auth-failures 0 2>"$work/$1-$2.log" &
  KPID=$!; pids+=("$KPID")
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$KPORT/api/v1/validate" && break; sleep 0.1; done
}
NPORT=$(port)
cat > "$work/nginx.conf" <<CONF
worker_processes $THREADS;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$NPORT;
    location / { default_type application/json; return 200 '{"valid":true}'; }
  }
}
CONF
$NGINX -c "$work/nginx.conf" -p "$work" -g 'daemon off;' &
pids+=($!)
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
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

results="$work/results.txt"
: > "$results"
bench_case() { # label store path script headers... (BACKEND is the backend measured)
  local label=$1 store=$2 path=$3 script=$4; shift 4
  case "$CASES" in *"${label%%.*}"*) ;; *) return 0 ;; esac
  local k_rps=() k50=() k99=() n_rps=() n99=()
  for _ in $(seq "$ROUNDS"); do
    read -r r a b < <(run_wrk "http://127.0.0.1:$KPORT$path" "$script" "$@")
    k_rps+=("$r"); k50+=("$a"); k99+=("$b")
    read -r r a b < <(run_wrk "http://127.0.0.1:$NPORT/" "" )
    n_rps+=("$r"); n99+=("$b")
  done
  local kr kp50 kp99 nr np99
  kr=$(printf '%s\n' "${k_rps[@]}" | median); kp50=$(printf '%s\n' "${k50[@]}" | median)
  kp99=$(printf '%s\n' "${k99[@]}" | median); nr=$(printf '%s\n' "${n_rps[@]}" | median)
  np99=$(printf '%s\n' "${n99[@]}" | median)
  local ratio; ratio=$(awk -v a="$kr" -v b="$nr" 'BEGIN {printf "%.2f", a/b}')
  echo "| $label | $store | $BACKEND | $kr | $kp50 | $kp99 | $nr | $np99 | $ratio | $(rss_mb "$KPID") |" >> "$results"
  echo "$label ($store, $BACKEND): $kr req/s, p50 $kp50 ms, p99 $kp99 ms, nginx $nr req/s, ratio $ratio" >&2
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
    bench_case "1. GET /api/v1/validate" "$store" /api/v1/validate "" -H "DD-API-KEY: $API"
    bench_case "2. GET /api/v2/validate_keys" "$store" /api/v2/validate_keys "" "${H[@]}"
    bench_case "5. bad API key (403)" "$store" /api/v1/validate "" -H "DD-API-KEY: 0123456789abcdef0123456789abcdef"
    exp=$(python3 -c 'import datetime; print((datetime.datetime.utcnow()+datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
    cat > "$work/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"data":{"type":"personal_access_tokens","attributes":{"name":"bench","scopes":["api_keys_read"],"expires_at":"$exp"}}}'
LUA
    bench_case "4. POST /api/v2/personal_access_tokens" "$store" /api/v2/personal_access_tokens "$work/create.lua" "${H[@]}"
  fi
  bench_case "3. list PATs, 100, -created_at" "$store" "/api/v2/personal_access_tokens?page%5Bsize%5D=100&sort=-created_at" "" "${H[@]}"
  bench_case "3. list PATs, 100, filter" "$store" "/api/v2/personal_access_tokens?page%5Bsize%5D=100&filter=token%200000" "" "${H[@]}"
  kill "$KPID"; wait "$KPID" 2>/dev/null || true
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

if [ "$STORES" != "small big" ] || [ "$CASES" != 12345 ]; then
  echo "partial run (STORES=$STORES CASES=$CASES): bench/RESULTS.md left as it was" >&2
  cat "$results"
  exit 0
fi
{
  echo "# keyhold benchmark results"
  echo
  echo "Measured by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%d), $(nproc) CPUs: wrk -t1 -c64, keep-alive,"
  echo "${DURATION} s per run, ${ROUNDS} runs per case alternating with nginx (worker_processes $THREADS, \`return 200\`"
  echo "with a 14-byte JSON body), medians. keyhold: --threads $THREADS, rate limits off. Stores: small = 10,000"
  echo "tokens, big = $BIG_TOKENS tokens. Latencies in ms. RSS of keyhold after the case, in MB."
  echo
  echo "| case | store | backend | keyhold req/s | p50 | p99 | nginx req/s | nginx p99 | ratio | RSS |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  cat "$results"
  echo
  echo "Derived (same run):"
  awk -F' [|] ' '
    { key = $1 "/" $2 "/" $3; rps[key] = $4; p99[key] = $6 }
    END {
      ok = rps["| 1. GET /api/v1/validate/small/sqlite"]; bad = rps["| 5. bad API key (403)/small/sqlite"]
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
