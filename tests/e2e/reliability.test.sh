#!/usr/bin/env bash
# Reliability under heavy and hostile traffic: a mixed concurrent load, disconnect storms, KV
# exhaustion, slowloris and idle connections, a pipelined flood, a client that never reads its
# stream, a corpus of hostile bodies (tests/fuzz/corpus/http_body, which also seeds the HTTP body
# fuzzer), oversized bodies and a SIGTERM drain.
# Four servers: the main one (a small stream backlog), one with 2-second idle, header and body
# limits, one with a tiny KV budget, and one that is sent SIGTERM by the node tests and must exit 0.
source "$(dirname "$0")/lib.sh"
# Under AddressSanitizer (make test-asan) freed memory waits in a 256 MiB quarantine, which the RSS
# checks would count as growth; a small one keeps them about the server. Other builds ignore it.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"

IDLE_TIMEOUT_S=2
HEADER_TIMEOUT_S=2
BODY_TIMEOUT_S=2
MAIN_GRACEFUL_S=30
start_server --max-concurrent-requests 512 --max-stream-backlog-bytes 4096 --graceful-termination-timeout "$MAIN_GRACEFUL_S"

# start_extra NAME [tgi serve flags...]: another server on its own port, with only the given
# limits; sets NAME_PID and NAME_PORT. Its log is $WORK_DIR/NAME.log.
EXTRA_PIDS=()
start_extra() {
  local name=$1
  shift
  local port pid
  port="$(free_port)"
  "$TGI_BINARY" serve --model-id "$MODEL_DIR" --hostname 127.0.0.1 --port "$port" --prometheus-port 0 "$@" \
    >"$WORK_DIR/$name.log" 2>&1 &
  pid=$!
  EXTRA_PIDS+=("$pid")
  printf -v "${name}_PID" '%s' "$pid"
  printf -v "${name}_PORT" '%s' "$port"
  wait_healthy "http://127.0.0.1:$port" "$pid" "$WORK_DIR/$name.log" "$name server"
}

# exited PID: whether the child has exited (gone, or a zombie waiting to be reaped).
exited() {
  [[ ! -e /proc/$1/stat ]] && return 0
  [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" == "Z" ]]
}

# wait_exit PID SECONDS: waits (bounded) for the child to exit and sets EXIT_CODE to its exit
# status, or to "timeout". (Not in a $(...) subshell: only this shell can reap its children.)
wait_exit() {
  local pid=$1 limit=$2
  EXIT_CODE=timeout
  for _ in $(seq 1 $((limit * 10))); do
    if exited "$pid"; then
      set +e
      wait "$pid"
      EXIT_CODE=$?
      set -e
      return 0
    fi
    sleep 0.1
  done
}

reliability_cleanup() {
  local status=$?
  for pid in "${EXTRA_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  if [[ $status -ne 0 ]]; then
    for log in "$WORK_DIR"/KV.log "$WORK_DIR"/TIMEOUTS.log "$WORK_DIR"/DRAIN.log "$WORK_DIR"/server.log; do
      if [[ -f "$log" ]]; then
        echo "--- $(basename "$log") (tail) ---" >&2
        tail -n 40 "$log" >&2
      fi
    done
  fi
}
trap 'reliability_cleanup; cleanup' EXIT

# A KV cache of 64 tokens (4 blocks): 32 concurrent requests must queue and be preempted. It also
# has a small connection limit.
KV_MAX_CONNECTIONS=40
start_extra KV --max-batch-total-tokens 64 --max-total-tokens 64 --max-input-tokens 32 --max-concurrent-requests 64 \
  --max-connections "$KV_MAX_CONNECTIONS"
# Short idle, header and body limits, for the slowloris, slow-body and idle tests only: on the
# main server a loaded machine could delay a client past them and fail an unrelated request.
start_extra TIMEOUTS --idle-timeout "$IDLE_TIMEOUT_S" --request-header-timeout "$HEADER_TIMEOUT_S" \
  --request-body-timeout "$BODY_TIMEOUT_S" --max-total-tokens 512 --max-batch-total-tokens 8192
# The server the SIGTERM test stops; one sequence at a time, so its streams are still in flight.
start_extra DRAIN --max-batch-size 1 --max-total-tokens 512 --max-batch-total-tokens 8192 --max-concurrent-requests 64 \
  --graceful-termination-timeout 60

started=$SECONDS
set +e
BASE_URL="$BASE" PORT="$PORT" SERVER_PID="$SERVER_PID" \
  KV_BASE_URL="http://127.0.0.1:$KV_PORT" KV_PID="$KV_PID" KV_MAX_CONNECTIONS="$KV_MAX_CONNECTIONS" \
  TIMEOUTS_BASE_URL="http://127.0.0.1:$TIMEOUTS_PORT" TIMEOUTS_PORT="$TIMEOUTS_PORT" TIMEOUTS_PID="$TIMEOUTS_PID" \
  DRAIN_BASE_URL="http://127.0.0.1:$DRAIN_PORT" DRAIN_PORT="$DRAIN_PORT" DRAIN_PID="$DRAIN_PID" \
  DRAIN_LOG="$WORK_DIR/DRAIN.log" IDLE_TIMEOUT_S="$IDLE_TIMEOUT_S" HEADER_TIMEOUT_S="$HEADER_TIMEOUT_S" BODY_TIMEOUT_S="$BODY_TIMEOUT_S" HOSTILE_DIR="$TGI_SOURCE_DIR/tests/fuzz/corpus/http_body" \
  node --test --test-reporter=spec "$E2E_DIR/reliability.test.mjs"
node_status=$?
set -e
echo "node tests took $((SECONDS - started)) s"

# The drained server was sent SIGTERM by the node test and must have exited 0.
if grep -q 'Received SIGTERM' "$WORK_DIR/DRAIN.log"; then
  wait_exit "$DRAIN_PID" 60
  check "SIGTERM drain: the server exits with status 0" "$EXIT_CODE" "0"
else
  check "SIGTERM drain: the node test sent SIGTERM" "no" "yes"
fi

# The other two, after everything above, still shut down cleanly and promptly: nothing in flight
# is left behind (a leaked request would hold them until the graceful termination timeout).
kill -TERM "$KV_PID" 2>/dev/null || true
wait_exit "$KV_PID" 60
check "KV server exits 0 on SIGTERM" "$EXIT_CODE" "0"
kill -TERM "$TIMEOUTS_PID" 2>/dev/null || true
wait_exit "$TIMEOUTS_PID" 60
check "timeouts server exits 0 on SIGTERM" "$EXIT_CODE" "0"
kill -TERM "$SERVER_PID" 2>/dev/null || true
wait_exit "$SERVER_PID" $((MAIN_GRACEFUL_S + 15))
check "main server exits 0 on SIGTERM" "$EXIT_CODE" "0"
if [[ $EXIT_CODE != timeout ]]; then SERVER_PID=""; fi
check "main server had nothing in flight at shutdown" \
  "$(grep -c 'still running at the graceful termination timeout' "$WORK_DIR/server.log" || true)" "0"

if [[ $node_status -ne 0 || $FAILURES -ne 0 ]]; then
  echo "node tests: exit status $node_status; shell checks failed: $FAILURES"
  exit 1
fi
