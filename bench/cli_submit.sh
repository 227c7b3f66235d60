#!/usr/bin/env bash
# `hookline submit` of an N-line file to a fresh `hookline serve` on SQLite, set up as
# bench/w1.sh serve-sqlite does (same settings, W1's callback receiver failing 10 % of
# first attempts), so that its tasks/s compares with W1's submit_tps.
#
#   bench/cli_submit.sh [N=10000] [CONCURRENCY=64]
#
# Prints the submit summary as one JSON line (created, duplicate, invalid, elapsed_s) and
# tasks/s. Everything stops by itself.
set -euo pipefail
N=${1:-10000}
C=${2:-64}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${BENCH_HARNESS:-$ROOT/../shared/bench/w1.py}
HOOKLINE=${HOOKLINE:-$(command -v hookline)}
PYTHON=${PYTHON:-$(dirname "$HOOKLINE")/python}
PORT=${BENCH_PORT:-8700}
RPORT=$((PORT + 1))
WORK=$(mktemp -d /tmp/hookline-cli-bench.XXXXXX)
PIDS=()

cleanup() {
  [ ${#PIDS[@]} -gt 0 ] && kill "${PIDS[@]}" 2>/dev/null && wait "${PIDS[@]}" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

export HOOKLINE_CALLBACKS_ALLOW_NETWORKS=127.0.0.0/8
export HOOKLINE_CALLBACKS_SCHEDULE_S=0,0.2,0.4,0.8,1.6,3.2,6.4,12.8,25.6,51.2
export HOOKLINE_SERVER_PORT=$PORT HOOKLINE_FILES_DIR=$WORK/files
export HOOKLINE_DATABASE_URL=sqlite+aiosqlite:///$WORK/hookline.db
unset HOOKLINE_CONFIG
cd "$WORK"
"$HOOKLINE" migrate >/dev/null
KEY=$("$HOOKLINE" keys create --account bench | tail -1)
"$HOOKLINE" serve --log-level warning >serve.log 2>&1 & PIDS+=($!)
"$PYTHON" "$HARNESS" --receiver-only --rport "$RPORT" --fail-frac 0.10 \
  --receiver-max-seconds 600 >receiver.log 2>&1 & PIDS+=($!)
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && grep -q READY receiver.log && break
  sleep 0.2
done
grep -q READY receiver.log || { echo "the receiver did not start: $(cat receiver.log)" >&2; exit 1; }
"$PYTHON" - "$N" "http://127.0.0.1:$RPORT/cb" >tasks.jsonl <<'EOF'
import json, sys
n, url = int(sys.argv[1]), sys.argv[2]
for i in range(n):
    print(json.dumps({"instruction": "CLI bench", "params": {"n": i}, "callback_url": url,
                      "tags": ["bench"]}))
EOF
"$HOOKLINE" submit tasks.jsonl --type echo --concurrency "$C" --json \
  --url "http://127.0.0.1:$PORT" --key "$KEY" 2>/dev/null | tee summary.json
"$PYTHON" -c 'import json; s = json.load(open("summary.json")); print("cli_submit_tps", round(s["created"] / s["elapsed_s"], 1))'
