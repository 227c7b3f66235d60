#!/usr/bin/env bash
# Fuzz the v1 API with schemathesis against its own /v1/openapi.json.
#
# Starts `hookline api` (no dispatcher, no callback sender: no generated URL is
# ever fetched) on a free 127.0.0.1 port against a fresh SQLite file, runs every
# check with a fixed seed and bounded examples and time, and stops the API by
# its PID. Runnable by hand from the repository root with hookline and
# schemathesis on PATH (`pip install -e '.[test]'`).
#
#   SCHEMATHESIS_MAX_EXAMPLES (default 30), SCHEMATHESIS_MAX_TIME (seconds,
#   default 120), SCHEMATHESIS_SEED (default 1) bound the run; extra arguments
#   go to `schemathesis run` as they are.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
api_pid=""
cleanup() {
  if [ -n "$api_pid" ]; then kill "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

export HOOKLINE_FILES_DIR="$work/files"
# Rate limits off: schemathesis sends hundreds of wrong-key requests on purpose (each must
# be a 401), and as fast as it can; tests/api/test_rate_limits.py covers the limits.
export HOOKLINE_RATE_LIMITS_ENABLED=false
db="sqlite+aiosqlite:///$work/fuzz.db"
port=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"

hookline migrate --database-url "$db" >/dev/null
key=$(hookline keys create --database-url "$db" --account fuzz | tail -n 1)

hookline api --database-url "$db" --host 127.0.0.1 --port "$port" --log-level warning \
  >"$work/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 100); do
  curl -fsS "$url/healthz" >/dev/null 2>&1 && break
  kill -0 "$api_pid" 2>/dev/null || { cat "$work/api.log" >&2; exit 1; }
  sleep 0.1
done

# GET /v1/task/{id}?wait_s=N long-polls up to 60 s on a pending task: the request timeout
# must outlast it, or a correct answer counts as a network error.
status=0
SCHEMATHESIS_HOOKS=tests.fuzz.hooks schemathesis --config-file .ci/schemathesis.toml run "$url/v1/openapi.json" \
  --url "$url" \
  --auth "$key:" \
  --checks all \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-30}" \
  --max-time "${SCHEMATHESIS_MAX_TIME:-120}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --workers 1 \
  --request-timeout 70 \
  "$@" || status=$?
if [ "$status" -ne 0 ] && grep -q "request_failed" "$work/api.log"; then
  echo "--- hookline api log (server errors) ---" >&2
  grep -A30 "request_failed" "$work/api.log" | head -200 >&2
fi
exit "$status"
