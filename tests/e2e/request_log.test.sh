#!/usr/bin/env bash
# What an operator's log collector sees: under --json-output every line of `tgi serve` is one JSON
# object, and each finished generation adds one "tgi::request" line whose fields agree with the
# response; in text mode the same request is one TGI-style `generate{...}: Success` line.
source "$(dirname "$0")/lib.sh"

# request_lines LOG: the tgi::request lines of LOG, one compact JSON object per line; fails if any
# line of LOG is not JSON.
request_lines() {
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter((l) => l.length > 0);
    for (const line of lines) {
      let parsed;
      try { parsed = JSON.parse(line); } catch (e) { console.error("not JSON: " + line); process.exit(1); }
      if (parsed.target === "tgi::request") console.log(JSON.stringify(parsed));
    }' "$1"
}

# field JSON PATH: one value out of a JSON document (e.g. "fields.generated_tokens").
field() {
  node -e '
    let v = JSON.parse(process.argv[1]);
    for (const key of process.argv[2].split(".")) v = v === undefined || v === null ? undefined : v[key];
    console.log(v === undefined ? "<missing>" : typeof v === "object" ? JSON.stringify(v) : String(v));' "$1" "$2"
}

# --- JSON logs ---
start_server --json-output
LOG="$WORK_DIR/server.log"

r=$(http POST /generate '{"inputs":"Hello","parameters":{"max_new_tokens":3,"details":true}}')
check "/generate is 200" "$(status_of "$r")" "200"
generate_tokens=$(field "$(body_of "$r")" details.generated_tokens)
generate_reason=$(field "$(body_of "$r")" details.finish_reason)

r=$(http POST /v1/chat/completions '{"messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"seed":7,"temperature":0.8}')
check "/v1/chat/completions is 200" "$(status_of "$r")" "200"
chat_tokens=$(field "$(body_of "$r")" usage.completion_tokens)
chat_prompt=$(field "$(body_of "$r")" usage.prompt_tokens)

if lines=$(request_lines "$LOG"); then ok=yes; else ok=no; fi
check "every log line is JSON" "$ok" "yes"
check "one request line per generation" "$(wc -l <<<"$lines" | tr -d ' ')" "2"
first=$(sed -n 1p <<<"$lines")
second=$(sed -n 2p <<<"$lines")

check "request line level" "$(field "$first" level)" "INFO"
check "request line message" "$(field "$first" fields.message)" "Success"
check "request line span" "$(field "$first" span.name)" "generate"
check "/generate line: generated_tokens as in the response" "$(field "$first" fields.generated_tokens)" "$generate_tokens"
check "/generate line: finish_reason as in the response" "$(field "$first" fields.finish_reason)" "$generate_reason"
check "/generate line: greedy, so no seed" "$(field "$first" fields.seed)" "null"
for name in total_time validation_time queue_time inference_time; do
  value=$(field "$first" "fields.$name")
  [[ "$value" =~ ^[0-9]+\.[0-9]{2}m?s$ ]] && ok=yes || ok="no: $value"
  check "/generate line: $name is a duration" "$ok" "yes"
done
check "chat line: generated_tokens as in usage" "$(field "$second" fields.generated_tokens)" "$chat_tokens"
check "chat line: input_tokens as in usage" "$(field "$second" fields.input_tokens)" "$chat_prompt"
check "chat line: the sampled request's seed" "$(field "$second" fields.seed)" "7"
# The route and request id appear once the routes pass them (GenerationLabel); when present they
# must be right.
for pair in "$first|/generate" "$second|/v1/chat/completions"; do
  route=$(field "${pair%|*}" fields.route)
  [[ "$route" == "<missing>" || "$route" == "${pair#*|}" ]] && ok=yes || ok="no: $route"
  check "route field, when present, is ${pair#*|}" "$ok" "yes"
done
stop_server

# --- text logs ---
start_server
r=$(http POST /generate '{"inputs":"Hello","parameters":{"max_new_tokens":2}}')
check "/generate is 200 (text logs)" "$(status_of "$r")" "200"
line=$(grep -E ' info generate\{' "$WORK_DIR/server.log" || true)
check "one text request line" "$(grep -c . <<<"$line")" "1"
[[ "$line" =~ total_time=\"[0-9.]+m?s\"\ validation_time=.*input_tokens=[0-9]+\ generated_tokens=[0-9]+\ finish_reason=[a-z_]+\ seed=None.*\}:\ Success$ ]] &&
  ok=yes || ok="no: $line"
check "text request line reads like TGI's" "$ok" "yes"

[[ $FAILURES -eq 0 ]] || { echo "$FAILURES failure(s)"; exit 1; }
echo "all request_log checks passed"
