#!/usr/bin/env bash
# Run the W1 workload of ../shared/bench against a fresh hookline deployment on this host.
#
#   bench/w1.sh MODE [w1.py arguments...]
#
# MODE: serve-sqlite  one `hookline serve` on a new SQLite file
#       serve         one `hookline serve` on a new PostgreSQL database
#       scale         2 x `hookline api` (one port, SO_REUSEPORT) + 2 x `hookline worker`, PostgreSQL
#
# Examples:  bench/w1.sh scale --n 5000 --c 64
#            bench/w1.sh serve --n 900 --rate 30
# The JSON line goes to stdout and is appended to bench/results.jsonl (--out).
# PostgreSQL: BENCH_PG (default postgresql://postgres@127.0.0.1:5432); database hookline_bench
# is dropped and created; the server's CPU and memory are counted from the oldest `postgres`
# process (or BENCH_PG_PID). Callbacks retry on the peers' 0.2 s x 2^n schedule; only
# 127.0.0.0/8 is allowed as a callback destination. Everything stops by itself.
set -euo pipefail
MODE=${1:?usage: bench/w1.sh serve-sqlite|serve|scale [w1.py arguments]}
shift
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${BENCH_HARNESS:-$ROOT/../shared/bench/w1.py}
HOOKLINE=${HOOKLINE:-$(command -v hookline)}
PYTHON=${PYTHON:-$(dirname "$HOOKLINE")/python}
PG=${BENCH_PG:-postgresql://postgres@127.0.0.1:5432}
PORT=${BENCH_PORT:-8700}
WORK=$(mktemp -d /tmp/hookline-bench.XXXXXX)
PIDS=()

cleanup() {
  [ ${#PIDS[@]} -gt 0 ] && kill "${PIDS[@]}" 2>/dev/null && wait "${PIDS[@]}" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

export HOOKLINE_CALLBACKS_ALLOW_NETWORKS=127.0.0.0/8
export HOOKLINE_CALLBACKS_SCHEDULE_S=0,0.2,0.4,0.8,1.6,3.2,6.4,12.8,25.6,51.2
export HOOKLINE_SERVER_PORT=$PORT HOOKLINE_FILES_DIR=$WORK/files
unset HOOKLINE_CONFIG
cd "$WORK"
SERVICE_PIDS=()
case "$MODE" in
  serve-sqlite)
    export HOOKLINE_DATABASE_URL=sqlite+aiosqlite:///$WORK/hookline.db ;;
  serve|scale)
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS hookline_bench WITH (FORCE)" -c "CREATE DATABASE hookline_bench" >/dev/null
    export HOOKLINE_DATABASE_URL=${PG/postgresql:/postgresql+asyncpg:}/hookline_bench
    # PostgreSQL's CPU and memory count too: its postmaster (the oldest postgres process).
    SERVICE_PIDS+=("${BENCH_PG_PID:-$(pgrep -o -x postgres)}") ;;
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
"$HOOKLINE" migrate >/dev/null
KEY=$("$HOOKLINE" keys create --account bench | tail -1)

if [ "$MODE" = scale ]; then
  export HOOKLINE_SERVER_REUSE_PORT=true
  for i in 1 2; do "$HOOKLINE" api --log-level warning >"api$i.log" 2>&1 & PIDS+=($!); done
  for i in 1 2; do "$HOOKLINE" worker --log-level warning >"worker$i.log" 2>&1 & PIDS+=($!); done
else
  "$HOOKLINE" serve --log-level warning >serve.log 2>&1 & PIDS+=($!)
fi
echo "${PIDS[@]}" "${SERVICE_PIDS[@]}" >pids
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.2
done
"$PYTHON" "$HARNESS" --base "http://127.0.0.1:$PORT" --api-key "$KEY" --label "hookline_$MODE" \
  --service-pid-file pids --out "$ROOT/bench/results.jsonl" "$@"
