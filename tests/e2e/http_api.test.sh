#!/usr/bin/env bash
# Raw HTTP against `tgi serve`: exact bodies, headers and status codes of TGI's routes and errors
# (spec §1.1–1.4, §1.7, §2, §4), auth, limits, and a graceful SIGTERM.
source "$(dirname "$0")/lib.sh"

start_server --api-key secret --max-input-tokens 100 --max-concurrent-requests 1
AUTH=(-H 'authorization: Bearer secret')

# --- unauthenticated routes ---
r=$(http GET /health)
check "GET /health is 200 with an empty body" "$(status_of "$r")|$(body_of "$r")" "200|"
check "GET /ping is 200" "$(status_of "$(http GET /ping)")" "200"
r=$(http GET /info)
check "GET /info is 200" "$(status_of "$r")" "200"
check_contains "/info reports the limits" "$(body_of "$r")" '"max_concurrent_requests":1,"max_best_of":2,"max_stop_sequences":4,"max_input_tokens":100,"max_total_tokens":512,"validation_workers":2,"max_client_batch_size":4,"router":"text-generation-router","version":"3.3.6-dev0"'
r=$(http GET /v1/models)
check "GET /v1/models body" "$(body_of "$r")" "{\"object\":\"list\",\"data\":[{\"id\":\"$MODEL_DIR\",\"object\":\"model\",\"created\":0,\"owned_by\":\"$MODEL_DIR\"}]}"

# --- routing and auth ---
r=$(http GET /nope)
check "unknown path is 404 with an empty body" "$(status_of "$r")|$(body_of "$r")" "404|"
check "wrong method is 405" "$(status_of "$(http GET /generate)")" "405"
r=$(http POST /generate '{"inputs":"Hello","parameters":{"max_new_tokens":2}}')
check "missing bearer token is 401 with an empty body" "$(status_of "$r")|$(body_of "$r")" "401|"
r=$(http POST /generate '{"inputs":"Hello","parameters":{"max_new_tokens":2}}' -H 'authorization: Bearer wrong')
check "wrong bearer token is 401" "$(status_of "$r")" "401"
r=$(http POST /generate '{"inputs":"Hello","parameters":{"max_new_tokens":2}}' -H 'authorization: BEARER SECRET')
check "bearer comparison ignores case" "$(status_of "$r")" "200"
r=$(http POST /chat_tokenize '{"messages":[{"role":"user","content":"Hi"}]}')
check "/chat_tokenize needs no auth" "$(status_of "$r")" "200"
check_contains "/chat_tokenize returns the templated text" "$(body_of "$r")" '"templated_text":"<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n'

# --- transport errors (spec §1.2) ---
head -c 2100000 /dev/zero | tr '\0' a | sed 's/^/{"inputs":"/; s/$/"}/' >"$WORK_DIR/big.json"
r=$(curl -sS "$BASE/generate" "${AUTH[@]}" -H 'content-type: application/json' --data-binary @"$WORK_DIR/big.json" -w '\n%{http_code}')
check "body over --payload-limit is 413" "$(status_of "$r")|$(body_of "$r")" "413|Failed to buffer the request body: length limit exceeded"
r=$(curl -sS "$BASE/generate" "${AUTH[@]}" -H 'content-type: text/plain' --data-binary '{"inputs":"x"}' -w '\n%{http_code}')
check "non-JSON content type is 415" "$(status_of "$r")|$(body_of "$r")" '415|Expected request with `Content-Type: application/json`'
r=$(http POST /generate '{"inputs":' "${AUTH[@]}")
check "JSON syntax error is 400" "$(status_of "$r")" "400"
check_contains "JSON syntax error text" "$(body_of "$r")" "Failed to parse the request body as JSON: "
r=$(http POST /generate '{"parameters":{}}' "${AUTH[@]}")
check "missing field is 422 text" "$(status_of "$r")|$(body_of "$r")" '422|Failed to deserialize the JSON body into the target type: missing field `inputs`'
r=$(http POST /generate '{"inputs":"x","parameters":{"stop":null}}' "${AUTH[@]}")
check "null into a non-Option field is 422" "$(status_of "$r")" "422"

