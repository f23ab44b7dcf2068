# Shared set-up for the e2e scripts: start `tgi serve` on a free loopback port with the tiny golden
# model, wait until it is healthy, stop it on exit. Sourced, not run.
set -euo pipefail

: "${TGI_BINARY:?TGI_BINARY must point at the built tgi}"
: "${TGI_TEST_DATA_DIR:?TGI_TEST_DATA_DIR must point at the staged test data}"
: "${TGI_SOURCE_DIR:?TGI_SOURCE_DIR must point at the source tree}"

E2E_DIR="$TGI_SOURCE_DIR/tests/e2e"
MODEL_DIR="$TGI_TEST_DATA_DIR/models/qwen3-tok"
WORK_DIR="$(mktemp -d)"
SERVER_PID=""

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# start_server [extra tgi serve flags...]: sets PORT and BASE.
start_server() {
  PORT="$(free_port)"
  BASE="http://127.0.0.1:$PORT"
  "$TGI_BINARY" serve --model-id "$MODEL_DIR" --hostname 127.0.0.1 --port "$PORT" --prometheus-port 0 \
    --max-total-tokens 512 --max-batch-total-tokens 8192 "$@" >"$WORK_DIR/server.log" 2>&1 &
  SERVER_PID=$!
  wait_healthy "$BASE" "$SERVER_PID" "$WORK_DIR/server.log" "tgi serve"
}

# wait_healthy BASE PID LOG NAME: waits (up to 2 minutes) for BASE/health; fails with the log if
# the server exits or never gets there.
wait_healthy() {
  local base=$1 pid=$2 log=$3 name=$4
  for _ in $(seq 1 600); do
    if curl -fsS "$base/health" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited during start-up:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "$name did not become healthy:" >&2
  cat "$log" >&2
  return 1
}

stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
  fi
  SERVER_PID=""
}

cleanup() {
  local status=$?
  stop_server
  if [[ $status -ne 0 && -f "$WORK_DIR/server.log" ]]; then
    echo "--- server log (tail) ---" >&2
    tail -n 40 "$WORK_DIR/server.log" >&2
  fi
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT

FAILURES=0
check() {  # check NAME ACTUAL EXPECTED
  if [[ "$2" == "$3" ]]; then
    echo "ok   $1"
  else
    echo "FAIL $1"
    echo "  expected: $3"
    echo "  actual:   $2"
    FAILURES=$((FAILURES + 1))
  fi
}
check_contains() {  # check_contains NAME HAYSTACK NEEDLE
  if [[ "$2" == *"$3"* ]]; then
    echo "ok   $1"
  else
    echo "FAIL $1: missing $3"
    echo "  in: ${2:0:2000}"
    FAILURES=$((FAILURES + 1))
  fi
}

# http METHOD PATH [BODY] [curl args...]: prints "<status>\n<body>".
http() {
  local method=$1 path=$2 body=${3:-}
  shift 3 || shift $#
  if [[ -n "$body" ]]; then
    curl -sS -X "$method" "$BASE$path" -H 'content-type: application/json' --data-binary "$body" \
      -w '\n%{http_code}' "$@"
  else
    curl -sS -X "$method" "$BASE$path" -w '\n%{http_code}' "$@"
  fi
}
status_of() { tail -n1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }

# npm_ready: installs the clients from package-lock.json unless node_modules already holds every
# dependency of package.json at its pinned version (a stale tree from older pins is reinstalled).
# ctest runs e2e scripts in parallel: a lock keeps two of them from running `npm ci` at once.
npm_ready() {
  (
    flock 9
    if ! (cd "$E2E_DIR" && node -e '
        const fs = require("fs");
        const deps = JSON.parse(fs.readFileSync("package.json", "utf8")).dependencies;
        for (const [name, version] of Object.entries(deps)) {
          const manifest = `node_modules/${name}/package.json`;
          if (!fs.existsSync(manifest) || JSON.parse(fs.readFileSync(manifest, "utf8")).version !== version) process.exit(1);
        }') 2>/dev/null; then
      (cd "$E2E_DIR" && npm ci --no-audit --no-fund --silent)
    fi
  ) 9>"${TMPDIR:-/tmp}/tgi-e2e-npm-$(id -u).lock"
}
