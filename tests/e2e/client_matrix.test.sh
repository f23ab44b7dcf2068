#!/usr/bin/env bash
# The client matrix: real npm clients (pinned in package-lock.json) against `tgi serve` with the
# tiny golden model, under node's test runner, one file per client:
#   client_matrix.openai.test.mjs     openai: chat, n, tools, stream helper, completions logprobs, Responses API
#   client_matrix.anthropic.test.mjs  @anthropic-ai/sdk: Messages API, stream, tools, count_tokens, errors
#   client_matrix.langchain.test.mjs  @langchain/openai ChatOpenAI: invoke, stream, bindTools
#   client_matrix.ai_sdk.test.mjs     ai + @ai-sdk/openai-compatible: generateText, streamText, tools
#   client_matrix.hf.test.mjs         @huggingface/inference 4.x: chatCompletion(+Stream), textGeneration
#   client_matrix.http.test.mjs       plain fetch: /detokenize, /apply-template, /docs, /api-doc/openapi.json
# then client_matrix.auth.test.mjs against a second server started with --api-key.
source "$(dirname "$0")/lib.sh"
npm_ready

STATUS=0
start_server
BASE_URL="$BASE" node --test --test-concurrency=1 \
  "$E2E_DIR/client_matrix.openai.test.mjs" \
  "$E2E_DIR/client_matrix.anthropic.test.mjs" \
  "$E2E_DIR/client_matrix.langchain.test.mjs" \
  "$E2E_DIR/client_matrix.ai_sdk.test.mjs" \
  "$E2E_DIR/client_matrix.hf.test.mjs" \
  "$E2E_DIR/client_matrix.http.test.mjs" || STATUS=1
stop_server

API_KEY="matrix-$RANDOM-key"
start_server --api-key "$API_KEY"
BASE_URL="$BASE" API_KEY="$API_KEY" node --test "$E2E_DIR/client_matrix.auth.test.mjs" || STATUS=1
exit "$STATUS"
