#!/usr/bin/env bash
# Run the W1 workload (bench/w1.py, the project's own generator) against a fresh hookline
# deployment on this host.
#
#   bench/w1.sh MODE [bench/w1.py arguments...]
#
# MODE: serve-sqlite  one `hookline serve` on a new SQLite file
#       serve         one `hookline serve` on a new PostgreSQL database
#       scale         2 x `hookline api` (one port, SO_REUSEPORT) + 2 x `hookline worker`, PostgreSQL
#
# Examples:  bench/w1.sh scale --n 5000 --c 64
#            bench/w1.sh serve --n 900 --rate 30
# The JSON line goes to stdout and is appended to BENCH_OUT (default bench/results.jsonl; empty:
# nowhere). BENCH_HARNESS=path/to/another/w1.py runs that harness instead (e.g. ../shared/bench/w1.py).
# PostgreSQL: BENCH_PG (default postgresql://postgres@127.0.0.1:5432); database hookline_bench
# is dropped and created; the server's CPU and memory are counted from its postmaster (the
# PID in its data directory's postmaster.pid, or BENCH_PG_PID). Callbacks retry on the peers'
# 0.2 s x 2^n schedule; only
# 127.0.0.0/8 is allowed as a callback destination. Everything stops by itself.
set -euo pipefail
MODE=${1:?usage: bench/w1.sh serve-sqlite|serve|scale [w1.py arguments]}
shift
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${BENCH_HARNESS:-}" ]; then HARNESS=("$BENCH_HARNESS"); else HARNESS=(-m bench.w1); fi
OUT=${BENCH_OUT-$ROOT/bench/results.jsonl}
HOOKLINE=${HOOKLINE:-$(command -v hookline)}
PYTHON=${PYTHON:-$(dirname "$HOOKLINE")/python}
PG=${BENCH_PG:-postgresql://postgres@127.0.0.1:5432}
PORT=${BENCH_PORT:-8700}
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}
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
    # Its data directory's postmaster.pid names it; failing that, the oldest postgres process.
    PGDIR=$(psql "$PG/postgres" -tAc "SELECT setting FROM pg_settings WHERE name = 'data_directory'")
    PGPID=$(head -1 "$PGDIR/postmaster.pid" 2>/dev/null || pgrep -o -x postgres)
    SERVICE_PIDS+=("${BENCH_PG_PID:-$PGPID}") ;;
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
READY="import sys, urllib.request as u; u.urlopen(sys.argv[1], timeout=1)"
for i in $(seq 150); do
  "$PYTHON" -c "$READY" "http://127.0.0.1:$PORT/readyz" 2>/dev/null && break
  if [ "$i" = 150 ]; then
    echo "hookline ($MODE) did not become ready on port $PORT:" >&2; tail -5 ./*.log >&2; exit 1
  fi
  sleep 0.2
done
"$PYTHON" "${HARNESS[@]}" --base "http://127.0.0.1:$PORT" --api-key "$KEY" --label "hookline_$MODE" \
  --service-pid-file pids ${OUT:+--out "$OUT"} "$@"