# --- validation rules in order (spec §1.4) ---
validation() {  # validation NAME PARAMETERS-JSON EXPECTED-MESSAGE [INPUTS]
  local inputs=${4-Hello}
  local r
  r=$(http POST /generate "{\"inputs\":\"$inputs\",\"parameters\":$2}" "${AUTH[@]}")
  check "validation: $1" "$(status_of "$r")|$(body_of "$r")" "422|{\"error\":\"Input validation error: $3\",\"error_type\":\"validation\"}"
}
validation "best_of above max" '{"best_of":3,"do_sample":true}' '`best_of` must be > 0 and <= 2. Given: 3'
# best_of=2 takes one permit per sub-request before validating (spec §1.4); with the single permit
# this server has, the second sub-request is refused first, so TGI answers 429, not the validation
# message (the messages themselves are covered in tests/unit/server/validation_test.cpp).
r=$(http POST /generate '{"inputs":"Hello","parameters":{"best_of":2}}' "${AUTH[@]}")
check "best_of without sampling, one permit: 429 before validation" "$(status_of "$r")" "429"
validation "temperature" '{"temperature":0}' '`temperature` must be strictly positive'
validation "repetition_penalty" '{"repetition_penalty":-1}' '`repetition_penalty` must be strictly positive'
validation "frequency_penalty" '{"frequency_penalty":2.5}' '`frequency_penalty` must be >= -2.0 and <= 2.0'
validation "top_p" '{"top_p":1.0}' '`top_p` must be > 0.0 and < 1.0'
validation "typical_p" '{"typical_p":1.5}' '`typical_p` must be > 0.0 and < 1.0'
validation "top_k" '{"top_k":0}' '`top_k` must be strictly positive'
validation "max_new_tokens" '{"max_new_tokens":0}' '`max_new_tokens` must be strictly positive'
validation "stop count" '{"stop":["a","b","c","d","e"]}' '`stop` supports up to 4 stop sequences. Given: 5'
r=$(http POST /generate '{"inputs":"Hello","parameters":{"best_of":2,"do_sample":true,"seed":1}}' "${AUTH[@]}")
check "seed with best_of, one permit: 429 before validation" "$(status_of "$r")" "429"
validation "top_n_tokens" '{"top_n_tokens":6}' '`top_n_tokens` must be >= 0 and <= 5. Given: 6'
validation "empty inputs" '{}' '`inputs` cannot be empty' ''
validation "truncate zero" '{"truncate":0}' '`truncate` must be strictly positive and less than 100. Given: 0'
validation "truncate too large" '{"truncate":101}' '`truncate` must be strictly positive and less than 100. Given: 101'
validation "total tokens" '{"max_new_tokens":600}' '`inputs` tokens + `max_new_tokens` must be <= 512. Given: 1 `inputs` tokens and 600 `max_new_tokens`'
long_input="$(printf 'hello %.0s' $(seq 1 149))hello"
validation "input tokens" '{"max_new_tokens":1}' '`inputs` must have less than 100 tokens. Given: 150' "$long_input"
validation "grammar" '{"grammar":{"type":"regex","value":"a("}}' "grammar is not valid: regex: unbalanced '(' (at 1)"

# --- overload: a best_of=2 request needs two permits, the server has one (spec §1.4) ---
r=$(http POST /generate '{"inputs":"Hello","parameters":{"best_of":2,"do_sample":true,"max_new_tokens":2}}' "${AUTH[@]}")
check "no permit is 429 overloaded" "$(status_of "$r")|$(body_of "$r")" '429|{"error":"Model is overloaded","error_type":"overloaded"}'

# --- /generate bytes and headers ---
curl -sS -D "$WORK_DIR/headers" "$BASE/generate" "${AUTH[@]}" -H 'content-type: application/json' \
  --data-binary '{"inputs":"Hello","parameters":{"max_new_tokens":3,"details":true,"decoder_input_details":true}}' >"$WORK_DIR/body"
headers=$(tr -d '\r' <"$WORK_DIR/headers")
body=$(cat "$WORK_DIR/body")
check_contains "x-compute-type header" "$headers" "x-compute-type: gpu+optimized"
check_contains "x-compute-characters header" "$headers" "x-compute-characters: 5"
check_contains "x-prompt-tokens header" "$headers" "x-prompt-tokens: 1"
check_contains "x-generated-tokens header" "$headers" "x-generated-tokens: 3"
check_contains "/generate details key order" "$body" '"details":{"finish_reason":"length","generated_tokens":3,"seed":null,"prefill":[]'
check_contains "/generate tokens" "$body" '"tokens":[{"id":'

# --- /generate_stream SSE (spec §1.7) ---
curl -sS -N -D "$WORK_DIR/headers" "$BASE/generate_stream" "${AUTH[@]}" -H 'content-type: application/json' \
  --data-binary '{"inputs":"Hello","parameters":{"max_new_tokens":3,"details":true}}' >"$WORK_DIR/body"
