#!/usr/bin/env bash
# `tgi bench --url`: concurrency levels against `tgi serve` over /generate_stream, the JSON they
# write, the gnuplot plot (scripts/install-deps installs gnuplot-nox), and the failures: no
# gnuplot, nothing listening, --url with --model-id.
source "$(dirname "$0")/lib.sh"

start_server

# json_summary FILE: per level "clients:successful:errors:tokens", then whether every level's
# ttft/itl/e2e numbers are present and positive.
json_summary() {
  node -e '
    const doc = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const levels = doc.levels.map(l => `${l.clients}:${l.successful_requests}:${l.errors}:${l.generated_tokens}`);
    const keys = ["ttft_p50_ms", "ttft_p90_ms", "ttft_p99_ms", "itl_p50_ms", "itl_p90_ms", "itl_p99_ms",
                  "e2e_p50_ms", "tokens_per_second", "requests_per_second"];
    const bad = doc.levels.flatMap(l => keys.filter(k => !(typeof l[k] === "number" && l[k] > 0)).map(k => `${l.clients}:${k}`));
    console.log(levels.join(" ") + " | " + (bad.length ? "not positive: " + bad.join(",") : "all positive"));
  ' "$1"
}

# --- two levels, JSON and SVG ---
status=0
out=$("$TGI_BINARY" bench --url "$BASE" --clients 1,2 --requests-per-client 2 --max-new-tokens 8 \
  --json "$WORK_DIR/b.json" --plot "$WORK_DIR/b.svg" 2>&1) || status=$?
check "bench --url exits 0" "$status" "0"
check_contains "the table has the latency columns" "$out" "ttft p50  ttft p90  ttft p99  itl p50  itl p90  itl p99   e2e p50"
check_contains "the plot is reported" "$out" "plot written to $WORK_DIR/b.svg"
if [[ -f "$WORK_DIR/b.json" ]]; then
  check "levels: 2 then 4 requests, 16 then 32 tokens; latencies positive" "$(json_summary "$WORK_DIR/b.json")" \
    "1:2:0:16 2:4:0:32 | all positive"
  check_contains "JSON names the server" "$(cat "$WORK_DIR/b.json")" "\"url\": \"$BASE\""
else
  check "JSON written" "missing" "$WORK_DIR/b.json"
fi
if [[ -f "$WORK_DIR/b.svg" ]]; then
  check_contains "the plot is an SVG" "$(head -c 4000 "$WORK_DIR/b.svg")" "<svg"
else
  check "SVG written" "missing" "$WORK_DIR/b.svg"
fi

# --- no gnuplot on PATH: the JSON is still written, then a non-zero exit that says what to install ---
status=0
err=$(PATH=/nonexistent "$TGI_BINARY" bench --url "$BASE" --clients 1 --requests-per-client 1 --max-new-tokens 2 \
  --json "$WORK_DIR/c.json" --plot "$WORK_DIR/c.svg" 2>&1 >/dev/null) || status=$?
check "missing gnuplot exits 1" "$status" "1"
check_contains "missing gnuplot names the package" "$err" "gnuplot-nox"
check "missing gnuplot still writes the JSON" "$( [[ -f "$WORK_DIR/c.json" ]] && json_summary "$WORK_DIR/c.json")" \
  "1:1:0:2 | all positive"

# --- nothing listening ---
closed=$(free_port)
status=0
err=$("$TGI_BINARY" bench --url "http://127.0.0.1:$closed" --clients 1 --requests-per-client 1 2>&1) || status=$?
check "a closed port exits 1" "$status" "1"
check_contains "a closed port says where and why" "$err" "cannot connect to 127.0.0.1:$closed: Connection refused"

# --- usage ---
status=0
err=$("$TGI_BINARY" bench --url "$BASE" --model-id "$MODEL_DIR" 2>&1) || status=$?
check "--url with --model-id is a usage error" "$status" "2"
check_contains "--url with --model-id says why" "$err" "not both"

[[ $FAILURES -eq 0 ]] || { echo "$FAILURES failure(s)"; exit 1; }
echo "all http_bench checks passed"
