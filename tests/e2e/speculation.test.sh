#!/usr/bin/env bash
# Speculative decoding over HTTP: a server without speculation records greedy and seeded-sampling
# outputs one request at a time; a server with --speculate 4 (prompt lookup), then one with a draft
# model, must give the very same tokens, text and details with 24 concurrent streams, and report
# the accepted proposals in /metrics.
# Out-of-range --speculate values stop the launch with a clear message.
source "$(dirname "$0")/lib.sh"

STATUS=0
EXPECTED="$WORK_DIR/expected.json"
start_server
MODE=record EXPECTED="$EXPECTED" BASE_URL="$BASE" node --test "$E2E_DIR/speculation.test.mjs" || STATUS=1
stop_server

# Policy "always": every proposal is verified, so the paths are exercised whatever the step costs
# (the default policy may find that proposals do not pay on this machine).
start_server --speculate 4 --speculation-policy always
MODE=verify EXPECTED="$EXPECTED" BASE_URL="$BASE" node --test "$E2E_DIR/speculation.test.mjs" || STATUS=1
r=$(http GET /health)
check "speculating server healthy after the streams" "$(status_of "$r")" "200"
stop_server

# The same with a draft model proposing (the model itself: greedy proposals are mostly kept).
start_server --speculative-model-id "$MODEL_DIR" --speculation-policy always
MODE=verify EXPECTED="$EXPECTED" BASE_URL="$BASE" node --test "$E2E_DIR/speculation.test.mjs" || STATUS=1
check_contains "draft model announced" "$(cat "$WORK_DIR/server.log")" "up to 4 tokens from the draft model"
stop_server

set +e
out=$("$TGI_BINARY" serve --model-id "$MODEL_DIR" --hostname 127.0.0.1 --port 0 --speculation-policy sometimes 2>&1)
rc=$?
set -e
check "--speculation-policy sometimes refused" "$([[ $rc -ne 0 ]] && echo yes || echo no)" "yes"
check_contains "--speculation-policy says why" "$out" "--speculation-policy must be cost or always"

for bad in -1 17; do
  set +e
  out=$("$TGI_BINARY" serve --model-id "$MODEL_DIR" --hostname 127.0.0.1 --port 0 --speculate "$bad" 2>&1)
  rc=$?
  set -e
  check "--speculate $bad refused" "$([[ $rc -ne 0 ]] && echo yes || echo no)" "yes"
  check_contains "--speculate $bad says why" "$out" "--speculate must be between 0 and 16"
done

if [[ $FAILURES -ne 0 ]]; then STATUS=1; fi
exit "$STATUS"