headers=$(tr -d '\r' <"$WORK_DIR/headers")
body=$(cat "$WORK_DIR/body")
check_contains "SSE content type" "$headers" "content-type: text/event-stream"
check_contains "SSE cache-control" "$headers" "cache-control: no-cache"
check_contains "SSE first event" "$body" 'data: {"index":1,"token":{"id":'
check_contains "SSE intermediate events carry nulls" "$body" '"generated_text":null,"details":null}'
check_contains "SSE final event details" "$body" '"details":{"finish_reason":"length","generated_tokens":3,"seed":null,"input_length":1}}'
check "SSE has three events" "$(grep -c '^data: ' <<<"$body")" "3"
check "no [DONE] on /generate_stream" "$(grep -c 'DONE' <<<"$body" || true)" "0"
body=$(curl -sS -N "$BASE/generate_stream" "${AUTH[@]}" -H 'content-type: application/json' \
  --data-binary '{"inputs":"Hello","parameters":{"decoder_input_details":true}}')
check "stream validation error is an SSE event" "$body" \
  'data: {"error":"Input validation error: `decoder_input_details` == true is not supported when streaming tokens","error_type":"validation"}'

# --- compat route, tokenize, chat ---
r=$(http POST / '{"inputs":"Hello","parameters":{"max_new_tokens":1}}' "${AUTH[@]}")
check_contains "compat / returns an array with the prompt prepended" "$(body_of "$r")" '[{"generated_text":"Hello'
r=$(http POST /tokenize '{"inputs":"Hello world"}' "${AUTH[@]}")
check "/tokenize byte offsets" "$(body_of "$r")" '[{"id":9707,"text":"Hello","start":0,"stop":5},{"id":1879,"text":" world","start":5,"stop":11}]'
body=$(curl -sS -N "$BASE/v1/chat/completions" "${AUTH[@]}" -H 'content-type: application/json' \
  --data-binary '{"messages":[{"role":"user","content":"Hi"}],"max_tokens":3,"stream":true,"stream_options":{"include_usage":true}}')
check_contains "chat stream chunk shape" "$body" 'data: {"object":"chat.completion.chunk","id":"","created":'
check_contains "chat stream usage chunk" "$body" '"choices":[],"usage":{"prompt_tokens":'
check "chat stream ends with [DONE]" "$(tail -c 14 <<<"$body" | tr -d '\n')" "data: [DONE]"
r=$(http POST /v1/chat/completions '{"messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{}}}],"tool_choice":"g"}' "${AUTH[@]}")
check "unknown tool is 422 tool_error" "$(status_of "$r")|$(body_of "$r")" '422|{"error":"Tool error: Tool with name g not found","error_type":"tool_error"}'
r=$(http POST /v1/chat/completions '{"messages":[{"role":"user","content":"Hi"}],"tools":[],"response_format":{"type":"json","value":{}}}' "${AUTH[@]}")
check "grammar and tools are exclusive" "$(body_of "$r")" '{"error":"Tool error: Grammar and tools are mutually exclusive","error_type":"tool_error"}'
r=$(http POST /v1/completions '{"prompt":"a","suffix":"b"}' "${AUTH[@]}")
check "completions suffix" "$(status_of "$r")|$(body_of "$r")" '422|{"error":"Suffix is not supported and can be achieved by preprocessing the prompt.","error_type":"suffix not supported"}'
r=$(http POST /invocations '{"nothing":1}' "${AUTH[@]}")
check "invocations without a known shape is 422" "$(status_of "$r")" "422"

# --- metrics (spec §4) ---
metrics=$(curl -sS "$BASE/metrics")
for name in tgi_request_count tgi_request_success 'tgi_request_failure{err="validation"}' \
  'tgi_request_failure{err="overloaded"} 3' tgi_request_duration_bucket tgi_request_validation_duration_bucket \
  tgi_request_queue_duration_bucket tgi_request_inference_duration_bucket \
  tgi_request_mean_time_per_token_duration_bucket tgi_request_input_length_bucket \
  tgi_request_max_new_tokens_bucket tgi_request_generated_tokens_bucket tgi_request_skipped_tokens \
  tgi_queue_size tgi_batch_current_size tgi_batch_current_max_tokens tgi_batch_next_size_bucket \
  tgi_batch_inference_count tgi_batch_inference_success tgi_batch_forward_duration_bucket \
  tgi_kv_cache_usage_ratio tgi_prefix_cache_hit_tokens tgi_preemptions; do
  check_contains "metric $name" "$metrics" "$name"
done

# --- graceful shutdown ---
kill -TERM "$SERVER_PID"
set +e
wait "$SERVER_PID"
code=$?
set -e
SERVER_PID=""
check "SIGTERM exits 0" "$code" "0"

[[ $FAILURES -eq 0 ]] || { echo "$FAILURES failure(s)"; exit 1; }
echo "all http_api checks passed"
