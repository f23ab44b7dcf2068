#!/usr/bin/env bash
# Structured output (constrained decoding) end to end: structured_output.test.mjs against a server
# with grammar support (TGI /generate and /generate_stream with json / json_schema / regex / gbnf
# grammars, OpenAI response_format and forced tool calls through the openai SDK, LangChain's
# withStructuredOutput, the AI SDK's generateObject and toolChoice, @huggingface/inference, errors
# and hostile constraints), then a second server started with --disable-grammar-support.
source "$(dirname "$0")/lib.sh"
npm_ready

STATUS=0
# A payload limit above the 2 MB default, for the ~5 MB schema of the hostile-input test.
start_server --payload-limit 8000000
BASE_URL="$BASE" node --test --test-concurrency=1 "$E2E_DIR/structured_output.test.mjs" || STATUS=1
r=$(http GET /health)
check "main server healthy after the node tests" "$(status_of "$r")" "200"
stop_server

# --disable-grammar-support: /info says so, and every way of asking for a constraint is a 422.
start_server --disable-grammar-support
r=$(http GET /info)
check "disabled: /info status" "$(status_of "$r")" "200"
check "disabled: /info grammar_support" "$(body_of "$r" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).grammar_support))')" "false"
NOT_SUPPORTED='{"error":"Input validation error: grammar is not supported","error_type":"validation"}'
compact() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.stringify(JSON.parse(s)))}catch{console.log(s)}})'; }
expect_not_supported() {  # expect_not_supported NAME PATH BODY
  local r
  r=$(http POST "$2" "$3")
  check "disabled: $1 status" "$(status_of "$r")" "422"
  check "disabled: $1 body" "$(body_of "$r" | compact)" "$NOT_SUPPORTED"
}
expect_not_supported "/generate json" /generate \
  '{"inputs":"x","parameters":{"max_new_tokens":4,"grammar":{"type":"json","value":{"type":"object"}}}}'
expect_not_supported "/generate regex" /generate \
  '{"inputs":"x","parameters":{"max_new_tokens":4,"grammar":{"type":"regex","value":"[0-9]+"}}}'
expect_not_supported "/generate gbnf" /generate \
  '{"inputs":"x","parameters":{"max_new_tokens":4,"grammar":{"type":"gbnf","value":"root ::= \"a\""}}}'
# /generate_stream reports it the way TGI does: a 200 stream whose one event is the error.
r=$(http POST /generate_stream '{"inputs":"x","parameters":{"max_new_tokens":4,"grammar":{"type":"json","value":{"type":"object"}}}}')
check "disabled: /generate_stream json status" "$(status_of "$r")" "200"
check "disabled: /generate_stream json event" "$(body_of "$r" | grep '^data:' | sed 's/^data: *//' | compact)" "$NOT_SUPPORTED"
expect_not_supported "chat json_schema" /v1/chat/completions \
  '{"model":"tgi","messages":[{"role":"user","content":"x"}],"max_tokens":4,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}}'
expect_not_supported "chat json_object" /v1/chat/completions \
  '{"model":"tgi","messages":[{"role":"user","content":"x"}],"max_tokens":4,"response_format":{"type":"json_object"}}'
expect_not_supported "completions json_schema" /v1/completions \
  '{"model":"tgi","prompt":"x","max_tokens":4,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}}'
expect_not_supported "chat tool_choice required" /v1/chat/completions \
  '{"model":"tgi","messages":[{"role":"user","content":"x"}],"max_tokens":4,"tool_choice":"required","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}'
# Not a constraint: still served.
r=$(http POST /v1/chat/completions '{"model":"tgi","messages":[{"role":"user","content":"x"}],"max_tokens":4,"response_format":{"type":"text"}}')
check "disabled: response_format text is no constraint" "$(status_of "$r")" "200"
r=$(http POST /generate '{"inputs":"x","parameters":{"max_new_tokens":4}}')
check "disabled: plain /generate" "$(status_of "$r")" "200"
stop_server

# --grammar-whitespace compact: JSON output has no white space between tokens at all;
# --grammar-max-states: a constraint that needs more lexer states is a 422, the server lives on.
start_server --grammar-whitespace compact --grammar-max-states 300
schema='{"type":"object","properties":{"a":{"type":"array","items":{"type":"integer"},"minItems":3,"maxItems":3},"b":{"enum":["x y","z"]}},"required":["a","b"]}'
for seed in 1 2 3; do
  r=$(http POST /generate "{\"inputs\":\"x\",\"parameters\":{\"max_new_tokens\":96,\"do_sample\":true,\"seed\":$seed,\"grammar\":{\"type\":\"json\",\"value\":$schema}}}")
  text=$(body_of "$r" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).generated_text))')
  # Strip the one string value that may hold a space; nothing else may.
  check "compact: seed $seed has no white space" "$(printf '%s' "$text" | sed 's/"x y"//' | tr -d -c ' \n\t' | wc -c)" "0"
done
r=$(http POST /generate '{"inputs":"x","parameters":{"max_new_tokens":4,"grammar":{"type":"json","value":{"type":"string","maxLength":100}}}}')
check "max-states: a 100-char string is over 300 states" "$(status_of "$r")" "422"
check_contains "max-states: says why" "$(body_of "$r")" 'grammar is not valid'
r=$(http POST /generate '{"inputs":"x","parameters":{"max_new_tokens":4,"grammar":{"type":"regex","value":"[ab]{2}"}}}')
check "max-states: a small constraint still compiles" "$(status_of "$r")" "200"
stop_server

if [[ $FAILURES -ne 0 ]]; then STATUS=1; fi
exit "$STATUS"
