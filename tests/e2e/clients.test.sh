#!/usr/bin/env bash
# The official `openai` SDK and `@huggingface/inference` (pinned in package-lock.json) against
# `tgi serve` with the tiny golden model, under node's test runner.
source "$(dirname "$0")/lib.sh"
npm_ready
start_server
BASE_URL="$BASE" node --test "$E2E_DIR/clients.test.mjs"
