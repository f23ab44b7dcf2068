#!/usr/bin/env bash
# 64 simultaneous streaming requests of different lengths, and cancellation on disconnect.
source "$(dirname "$0")/lib.sh"
start_server --max-concurrent-requests 128
BASE_URL="$BASE" node --test "$E2E_DIR/concurrency.test.mjs"
