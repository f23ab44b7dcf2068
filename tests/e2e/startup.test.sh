#!/usr/bin/env bash
# Start-up: the port answers before the model is ready. The model directory's chat_template.json
# is a named pipe, so `tgi serve` (which has bound its port already) blocks reading it until this
# script writes the file: in between, every route must answer 503 "Model is loading"; after, the
# server must come up healthy and serve.
source "$(dirname "$0")/lib.sh"

model="$WORK_DIR/model"
mkdir -p "$model"
for f in "$MODEL_DIR"/*; do ln -s "$f" "$model/"; done
mkfifo "$model/chat_template.json"
released=no
release_load() {  # opening the pipe for writing lets the blocked reader go on
  if [[ $released == no ]]; then
    echo '{}' >"$model/chat_template.json"
    released=yes
  fi
}
# Before lib.sh's cleanup: a server blocked on the pipe must be let go before it is stopped.
trap 'release_load; cleanup' EXIT

PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
"$TGI_BINARY" serve --model-id "$model" --hostname 127.0.0.1 --port "$PORT" --prometheus-port 0 \
  --max-total-tokens 512 --max-batch-total-tokens 8192 >"$WORK_DIR/server.log" 2>&1 &
SERVER_PID=$!

status=""
for _ in $(seq 1 300); do
  status=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health" || true)
  [[ $status != 000 ]] && break
  sleep 0.05
done
check "the port answers while the model loads" "$status" "503"
r=$(http GET /health)
check "/health while loading" "$(status_of "$r")|$(body_of "$r")" '503|{"error":"Model is loading","error_type":"loading"}'
r=$(http POST /generate '{"inputs":"Hello","parameters":{"max_new_tokens":2}}')
check "/generate while loading" "$(status_of "$r")|$(body_of "$r")" '503|{"error":"Model is loading","error_type":"loading"}'
retry=$(curl -s -D - -o /dev/null "$BASE/health" | tr -d '\r' | grep -i '^retry-after:' || true)
check "503 says when to retry" "$retry" "retry-after: 1"

release_load
wait_healthy "$BASE" "$SERVER_PID" "$WORK_DIR/server.log" "tgi serve"
check "/health once loaded" "$(status_of "$(http GET /health)")" "200"
r=$(http POST /generate '{"inputs":"Hello","parameters":{"max_new_tokens":2}}')
check "/generate once loaded" "$(status_of "$r")" "200"
log=$(cat "$WORK_DIR/server.log")
check_contains "the log says the port is open during the load" "$log" "while the model loads"
check_contains "one Ready summary" "$log" "Ready in"
ready_line=$(grep "Ready in" "$WORK_DIR/server.log" || true)
check_contains "the summary names the architecture" "$ready_line" ": qwen3 "
check_contains "the summary gives the KV budget" "$ready_line" "KV cache float32 8192 tokens"
listening=$(grep -n "Listening on" "$WORK_DIR/server.log" | cut -d: -f1)
ready=$(grep -n "Ready in" "$WORK_DIR/server.log" | cut -d: -f1)
check "the port was bound before the model was ready" "$([[ -n $listening && -n $ready && $listening -lt $ready ]] && echo yes)" "yes"

stop_server

# SIGTERM during a load ends the process at once (the load itself is still blocked on the pipe).
mkfifo "$model/held.json" && rm "$model/chat_template.json" && mv "$model/held.json" "$model/chat_template.json"
released=no
PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
"$TGI_BINARY" serve --model-id "$model" --hostname 127.0.0.1 --port "$PORT" --prometheus-port 0 \
  --max-total-tokens 512 --max-batch-total-tokens 8192 >"$WORK_DIR/server2.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/health" || true) == 503 ]] && break
  sleep 0.05
done
kill -TERM "$SERVER_PID"
exited=no
for _ in $(seq 1 100); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then exited=yes; break; fi
  sleep 0.05
done
check "SIGTERM while loading stops the server at once" "$exited" "yes"
if [[ $exited == yes ]]; then
  wait "$SERVER_PID" && code=0 || code=$?
  check "and it exits 0" "$code" "0"
  SERVER_PID=""
  released=yes  # nobody reads the pipe any more
fi
check_contains "the log says why" "$(cat "$WORK_DIR/server2.log")" "Received SIGTERM while loading the model: exiting"

[[ $FAILURES -eq 0 ]] || { echo "$FAILURES failure(s)"; exit 1; }
echo "all startup checks passed"
